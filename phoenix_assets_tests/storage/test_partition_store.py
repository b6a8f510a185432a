"""The storage contract's queries that assets share, against a real MongoDB wire server:
whether a store holds anything, an append-only day's documents, and the latest record
of each source id within a window."""

from pymongo.database import Database

from phoenix_assets.storage.partition_store import (
    days_filter,
    holds_anything,
    latest_by_source_id,
    partition_documents,
)

RAW = "raw_maricopa_parcels"


def _raw(source_id: str, day: str, value: int) -> dict[str, object]:
    return {
        "_id": f"maricopa:{source_id}:{day}",
        "source_id": source_id,
        "partition_key": day,
        "value": value,
    }


def test_a_store_holds_anything_once_one_document_is_stored(db: Database[dict]) -> None:
    assert not holds_anything(db, RAW)
    db[RAW].insert_one(_raw("100-01-001", "2026-11-17", 1))
    assert holds_anything(db, RAW)


def test_an_append_only_days_documents_are_that_day_only(db: Database[dict]) -> None:
    db[RAW].insert_many(
        [_raw("A", "2026-11-16", 1), _raw("A", "2026-11-17", 2), _raw("B", "2026-11-17", 3)]
    )
    day = list(partition_documents(db, RAW, "2026-11-17", {"source_id": 1, "_id": 0}))
    assert sorted(doc["source_id"] for doc in day) == ["A", "B"]
    assert list(partition_documents(db, RAW, "2026-11-18")) == []


def test_the_latest_record_of_each_source_id_within_the_window(db: Database[dict]) -> None:
    db[RAW].insert_many(
        [
            _raw("A", "2026-10-01", 0),  # before the window
            _raw("A", "2026-11-10", 1),
            _raw("A", "2026-11-15", 2),  # A's latest in the window
            _raw("A", "2026-11-17", 3),  # the day itself: not before it
            _raw("B", "2026-11-12", 4),
            _raw("C", "2026-11-14", 5),  # not asked for
        ]
    )
    latest = latest_by_source_id(db, RAW, {"A", "B", "D"}, since="2026-11-01", before="2026-11-17")
    assert {key: doc["value"] for key, doc in latest.items()} == {"A": 2, "B": 4}


def test_one_day_is_an_equality_and_several_an_in() -> None:
    assert days_filter(["2026-11-17"]) == "2026-11-17"
    assert days_filter(["2026-11-16", "2026-11-17"]) == {"$in": ["2026-11-16", "2026-11-17"]}
