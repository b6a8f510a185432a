"""Raw retention against the real test MongoDB: plan, drop, and never touch derived data."""

import datetime as dt
from typing import Any

import pytest
from pymongo.database import Database

from phoenix_assets.settings import ConfigError
from phoenix_assets.storage.partition_store import MANIFEST_COLLECTION, replace_partitions
from phoenix_assets.storage.retention import (
    RAW_COLLECTIONS,
    RetentionReport,
    apply_retention,
    demo_raw_retention_days,
    enforce_raw_retention,
    plan_retention,
    raw_retention_days,
)

TODAY = dt.date(2026, 11, 25)
DAYS_KEPT = 400
CUTOFF = (TODAY - dt.timedelta(days=DAYS_KEPT)).isoformat()  # 2025-10-21
OLD = ["2025-01-10", "2025-10-20"]  # before the cutoff
RECENT = [CUTOFF, "2026-11-24"]  # the cutoff day itself is kept
# Documents per partition, different for each collection so a mix-up shows.
SIZES = {"raw_demo_listings": 4, "raw_maricopa_parcels": 3, "raw_mls_listings": 2}
DERIVED = ["property_snapshots", "daily_market_summary"]


def _documents(collection: str, key: str, count: int) -> list[dict[str, Any]]:
    return [
        {"_id": f"{collection}:{i}:{key}", "partition_key": key, "zip_code": "85018", "n": i}
        for i in range(count)
    ]


@pytest.fixture
def seeded(db: Database[dict]) -> Database[dict]:
    """Old and recent partitions of every raw collection and of derived data, through the
    partition store's own write path (documents plus manifest entries)."""
    for collection, size in SIZES.items():
        for key in OLD + RECENT:
            replace_partitions(db, collection, [key], _documents(collection, key, size))
    # An old day stored empty (a disabled source): a manifest entry and no documents.
    replace_partitions(db, "raw_mls_listings", ["2024-12-01"], [])
    # An old day whose write died before its manifest entry: documents and no entry.
    db["raw_maricopa_parcels"].insert_many(_documents("raw_maricopa_parcels", "2024-11-30", 5))
    for collection in DERIVED:
        for key in OLD + RECENT:
            replace_partitions(db, collection, [key], _documents(collection, key, 6))
    return db


def _state(db: Database[dict]) -> dict[str, list[Any]]:
    names = [*RAW_COLLECTIONS, *DERIVED, MANIFEST_COLLECTION]
    return {
        name: sorted(
            (doc["_id"], doc.get("partition_key")) for doc in db[name].find({}, {"written_at": 0})
        )
        for name in names
    }


def _expected_drop() -> dict[str, tuple[tuple[str, ...], int]]:
    return {
        "raw_demo_listings": (tuple(OLD), SIZES["raw_demo_listings"] * len(OLD)),
        "raw_maricopa_parcels": (
            ("2024-11-30", *OLD),
            5 + SIZES["raw_maricopa_parcels"] * len(OLD),
        ),
        "raw_mls_listings": (("2024-12-01", *OLD), SIZES["raw_mls_listings"] * len(OLD)),
    }


def _by_collection(report: RetentionReport) -> dict[str, tuple[tuple[str, ...], int]]:
    return {part.collection: (part.partitions, part.documents) for part in report.collections}


def test_a_plan_names_the_old_partitions_and_changes_nothing(seeded: Database[dict]) -> None:
    before = _state(seeded)
    for report in (
        plan_retention(seeded, today=TODAY, retention_days=DAYS_KEPT),
        enforce_raw_retention(seeded, today=TODAY, retention_days=DAYS_KEPT, dry_run=True),
    ):
        assert report.dry_run and report.cutoff == CUTOFF
        assert _by_collection(report) == _expected_drop()
        assert {part.oldest_kept for part in report.collections} == {CUTOFF}
        assert report.partitions_dropped == 2 + 3 + 3
        assert report.documents_dropped == 8 + 11 + 4
        assert "would drop 8 partitions, 23 documents" in report.markdown()
    assert _state(seeded) == before


def test_a_real_run_drops_exactly_the_old_raw_partitions(seeded: Database[dict]) -> None:
    derived_before = {name: _state(seeded)[name] for name in DERIVED}
    report = enforce_raw_retention(seeded, today=TODAY, retention_days=DAYS_KEPT, dry_run=False)
    assert not report.dry_run
    assert _by_collection(report) == _expected_drop()
    assert "dropped 8 partitions, 23 documents" in report.markdown()

    for collection, size in SIZES.items():
        kept = sorted(seeded[collection].distinct("partition_key"))
        assert kept == RECENT
        assert seeded[collection].count_documents({}) == size * len(RECENT)
        entries = sorted(
            e["partition_key"] for e in seeded[MANIFEST_COLLECTION].find({"collection": collection})
        )
        assert entries == RECENT
    # Derived data, old days included, and its manifest entries are untouched.
    assert {name: _state(seeded)[name] for name in DERIVED} == derived_before
    for collection in DERIVED:
        marked = seeded[MANIFEST_COLLECTION].count_documents({"collection": collection})
        assert marked == len(OLD + RECENT)


def test_a_second_run_drops_nothing(seeded: Database[dict]) -> None:
    enforce_raw_retention(seeded, today=TODAY, retention_days=DAYS_KEPT, dry_run=False)
    after_first = _state(seeded)
    again = enforce_raw_retention(seeded, today=TODAY, retention_days=DAYS_KEPT, dry_run=False)
    assert again.partitions_dropped == 0 and again.documents_dropped == 0
    assert all(part.partitions == () for part in again.collections)
    assert {part.oldest_kept for part in again.collections} == {CUTOFF}
    assert _state(seeded) == after_first


def test_a_collection_with_nothing_left_reports_no_oldest_kept(db: Database[dict]) -> None:
    replace_partitions(db, "raw_demo_listings", ["2024-01-01"], _documents("d", "2024-01-01", 2))
    report = enforce_raw_retention(db, today=TODAY, retention_days=DAYS_KEPT, dry_run=False)
    (demo,) = [p for p in report.collections if p.collection == "raw_demo_listings"]
    assert demo.partitions == ("2024-01-01",) and demo.documents == 2 and demo.oldest_kept is None
    assert db["raw_demo_listings"].count_documents({}) == 0


def test_only_raw_collections_can_be_dropped(seeded: Database[dict]) -> None:
    plan = plan_retention(
        seeded, today=TODAY, retention_days=DAYS_KEPT, collections=["property_snapshots"]
    )
    assert plan.partitions_dropped == len(OLD)  # planning is harmless...
    with pytest.raises(ValueError, match="only drops raw collections"):
        apply_retention(seeded, plan)  # ...dropping is refused
    assert seeded["property_snapshots"].count_documents({}) == 6 * len(OLD + RECENT)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 400), ("", 400), ("61", 61), (" 730 ", 730)]
)
def test_the_window_setting(value: str | None, expected: int) -> None:
    env = {} if value is None else {"PHOENIX_RAW_RETENTION_DAYS": value}
    assert raw_retention_days(env) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("60", "PHOENIX_RAW_RETENTION_DAYS: 60 must be above 60"),
        ("30", "PHOENIX_RAW_RETENTION_DAYS: 30 must be above 60"),
        ("0", "PHOENIX_RAW_RETENTION_DAYS: 0 is out of range"),
        ("a year", "PHOENIX_RAW_RETENTION_DAYS: 'a year' is not a whole number"),
    ],
)
def test_a_window_within_the_assessor_window_is_refused(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        raw_retention_days({"PHOENIX_RAW_RETENTION_DAYS": value})
    assert message in str(raised.value)


def test_a_collection_with_a_window_of_its_own_is_cut_there_and_only_it(
    seeded: Database[dict],
) -> None:
    windows = {"raw_demo_listings": 30}  # the demo's raw data: a month
    report = enforce_raw_retention(
        seeded, today=TODAY, retention_days=DAYS_KEPT, dry_run=False, windows=windows
    )
    parts = {part.collection: part for part in report.collections}
    demo = parts["raw_demo_listings"]
    assert demo.retention_days == 30 and demo.cutoff == "2026-10-26"
    assert demo.partitions == (*OLD, CUTOFF) and demo.oldest_kept == "2026-11-24"
    assert seeded["raw_demo_listings"].distinct("partition_key") == ["2026-11-24"]
    for name in ("raw_maricopa_parcels", "raw_mls_listings"):
        assert set(OLD) <= set(parts[name].partitions) and parts[name].cutoff == CUTOFF
        assert sorted(seeded[name].distinct("partition_key")) == RECENT
    assert "| raw_demo_listings | 30 | 3 |" in report.markdown()
    # Derived data is never touched, whatever the windows.
    for name in DERIVED:
        assert seeded[name].count_documents({}) == 6 * len(OLD + RECENT)


@pytest.mark.parametrize(("value", "expected"), [(None, 30), ("", 30), ("15", 15), ("400", 400)])
def test_the_demo_window_setting(value: str | None, expected: int) -> None:
    env = {} if value is None else {"PHOENIX_DEMO_RAW_RETENTION_DAYS": value}
    assert demo_raw_retention_days(env) == expected


@pytest.mark.parametrize("value", ["0", "a month", "36501"])
def test_a_demo_window_out_of_range_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="PHOENIX_DEMO_RAW_RETENTION_DAYS"):
        demo_raw_retention_days({"PHOENIX_DEMO_RAW_RETENTION_DAYS": value})
