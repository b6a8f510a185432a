"""The runs' executor: step processes forked from a server that preloaded the code location."""

import itertools
import os
import subprocess
import sys

import dagster as dg
import pytest
from pymongo.database import Database

from phoenix_assets.defs.executor import HOLDS_DAY_DATA, PRELOADED_MODULES

DAY = "2026-11-17"


def daily_pipeline() -> dg.JobDefinition:
    """The daily job as a launched run reconstructs it (module level, for reconstructable)."""
    from phoenix_assets.definitions import defs

    return defs.resolve_job_def("daily_pipeline")


def test_every_job_forks_its_steps_from_a_preloading_forkserver(
    pipeline_env: dict[str, str], load_definitions: object
) -> None:
    defs = load_definitions()  # type: ignore[operator]
    for job in ("daily_pipeline", "weekly_trends", "raw_retention_cleanup"):
        executor = defs.resolve_job_def(job).executor_def
        assert executor.name == "forkserver_multiprocess"
    assert PRELOADED_MODULES == ["phoenix_assets.step_preload"]


def test_a_real_run_executes_each_step_in_its_own_forked_process(
    pipeline_env: dict[str, str], db: Database[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHOENIX_ZIP_CODES", "85018")
    instance_dir = os.environ["DAGSTER_HOME"]
    with dg.DagsterInstance.from_config(instance_dir) as instance:
        result = dg.execute_job(
            dg.reconstructable(daily_pipeline), instance, tags={"dagster/partition": DAY}
        )
        assert result.success
        logs = instance.all_logs(result.run_id)
        pids = {
            record.dagster_event.pid
            for record in logs
            if record.step_key and record.dagster_event and record.dagster_event.is_step_start
        }
        spans: dict[str, list[float]] = {}
        for record in logs:
            event = record.dagster_event
            if record.step_key and event and (event.is_step_start or event.is_step_success):
                spans.setdefault(record.step_key, []).append(record.timestamp)
    # Seven steps (three sources, the snapshots with their checks, events, summary,
    # report), each in a process of its own, none of them this one.
    assert len(pids) == 7 and os.getpid() not in pids
    # The steps that hold a day's data ran one after another, never side by side.
    job = daily_pipeline()
    holding = sorted(
        (
            spans[node.name]
            for node in job.graph.nodes
            if HOLDS_DAY_DATA.items() <= node.tags.items()
        ),
        key=min,
    )
    assert len(holding) == 4
    assert all(max(one) <= min(after) for one, after in itertools.pairwise(holding))
    assert db["property_snapshots"].count_documents({"partition_key": DAY}) > 0
    assert db["partition_manifest"].count_documents({"_id": f"daily_market_report:{DAY}"}) == 1


@pytest.mark.parametrize("module", PRELOADED_MODULES)
def test_the_preloaded_modules_import(module: str) -> None:
    __import__(module)


def test_the_preload_freezes_what_it_imported_so_steps_keep_sharing_it() -> None:
    # In a fresh interpreter, as the forkserver imports it: objects frozen out of the
    # collector's reach are never written by a step's collections (no copied pages).
    frozen = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gc, phoenix_assets.step_preload; print(gc.get_freeze_count())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(frozen.stdout) > 100_000
