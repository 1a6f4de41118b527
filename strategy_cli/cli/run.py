"""`strategy run`: execute due events against the real services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from .common import CallbacksOption, DbOption, FormatOption, ReadFormat, project_callbacks


def run(
    env: Annotated[
        str | None, typer.Option("--env", help="Environment: selects baseUrls and authorization.")
    ] = None,
    instance: Annotated[
        str | None, typer.Option("--instance", help="Only this instance (sid or prefix).")
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, max=512, help="Events in flight.")
    ] = 8,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep polling for newly due events (Ctrl-C stops).")
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval", min=0.05, help="Seconds between polls with --watch (default 1)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the requests; send and change nothing.")
    ] = False,
    callbacks: CallbacksOption = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Per-request timeout, seconds.")
    ] = 30.0,
    db: DbOption = None,
    format: FormatOption = ReadFormat.text,
) -> int:
    """Execute every due event until none is due.

    Due: PENDING, date <= now, instance ACTIVE. Exit code 0 when every attempt ran (retries and pauses included), 1 when an event FAILED
    or an attempt met a configuration error (nothing sent, no retry used), 2 for a bad --env.

    \b
    Example: strategy run --env sandbox --concurrency 16 \\
               --callbacks my_callbacks
    """
    from ..adapters.config import config_for
    from ..adapters.operations import instance_sid
    from ..adapters.runner import RunOptions
    from .common import open_store, refuse_unused

    if dry_run:
        refuse_unused("--dry-run", {"--watch": watch}, hint="a dry run plans what is due now, once")
    elif not watch:
        refuse_unused("run without --watch", {"--interval": interval}, hint="add --watch")
    with open_store(db) as store:
        sid = instance_sid(store, instance) if instance else None
        hooks = project_callbacks(callbacks, env)
        options = RunOptions(
            env=env,
            instance=sid,
            concurrency=concurrency,
            watch=watch,
            interval=1.0 if interval is None else interval,
            timeout=timeout,
            max_response_bytes=config_for(Path.cwd()).max_response_bytes,
        )
        _check_env(store, env)
        if dry_run:
            return _dry_run(store, hooks, options, format)
        return _run(store, hooks, options, format)


def _check_env(store: Any, env: str | None) -> None:
    """--env is required when a service of a stored strategy has more than one environment."""
    from ..adapters.strategies import settings_of

    for record in store.list_strategies():
        for service in settings_of(record).services:
            envs = sorted({b.environment for b in service.baseUrls})
            if env is None and len(envs) > 1:
                raise UsageError(
                    f"strategy '{record['name']}': service '{service.key}' has environments "
                    f"{', '.join(envs)}; choose one with --env",
                )


def _dry_run(store: Any, hooks: Any, options: Any, format: ReadFormat) -> int:
    from ..adapters.runner import dry_run
    from .console import line, out, shown, write_json
    from .datetimes import human_time

    plans = dry_run(store, hooks, options)
    code = 1 if any(plan["configurationError"] for plan in plans) else 0
    if format is ReadFormat.json:
        write_json({"dryRun": True, "events": plans})
        return code
    console = out()
    if not plans:
        console.print("nothing is due")
    for plan in plans:
        head = f" event {plan['event'][:8]} (due {human_time(plan['date'], named=False)})"
        console.print(line((plan["task"], "bold"), head), soft_wrap=True)
        for r in plan["requests"]:
            console.print(shown(f"  {r['method']} {r['url']}"), soft_wrap=True)
            if r["body"] is not None:
                import json

                body = json.dumps(r["body"], ensure_ascii=False)
                console.print(shown(f"    {body}"), soft_wrap=True)
        if plan["configurationError"]:
            console.print(shown(f"  {plan['configurationError']}"), soft_wrap=True)
    console.print(shown(f"dry run: {len(plans)} due event(s); nothing was sent or changed"))
    return code


def _run(store: Any, hooks: Any, options: Any, format: ReadFormat) -> int:
    import asyncio
    import signal

    from ..adapters.runner import Runner
    from ..errors import ExitCode
    from .console import err, line, out, write_json
    from .interrupts import sigterm_as_ctrl_c
    from .render_run import live_progress, print_configuration_errors, print_summary, summary_json

    runner = Runner(store, hooks, options)

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, _stop, runner)
        with live_progress(err()) as update:
            return await runner.run(update)

    summary = asyncio.run(main())
    sigterm_as_ctrl_c()  # the loop's handlers are gone; the summary is still to be written
    if format is ReadFormat.json:
        write_json(summary_json(summary, interrupted=runner.stopping))
    else:
        print_summary(out(), summary, interrupted=runner.stopping)
        print_configuration_errors(err(), summary)
    for problem in summary.problems:
        err().print(line(("warning:", "yellow"), " ", problem), soft_wrap=True)
    if runner.stopping:
        raise typer.Exit(ExitCode.INTERRUPTED)  # the summary says it: no "error:" line
    failed = summary.outcomes.get("failed") or summary.outcomes.get("configuration error")
    return 1 if failed else 0


def _stop(runner: Any) -> None:
    from .console import err

    if runner.interrupt():
        err().print(
            "stopping: finishing the attempts in flight (Ctrl-C again releases them and stops)"
        )
    else:
        err().print("stopping now: releasing the attempts in flight; their events are due again")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
