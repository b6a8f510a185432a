"""``phoenix-assets``: run the pipeline, open the UI or a report, look after the embedded MongoDB.

``phoenix-assets run`` is the main job for a first look: it backfills the two weeks
before the last complete day in one run, materializes the daily pipeline for that day,
builds the weekly trends of the complete weeks, and prints where to see the results.
Runs go through the Dagster instance in ``$DAGSTER_HOME`` (default ``./.dagster_home``),
so they show up in the UI afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from phoenix_assets.storage.mongo_resource import MongoResource

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DAGSTER_HOME = ".dagster_home"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# The console shows warnings and errors; every event is still in the run's log in the UI.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def prepare_dagster_home() -> Path:
    """Use ``$DAGSTER_HOME``, or ``./.dagster_home``, with the project's instance config.

    The instance storage is created here, once, before any Dagster process starts on the
    home: processes creating a fresh home's storage at the same time can break it.
    """
    from phoenix_assets.instance_home import ensure_instance_storage

    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / DEFAULT_DAGSTER_HOME).resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    ensure_instance_storage(home, default_config=PROJECT_ROOT / "dagster.yaml")
    return home


def _say(message: str) -> None:
    print(message, flush=True)


def run_main_job(day: str | None, backfill_days: int | None) -> int:
    """Materialize a recent day, backfill the days before it, and build weekly trends."""
    home = prepare_dagster_home()
    import dagster as dg

    from phoenix_assets.definitions import defs
    from phoenix_assets.partitions import daily_partitions, weekly_partitions
    from phoenix_assets.settings import PipelineSettings
    from phoenix_assets.storage.mongo_resource import MongoResource

    last_day = day or daily_partitions.get_last_partition_key()
    if last_day is None or not daily_partitions.has_partition_key(last_day):
        _say(
            f"error: {last_day!r} is not a daily partition (from {daily_partitions.start:%Y-%m-%d})"
        )
        return 2
    end = dt.date.fromisoformat(last_day)
    # Cover the last two complete weeks up to the day, so the weekly trends have a
    # week-over-week change to show.
    monday = end - dt.timedelta(days=end.weekday())
    last_complete_monday = monday if end.weekday() == 6 else monday - dt.timedelta(days=7)
    default_start = last_complete_monday - dt.timedelta(days=7)
    start = end - dt.timedelta(days=backfill_days) if backfill_days is not None else default_start
    start = max(start, daily_partitions.start.date())

    instance = dg.DagsterInstance.get()
    daily_job = defs.resolve_job_def("daily_pipeline")
    weekly_job = defs.resolve_job_def("weekly_trends")
    settings = PipelineSettings.from_env()
    mongo = MongoResource(
        uri=settings.mongodb_uri,
        database=settings.mongodb_database,
        **settings.mongodb_timeouts(),
    )

    def timed(label: str, **kwargs: object) -> float:
        started = time.perf_counter()
        job = kwargs.pop("job")
        result = job.execute_in_process(  # type: ignore[attr-defined]
            instance=instance, run_config=QUIET_CONSOLE, **kwargs
        )
        seconds = time.perf_counter() - started
        outcome = "ok" if result.success else "FAILED"
        _say(f"  {label}: {outcome} in {seconds:.1f}s (run {result.run_id[:8]})")
        return seconds

    _say(f"Dagster instance: {home}")
    _say(f"MongoDB: {mongo.display_uri()} database '{mongo.database}'")
    total = 0.0
    # Older days first: a snapshot carries the MLS listings of the day before forward.
    if start < end:
        backfill_end = (end - dt.timedelta(days=1)).isoformat()
        total += timed(
            f"backfill {start.isoformat()}...{backfill_end} (one run)",
            job=daily_job,
            tags={RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: backfill_end},
        )
    total += timed(f"daily pipeline for {last_day}", job=daily_job, partition_key=last_day)
    weeks = [
        key
        for key in weekly_partitions.get_partition_keys()
        if start <= dt.date.fromisoformat(key)
        and dt.date.fromisoformat(key) + dt.timedelta(days=6) <= end
    ]
    if weeks:
        total += timed(
            f"weekly trends {weeks[0]}...{weeks[-1]}",
            job=weekly_job,
            tags={RANGE_START_TAG: weeks[0], RANGE_END_TAG: weeks[-1]},
        )
    _print_results(mongo, last_day, weeks[-1] if weeks else None)
    _print_reports()
    _say(
        f"Done in {total:.1f}s. See it all in the UI: uv run phoenix-assets ui  (http://127.0.0.1:3000)"
    )
    return 0


def _print_results(mongo: MongoResource, day: str, week: str | None) -> None:
    from phoenix_assets.storage.store import PartitionStore, document_counts

    db = mongo.get_database()
    _say("Documents in MongoDB:")
    for name, count in document_counts(db).items():
        _say(f"  {name:<24} {count:>8}")
    summary = PartitionStore(db, "daily_market_summary").read([day], {"area": "metro"})
    metro = next(summary, None)
    if metro:
        _say(
            f"Metro on {day}: {metro['active_listings']} active, {metro['new_listings']} new, "
            f"{metro['pending_listings']} pending, {metro['closed_sales']} closed, "
            f"{metro['price_cuts']} price cuts, "
            f"median list price ${metro['median_list_price'] or 0:,.0f}"
        )
    trends = PartitionStore(db, "weekly_market_trends")
    trend = next(trends.read([week], {"area": "metro"}), None) if week else None
    if trend:
        pct = trend.get("median_list_price_wow_pct")
        change = f"{pct:+.1f}% week over week" if pct is not None else "no week before to compare"
        price = trend["median_list_price"] or 0
        _say(f"Metro week of {week}: median list price ${price:,.0f} ({change})")


def _print_reports() -> None:
    from phoenix_assets.reports.files import latest_report
    from phoenix_assets.reports.settings import reports_dir

    kinds: tuple[Literal["daily", "weekly"], ...] = ("daily", "weekly")
    for kind in kinds:
        files = latest_report(reports_dir(), kind)
        if files is not None:
            _say(
                f"Latest {kind} report: {files.html}  (open it: uv run phoenix-assets report"
                f"{' --weekly' if kind == 'weekly' else ''} --open)"
            )


def open_ui(extra: Sequence[str]) -> int:
    """Start ``dagster dev`` on this code location with the project's DAGSTER_HOME.

    Through the project's ``workspace.yaml``, so the code location is named
    ``phoenix_assets`` as in every other way of serving it (``dg dev``, the compose
    stack): what the instance keeps per location (a sensor or schedule switched on or
    off by hand) is the same whichever one a user starts."""
    prepare_dagster_home()
    dagster = Path(sys.executable).with_name("dagster")
    workspace = PROJECT_ROOT / "workspace.yaml"
    command = [str(dagster), "dev", "-w", str(workspace), *extra]
    os.execv(command[0], command)
    return 0  # not reached


def mongo_command(action: str) -> int:
    """Show or stop the embedded MongoDB server of this DAGSTER_HOME."""
    prepare_dagster_home()
    from phoenix_assets.storage.embedded_mongo import (
        default_state_dir,
        embedded_server_status,
        stop_embedded_server,
    )

    state_dir = default_state_dir()
    if action == "stop":
        _say("stopped" if stop_embedded_server(state_dir) else "no embedded server was running")
        return 0
    server = embedded_server_status(state_dir)
    _say(
        f"{server.uri} (pid {server.pid}, data in {state_dir / 'data'})"
        if server
        else "not running"
    )
    return 0


def stop_command() -> int:
    """Cancel every backfill and terminate every queued or running run of the instance."""
    prepare_dagster_home()
    import dagster as dg

    from phoenix_assets.emergency_stop import stop_all_runs

    with dg.DagsterInstance.get() as instance:
        report = stop_all_runs(instance)
    _say(f"backfills cancelled: {len(report.backfills)}  runs terminated: {len(report.runs)}")
    for run_id, reason in report.failed.items():
        _say(f"  run {run_id} could not be stopped: {reason}")
    _say(
        "Schedules and sensors keep ticking until stopped: `dagster schedule stop NAME` and "
        "`dagster sensor stop NAME` (with -w workspace.yaml), or in the UI under Automation."
    )
    return 1 if report.failed else 0


def report_command(weekly: bool, open_in_browser: bool) -> int:
    """Print where the latest daily (or weekly) report is; open it in the browser if asked."""
    prepare_dagster_home()
    import webbrowser

    from phoenix_assets.reports.files import latest_report
    from phoenix_assets.reports.settings import PHOENIX_REPORTS_DIR, reports_dir

    directory = reports_dir()
    kind: Literal["daily", "weekly"] = "weekly" if weekly else "daily"
    files = latest_report(directory, kind)
    if files is None:
        job = "weekly_trends" if weekly else "daily_pipeline"
        _say(
            f"No {kind} report yet in {directory / kind}. Reports are written by the {job} "
            f"job: run `phoenix-assets run` (or materialize {kind}_market_report in the UI). "
            f"{PHOENIX_REPORTS_DIR} sets the folder."
        )
        return 1
    _say(str(files.html))
    for label, path in (("JSON", files.json), ("CSV", files.csv)):
        _say(f"  {label}: {path}" if path.exists() else f"  {label}: missing ({path})")
    if open_in_browser and not webbrowser.open(files.html.as_uri()):
        _say("could not open a browser; open the file above yourself")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="phoenix-assets", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser(
        "run", help="run the daily pipeline, a short backfill and weekly trends"
    )
    run.add_argument("--day", help="the day to run (YYYY-MM-DD; default: the last complete day)")
    run.add_argument(
        "--backfill-days",
        type=int,
        help="days before --day to backfill in one run (default: back to the start of the "
        "second-to-last complete week)",
    )
    commands.add_parser(  # no -h of its own: `-h HOST` and every other option go to dagster dev
        "ui",
        add_help=False,
        help="open the Dagster UI (dagster dev) on this project; other options go to it",
    )
    commands.add_parser(
        "stop", help="emergency stop: cancel every backfill, terminate every queued or running run"
    )
    report = commands.add_parser(
        "report", help="print the latest market report's path (HTML, with its JSON and CSV)"
    )
    report.add_argument("--weekly", action="store_true", help="the weekly report (default daily)")
    report.add_argument("--open", action="store_true", help="open the HTML in the web browser")
    mongo = commands.add_parser("mongo", help="the embedded MongoDB server")
    mongo.add_argument("action", choices=["status", "stop"])
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "ui":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")

    from phoenix_assets.settings import ConfigError

    try:
        if args.command == "ui":
            return open_ui(extra)
        if args.command == "mongo":
            return mongo_command(args.action)
        if args.command == "stop":
            return stop_command()
        if args.command == "report":
            return report_command(args.weekly, args.open)
        return run_main_job(getattr(args, "day", None), getattr(args, "backfill_days", None))
    except Exception as exc:
        # Dagster wraps an error raised while the definitions load: find ours in the chain.
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, ConfigError):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        _say(f"configuration error: {cause}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
