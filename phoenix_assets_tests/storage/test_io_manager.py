"""The Mongo IO manager against a real server, through real Dagster materializations."""

import datetime as dt
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel
from pymongo.database import Database

from phoenix_assets.failures import MissingPartitionError
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.storage.io_manager import MongoIOManager
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_reader import PartitionReader
from phoenix_assets.storage.partition_store import (
    ALLOW_MISSING,
    FIRST_PARTITION_ONLY,
    INSERT_BATCH,
    MANIFEST_COLLECTION,
    MATCHING,
    NATURAL_KEY,
    PARTITION_FIELD,
    SOURCE,
)

DAYS = dg.DailyPartitionsDefinition(start_date="2026-11-02")
WEEKS = dg.WeeklyPartitionsDefinition(start_date="2026-11-02", day_offset=1)
WEEK_OF_NOV_2 = [f"2026-11-{d:02d}" for d in range(2, 9)]


class Reading(BaseModel):
    sensor: str
    day: dt.date
    value: float
    at: dt.datetime


def _readings(partition_key: str, count: int = 3) -> list[dict[str, Any]]:
    day = dt.date.fromisoformat(partition_key)
    return [
        {
            "sensor": f"s{i}",
            "day": day,
            "value": float(i) + 0.5,
            "at": dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC),
        }
        for i in range(count)
    ]


def _materialize(
    assets: list[Any], mongo: MongoResource, *, sources: str | None = None, **kwargs: Any
) -> dg.ExecuteInProcessResult:
    pipeline = PipelineConfig(sources=sources) if sources else None
    io_manager = MongoIOManager(mongo=mongo, pipeline=pipeline)
    return dg.materialize(assets, resources={"io_manager": io_manager}, **kwargs)


def _missing_partition(raised: pytest.ExceptionInfo[dg.Failure]) -> str:
    """The failure's message, after checking it is a missing partition, never retried."""
    assert raised.value.allow_retries is False, "a retry cannot make a missing partition"
    assert isinstance(raised.value.__cause__, MissingPartitionError)
    return raised.value.description or ""


def _row_count(result: dg.ExecuteInProcessResult, asset: str) -> Any:
    (materialization,) = result.asset_materializations_for_node(asset)
    return materialization.metadata


# Upstream assets, one per accepted type; the key field is `sensor`.
@dg.asset(partitions_def=DAYS, metadata={NATURAL_KEY: ["sensor"]})
def dict_readings(context: dg.AssetExecutionContext) -> list[dict[str, Any]]:
    return _readings(context.partition_key)


@dg.asset(partitions_def=DAYS, metadata={NATURAL_KEY: ["sensor"]})
def model_readings(context: dg.AssetExecutionContext) -> list[Reading]:
    return [Reading.model_validate(r) for r in _readings(context.partition_key)]


@dg.asset(partitions_def=DAYS, metadata={NATURAL_KEY: ["sensor"]})
def frame_readings(context: dg.AssetExecutionContext) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(_readings(context.partition_key))
    frame["count"] = np.arange(len(frame), dtype=np.int64)  # numpy ints must store as ints
    frame["maybe"] = [1.0, np.nan, 3.0]  # NaN must store as null
    return frame


def test_list_of_dicts_round_trip(mongo_resource: MongoResource, db: Database[dict]) -> None:
    seen: list[Any] = []

    @dg.asset(partitions_def=DAYS)
    def reader(dict_readings: list[dict[str, Any]]) -> None:
        seen.extend(dict_readings)

    key = "2026-11-03"
    _materialize([dict_readings, reader], mongo_resource, partition_key=key)
    expected = [{**r, "day": r["day"].isoformat(), "partition_key": key} for r in _readings(key)]
    assert sorted(seen, key=lambda r: r["sensor"]) == expected
    stored = db["dict_readings"].find_one({"_id": f"s1:{key}"})
    assert stored is not None and stored["partition_key"] == key


def test_list_of_models_round_trip(mongo_resource: MongoResource) -> None:
    seen: list[Any] = []

    @dg.asset(partitions_def=DAYS)
    def reader(model_readings: list[Reading]) -> None:
        seen.extend(model_readings)

    key = "2026-11-04"
    _materialize([model_readings, reader], mongo_resource, partition_key=key)
    assert all(isinstance(r, Reading) for r in seen)
    assert sorted(seen, key=lambda r: r.sensor) == [
        Reading.model_validate(r) for r in _readings(key)
    ]


def test_dataframe_round_trip(mongo_resource: MongoResource, db: Database[dict]) -> None:
    seen: list[pd.DataFrame] = []

    @dg.asset(partitions_def=DAYS)
    def reader(frame_readings: pd.DataFrame) -> None:
        seen.append(frame_readings)

    key = "2026-11-05"
    _materialize([frame_readings, reader], mongo_resource, partition_key=key)
    (frame,) = seen
    frame = frame.sort_values("sensor").reset_index(drop=True)
    assert list(frame["sensor"]) == ["s0", "s1", "s2"]
    assert list(frame["count"]) == [0, 1, 2]
    assert frame["maybe"].isna().tolist() == [False, True, False]
    assert set(frame["partition_key"]) == {key}
    stored = db["frame_readings"].find_one({"_id": f"s1:{key}"})
    assert stored is not None and stored["maybe"] is None and isinstance(stored["count"], int)
    assert stored["at"] == dt.datetime(2026, 11, 5, 12, tzinfo=dt.UTC)


def test_replacing_a_partition_twice_leaves_the_same_documents(
    mongo_resource: MongoResource, db: Database[dict]
) -> None:
    key = "2026-11-03"
    _materialize([dict_readings], mongo_resource, partition_key=key)
    first = sorted(db["dict_readings"].find({}), key=lambda d: d["_id"])
    _materialize([dict_readings], mongo_resource, partition_key=key)
    second = sorted(db["dict_readings"].find({}), key=lambda d: d["_id"])
    assert first == second
    assert len(second) == 3


def test_a_partition_write_replaces_only_that_partition(
    mongo_resource: MongoResource, db: Database[dict]
) -> None:
    sizes = {"2026-11-03": 5, "2026-11-04": 4}

    @dg.asset(partitions_def=DAYS, metadata={NATURAL_KEY: ["sensor"]}, name="shrinking")
    def shrinking(context: dg.AssetExecutionContext) -> list[dict[str, Any]]:
        return _readings(context.partition_key, sizes[context.partition_key])

    for key in sizes:
        _materialize([shrinking], mongo_resource, partition_key=key)
    sizes["2026-11-03"] = 2
    result = _materialize([shrinking], mongo_resource, partition_key="2026-11-03")
    assert db["shrinking"].count_documents({"partition_key": "2026-11-03"}) == 2
    assert db["shrinking"].count_documents({"partition_key": "2026-11-04"}) == 4
    metadata = _row_count(result, "shrinking")
    assert metadata["documents_written"].value == 2
    assert metadata["documents_replaced"].value == 5
    assert metadata["dagster/row_count"].value == 2
    assert metadata["collection"].value.endswith(".shrinking")
    assert "sensor" in metadata["preview"].value


def test_loading_a_seven_day_range_returns_seven_days(
    mongo_resource: MongoResource,
) -> None:
    seen: list[pd.DataFrame] = []

    @dg.asset(partitions_def=WEEKS)
    def weekly(frame_readings: pd.DataFrame) -> None:
        seen.append(frame_readings)

    for key in WEEK_OF_NOV_2:
        _materialize([frame_readings], mongo_resource, partition_key=key)
    _materialize(
        [frame_readings.to_source_asset(), weekly],
        mongo_resource,
        partition_key="2026-11-02",
    )
    (frame,) = seen
    assert sorted(frame["partition_key"].unique()) == WEEK_OF_NOV_2
    assert len(frame) == 21
    assert frame.attrs.get("missing_partitions") is None


def test_a_range_load_returns_what_exists_and_says_what_is_missing(
    mongo_resource: MongoResource,
) -> None:
    seen: list[pd.DataFrame] = []

    @dg.asset(partitions_def=WEEKS)
    def weekly(frame_readings: pd.DataFrame) -> None:
        seen.append(frame_readings)

    present = WEEK_OF_NOV_2[:5]
    for key in present:
        _materialize([frame_readings], mongo_resource, partition_key=key)
    _materialize(
        [frame_readings.to_source_asset(), weekly],
        mongo_resource,
        partition_key="2026-11-02",
    )
    (frame,) = seen
    assert sorted(frame["partition_key"].unique()) == present
    assert frame.attrs["missing_partitions"] == WEEK_OF_NOV_2[5:]


def test_loading_a_partition_never_written_is_a_clear_error(
    mongo_resource: MongoResource,
) -> None:
    @dg.asset(partitions_def=DAYS)
    def reader(dict_readings: list[dict[str, Any]]) -> None:
        raise AssertionError("must not run")

    _materialize([dict_readings], mongo_resource, partition_key="2026-11-03")
    with pytest.raises(dg.Failure) as raised:
        _materialize(
            [dict_readings.to_source_asset(), reader],
            mongo_resource,
            partition_key="2026-11-04",
        )
    message = _missing_partition(raised)
    assert "dict_readings partition 2026-11-04 has never been materialized" in message
    assert (
        "dagster asset materialize -m phoenix_assets.definitions --select dict_readings "
        "--partition 2026-11-04" in message
    )


def test_a_half_written_partition_reads_as_missing(
    mongo_resource: MongoResource, db: Database[dict]
) -> None:
    """A run that died after deleting the manifest entry left no complete partition."""

    @dg.asset(partitions_def=DAYS)
    def reader(dict_readings: list[dict[str, Any]]) -> None:
        raise AssertionError("must not run")

    _materialize([dict_readings], mongo_resource, partition_key="2026-11-03")
    db[MANIFEST_COLLECTION].delete_one({"_id": "dict_readings:2026-11-03"})
    with pytest.raises(dg.Failure) as raised:
        _materialize(
            [dict_readings.to_source_asset(), reader],
            mongo_resource,
            partition_key="2026-11-03",
        )
    assert "dict_readings partition 2026-11-03" in _missing_partition(raised)


@dg.asset(partitions_def=DAYS, metadata={NATURAL_KEY: ["sensor"], SOURCE: "demo"})
def demo_readings(context: dg.AssetExecutionContext) -> list[dict[str, Any]]:
    return _readings(context.partition_key)


def test_a_disabled_sources_partition_never_collected_reads_as_empty(
    mongo_resource: MongoResource,
) -> None:
    """Required when its source is enabled; read as empty, with one line, when it is not."""
    seen: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]] = []

    @dg.asset(partitions_def=DAYS)
    def reader(demo_readings: list[dict[str, Any]], dict_readings: PartitionReader) -> None:
        seen.append((demo_readings, list(dict_readings.documents("2026-11-05"))))

    _materialize([dict_readings], mongo_resource, partition_key="2026-11-05")
    upstream = [demo_readings.to_source_asset(), dict_readings.to_source_asset(), reader]
    with pytest.raises(dg.Failure) as raised:
        _materialize(upstream, mongo_resource, sources="demo,mls", partition_key="2026-11-05")
    assert "demo_readings partition 2026-11-05" in _missing_partition(raised)

    instance = dg.DagsterInstance.ephemeral()
    result = _materialize(
        upstream, mongo_resource, sources="mls", partition_key="2026-11-05", instance=instance
    )
    ((demo, other),) = seen
    assert demo == [], "the disabled source's partition reads as empty"
    assert len(other) == len(_readings("2026-11-05")), "the enabled one is read as ever"
    lines = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if "source 'demo' is not in PHOENIX_SOURCES: read as empty" in entry.user_message
    ]
    assert len(lines) == 1, lines


def test_an_unpartitioned_asset_is_replaced_whole(
    mongo_resource: MongoResource, db: Database[dict]
) -> None:
    rows = [{"name": "a"}, {"name": "b"}, {"name": "c"}]

    @dg.asset(metadata={NATURAL_KEY: ["name"]})
    def catalog() -> list[dict[str, Any]]:
        return list(rows)

    _materialize([catalog], mongo_resource)
    rows.pop()
    _materialize([catalog], mongo_resource)
    assert sorted(d["_id"] for d in db["catalog"].find({})) == ["a", "b"]
    assert "partition_key" not in db["catalog"].find_one({})  # type: ignore[operator]

    seen: list[Any] = []

    @dg.asset
    def reader(catalog: list[dict[str, Any]]) -> None:
        seen.extend(catalog)

    _materialize([catalog.to_source_asset(), reader], mongo_resource)
    assert sorted(r["name"] for r in seen) == ["a", "b"]


def test_duplicate_natural_keys_fail_and_keep_the_stored_partition(
    mongo_resource: MongoResource, db: Database[dict]
) -> None:
    duplicate = {"on": False}

    @dg.asset(partitions_def=DAYS, metadata={NATURAL_KEY: ["sensor"]})
    def flaky(context: dg.AssetExecutionContext) -> list[dict[str, Any]]:
        rows = _readings(context.partition_key)
        return rows + rows[:1] if duplicate["on"] else rows

    _materialize([flaky], mongo_resource, partition_key="2026-11-03")
    duplicate["on"] = True
    with pytest.raises(dg.Failure, match="occur more than once") as raised:
        _materialize([flaky], mongo_resource, partition_key="2026-11-03")
    assert raised.value.allow_retries is False, "the same output fails the same way"
    assert db["flaky"].count_documents({"partition_key": "2026-11-03"}) == 3


def test_a_multi_partition_write_splits_by_partition_field(
    mongo_resource: MongoResource, db: Database[dict]
) -> None:
    """A single-run backfill writes several partitions from one output."""

    @dg.asset(
        partitions_def=DAYS,
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={NATURAL_KEY: ["sensor"], PARTITION_FIELD: "day"},
    )
    def ranged(context: dg.AssetExecutionContext) -> list[Reading]:
        return [Reading.model_validate(r) for key in context.partition_keys for r in _readings(key)]

    result = _materialize(
        [ranged],
        mongo_resource,
        tags={
            "dagster/asset_partition_range_start": "2026-11-02",
            "dagster/asset_partition_range_end": "2026-11-05",
        },
    )
    assert result.success
    for key in ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"]:
        assert db["ranged"].count_documents({"partition_key": key}) == 3
        assert db[MANIFEST_COLLECTION].count_documents({"_id": f"ranged:{key}"}) == 1


def test_indexes_are_created(mongo_resource: MongoResource, db: Database[dict]) -> None:
    _materialize([dict_readings], mongo_resource, partition_key="2026-11-03")
    _materialize([dict_readings], mongo_resource, partition_key="2026-11-04")
    keys = [list(index["key"]) for index in db["dict_readings"].list_indexes()]
    assert ["partition_key"] in keys


def test_an_asset_without_a_natural_key_is_refused(
    mongo_resource: MongoResource,
) -> None:
    @dg.asset(partitions_def=DAYS)
    def anonymous() -> list[dict[str, Any]]:
        return [{"a": 1}]

    with pytest.raises(dg.Failure, match="natural key"):
        _materialize([anonymous], mongo_resource, partition_key="2026-11-03")


def test_first_partition_only_loads_the_first_day_of_the_range(
    mongo_resource: MongoResource,
) -> None:
    seen: list[pd.DataFrame] = []

    @dg.asset(
        partitions_def=WEEKS,
        ins={"frame_readings": dg.AssetIn(metadata={FIRST_PARTITION_ONLY: True})},
    )
    def weekly(frame_readings: pd.DataFrame) -> None:
        seen.append(frame_readings)

    for key in WEEK_OF_NOV_2[:3]:
        _materialize([frame_readings], mongo_resource, partition_key=key)
    _materialize(
        [frame_readings.to_source_asset(), weekly], mongo_resource, partition_key="2026-11-02"
    )
    (frame,) = seen
    assert set(frame["partition_key"]) == {WEEK_OF_NOV_2[0]}


def test_allow_missing_loads_a_missing_partition_as_empty(mongo_resource: MongoResource) -> None:
    seen: list[Any] = []

    @dg.asset(
        partitions_def=DAYS,
        ins={"dict_readings": dg.AssetIn(metadata={ALLOW_MISSING: True})},
    )
    def reader(dict_readings: list[dict[str, Any]]) -> None:
        seen.append(dict_readings)

    _materialize(
        [dict_readings.to_source_asset(), reader], mongo_resource, partition_key="2026-11-09"
    )
    assert seen == [[]]


def test_a_partition_reader_streams_each_written_partition(mongo_resource: MongoResource) -> None:
    seen: dict[str, list[dict[str, Any]]] = {}

    @dg.asset(partitions_def=WEEKS)
    def weekly(dict_readings: PartitionReader) -> None:
        for key in WEEK_OF_NOV_2:
            seen[key] = list(dict_readings.documents(key))

    for key in WEEK_OF_NOV_2[:2]:
        _materialize([dict_readings], mongo_resource, partition_key=key)
    _materialize(
        [dict_readings.to_source_asset(), weekly], mongo_resource, partition_key="2026-11-02"
    )
    assert [len(seen[key]) for key in WEEK_OF_NOV_2] == [3, 3, 0, 0, 0, 0, 0]
    first = seen[WEEK_OF_NOV_2[0]][0]
    assert "_id" not in first and first["partition_key"] == WEEK_OF_NOV_2[0]
    assert first["sensor"] == "s0" and first["day"] == WEEK_OF_NOV_2[0]


def test_matching_loads_only_the_documents_that_match(mongo_resource: MongoResource) -> None:
    seen: list[list[dict[str, Any]]] = []

    @dg.asset(
        partitions_def=DAYS,
        ins={"dict_readings": dg.AssetIn(metadata={MATCHING: {"sensor": "s1"}})},
    )
    def only_s1(dict_readings: list[dict[str, Any]]) -> None:
        seen.append(dict_readings)

    _materialize([dict_readings], mongo_resource, partition_key="2026-11-09")
    _materialize(
        [dict_readings.to_source_asset(), only_s1], mongo_resource, partition_key="2026-11-09"
    )
    assert [doc["sensor"] for doc in seen[0]] == ["s1"]


def test_a_partition_larger_than_a_batch_is_written_whole_with_one_preview(
    mongo_resource: MongoResource, db: Database[dict]
) -> None:
    count = INSERT_BATCH * 2 + 7

    @dg.asset(partitions_def=DAYS, metadata={NATURAL_KEY: ["sensor"]})
    def many_readings(context: dg.AssetExecutionContext) -> list[Reading]:
        return [Reading.model_validate(r) for r in _readings(context.partition_key, count)]

    result = _materialize([many_readings], mongo_resource, partition_key="2026-11-09")
    metadata = _row_count(result, "many_readings")
    assert metadata["documents_written"].value == count
    assert db["many_readings"].count_documents({"partition_key": "2026-11-09"}) == count
    manifest = db[MANIFEST_COLLECTION].find_one({"_id": "many_readings:2026-11-09"})
    assert manifest is not None and manifest["documents"] == count
    assert metadata["preview"].value.count("\n") == 2 + 4  # header, rule, five rows
