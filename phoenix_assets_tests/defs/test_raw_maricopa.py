"""raw_maricopa_parcels as a Dagster asset, against the fake Assessor on 127.0.0.1."""

import datetime as dt
from collections.abc import Callable, Iterator

import dagster as dg
import pytest
from pymongo.database import Database
from pytest_httpserver import HTTPServer

from phoenix_assets.sources.demo import demo_listings
from phoenix_assets.sources.envelope import raw_document
from phoenix_assets.storage.parcel_inventory import PARCEL_INVENTORY, ZIP_SEARCHES
from phoenix_assets_tests.sources.fake_maricopa import TOKEN, FakeMaricopa, parcel_fixture

DAY_1, DAY_2, DAY_3 = "2026-11-17", "2026-11-18", "2026-11-19"
ASSET = dg.AssetKey("raw_maricopa_parcels")
DEMO_ASSET = dg.AssetKey("raw_demo_listings")
# A ZIP no test configures: parcels registered under it are in no configured ZIP's
# search, so only a listing can lead the Assessor to them.
UNSEARCHED = "85099"


@pytest.fixture
def fake(pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMaricopa]:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        fake = FakeMaricopa(server)
        monkeypatch.setenv("PHOENIX_SOURCES", "demo,maricopa")
        monkeypatch.setenv("PHOENIX_ZIP_CODES", "85018,85033")
        monkeypatch.setenv("MARICOPA_API_BASE_URL", fake.base_url)
        monkeypatch.setenv("MARICOPA_API_TOKEN", TOKEN)
        monkeypatch.setenv("MARICOPA_REQUESTS_PER_SECOND", "100")
        monkeypatch.setenv("MARICOPA_MAX_CONCURRENCY", "4")
        yield fake


def _materialize(
    defs: dg.Definitions, day: str, asset: dg.AssetKey = ASSET
) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("daily_pipeline").execute_in_process(
        partition_key=day, asset_selection=[asset], raise_on_error=False
    )


def _date(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def _day(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


def _counts(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    """The run's ``count_*`` metadata, without the prefix."""
    (materialization,) = result.asset_materializations_for_node("raw_maricopa_parcels")
    return {
        key.removeprefix("count_"): value.value
        for key, value in materialization.metadata.items()
        if key.startswith("count_")
    }


def _everything_said(result: dg.ExecuteInProcessResult) -> str:
    """Every event message, metadata value and error text of a run, as one string."""
    parts = []
    for event in result.all_events:
        parts.append(str(event.message))
        data = event.event_specific_data
        materialization = getattr(data, "materialization", None)
        if materialization is not None:
            parts.extend(str(v.value) for v in materialization.metadata.values())
        error = getattr(data, "error", None)
        if error is not None:
            parts.append(error.to_string())
    return "\n".join(parts)


def test_one_zip_failing_leaves_the_other_stored_and_recorded(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    apns = fake.add_zip("85018", 12)
    fake.add_zip("85033", 5)
    fake.inject("html", zip_code="85033")  # the search answers an HTML page at 200
    result = _materialize(load_definitions(), DAY_1)
    assert result.success
    stored = list(db["raw_maricopa_parcels"].find({"partition_key": DAY_1}))
    assert sorted(d["source_id"] for d in stored) == sorted(apns)
    assert all(d["_id"] == f"maricopa:{d['source_id']}:{DAY_1}" for d in stored)
    assert {"parcel", "search"} <= stored[0]["payload"].keys()
    (failure,) = list(db["collection_failures"].find({"partition_key": DAY_1}))
    assert failure["zip_code"] == "85033" and failure["source"] == "maricopa"
    assert failure["kind"] == "html_body"
    (materialization,) = result.asset_materializations_for_node("raw_maricopa_parcels")
    assert materialization.metadata["zip_codes_failed"].value == ["85033"]
    assert materialization.metadata["count_new"].value == 12
    assert TOKEN not in _everything_said(result)


def test_the_next_day_skips_fresh_parcels_and_fetches_new_ones(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Searched again every day: day 2's search finds what the Assessor added since.
    monkeypatch.setenv("MARICOPA_SEARCH_EVERY_DAYS", "1")
    fake.add_zip("85018", 6)
    fake.add_zip("85033", 3)
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    added = fake.add_zip("85018", 2, start=6)
    day_1_requests = len(fake.requests)
    result = _materialize(defs, DAY_2)
    assert result.success
    assert len(fake.search_requests("85018")) == len(fake.search_requests("85033")) == 2
    asked = [r.path for r in fake.requests[day_1_requests:] if r.path.startswith("/parcel/")]
    assert sorted(asked) == sorted(f"/parcel/{apn.replace('-', '')}" for apn in added)
    stored = sorted(
        d["source_id"] for d in db["raw_maricopa_parcels"].find({"partition_key": DAY_2})
    )
    assert stored == sorted(added)  # the fresh parcels were neither asked nor stored
    counts = _counts(result)
    assert counts["zips_searched"] == 2 and counts["inventory_new"] == 2
    assert counts["new"] == counts["fetched_new"] == counts["fetched"] == 2
    assert counts["backlog_parcels"] == 11 and counts["backlog_never_fetched"] == 2
    assert counts["stale"] == counts["changed"] == counts["listed"] == 0
    # Re-running day 2 decides the same way and stores the same documents.
    assert _materialize(defs, DAY_2).success
    again = sorted(
        d["source_id"] for d in db["raw_maricopa_parcels"].find({"partition_key": DAY_2})
    )
    assert again == stored


def test_the_next_day_does_not_search_again_before_its_search_is_due(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    """A ZIP is searched on its first day, then every MARICOPA_SEARCH_EVERY_DAYS (30): its
    first re-search comes 1..30 days later by its place among the ZIPs (85018 first of
    two: after 15 days, 85033 after 30)."""
    first_day = _day(DAY_1, -15)
    fake.add_zip("85018", 6)
    fake.add_zip("85033", 3)
    defs = load_definitions()
    assert _materialize(defs, first_day).success
    searches = {d["_id"]: d for d in db["assessor_zip_searches"].find()}
    assert {z: (s["completed_on"], s["due_on"]) for z, s in searches.items()} == {
        "85018": (first_day, DAY_1),
        "85033": (first_day, _day(first_day, 30)),
    }
    added = fake.add_zip("85018", 2, start=6)
    fake.requests.clear()

    next_day = _day(first_day, 1)
    result = _materialize(defs, next_day)  # nothing due, nothing new, nothing stale
    assert result.success
    assert fake.requests == []
    assert _stored(db, next_day) == {}
    counts = _counts(result)
    assert counts["zips_due"] == counts["search_pages"] == counts["fetched"] == 0
    assert counts["backlog_parcels"] == 9 and counts["backlog_never_fetched"] == 0

    result = _materialize(defs, DAY_1)  # 85018's search is due, 85033's is not
    assert result.success
    assert fake.search_requests("85018") and not fake.search_requests("85033")
    assert sorted(_stored(db, DAY_1)) == sorted(added)
    counts = _counts(result)
    assert counts["zips_due"] == counts["zips_searched"] == 1
    assert counts["fetched_new"] == 2
    assert db["assessor_zip_searches"].find_one({"_id": "85018"})["due_on"] == _day(DAY_1, 30)


def test_a_run_where_every_zip_failed_fails_and_stores_nothing(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    fake.add_zip("85018", 3)
    fake.token = "another-token-entirely"  # the server no longer accepts ours
    result = _materialize(load_definitions(), DAY_1)
    assert not result.success
    said = _everything_said(result)
    assert "MARICOPA_API_TOKEN" in said and TOKEN not in said
    assert len(fake.requests) == 1  # no retry storm
    assert db["raw_maricopa_parcels"].count_documents({}) == 0
    assert db["collection_failures"].count_documents({"kind": "auth"}) == 2


def test_without_a_token_the_source_is_skipped_with_one_log_line(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MARICOPA_API_TOKEN")
    result = _materialize(load_definitions(), DAY_1)
    assert result.success and fake.requests == []
    (materialization,) = result.asset_materializations_for_node("raw_maricopa_parcels")
    assert materialization.metadata["configured"].value is False
    assert db["raw_maricopa_parcels"].count_documents({}) == 0


def materialize_range(
    defs: dg.Definitions, first: str, last: str, asset: dg.AssetKey = ASSET
) -> dg.ExecuteInProcessResult:
    """One run of ``asset`` over the days ``first``..``last``, as a single-run backfill."""
    return defs.resolve_job_def("daily_pipeline").execute_in_process(
        asset_selection=[asset],
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )


def _stored(db: Database[dict], day: str) -> dict[str, dict]:
    return {d["source_id"]: d for d in db["raw_maricopa_parcels"].find({"partition_key": day})}


def _manifest_documents(db: Database[dict], day: str) -> int | None:
    entry = db["partition_manifest"].find_one({"_id": f"raw_maricopa_parcels:{day}"})
    return None if entry is None else entry["documents"]


def test_a_re_run_where_a_zip_fails_keeps_what_the_first_run_stored_of_it(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    first_zip = fake.add_zip("85018", 5)
    second_zip = fake.add_zip("85033", 4)
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    first = _stored(db, DAY_1)
    assert sorted(first) == sorted(first_zip + second_zip)

    # This time every parcel of 85033 answers an HTML page (its search is not due again:
    # a re-run of the day fetches what the day planned, from the inventory).
    for apn in second_zip:
        fake.inject("html", path=f"/parcel/{apn.replace('-', '')}")
    result = _materialize(defs, DAY_1)
    assert result.success
    again = _stored(db, DAY_1)
    assert sorted(again) == sorted(first)  # merged into the day: nothing lost
    for apn in second_zip:  # the failed ZIP's records are the first run's, untouched
        assert again[apn] == first[apn]
    for apn in first_zip:  # the others were collected again and replaced
        assert again[apn]["_id"] == first[apn]["_id"]
        assert again[apn]["collected_at"] > first[apn]["collected_at"]
    assert _manifest_documents(db, DAY_1) == len(first)
    (failure,) = list(db["collection_failures"].find({"partition_key": DAY_1}))
    assert failure["zip_code"] == "85033" and failure["kind"] == "html_body"
    (materialization,) = result.asset_materializations_for_node("raw_maricopa_parcels")
    assert materialization.metadata["documents_replaced"].value == len(first_zip)
    assert materialization.metadata["count_detail_failures"].value == len(second_zip)


def test_a_range_run_stores_under_its_last_day_and_does_not_empty_the_earlier_days(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MARICOPA_SEARCH_EVERY_DAYS", "1")  # the range's day searches again
    fake.add_zip("85018", 6)
    fake.add_zip("85033", 3)
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    day_1 = _stored(db, DAY_1)
    added = fake.add_zip("85018", 2, start=6)
    day_3 = (dt.date.fromisoformat(DAY_2) + dt.timedelta(days=1)).isoformat()

    result = materialize_range(defs, DAY_1, day_3)
    assert result.success
    assert _stored(db, DAY_1) == day_1  # the range's first day keeps what it held
    assert _stored(db, DAY_2) == {}
    assert sorted(_stored(db, day_3)) == sorted(added)  # fresh parcels skipped
    assert [_manifest_documents(db, day) for day in (DAY_1, DAY_2, day_3)] == [
        len(day_1),
        0,
        len(added),
    ]


def test_a_skipped_run_deletes_nothing_already_stored(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake.add_zip("85018", 4)
    assert _materialize(load_definitions(), DAY_1).success
    stored = _stored(db, DAY_1)
    monkeypatch.setenv("PHOENIX_SOURCES", "demo")
    assert _materialize(load_definitions(), DAY_1).success
    assert _stored(db, DAY_1) == stored and len(stored) == 4


# --- listed parcels, the inventory, and a database from before it ---------------------------


def _compact(apn: str) -> str:
    return apn.replace("-", "")


def _paths_of(fake: FakeMaricopa, apn: str, since: int = 0) -> list[str]:
    """The paths asked about ``apn`` (its parcel, residential details, valuations)."""
    prefix = f"/parcel/{_compact(apn)}"
    return sorted(
        r.path for r in fake.requests[since:] if r.path == prefix or r.path.startswith(f"{prefix}/")
    )


def test_the_parcels_the_demo_listings_point_at_are_fetched_first_that_day(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo source's listings of the day carry APNs (ParcelNumber): the Assessor asks
    for those parcels that day, before any search, though no search of a configured ZIP
    finds them. ``/parcel`` carries the residential data and the valuations; a listed
    parcel whose body lacks them gets all three calls (``/residential-details``,
    ``/valuations``), and a searched, unlisted one the parcel alone."""
    monkeypatch.setenv("PHOENIX_ZIP_CODES", "85018")
    monkeypatch.setenv("PHOENIX_DEMO_SCALE", "0.1")  # a score of listings, not hundreds
    searched = fake.add_zip("85018", 5)
    listed = sorted(
        {str(p["ParcelNumber"]) for p in demo_listings("85018", _date(DAY_1), scale=0.1)}
    )
    assert len(listed) >= 6
    bare = listed[::2]  # bodies without their residential data and valuations
    for index, apn in enumerate(listed):
        body = parcel_fixture(apn, "85018", 100 + index)
        if apn in bare:
            details = body.pop("ResidentialPropertyData")
            fake.add_parcel(
                UNSEARCHED,
                body,
                residential_details={**details, "Stories": "1"},
                valuations=body.pop("Valuations"),
            )
        else:
            fake.add_parcel(UNSEARCHED, body)
    defs = load_definitions()
    assert _materialize(defs, DAY_1, DEMO_ASSET).success
    assert fake.requests == []  # the demo source asks nothing of the Assessor

    result = _materialize(defs, DAY_1)
    assert result.success
    for apn in listed:
        sections = ("/residential-details", "/valuations") if apn in bare else ()
        parcel = f"/parcel/{_compact(apn)}"
        assert _paths_of(fake, apn) == sorted([parcel, *(parcel + s for s in sections)])
    for apn in searched:  # found by the search, listed nowhere, its body whole
        assert _paths_of(fake, apn) == [f"/parcel/{_compact(apn)}"]
    first_search = fake.requests.index(fake.search_requests("85018")[0])
    assert sorted(fake.parcel_order()[: len(listed)]) == listed
    assert all(not _paths_of(fake, apn, since=first_search) for apn in listed)
    stored = _stored(db, DAY_1)
    assert sorted(stored) == sorted([*listed, *searched])
    for apn in listed:
        payload = stored[apn]["payload"]
        assert stored[apn]["zip_code"] == "85018" and payload["search"] is None
        if apn in bare:
            assert payload["residential_details"]["Stories"] == "1"
            assert payload["valuations"] and payload["valuations"][0]["TaxYear"]
        else:
            assert payload["parcel"]["ResidentialPropertyData"] and payload["parcel"]["Valuations"]
    counts = _counts(result)
    assert counts["listed"] == counts["fetched_listed"] == len(listed)
    assert counts["fetched_new"] == len(searched)
    assert counts["fetched"] == len(listed) + len(searched)
    assert counts["detail_failures"] == counts["optional_detail_failures"] == 0


def _store_listing(db: Database[dict], day: str, apn: str, zip_code: str = "85018") -> None:
    """A raw MLS listing stored under ``day`` whose ParcelNumber is ``apn``."""
    key = f"L-{_compact(apn)}-{day}"
    payload = {"ListingKey": key, "ParcelNumber": apn, "PostalCode": zip_code}
    document = raw_document(
        source="mls",
        source_id=key,
        zip_code=zip_code,
        payload=payload,
        collected_at=dt.datetime.fromisoformat(f"{day}T12:00:00+00:00"),
        partition_key=day,
    )
    db["raw_mls_listings"].insert_one({"_id": f"mls:{key}:{day}", **document})


def test_stored_listings_lead_to_their_parcels_unless_the_record_is_fresh(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    """Listings already stored for the day (here raw MLS documents) point the Assessor at
    their parcels: one no search finds is fetched, first; on the next day
    the listed parcels whose record is fresh are not asked again."""
    searched = fake.add_zip("85018", 3)
    only_listed = fake.add_parcel(UNSEARCHED, parcel_fixture("173-35-524", "85018", 50))
    _store_listing(db, DAY_1, only_listed)
    defs = load_definitions()
    result = _materialize(defs, DAY_1)
    assert result.success
    assert _paths_of(fake, only_listed) == [f"/parcel/{_compact(only_listed)}"]
    assert fake.parcel_order()[0] == only_listed
    assert sorted(_stored(db, DAY_1)) == sorted([only_listed, *searched])
    counts = _counts(result)
    assert counts["listed"] == counts["fetched_listed"] == 1
    assert counts["fetched_new"] == 3 and counts["listed_fresh"] == 0

    # Day 2: both parcels' listings change, their records are a day old: skipped.
    _store_listing(db, DAY_2, only_listed)
    _store_listing(db, DAY_2, searched[0])
    day_1_requests = len(fake.requests)
    result = _materialize(defs, DAY_2)
    assert result.success
    assert fake.requests[day_1_requests:] == []
    assert _stored(db, DAY_2) == {}
    counts = _counts(result)
    assert counts["listed_fresh"] == 2
    assert counts["listed"] == counts["fetched_listed"] == 0


def test_listings_pointing_at_parcels_the_assessor_does_not_know_fail_no_zip(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    """A listing's ParcelNumber comes from another source and may name no parcel the
    Assessor has (a typo, a demo listing): the Assessor's HTML page is counted as not
    found, not as the ZIP's failure, the run succeeds, and the APN is not asked again
    while it is within the stale window."""
    fake.add_zip("85018", 3)
    fake.add_zip("85033", 2)
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    _store_listing(db, DAY_2, "999-99-901", "85018")  # the Assessor answers an HTML page
    _store_listing(db, DAY_2, "999-99-902", "85033")
    result = _materialize(defs, DAY_2)
    assert result.success
    assert db["collection_failures"].count_documents({"partition_key": DAY_2}) == 0
    counts = _counts(result)
    assert counts["listed"] == counts["listed_not_found"] == 2
    assert counts["fetched"] == counts["detail_failures"] == 0
    asked = len(fake.requests)
    _store_listing(db, DAY_3, "999-99-901", "85018")
    later = _counts(_materialize(defs, DAY_3))
    assert later["listed"] == later["listed_not_found"] == 0
    assert len(fake.requests) == asked


def _ids(db: Database[dict], collection: str) -> set[object]:
    return {d["_id"] for d in db[collection].find({}, {"_id": 1})}


def test_the_inventory_is_kept_and_a_re_run_of_the_day_stores_the_same_parcels(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    """After a run the inventory holds every parcel found, with the day it was fetched,
    and each ZIP's search; a re-run of the same day stores the same parcel set and
    deletes nothing, neither raw parcels nor inventory, nor moves the search schedule."""
    first_zip = fake.add_zip("85018", 7)
    second_zip = fake.add_zip("85033", 4)
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    assert {PARCEL_INVENTORY, ZIP_SEARCHES} <= set(db.list_collection_names())
    inventory = {d["_id"]: d for d in db[PARCEL_INVENTORY].find()}
    assert sorted(inventory) == sorted(first_zip + second_zip)
    for apn, document in inventory.items():
        assert document["zip_code"] == ("85018" if apn in first_zip else "85033")
        assert document["fetched_on"] == DAY_1 and "fetched_before_on" not in document
        assert document["first_seen_on"] == DAY_1 and document["hit"]["APN"]
    searches = {d["_id"]: d for d in db[ZIP_SEARCHES].find()}
    assert sorted(searches) == ["85018", "85033"]
    assert all(s["completed_on"] == DAY_1 and s["due_on"] > DAY_1 for s in searches.values())
    raw_ids, inventory_ids = _ids(db, "raw_maricopa_parcels"), _ids(db, PARCEL_INVENTORY)
    stored = _stored(db, DAY_1)

    result = _materialize(defs, DAY_1)
    assert result.success
    assert sorted(_stored(db, DAY_1)) == sorted(stored)
    assert _ids(db, "raw_maricopa_parcels") == raw_ids  # nothing deleted, nothing added
    assert _ids(db, PARCEL_INVENTORY) == inventory_ids
    again = {d["_id"]: d for d in db[PARCEL_INVENTORY].find()}
    for apn, document in again.items():  # the re-run is the same day, not an older fetch
        assert document["fetched_on"] == DAY_1 and "fetched_before_on" not in document
        assert document["hit"] == inventory[apn]["hit"]
    assert {d["_id"]: d for d in db[ZIP_SEARCHES].find()} == searches
    assert _counts(result)["fetched_new"] == len(first_zip + second_zip)


def test_a_database_from_before_the_inventory_is_seeded_so_its_parcels_are_not_new(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    """A deployment upgraded with raw parcels already stored and no inventory: the first
    run fills the inventory's fetch days from the raw parcels, so its searches find those
    parcels known and fresh, and only parcels never stored are fetched as new."""
    old = fake.add_zip("85018", 6) + fake.add_zip("85033", 3)
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    for collection in (PARCEL_INVENTORY, ZIP_SEARCHES):  # as before the inventory existed
        db.drop_collection(collection)
    assert sorted(_stored(db, DAY_1)) == sorted(old)
    added = fake.add_zip("85018", 2, start=6)
    day_1_requests = len(fake.requests)

    result = _materialize(defs, DAY_2)
    assert result.success
    day_2_paths = [r.path for r in fake.requests[day_1_requests:]]
    assert day_2_paths.count("/search/property/") == 2  # never searched: both ZIPs, now
    assert sorted(_stored(db, DAY_2)) == sorted(added)
    asked = sorted(p for p in day_2_paths if p.startswith("/parcel/"))
    assert asked == sorted(f"/parcel/{_compact(apn)}" for apn in added)
    counts = _counts(result)
    assert counts["zips_searched"] == 2 and counts["inventory_new"] == 2
    assert counts["new"] == counts["fetched_new"] == counts["fetched"] == 2
    assert counts["backlog_parcels"] == 11 and counts["backlog_never_fetched"] == 2
    inventory = {d["_id"]: d for d in db[PARCEL_INVENTORY].find()}
    assert sorted(inventory) == sorted(old + added)
    for apn in old:  # seeded from the raw store, then found by the search
        assert inventory[apn]["fetched_on"] == DAY_1 and inventory[apn]["hit"]
    for apn in added:
        assert inventory[apn]["fetched_on"] == DAY_2
