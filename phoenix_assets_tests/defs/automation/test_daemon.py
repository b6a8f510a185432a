"""End to end: a real ``dagster-daemon`` on a temporary DAGSTER_HOME repairs a real gap.

A day is missing between days that are present. The missed-day sensor ticks, the
daemon turns its request into one backfill, the backfill's runs succeed: the missing
day is written to MongoDB and the days after it are rebuilt from it (their events
now see the day before), their sources untouched; later ticks launch nothing.
"""

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from pymongo.database import Database

from phoenix_assets.defs.automation.missed_days import due_days
from phoenix_assets.defs.automation.settings import MissedDaySettings
from phoenix_assets_tests.processes import stop_process_group

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SENSOR = "missed_day_backfill"
RAW_ASSETS = ["raw_demo_listings", "raw_maricopa_parcels", "raw_mls_listings"]
DERIVED_ASSETS = [
    "property_snapshots",
    "property_events",
    "daily_market_summary",
    "daily_market_report",
]
TICK_LOG_LINE = f"Checking for new runs for sensor: {SENSOR}"


def _wait_for(predicate, timeout: float, what: str, log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{log.read_text()[-4000:]}")


def _latest_storage_ids(
    instance: dg.DagsterInstance, names: list[str], days: list[str]
) -> dict[tuple[str, str], int]:
    """The latest materialization's storage id of each (asset, day) that has one."""
    event = dg.DagsterEventType.ASSET_MATERIALIZATION
    return {
        (name, day): storage_id
        for name in names
        for day, storage_id in instance.get_latest_storage_id_by_partition(
            dg.AssetKey(name), event, set(days)
        ).items()
    }


@pytest.mark.timeout(600)
def test_the_daemon_backfills_a_missed_day_and_what_it_feeds_once(
    dagster_home: Path,
    db: Database[dict],
    tmp_path: Path,
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = {
        "PHOENIX_ZIP_CODES": "85018",
        "PHOENIX_BACKFILL_LOOKBACK_DAYS": "4",
        "PHOENIX_BACKFILL_GRACE_HOURS": "0",
        "PHOENIX_BACKFILL_INTERVAL_SECONDS": "5",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    days = due_days(dt.datetime.now(dt.UTC), MissedDaySettings.from_env())
    assert len(days) == 4
    # The days around the gap, built before the daemon starts: days[1] is missed.
    job = load_definitions().resolve_job_def("daily_pipeline")
    with dg.DagsterInstance.get() as instance:
        for day in (days[0], days[2], days[3]):
            assert job.execute_in_process(partition_key=day, instance=instance).success
        before = _latest_storage_ids(instance, RAW_ASSETS + DERIVED_ASSETS, days)
    # Without the day before, day 3 had no events.
    assert db["property_events"].count_documents({"partition_key": days[2]}) == 0

    env = {**os.environ, **settings}
    log = tmp_path / "daemon.log"
    daemon = Path(sys.executable).with_name("dagster-daemon")
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(daemon), "run", "-w", str(PROJECT_ROOT / "workspace.yaml")],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with dg.DagsterInstance.get() as instance:

            def finished_backfills() -> list:  # type: ignore[type-arg]
                backfills = instance.get_backfills()
                return [b for b in backfills if b.status != BulkActionStatus.REQUESTED]

            (backfill,) = _wait_for(finished_backfills, 420, "the backfill to finish", log)
            assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS, log.read_text()[-4000:]
            assert backfill.tags["phoenix/trigger"] == SENSOR
            runs = instance.get_runs(
                filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id})
            )
            assert runs and all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
            after = _latest_storage_ids(instance, RAW_ASSETS + DERIVED_ASSETS, days)

            # The missed day is complete, sources included.
            for name in RAW_ASSETS + DERIVED_ASSETS:
                assert (name, days[1]) in after, name
            repaired = after[("property_snapshots", days[1])]
            # The days after it are rebuilt from it: every derived asset of each is newer
            # than the repaired snapshot, while their sources were not collected again.
            for day in days[2:]:
                for name in DERIVED_ASSETS:
                    assert after[(name, day)] > repaired, (name, day)
            for day in (days[0], *days[2:]):
                for name in RAW_ASSETS:
                    assert after[(name, day)] == before[(name, day)], (name, day)
            # The day before the gap reads nothing from it: left as it was.
            for name in DERIVED_ASSETS:
                assert after[(name, days[0])] == before[(name, days[0])], name
            # In MongoDB: every day summarized, and day 3's events now see day 2.
            summarized = {
                d["partition_key"]
                for d in db["daily_market_summary"].find({}, {"partition_key": 1})
            }
            assert summarized == set(days)
            assert db["property_events"].count_documents({"partition_key": days[2]}) > 0

            ticks_before = log.read_text().count(TICK_LOG_LINE)
            _wait_for(
                lambda: log.read_text().count(TICK_LOG_LINE) >= ticks_before + 2,
                120,
                "two more sensor ticks",
                log,
            )
            # One backfill for the gap: the repair left nothing missing and nothing stale.
            assert len(instance.get_backfills()) == 1
            assert _latest_storage_ids(instance, RAW_ASSETS + DERIVED_ASSETS, days) == after
    finally:
        stop_process_group(process, signal.SIGTERM, timeout=30)
