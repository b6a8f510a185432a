"""The MLS (RESO Web API) source against a fake RESO server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import random
import time
from collections.abc import Iterator, Mapping
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
    MLS_SOURCE,
    MlsSettings,
    collect_listings,
    odata_timestamp,
    parse_timestamp,
)
from phoenix_assets.storage.watermarks import WatermarkStore
from phoenix_assets_tests.sources.fake_reso import (
    PROPERTY_PATH,
    TOKEN_PATH,
    FakeReso,
    iso_z,
    make_listing,
    make_listings,
)

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
A, B, C = "85018", "85033", "85044"
TOKEN = "static-SECRET-token-9f8e7d6c"
CLIENT_ID = "client-ID-4411aa"
CLIENT_SECRET = "client-SECRET-77aa55bb"


@pytest.fixture(scope="module")
def _module_server() -> Iterator[HTTPServer]:
    # One server for the module (stopping one takes ~0.5 s); each test clears it.
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as http_server:
        yield http_server


@pytest.fixture
def server(_module_server: HTTPServer) -> Iterator[HTTPServer]:
    _module_server.clear()
    yield _module_server
    _module_server.clear()


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
    watermarks: Mapping[str, dt.datetime | None] | None = None,
    now: dt.datetime = NOW,
) -> tuple[CollectionResult, dict[str, dt.datetime]]:
    return asyncio.run(collect_listings(settings, zips, watermarks or {}, now=now))


def ts(listing: Mapping[str, Any]) -> dt.datetime:
    stamp = parse_timestamp(listing["ModificationTimestamp"])
    assert stamp is not None
    return stamp


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
    assert (settings.time_budget_seconds, settings.initial_lookback_days) == (1800, 30)
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
            "MLS_RESO_INITIAL_LOOKBACK_DAYS": "7",
        }
    )
    assert settings.configured and settings.uses_client_credentials
    assert settings.auth_variables == "MLS_RESO_CLIENT_ID/MLS_RESO_CLIENT_SECRET"
    assert (settings.requests_per_second, settings.max_concurrency, settings.page_size) == (
        0.5,
        3,
        1000,
    )
    assert (settings.time_budget_seconds, settings.initial_lookback_days) == (600, 7)
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
        ("MLS_RESO_INITIAL_LOOKBACK_DAYS", "1.5"),
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


# --- incremental sync and paging -------------------------------------------------------------


def test_the_fake_listings_are_valid_reso_records() -> None:
    for listing in listings(per_zip=30):
        prop = property_from_reso(listing, source=MLS_SOURCE, day=NOW.date())
        assert prop.parcel_number and prop.list_price and prop.postal_code == listing["PostalCode"]


def test_incremental_sync_returns_only_records_after_the_watermark(server: HTTPServer) -> None:
    fake = fake_for(server)
    in_a = by_time(fake.listings(A))
    watermark = ts(in_a[4])
    result, watermarks = collect(settings_for(fake), (A, B), {A: watermark, B: None})

    assert not result.failures
    assert keys(result, A) == [r["ListingKey"] for r in in_a[5:]]
    assert watermarks[A] == ts(in_a[-1])
    assert len(keys(result, B)) == 12  # no watermark yet: the initial look-back covers all
    assert watermarks[B] == max(ts(r) for r in fake.listings(B))

    first = fake.property_requests(A)[0]
    assert first.query["$filter"] == (
        f"PostalCode eq '{A}' and ModificationTimestamp gt {odata_timestamp(watermark)}"
    )
    assert first.query["$orderby"] == "ModificationTimestamp asc,ListingKey asc"
    assert first.query["$top"] == "5"
    selected = first.query["$select"].split(",")
    assert {"ListingKey", "ModificationTimestamp", "ParcelNumber", "OnMarketDate"} <= set(selected)
    assert set(RESO_FIELDS) <= set(selected)
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    since = NOW - dt.timedelta(days=30)
    assert fake.property_requests(B)[0].query["$filter"].endswith(f"gt {odata_timestamp(since)}")
    # Payloads are verbatim: what was selected, nothing added.
    payload = next(r.payload for r in result.records if r.zip_code == A)
    assert payload == {k: v for k, v in in_a[5].items() if k in selected}
    assert set(COUNT_KEYS) <= set(result.counts)
    assert result.counts["records"] == result.counts["records_received"] == 7 + 12


def test_an_up_to_date_zip_keeps_its_watermark(server: HTTPServer) -> None:
    fake = fake_for(server)
    newest = max(ts(r) for r in fake.listings(A))
    result, watermarks = collect(settings_for(fake), (A,), {A: newest})
    assert result.records == [] and watermarks == {A: newest}
    assert result.counts["zips_up_to_date"] == 1 and result.counts["pages"] == 1


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
    result, watermarks = collect(settings_for(fake))
    assert not result.failures
    for zip_code in (A, B, C):
        assert keys(result, zip_code) == [r["ListingKey"] for r in by_time(fake.listings(zip_code))]
        assert len(fake.property_requests(zip_code)) == (4 if empty_last_page else 3)
        assert watermarks[zip_code] == max(ts(r) for r in fake.listings(zip_code))
    assert result.counts["pages"] == 3 * (4 if empty_last_page else 3)
    assert result.counts["zips_complete"] == 3 and result.counts["duplicates_dropped"] == 0


def test_a_nextlink_loop_stops_that_zip_only(server: HTTPServer) -> None:
    fake = fake_for(server, per_zip=25)
    fake.loop_zips = {A}
    old = {A: NOW - dt.timedelta(days=3)}
    result, watermarks = collect(settings_for(fake), (A, B), old)
    assert [(f.zip_code, f.kind) for f in result.failures] == [(A, "pagination_loop")]
    assert A not in watermarks  # nothing new past the old watermark
    assert len(fake.property_requests(A)) == 3  # pages 1, 2, 3; page 3 leads back to 2
    assert len(keys(result, B)) == 25 and B in watermarks
    assert result.counts["zips_failed"] == 1 and result.counts["records_from_failed_zips"] == 15


def test_one_failing_zip_leaves_the_others_and_their_watermarks(server: HTTPServer) -> None:
    fake = fake_for(server)
    fake.inject("500", zip_code=A, times=None)
    fake.inject("html", zip_code=B, times=None)
    settings = settings_for(fake)
    result, watermarks = collect(settings, (A, B, C), {A: NOW - dt.timedelta(days=2)})
    assert sorted((f.zip_code, f.kind) for f in result.failures) == [
        (A, "http_500"),
        (B, "html_body"),
    ]
    assert set(watermarks) == {C}  # a failed ZIP's watermark does not move
    assert len(keys(result, C)) == 12 and keys(result, A) == keys(result, B) == []
    assert len(fake.property_requests(A)) == settings.max_attempts
    assert len(fake.property_requests(B)) == 1  # an HTML page is not retried
    assert result.stats.failures_by_kind["http_500"] == settings.max_attempts


def test_a_zip_failing_after_some_pages_keeps_them_but_not_a_new_watermark(
    server: HTTPServer,
) -> None:
    fake = fake_for(server)
    fake.inject("503", zip_code=A, times=None, skip=1)
    result, watermarks = collect(settings_for(fake), (A,))
    assert [f.kind for f in result.failures] == ["http_503"]
    assert len(keys(result, A)) == 5 and watermarks == {}


def test_transient_faults_are_retried_and_change_nothing(server: HTTPServer) -> None:
    fake = fake_for(server)
    clean, clean_watermarks = collect(settings_for(fake))
    fake.requests.clear()
    fake.inject("429", zip_code=A, retry_after="1")
    fake.inject("503", zip_code=A, skip=1)
    fake.inject("truncated", zip_code=B)
    fake.inject("slow", zip_code=C, delay=2.5)
    started = time.monotonic()
    result, watermarks = collect(settings_for(fake, timeout_seconds=1))
    assert not result.failures
    assert result.records == clean.records and watermarks == clean_watermarks
    assert result.stats.retries == 4
    arrivals = [r.time for r in fake.property_requests(A)]
    assert arrivals[1] - arrivals[0] >= 0.9  # Retry-After honoured
    assert time.monotonic() - started < 15


def test_concurrency_does_not_change_the_result(server: HTTPServer) -> None:
    fake = fake_for(server, per_zip=11)
    serial = collect(settings_for(fake))
    parallel = collect(settings_for(fake, max_concurrency=3))
    assert serial[0].records == parallel[0].records and serial[1] == parallel[1]


def test_rerunning_on_an_unchanged_server_gives_identical_records(server: HTTPServer) -> None:
    fake = fake_for(server, paging="skiptoken")
    old = {A: NOW - dt.timedelta(hours=5), B: None}
    first, first_watermarks = collect(settings_for(fake), (A, B, C), old)
    second, second_watermarks = collect(settings_for(fake), (A, B, C), old)
    assert first.records and first.records == second.records
    assert first_watermarks == second_watermarks and first.counts == second.counts


def test_the_time_budget_ends_the_run(server: HTTPServer) -> None:
    fake = fake_for(server)
    fake.inject("slow", delay=0.8, times=None)
    started = time.monotonic()
    result, watermarks = collect(settings_for(fake, time_budget_seconds=1.5, timeout_seconds=5))
    assert time.monotonic() - started < 5
    assert [(f.zip_code, f.kind) for f in result.failures] == [
        (A, "budget"),
        (B, "budget"),
        (C, "budget"),
    ]
    assert watermarks == {} and len(fake.property_requests()) == 2
    assert len(result.records) == 10  # the pages read are kept; the watermark did not move


def test_a_nextlink_to_another_host_is_not_followed(server: HTTPServer) -> None:
    fake = fake_for(server)
    fake.foreign_next_link = "https://mls-mirror.example.net/reso/odata/Property?$skip=5"
    result, watermarks = collect(settings_for(fake), (A,))
    assert [f.kind for f in result.failures] == ["foreign_next_link"]
    assert watermarks == {} and len(fake.property_requests()) == 1


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
    result, watermarks = collect(settings_for(fake), (A, B))

    assert not result.failures
    missing = [r for r in result.records if r.source_id.startswith("missing-key:")]
    assert len(missing) == 1 and "ListingKey" not in missing[0].payload
    assert len(missing[0].source_id) == len("missing-key:") + 16
    renamed = next(r for r in result.records if r.source_id == in_a[6]["ListingKey"])
    assert "ListPriceUSD" in renamed.payload and "ListPrice" not in renamed.payload
    assert future["ListingKey"] in keys(result, B)  # kept ...
    others = [r for r in fake.listings(B) if r["ListingKey"] != future["ListingKey"]]
    assert watermarks[B] == max(ts(r) for r in others) < NOW  # ... but never a watermark
    assert result.counts["schema_drift"] == 3
    assert result.counts["drift_missing_listing_key"] == 1
    assert result.counts["drift_unexpected_fields"] == 1
    assert result.counts["drift_future_modification_timestamp"] == 1
    assert result.counts["records"] == 25
    assert "ListPriceUSD" in caplog.text and "APN" in caplog.text


def test_a_feed_changing_while_paged_skips_nothing_and_keeps_the_latest(
    server: HTTPServer,
) -> None:
    """With $skip paging, a listing modified after it was read moves to the end, and the
    listing after the page boundary moves up into the page already read: it is missed.
    The run keeps the newer version of the moved listing and holds the watermark back, so
    the next run reads the missed one."""
    fake = fake_for(server, per_zip=15, paging="skip")
    in_a = by_time(fake.listings(A))
    moved, missed = in_a[2], in_a[5]
    fired: list[dict[str, Any]] = []

    def modify_after_first_page(fake: FakeReso, zip_code: str | None, page: int) -> None:
        if zip_code == A and page == 0 and not fired:
            fired.append(fake.touch(moved["ListingKey"], NOW - dt.timedelta(minutes=1)))

    fake.after_page = modify_after_first_page
    first, watermarks = collect(settings_for(fake), (A,))
    assert fired and not first.failures
    assert missed["ListingKey"] not in keys(first)  # the hazard is real ...
    record = next(r for r in first.records if r.source_id == moved["ListingKey"])
    assert record.payload["ModificationTimestamp"] == iso_z(NOW - dt.timedelta(minutes=1))
    assert first.counts["duplicates_dropped"] == 1 and first.counts["paging_shifts"] == 1
    assert watermarks[A] == ts(in_a[1])  # ... so the watermark stays before it

    fake.after_page = None
    second, _ = collect(settings_for(fake), (A,), watermarks)
    assert missed["ListingKey"] in keys(second)
    every = {r["ListingKey"] for r in fake.listings(A)}
    assert set(keys(first)) | set(keys(second)) == every


# --- a run that dies half-way ---------------------------------------------------------------


def _store_raw(db: Database[dict], result: CollectionResult, zip_code: str, day: str) -> None:
    """What the raw asset does for one ZIP: replace that ZIP's documents of the day."""
    documents = [
        {
            "_id": f"{MLS_SOURCE}:{r.source_id}:{day}",
            **raw_document(
                source=MLS_SOURCE,
                source_id=r.source_id,
                zip_code=r.zip_code,
                payload=r.payload,
                collected_at=NOW,
                partition_key=day,
            ),
        }
        for r in result.records
        if r.zip_code == zip_code
    ]
    db.raw_mls_listings.delete_many({"partition_key": day, "zip_code": zip_code})
    if documents:
        db.raw_mls_listings.insert_many(documents)


def test_a_run_that_dies_half_way_never_skips_a_record(
    server: HTTPServer, db: Database[dict]
) -> None:
    fake = fake_for(server, per_zip=12)
    store = WatermarkStore(db)
    settings = settings_for(fake)
    start = NOW - dt.timedelta(days=settings.initial_lookback_days)

    # Run 1 (day 1): A stored and advanced; B stored, then the run dies before advancing
    # it; C never stored.
    first, new = collect(settings, (A, B, C), store.get_all(MLS_SOURCE))
    assert not first.failures
    _store_raw(db, first, A, "2026-11-25")
    store.advance(MLS_SOURCE, A, new[A])
    _store_raw(db, first, B, "2026-11-25")
    assert store.get_all(MLS_SOURCE) == {A: new[A]}

    # The market moves on.
    later = NOW + dt.timedelta(hours=20)
    for zip_code in (A, B, C):
        for n, listing in enumerate(by_time(fake.listings(zip_code))[2:5]):
            fake.touch(listing["ListingKey"], later - dt.timedelta(minutes=n), ListPrice=399_000)
    rng = random.Random(7)
    fake.upsert([make_listing(rng, B, 50 + n, later - dt.timedelta(minutes=30)) for n in range(3)])

    # Run 2 (day 2): everything stored, then advanced.
    second, new = collect(settings, (A, B, C), store.get_all(MLS_SOURCE), now=later)
    assert not second.failures
    b_filter = next(r for r in reversed(fake.requests) if r.zip_code == B).query["$filter"]
    b_start = later - dt.timedelta(days=settings.initial_lookback_days)
    assert b_filter.endswith(f"gt {odata_timestamp(b_start)}")  # B starts over
    for zip_code in (A, B, C):
        _store_raw(db, second, zip_code, "2026-11-26")
        store.advance(MLS_SOURCE, zip_code, new[zip_code])

    stored: dict[str, str] = {}
    for doc in db.raw_mls_listings.find({}, {"source_id": 1, "payload": 1}):
        stamp = doc["payload"]["ModificationTimestamp"]
        stored[doc["source_id"]] = max(stored.get(doc["source_id"], stamp), stamp)
    for zip_code in (A, B, C):
        for listing in fake.listings(zip_code):
            assert stored[listing["ListingKey"]] == listing["ModificationTimestamp"]
    assert fake.keys_modified_after(start) <= set(stored)
    assert store.get_all(MLS_SOURCE) == new


# --- authentication -------------------------------------------------------------------------


def test_client_credentials_token_is_fetched_once_and_reused(server: HTTPServer) -> None:
    fake = fake_for(server, auth="oauth")
    result, _ = collect(settings_for(fake))
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
    result, _ = collect(settings_for(fake, requests_per_second=10, page_size=1), (A, B, C))
    assert not result.failures and len(result.records) == 36
    assert len(fake.token_requests()) >= 2
    assert [r.status for r in fake.property_requests() if r.status != 200] == []


def test_a_401_refreshes_the_token_once_and_retries(server: HTTPServer) -> None:
    fake = fake_for(server, auth="oauth")
    fake.inject("expire_tokens", skip=3)  # the 4th request finds its token revoked
    result, watermarks = collect(settings_for(fake))
    assert not result.failures and len(result.records) == 36 and len(watermarks) == 3
    assert len(fake.token_requests()) == 2
    assert [r.status for r in fake.property_requests()].count(401) == 1
    assert result.counts["token_refreshes_after_401"] == 1


def test_a_second_401_stops_the_source_after_a_bounded_number_of_requests(
    server: HTTPServer,
) -> None:
    fake = fake_for(server, auth="oauth")
    fake.reject_all_tokens = True
    result, watermarks = collect(settings_for(fake))
    assert watermarks == {} and result.records == []
    assert [(f.zip_code, f.kind) for f in result.failures] == [
        (A, "auth"),
        (B, "auth"),
        (C, "auth"),
    ]
    assert all("MLS_RESO_CLIENT_ID/MLS_RESO_CLIENT_SECRET" in f.reason for f in result.failures)
    assert len(fake.property_requests()) == 2 and len(fake.token_requests()) == 2


def test_a_refused_static_token_stops_at_once(server: HTTPServer) -> None:
    fake = fake_for(server, static_token="another-token")
    result, watermarks = collect(settings_for(fake))
    assert watermarks == {} and {f.kind for f in result.failures} == {"auth"}
    assert all("MLS_RESO_TOKEN" in f.reason for f in result.failures)
    assert len(fake.property_requests()) == 1


def test_wrong_client_credentials_stop_at_the_token_endpoint(server: HTTPServer) -> None:
    fake = fake_for(server, auth="oauth", client_secret="the-real-secret")
    result, _ = collect(settings_for(fake))
    assert {f.kind for f in result.failures} == {"auth"} and len(result.failures) == 3
    assert "MLS_RESO_CLIENT_ID/MLS_RESO_CLIENT_SECRET" in result.failures[0].reason
    assert len(fake.token_requests()) == 1 and fake.property_requests() == []


def test_a_token_endpoint_that_is_down_stops_the_source(server: HTTPServer) -> None:
    fake = fake_for(server, auth="oauth")
    fake.inject("503", path=TOKEN_PATH, times=None)
    settings = settings_for(fake)
    result, _ = collect(settings)
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
    good, _ = collect(settings)
    fake.reject_all_tokens = True
    refused, _ = collect(settings)
    fake.reject_all_tokens = False
    fake.client_secret = "rotated-upstream"
    wrong, _ = collect(settings)

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
