"""A day's run killed half-way, or starved of MongoDB half-way, then run again: the
database ends exactly as a clean run of that day leaves it (no duplicate, nothing missing).

Each run is a child process (``RUNNER``) with an environment built here from scratch, so
it can be killed like a real run; the comparison is of whole databases
(``database_state``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from phoenix_assets.settings import mask_uri
from phoenix_assets.storage.embedded_mongo import ensure_embedded_server, stop_embedded_server
from phoenix_assets.storage.partition_store import INSERT_BATCH, MANIFEST_COLLECTION
from phoenix_assets_tests.reliability.database_state import (
    DatabaseState,
    capture_database,
    describe_differences,
    document_counts,
)

DAY = "2026-11-17"  # a past Tuesday: never the newest partition, so no report is delivered
ZIP_CODES = "85018,85033,85044"
# At this scale the day has 5,959 listings (and as many snapshots): more than one insert
# batch (INSERT_BATCH), so even on the embedded server, which shows a batch all at once,
# a write is visibly half done for a moment between the batches.
CRASH_SCALE = 9
# How long a run may take before the test calls it hung (a hang guard, not a speed test).
RUN_GUARD_SECONDS = 180
POLL_SECONDS = 0.05
# Variables of the pipeline and Dagster: a child gets only the ones set here.
OWN_PREFIXES = ("MONGODB_", "PHOENIX_", "MARICOPA_", "MLS_RESO_", "DAGSTER_")

# One partition of one job, run by Dagster's in-process executor (as execute_in_process
# does, whatever executor the code location configures) on an ephemeral instance; the
# last line printed is a JSON summary with each failed step's error. Op retries are off:
# the assets' retry policy waits 30-120 s between attempts to ride out an outage, which
# would only make these tests wait; what is tested here is what a crash or an outage
# leaves behind, and what a failed step says.
RUNNER = """
import json
import sys
from pathlib import Path

import dagster as dg

import phoenix_assets


def job() -> dg.JobDefinition:
    defs = dg.load_from_defs_folder(path_within_project=Path(phoenix_assets.__file__).parent)
    return defs.resolve_job_def(sys.argv[1]).with_executor_def(dg.in_process_executor)


if __name__ == "__main__":
    result = dg.execute_job(
        dg.reconstructable(job),
        instance=dg.DagsterInstance.ephemeral(),
        tags={"dagster/partition": sys.argv[2]},
        run_config={"execution": {"config": {"retries": {"disabled": {}}}}},
        raise_on_error=False,
    )
    failures = [
        {"step": event.step_key, "error": event.event_specific_data.error.to_string()}
        for event in result.all_events
        if event.event_type_value == "STEP_FAILURE"
    ]
    print(json.dumps({"success": result.success, "failures": failures}), flush=True)
    sys.exit(0 if result.success else 1)
"""


@dataclass
class ChildRun:
    """A run of the daily job in a child process (its own process group)."""

    process: subprocess.Popen[bytes]
    log: Path
    label: str

    def output(self, tail: int = 4000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-tail:]

    def summary(self) -> dict[str, Any]:
        """The runner's JSON summary (its last line)."""
        lines = self.log.read_text(errors="replace").strip().splitlines()
        for line in reversed(lines):
            if line.startswith("{"):
                summary: dict[str, Any] = json.loads(line)
                return summary
        pytest.fail(f"{self.label}: no summary printed; its output ends:\n{self.output()}")

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)

    def finish(self, guard: float = RUN_GUARD_SECONDS) -> int:
        """Wait for the run to end; fail (and kill it) if it outlives the hang guard."""
        try:
            return self.process.wait(timeout=guard)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
            pytest.fail(
                f"{self.label}: still running after {guard:.0f} s (hung?); "
                f"its output ends:\n{self.output()}"
            )


@dataclass
class Runs:
    """Starts child runs, and kills any still running when the test ends."""

    workdir: Path
    started: list[ChildRun] = field(default_factory=list)

    def environment(self, uri: str, database: str, *, scale: float, home: str) -> dict[str, str]:
        """The child's environment: the caller's, minus every pipeline and Dagster
        variable, plus exactly these settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
        dagster_home = self.workdir / home
        dagster_home.mkdir(exist_ok=True)
        env.update(
            {
                "MONGODB_URI": uri,
                "MONGODB_DATABASE": database,
                "PHOENIX_ZIP_CODES": ZIP_CODES,
                "PHOENIX_SOURCES": "demo",
                "PHOENIX_DEMO_SCALE": str(scale),
                "PHOENIX_AUTOMATION": "off",
                # One folder for every run: a report document names its files' paths.
                "PHOENIX_REPORTS_DIR": str(self.workdir / "reports"),
                "DAGSTER_HOME": str(dagster_home),
            }
        )
        return env

    def start(self, label: str, env: dict[str, str]) -> ChildRun:
        script = self.workdir / "run_partition.py"
        if not script.exists():
            script.write_text(RUNNER)
        log = self.workdir / f"{label.replace(' ', '_')}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, str(script), "daily_pipeline", DAY],
                env=env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )
        run = ChildRun(process, log, label)
        self.started.append(run)
        return run

    def complete(self, label: str, env: dict[str, str]) -> ChildRun:
        """Run to the end; fail unless the run succeeded."""
        return self.succeeded(self.start(label, env))

    @staticmethod
    def succeeded(run: ChildRun) -> ChildRun:
        """Wait for a started run to end; fail unless it succeeded."""
        code = run.finish()
        assert code == 0 and run.summary()["success"], (
            f"{run.label} failed (exit {code}); its output ends:\n{run.output()}"
        )
        return run


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[Runs]:
    runs = Runs(tmp_path)
    yield runs
    for run in runs.started:
        run.kill()
        run.process.wait()


@pytest.fixture
def clean_database(mongo_client: MongoClient[dict]) -> Iterator[str]:
    """A second database on the session server, for the clean run; dropped afterwards."""
    name = f"phoenix_clean_{uuid.uuid4().hex[:10]}"
    yield name
    mongo_client.drop_database(name)


def _wait_until(
    run: ChildRun,
    condition: Callable[[], bool],
    what: str,
    *,
    poll: float = POLL_SECONDS,
    guard: float = RUN_GUARD_SECONDS,
) -> None:
    """Poll until ``condition`` holds; fail if the run ends first or the guard expires."""
    deadline = time.monotonic() + guard
    while not condition():
        if run.process.poll() is not None:
            pytest.fail(
                f"{run.label} ended (exit {run.process.returncode}) before {what}; "
                f"its output ends:\n{run.output()}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"{run.label}: not {what} after {guard:.0f} s; output:\n{run.output()}")
        time.sleep(poll)


def _manifest(db: Database[dict]) -> set[str]:
    """The day's partitions recorded as completely written (``<collection>:<day>``)."""
    return {e["_id"] for e in db[MANIFEST_COLLECTION].find({"partition_key": DAY}, {"_id": 1})}


def _snapshots_mid_write(db: Database[dict]) -> bool:
    """The raw partitions are written, and snapshots are being written: some of the
    day's snapshot documents are stored, its manifest entry is not (yet)."""
    manifest = _manifest(db)
    return (
        f"raw_demo_listings:{DAY}" in manifest
        and f"property_snapshots:{DAY}" not in manifest
        and db["property_snapshots"].find_one({"partition_key": DAY}, {"_id": 1}) is not None
    )


def _assert_same(expected: DatabaseState, recovered: Database[dict], story: str) -> None:
    differences = describe_differences(
        expected, capture_database(recovered), expected_label="clean run", actual_label="recovered"
    )
    assert not differences, f"{story}; the database differs from a clean run's:\n{differences}"
    assert expected, "the clean run stored nothing: nothing was compared"


def test_a_run_killed_mid_write_then_rerun_equals_a_clean_run(
    runs: Runs,
    mongo_uri: str,
    mongo_client: MongoClient[dict],
    database_name: str,
    clean_database: str,
) -> None:
    """kill -9 while the day's snapshots are half written (raw partitions complete, later
    assets not started) leaves the partition unmarked in the manifest; a re-run of the day
    then leaves every collection exactly as a clean run does: no duplicate, nothing missing."""
    clean_db, crash_db = mongo_client[clean_database], mongo_client[database_name]
    # The clean run works in its own database, alongside the one killed.
    clean_env = runs.environment(mongo_uri, clean_database, scale=CRASH_SCALE, home="clean")
    clean_run = runs.start("clean run", clean_env)
    crash_env = runs.environment(mongo_uri, database_name, scale=CRASH_SCALE, home="crash")
    doomed = runs.start("killed run", crash_env)
    _wait_until(doomed, lambda: f"raw_demo_listings:{DAY}" in _manifest(crash_db), "past raw")
    # The snapshots are being computed; their write is a short window (between two
    # insert batches on the embedded server, document by document on MongoDB): poll fast.
    _wait_until(
        doomed, lambda: _snapshots_mid_write(crash_db), "seen writing its snapshots", poll=0.01
    )
    # Freeze the run, let any command it already sent finish, and check it is still
    # mid-write: from here the state cannot move, so what is checked is what is killed.
    doomed.kill(signal.SIGSTOP)
    time.sleep(0.3)
    caught = _snapshots_mid_write(crash_db)
    doomed.kill(signal.SIGKILL)
    assert doomed.process.wait(timeout=30) == -signal.SIGKILL
    assert caught, "the snapshots' manifest entry was written before the run was frozen"

    runs.succeeded(clean_run)
    snapshots = clean_db["property_snapshots"].count_documents({"partition_key": DAY})
    assert snapshots > INSERT_BATCH, (
        f"{snapshots} snapshots fit in one insert batch ({INSERT_BATCH}): raise CRASH_SCALE "
        "so a write is seen half done on the embedded server"
    )
    # The crash left a half-done day: raw complete, snapshots stored but not marked,
    # nothing after them.
    manifest = _manifest(crash_db)
    half = crash_db["property_snapshots"].count_documents({"partition_key": DAY})
    assert f"raw_demo_listings:{DAY}" in manifest
    assert f"property_snapshots:{DAY}" not in manifest and 0 < half <= snapshots
    later = {"property_events", "daily_market_summary", "daily_market_report"}
    assert not {entry.split(":")[0] for entry in manifest} & later, manifest
    clean = capture_database(clean_db)
    crashed = capture_database(crash_db)
    assert describe_differences(clean, crashed), "the killed run left nothing undone"

    runs.complete("re-run after the kill", crash_env)
    _assert_same(
        clean,
        crash_db,
        f"killed with {half} of {snapshots} snapshots stored (counts then: "
        f"{document_counts(crashed)}), then re-run",
    )


def test_mongo_killed_mid_run_fails_the_run_clearly_and_a_rerun_recovers(
    runs: Runs, mongo_uri: str, mongo_client: MongoClient[dict], clean_database: str, tmp_path: Path
) -> None:
    """MongoDB killed (-9) between the raw and the snapshot writes: the run fails within
    the hang guard, its failed step says MongoDB at the (masked) URI was lost; the server
    restarted on the same data dir, a re-run leaves the database equal to a clean run's.

    Always a dedicated embedded server (an external one cannot be killed here)."""
    # The clean run works on the session server, alongside the one starved.
    clean_run = runs.start(
        "clean run", runs.environment(mongo_uri, clean_database, scale=1, home="clean")
    )

    state_dir = tmp_path / "dedicated_mongo"
    server = ensure_embedded_server(state_dir)
    try:
        database = "phoenix_outage"
        client: MongoClient[dict] = MongoClient(server.uri, tz_aware=True)
        try:
            outage_db = client[database]
            starved = runs.start(
                "run losing MongoDB", runs.environment(server.uri, database, scale=1, home="o")
            )
            _wait_until(
                starved,
                lambda: (
                    f"raw_demo_listings:{DAY}" in _manifest(outage_db)
                    and f"property_snapshots:{DAY}" not in _manifest(outage_db)
                ),
                "between its raw and snapshot writes",
            )
        finally:
            client.close()
        os.kill(server.pid, signal.SIGKILL)

        code = starved.finish()  # the hang guard: a run that cannot reach Mongo must end
        summary = starved.summary()
        assert code != 0 and not summary["success"], starved.output()
        errors = "\n".join(failure["error"] for failure in summary["failures"])
        assert f"MongoDB at {mask_uri(server.uri)}" in errors, (
            f"no failed step names MongoDB and its URI; step errors:\n{errors[:3000]}"
        )
        assert "MongoUnavailableError" in errors, errors[:3000]

        runs.succeeded(clean_run)
        stop_embedded_server(state_dir)  # clears the dead server's pid file
        restarted = ensure_embedded_server(state_dir)
        client = MongoClient(restarted.uri, tz_aware=True)
        try:
            outage_db = client[database]
            manifest = _manifest(outage_db)
            assert f"raw_demo_listings:{DAY}" in manifest, "the data dir lost the raw write"
            assert f"daily_market_report:{DAY}" not in manifest, "the run was not cut short"
            runs.complete(
                "re-run after the restart",
                runs.environment(restarted.uri, database, scale=1, home="o"),
            )
            _assert_same(
                capture_database(mongo_client[clean_database]),
                outage_db,
                f"MongoDB killed mid-run (failed steps: "
                f"{[f['step'] for f in summary['failures']]}), restarted, day re-run",
            )
        finally:
            client.close()
    finally:
        stop_embedded_server(state_dir)
