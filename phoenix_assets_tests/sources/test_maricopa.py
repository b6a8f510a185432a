"""The Maricopa Assessor source against a fake Assessor on a real HTTP server (127.0.0.1)
and a real MongoDB parcel inventory (the ``db`` fixture)."""

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from pymongo.database import Database

from phoenix_assets.domain.adapters import AdapterError
from phoenix_assets.domain.maricopa_adapter import property_from_maricopa
from phoenix_assets.settings import ConfigError
from phoenix_assets.sources.collection import CollectionResult
from phoenix_assets.sources.http import UNEXPECTED_KIND, is_retryable_kind
from phoenix_assets.sources.maricopa import (
    COUNT_KEYS,
    MaricopaSettings,
    SearchShapeError,
    collect_parcels,
    parse_search_page,
)
from phoenix_assets.sources.maricopa.settings import DEFAULT_BASE_URL
from phoenix_assets.storage.parcel_inventory import ZIP_SEARCHES, MongoParcelInventory
from phoenix_assets_tests.sources.fake_maricopa import (
    SEARCH_SHAPES,
    TOKEN,
    FakeMaricopa,
    collect_day,
    compact,
    make_apn,
    parcel_fixture,
)

TODAY = dt.date(2026, 11, 19)
DAY = TODAY.isoformat()
A, B = "85018", "85033"


def days_ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def seed(db: Database[dict], fetched: Mapping[str, tuple[str, int]]) -> None:
    """The inventory as earlier days left it: APN -> (ZIP, days since its details were stored)."""
    inventory = MongoParcelInventory(db)
    for apn, (zip_code, ago) in fetched.items():
        inventory.record_fetches(days_ago(ago), [(apn, zip_code)])


def collect(
    fake: FakeMaricopa,
    db: Database[dict],
    zips: list[str],
    *,
    day: str = DAY,
    listed: Mapping[str, str] | None = None,
    **settings: Any,
) -> CollectionResult:
    return collect_day(fake, db, zips, day=day, listed=listed, **settings)


# --------------------------------------------------------------------------- search shapes


@pytest.mark.parametrize("shape", SEARCH_SHAPES)
def test_every_search_shape_is_parsed(fake: FakeMaricopa, db: Database[dict], shape: str) -> None:
    fake.set_shape(shape)
    apns = fake.add_zip(A, 30)
    result = collect(fake, db, [A])
    assert result.failures == []
    assert [r.source_id for r in result.records] == sorted(apns)
    assert result.counts["search_pages"] == 2  # 25 + 5: the short page ends it
    assert result.counts["parcels_found"] == result.counts["fetched"] == 30
    assert result.counts["inventory_new"] == result.counts["fetched_new"] == 30
    assert result.counts["zips_searched"] == 1


def test_search_shapes_parse_with_their_totals() -> None:
    hit = {"APN": "12345678"}
    assert parse_search_page([hit]) == ([hit], None)
    assert parse_search_page({"RealPropertyResults": [hit]}) == ([hit], None)
    assert parse_search_page({"RealProperty": [hit], "TotalFound": "1,234"}) == ([hit], 1234)
    assert parse_search_page({"Results": [hit], "TotalFound": 7}) == ([hit], 7)
    assert parse_search_page({"RealProperty": {"results": [hit], "TotalFound": 3}}) == ([hit], 3)
    assert parse_search_page({"realpropertyresults": None, "TotalFound": 0}) == ([], 0)
    assert parse_search_page({"TotalFound": 0}) == ([], 0)
    for bad in ({"Parcels": [hit]}, {"RealProperty": "none"}, "text", 3, {}):
        with pytest.raises(SearchShapeError):
            parse_search_page(bad)


def test_an_unknown_search_shape_fails_that_zip_only(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    fake.add_zip(A, 3)
    b_apns = fake.add_zip(B, 4)
    fake.set_shape("Parcels", zip_code=A)
    result = collect(fake, db, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "schema")]
    assert "unknown search response shape" in result.failures[0].reason
    assert result.counts["schema_drift"] == 1
    assert [r.source_id for r in result.records] == sorted(b_apns)
    assert set(fake.parcel_order()) == set(b_apns)  # nothing fetched for the failed ZIP


def test_an_invalid_zip_fails_as_config_and_is_never_asked(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    apns = fake.add_zip(A, 2)
    result = collect(fake, db, [A, "8501"])
    assert [(f.zip_code, f.kind) for f in result.failures] == [("8501", "config")]
    assert [r.source_id for r in result.records] == sorted(apns)
    assert {r.query["q"] for r in fake.search_requests()} == {A}


# --------------------------------------------------------------------------- pagination


@pytest.mark.parametrize(
    ("shape", "pages"),
    [("RealPropertyResults", 3), ("RealProperty", 2)],  # an empty page 3 vs TotalFound
)
def test_pagination_ends_on_an_empty_page_or_total_found(
    fake: FakeMaricopa, db: Database[dict], shape: str, pages: int
) -> None:
    fake.set_shape(shape)
    fake.add_zip(A, 50)
    result = collect(fake, db, [A])
    assert [r.query["page"] for r in fake.search_requests(A)] == [str(p + 1) for p in range(pages)]
    assert result.counts["search_pages"] == pages and result.counts["parcels_found"] == 50
    assert result.counts["zips_searched"] == 1
    # The pass is over: the next one starts again at page 1.
    assert MongoParcelInventory(db).zip_searches([A])[A].next_page == 1


def test_a_repeating_page_ends_the_search(fake: FakeMaricopa, db: Database[dict]) -> None:
    fake.add_zip(A, 100)
    fake.repeat_page(A, 3)  # page 3 answers page 2 again, as a server ignoring ?page would
    result = collect(fake, db, [A])
    assert len(fake.search_requests(A)) == 3
    assert result.counts["search_loop_guard"] == 1
    assert result.counts["parcels_found"] == 50 and result.failures == []
    assert result.counts["zips_searched"] == 1 and result.counts["zips_search_continued"] == 0


def test_the_page_limit_ends_the_search(fake: FakeMaricopa, db: Database[dict]) -> None:
    fake.add_zip(A, 80)
    result = collect(fake, db, [A], max_search_pages=2)
    assert len(fake.search_requests(A)) == 2
    assert result.counts["search_page_limit"] == 1 and result.counts["parcels_found"] == 50
    assert result.counts["zips_searched"] == 1 and result.counts["fetched"] == 50


def test_hits_in_other_zips_are_dropped_and_counted(fake: FakeMaricopa, db: Database[dict]) -> None:
    apns = fake.add_zip(A, 3)
    fake.add_hit(A, {"APN": "999-99-999", "PropertyAddress": "1 W MAIN ST MESA 85201"})
    fake.add_hit(A, {"APN": "999-99-998", "PropertyAddressZip": "85251"})
    fake.add_hit(A, {"Ownership": "NO APN HERE", "PropertyAddressZip": A})
    fake.add_hit(A, {"APN": apns[0], "PropertyAddressZip": A})  # a duplicate hit
    result = collect(fake, db, [A])
    assert result.counts["dropped_other_zip"] == 2
    assert result.counts["hits_without_apn"] == 1 and result.counts["duplicate_hits"] == 1
    assert result.counts["schema_drift"] == 1  # the hit without an APN
    assert [r.source_id for r in result.records] == sorted(apns)
    assert result.failures == []
    # Dropped hits are not in the inventory either.
    assert result.counts["inventory_new"] == 3 and result.counts["backlog_parcels"] == 3


def test_a_hit_without_address_fields_is_kept(fake: FakeMaricopa, db: Database[dict]) -> None:
    apn = make_apn(A, 7)
    fake.add_parcel(A, parcel_fixture(apn, A, 7), hit={"APN": compact(apn)})
    result = collect(fake, db, [A])
    assert [r.source_id for r in result.records] == [apn]
    assert result.counts["dropped_other_zip"] == 0


# --------------------------------------------------------------------------- decisions and budget


def test_new_first_then_stalest_and_fresh_skipped(fake: FakeMaricopa, db: Database[dict]) -> None:
    a = fake.add_zip(A, 6)
    b = fake.add_zip(B, 4)
    seed(
        db,
        {
            a[0]: (A, 45),
            a[1]: (A, 400),  # the stalest
            a[2]: (A, 3),  # fresh
            b[0]: (B, 31),
            b[1]: (B, 90),
            b[2]: (B, 30),  # exactly 30 days: not yet stale
        },
    )
    result = collect(fake, db, [A, B], max_concurrency=1)
    # New parcels one ZIP after another (a big ZIP cannot starve the others), each ZIP's
    # in the order found; then the stalest, whatever their ZIP.
    new_first = [a[3], b[3], a[4], a[5]]
    stalest_first = [a[1], b[1], a[0], b[0]]
    assert fake.parcel_order() == new_first + stalest_first
    counts = result.counts
    assert (counts["new"], counts["stale"], counts["changed"], counts["listed"]) == (4, 4, 0, 0)
    assert (counts["fetched_new"], counts["fetched_stale"], counts["fetched"]) == (4, 4, 8)
    assert counts["budget_skipped"] == 0
    assert (counts["backlog_parcels"], counts["backlog_never_fetched"]) == (10, 4)
    assert counts["backlog_stale"] == 4
    # Parcels the inventory held (from their fetches) are not new when a search finds them.
    assert counts["inventory_new"] == 4 and counts["inventory_changed"] == 0
    assert {r.source_id for r in result.records}.isdisjoint({a[2], b[2]})
    # Only /parcel for parcels no listing points at.
    assert len(fake.paths("/parcel/")) == 8


def test_fresh_parcels_cost_no_request(fake: FakeMaricopa, db: Database[dict]) -> None:
    apns = fake.add_zip(A, 30)
    seed(db, {apn: (A, 1) for apn in apns})
    result = collect(fake, db, [A])
    assert fake.paths("/parcel/") == []
    assert result.records == [] and result.counts["fetched"] == 0
    assert result.counts["backlog_parcels"] == 30
    assert result.counts["backlog_never_fetched"] == result.counts["backlog_stale"] == 0
    assert result.stats.requests == 2 and result.failures == []


@pytest.mark.parametrize("budget", [1, 2, 5, 7, 8, 9])
def test_the_request_budget_is_respected_exactly(
    fake: FakeMaricopa, db: Database[dict], budget: int
) -> None:
    a = fake.add_zip(A, 5)
    stale = fake.add_zip(A, 2, start=5)
    seed(db, {stale[0]: (A, 50), stale[1]: (A, 60)})
    result = collect(fake, db, [A], daily_request_budget=budget, max_concurrency=1)
    # One search page and one /parcel per parcel (7) at most: 8 requests.
    assert len(fake.requests) == min(budget, 1 + 7) == result.stats.requests
    order = fake.parcel_order()
    assert result.counts["fetched"] == len(order) == len(result.records)
    assert result.counts["new"] + result.counts["stale"] == len(order)  # planned what it could pay
    assert result.counts["budget_skipped"] == 0 and result.failures == []
    if budget == 1:
        # Half of the day's requests at most search (none of one request): the ZIP is
        # deferred and the one request goes to the stalest parcel already known.
        assert fake.search_requests() == []
        assert result.counts["zips_search_deferred"] == 1 and order == [stale[1]]
    else:
        # Searched, then the new parcels, then the stalest.
        assert result.counts["zips_searched"] == 1
        assert order == [*sorted(a), stale[1], stale[0]][: len(order)]


def test_the_budget_counts_retries_and_holds_under_concurrency(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    apns = fake.add_zip(A, 12)
    for apn in apns[:4]:
        fake.inject("status", path=f"/parcel/{compact(apn)}", status=503)
    result = collect(fake, db, [A], daily_request_budget=20, max_concurrency=3, max_attempts=3)
    # 1 search + 8 parcels + 4 x 3 attempts would be 21: the budget stops at 20 exactly.
    assert len(fake.requests) == 20 == result.stats.requests
    assert result.stats.retries > 0 and result.counts["budget_skipped"] > 0
    counts = result.counts
    assert counts["fetched"] + counts["detail_failures"] + counts["budget_skipped"] == 12
    # 19 detail attempts, at most 12 of them on the failing parcels: 7 good ones at least
    # (the 8th too, unless its attempt was the one refused: a matter of timing).
    assert counts["fetched"] >= 7 and counts["detail_failures"] <= 4
    assert result.failures == []


def test_the_budget_spent_by_search_retries_defers_the_zip(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    fake.add_zip(A, 3)
    fake.inject("status", zip_code=A, status=503)
    result = collect(fake, db, [A], daily_request_budget=4, max_attempts=5)
    assert len(fake.search_requests(A)) == 4 == result.stats.requests
    assert result.failures == [] and result.counts["zips_search_deferred"] == 1
    # Nothing of the pass was stored: the ZIP is searched from page 1 another day.
    assert db[ZIP_SEARCHES].find_one({"_id": A}) is None


def test_the_budget_spent_while_searching_defers_the_zips_to_another_day(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    a = fake.add_zip(A, 60)
    b = fake.add_zip(B, 3)
    result = collect(fake, db, [A, B], daily_request_budget=2, max_concurrency=1)
    assert len(fake.requests) == 2
    # One page of A (half the day's requests), then A's first parcel with the other.
    assert [r.query["page"] for r in fake.search_requests(A)] == ["1"]
    assert fake.search_requests(B) == [] and fake.parcel_order() == [sorted(a)[0]]
    assert result.failures == []  # a spent budget is no failure
    assert result.counts["zips_search_continued"] == 1  # A, begun
    assert result.counts["zips_search_deferred"] == 1  # B, not reached
    assert result.counts["zips_searched"] == 0
    assert MongoParcelInventory(db).zip_searches([A])[A].next_page == 2

    # The next day A's pass resumes at page 2 and B is searched.
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    next_day = collect(fake, db, [A, B], day=tomorrow, max_concurrency=1)
    assert [r.query["page"] for r in fake.search_requests(A)] == ["1", "2", "3"]
    assert [r.query["page"] for r in fake.search_requests(B)] == ["1"]
    assert next_day.counts["zips_searched"] == 2 and next_day.failures == []
    assert {r.source_id for r in next_day.records} == (set(a) | set(b)) - {sorted(a)[0]}


# --------------------------------------------------------------------------- faults


def test_a_failing_zip_leaves_the_others(fake: FakeMaricopa, db: Database[dict]) -> None:
    a = fake.add_zip(A, 4)
    fake.add_zip(B, 4)
    fake.inject("status", zip_code=B, status=500)
    result = collect(fake, db, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(B, "http_500")]
    assert len(fake.search_requests(B)) == 3  # max_attempts, then given up
    assert [r.source_id for r in result.records] == sorted(a)
    assert result.zip_codes_failed == [B]


def test_a_failing_parcel_is_counted_and_skipped(fake: FakeMaricopa, db: Database[dict]) -> None:
    apns = fake.add_zip(A, 4)
    fake.inject("status", path=f"/parcel/{compact(apns[1])}", status=502)
    result = collect(fake, db, [A])
    assert result.counts["detail_failures"] == 1 and result.failures == []
    assert [r.source_id for r in result.records] == sorted(set(apns) - {apns[1]})
    # Left for the next run: still never fetched.
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    state = MongoParcelInventory(db).parcels([apns[1]])[apns[1]]
    assert state.fetched_before(tomorrow) is None


def test_a_zip_whose_every_parcel_fails_is_failed(fake: FakeMaricopa, db: Database[dict]) -> None:
    a = fake.add_zip(A, 3)
    b = fake.add_zip(B, 2)
    fake.inject("status", path="/parcel/*", status=500)
    result = collect(fake, db, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "http_500"), (B, "http_500")]
    assert "all 3 parcel detail fetches failed" in result.failures[0].reason
    assert result.records == [] and set(fake.parcel_order()) == {*a, *b}
    assert result.counts["detail_failures"] == 5


def test_a_bad_token_stops_everything_after_one_request(
    fake: FakeMaricopa, db: Database[dict], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.add_zip(A, 30)
    fake.add_zip(B, 3)
    wrong = "mc-WRONG-token-0123456789"
    result = collect(fake, db, [A, B], token=wrong)
    assert len(fake.requests) == 1
    assert fake.requests[0].headers["Authorization"] == wrong  # it was really sent
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "auth"), (B, "auth")]
    for failure in result.failures:
        assert "MARICOPA_API_TOKEN" in failure.reason and wrong not in failure.reason
    assert wrong not in caplog.text and "MARICOPA_API_TOKEN" in caplog.text
    assert result.records == []


def test_a_bad_token_stops_a_listed_parcel_first_too(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    a = fake.add_zip(A, 3)
    result = collect(fake, db, [A], listed={a[1]: A}, token="mc-WRONG-token-0123456789")
    assert fake.paths() == [f"/parcel/{compact(a[1])}"]
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "auth")]
    assert result.counts["listed"] == result.counts["stopped_skipped"] == 1


def test_a_token_refused_mid_run_stops_the_source(
    fake: FakeMaricopa, db: Database[dict], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    a = fake.add_zip(A, 5)
    b = sorted(fake.add_zip(B, 5))
    refused = f"/parcel/{compact(b[0])}"
    fake.inject("unauthorized", path=refused)
    result = collect(fake, db, [A, B], max_concurrency=1)
    assert fake.requests[-1].path == refused  # nothing after
    assert fake.parcel_order() == [sorted(a)[0], b[0]]  # new parcels: one ZIP after another
    assert result.counts["fetched"] == 1 and result.counts["stopped_skipped"] == 9
    assert result.counts["budget_skipped"] == 0
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "auth"), (B, "auth")]
    assert TOKEN not in caplog.text
    assert all(TOKEN not in f.reason for f in result.failures)


def test_html_at_200_is_a_recorded_failure(fake: FakeMaricopa, db: Database[dict]) -> None:
    a = fake.add_zip(A, 3)
    fake.add_zip(B, 3)
    fake.inject("html", zip_code=B)
    fake.inject("html", path=f"/parcel/{compact(a[0])}")
    result = collect(fake, db, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(B, "html_body")]
    assert len(fake.search_requests(B)) == 1  # an HTML page is not retried
    assert result.counts["detail_failures"] == 1
    assert [r.source_id for r in result.records] == sorted(a[1:])


def test_truncated_json_is_retried_then_recorded(fake: FakeMaricopa, db: Database[dict]) -> None:
    a = fake.add_zip(A, 3)
    fake.add_zip(B, 3)
    fake.inject("truncated", zip_code=B)  # every time
    fake.inject("truncated", path=f"/parcel/{compact(a[0])}", times=1)  # once
    result = collect(fake, db, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(B, "bad_json")]
    assert "malformed JSON" in result.failures[0].reason
    assert [r.source_id for r in result.records] == sorted(a)  # the once-truncated one recovered
    assert result.stats.failures_by_kind["bad_json"] == 3 + 1


def test_a_body_that_cannot_be_decoded_is_an_unexpected_failure_not_retried(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    fake.add_zip(A, 3)
    b = fake.add_zip(B, 3)
    fake.inject("bad_gzip", zip_code=A)
    result = collect(fake, db, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, UNEXPECTED_KIND)]
    assert "DecodingError" in result.failures[0].reason
    assert not is_retryable_kind(result.failures[0].kind)
    assert len(fake.search_requests(A)) == 1  # the same body would come back
    assert [r.source_id for r in result.records] == sorted(b)  # the other ZIP is untouched


def test_retry_after_is_honoured(fake: FakeMaricopa, db: Database[dict]) -> None:
    a = fake.add_zip(A, 2)
    path = f"/parcel/{compact(a[0])}"
    fake.inject("status", path=path, status=429, retry_after="1", times=1)
    result = collect(fake, db, [A])
    arrivals = [r.at for r in fake.requests if r.path == path]
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 0.9
    assert result.counts["fetched"] == 2 and result.failures == []


def test_a_slow_answer_times_out_and_is_retried(fake: FakeMaricopa, db: Database[dict]) -> None:
    a = fake.add_zip(A, 3)
    fake.inject("slow", path=f"/parcel/{compact(a[0])}", delay=0.6, times=1)
    fake.inject("slow", path=f"/parcel/{compact(a[1])}", delay=0.6)
    result = collect(fake, db, [A], timeout_seconds=0.3)
    assert result.stats.failures_by_kind["timeout"] == 1 + 3
    assert [r.source_id for r in result.records] == sorted([a[0], a[2]])
    assert result.counts["detail_failures"] == 1 and result.failures == []


def test_the_time_budget_stops_the_source(fake: FakeMaricopa, db: Database[dict]) -> None:
    fake.add_zip(A, 3)
    fake.add_zip(B, 3)
    fake.inject("status", zip_code=A, status=429, retry_after="30")
    result = collect(fake, db, [A, B], time_budget_seconds=1.0, max_concurrency=1)
    assert len(fake.requests) == 1
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "budget"), (B, "budget")]
    assert "MARICOPA_TIME_BUDGET_SECONDS" in result.failures[0].reason


def test_the_time_budget_spent_while_fetching_keeps_what_was_fetched(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    apns = fake.add_zip(A, 12)
    fake.inject("slow", path="/parcel/*", delay=0.2)
    result = collect(fake, db, [A], time_budget_seconds=1.5, max_concurrency=1)
    fetched = result.counts["fetched"]
    assert 0 < fetched < 12 and result.counts["budget_skipped"] == 12 - fetched
    assert {r.source_id for r in result.records} == set(fake.parcel_order()[:fetched])
    assert set(fake.parcel_order()) <= set(apns)
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "budget")]
    assert "MARICOPA_TIME_BUDGET_SECONDS" in result.failures[0].reason


def test_optional_details_may_fail_without_losing_the_parcel(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    a = fake.add_zip(A, 2)
    # /parcel lacks both sections: the dedicated endpoints are asked; /valuations fails.
    fake.drift(a[0], drop=["ResidentialPropertyData", "Valuations"])
    fake.inject("html", path=f"/parcel/{compact(a[0])}/valuations")
    result = collect(fake, db, [A], listed={a[0]: A})
    record = next(r for r in result.records if r.source_id == a[0])
    assert record.payload["valuations"] is None and record.payload["residential_details"]
    assert result.counts["optional_detail_failures"] == 1 and result.counts["fetched"] == 2
    assert result.counts["fetched_listed"] == 1 and result.counts["fetched_new"] == 1
    assert result.failures == []
    # The parcel is kept, with its facts from /residential-details.
    adapted = property_from_maricopa(record.payload, day=TODAY)
    assert adapted.year_built is not None and adapted.tax_year is None


def test_schema_drift_is_kept_and_counted(fake: FakeMaricopa, db: Database[dict]) -> None:
    a = fake.add_zip(A, 4)
    fake.drift(a[0], rename={"APN": "ParcelAPN"})
    fake.drift(a[1], drop=["Geo", "Valuations"])
    result = collect(fake, db, [A])  # a[1] lacks Valuations: /valuations is asked
    assert [r.source_id for r in result.records] == sorted(a)
    assert result.counts["schema_drift"] == 2
    payloads = {r.source_id: r.payload for r in result.records}
    assert "ParcelAPN" in payloads[a[0]]["parcel"]  # kept verbatim
    with pytest.raises(AdapterError, match="no APN"):
        property_from_maricopa(payloads[a[0]], day=TODAY)
    adapted = property_from_maricopa(payloads[a[1]], day=TODAY)
    assert adapted.latitude is None and adapted.tax_year == 2027  # from /valuations


# --------------------------------------------------------------------------- listed parcels


def test_listed_parcels_come_first_with_their_details(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    a = fake.add_zip(A, 3)
    outside = make_apn("85999", 1)
    result = collect(fake, db, [A], listed={a[2]: A, outside: "85999"})
    # Before any search, and a ZIP not configured is not asked.
    assert fake.paths()[:2] == [f"/parcel/{compact(a[2])}", "/search/property/"]
    assert compact(outside) not in "".join(fake.paths())
    assert result.counts["listed"] == 1 and result.counts["fetched_listed"] == 1
    assert result.counts["fetched_new"] == 2 and fake.parcel_order().count(a[2]) == 1
    # /parcel carries the residential data and the valuations: one request a parcel.
    assert len(fake.paths("/parcel/")) == 3


def test_a_parcel_not_residential_is_not_asked_for_residential_details(
    fake: FakeMaricopa, db: Database[dict]
) -> None:
    apn = make_apn(A, 4)
    body = {**parcel_fixture(apn, A, 4), "IsResidential": False}
    fake.add_parcel(A, body)
    fake.drift(apn, drop=["ResidentialPropertyData", "Valuations"])
    result = collect(fake, db, [A], listed={apn: A})
    assert fake.paths("/parcel/") == [
        f"/parcel/{compact(apn)}",
        f"/parcel/{compact(apn)}/valuations",
    ]
    (record,) = result.records
    assert record.payload["residential_details"] is None and record.payload["valuations"]


# --------------------------------------------------------------------------- records


def test_records_are_verbatim_and_requests_polite(fake: FakeMaricopa, db: Database[dict]) -> None:
    plain, listed = fake.add_zip(A, 2)
    fake.drift(listed, drop=["ResidentialPropertyData", "Valuations"])
    result = collect(fake, db, [A], listed={listed: A})
    records = {r.source_id: r for r in result.records}
    assert set(records) == {plain, listed} and {r.zip_code for r in result.records} == {A}
    parcel = fake.parcels[compact(plain)]
    assert records[plain].payload == {
        "search": parcel.hit,
        "parcel": parcel.body,
        "residential_details": None,
        "valuations": None,
    }
    parcel = fake.parcels[compact(listed)]
    assert records[listed].payload == {
        "search": None,  # fetched before any search found it
        "parcel": parcel.body,  # without its sections: the dedicated endpoints fill in
        "residential_details": parcel.residential_details,
        "valuations": parcel.valuations,
    }
    assert sorted(fake.paths("/parcel/")) == [
        f"/parcel/{compact(plain)}",
        f"/parcel/{compact(listed)}",
        f"/parcel/{compact(listed)}/residential-details",
        f"/parcel/{compact(listed)}/valuations",
    ]
    for request in fake.requests:
        assert request.headers["Authorization"] == TOKEN
        assert request.headers["User-Agent"] == "null"
        assert request.headers["Accept"] == "application/json"


def test_a_rerun_gives_identical_records(fake: FakeMaricopa, db: Database[dict]) -> None:
    a = fake.add_zip(A, 40)
    fake.add_zip(B, 7)
    seed(db, {a[0]: (A, 10), a[1]: (A, 100)})
    first = collect(fake, db, [A, B], max_concurrency=3)
    second = collect(fake, db, [A, B], max_concurrency=3)
    assert first.records == second.records and len(first.records) == 46
    assert [(r.zip_code, r.source_id) for r in first.records] == sorted(
        (r.zip_code, r.source_id) for r in first.records
    )
    # The re-run decides as the first run did, through the first run's own fetches; the
    # search passes it completed are not due again.
    decisions = [name for name in COUNT_KEYS if not name.startswith(("zips_", "search_"))]
    decisions = [n for n in decisions if n not in ("parcels_found", "inventory_new")]
    assert {n: first.counts[n] for n in decisions} == {n: second.counts[n] for n in decisions}
    assert (first.counts["stale"], first.counts["new"]) == (1, 45)
    assert second.counts["search_pages"] == 0 and first.counts["search_pages"] == 3


def test_every_zip_failing_still_returns(fake: FakeMaricopa, db: Database[dict]) -> None:
    fake.inject("status", path="/search/*", status=503)
    result = collect(fake, db, [A, B])
    assert result.zip_codes_failed == [A, B] and result.records == []
    assert [f.kind for f in result.failures] == ["http_503", "http_503"]
    assert set(result.counts) == set(COUNT_KEYS)  # every figure, and no other


def test_without_a_token_nothing_is_requested(fake: FakeMaricopa, db: Database[dict]) -> None:
    settings = dataclasses.replace(fake.settings(), token=None)
    inventory = MongoParcelInventory(db)
    result = asyncio.run(
        collect_parcels(settings, [A], inventory, day=DAY, listed=lambda: {make_apn(A, 1): A})
    )
    assert fake.requests == []
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "not_configured")]
    assert "MARICOPA_API_TOKEN" in result.failures[0].reason
    assert set(result.counts) == set(COUNT_KEYS) and not any(result.counts.values())
    assert db[ZIP_SEARCHES].count_documents({}) == 0


# --------------------------------------------------------------------------- settings


def test_settings_defaults() -> None:
    settings = MaricopaSettings.from_env({})
    assert settings.base_url == DEFAULT_BASE_URL and not settings.configured
    assert (settings.requests_per_second, settings.max_concurrency) == (3.0, 8)
    assert settings.daily_request_budget == 8000 and settings.stale_after_days == 30
    assert settings.time_budget_seconds == 3000 and settings.max_search_pages == 2000
    assert settings.search_every_days == 30
    policy = settings.policy()
    assert policy.requests_per_second == 3.0 and policy.total_budget_seconds == 3000
    assert policy.max_concurrency == 8


def test_settings_parse_and_hide_the_token() -> None:
    settings = MaricopaSettings.from_env(
        {
            "MARICOPA_API_TOKEN": f"  {TOKEN} ",
            "MARICOPA_API_BASE_URL": "http://127.0.0.1:8080/",
            "MARICOPA_REQUESTS_PER_SECOND": "0.5",
            "MARICOPA_MAX_CONCURRENCY": "4",
            "MARICOPA_DAILY_REQUEST_BUDGET": "500",
            "MARICOPA_STALE_AFTER_DAYS": "7",
            "MARICOPA_TIME_BUDGET_SECONDS": "90",
            "MARICOPA_MAX_SEARCH_PAGES": "10",
            "MARICOPA_SEARCH_EVERY_DAYS": "14",
        }
    )
    assert settings.configured and settings.token == TOKEN
    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.policy().max_concurrency == 4 and settings.policy().requests_per_second == 0.5
    assert (settings.daily_request_budget, settings.stale_after_days) == (500, 7)
    assert (settings.time_budget_seconds, settings.max_search_pages) == (90.0, 10)
    assert settings.search_every_days == 14
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MARICOPA_API_BASE_URL", "mcassessor.maricopa.gov"),
        ("MARICOPA_API_BASE_URL", "ftp://mcassessor.maricopa.gov"),
        ("MARICOPA_API_TOKEN", "two words"),
        ("MARICOPA_REQUESTS_PER_SECOND", "0"),
        ("MARICOPA_REQUESTS_PER_SECOND", "fast"),
        ("MARICOPA_REQUESTS_PER_SECOND", "nan"),
        ("MARICOPA_MAX_CONCURRENCY", "0"),
        ("MARICOPA_MAX_CONCURRENCY", "2.5"),
        ("MARICOPA_MAX_CONCURRENCY", "33"),
        ("MARICOPA_REQUESTS_PER_SECOND", "0.009"),
        ("MARICOPA_DAILY_REQUEST_BUDGET", "-1"),
        ("MARICOPA_DAILY_REQUEST_BUDGET", "100001"),
        ("MARICOPA_STALE_AFTER_DAYS", "0"),
        ("MARICOPA_STALE_AFTER_DAYS", "366"),
        ("MARICOPA_TIME_BUDGET_SECONDS", "0"),
        ("MARICOPA_TIME_BUDGET_SECONDS", "0.99"),
        ("MARICOPA_TIME_BUDGET_SECONDS", "86400.5"),
        ("MARICOPA_TIME_BUDGET_SECONDS", "inf"),
        ("MARICOPA_MAX_SEARCH_PAGES", "0"),
        ("MARICOPA_MAX_SEARCH_PAGES", "4001"),
        ("MARICOPA_SEARCH_EVERY_DAYS", "0"),
        ("MARICOPA_SEARCH_EVERY_DAYS", "366"),
        ("MARICOPA_SEARCH_EVERY_DAYS", "7.5"),
        ("MARICOPA_SEARCH_EVERY_DAYS", "monthly"),
    ],
)
def test_a_bad_setting_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        MaricopaSettings.from_env({name: value})
    assert str(raised.value).startswith(f"{name}: ")
    if name == "MARICOPA_API_TOKEN":
        assert value not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MARICOPA_DAILY_REQUEST_BUDGET", "100001", ">= 1 and <= 100000"),
        ("MARICOPA_SEARCH_EVERY_DAYS", "366", ">= 1 and <= 365"),
    ],
)
def test_a_value_past_a_bound_is_refused_naming_the_range(
    name: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        MaricopaSettings.from_env({name: value})
    assert str(raised.value) == f"{name}: {value} is out of range (expected {expected})"


@pytest.mark.parametrize(
    "env",
    [
        {
            "MARICOPA_REQUESTS_PER_SECOND": "0.01",
            "MARICOPA_DAILY_REQUEST_BUDGET": "1",
            "MARICOPA_TIME_BUDGET_SECONDS": "1",
            "MARICOPA_MAX_SEARCH_PAGES": "1",
            "MARICOPA_SEARCH_EVERY_DAYS": "1",
        },
        {
            "MARICOPA_REQUESTS_PER_SECOND": "100",
            "MARICOPA_DAILY_REQUEST_BUDGET": "100000",
            "MARICOPA_TIME_BUDGET_SECONDS": "86400",
            "MARICOPA_MAX_SEARCH_PAGES": "4000",
            "MARICOPA_SEARCH_EVERY_DAYS": "365",
        },
    ],
    ids=["lowest", "highest"],
)
def test_every_bound_itself_is_accepted(env: dict[str, str]) -> None:
    settings = MaricopaSettings.from_env(env)
    assert (
        settings.requests_per_second,
        settings.daily_request_budget,
        settings.time_budget_seconds,
        settings.max_search_pages,
        settings.search_every_days,
    ) == tuple(float(value) for value in env.values())


def test_blank_values_mean_the_defaults() -> None:
    settings = MaricopaSettings.from_env(
        {
            "MARICOPA_API_TOKEN": "  ",
            "MARICOPA_STALE_AFTER_DAYS": "",
            "MARICOPA_API_BASE_URL": "",
            "MARICOPA_SEARCH_EVERY_DAYS": " ",
        }
    )
    assert not settings.configured and settings.stale_after_days == 30
    assert settings.base_url == DEFAULT_BASE_URL and settings.search_every_days == 30
