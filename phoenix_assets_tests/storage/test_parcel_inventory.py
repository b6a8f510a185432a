"""The Assessor's parcel inventory and the day's listed parcels, against the real test
MongoDB server (the ``db`` fixture) through PyMongo."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo.database import Database

from phoenix_assets.sources.maricopa.inventory import ParcelState, Tier, ZipSearch, listed_to_fetch
from phoenix_assets.storage.listed_parcels import LISTING_COLLECTIONS, DayListings
from phoenix_assets.storage.parcel_inventory import (
    PARCEL_INVENTORY,
    ZIP_SEARCHES,
    MongoParcelInventory,
    fetch_days_from_raw,
    seed_from_raw,
)
from phoenix_assets.storage.partition_store import MANIFEST_COLLECTION

A, B = "85018", "85033"
DAY = "2026-11-19"
RAW = "raw_maricopa_parcels"


def day(offset: int) -> str:
    return (dt.date.fromisoformat(DAY) + dt.timedelta(days=offset)).isoformat()


def hit(apn: str, owner: str = "SMITH JOHN", zip_code: str = A) -> dict[str, Any]:
    return {"APN": apn.replace("-", ""), "Ownership": owner, "PropertyAddressZip": zip_code}


class NoDeletes:
    """Every parcel document seen at a ``snapshot`` must still be there at the test's end:
    the inventory is a cache that only grows."""

    def __init__(self, db: Database[dict]) -> None:
        self.db = db
        self.seen: set[str] = set()

    def ids(self) -> set[str]:
        return {d["_id"] for d in self.db[PARCEL_INVENTORY].find({}, {"_id": 1})}

    def snapshot(self) -> None:
        self.seen |= self.ids()


@pytest.fixture
def kept(db: Database[dict]) -> Iterator[NoDeletes]:
    guard = NoDeletes(db)
    yield guard
    guard.snapshot()  # the end state too, so a test that never snapshots still checks
    missing = guard.seen - guard.ids()
    assert not missing, f"parcel documents deleted: {sorted(missing)}"


@pytest.fixture
def inventory(db: Database[dict], kept: NoDeletes) -> MongoParcelInventory:
    return MongoParcelInventory(db)


def doc(db: Database[dict], apn: str) -> dict[str, Any]:
    found = db[PARCEL_INVENTORY].find_one({"_id": apn})
    assert found is not None, apn
    return found


def found(inventory: MongoParcelInventory, on: str, zip_code: str, *apns: str) -> None:
    """A search page of ``zip_code`` on day ``on`` finding ``apns``."""
    inventory.save_search_page(
        on, ZipSearch(zip_code), [(apn, hit(apn, zip_code=zip_code)) for apn in apns]
    )


# --------------------------------------------------------------------------- search pages


def test_a_search_page_upserts_its_hits_counting_new_and_changed(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    search = ZipSearch(A, next_page=2, pass_started_on=DAY, pass_pages=1, pass_hits=2)
    saved = inventory.save_search_page(
        DAY, search, [("100-10-001", hit("100-10-001")), ("100-10-002", hit("100-10-002"))]
    )
    assert (saved.new, saved.changed) == (2, 0)
    first = doc(db, "100-10-001")
    assert first["zip_code"] == A and first["hit"] == hit("100-10-001")
    assert first["first_seen_on"] == first["last_seen_on"] == DAY
    assert "hit_changed_on" not in first and len(first["hit_fingerprint"]) == 16
    kept.snapshot()

    # The next pass: one row identical, one changed (a sale), one parcel new.
    later = day(30)
    saved = inventory.save_search_page(
        later,
        ZipSearch(A),
        [
            ("100-10-001", hit("100-10-001")),
            ("100-10-002", hit("100-10-002", owner="NEW OWNER LLC")),
            ("100-10-003", hit("100-10-003")),
        ],
    )
    assert (saved.new, saved.changed) == (1, 1)
    same, changed, new = (doc(db, f"100-10-00{i}") for i in (1, 2, 3))
    assert "hit_changed_on" not in same and same["last_seen_on"] == later
    assert same["first_seen_on"] == DAY
    assert changed["hit_changed_on"] == later and changed["hit"]["Ownership"] == "NEW OWNER LLC"
    assert (
        changed["first_seen_on"] == DAY and changed["hit_fingerprint"] != first["hit_fingerprint"]
    )
    assert new["first_seen_on"] == later and "hit_changed_on" not in new
    # Saving the identical page again changes nothing more.
    again = inventory.save_search_page(
        later, ZipSearch(A), [("100-10-002", hit("100-10-002", owner="NEW OWNER LLC"))]
    )
    assert (again.new, again.changed) == (0, 0)
    kept.snapshot()


def test_a_parcel_known_from_its_fetch_is_neither_new_nor_changed_when_found(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    inventory.record_fetches(day(-5), [("100-10-001", A)])
    kept.snapshot()
    saved = inventory.save_search_page(DAY, ZipSearch(A), [("100-10-001", hit("100-10-001"))])
    assert (saved.new, saved.changed) == (0, 0)
    stored = doc(db, "100-10-001")
    assert stored["hit"] == hit("100-10-001") and stored["fetched_on"] == day(-5)
    assert "hit_changed_on" not in stored


def test_a_parcel_no_longer_found_keeps_its_document(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    found(inventory, DAY, A, "100-10-001", "100-10-002")
    kept.snapshot()
    found(inventory, day(30), A, "100-10-002")
    assert doc(db, "100-10-001")["last_seen_on"] == DAY
    assert doc(db, "100-10-002")["last_seen_on"] == day(30)


def test_zip_search_state_round_trips(db: Database[dict], inventory: MongoParcelInventory) -> None:
    assert inventory.zip_searches([A, B]) == {A: ZipSearch(A), B: ZipSearch(B)}
    in_progress = ZipSearch(
        A,
        completed_on=day(-30),
        due_on=DAY,
        next_page=5,
        pass_started_on=DAY,
        pass_pages=4,
        pass_hits=100,
        last_page=["100-10-001", "100-10-002"],
    )
    saved = inventory.save_search_page(DAY, in_progress, [])
    assert (saved.new, saved.changed) == (0, 0)
    searches = MongoParcelInventory(db).zip_searches([A, B])
    assert searches == {A: in_progress, B: ZipSearch(B)}
    assert searches[A].in_progress and not searches[B].in_progress
    # The pass completes: the state is replaced, not merged with what it was.
    done = ZipSearch(A, completed_on=DAY, due_on=day(30))
    inventory.save_search(done)
    assert inventory.zip_searches([A]) == {A: done}
    assert db[ZIP_SEARCHES].count_documents({}) == 1


# --------------------------------------------------------------------------- fetches


def test_record_fetches_keeps_the_latest_two_days(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    apn = "100-10-001"
    assert inventory.record_fetches(DAY, []) == 0
    assert inventory.record_fetches(day(-20), [(apn, A)]) == 1
    stored = doc(db, apn)  # unknown until now: added with its ZIP
    assert (stored["zip_code"], stored["fetched_on"], stored["first_seen_on"]) == (
        A,
        day(-20),
        day(-20),
    )
    assert "fetched_before_on" not in stored
    kept.snapshot()
    inventory.record_fetches(day(-10), [(apn, A)])
    inventory.record_fetches(DAY, [(apn, A)])
    stored = doc(db, apn)
    assert (stored["fetched_on"], stored["fetched_before_on"]) == (DAY, day(-10))
    # A re-run of the same day, or of an older one, keeps the latest two.
    inventory.record_fetches(DAY, [(apn, A)])
    inventory.record_fetches(day(-20), [(apn, A)])
    stored = doc(db, apn)
    assert (stored["fetched_on"], stored["fetched_before_on"]) == (DAY, day(-10))

    state = inventory.parcels([apn, "999-99-999"])
    assert list(state) == [apn]
    assert state[apn].fetched_before(DAY) == day(-10)  # sees through the day's own fetch
    assert state[apn].fetched_before(day(1)) == DAY
    assert state[apn].fetched_before(day(-10)) is None
    assert inventory.parcels([]) == {}


def test_parcel_state_fetched_before_and_changed_since_fetched() -> None:
    state = ParcelState("100-10-001", A, fetched_on=DAY, fetched_before_on=day(-40))
    assert state.fetched_before(DAY) == day(-40)
    assert state.fetched_before(day(1)) == DAY
    assert ParcelState("100-10-001", A).fetched_before(DAY) is None
    changed = ParcelState("x", A, fetched_on=day(-40), hit_changed_on=day(-1))
    assert changed.changed_since_fetched(DAY)
    assert not changed.changed_since_fetched(day(-2))  # the change is after that day
    assert not ParcelState("x", A, hit_changed_on=day(-1)).changed_since_fetched(DAY)
    before = ParcelState("x", A, fetched_on=day(-1), hit_changed_on=day(-5))
    assert not before.changed_since_fetched(DAY)


# --------------------------------------------------------------------------- candidates


def test_new_candidates_are_the_never_fetched_by_when_they_were_found(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    found(inventory, day(-3), A, "100-10-009", "100-10-005")
    found(inventory, day(-1), A, "100-10-001")
    found(inventory, day(-1), B, "200-10-001")  # another ZIP
    found(inventory, day(-2), A, "100-10-007")
    inventory.record_fetches(day(-1), [("100-10-005", A)])  # fetched before the day
    inventory.record_fetches(DAY, [("100-10-007", A)])  # fetched by a run of the day itself
    kept.snapshot()
    stale_before = day(-30)
    new = inventory.candidates(Tier.NEW, [A], DAY, stale_before, 10)
    assert [s.apn for s in new] == ["100-10-009", "100-10-007", "100-10-001"]
    assert all(s.zip_code == A and s.hit is not None for s in new)
    # Over ZIPs, one ZIP after another: a ZIP being discovered cannot starve the others.
    limited = inventory.candidates(Tier.NEW, [A, B], DAY, stale_before, 2)
    assert [s.apn for s in limited] == ["100-10-009", "200-10-001"]
    both = inventory.candidates(Tier.NEW, [A, B], DAY, stale_before, 10)
    assert [s.apn for s in both] == ["100-10-009", "200-10-001", "100-10-007", "100-10-001"]
    assert inventory.candidates(Tier.NEW, [A], DAY, stale_before, 0) == []


def test_stale_candidates_are_the_stalest_first(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    for apn, ago in (
        ("100-10-001", 45),
        ("100-10-002", 400),
        ("100-10-003", 30),
        ("100-10-004", 3),
    ):
        inventory.record_fetches(day(-ago), [(apn, A)])
    inventory.record_fetches(day(-90), [("200-10-001", B)])
    # Stale as the day knew it, though a run of the day already fetched it again.
    inventory.record_fetches(day(-60), [("100-10-005", A)])
    inventory.record_fetches(DAY, [("100-10-005", A)])
    kept.snapshot()
    stale_before = day(-30)  # fetched exactly 30 days ago: not yet stale
    stale = inventory.candidates(Tier.STALE, [A, B], DAY, stale_before, 10)
    assert [s.apn for s in stale] == ["100-10-002", "200-10-001", "100-10-005", "100-10-001"]
    assert [s.fetched_before(DAY) for s in stale] == [day(-400), day(-90), day(-60), day(-45)]
    limited = inventory.candidates(Tier.STALE, [A], DAY, stale_before, 2)
    assert [s.apn for s in limited] == ["100-10-002", "100-10-005"]
    # The next day, the parcel re-fetched is fresh and the one fetched 31 days before stale.
    tomorrow = inventory.candidates(Tier.STALE, [A], day(1), day(-29), 10)
    assert [s.apn for s in tomorrow] == ["100-10-002", "100-10-001", "100-10-003"]


def test_changed_candidates_are_rows_changed_since_their_fetch(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    apns = [f"100-10-00{i}" for i in range(1, 6)]
    found(inventory, day(-40), A, *apns)
    inventory.record_fetches(day(-35), [(apn, A) for apn in apns[:4]])
    # Later passes: rows 1 and 2 change on different days, row 4 changes before a
    # re-fetch, row 5 (never fetched) changes too.
    changes = {apns[1]: day(-2), apns[0]: day(-1), apns[3]: day(-20), apns[4]: day(-2)}
    for apn, on in changes.items():
        inventory.save_search_page(on, ZipSearch(A), [(apn, hit(apn, owner=f"OWNER {on}"))])
    inventory.record_fetches(day(-10), [(apns[3], A)])
    kept.snapshot()
    stale_before = day(-30)
    changed = inventory.candidates(Tier.CHANGED, [A], DAY, stale_before, 10)
    assert [s.apn for s in changed] == [apns[1], apns[0]]  # by when they changed
    assert [s.hit_changed_on for s in changed] == [day(-2), day(-1)]
    assert [s.apn for s in inventory.candidates(Tier.CHANGED, [A], DAY, stale_before, 1)] == [
        apns[1]
    ]
    assert inventory.candidates(Tier.CHANGED, [B], DAY, stale_before, 10) == []
    # Seen from the day before the first change: nothing had changed yet.
    assert inventory.candidates(Tier.CHANGED, [A], day(-3), day(-33), 10) == []
    # The never-fetched changed row is new, not changed.
    assert apns[4] in {s.apn for s in inventory.candidates(Tier.NEW, [A], DAY, stale_before, 10)}
    with pytest.raises(ValueError, match="listings"):
        inventory.candidates(Tier.LISTED, [A], DAY, stale_before, 10)


def test_backlog_counts_parcels_never_fetched_and_stale(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    found(inventory, day(-50), A, *(f"100-10-00{i}" for i in range(1, 7)))
    found(inventory, day(-50), B, "200-10-001", "200-10-002")
    inventory.record_fetches(day(-45), [("100-10-001", A), ("100-10-002", A), ("200-10-001", B)])
    inventory.record_fetches(day(-5), [("100-10-003", A)])
    inventory.record_fetches(DAY, [("100-10-001", A), ("100-10-004", A)])  # the day's own run
    kept.snapshot()
    backlog = inventory.backlog([A], DAY, day(-30))
    # Never fetched before the day: 4 (fetched today only), 5, 6. Stale: 1 (seen through
    # today's fetch), 2.
    assert (backlog.parcels, backlog.never_fetched, backlog.stale) == (6, 3, 2)
    both = inventory.backlog([A, B], DAY, day(-30))
    assert (both.parcels, both.never_fetched, both.stale) == (8, 4, 3)
    empty = inventory.backlog(["85999"], DAY, day(-30))
    assert (empty.parcels, empty.never_fetched, empty.stale) == (0, 0, 0)


# --------------------------------------------------------------------------- seeding from raw


def raw(apn: str, zip_code: str, partition_key: str) -> dict[str, Any]:
    return {
        "_id": f"{apn}:{partition_key}",
        "source_id": apn,
        "zip_code": zip_code,
        "partition_key": partition_key,
        "payload": {"parcel": {"APN": apn}},
    }


def test_seed_from_raw_fills_the_fetch_days_of_an_empty_inventory(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    db[RAW].insert_many(
        [
            raw("100-10-001", A, day(-60)),
            raw("100-10-001", A, day(-1)),
            raw("100-10-001", A, day(-30)),
            raw("200-10-001", B, day(-7)),
            {"_id": "junk", "source_id": None, "zip_code": A, "partition_key": DAY},
        ]
    )
    days = fetch_days_from_raw(db, RAW)
    assert {apn: (zip_code, sorted(on)) for apn, (zip_code, on) in days.items()} == {
        "100-10-001": (A, [day(-60), day(-30), day(-1)]),
        "200-10-001": (B, [day(-7)]),
    }
    assert seed_from_raw(inventory, RAW) == 2
    first = doc(db, "100-10-001")
    assert (first["fetched_on"], first["fetched_before_on"], first["first_seen_on"]) == (
        day(-1),
        day(-30),
        day(-60),
    )
    second = doc(db, "200-10-001")
    assert (second["zip_code"], second["fetched_on"]) == (B, day(-7))
    assert "fetched_before_on" not in second
    kept.snapshot()
    # Seeded parcels count as fetched: not new, stale when old enough.
    assert inventory.candidates(Tier.NEW, [A, B], DAY, day(-30), 10) == []
    assert [s.apn for s in inventory.candidates(Tier.STALE, [A, B], day(30), DAY, 10)] == [
        "200-10-001",  # fetched on day -7
        "100-10-001",  # fetched on day -1
    ]

    # Once the inventory knows fetches, seeding again does nothing.
    db[RAW].insert_one(raw("300-10-001", A, DAY))
    db[RAW].insert_one(raw("100-10-001", A, DAY))
    assert seed_from_raw(inventory, RAW) == 0
    assert db[PARCEL_INVENTORY].find_one({"_id": "300-10-001"}) is None
    assert doc(db, "100-10-001")["fetched_on"] == day(-1)
    assert db[RAW].count_documents({}) == 7  # the raw store is only read


def test_seed_from_raw_does_nothing_when_fetch_days_exist(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    inventory.record_fetches(day(-2), [("100-10-009", A)])
    db[RAW].insert_many([raw("100-10-001", A, day(-60)), raw("100-10-009", A, day(-90))])
    kept.snapshot()
    assert seed_from_raw(inventory, RAW) == 0
    assert db[PARCEL_INVENTORY].count_documents({}) == 1
    assert doc(db, "100-10-009")["fetched_on"] == day(-2)


def test_seed_from_raw_keeps_search_rows_already_stored(
    db: Database[dict], inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    found(inventory, day(-3), A, "100-10-001", "100-10-002")  # searched, never fetched
    db[RAW].insert_one(raw("100-10-001", A, day(-40)))
    kept.snapshot()
    assert seed_from_raw(inventory, RAW) == 1
    stored = doc(db, "100-10-001")
    assert stored["hit"] == hit("100-10-001") and stored["fetched_on"] == day(-40)
    assert [s.apn for s in inventory.candidates(Tier.NEW, [A], DAY, day(-30), 10)] == ["100-10-002"]


# --------------------------------------------------------------------------- the day's listings


def listing(apn: Any, zip_code: Any, partition_key: str, source_id: str) -> dict[str, Any]:
    return {
        "_id": f"{source_id}:{partition_key}",
        "source_id": source_id,
        "zip_code": zip_code,
        "partition_key": partition_key,
        "payload": {"ListingKey": source_id, "ParcelNumber": apn},
    }


def mark(db: Database[dict], collection: str, on: str, run_id: str) -> None:
    db[MANIFEST_COLLECTION].update_one(
        {"_id": f"{collection}:{on}"},
        {"$set": {"run_id": run_id, "written_at": dt.datetime.now(dt.UTC)}},
        upsert=True,
    )


def test_day_listings_are_the_normalized_apns_of_the_days_listings(db: Database[dict]) -> None:
    demo, mls = LISTING_COLLECTIONS
    db[demo].insert_many(
        [
            listing("173-35-524", A, DAY, "d1"),
            listing("17335525a", A, DAY, "d2"),  # compact, lower case split letter
            listing("173.35.526", B, DAY, "d3"),
            listing("173-35-527", A, day(-1), "d4"),  # another day
            listing(None, A, DAY, "d5"),  # no parcel number
            listing("173-35-528", None, DAY, "d6"),  # no ZIP
        ]
    )
    db[mls].insert_many(
        [
            listing("173 35 529", B, DAY, "m1"),
            listing("173-35-524", B, DAY, "m2"),  # the same parcel: the first ZIP stays
            listing("173-35-530", A, day(1), "m3"),  # another day
        ]
    )
    db[mls].insert_one({"_id": "m4", "zip_code": A, "partition_key": DAY, "payload": "text"})
    listed = DayListings(db, DAY)()
    assert listed == {
        "173-35-524": A,
        "173-35-525A": A,
        "173-35-526": B,
        "173-35-529": B,
    }
    assert DayListings(db, day(-1))() == {"173-35-527": A}
    assert DayListings(db, day(-2))() == {}


def test_day_listings_are_read_again_only_when_the_manifest_changes(db: Database[dict]) -> None:
    demo, mls = LISTING_COLLECTIONS
    db[demo].insert_one(listing("173-35-524", A, DAY, "d1"))
    mark(db, demo, DAY, "run-1")
    listed = DayListings(db, DAY)
    assert listed() == {"173-35-524": A}

    # A document appears without a manifest change (a partition being written): not read.
    db[demo].insert_one(listing("173-35-525", A, DAY, "d2"))
    db[mls].insert_one(listing("173-35-526", B, DAY, "m1"))
    assert listed() == {"173-35-524": A}
    # Another day's manifest entry is not this day's.
    mark(db, mls, day(1), "run-x")
    assert listed() == {"173-35-524": A}

    # The incremental source marks the day: both collections are read again.
    mark(db, mls, DAY, "run-2")
    assert listed() == {"173-35-524": A, "173-35-525": A, "173-35-526": B}
    db[demo].delete_one({"_id": f"d1:{DAY}"})
    assert listed() == {"173-35-524": A, "173-35-525": A, "173-35-526": B}
    # A new run of the whole-feed source rewrites its manifest entry: read again.
    mark(db, demo, DAY, "run-3")
    assert listed() == {"173-35-525": A, "173-35-526": B}
    # A written_at alone changing (the same run id writing again) is a change too.
    db[demo].insert_one(listing("173-35-531", A, DAY, "d9"))
    db[MANIFEST_COLLECTION].update_one(
        {"_id": f"{demo}:{DAY}"},
        {"$set": {"written_at": dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)}},
    )
    assert "173-35-531" in listed()


def test_day_listings_without_any_manifest_read_once(db: Database[dict]) -> None:
    demo, _ = LISTING_COLLECTIONS
    db[demo].insert_one(listing("173-35-524", A, DAY, "d1"))
    listed = DayListings(db, DAY)
    assert listed() == {"173-35-524": A}
    db[demo].insert_one(listing("173-35-525", A, DAY, "d2"))
    assert listed() == {"173-35-524": A}
    assert DayListings(db, DAY)() == {"173-35-524": A, "173-35-525": A}


def test_the_standing_market_of_the_day_before_is_listed_after_the_days_own_listings(
    db: Database[dict],
) -> None:
    demo, _ = LISTING_COLLECTIONS
    db[demo].insert_one(listing("173-35-524", A, DAY, "d1"))
    snapshot = [
        # Listed the day before, whatever the source: the market standing on the day.
        {
            "_id": "s1",
            "partition_key": day(-1),
            "parcel_number": "173-35-600",
            "postal_code": B,
            "standard_status": "Active",
        },
        {
            "_id": "s2",
            "partition_key": day(-1),
            "parcel_number": "173-35-524",
            "postal_code": A,
            "standard_status": "Pending",
        },
        # An off-market parcel (the Assessor's own) and another day: not listed.
        {
            "_id": "s3",
            "partition_key": day(-1),
            "parcel_number": "173-35-601",
            "postal_code": A,
            "standard_status": None,
        },
        {
            "_id": "s4",
            "partition_key": day(-2),
            "parcel_number": "173-35-602",
            "postal_code": A,
            "standard_status": "Active",
        },
    ]
    db["property_snapshots"].insert_many(snapshot)
    listed = DayListings(db, DAY)()
    assert list(listed.items()) == [("173-35-524", A), ("173-35-600", B)]


def test_an_apn_the_assessor_did_not_know_rests_for_the_stale_window(
    inventory: MongoParcelInventory, kept: NoDeletes
) -> None:
    inventory.record_not_found(day(-3), "999-99-901", A)
    found(inventory, day(-3), A, "100-10-001")
    inventory.record_not_found(day(-3), "100-10-001", A)  # a search found it: still a parcel
    kept.snapshot()
    new = inventory.candidates(Tier.NEW, [A], DAY, day(-30), 10)
    assert [s.apn for s in new] == ["100-10-001"]
    listed = {"999-99-901": A}
    known = inventory.parcels(listed)
    assert listed_to_fetch(listed, known, DAY, day(-30)) == ([], 0)
    # Past the stale window the listing's APN is asked again.
    (again,), _ = listed_to_fetch(listed, known, day(40), day(10))
    assert again.apn == "999-99-901"
