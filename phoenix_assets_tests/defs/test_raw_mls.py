"""raw_mls_listings as a Dagster asset, against the fake RESO Web API on 127.0.0.1.

The asset appends each version it collects to the MLS version log, under the Phoenix day
the version was made; these tests follow what the log holds across days, re-runs,
failures, a disabled source and a range run.
"""

import datetime as dt
import random
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import pytest
from pymongo.database import Database
from pytest_httpserver import HTTPServer

from phoenix_assets.partitions import day_start, phoenix_day
from phoenix_assets.sources.mls import ON_MARKET_FILTER, odata_timestamp, parse_timestamp
from phoenix_assets.storage.partition_store import MANIFEST_COLLECTION
from phoenix_assets.storage.version_log import BASELINE_COLLECTION
from phoenix_assets_tests.defs.test_raw_maricopa import _everything_said, materialize_range
from phoenix_assets_tests.sources.fake_reso import FakeReso, make_listing, make_listings

TOKEN = "static-SECRET-token-for-dagster-tests"
DAY_1, DAY_2, DAY_3 = "2026-11-17", "2026-11-18", "2026-11-19"
ASSET = dg.AssetKey("raw_mls_listings")
LOG = "raw_mls_listings"
ZIPS = ("85018", "85033")
PER_ZIP = 8
# Listed a month before DAY_1 and not modified since: only a standing inventory finds them.
OLD = day_start(DAY_1) - dt.timedelta(days=30)


def _at(day: str, hours: float) -> dt.datetime:
    return day_start(day) + dt.timedelta(hours=hours)


def _old_listing(zip_code: str, n: int, status: str) -> dict[str, Any]:
    listing = make_listing(random.Random(f"old:{zip_code}:{n}"), zip_code, 90 + n, OLD)
    listing.update(StandardStatus=status)
    listing.pop("ClosePrice", None)
    listing.pop("CloseDate", None)
    if status == "Closed":
        listing.update(ClosePrice=listing["ListPrice"], CloseDate=OLD.date().isoformat())
    return listing


@pytest.fixture
def fake(pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeReso]:
    """Eight listings per ZIP modified during DAY_1, plus, in each ZIP, an old listing still
    on the market and an old closed one."""
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        listings = make_listings(ZIPS, PER_ZIP, newest=_at(DAY_1, 20))
        for zip_code in ZIPS:
            listings += [_old_listing(zip_code, 0, "Active"), _old_listing(zip_code, 1, "Closed")]
        fake = FakeReso(server, listings, auth="static", static_token=TOKEN)
        monkeypatch.setenv("PHOENIX_SOURCES", "demo,mls")
        monkeypatch.setenv("PHOENIX_ZIP_CODES", ",".join(ZIPS))
        monkeypatch.setenv("MLS_RESO_BASE_URL", fake.base_url)
        monkeypatch.setenv("MLS_RESO_TOKEN", TOKEN)
        monkeypatch.setenv("MLS_RESO_REQUESTS_PER_SECOND", "50")
        monkeypatch.setenv("MLS_RESO_PAGE_SIZE", "5")
        yield fake


def _materialize(defs: dg.Definitions, day: str) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("daily_pipeline").execute_in_process(
        partition_key=day, asset_selection=[ASSET], raise_on_error=False
    )


def _metadata(result: dg.ExecuteInProcessResult, partitions: int = 1) -> dict[str, Any]:
    """The run's materialization metadata (a range run: one materialization a day, the
    same metadata)."""
    materializations = result.asset_materializations_for_node(LOG)
    assert len(materializations) == partitions
    first, *others = (
        {name: value.value for name, value in m.metadata.items()} for m in materializations
    )
    assert all(other == first for other in others)
    return first


def _modified(listing: dict[str, Any]) -> dt.datetime:
    stamp = parse_timestamp(listing["ModificationTimestamp"])
    assert stamp is not None
    return stamp


def _version_id(listing: dict[str, Any]) -> str:
    """The natural ``_id`` of a listing's current version on the server."""
    return f"mls:{listing['ListingKey']}:{_modified(listing):%Y-%m-%dT%H:%M:%S.%fZ}"


def _log(db: Database[dict]) -> dict[str, dict[str, Any]]:
    return {doc["_id"]: doc for doc in db[LOG].find({})}


def _ids(db: Database[dict], day: str | None = None) -> set[str]:
    query = {} if day is None else {"partition_key": day}
    return {doc["_id"] for doc in db[LOG].find(query, {"_id": 1})}


def _manifest(db: Database[dict], day: str) -> dict[str, Any] | None:
    return db[MANIFEST_COLLECTION].find_one({"_id": f"{LOG}:{day}"})


def _baselines(db: Database[dict]) -> set[tuple[str, str]]:
    return {(d["zip_code"], d["day"]) for d in db[BASELINE_COLLECTION].find({"source": "mls"})}


def _stored_listings(fake: FakeReso) -> list[dict[str, Any]]:
    """The listings a first run stores: all but the old closed ones."""
    return [
        listing
        for listing in fake.listings()
        if not (_modified(listing) == OLD and listing["StandardStatus"] == "Closed")
    ]


def test_a_day_stores_every_listing_as_a_version_under_the_day_it_was_modified(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    result = _materialize(load_definitions(), DAY_1)
    assert result.success
    expected = _stored_listings(fake)
    assert len(expected) == len(ZIPS) * (PER_ZIP + 1)
    log = _log(db)
    assert set(log) == {_version_id(listing) for listing in expected}
    for listing in expected:
        version = log[_version_id(listing)]
        assert version["source"] == "mls" and version["source_id"] == listing["ListingKey"]
        assert version["zip_code"] == listing["PostalCode"]
        assert version["modified_at"] == _modified(listing)
        assert version["partition_key"] == phoenix_day(_modified(listing))
        assert version["payload"]["ListPrice"] == listing["ListPrice"]
    # The day's versions under the day; the old listing still on the market under its own.
    assert len(_ids(db, DAY_1)) == len(ZIPS) * PER_ZIP
    assert len(_ids(db, phoenix_day(OLD))) == len(ZIPS)
    # The first run took each ZIP's standing inventory and recorded it.
    assert _baselines(db) == {(zip_code, DAY_1) for zip_code in ZIPS}
    for zip_code in ZIPS:
        assert fake.property_requests(zip_code)[0].query["$filter"] == (
            f"PostalCode eq '{zip_code}' and {ON_MARKET_FILTER}"
        )
    entry = _manifest(db, DAY_1)
    assert entry is not None and entry["documents"] == len(ZIPS) * PER_ZIP
    metadata = _metadata(result)
    assert metadata["versions_new"] == len(expected)
    assert metadata["versions_already_stored"] == 0
    assert metadata["versions_new_by_day"] == {phoenix_day(OLD): 2, DAY_1: 2 * PER_ZIP}
    assert metadata["inventory_taken_for"] == list(ZIPS)
    assert TOKEN not in _everything_said(result)


def test_the_next_day_appends_exactly_the_changed_version_and_keeps_the_first(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    first = _log(db)
    changed = fake.touch(fake.listings("85018")[0]["ListingKey"], _at(DAY_2, 3), ListPrice=1)
    fake.requests.clear()

    result = _materialize(defs, DAY_2)
    assert result.success
    log = _log(db)
    assert set(log) == set(first) | {_version_id(changed)}  # one version more, none less
    assert _ids(db, DAY_2) == {_version_id(changed)}
    assert log[_version_id(changed)]["payload"]["ListPrice"] == 1
    assert len([v for v in log.values() if v["source_id"] == changed["ListingKey"]]) == 2
    assert all(log[doc_id]["stored_at"] == doc["stored_at"] for doc_id, doc in first.items())
    # A ZIP with a baseline is asked for its window only: from the day's start, less the
    # overlap (24 hours by default), which reads DAY_1's versions again.
    since = odata_timestamp(day_start(DAY_2) - dt.timedelta(hours=24))
    for zip_code in ZIPS:
        (query,) = {r.query["$filter"] for r in fake.property_requests(zip_code)}
        assert query == f"PostalCode eq '{zip_code}' and ModificationTimestamp gt {since}"
    metadata = _metadata(result)
    assert metadata["versions_new"] == 1
    assert metadata["versions_already_stored"] == len(ZIPS) * PER_ZIP - 1
    assert metadata["versions_new_by_day"] == {DAY_2: 1}
    assert metadata["inventory_taken_for"] == []
    entry = _manifest(db, DAY_2)
    assert entry is not None and entry["documents"] == 1


def test_re_running_a_day_loses_nothing_and_adds_a_changed_records_new_version(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    first = _log(db)
    key = fake.listings("85033")[0]["ListingKey"]
    changed = fake.touch(key, _at(DAY_1, 22), StandardStatus="Pending")

    result = _materialize(defs, DAY_1)  # a retry of the same day
    assert result.success
    log = _log(db)
    assert set(log) == set(first) | {_version_id(changed)}
    assert log[_version_id(changed)]["payload"]["StandardStatus"] == "Pending"
    assert log[_version_id(changed)]["partition_key"] == DAY_1
    assert len(_ids(db, DAY_1)) == len(ZIPS) * PER_ZIP + 1
    assert _metadata(result)["versions_new"] == 1
    # A third run of the day, nothing changed: nothing added.
    again = _materialize(defs, DAY_1)
    assert again.success and _metadata(again)["versions_new"] == 0
    assert _log(db).keys() == log.keys()
    assert _baselines(db) == {(zip_code, DAY_1) for zip_code in ZIPS}


def test_a_failing_zip_is_not_stored_nor_baselined_and_the_next_run_takes_its_inventory(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    fake.inject("html", zip_code="85033", times=None)
    defs = load_definitions()
    result = _materialize(defs, DAY_1)
    assert result.success
    assert {d["zip_code"] for d in db[LOG].find({})} == {"85018"}
    (failure,) = list(db["collection_failures"].find({"source": "mls"}))
    assert failure["zip_code"] == "85033" and failure["partition_key"] == DAY_1
    assert _baselines(db) == {("85018", DAY_1)}
    assert _metadata(result)["inventory_taken_for"] == ["85018"]

    fake.faults.clear()
    fake.requests.clear()
    result = _materialize(defs, DAY_2)
    assert result.success
    assert fake.property_requests("85033")[0].query["$filter"] == (
        f"PostalCode eq '85033' and {ON_MARKET_FILTER}"
    )
    assert not any("StandardStatus" in r.query["$filter"] for r in fake.property_requests("85018"))
    assert _metadata(result)["inventory_taken_for"] == ["85033"]
    # The ZIP's whole standing inventory and its recent versions are in the log now.
    assert set(_log(db)) == {_version_id(listing) for listing in _stored_listings(fake)}
    assert _baselines(db) == {("85018", DAY_1), ("85033", DAY_2)}
    assert db["collection_failures"].count_documents({"partition_key": DAY_2}) == 0


def test_a_run_where_every_zip_failed_fails_and_stores_nothing(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    fake.static_token = "another-token-entirely"  # the provider no longer accepts ours
    result = _materialize(load_definitions(), DAY_1)
    assert not result.success
    said = _everything_said(result)
    assert "MLS_RESO_TOKEN" in said and TOKEN not in said
    assert len(fake.property_requests()) == 1  # no retry storm
    assert db[LOG].count_documents({}) == 0
    assert _baselines(db) == set() and _manifest(db, DAY_1) is None
    assert db["collection_failures"].count_documents({"source": "mls", "kind": "auth"}) == 2


@pytest.mark.parametrize("why", ["disabled", "not configured"])
def test_a_skipped_mls_source_deletes_nothing_from_the_log(
    fake: FakeReso,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    why: str,
) -> None:
    assert _materialize(load_definitions(), DAY_1).success
    stored = _log(db)
    assert stored
    if why == "disabled":
        monkeypatch.setenv("PHOENIX_SOURCES", "demo")
    else:
        monkeypatch.delenv("MLS_RESO_TOKEN")
    fake.requests.clear()
    defs = load_definitions()
    for day in (DAY_1, DAY_2):
        result = _materialize(defs, day)
        assert result.success
        assert _metadata(result)["enabled"] is (why != "disabled")
        assert _log(db) == stored  # every version still there, untouched
    assert fake.requests == []
    # The days are marked collected, with what they hold.
    entry = _manifest(db, DAY_1)
    assert entry is not None and entry["documents"] == len(ZIPS) * PER_ZIP
    entry = _manifest(db, DAY_2)
    assert entry is not None and entry["documents"] == 0


def test_a_range_run_appends_versions_into_the_days_they_were_modified_and_deletes_nothing(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    first = _log(db)

    # Changes on DAY_2 and DAY_3, and new listings on DAY_3.
    keys = [listing["ListingKey"] for listing in fake.listings("85018")]
    on_day_2 = [
        fake.touch(k, _at(DAY_2, 5 + n), ListPrice=410_000 + n) for n, k in enumerate(keys[:3])
    ]
    on_day_3 = [fake.touch(keys[0], _at(DAY_3, 1), ListPrice=400_000)]
    added = make_listings(["85033"], 2, newest=_at(DAY_3, 18), seed="range")
    fake.upsert(added)
    on_day_3 += added
    fake.requests.clear()

    result = materialize_range(defs, DAY_1, DAY_3, ASSET)
    assert result.success
    log = _log(db)
    assert set(first) <= set(log)
    assert all(log[doc_id]["payload"] == doc["payload"] for doc_id, doc in first.items())
    # keys[0]'s DAY_2 version was replaced on the server before the run: only its DAY_3
    # version could be collected.
    assert _ids(db, DAY_2) == {_version_id(v) for v in on_day_2[1:]}
    assert _ids(db, DAY_3) == {_version_id(v) for v in on_day_3}
    assert _ids(db, DAY_1) == {i for i, doc in first.items() if doc["partition_key"] == DAY_1}
    for day in (DAY_1, DAY_2, DAY_3):
        entry = _manifest(db, day)
        assert entry is not None and entry["documents"] == len(_ids(db, day)), day
    metadata = _metadata(result, partitions=3)
    assert metadata["versions_new_by_day"] == {DAY_2: 2, DAY_3: 3}
    assert metadata["partitions"] == f"{DAY_1}...{DAY_3}"
    # One collection for the range, from its first day (less the overlap).
    since = odata_timestamp(day_start(DAY_1) - dt.timedelta(hours=24))
    assert {r.query["$filter"].rsplit(" gt ", 1)[1] for r in fake.property_requests()} == {since}


def test_versions_that_cannot_be_followed_are_quarantined_not_shown(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    """A listing served without its ListingKey is kept in the log but quarantined by the
    snapshot, with its reason; one with a ModificationTimestamp years ahead is kept,
    dated when it was collected (today), never in year 2999, and not shown on the day."""
    no_key, future = (listing["ListingKey"] for listing in fake.listings("85018")[:2])
    fake.drop_listing_key.add(no_key)
    fake.touch(future, dt.datetime(2999, 1, 1, tzinfo=dt.UTC))
    result = (
        load_definitions()
        .resolve_job_def("daily_pipeline")
        .execute_in_process(
            partition_key=DAY_1,
            asset_selection=[
                ASSET,
                dg.AssetKey("raw_demo_listings"),
                dg.AssetKey("property_snapshots"),
            ],
            raise_on_error=True,
        )
    )
    assert result.success
    reasons = {
        entry["source_id"]: entry["reason"]
        for entry in db["quarantine"].find({"asset": "property_snapshots", "source": "mls"})
    }
    ((missing_key, reason),) = reasons.items()
    assert missing_key.startswith("missing-key:") and reason.startswith("no ListingKey")
    shown = {d.get("listing_key") for d in db["property_snapshots"].find({"partition_key": DAY_1})}
    assert future not in shown and None not in shown
    assert db[LOG].count_documents({"source_id": missing_key}) == 1
    (stored,) = db[LOG].find({"source_id": future})
    assert stored["_id"].split(":")[-2] == "sha"
    assert stored["partition_key"] == phoenix_day(dt.datetime.now(dt.UTC))
