"""End to end: a real ``dagster-daemon`` on a temporary DAGSTER_HOME repairs a real gap.

The missed-day sensor ticks, the daemon turns its request into one backfill, the
backfill's run succeeds and writes the days to MongoDB, and later ticks launch nothing.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from pymongo.database import Database

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SENSOR = "missed_day_backfill"
TICK_LOG_LINE = f"Checking for new runs for sensor: {SENSOR}"


def _wait_for(predicate, timeout: float, what: str, log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{log.read_text()[-4000:]}")


@pytest.mark.timeout(600)
def test_the_daemon_backfills_the_missed_days_once(
    pipeline_env: dict[str, str], db: Database[dict], tmp_path: Path
) -> None:
    home = Path(os.environ["DAGSTER_HOME"])
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "PHOENIX_ZIP_CODES": "85018",
        "PHOENIX_BACKFILL_LOOKBACK_DAYS": "2",
        "PHOENIX_BACKFILL_GRACE_HOURS": "0",
        "PHOENIX_BACKFILL_INTERVAL_SECONDS": "5",
    }
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
            days = sorted(
                {
                    d["partition_key"]
                    for d in db["daily_market_summary"].find({}, {"partition_key": 1})
                }
            )
            assert len(days) == 2
            assert db["property_snapshots"].count_documents({"partition_key": days[-1]}) > 0

            ticks_before = log.read_text().count(TICK_LOG_LINE)
            _wait_for(
                lambda: log.read_text().count(TICK_LOG_LINE) >= ticks_before + 2,
                120,
                "two more sensor ticks",
                log,
            )
            assert len(instance.get_backfills()) == 1  # the gap is filled: nothing more
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
