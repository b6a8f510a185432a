"""Old snapshot days kept as what changed: every day reads back exactly as it was stored.

Real demo snapshots (the domain's own ``build_snapshot`` over the demo feed, which
changes from day to day) are written as the IO manager writes them, compacted, and read
back through every reader: ``read_days``, a ``PartitionReader`` and the IO manager.
"""

import datetime as dt
from typing import Any

import bson
import dagster as dg
import pandas as pd
import pytest
from pymongo.database import Database

from phoenix_assets.domain.adapters import property_from_reso
from phoenix_assets.domain.snapshots import build_snapshot
from phoenix_assets.settings import ConfigError
from phoenix_assets.sources.demo import demo_listings
from phoenix_assets.storage.collection_failures import expected_records
from phoenix_assets.storage.documents import to_document
from phoenix_assets.storage.io_manager import MongoIOManager
from phoenix_assets.storage.listed_parcels import standing_listings
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_reader import PartitionReader
from phoenix_assets.storage.partition_store import (
    MANIFEST_COLLECTION,
    NATURAL_KEY,
    PARTITION_FIELD,
    assign_ids,
    replace_partitions,
)
from phoenix_assets.storage.snapshot_history import (
    COMPACTED,
    PHOENIX_SNAPSHOT_DAILY_DAYS,
    compact_month,
    compact_snapshots,
    compacted_generations,
    count_days,
    history_collection,
    read_days,
    snapshot_daily_days,
    values_on_day,
)

NAME = "property_snapshots"
HISTORY = history_collection(NAME)
ZIPS = ("85003", "85018")
FIRST_DAY = dt.date(2026, 10, 24)
DAYS = [(FIRST_DAY + dt.timedelta(days=n)).isoformat() for n in range(14)]  # to 11-06
OCTOBER = [day for day in DAYS if day.startswith("2026-10")]


def _demo_snapshot(day: dt.date) -> list[dict[str, Any]]:
    """The day's snapshot documents, as the IO manager stores them."""
    listings = [
        property_from_reso(payload, source="demo", day=day)
        for zip_code in ZIPS
        for payload in demo_listings(zip_code, day)
    ]
    documents = [
        to_document(p)
        for p in build_snapshot(day, listings=listings, parcels_today=[], latest_parcels={})
    ]
    assign_ids(
        documents,
        partitions=[day.isoformat()],
        natural_key=["property_id"],
        partition_field="snapshot_date",
        asset=NAME,
    )
    return documents


def _store(db: Database[dict], day: str, documents: list[dict[str, Any]], run_id: str) -> None:
    replace_partitions(db, NAME, [day], [dict(doc) for doc in documents], run_id=run_id)


def _exact(documents: list[dict[str, Any]]) -> list[bytes]:
    """Documents as their BSON bytes, in ``_id`` order: equal means the same fields,
    values, types and field order."""
    return [bson.encode(doc) for doc in sorted(documents, key=lambda d: d["_id"])]


@pytest.fixture(scope="module")
def demo_days() -> dict[str, list[dict[str, Any]]]:
    return {day: _demo_snapshot(dt.date.fromisoformat(day)) for day in DAYS}


@pytest.fixture
def stored(
    db: Database[dict], demo_days: dict[str, list[dict[str, Any]]]
) -> dict[str, list[bytes]]:
    """Every demo day stored whole; returns each day as read back before any compaction."""
    for day, documents in demo_days.items():
        _store(db, day, documents, run_id=f"run-{day}")
    return {day: _exact(read_days(db, NAME, [day])) for day in DAYS}


def test_compacted_days_read_back_exactly_as_stored(
    db: Database[dict], stored: dict[str, list[bytes]]
) -> None:
    results = compact_snapshots(db, NAME, today=dt.date(2026, 11, 6), daily_days=6)
    # Through 10-30: October's stored days, no November day (all within the window).
    assert [r.month for r in results] == ["2026-10"]
    assert results[0].days_compacted == tuple(day for day in OCTOBER if day <= "2026-10-30")
    for day in DAYS:
        assert _exact(read_days(db, NAME, [day])) == stored[day], day
    # Gone from the whole store, and held by one history document a property.
    assert db[NAME].count_documents({"partition_key": "2026-10-24"}) == 0
    assert db[NAME].count_documents({"partition_key": "2026-10-31"}) > 0
    properties = {
        bson.decode(doc)["property_id"] for day in results[0].days_compacted for doc in stored[day]
    }
    assert db[HISTORY].count_documents({}) == len(properties)
    # Most of a day is the day before again: the history is a small part of the whole.
    assert results[0].history_bytes < 0.2 * results[0].whole_bytes
    # The manifest entry keeps its time as a date, and says where the day is kept.
    entry = db[MANIFEST_COLLECTION].find_one({"_id": f"{NAME}:2026-10-24"})
    assert entry is not None and isinstance(entry["written_at"], dt.datetime)
    assert entry[COMPACTED] and entry["documents"] == len(stored["2026-10-24"])


def test_a_month_is_compacted_again_as_its_days_age_and_a_second_pass_does_nothing(
    db: Database[dict], stored: dict[str, list[bytes]]
) -> None:
    first = compact_month(db, NAME, "2026-10", through="2026-10-27")
    assert first is not None and first.days_compacted == tuple(OCTOBER[:4])
    second = compact_month(db, NAME, "2026-10", through="2026-10-31")
    assert second is not None and second.days_compacted == tuple(OCTOBER[4:])
    assert second.days_held == len(OCTOBER)
    assert compact_month(db, NAME, "2026-10", through="2026-10-31") is None
    assert compact_snapshots(db, NAME, today=dt.date(2026, 11, 6), daily_days=6) == []
    # One generation remains, and every day reads as stored.
    assert len(db[HISTORY].distinct("generation")) == 1
    for day in DAYS:
        assert _exact(read_days(db, NAME, [day])) == stored[day], day


def test_a_rerun_of_a_compacted_day_is_read_whole_then_compacted_into_the_month(
    db: Database[dict], stored: dict[str, list[bytes]], demo_days: dict[str, list[dict[str, Any]]]
) -> None:
    compact_month(db, NAME, "2026-10", through="2026-10-31")
    # A re-run of 10-27 stores a different state: one price moved, one property gone.
    rerun = [dict(doc) for doc in demo_days["2026-10-27"]]
    rerun[0]["list_price"] = 123_456.0
    dropped = rerun.pop()
    _store(db, "2026-10-27", rerun, run_id="rerun")
    assert COMPACTED not in (db[MANIFEST_COLLECTION].find_one({"_id": f"{NAME}:2026-10-27"}) or {})
    assert _exact(read_days(db, NAME, ["2026-10-27"])) == _exact(rerun)
    for day in OCTOBER:  # the other days are what they were
        if day != "2026-10-27":
            assert _exact(read_days(db, NAME, [day])) == stored[day], day

    again = compact_month(db, NAME, "2026-10", through="2026-10-31")
    assert again is not None and again.days_compacted == ("2026-10-27",)
    assert _exact(read_days(db, NAME, ["2026-10-27"])) == _exact(rerun)
    assert not read_days(db, NAME, ["2026-10-27"], {"property_id": dropped["property_id"]})
    for day in DAYS:
        if day != "2026-10-27":
            assert _exact(read_days(db, NAME, [day])) == stored[day], day
    assert len(db[HISTORY].distinct("generation")) == 1


def test_filters_projections_and_counts_read_the_same_either_way(
    db: Database[dict], stored: dict[str, list[bytes]]
) -> None:
    day = "2026-10-25"
    query = {"postal_code": "85018", "sources": "demo"}
    projection = {"list_price": 1, "partition_key": 1}
    whole = read_days(db, NAME, [day], query, projection)
    counted = count_days(db, NAME, [day], {"postal_code": "85018"})
    compact_month(db, NAME, "2026-10", through="2026-10-31")
    compacted = read_days(db, NAME, [day], query, projection)
    assert whole and _exact(compacted) == _exact(whole)
    assert set(compacted[0]) == {"_id", "list_price", "partition_key"}
    assert count_days(db, NAME, [day], {"postal_code": "85018"}) == counted > 0
    assert not read_days(db, NAME, [day], {"sources": "mls"})


def test_a_partition_reader_reads_a_compacted_day(
    db: Database[dict], stored: dict[str, list[bytes]]
) -> None:
    compact_month(db, NAME, "2026-10", through="2026-10-31")
    reader = PartitionReader(
        db[NAME],
        ["2026-10-26", "2026-11-02"],
        ["property_id", "list_price"],
        compacted=compacted_generations(db, NAME, ["2026-10-26", "2026-11-02"]),
    )
    for day in ("2026-10-26", "2026-11-02"):
        expected = [
            {"property_id": d["property_id"], "list_price": d["list_price"], "partition_key": day}
            for d in map(bson.decode, stored[day])
        ]
        got = sorted(reader.documents(day), key=lambda d: d["property_id"])
        assert got == sorted(expected, key=lambda d: d["property_id"])


def test_the_io_manager_loads_a_compacted_range_as_it_loaded_it_whole(
    db: Database[dict], stored: dict[str, list[bytes]], mongo_resource: MongoResource
) -> None:
    partitions = dg.DailyPartitionsDefinition(start_date="2026-10-01")

    @dg.asset(
        name=NAME,
        partitions_def=partitions,
        metadata={NATURAL_KEY: ["property_id"], PARTITION_FIELD: "snapshot_date"},
    )
    def upstream() -> None:  # never run: its partitions are already stored
        raise AssertionError

    loaded: list[pd.DataFrame] = []

    @dg.asset(
        partitions_def=partitions,
        ins={
            "snapshots": dg.AssetIn(
                NAME, partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-3)
            )
        },
    )
    def reader(snapshots: pd.DataFrame) -> None:
        loaded.append(snapshots)

    def load() -> pd.DataFrame:
        dg.materialize(
            [upstream, reader],
            selection=[reader],
            partition_key="2026-11-01",
            resources={"io_manager": MongoIOManager(mongo=mongo_resource)},
        )
        frame = loaded.pop()
        return frame.sort_values(["partition_key", "property_id"]).reset_index(drop=True)

    before = load()
    compact_month(db, NAME, "2026-10", through="2026-10-31")
    assert db[NAME].count_documents({"partition_key": "2026-10-29"}) == 0
    pd.testing.assert_frame_equal(load(), before)
    assert sorted(before["partition_key"].unique()) == [
        "2026-10-29",
        "2026-10-30",
        "2026-10-31",
        "2026-11-01",
    ]


def _history_round_trip(db: Database[dict], days: dict[str, list[dict[str, Any]]]) -> None:
    for day, documents in days.items():
        _store(db, day, documents, run_id=f"run-{day}")
    before = {day: _exact(read_days(db, NAME, [day])) for day in days}
    compact_month(db, NAME, "2026-09", through="2026-09-30")
    for day in days:
        assert _exact(read_days(db, NAME, [day])) == before[day], day


def _doc(day: str, **fields: Any) -> dict[str, Any]:
    return {"_id": f"p1:{day}", "property_id": "p1", "partition_key": day, **fields}


def test_what_the_day_does_not_explain_is_stored_exactly(db: Database[dict]) -> None:
    """Values that look like they advance with the day but do not; types that compare
    equal but differ; fields removed, added and reordered; a property away for days."""
    midnight = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    days = {
        "2026-09-01": [
            _doc(
                "2026-09-01",
                first_seen="2026-09-01",
                seen_at=midnight,
                days_on_market=3,
                price=1,
                note="a",
            )
        ],
        # first_seen stays; days_on_market does not move; an int becomes a float.
        "2026-09-02": [
            _doc(
                "2026-09-02",
                first_seen="2026-09-01",
                seen_at=midnight,
                days_on_market=3,
                price=1.0,
                note="a",
            )
        ],
        # away on 09-03 and 09-04; back with a field gone, one added and the order changed.
        "2026-09-05": [
            {
                "property_id": "p1",
                "_id": "p1:2026-09-05",
                "partition_key": "2026-09-05",
                "extra": {"nested": [1, "x"]},
                "first_seen": "2026-09-01",
                "seen_at": midnight + dt.timedelta(days=4),
                "days_on_market": 6,
                "price": 1.0,
            }
        ],
        "2026-09-06": [],  # a day stored empty
    }
    _history_round_trip(db, days)
    assert read_days(db, NAME, ["2026-09-03"]) == []


def test_snapshot_daily_days_is_validated_at_load() -> None:
    assert snapshot_daily_days({}) == 14
    assert snapshot_daily_days({PHOENIX_SNAPSHOT_DAILY_DAYS: "30"}) == 30
    for bad in ("0", "-3", "a week"):
        with pytest.raises(ConfigError, match=PHOENIX_SNAPSHOT_DAILY_DAYS):
            snapshot_daily_days({PHOENIX_SNAPSHOT_DAILY_DAYS: bad})


def test_the_stores_other_readers_read_a_compacted_day_the_same(
    db: Database[dict], stored: dict[str, list[bytes]]
) -> None:
    """The Assessor's standing market, a source's expected records per ZIP and the
    report's source probe, before and after the day before is compacted."""
    day = "2026-10-29"  # its day before, 10-28, is compacted below

    def read() -> tuple[Any, ...]:
        return (
            standing_listings(db, day),
            expected_records(db, "demo", list(ZIPS), day),
            "demo" in values_on_day(db, NAME, "2026-10-28", "sources"),
            "mls" in values_on_day(db, NAME, "2026-10-28", "sources"),
        )

    before = read()
    compact_month(db, NAME, "2026-10", through="2026-10-28")
    assert db[NAME].count_documents({"partition_key": "2026-10-28"}) == 0
    assert read() == before
    assert before[0] and all(before[1].values()) and before[2] and not before[3]
