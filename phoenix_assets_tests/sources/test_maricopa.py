"""The Maricopa Assessor source against a fake Assessor on a real HTTP server (127.0.0.1)."""

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from phoenix_assets.domain.adapters import AdapterError
from phoenix_assets.domain.maricopa_adapter import property_from_maricopa
from phoenix_assets.settings import ConfigError
from phoenix_assets.sources.collection import CollectionResult
from phoenix_assets.sources.maricopa import (
    COUNT_KEYS,
    DEFAULT_BASE_URL,
    MaricopaSettings,
    SearchShapeError,
    collect_parcels,
    parse_search_page,
)
from phoenix_assets_tests.sources.fake_maricopa import (
    SEARCH_SHAPES,
    TOKEN,
    FakeMaricopa,
    make_apn,
    parcel_fixture,
)

NOW = dt.datetime(2026, 11, 19, 10, 0, tzinfo=dt.UTC)
A, B = "85018", "85033"


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as http_server:
        yield http_server


@pytest.fixture
def fake(server: HTTPServer) -> Iterator[FakeMaricopa]:
    server.clear()  # one server for the module (stopping one takes 0.5 s); a fresh fake each test
    yield FakeMaricopa(server)
    server.clear()


def collect(
    fake: FakeMaricopa,
    zips: list[str],
    known: Mapping[str, dt.datetime] | None = None,
    **settings: Any,
) -> CollectionResult:
    return asyncio.run(collect_parcels(fake.settings(**settings), zips, known or {}, now=NOW))


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


# --------------------------------------------------------------------------- search shapes


@pytest.mark.parametrize("shape", SEARCH_SHAPES)
def test_every_search_shape_is_parsed(fake: FakeMaricopa, shape: str) -> None:
    fake.set_shape(shape)
    apns = fake.add_zip(A, 30)
    result = collect(fake, [A])
    assert result.failures == []
    assert [r.source_id for r in result.records] == sorted(apns)
    assert result.counts["search_pages"] == 2  # 25 + 5: the short page ends it
    assert result.counts["parcels_found"] == result.counts["fetched"] == 30


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


def test_an_unknown_search_shape_fails_that_zip_only(fake: FakeMaricopa) -> None:
    fake.add_zip(A, 3)
    b_apns = fake.add_zip(B, 4)
    fake.set_shape("Parcels", zip_code=A)
    result = collect(fake, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "schema")]
    assert "unknown search response shape" in result.failures[0].reason
    assert [r.source_id for r in result.records] == sorted(b_apns)
    assert set(fake.parcel_order()) == set(b_apns)  # nothing fetched for the failed ZIP


# --------------------------------------------------------------------------- pagination


@pytest.mark.parametrize(
    ("shape", "pages"),
    [("RealPropertyResults", 3), ("RealProperty", 2)],  # an empty page 3 vs TotalFound
)
def test_pagination_ends_on_an_empty_page_or_total_found(
    fake: FakeMaricopa, shape: str, pages: int
) -> None:
    fake.set_shape(shape)
    fake.add_zip(A, 50)
    result = collect(fake, [A])
    assert [r.query["page"] for r in fake.search_requests(A)] == [str(p + 1) for p in range(pages)]
    assert result.counts["search_pages"] == pages and result.counts["parcels_found"] == 50


def test_a_repeating_page_ends_the_search(fake: FakeMaricopa) -> None:
    fake.add_zip(A, 100)
    fake.repeat_page(A, 3)  # page 3 answers page 2 again, as a server ignoring ?page would
    result = collect(fake, [A])
    assert len(fake.search_requests(A)) == 3
    assert result.counts["search_loop_guard"] == 1
    assert result.counts["parcels_found"] == 50 and result.failures == []


def test_the_page_limit_ends_the_search(fake: FakeMaricopa) -> None:
    fake.add_zip(A, 80)
    result = collect(fake, [A], max_search_pages=2)
    assert len(fake.search_requests(A)) == 2
    assert result.counts["search_page_limit"] == 1 and result.counts["parcels_found"] == 50


def test_hits_in_other_zips_are_dropped_and_counted(fake: FakeMaricopa) -> None:
    apns = fake.add_zip(A, 3)
    fake.add_hit(A, {"APN": "999-99-999", "PropertyAddress": "1 W MAIN ST MESA 85201"})
    fake.add_hit(A, {"APN": "999-99-998", "PropertyAddressZip": "85251"})
    fake.add_hit(A, {"Ownership": "NO APN HERE", "PropertyAddressZip": A})
    fake.add_hit(A, {"APN": apns[0], "PropertyAddressZip": A})  # a duplicate hit
    result = collect(fake, [A])
    assert result.counts["dropped_other_zip"] == 2
    assert result.counts["hits_without_apn"] == 1 and result.counts["duplicate_hits"] == 1
    assert [r.source_id for r in result.records] == sorted(apns)
    assert result.failures == []


def test_a_hit_without_address_fields_is_kept(fake: FakeMaricopa) -> None:
    apn = make_apn(A, 7)
    fake.add_parcel(A, parcel_fixture(apn, A, 7), hit={"APN": apn.replace("-", "")})
    result = collect(fake, [A])
    assert [r.source_id for r in result.records] == [apn]
    assert result.counts["dropped_other_zip"] == 0


# --------------------------------------------------------------------------- decisions and budget


def test_new_first_then_stalest_and_fresh_skipped(fake: FakeMaricopa) -> None:
    a = fake.add_zip(A, 6)
    b = fake.add_zip(B, 4)
    known = {
        a[0]: days_ago(45),
        a[1]: days_ago(400),  # the stalest
        a[2]: days_ago(3),  # fresh
        b[0]: days_ago(31),
        b[1]: days_ago(90),
        b[2]: days_ago(30),  # exactly 30 days: not yet stale
    }
    result = collect(fake, [A, B], known, max_concurrency=1)
    new_a, new_b = a[3:], b[3:]
    round_robin = [new_a[0], new_b[0], new_a[1], new_a[2]]
    stalest_first = [a[1], b[1], a[0], b[0]]
    assert fake.parcel_order() == round_robin + stalest_first
    counts = result.counts
    assert (counts["new"], counts["stale"], counts["fresh_skipped"]) == (4, 4, 2)
    assert counts["fetched"] == 8 and counts["budget_skipped"] == 0
    assert {r.source_id for r in result.records}.isdisjoint({a[2], b[2]})


def test_fresh_parcels_cost_no_request(fake: FakeMaricopa) -> None:
    apns = fake.add_zip(A, 30)
    result = collect(fake, [A], dict.fromkeys(apns, days_ago(1)))
    assert fake.paths("/parcel/") == []
    assert result.counts["fresh_skipped"] == 30 and result.records == []
    assert result.stats.requests == 2 and result.failures == []


@pytest.mark.parametrize("budget", [1, 2, 5, 9, 10, 11])
def test_the_request_budget_is_respected_exactly(fake: FakeMaricopa, budget: int) -> None:
    a = fake.add_zip(A, 5)
    stale = fake.add_zip(A, 2, start=5)
    known = {stale[0]: days_ago(50), stale[1]: days_ago(60)}
    result = collect(fake, [A], known, daily_request_budget=budget, max_concurrency=1)
    assert len(fake.requests) == min(budget, 1 + 7 * 3) == result.stats.requests
    # Every parcel started got its /parcel; the order is still new first, then stalest.
    order = fake.parcel_order()
    assert order == [*sorted(a), stale[1], stale[0]][: len(order)]
    assert result.counts["fetched"] == len(order)
    assert result.counts["budget_skipped"] == 7 - len(order)
    if budget == 1:  # the search page itself spent it
        assert result.records == [] and result.failures == []


def test_the_budget_counts_retries_and_holds_under_concurrency(fake: FakeMaricopa) -> None:
    apns = fake.add_zip(A, 12)
    for apn in apns[:4]:
        fake.inject("status", path=f"/parcel/{apn.replace('-', '')}", status=503)
    result = collect(fake, [A], daily_request_budget=20, max_concurrency=3, max_attempts=3)
    assert len(fake.requests) <= 20 and result.stats.requests == len(fake.requests)
    assert result.stats.retries > 0 and result.counts["budget_skipped"] > 0


def test_the_budget_spent_while_searching_fails_the_unsearched_zips(fake: FakeMaricopa) -> None:
    fake.add_zip(A, 60)
    fake.add_zip(B, 3)
    result = collect(fake, [A, B], daily_request_budget=2, max_concurrency=1)
    assert len(fake.requests) == 2
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "budget"), (B, "budget")]
    assert "MARICOPA_DAILY_REQUEST_BUDGET" in result.failures[0].reason


# --------------------------------------------------------------------------- faults


def test_a_failing_zip_leaves_the_others(fake: FakeMaricopa) -> None:
    a = fake.add_zip(A, 4)
    fake.add_zip(B, 4)
    fake.inject("status", zip_code=B, status=500)
    result = collect(fake, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(B, "http_500")]
    assert len(fake.search_requests(B)) == 3  # max_attempts, then given up
    assert [r.source_id for r in result.records] == sorted(a)
    assert result.zip_codes_failed == [B]


def test_a_failing_parcel_is_counted_and_skipped(fake: FakeMaricopa) -> None:
    apns = fake.add_zip(A, 4)
    fake.inject("status", path=f"/parcel/{apns[1].replace('-', '')}", status=502)
    result = collect(fake, [A])
    assert result.counts["detail_failures"] == 1 and result.failures == []
    assert [r.source_id for r in result.records] == sorted(set(apns) - {apns[1]})


def test_a_zip_whose_every_parcel_fails_is_failed(fake: FakeMaricopa) -> None:
    a = fake.add_zip(A, 3)
    b = fake.add_zip(B, 2)
    fake.inject("status", path="/parcel/*", status=500)
    result = collect(fake, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "http_500"), (B, "http_500")]
    assert "all 3 parcel detail fetches failed" in result.failures[0].reason
    assert result.records == [] and set(fake.parcel_order()) == {*a, *b}
    assert result.counts["detail_failures"] == 5


def test_a_bad_token_stops_everything_after_one_request(
    fake: FakeMaricopa, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.add_zip(A, 30)
    fake.add_zip(B, 3)
    wrong = "mc-WRONG-token-0123456789"
    result = collect(fake, [A, B], token=wrong)
    assert len(fake.requests) == 1
    assert fake.requests[0].headers["Authorization"] == wrong  # it was really sent
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "auth"), (B, "auth")]
    for failure in result.failures:
        assert "MARICOPA_API_TOKEN" in failure.reason and wrong not in failure.reason
    assert wrong not in caplog.text and "MARICOPA_API_TOKEN" in caplog.text
    assert result.records == []


def test_a_token_refused_mid_run_stops_the_source(
    fake: FakeMaricopa, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    a = fake.add_zip(A, 5)
    b = fake.add_zip(B, 5)
    fake.inject("unauthorized", path=f"/parcel/{sorted(a)[1].replace('-', '')}")
    result = collect(fake, [A, B], max_concurrency=1)
    assert fake.requests[-1].path == f"/parcel/{sorted(a)[1].replace('-', '')}"  # nothing after
    assert fake.parcel_order() == [sorted(a)[0], sorted(b)[0], sorted(a)[1]]  # round-robin
    assert result.counts["fetched"] == 2 and result.counts["stopped_skipped"] == 8
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "auth"), (B, "auth")]
    assert TOKEN not in caplog.text
    assert all(TOKEN not in f.reason for f in result.failures)


def test_html_at_200_is_a_recorded_failure(fake: FakeMaricopa) -> None:
    a = fake.add_zip(A, 3)
    fake.add_zip(B, 3)
    fake.inject("html", zip_code=B)
    fake.inject("html", path=f"/parcel/{a[0].replace('-', '')}")
    result = collect(fake, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(B, "html_body")]
    assert len(fake.search_requests(B)) == 1  # an HTML page is not retried
    assert result.counts["detail_failures"] == 1
    assert [r.source_id for r in result.records] == sorted(a[1:])


def test_truncated_json_is_retried_then_recorded(fake: FakeMaricopa) -> None:
    a = fake.add_zip(A, 3)
    fake.add_zip(B, 3)
    fake.inject("truncated", zip_code=B)  # every time
    fake.inject("truncated", path=f"/parcel/{a[0].replace('-', '')}", times=1)  # once
    result = collect(fake, [A, B])
    assert [(f.zip_code, f.kind) for f in result.failures] == [(B, "bad_json")]
    assert "malformed JSON" in result.failures[0].reason
    assert [r.source_id for r in result.records] == sorted(a)  # the once-truncated one recovered
    assert result.stats.failures_by_kind["bad_json"] == 3 + 1


def test_retry_after_is_honoured(fake: FakeMaricopa) -> None:
    a = fake.add_zip(A, 2)
    path = f"/parcel/{a[0].replace('-', '')}"
    fake.inject("status", path=path, status=429, retry_after="1", times=1)
    result = collect(fake, [A])
    arrivals = [r.at for r in fake.requests if r.path == path]
    assert len(arrivals) == 2 and arrivals[1] - arrivals[0] >= 0.9
    assert result.counts["fetched"] == 2 and result.failures == []


def test_a_slow_answer_times_out_and_is_retried(fake: FakeMaricopa) -> None:
    a = fake.add_zip(A, 3)
    fake.inject("slow", path=f"/parcel/{a[0].replace('-', '')}", delay=0.6, times=1)
    fake.inject("slow", path=f"/parcel/{a[1].replace('-', '')}", delay=0.6)
    result = collect(fake, [A], timeout_seconds=0.3)
    assert result.stats.failures_by_kind["timeout"] == 1 + 3
    assert [r.source_id for r in result.records] == sorted([a[0], a[2]])
    assert result.counts["detail_failures"] == 1 and result.failures == []


def test_the_time_budget_stops_the_source(fake: FakeMaricopa) -> None:
    fake.add_zip(A, 3)
    fake.add_zip(B, 3)
    fake.inject("status", zip_code=A, status=429, retry_after="30")
    result = collect(fake, [A, B], time_budget_seconds=1.0, max_concurrency=1)
    assert len(fake.requests) == 1
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "budget"), (B, "budget")]
    assert "MARICOPA_TIME_BUDGET_SECONDS" in result.failures[0].reason


def test_the_time_budget_spent_while_fetching_keeps_what_was_fetched(fake: FakeMaricopa) -> None:
    apns = fake.add_zip(A, 12)
    fake.inject("slow", path="/parcel/*", delay=0.1)
    result = collect(fake, [A], time_budget_seconds=1.5, max_concurrency=1)
    fetched = result.counts["fetched"]
    assert 0 < fetched < 12 and result.counts["budget_skipped"] == 12 - fetched
    assert {r.source_id for r in result.records} == set(fake.parcel_order()[:fetched])
    assert set(fake.parcel_order()) <= set(apns)
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "budget")]


def test_optional_details_may_fail_without_losing_the_parcel(fake: FakeMaricopa) -> None:
    a = fake.add_zip(A, 2)
    fake.inject("html", path=f"/parcel/{a[0].replace('-', '')}/valuations")
    result = collect(fake, [A])
    record = next(r for r in result.records if r.source_id == a[0])
    assert record.payload["valuations"] is None and record.payload["residential_details"]
    assert result.counts["optional_detail_failures"] == 1 and result.counts["fetched"] == 2
    # The adapter falls back to the parcel's own valuation history.
    assert property_from_maricopa(record.payload, day=NOW.date()).tax_year == 2027


def test_schema_drift_is_kept_and_counted(fake: FakeMaricopa) -> None:
    a = fake.add_zip(A, 4)
    fake.drift(a[0], rename={"APN": "ParcelAPN"})
    fake.drift(a[1], drop=["Geo", "Valuations"])
    result = collect(fake, [A])
    assert [r.source_id for r in result.records] == sorted(a)
    assert result.counts["schema_drift"] == 2
    payloads = {r.source_id: r.payload for r in result.records}
    assert "ParcelAPN" in payloads[a[0]]["parcel"]  # kept verbatim
    with pytest.raises(AdapterError, match="no APN"):
        property_from_maricopa(payloads[a[0]], day=NOW.date())
    adapted = property_from_maricopa(payloads[a[1]], day=NOW.date())
    assert adapted.latitude is None and adapted.tax_year == 2027  # from /valuations


# --------------------------------------------------------------------------- records


def test_records_are_verbatim_and_requests_polite(fake: FakeMaricopa) -> None:
    apn = fake.add_zip(A, 1)[0]
    result = collect(fake, [A])
    (record,) = result.records
    assert record.source_id == apn and record.zip_code == A
    parcel = fake.parcels[apn.replace("-", "")]
    assert record.payload == {
        "search": parcel.hit,
        "parcel": parcel.body,
        "residential_details": parcel.residential_details,
        "valuations": parcel.valuations,
    }
    assert fake.paths("/parcel/") == [
        f"/parcel/{apn.replace('-', '')}",
        f"/parcel/{apn.replace('-', '')}/residential-details",
        f"/parcel/{apn.replace('-', '')}/valuations",
    ]
    for request in fake.requests:
        assert request.headers["Authorization"] == TOKEN
        assert request.headers["User-Agent"] == "null"


def test_a_rerun_gives_identical_records(fake: FakeMaricopa) -> None:
    a = fake.add_zip(A, 40)
    fake.add_zip(B, 7)
    known = {a[0]: days_ago(10), a[1]: days_ago(100)}
    first = collect(fake, [A, B], known, max_concurrency=3)
    second = collect(fake, [A, B], known, max_concurrency=3)
    assert first.records == second.records and len(first.records) == 46
    assert [(r.zip_code, r.source_id) for r in first.records] == sorted(
        (r.zip_code, r.source_id) for r in first.records
    )
    assert first.counts == second.counts


def test_every_zip_failing_still_returns(fake: FakeMaricopa) -> None:
    fake.inject("status", path="/search/*", status=503)
    result = collect(fake, [A, B])
    assert result.zip_codes_failed == [A, B] and result.records == []
    assert set(COUNT_KEYS) <= set(result.counts)


def test_without_a_token_nothing_is_requested(fake: FakeMaricopa) -> None:
    settings = dataclasses.replace(fake.settings(), token=None)
    result = asyncio.run(collect_parcels(settings, [A], {}, now=NOW))
    assert fake.requests == []
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "not_configured")]
    assert "MARICOPA_API_TOKEN" in result.failures[0].reason


# --------------------------------------------------------------------------- settings


def test_settings_defaults() -> None:
    settings = MaricopaSettings.from_env({})
    assert settings.base_url == DEFAULT_BASE_URL and not settings.configured
    assert (settings.requests_per_second, settings.max_concurrency) == (1.0, 2)
    assert settings.daily_request_budget == 2000 and settings.stale_after_days == 30
    assert settings.time_budget_seconds == 3000 and settings.max_search_pages == 200
    policy = settings.policy()
    assert policy.requests_per_second == 1.0 and policy.total_budget_seconds == 3000


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
        }
    )
    assert settings.configured and settings.token == TOKEN
    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.policy().max_concurrency == 4 and settings.policy().requests_per_second == 0.5
    assert (settings.daily_request_budget, settings.stale_after_days) == (500, 7)
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
    ],
)
def test_a_bad_setting_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        MaricopaSettings.from_env({name: value})
    assert str(raised.value).startswith(f"{name}: ")
    if name == "MARICOPA_API_TOKEN":
        assert value not in str(raised.value)


def test_a_value_past_a_bound_is_refused_naming_the_range() -> None:
    with pytest.raises(ConfigError) as raised:
        MaricopaSettings.from_env({"MARICOPA_DAILY_REQUEST_BUDGET": "100001"})
    assert str(raised.value) == (
        "MARICOPA_DAILY_REQUEST_BUDGET: 100001 is out of range (expected >= 1 and <= 100000)"
    )


@pytest.mark.parametrize(
    "env",
    [
        {
            "MARICOPA_REQUESTS_PER_SECOND": "0.01",
            "MARICOPA_DAILY_REQUEST_BUDGET": "1",
            "MARICOPA_TIME_BUDGET_SECONDS": "1",
            "MARICOPA_MAX_SEARCH_PAGES": "1",
        },
        {
            "MARICOPA_REQUESTS_PER_SECOND": "100",
            "MARICOPA_DAILY_REQUEST_BUDGET": "100000",
            "MARICOPA_TIME_BUDGET_SECONDS": "86400",
            "MARICOPA_MAX_SEARCH_PAGES": "4000",
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
    ) == tuple(float(value) for value in env.values())


def test_blank_values_mean_the_defaults() -> None:
    settings = MaricopaSettings.from_env(
        {"MARICOPA_API_TOKEN": "  ", "MARICOPA_STALE_AFTER_DAYS": "", "MARICOPA_API_BASE_URL": ""}
    )
    assert not settings.configured and settings.stale_after_days == 30
    assert settings.base_url == DEFAULT_BASE_URL
