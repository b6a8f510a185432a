"""Failing fast and loud, through the command a user types: ``dagster asset materialize``.

Each test runs the real CLI in a child process on its own ``DAGSTER_HOME`` (the code
location's own executor: a forkserver, a process per step) and then reads the run's
events from that instance:
- a selection of the enabled sources' raw assets and the snapshots succeeds, the
  disabled source's never-collected partition read as empty;
- an upstream partition never materialized fails the step once, with no retry, naming
  the partition and the command that makes it;
- MongoDB unreachable, or hung (a server that accepts and never answers), is retried as
  transient and still fails the step within a minute, naming the masked URI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from phoenix_assets.settings import mask_uri
from phoenix_assets_tests.tcp_faults import SilentServer, refusing_port

DAY = "2026-11-17"
OWN_PREFIXES = ("MONGODB_", "PHOENIX_", "MARICOPA_", "MLS_RESO_", "DAGSTER_")
PASSWORD = "Outage-PASSWORD-6d1f"
# What the issue promises for an outage: the step fails within a minute of starting.
OUTAGE_LIMIT_SECONDS = 60
CLI_GUARD_SECONDS = 300  # a hang guard for the whole command, not a speed test


@dataclass
class Materialized:
    """What one ``dagster asset materialize`` did: its exit code, output and events."""

    returncode: int
    output: str
    events: list[dg.EventLogEntry]

    def of_type(self, event_type: dg.DagsterEventType) -> list[dg.EventLogEntry]:
        return [e for e in self.events if e.dagster_event_type == event_type]

    def failure_text(self) -> str:
        texts = []
        for entry in self.of_type(dg.DagsterEventType.STEP_FAILURE):
            data = entry.get_dagster_event().step_failure_data
            texts.append(data.error.to_string() if data.error else "")
            if data.user_failure_data and data.user_failure_data.description:
                texts.append(data.user_failure_data.description)
        return "\n".join(texts)

    def step_seconds(self, step: str) -> float:
        """From the step's first start to its final failure or success."""
        times = [
            e.timestamp
            for e in self.events
            if e.step_key == step
            and e.dagster_event_type
            in (
                dg.DagsterEventType.STEP_START,
                dg.DagsterEventType.STEP_FAILURE,
                dg.DagsterEventType.STEP_SUCCESS,
                dg.DagsterEventType.ENGINE_EVENT,
            )
        ]
        assert times, f"no events of step {step}"
        return max(times) - min(times)


def materialize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, selection: str, **settings: str
) -> Materialized:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(
        {
            "DAGSTER_HOME": str(home),
            "PHOENIX_ZIP_CODES": "85018",
            "PHOENIX_AUTOMATION": "off",
            "PHOENIX_REPORTS_DIR": str(tmp_path / "reports"),
            **settings,
        }
    )
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "asset", "materialize", "-m", "phoenix_assets.definitions"]
    completed = subprocess.run(
        [*command, "--select", selection, "--partition", DAY],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=CLI_GUARD_SECONDS,
        check=False,
    )
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert len(runs) == 1, f"expected one run; output:\n{completed.stderr[-4000:]}"
        events = list(instance.all_logs(runs[0].run_id))
    return Materialized(completed.returncode, completed.stdout + completed.stderr, events)


def test_a_selection_of_the_enabled_sources_needs_no_disabled_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mongo_uri: str, database_name: str
) -> None:
    """The issue's selection: Assessor and MLS enabled (neither configured, so both skip),
    demo disabled and never collected; the snapshots read demo's partition as empty."""
    result = materialize(
        tmp_path,
        monkeypatch,
        "raw_maricopa_parcels,raw_mls_listings,property_snapshots",
        MONGODB_URI=mongo_uri,
        MONGODB_DATABASE=database_name,
        PHOENIX_SOURCES="maricopa,mls",
    )
    assert result.returncode == 0, result.output[-4000:]
    assert not result.of_type(dg.DagsterEventType.STEP_UP_FOR_RETRY)
    lines = [
        e.user_message
        for e in result.events
        if "source 'demo' is not in PHOENIX_SOURCES: read as empty" in e.user_message
    ]
    assert len(lines) == 1, "one log line says the disabled source's partition read as empty"
    assert f"raw_demo_listings: {DAY} never collected" in lines[0]


def test_a_missing_upstream_partition_fails_at_once_naming_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mongo_uri: str, database_name: str
) -> None:
    result = materialize(
        tmp_path,
        monkeypatch,
        "property_snapshots",
        MONGODB_URI=mongo_uri,
        MONGODB_DATABASE=database_name,
        PHOENIX_SOURCES="demo",
    )
    assert result.returncode != 0
    assert not result.of_type(dg.DagsterEventType.STEP_UP_FOR_RETRY), "a retry cannot fix it"
    assert len(result.of_type(dg.DagsterEventType.STEP_FAILURE)) == 1
    text = result.failure_text()
    assert f"raw_demo_listings partition {DAY} has never been materialized" in text
    command = f"--select raw_demo_listings --partition {DAY}"
    assert f"dagster asset materialize -m phoenix_assets.definitions {command}" in text
    assert "Not retried (missing input)" in text


def _assert_outage_failed_fast(result: Materialized, uri: str) -> None:
    assert result.returncode != 0
    retries = result.of_type(dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert retries, "an unreachable MongoDB is transient: the step is retried"
    seconds = result.step_seconds("raw_demo_listings")
    assert seconds < OUTAGE_LIMIT_SECONDS, f"the step took {seconds:.0f} s to fail"
    text = result.failure_text()
    assert f"MongoDB at {mask_uri(uri)}" in text, text[-3000:]
    everything = result.output + "\n".join(e.user_message for e in result.events) + text
    assert PASSWORD not in everything, "the MongoDB password leaked"


def test_an_unreachable_mongodb_fails_the_step_within_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with refusing_port() as port:
        uri = f"mongodb://phoenix:{PASSWORD}@127.0.0.1:{port}/?authSource=admin"
        result = materialize(tmp_path, monkeypatch, "raw_demo_listings", MONGODB_URI=uri)
    _assert_outage_failed_fast(result, uri)


def test_a_hung_mongodb_fails_the_step_within_a_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SilentServer() as silent:
        uri = f"mongodb://phoenix:{PASSWORD}@127.0.0.1:{silent.port}/?authSource=admin"
        result = materialize(tmp_path, monkeypatch, "raw_demo_listings", MONGODB_URI=uri)
        assert silent.accepted, "the step reached the hung server"
    _assert_outage_failed_fast(result, uri)
