"""The Assessor at metro scale, day after day, against the fake Assessor and a real Mongo
inventory: search rotation, listed parcels first, large ZIPs paged across days."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pymongo.database import Database

from phoenix_assets.sources.collection import CollectionResult
from phoenix_assets.sources.maricopa.inventory import next_search_due
from phoenix_assets.storage.parcel_inventory import (
    PARCEL_INVENTORY,
    ZIP_SEARCHES,
)
from phoenix_assets_tests.sources.fake_maricopa import (
    FakeMaricopa,
    collect_day,
    compact,
    make_apn,
    parcel_fixture,
)

DAY = dt.date(2026, 11, 19)
ZIPS = ["85018", "85033", "85031"]


def day(offset: int) -> str:
    return (DAY + dt.timedelta(days=offset)).isoformat()


def parcels_asked(fake: FakeMaricopa, since: int) -> list[str]:
    """APNs whose ``/parcel/{apn}`` was asked since request ``since``, in order."""
    return [
        r.path.split("/")[2]
        for r in fake.requests[since:]
        if r.path.count("/") == 2 and r.path.startswith("/parcel/")
    ]


def run_day(
    fake: FakeMaricopa,
    db: Database[dict],
    offset: int,
    zips: list[str] = ZIPS,
    listed: Mapping[str, str] | None = None,
    **settings: Any,
) -> tuple[CollectionResult, int]:
    """One day as the asset runs it: collect, then record what was stored. Returns the
    result and the requests the fake Assessor received."""
    before = len(fake.requests)
    result = collect_day(fake, db, zips, day=day(offset), listed=listed, **settings)
    return result, len(fake.requests) - before


def test_the_next_day_on_an_unchanged_county_costs_a_small_fraction(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    for zip_code in ZIPS:
        fake.add_zip(zip_code, 60)
    first, first_requests = run_day(fake, db, 0)
    assert first.counts["zips_searched"] == 3 and first.counts["fetched_new"] == 180
    assert first_requests == 3 * 3 + 180  # 3 pages a ZIP, one /parcel call a parcel

    second, second_requests = run_day(fake, db, 1)
    # No ZIP is due inside its rotation, nothing is new, nothing stale.
    assert second.counts["zips_due"] == 0 and second.counts["search_pages"] == 0
    assert second.records == [] and second_requests == 0
    assert second.counts["backlog_parcels"] == 180

    # The first passes are spread: about one ZIP in every_days/3 days, not all on day 30.
    due = sorted(d["due_on"] for d in db[ZIP_SEARCHES].find())
    assert due == [day(10), day(20), day(30)]
    third, third_requests = run_day(fake, db, 10)
    assert third.counts["zips_searched"] == 1 and third_requests == 3
    assert db[ZIP_SEARCHES].find_one({"_id": ZIPS[0]})["due_on"] == day(40)


def test_a_listed_parcel_is_fetched_the_same_day_when_the_budget_is_nearly_spent(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    for zip_code in ZIPS:
        fake.add_zip(zip_code, 60)
    first, _ = run_day(fake, db, 0, daily_request_budget=30)  # searches, some parcels
    assert first.counts["backlog_never_fetched"] > 100  # a county still being fetched
    # A home is listed on day 1; its parcel is new to the Assessor's search too.
    listed_apn = fake.add_parcel(ZIPS[1], parcel_fixture(make_apn(ZIPS[1], 900), ZIPS[1], 900))
    since = len(fake.requests)
    result, requests = run_day(fake, db, 1, listed={listed_apn: ZIPS[1]}, daily_request_budget=4)
    assert requests == 4
    # Asked before anything else of the day.
    assert fake.requests[since].path == f"/parcel/{compact(listed_apn)}"
    record = next(r for r in result.records if r.source_id == listed_apn)
    assert record.zip_code == ZIPS[1] and record.payload["parcel"]["APN"] == listed_apn
    assert result.counts["fetched_listed"] == 1 and result.counts["listed"] == 1

    # Fresh the next day: the listing pointing at it again costs nothing.
    since = len(fake.requests)
    again, _ = run_day(fake, db, 2, listed={listed_apn: ZIPS[1]}, daily_request_budget=1)
    assert again.counts["listed_fresh"] == 1 and again.counts["fetched_listed"] == 0
    assert compact(listed_apn) not in parcels_asked(fake, since)


def test_a_zip_larger_than_a_days_budget_is_listed_over_several_days(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    apns = fake.add_zip(ZIPS[0], 25 * 12 + 7)  # 13 pages
    pages_per_day = []
    offset = 0
    while offset < 10:
        result, _ = run_day(fake, db, offset, zips=ZIPS[:1], daily_request_budget=10)
        pages_per_day.append(result.counts["search_pages"])
        if result.counts["zips_searched"]:
            break
        assert result.counts["zips_search_continued"] == 1
        offset += 1
    # Half of each day's 10 requests search (5 pages), the rest fetch parcels.
    assert pages_per_day == [5, 5, 3]
    stored = {d["_id"] for d in db[PARCEL_INVENTORY].find({"zip_code": ZIPS[0]})}
    assert stored == set(apns)
    pages = [int(r.query["page"]) for r in fake.search_requests(ZIPS[0])]
    assert pages == list(range(1, 14))  # each page once, resumed where the day before ended


def test_a_changed_search_row_outranks_a_merely_old_parcel(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    apns = fake.add_zip(ZIPS[0], 10)
    run_day(fake, db, 0, zips=ZIPS[:1], stale_after_days=5)
    # A sale: the owner in the search row changes; the county is re-searched on day 10.
    sold = apns[3]
    hit = fake.hits_by_zip[ZIPS[0]][3]
    hit["Ownership"] = "NEW OWNER LLC"
    db[ZIP_SEARCHES].update_one({"_id": ZIPS[0]}, {"$set": {"due_on": day(10)}})
    since = len(fake.requests)
    # One request at a time: the order the server sees is the order the run chose.
    result, _ = run_day(
        fake, db, 10, zips=ZIPS[:1], stale_after_days=5, daily_request_budget=3, max_concurrency=1
    )
    assert result.counts["inventory_changed"] == 1
    # One page searched, then the changed parcel before the ten stale ones.
    assert parcels_asked(fake, since) == [compact(sold), compact(apns[0])]
    assert result.counts["fetched_changed"] == 1 and result.counts["fetched_stale"] == 1
    assert result.counts["backlog_stale"] == 10


def test_a_rerun_of_a_day_decides_as_its_first_run(fake: FakeMaricopa, db: Database[dict]) -> None:
    for zip_code in ZIPS[:2]:
        fake.add_zip(zip_code, 30)
    run_day(fake, db, 0, zips=ZIPS[:2], daily_request_budget=20)
    first, _ = run_day(fake, db, 1, zips=ZIPS[:2], daily_request_budget=20)
    rerun, _ = run_day(fake, db, 1, zips=ZIPS[:2], daily_request_budget=20)
    assert [r.source_id for r in rerun.records] == [r.source_id for r in first.records]
    assert len(first.records) == 20


def test_first_passes_are_spread_over_the_rotation() -> None:
    dues = [
        next_search_due("2026-01-01", 30, first_pass=True, index=i, count=150) for i in range(150)
    ]
    per_day: dict[str, int] = {}
    for due in dues:
        per_day[due] = per_day.get(due, 0) + 1
    assert len(per_day) == 30 and set(per_day.values()) == {5}
    assert next_search_due("2026-01-01", 30, first_pass=False, index=0, count=150) == "2026-01-31"
