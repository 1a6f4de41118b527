"""`strategy simulate`: a strategy's events on a virtual clock, offline, with what-if failures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import StrategyError, UsageError
from .common import (
    DbOption,
    MaxFileSizeOption,
    checked_attributes,
    json_argument,
    max_file_bytes,
    refuse_unused,
    start_option,
    zone_of,
)
from .render_timeline import TimelineFormat


def simulate(
    file: Annotated[Path, typer.Argument(help="Strategy file (YAML or JSON).")],
    cycles: Annotated[
        int, typer.Option("--cycles", "-n", min=1, max=1200, help="Cycles to simulate.")
    ] = 12,
    start: Annotated[
        str | None,
        typer.Option("--start", help="Start instant, ISO-8601 (default: now, to the minute)."),
    ] = None,
    attributes: Annotated[
        str | None,
        typer.Option("--attributes", "-a", help="Instance attributes: JSON or @file.json."),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario", "-s", help="What-if scenario file (outcomes, callbacks, resume)."
        ),
    ] = None,
    format: Annotated[
        TimelineFormat, typer.Option("--format", "-f", help="Output format.")
    ] = TimelineFormat.timeline,
    db: DbOption = None,
    instances_file: Annotated[
        Path | None,
        typer.Option(
            "--instances-file", help="JSON lines of {attributes, start}: one instance per line."
        ),
    ] = None,
    forecast: Annotated[
        bool,
        typer.Option("--forecast", help="With --instances-file: calls per service method per day."),
    ] = False,
    max_file_size: MaxFileSizeOption = None,
) -> int:
    """Simulate a strategy's next N cycles, offline.

    Every event of the next N cycles, on a virtual clock. The simulated instance is stored (marked simulated, never run); its sid is printed.
    Use --db :memory: to keep nothing.

    \b
    Example: strategy simulate sample-strategies/loan-collection.yaml \\
               --cycles 12 --attributes @loan.json
    """
    from ..adapters.scenario_file import load_scenario
    from ..adapters.strategies import apply_strategy, load_strategy_file
    from .common import open_store
    from .render_forecast import render_portfolio

    if forecast and instances_file is None:
        raise UsageError("--forecast needs --instances-file")
    if instances_file is not None:
        refuse_unused(
            "--instances-file",
            {
                "--attributes": attributes,
                "--start": start,
                f"--format {format.value}": format in (TimelineFormat.table, TimelineFormat.ics),
            },
            hint="each line carries its own attributes and start; "
            "a portfolio prints a summary (timeline) or json",
        )
    loaded = load_strategy_file(file, max_file_bytes(max_file_size))
    zone = zone_of(loaded.settings)
    plan = load_scenario(scenario, loaded.settings) if scenario else None
    if instances_file is not None:
        from .interrupts import deferrable

        with deferrable() as interrupts:
            with open_store(db) as store, store.bulk_transaction():
                record, _ = apply_strategy(store, loaded)
                result = _portfolio(
                    store, record, loaded.settings, instances_file, cycles, plan, forecast
                )
                interrupts.hold()  # the commit is next: a signal from now on cannot undo it
            # Printed once committed: output that cannot be written (a closed pipe) loses nothing.
            render_portfolio(result, format is TimelineFormat.json, store.path)
        if interrupts.received:
            _committed_before(interrupts.received, result.instances, store.path)
        return 0
    # Everything the user typed is checked before the store is touched: a mistake stores nothing.
    attrs = checked_attributes(loaded.settings, json_argument(attributes, "--attributes"))
    begin, intended = start_option(start, zone, "--start") or (_now_minute(), None)
    with open_store(db) as store, store.transaction():
        record, _ = apply_strategy(store, loaded)
        box = _run_one(record, loaded.settings, attrs, begin, intended, cycles, plan)
        store.put_instance(box.instance, box.state, simulated=True)
        store.put_events(box.events.values(), simulated=True)
    _render(box, format, zone, record["name"])
    return 0


def _committed_before(signum: int, instances: int, path: str) -> None:
    import signal

    from .console import err, shown

    name = signal.Signals(signum).name
    err().print(
        shown(
            f"{name} arrived after the commit: the {instances} simulated instance(s) are stored "
            f"in {path}"
        ),
        soft_wrap=True,
    )


def _now_minute() -> Any:
    from ..adapters.clock import utcnow

    return utcnow().replace(second=0, microsecond=0)


def _run_one(
    record: Any, settings: Any, attrs: Any, start: Any, intended: Any, cycles: int, plan: Any
) -> Any:
    from ..core.engine import OperationError
    from ..core.simulate import simulate as run

    try:
        return run(record, settings, attrs, start, cycles=cycles, scenario=plan, intended=intended)
    except OperationError:
        raise
    except (ValueError, KeyError) as exc:
        raise StrategyError(f"simulation failed: {exc}") from None


def _render(box: Any, format: TimelineFormat, zone: Any, name: str) -> None:
    from .console import err, shown
    from .render_timeline import render_instance

    render_instance(box, format, zone, name, "simulated instance")
    if format is not TimelineFormat.json:  # JSON carries the sid; stderr keeps stdout clean
        err().print(shown(f"simulated instance: {box.instance['sid']}"))


def _portfolio(
    store: Any,
    record: Any,
    settings: Any,
    path: Path,
    cycles: int,
    plan: Any,
    forecast: bool,
) -> Any:
    from ..adapters.portfolio import count_lines, run_portfolio
    from .console import progress

    total = count_lines(path)
    with progress("simulating instances", total=total) as advance:
        return run_portfolio(
            store, record, settings, path, cycles, plan, forecast, advance, lines=total
        )


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
