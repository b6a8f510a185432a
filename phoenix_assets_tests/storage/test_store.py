"""``PartitionStore``: writing, deleting and reading an asset's partitions through one
object, against the session's MongoDB wire server."""

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient, monitoring
from pymongo.database import Database

import phoenix_assets
from phoenix_assets.storage import partition_store, snapshot_history
from phoenix_assets.storage.partition_store import INSERT_BATCH, MANIFEST_COLLECTION
from phoenix_assets.storage.snapshot_history import compact_month
from phoenix_assets.storage.store import PREVIEW_ROWS, PartitionStore, StoredRecords

DAYS = ["2026-10-01", "2026-10-02", "2026-10-03"]


def _readings(partition_key: str, count: int = 3) -> list[dict[str, Any]]:
    return [{"sensor": f"s{i}", "value": i * 1.5, "day": partition_key} for i in range(count)]


def _store_days(store: PartitionStore, days: list[str], run_id: str = "r1") -> None:
    for day in days:
        store.store(
            [day],
            [{"property_id": name, "price": 100 + n, "day": day} for n, name in enumerate("abc")],
            natural_key=["property_id"],
            partition_field="day",
            asset=store.name,
            run_id=run_id,
        )


# --- a partition stored as it is built (ids announced first) ----------------------------------


def _store_streamed(
    db: Database[dict], records: Iterator[dict[str, Any]], sensors: list[str], seen: list[str]
) -> StoredRecords:
    return PartitionStore(db, "streamed_readings").store(
        ["2026-11-09"],
        records,
        natural_key=["sensor"],
        partition_field="day",
        asset="streamed_readings",
        run_id="r1",
        id_fields=({"sensor": sensor, "day": "2026-11-09"} for sensor in sensors),
        observe=lambda document: seen.append(document["_id"]),
    )


def test_records_announced_by_id_are_read_once_as_they_are_written(db: Database[dict]) -> None:
    count = INSERT_BATCH + 3
    rows = _readings("2026-11-09", count)
    seen: list[str] = []
    stored = _store_streamed(db, iter(rows), [r["sensor"] for r in rows], seen)
    assert stored.written == count and len(stored.preview) == PREVIEW_ROWS
    assert seen == [f"s{i}:2026-11-09" for i in range(count)], "each document observed, in order"
    assert db["streamed_readings"].count_documents({"partition_key": "2026-11-09"}) == count
    manifest = db[MANIFEST_COLLECTION].find_one({"_id": "streamed_readings:2026-11-09"})
    assert manifest is not None and manifest["documents"] == count


@pytest.mark.parametrize(
    ("sensors", "message"),
    [(["s0", "s1"], "was not among the ids announced"), (["s0", "s1", "s2", "s9"], "never came")],
)
def test_records_that_differ_from_the_ids_announced_leave_the_partition_missing(
    db: Database[dict], sensors: list[str], message: str
) -> None:
    seen: list[str] = []
    _store_streamed(db, iter(_readings("2026-11-09")), ["s0", "s1", "s2"], seen)
    with pytest.raises(ValueError, match=message):
        _store_streamed(db, iter(_readings("2026-11-09")), sensors, seen)
    # Never marked complete: readers see the day as missing, and a re-run replaces it.
    assert db[MANIFEST_COLLECTION].find_one({"_id": "streamed_readings:2026-11-09"}) is None
    with pytest.raises(ValueError, match="occur more than once"):
        _store_streamed(db, iter(_readings("2026-11-09")), ["s0", "s0", "s1"], seen)


# --- which partitions were written, and how each is kept ---------------------------------------


def test_written_names_each_complete_partition_and_the_history_generation_of_compacted_ones(
    db: Database[dict],
) -> None:
    store = PartitionStore(db, "priced_items")
    _store_days(store, DAYS)
    whole = list(store.read(DAYS))
    compact_month(db, store.name, "2026-10", through="2026-10-02")
    written = store.written([*DAYS, "2026-10-04"])

    assert sorted(written) == DAYS, "a day never written is not among them"
    assert written["2026-10-03"] is None, "kept whole"
    generations = {written["2026-10-01"], written["2026-10-02"]}
    assert len(generations) == 1 and None not in generations, "both in the month's history"
    assert store.entry("2026-10-01") is not None and store.entry("2026-10-04") is None
    # Read with what ``written`` found, or asking the manifest again: the same documents.
    compacted = {day: gen for day, gen in written.items() if gen}
    key = lambda doc: doc["_id"]  # noqa: E731
    assert sorted(store.read(DAYS, compacted=compacted), key=key) == sorted(whole, key=key)
    assert sorted(store.read(DAYS), key=key) == sorted(whole, key=key)
    assert store.count(DAYS, {"property_id": "b"}) == 3
    assert store.values_on_day("2026-10-01", "property_id") == {"a", "b", "c"}
    reader = store.reader(DAYS, ["price"], compacted=compacted)
    assert [doc["price"] for doc in reader.documents("2026-10-02")] == [100, 101, 102]


def test_an_input_asks_the_manifest_once_whether_its_days_are_stored_and_how(
    mongo_uri: str, database_name: str
) -> None:
    """``written`` then ``read`` with its answer: one manifest query for a range."""
    finds: list[str] = []

    class Finds(monitoring.CommandListener):
        def started(self, event: monitoring.CommandStartedEvent) -> None:
            if event.command_name == "find":
                finds.append(str(event.command["find"]))

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            pass

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            pass

    client: MongoClient[dict] = MongoClient(mongo_uri, event_listeners=[Finds()])
    try:
        store = PartitionStore(client[database_name], "priced_items")
        _store_days(store, DAYS)
        compact_month(client[database_name], store.name, "2026-10", through="2026-10-01")
        finds.clear()
        written = store.written(DAYS)
        compacted = {day: generation for day, generation in written.items() if generation}
        assert len(list(store.read(sorted(written), compacted=compacted))) == 9
        # One for the range; one more by the compacted day's own read, which checks that
        # no compaction moved it meanwhile.
        assert finds.count(MANIFEST_COLLECTION) == 2, finds
        finds.clear()
        written = store.written(DAYS)
        assert len(list(store.read(sorted(written)))) == 9
        assert finds.count(MANIFEST_COLLECTION) == 3, "without it, the range is asked again"
    finally:
        client.close()


# --- deleting ----------------------------------------------------------------------------


def test_delete_drops_the_days_and_their_entries_and_nothing_else(db: Database[dict]) -> None:
    store = PartitionStore(db, "priced_items")
    other = PartitionStore(db, "other_items")
    _store_days(store, DAYS)
    _store_days(other, DAYS[:1])
    db[MANIFEST_COLLECTION].insert_one(  # a day marked empty: only in the manifest
        {
            "_id": "priced_items:2026-10-09",
            "collection": "priced_items",
            "partition_key": "2026-10-09",
        }
    )
    assert store.partition_keys() == {*DAYS, "2026-10-09"}

    assert store.delete(DAYS[:2]) == 6
    assert sorted(store.written(DAYS)) == DAYS[2:]
    assert db["priced_items"].count_documents({}) == 3
    assert store.partition_keys() == {DAYS[2], "2026-10-09"}
    assert sorted(other.written(DAYS)) == DAYS[:1], "another collection's same day stays"
    assert store.delete(DAYS[:2]) == 0, "a second delete finds nothing"


def test_merge_adds_to_a_raw_day_and_marks_it_with_what_it_holds(db: Database[dict]) -> None:
    store = PartitionStore(db, "raw_things")
    first = [
        {"_id": f"{k}:2026-10-01", "partition_key": "2026-10-01", "source_id": k, "v": 1}
        for k in "ab"
    ]
    again = [{"_id": "b:2026-10-01", "partition_key": "2026-10-01", "source_id": "b", "v": 2}]
    assert store.merge("2026-10-01", first, key_field="source_id", run_id="r1") == 0
    assert store.merge("2026-10-01", again, key_field="source_id", run_id="r2") == 1
    day = {doc["source_id"]: doc["v"] for doc in store.day_documents("2026-10-01")}
    assert day == {"a": 1, "b": 2}, "a re-run replaces its own records and keeps the rest"
    entry = store.entries(["2026-10-01"], ["documents", "run_id"])["2026-10-01"]
    assert (entry["documents"], entry["run_id"]) == (2, "r2")
    assert store.holds_anything() and not PartitionStore(db, "never_written").holds_anything()


# --- the one door ------------------------------------------------------------------------------

# The compaction job runs the history's own operation; everything else goes through the store.
_DOOR_EXCEPTIONS = {"compact_snapshots"}


def _database_functions() -> set[str]:
    """The functions of the store's mechanics that take the database or a collection."""
    names = set()
    for module in (partition_store, snapshot_history):
        for name, member in inspect.getmembers(module, inspect.isfunction):
            if member.__module__ != module.__name__:
                continue
            parameters = list(inspect.signature(member).parameters)
            if parameters and parameters[0] in ("db", "collection"):
                names.add(f"{module.__name__}.{name}")
    return names


def test_outside_storage_the_partitions_are_reached_only_through_the_store() -> None:
    forbidden = _database_functions()
    assert "phoenix_assets.storage.partition_store.replace_partitions" in forbidden
    assert "phoenix_assets.storage.snapshot_history.iter_days" in forbidden
    offenders = []
    for info in pkgutil.walk_packages(phoenix_assets.__path__, "phoenix_assets."):
        if info.name.startswith("phoenix_assets.storage."):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if not inspect.isfunction(value) or value.__name__ in _DOOR_EXCEPTIONS:
                continue
            if f"{value.__module__}.{value.__name__}" in forbidden:
                offenders.append(f"{info.name}: {name}")
    assert not offenders, f"use PartitionStore instead: {offenders}"
