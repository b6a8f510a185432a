"""Emergency stop: every queued run and running backfill of a real instance is cancelled."""

import datetime as dt
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.remote_origin import (
    RegisteredCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.utils import make_new_backfill_id

from phoenix_assets.cli import PROJECT_ROOT, main


@dg.op
def wait() -> None:
    pass


@dg.job
def some_job() -> None:
    wait()


def _queued_run(instance: dg.DagsterInstance) -> dg.DagsterRun:
    """A run waiting in the queue (as the UI leaves one when no daemon dequeues it)."""
    origin = RemoteJobOrigin(
        repository_origin=RemoteRepositoryOrigin(
            code_location_origin=RegisteredCodeLocationOrigin("phoenix_assets"),
            repository_name="__repository__",
        ),
        job_name="some_job",
    )
    return instance.create_run_for_job(
        some_job, status=dg.DagsterRunStatus.QUEUED, remote_job_origin=origin
    )


def test_stop_cancels_queued_runs_and_running_backfills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")  # a queued coordinator
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        queued = [_queued_run(instance) for _ in range(2)]
        done = instance.create_run_for_job(some_job, status=dg.DagsterRunStatus.SUCCESS)
        backfill_id = make_new_backfill_id()
        instance.add_backfill(
            PartitionBackfill(
                backfill_id=backfill_id,
                status=BulkActionStatus.REQUESTED,
                from_failure=False,
                tags={},
                backfill_timestamp=dt.datetime.now(dt.UTC).timestamp(),
                partition_names=["2026-11-20"],
            )
        )

    assert main(["stop"]) == 0
    said = capsys.readouterr().out
    assert "backfills cancelled: 1  runs terminated: 2" in said

    with dg.DagsterInstance.get() as instance:
        for run in queued:
            stored = instance.get_run_by_id(run.run_id)
            assert stored is not None and stored.status == dg.DagsterRunStatus.CANCELED
        finished = instance.get_run_by_id(done.run_id)
        assert finished is not None and finished.status == dg.DagsterRunStatus.SUCCESS
        backfill = instance.get_backfill(backfill_id)
        assert backfill is not None and backfill.status == BulkActionStatus.CANCELING
    assert os.environ["DAGSTER_HOME"] == str(home)
