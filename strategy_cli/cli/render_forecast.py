"""The portfolio summary and the per-day call forecast of `simulate --instances-file`."""

from __future__ import annotations

from typing import Any


def forecast_rows(result: Any) -> list[dict[str, Any]]:
    return [
        {"date": day, "service": service, "method": method, "calls": calls}
        for (day, service, method), calls in sorted(result.calls.items())
    ]


def render_portfolio(result: Any, as_json: bool, store_path: str) -> None:
    from .console import out, shown, write_json

    rows = forecast_rows(result) if result.forecast else []
    if as_json:
        doc: dict[str, Any] = {
            "instances": result.instances,
            "events": result.events,
            "store": store_path,
        }
        if result.forecast:
            doc["forecast"] = rows
        write_json(doc)
        return
    console = out()
    console.print(
        shown(
            f"simulated {result.instances} instance(s), {result.events} event(s) into {store_path}"
        )
    )
    if result.forecast:
        _print_forecast(rows)


def _print_forecast(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from .console import out, shown

    table = Table(title="Calls per service method per day", header_style="bold")
    for col, justify in (
        ("date", "left"),
        ("service", "left"),
        ("method", "left"),
        ("calls", "right"),
    ):
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    peak = max((r["calls"] for r in rows), default=0)
    for r in rows:
        calls = shown(r["calls"], "bold" if r["calls"] == peak else "")
        table.add_row(shown(r["date"]), shown(r["service"]), shown(r["method"]), calls)
    out().print(table)
    if rows:
        out().print(shown(f"peak: {peak} calls in one day for one method"))
