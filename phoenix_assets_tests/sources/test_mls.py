"""The MLS (RESO Web API) source against a fake RESO server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import random
from collections.abc import Mapping
from typing import Any

import pytest
from pymongo.database import Database
from pytest_httpserver import HTTPServer

from phoenix_assets.domain.adapters import RESO_FIELDS, property_from_reso
from phoenix_assets.settings import ConfigError
from phoenix_assets.sources.collection import CollectionResult
from phoenix_assets.sources.envelope import raw_document
from phoenix_assets.sources.mls import (
    COUNT_KEYS,
    MAX_REREADS,
    MLS_SOURCE,
    ON_MARKET_FILTER,
    MlsSettings,
    ZipWindow,
    collect_listings,
    modification_time,
    odata_timestamp,
    parse_timestamp,
)
from phoenix_assets.storage.version_log import append_versions, version_document
from phoenix_assets_tests.sources.fake_reso import (
    PROPERTY_PATH,
    TOKEN_PATH,
    FakeReso,
    iso_z,
    make_listing,
    make_listings,
)

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
# Before every fake listing (they are modified in the hours before NOW).
LONG_AGO = NOW - dt.timedelta(days=30)
A, B, C = "85018", "85033", "85044"
TOKEN = "static-SECRET-token-9f8e7d6c"
CLIENT_ID = "client-ID-4411aa"
CLIENT_SECRET = "client-SECRET-77aa55bb"


def listings(per_zip: int = 12, zips: tuple[str, ...] = (A, B, C)) -> list[dict[str, Any]]:
    return make_listings(zips, per_zip, newest=NOW - dt.timedelta(hours=1))


def fake_for(server: HTTPServer, per_zip: int = 12, **options: Any) -> FakeReso:
    options.setdefault("auth", "static")
    if options["auth"] == "static":
        options.setdefault("static_token", TOKEN)
    if options["auth"] == "oauth":
        options.setdefault("client_id", CLIENT_ID)
        options.setdefault("client_secret", CLIENT_SECRET)
    return FakeReso(server, listings(per_zip), **options)


def settings_for(fake: FakeReso, **overrides: Any) -> MlsSettings:
    values: dict[str, Any] = dict(
        base_url=fake.base_url,
        requests_per_second=50,
        max_concurrency=1,
        page_size=5,
        time_budget_seconds=60,
        timeout_seconds=2,
        max_attempts=4,
        backoff_initial_seconds=0.01,
        backoff_max_seconds=0.05,
        max_retry_after_seconds=2,
    )
    if fake.auth == "oauth":
        values.update(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_url=fake.token_url)
    else:
        values.update(token=TOKEN)
    values.update(overrides)
    return MlsSettings(**values)


def collect(
    settings: MlsSettings,
    zips: tuple[str, ...] = (A, B, C),
    windows: Mapping[str, ZipWindow] | None = None,
    now: dt.datetime = NOW,
) -> CollectionResult:
    """Collect ``zips``; a ZIP not in ``windows`` is asked for everything since LONG_AGO."""
    asked = {zip_code: ZipWindow(since=LONG_AGO) for zip_code in zips}
    asked.update(windows or {})
    return asyncio.run(collect_listings(settings, zips, asked, now=now))


def ts(listing: Mapping[str, Any]) -> dt.datetime:
    stamp = parse_timestamp(listing["ModificationTimestamp"])
    assert stamp is not None
    return stamp


def iso_z_us(value: dt.datetime) -> str:
    """A time as the version log's ``_id`` spells it."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def by_time(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda r: (ts(r), r["ListingKey"]))


def keys(result: CollectionResult, zip_code: str | None = None) -> list[str]:
    return [r.source_id for r in result.records if zip_code is None or r.zip_code == zip_code]


# --- settings -----------------------------------------------------------------------------------


BASE = "https://api.example-mls.com/reso/odata"


def test_settings_with_a_static_token() -> None:
    settings = MlsSettings.from_env({"MLS_RESO_BASE_URL": BASE + "/", "MLS_RESO_TOKEN": TOKEN})
    assert settings.configured and not settings.uses_client_credentials
    assert settings.base_url == BASE
    assert settings.auth_variables == "MLS_RESO_TOKEN"
    assert (settings.requests_per_second, settings.max_concurrency, settings.page_size) == (
        2,
        1,
        200,
    )
    assert (settings.time_budget_seconds, settings.overlap_hours) == (1800, 24)
    policy = settings.policy()
    assert (policy.requests_per_second, policy.max_concurrency) == (2, 1)
    assert policy.total_budget_seconds == 1800
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)


def test_settings_with_client_credentials() -> None:
    settings = MlsSettings.from_env(
        {
            "MLS_RESO_BASE_URL": BASE,
            "MLS_RESO_CLIENT_ID": CLIENT_ID,
            "MLS_RESO_CLIENT_SECRET": CLIENT_SECRET,
            "MLS_RESO_TOKEN_URL": "https://auth.example-mls.com/oauth2/token",
            "MLS_RESO_REQUESTS_PER_SECOND": "0.5",
            "MLS_RESO_MAX_CONCURRENCY": "3",
            "MLS_RESO_PAGE_SIZE": "1000",
            "MLS_RESO_TIME_BUDGET_SECONDS": "600",
            "MLS_RESO_OVERLAP_HOURS": "36.5",
        }
    )
    assert settings.configured and settings.uses_client_credentials
    assert settings.auth_variables == "MLS_RESO_CLIENT_ID/MLS_RESO_CLIENT_SECRET"
    assert (settings.requests_per_second, settings.max_concurrency, settings.page_size) == (
        0.5,
        3,
        1000,
    )
    assert (settings.time_budget_seconds, settings.overlap_hours) == (600, 36.5)
    assert CLIENT_SECRET not in repr(settings) and CLIENT_ID not in repr(settings)


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"MLS_RESO_CLIENT_ID": CLIENT_ID}, "MLS_RESO_CLIENT_SECRET, MLS_RESO_TOKEN_URL:"),
        ({"MLS_RESO_CLIENT_SECRET": CLIENT_SECRET}, "MLS_RESO_CLIENT_ID, MLS_RESO_TOKEN_URL:"),
        (
            {"MLS_RESO_CLIENT_ID": CLIENT_ID, "MLS_RESO_CLIENT_SECRET": CLIENT_SECRET},
            "MLS_RESO_TOKEN_URL:",
        ),
        (
            {"MLS_RESO_TOKEN_URL": "https://auth.example-mls.com/token"},
            "MLS_RESO_CLIENT_ID, MLS_RESO_CLIENT_SECRET:",
        ),
        ({"MLS_RESO_TOKEN": TOKEN, "MLS_RESO_CLIENT_ID": CLIENT_ID}, "MLS_RESO_TOKEN:"),
    ],
)
def test_a_partial_or_mixed_credential_set_names_the_variables(
    given: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        MlsSettings.from_env({"MLS_RESO_BASE_URL": BASE, **given})
    message = str(raised.value)
    assert message.startswith(named)
    assert CLIENT_SECRET not in message and TOKEN not in message and CLIENT_ID not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MLS_RESO_PAGE_SIZE", "0"),
        ("MLS_RESO_PAGE_SIZE", "1001"),
        ("MLS_RESO_PAGE_SIZE", "lots"),
        ("MLS_RESO_REQUESTS_PER_SECOND", "0"),
        ("MLS_RESO_REQUESTS_PER_SECOND", "nan"),
        ("MLS_RESO_MAX_CONCURRENCY", "0"),
        ("MLS_RESO_TIME_BUDGET_SECONDS", "-5"),
        ("MLS_RESO_OVERLAP_HOURS", "a day"),
        ("MLS_RESO_OVERLAP_HOURS", "-1"),
        ("MLS_RESO_OVERLAP_HOURS", "145"),
        ("MLS_RESO_OVERLAP_HOURS", "nan"),
        ("MLS_RESO_BASE_URL", "ftp://api.example-mls.com/odata"),
        ("MLS_RESO_BASE_URL", "http://api.example-mls.com/odata"),
        ("MLS_RESO_BASE_URL", "https://api.example-mls.com/odata?key=1"),
        ("MLS_RESO_BASE_URL", "api.example-mls.com"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    env = {"MLS_RESO_BASE_URL": BASE, "MLS_RESO_TOKEN": TOKEN, name: value}
    with pytest.raises(ConfigError, match=f"^{name}: "):
        MlsSettings.from_env(env)


@pytest.mark.parametrize(("value", "hours"), [("0", 0), ("144", 144), ("6.5", 6.5), (" 12 ", 12)])
def test_the_overlap_may_be_anything_from_none_to_six_days(value: str, hours: float) -> None:
    env = {"MLS_RESO_BASE_URL": BASE, "MLS_RESO_TOKEN": TOKEN, "MLS_RESO_OVERLAP_HOURS": value}
    assert MlsSettings.from_env(env).overlap_hours == hours


def test_unconfigured_settings_say_what_is_missing() -> None:
    settings = MlsSettings.from_env({})
    assert not settings.configured
    assert settings.missing_variables()[0] == "MLS_RESO_BASE_URL"
    assert not MlsSettings.from_env({"MLS_RESO_BASE_URL": BASE}).configured
    assert not MlsSettings.from_env({"MLS_RESO_TOKEN": TOKEN}).configured
    with pytest.raises(ConfigError, match=r"^MLS_RESO_BASE_URL"):
        collect(settings)


def test_http_is_allowed_for_localhost_only() -> None:
    settings = MlsSettings.from_env(
        {"MLS_RESO_BASE_URL": "http://127.0.0.1:8080/odata", "MLS_RESO_TOKEN": TOKEN}
    )
    assert settings.base_url == "http://127.0.0.1:8080/odata"


def test_timestamps_parse_and_format() -> None:
    assert parse_timestamp("2026-11-24T10:11:12.1234567Z") == dt.datetime(
        2026, 11, 24, 10, 11, 12, 123456, tzinfo=dt.UTC
    )  # truncated, never rounded up
    assert parse_timestamp("2026-11-24T03:11:12-07:00") == dt.datetime(
        2026, 11, 24, 10, 11, 12, tzinfo=dt.UTC
    )
    assert parse_timestamp("na") is None and parse_timestamp(None) is None
    assert odata_timestamp(dt.datetime(2026, 11, 24, tzinfo=dt.UTC)) == "2026-11-24T00:00:00Z"
    assert odata_timestamp(dt.datetime(2026, 11, 24, 0, 0, 0, 5, tzinfo=dt.UTC)) == (
        "2026-11-24T00:00:00.000005Z"
    )


# --- day windows and paging -----------------------------------------------------------------


def test_the_fake_listings_are_valid_reso_records() -> None:
    for listing in listings(per_zip=30):
        prop = property_from_reso(listing, source=MLS_SOURCE, day=NOW.date())
        assert prop.parcel_number and prop.list_price and prop.postal_code == listing["PostalCode"]


def test_a_window_returns_only_the_records_modified_after_its_start(server: HTTPServer) -> None:
    fake = fake_for(server)
    in_a = by_time(fake.listings(A))
    since = ts(in_a[4])
    result = collect(settings_for(fake), (A, B), {A: ZipWindow(since=since)})

    assert not result.failures
    assert keys(result, A) == [r["ListingKey"] for r in in_a[5:]]  # in the server's order
    assert len(keys(result, B)) == 12  # B's window starts before all of them

    first = fake.property_requests(A)[0]
    assert first.query["$filter"] == (
        f"PostalCode eq '{A}' and ModificationTimestamp gt {odata_timestamp(since)}"
    )
    assert first.query["$orderby"] == "ModificationTimestamp asc,ListingKey asc"
    assert first.query["$top"] == "5"
    selected = first.query["$select"].split(",")
    assert {"ListingKey", "ModificationTimestamp", "ParcelNumber", "OnMarketDate"} <= set(selected)
    assert set(RESO_FIELDS) <= set(selected)
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    b_filter = fake.property_requests(B)[0].query["$filter"]
    assert b_filter.endswith(f"gt {odata_timestamp(LONG_AGO)}")
    # No inventory was asked for.
    assert not any("StandardStatus" in r.query["$filter"] for r in fake.property_requests())
    # Payloads are verbatim: what was selected, nothing added.
    payload = next(r.payload for r in result.records if r.zip_code == A)
    assert payload == {k: v for k, v in in_a[5].items() if k in selected}
    assert set(COUNT_KEYS) <= set(result.counts)
    assert result.counts["records"] == result.counts["records_received"] == 7 + 12
    assert result.counts["zips_inventory_taken"] == result.counts["inventory_records"] == 0


def test_a_zip_with_nothing_new_in_its_window_is_up_to_date(server: HTTPServer) -> None:
    fake = fake_for(server)
    newest = max(ts(r) for r in fake.listings(A))
    result = collect(settings_for(fake), (A,), {A: ZipWindow(since=newest)})
    assert result.records == [] and not result.failures
    assert result.counts["zips_up_to_date"] == 1 and result.counts["pages"] == 1
    assert result.counts["zips_complete"] == 1


def test_an_inventory_zip_also_gets_old_listings_on_the_market_and_not_old_ended_ones(
    server: HTTPServer,
) -> None:
    fake = fake_for(server, per_zip=7)
    rng = random.Random(3)
    old: dict[str, dict[str, Any]] = {}
    for n, status in enumerate(
        ["Active", "Pending", "ActiveUnderContract", "ComingSoon", "Hold", "Closed", "Expired"]
    ):
        for zip_code in (A, B):
            listing = make_listing(rng, zip_code, 80 + n, NOW - dt.timedelta(days=60 + n))
            listing.update(StandardStatus=status)
            old[listing["ListingKey"]] = listing
    fake.upsert(old.values())
    since = NOW - dt.timedelta(days=2)
    windows = {A: ZipWindow(since=since, inventory=True), B: ZipWindow(since=since)}
    result = collect(settings_for(fake), (A, B), windows)

    assert not result.failures
    recent_a = {r["ListingKey"] for r in fake.listings(A) if ts(r) > since}
    on_market_a = {
        k
        for k, r in old.items()
        if r["PostalCode"] == A and r["StandardStatus"] not in ("Closed", "Expired")
    }
    assert len(recent_a) == 7 and len(on_market_a) == 5
    assert set(keys(result, A)) == recent_a | on_market_a  # not the old Closed and Expired
    assert len(keys(result, A)) == len(recent_a | on_market_a)  # each listing once
    assert set(keys(result, B)) == {r["ListingKey"] for r in fake.listings(B) if ts(r) > since}

    # The inventory first (paged like any query), then the window.
    filters = [r.query["$filter"] for r in fake.property_requests(A)]
    assert filters[0] == f"PostalCode eq '{A}' and {ON_MARKET_FILTER}"
    assert (
        filters[-1] == f"PostalCode eq '{A}' and ModificationTimestamp gt {odata_timestamp(since)}"
    )
    assert not any("StandardStatus" in r.query["$filter"] for r in fake.property_requests(B))
    recent_on_market = [
        r for r in fake.listings(A) if ts(r) > since and r["StandardStatus"] != "Closed"
    ]
    assert result.counts["zips_inventory_taken"] == 1
    assert result.counts["inventory_records"] == 5 + len(recent_on_market)
    assert result.counts["duplicates_dropped"] == len(recent_on_market)  # in both queries


def test_a_failing_inventory_zip_is_failed_and_keeps_what_it_got(server: HTTPServer) -> None:
    fake = fake_for(server, per_zip=12)
    fake.inject("503", zip_code=A, times=None, skip=1)  # the inventory's second page fails
    result = collect(settings_for(fake), (A, B), {A: ZipWindow(since=LONG_AGO, inventory=True)})
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "http_503")]
    assert len(keys(result, A)) == 5 and len(keys(result, B)) == 12
    assert result.counts["zips_inventory_taken"] == 0 and result.counts["zips_failed"] == 1
    # The window was never asked for: the ZIP stopped at the failure.
    assert all("StandardStatus" in r.query["$filter"] for r in fake.property_requests(A))


@pytest.mark.parametrize(
    ("paging", "next_link", "empty_last_page"),
    [
        ("skip", "absolute", False),
        ("skip", "relative", True),
        ("skiptoken", "relative", False),
        ("skiptoken", "absolute", True),
    ],
)
def test_paging_across_several_pages(
    server: HTTPServer, paging: str, next_link: str, empty_last_page: bool
) -> None:
    fake = fake_for(server, per_zip=13, paging=paging, next_link=next_link)
    fake.empty_last_page = empty_last_page
    result = collect(settings_for(fake))
    assert not result.failures
    for zip_code in (A, B, C):
        assert keys(result, zip_code) == [r["ListingKey"] for r in by_time(fake.listings(zip_code))]
        assert len(fake.property_requests(zip_code)) == (4 if empty_last_page else 3)
    assert result.counts["pages"] == 3 * (4 if empty_last_page else 3)
    assert result.counts["zips_complete"] == 3 and result.counts["duplicates_dropped"] == 0
    assert result.counts["paging_shifts"] == 0


def test_a_nextlink_loop_stops_that_zip_only(server: HTTPServer) -> None:
    fake = fake_for(server, per_zip=25)
    fake.loop_zips = {A}
    result = collect(settings_for(fake), (A, B))
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "pagination_loop")]
    assert len(fake.property_requests(A)) == 3  # pages 1, 2, 3; page 3 leads back to 2
    assert len(keys(result, A)) == 15  # the pages read are real data: kept
    assert len(keys(result, B)) == 25
    assert result.counts["zips_failed"] == 1 and result.counts["records_from_failed_zips"] == 15


def test_one_failing_zip_leaves_the_others(server: HTTPServer) -> None:
    fake = fake_for(server)
    fake.inject("500", zip_code=A, times=None)
    fake.inject("html", zip_code=B, times=None)
    settings = settings_for(fake)
    result = collect(settings, (A, B, C), {A: ZipWindow(since=NOW - dt.timedelta(days=2))})
    assert sorted((f.zip_code, f.kind) for f in result.failures) == [
        (A, "http_500"),
        (B, "html_body"),
    ]
    assert result.zip_codes_failed == [A, B]
    assert len(keys(result, C)) == 12 and keys(result, A) == keys(result, B) == []
    assert len(fake.property_requests(A)) == settings.max_attempts
    assert len(fake.property_requests(B)) == 1  # an HTML page is not retried
    assert result.stats.failures_by_kind["http_500"] == settings.max_attempts
    assert result.counts["zips_complete"] == 1 and result.counts["zips_failed"] == 2


def test_a_zip_failing_after_some_pages_keeps_them_and_is_failed(server: HTTPServer) -> None:
    fake = fake_for(server)
    fake.inject("503", zip_code=A, times=None, skip=1)
    result = collect(settings_for(fake), (A,))
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "http_503")]
    assert keys(result, A) == [r["ListingKey"] for r in by_time(fake.listings(A))[:5]]
    assert result.counts["records_from_failed_zips"] == 5 and result.counts["zips_complete"] == 0


def test_transient_faults_are_retried_and_change_nothing(server: HTTPServer) -> None:
    fake = fake_for(server)
    clean = collect(settings_for(fake))
    fake.requests.clear()
    fake.inject("429", zip_code=A, retry_after="1")
    fake.inject("503", zip_code=A, skip=1)
    fake.inject("truncated", zip_code=B)
    fake.inject("slow", zip_code=C, delay=2.5)
    result = collect(settings_for(fake, timeout_seconds=1))
    assert not result.failures
    assert result.records == clean.records
    assert result.stats.retries == 4
    arrivals = [r.time for r in fake.property_requests(A)]
    assert arrivals[1] - arrivals[0] >= 0.9  # Retry-After honoured


def test_concurrency_does_not_change_the_result(server: HTTPServer) -> None:
    fake = fake_for(server, per_zip=11)
    windows = {B: ZipWindow(since=LONG_AGO, inventory=True)}
    serial = collect(settings_for(fake), windows=windows)
    parallel = collect(settings_for(fake, max_concurrency=3), windows=windows)
    assert serial.records == parallel.records and serial.counts == parallel.counts


def test_rerunning_on_an_unchanged_server_gives_identical_records(server: HTTPServer) -> None:
    fake = fake_for(server, paging="skiptoken")
    windows = {
        A: ZipWindow(since=NOW - dt.timedelta(hours=5)),
        B: ZipWindow(since=NOW - dt.timedelta(hours=2), inventory=True),
    }
    first = collect(settings_for(fake), (A, B, C), windows)
    second = collect(settings_for(fake), (A, B, C), windows)
    assert first.records and first.records == second.records
    assert first.counts == second.counts


def test_the_time_budget_ends_the_run(server: HTTPServer) -> None:
    fake = fake_for(server)
    fake.inject("slow", delay=0.8, times=None)
    result = collect(settings_for(fake, time_budget_seconds=1.5, timeout_seconds=5))
    assert [(f.zip_code, f.kind) for f in result.failures] == [
        (A, "budget"),
        (B, "budget"),
        (C, "budget"),
    ]
    assert len(fake.property_requests()) == 2
    assert len(result.records) == 10  # the pages read are kept


def test_a_nextlink_to_another_host_is_not_followed(server: HTTPServer) -> None:
    fake = fake_for(server)
    fake.foreign_next_link = "https://mls-mirror.example.net/reso/odata/Property?$skip=5"
    result = collect(settings_for(fake), (A,))
    assert [f.kind for f in result.failures] == ["foreign_next_link"]
    assert len(fake.property_requests()) == 1 and len(result.records) == 5


# --- schema drift and duplicates ------------------------------------------------------------


def test_schema_drift_is_kept_and_counted(
    server: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    fake = fake_for(server)
    in_a = by_time(fake.listings(A))
    fake.drop_listing_key = {in_a[3]["ListingKey"]}
    fake.renames = {"ListPrice": "ListPriceUSD", "ParcelNumber": "APN"}
    fake.rename_for = {in_a[6]["ListingKey"]}
    future = make_listing(random.Random(1), B, 99, NOW + dt.timedelta(days=40))
    fake.upsert([future])
    result = collect(settings_for(fake), (A, B))

    assert not result.failures
    missing = [r for r in result.records if r.source_id.startswith("missing-key:")]
    assert len(missing) == 1 and "ListingKey" not in missing[0].payload
    assert len(missing[0].source_id) == len("missing-key:") + 16
    renamed = next(r for r in result.records if r.source_id == in_a[6]["ListingKey"])
    assert "ListPriceUSD" in renamed.payload and "ListPrice" not in renamed.payload
    kept = next(r for r in result.records if r.source_id == future["ListingKey"])  # kept ...
    assert modification_time(kept.payload, NOW) is None  # ... but its time is not trusted
    assert result.counts["schema_drift"] == 3
    assert result.counts["drift_missing_listing_key"] == 1
    assert result.counts["drift_unexpected_fields"] == 1
    assert result.counts["drift_future_modification_timestamp"] == 1
    assert result.counts["records"] == 25
    assert "ListPriceUSD" in caplog.text and "APN" in caplog.text


def test_a_feed_changing_while_paged_is_read_again_and_skips_nothing(server: HTTPServer) -> None:
    """With $skip paging, a listing modified after it was read moves to the end, and the
    listing after the page boundary moves up into the page already read: it would be
    missed. The listing then comes twice, so the ZIP is read again from just before its
    first appearance: the missed one is read, and the newer version is kept."""
    fake = fake_for(server, per_zip=15, paging="skip")
    in_a = by_time(fake.listings(A))
    moved, missed = in_a[2], in_a[5]
    fired: list[dict[str, Any]] = []

    def modify_after_first_page(fake: FakeReso, zip_code: str | None, page: int) -> None:
        if zip_code == A and page == 0 and not fired:
            fired.append(fake.touch(moved["ListingKey"], NOW - dt.timedelta(minutes=1)))

    fake.after_page = modify_after_first_page
    result = collect(settings_for(fake), (A, B))
    assert fired and not result.failures
    assert missed["ListingKey"] in keys(result)
    assert set(keys(result, A)) == {r["ListingKey"] for r in fake.listings(A)}
    assert len(keys(result, A)) == 15  # each once
    record = next(r for r in result.records if r.source_id == moved["ListingKey"])
    assert record.payload["ModificationTimestamp"] == iso_z(NOW - dt.timedelta(minutes=1))
    assert result.counts["paging_shifts"] == 1
    # Read again from the last listing before the moved one's first appearance.
    filters = [r.query["$filter"] for r in fake.property_requests(A) if "$skip" not in r.query]
    assert filters == [
        f"PostalCode eq '{A}' and ModificationTimestamp gt {odata_timestamp(LONG_AGO)}",
        f"PostalCode eq '{A}' and ModificationTimestamp gt {odata_timestamp(ts(in_a[1]))}",
    ]
    assert len(keys(result, B)) == 15
    assert sum("$skip" not in r.query for r in fake.property_requests(B)) == 1  # read once


def test_an_inventory_read_while_the_feed_shifts_skips_no_listing_on_the_market(
    server: HTTPServer,
) -> None:
    """The same hazard in the standing-inventory query: a listing on the market that was
    shifted past is old (outside the window), so only the inventory can find it, and the
    raw asset records the ZIP's baseline after this run: it would never be asked again."""
    fake = fake_for(server, per_zip=0, paging="skip")
    rng = random.Random(11)
    old = []
    for n in range(15):
        listing = make_listing(rng, A, n, NOW - dt.timedelta(days=90 - n))
        listing.update(StandardStatus="Active")
        listing.pop("ClosePrice", None)
        listing.pop("CloseDate", None)
        old.append(listing)
    fake.upsert(old)
    moved, shifted = old[2], old[5]
    fired: list[dict[str, Any]] = []

    def modify_after_first_inventory_page(fake: FakeReso, zip_code: str | None, page: int) -> None:
        if zip_code == A and page == 0 and not fired:
            fired.append(fake.touch(moved["ListingKey"], NOW - dt.timedelta(minutes=1)))

    fake.after_page = modify_after_first_inventory_page
    since = NOW - dt.timedelta(days=2)
    result = collect(settings_for(fake), (A,), {A: ZipWindow(since=since, inventory=True)})
    assert fired and not result.failures and result.counts["zips_inventory_taken"] == 1
    assert moved["ListingKey"] in keys(result)
    # The listing that moved up into the page already read must be read too.
    assert shifted["ListingKey"] in keys(result), "an on-market listing was skipped"
    assert set(keys(result)) == {r["ListingKey"] for r in old}


def test_a_feed_that_keeps_shifting_is_read_again_a_bounded_number_of_times(
    server: HTTPServer,
) -> None:
    fake = fake_for(server, per_zip=15, paging="skip")
    in_a = by_time(fake.listings(A))
    touched = [in_a[2], in_a[4], in_a[6], in_a[8]]
    fired: list[dict[str, Any]] = []

    def modify_after_every_first_page(fake: FakeReso, zip_code: str | None, page: int) -> None:
        if zip_code == A and page == 0 and len(fired) < len(touched):
            later = NOW - dt.timedelta(minutes=10 - len(fired))
            fired.append(fake.touch(touched[len(fired)]["ListingKey"], later))

    fake.after_page = modify_after_every_first_page
    result = collect(settings_for(fake), (A,))
    assert not result.failures and result.counts["zips_complete"] == 1
    assert result.counts["paging_shifts"] == MAX_REREADS
    queries = [r for r in fake.property_requests(A) if "$skip" not in r.query]
    assert len(queries) == 1 + MAX_REREADS
    # Each listing once, at its latest version read.
    assert len(keys(result)) == len(set(keys(result)))
    for version in fired[: 1 + MAX_REREADS]:
        record = next(r for r in result.records if r.source_id == version["ListingKey"])
        assert record.payload["ModificationTimestamp"] == version["ModificationTimestamp"]


# --- a run that dies half-way ---------------------------------------------------------------


def _append(db: Database[dict], result: CollectionResult, zips: tuple[str, ...]) -> None:
    """What the raw asset does with these ZIPs' records: append them to the version log."""
    versions = [
        version_document(
            raw_document(
                source=MLS_SOURCE,
                source_id=r.source_id,
                zip_code=r.zip_code,
                payload=r.payload,
                collected_at=NOW,
                partition_key="",
            ),
            modified=modification_time(r.payload, NOW),
            collected_at=NOW,
        )
        for r in result.records
        if r.zip_code in zips
    ]
    append_versions(db, "raw_mls_listings", versions, stored_at=NOW)


def _log(db: Database[dict]) -> dict[str, dict[str, Any]]:
    return {doc["_id"]: doc for doc in db.raw_mls_listings.find({})}


def test_a_run_that_dies_half_way_and_runs_again_stores_a_superset_and_never_skips(
    server: HTTPServer, db: Database[dict]
) -> None:
    fake = fake_for(server, per_zip=12)
    settings = settings_for(fake)
    since = NOW - dt.timedelta(hours=6)  # some listings are older than the window
    windows = {
        A: ZipWindow(since=since),
        B: ZipWindow(since=since, inventory=True),
        C: ZipWindow(since=since),
    }
    fake.inject("503", zip_code=C, times=None, skip=1)

    # Run 1: A stored, B's pages read but the process dies before they are stored; C
    # failed after a page.
    first = collect(settings, (A, B, C), windows)
    assert [f.zip_code for f in first.failures] == [C] and keys(first, B)
    _append(db, first, (A,))
    after_first = _log(db)
    assert after_first

    # The market moves on before the retry.
    fake.faults.clear()
    later = NOW + dt.timedelta(hours=2)
    for zip_code in (A, B, C):
        for n, listing in enumerate(by_time(fake.listings(zip_code))[-6:-3]):
            fake.touch(listing["ListingKey"], later - dt.timedelta(minutes=n), ListPrice=399_000)
    rng = random.Random(7)
    fake.upsert([make_listing(rng, B, 50 + n, later - dt.timedelta(minutes=30)) for n in range(3)])

    # Run 2: the same windows, everything stored.
    second = collect(settings, (A, B, C), windows, now=later)
    assert not second.failures
    _append(db, second, (A, B, C))
    log = _log(db)

    assert set(after_first) <= set(log)  # nothing the first run stored is lost
    for doc_id, doc in after_first.items():
        assert log[doc_id]["payload"] == doc["payload"]
    stored_keys = {doc["source_id"] for doc in log.values()}
    assert fake.keys_modified_after(since) <= stored_keys  # nothing in the window skipped
    # Every listing's current version, when in the window, is in the log.
    for listing in fake.listings():
        if ts(listing) > since:
            assert f"mls:{listing['ListingKey']}:{iso_z_us(ts(listing))}" in log
    # B's old standing inventory too.
    old_on_market_b = {
        r["ListingKey"]
        for r in fake.listings(B)
        if ts(r) <= since and r["StandardStatus"] != "Closed"
    }
    assert old_on_market_b and old_on_market_b <= stored_keys
    assert not any(
        r["ListingKey"] in stored_keys
        for r in fake.listings(A)
        if ts(r) <= since  # A took no inventory: its old listings were not asked for
    )


# --- authentication -------------------------------------------------------------------------


def test_client_credentials_token_is_fetched_once_and_reused(server: HTTPServer) -> None:
    fake = fake_for(server, auth="oauth")
    result = collect(settings_for(fake))
    assert not result.failures and len(result.records) == 36
    (token_request,) = fake.token_requests()
    assert token_request.method == "POST"
    assert token_request.form["grant_type"] == "client_credentials"
    assert token_request.form["client_id"] == CLIENT_ID
    (token,) = fake.issued_tokens
    assert {r.headers["Authorization"] for r in fake.property_requests()} == {f"Bearer {token}"}
    assert result.counts["token_requests"] == 1


def test_an_expiring_token_is_refreshed_before_it_runs_out(server: HTTPServer) -> None:
    fake = fake_for(server, auth="oauth", token_lifetime=3)
    result = collect(settings_for(fake, requests_per_second=10, page_size=1), (A, B, C))
    assert not result.failures and len(result.records) == 36
    assert len(fake.token_requests()) >= 2
    assert [r.status for r in fake.property_requests() if r.status != 200] == []


def test_a_401_refreshes_the_token_once_and_retries(server: HTTPServer) -> None:
    fake = fake_for(server, auth="oauth")
    fake.inject("expire_tokens", skip=3)  # the 4th request finds its token revoked
    result = collect(settings_for(fake))
    assert not result.failures and len(result.records) == 36
    assert result.counts["zips_complete"] == 3
    assert len(fake.token_requests()) == 2
    assert [r.status for r in fake.property_requests()].count(401) == 1
    assert result.counts["token_refreshes_after_401"] == 1


def test_a_second_401_stops_the_source_after_a_bounded_number_of_requests(
    server: HTTPServer,
) -> None:
    fake = fake_for(server, auth="oauth")
    fake.reject_all_tokens = True
    result = collect(settings_for(fake))
    assert result.records == [] and result.counts["zips_complete"] == 0
    assert [(f.zip_code, f.kind) for f in result.failures] == [
        (A, "auth"),
        (B, "auth"),
        (C, "auth"),
    ]
    assert all("MLS_RESO_CLIENT_ID/MLS_RESO_CLIENT_SECRET" in f.reason for f in result.failures)
    assert len(fake.property_requests()) == 2 and len(fake.token_requests()) == 2


def test_a_refused_static_token_stops_at_once(server: HTTPServer) -> None:
    fake = fake_for(server, static_token="another-token")
    result = collect(settings_for(fake))
    assert result.records == [] and {f.kind for f in result.failures} == {"auth"}
    assert all("MLS_RESO_TOKEN" in f.reason for f in result.failures)
    assert len(fake.property_requests()) == 1


def test_wrong_client_credentials_stop_at_the_token_endpoint(server: HTTPServer) -> None:
    fake = fake_for(server, auth="oauth", client_secret="the-real-secret")
    result = collect(settings_for(fake))
    assert {f.kind for f in result.failures} == {"auth"} and len(result.failures) == 3
    assert "MLS_RESO_CLIENT_ID/MLS_RESO_CLIENT_SECRET" in result.failures[0].reason
    assert len(fake.token_requests()) == 1 and fake.property_requests() == []


def test_a_token_endpoint_that_is_down_stops_the_source(server: HTTPServer) -> None:
    fake = fake_for(server, auth="oauth")
    fake.inject("503", path=TOKEN_PATH, times=None)
    settings = settings_for(fake)
    result = collect(settings)
    assert [f.kind for f in result.failures] == ["http_503"] * 3
    assert len(fake.token_requests()) == settings.max_attempts
    assert fake.property_requests() == []


def test_no_secret_anywhere(server: HTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake = fake_for(server, auth="oauth", token_lifetime=2)
    fake.inject("expire_tokens", skip=2)
    fake.inject("500", zip_code=B, times=2)
    fake.inject("truncated", zip_code=C)
    settings = settings_for(fake, requests_per_second=20, page_size=2)
    good = collect(settings)
    fake.reject_all_tokens = True
    refused = collect(settings)
    fake.reject_all_tokens = False
    fake.client_secret = "rotated-upstream"
    wrong = collect(settings)

    secrets = [CLIENT_SECRET, CLIENT_ID, *fake.issued_tokens]
    assert len(fake.issued_tokens) >= 3 and good.records and refused.failures and wrong.failures
    texts = [caplog.text, repr(settings)]
    for result in (good, refused, wrong):
        texts += [repr(result), *(f.reason for f in result.failures)]
        texts += [repr(r.payload) for r in result.records]
    with pytest.raises(ConfigError) as raised:
        MlsSettings.from_env(
            {"MLS_RESO_CLIENT_ID": CLIENT_ID, "MLS_RESO_CLIENT_SECRET": CLIENT_SECRET}
        )
    texts.append(str(raised.value))
    for text in texts:
        for secret in secrets:
            assert secret not in text
    # The secrets were really used.
    assert fake.token_requests()[0].form["client_secret"] == CLIENT_SECRET


def test_settings_are_immutable() -> None:
    settings = MlsSettings(base_url=BASE, token=TOKEN)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.page_size = 5  # type: ignore[misc]
    assert PROPERTY_PATH.endswith("/Property")
