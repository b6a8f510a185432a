"""The snapshot_history_compaction job and its schedule, run in-process against the test Mongo."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import bson
import dagster as dg
import pytest
from pymongo.database import Database

from phoenix_assets.settings import ConfigError
from phoenix_assets.storage.partition_store import MANIFEST_COLLECTION, replace_partitions
from phoenix_assets.storage.retention import phoenix_today
from phoenix_assets.storage.snapshot_history import (
    COMPACTED,
    SNAPSHOTS_COLLECTION,
    compact_month,
    history_collection,
    read_days,
)
from phoenix_assets_tests.defs.dagster_results import load_failure, output_metadata

JOB = "snapshot_history_compaction"
OP = "compact_old_snapshot_days"
DAYS_AGO = [45, 44, 43, 20, 15, 14, 2]  # the default window keeps 14 days whole


def _day(days_ago: int) -> str:
    return (phoenix_today() - dt.timedelta(days=days_ago)).isoformat()


def _snapshot(key: str, size: int) -> list[dict[str, Any]]:
    """``size`` properties on day ``key``: one lists a price that moves with the day."""
    day = dt.date.fromisoformat(key)
    return [
        {
            "_id": f"apn:{i}:{key}",
            "partition_key": key,
            "property_id": f"apn:{i}",
            "snapshot_date": key,
            "last_seen": key,
            "postal_code": "85018",
            "list_price": 400_000.0 + (day.toordinal() % 7 if i == 0 else 0),
            "sources": ["demo"],
        }
        for i in range(size)
    ]


@pytest.fixture
def stored(pipeline_env: dict[str, str], db: Database[dict]) -> dict[str, list[bytes]]:
    for days_ago in DAYS_AGO:
        key = _day(days_ago)
        replace_partitions(db, SNAPSHOTS_COLLECTION, [key], _snapshot(key, 5), run_id=key)
    return {_day(d): [bson.encode(doc) for doc in _snapshot(_day(d), 5)] for d in DAYS_AGO}


def _run(defs: dg.Definitions) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def(JOB).execute_in_process()
    assert result.success
    return result


def test_a_run_moves_days_past_the_window_and_every_day_reads_the_same(
    stored: dict[str, list[bytes]],
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    defs = load_definitions()
    schedule = defs.resolve_schedule_def(f"{JOB}_daily")
    assert schedule.cron_schedule == "30 11 * * *"

    result = _run(defs)
    old = sorted(_day(d) for d in DAYS_AGO if d > 14)
    metadata = output_metadata(result)
    assert metadata["days_compacted"] == len(old) and metadata["daily_days"] == 14
    assert (metadata["first_day_compacted"], metadata["last_day_compacted"]) == (old[0], old[-1])
    assert metadata["documents_removed"] == 5 * len(old)
    (observation,) = result.asset_observations_for_node(OP)
    assert observation.asset_key == dg.AssetKey(SNAPSHOTS_COLLECTION)

    compacted = {
        e["partition_key"]
        for e in db[MANIFEST_COLLECTION].find({"collection": SNAPSHOTS_COLLECTION})
        if e.get(COMPACTED)
    }
    assert compacted == set(old)
    assert sorted(db[SNAPSHOTS_COLLECTION].distinct("partition_key")) == [_day(14), _day(2)]
    assert db[history_collection(SNAPSHOTS_COLLECTION)].count_documents({}) > 0
    for key, documents in stored.items():
        read = sorted(read_days(db, SNAPSHOTS_COLLECTION, [key]), key=lambda d: d["_id"])
        assert [bson.encode(doc) for doc in read] == documents, key

    second = output_metadata(_run(defs))  # nothing left to move
    assert second["days_compacted"] == 0 and second["months_rewritten"] == "none"


def test_the_window_comes_from_the_environment(
    stored: dict[str, list[bytes]],
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOENIX_SNAPSHOT_DAILY_DAYS", "30")
    _run(load_definitions())
    assert sorted(db[SNAPSHOTS_COLLECTION].distinct("partition_key")) == sorted(
        _day(d) for d in DAYS_AGO if d <= 30
    )


@pytest.mark.parametrize("value", ["0", "two weeks"])
def test_a_bad_window_fails_the_load_naming_the_variable(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    monkeypatch.setenv("PHOENIX_SNAPSHOT_DAILY_DAYS", value)
    chain = load_failure(load_definitions)
    assert any(
        isinstance(error, ConfigError) and str(error).startswith("PHOENIX_SNAPSHOT_DAILY_DAYS")
        for error in chain
    ), chain


def _day_state(db: Database[dict], day: str) -> dict[str, list[bytes]]:
    """What the graph stored for ``day`` beyond raw data, as BSON bytes in ``_id`` order."""
    return {
        name: [
            bson.encode(doc)
            for doc in sorted(
                read_days(db, name, [day])
                if name == SNAPSHOTS_COLLECTION
                else db[name].find({"partition_key": day}),
                key=lambda d: d["_id"],
            )
        ]
        for name in (SNAPSHOTS_COLLECTION, "property_events", "daily_market_summary")
    }


def _check_results(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """Each snapshot check's metadata in a run, by check name."""
    return {
        evaluation.check_name: {k: v.value for k, v in evaluation.metadata.items()}
        for evaluation in result.get_asset_check_evaluations()
    }


def test_the_graph_reads_compacted_days_and_a_day_means_the_same(
    pipeline_env: dict[str, str],
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    """The day after a compacted day builds from it (events and the MLS state read the
    day before) exactly as from the whole day; a compacted day re-run is the same day."""
    days = ["2026-10-27", "2026-10-28", "2026-10-29"]
    job = load_definitions().resolve_job_def("daily_pipeline")
    runs = {day: job.execute_in_process(partition_key=day) for day in days}
    assert all(run.success for run in runs.values())
    first = {day: _day_state(db, day) for day in days}

    compact_month(db, SNAPSHOTS_COLLECTION, "2026-10", through=days[1])
    assert db[SNAPSHOTS_COLLECTION].count_documents({"partition_key": days[1]}) == 0
    again = job.execute_in_process(partition_key=days[2])
    assert again.success
    assert _day_state(db, days[2]) == first[days[2]]
    # The checks judged the day against the same day before (on-market inventory kept).
    assert _check_results(again) == _check_results(runs[days[2]])
    kept = _check_results(again)["on_market_inventory_kept"]
    assert kept["on_market_day_before"] > 0

    assert job.execute_in_process(partition_key=days[1]).success  # a compacted day re-run
    assert db[SNAPSHOTS_COLLECTION].count_documents({"partition_key": days[1]}) > 0
    assert compact_month(db, SNAPSHOTS_COLLECTION, "2026-10", through=days[1]) is not None
    for day in days:
        assert _day_state(db, day) == first[day], day
