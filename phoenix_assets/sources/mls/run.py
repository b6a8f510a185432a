"""One collection run: each ZIP's window read page by page (``collect_listings``)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from phoenix_assets.domain.adapters import RESO_FIELDS
from phoenix_assets.domain.property import ON_MARKET_STATUSES
from phoenix_assets.sources.collection import CollectedRecord, CollectionResult, ZipFailure
from phoenix_assets.sources.envelope import payload_sha256
from phoenix_assets.sources.http import (
    AuthenticationError,
    RequestStats,
    SourceClient,
    SourceError,
    redact,
)
from phoenix_assets.sources.mls.auth import TokenProvider
from phoenix_assets.sources.mls.settings import (
    MLS_RESO_BASE_URL,
    MLS_RESO_TOKEN_URL,
    MLS_SOURCE,
    MlsSettings,
)
from phoenix_assets.sources.mls.timestamps import (
    as_utc,
    modification_time,
    odata_timestamp,
    parse_timestamp,
)

logger = logging.getLogger(__name__)

# How often one ZIP is read again after the feed shifted under its paging.
MAX_REREADS = 2

# What we ask for: every field the RESO adapter maps, plus the join key and list date.
SELECT_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(
        ["ListingKey", "ModificationTimestamp", *RESO_FIELDS, "ParcelNumber", "OnMarketDate"]
    )
)
ORDER_BY = "ModificationTimestamp asc,ListingKey asc"
# The source id of a record served without a ListingKey (kept, and quarantined later).
MISSING_KEY_PREFIX = "missing-key:"
# A ZIP's standing inventory: every listing still on the market, whatever its age.
ON_MARKET_FILTER = (
    "("
    + " or ".join(f"StandardStatus eq '{status}'" for status in sorted(ON_MARKET_STATUSES))
    + ")"
)

_ZIP_RE = re.compile(r"^\d{5}$")
_QUERY_SAFE = "',:()"

# Count keys every result carries (0 when nothing happened), for stable run metadata.
COUNT_KEYS = (
    "zips_requested",
    "zips_complete",
    "zips_failed",
    "zips_up_to_date",
    "zips_inventory_taken",
    "inventory_records",
    "pages",
    "records_received",
    "records",
    "duplicates_dropped",
    "schema_drift",
    "drift_missing_listing_key",
    "drift_bad_modification_timestamp",
    "drift_future_modification_timestamp",
    "drift_unexpected_fields",
    "drift_non_object",
    "paging_shifts",
    "records_from_failed_zips",
    "token_requests",
    "token_refreshes_after_401",
)


class _ZipStopped(Exception):
    """A ZIP's collection ended with a failure of a kind this module names."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass
class _Item:
    """One record as received, in the order received."""

    source_id: str
    payload: dict[str, Any]
    modified: dt.datetime | None
    has_key: bool


@dataclass(frozen=True)
class ZipWindow:
    """What to ask one ZIP for: the records modified after ``since``, and first its
    whole standing inventory when ``inventory`` (no complete picture of it yet)."""

    since: dt.datetime
    inventory: bool = False


@dataclass
class _ZipOutcome:
    zip_code: str
    window: ZipWindow
    items: list[_Item] = field(default_factory=list)
    pages: int = 0
    failure: ZipFailure | None = None
    rereads: int = 0
    inventory_taken: bool = False


def _url_identity(url: httpx.URL) -> tuple[Any, ...]:
    """What makes two links the same page, whatever their encoding or parameter order."""
    return (
        url.scheme,
        url.host,
        url.port,
        url.path.rstrip("/"),
        tuple(sorted(url.params.multi_items())),
    )


class _MlsRun:
    """One collection run over a set of ZIPs."""

    def __init__(
        self,
        settings: MlsSettings,
        api: SourceClient,
        tokens: TokenProvider | None,
        result: CollectionResult,
        secrets: list[str],
        now: dt.datetime,
    ) -> None:
        self.settings = settings
        self.api = api
        self.tokens = tokens
        self.result = result
        self.secrets = secrets
        self.now = now
        self.base = httpx.URL(settings.base_url or "")
        self.stopped: ZipFailure | None = None  # set when the whole source must stop
        self.unexpected_fields: dict[str, int] = {}  # field not asked for -> records

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def query_url(self, zip_code: str, condition: str) -> str:
        query = [
            ("$filter", f"PostalCode eq '{zip_code}' and {condition}"),
            ("$orderby", ORDER_BY),
            ("$top", str(self.settings.page_size)),
            ("$select", ",".join(SELECT_FIELDS)),
        ]
        # Spaces as %20, not '+': OData servers differ on what '+' means.
        encoded = "&".join(f"{name}={quote(value, safe=_QUERY_SAFE)}" for name, value in query)
        return f"{self.settings.base_url}/Property?{encoded}"

    async def get_page(self, url: str) -> Any:
        if self.tokens is None:
            return await self.api.get_json(url)
        generation = await self.new_token(self.tokens.ensure())
        try:
            return await self.api.get_json(url)
        except AuthenticationError as exc:
            if exc.status != 401:
                raise
            # The token may have expired or been revoked early: one new token, one retry.
            await self.new_token(self.tokens.refresh_after(generation))
            self.result.count("token_refreshes_after_401")
            return await self.api.get_json(url)

    async def new_token(self, fetching: Awaitable[int]) -> int:
        """Await a token fetch; if no token can be had, no ZIP can be collected: stop."""
        try:
            return await fetching
        except SourceError as exc:
            if self.stopped is None:
                kind = exc.kind
                self.stopped = ZipFailure(
                    "*",
                    kind,
                    self.redact(
                        f"not collected: no access token could be had earlier in this run ({exc})"
                    ),
                )
            raise

    def next_url(self, current: str, link: Any) -> httpx.URL:
        if not isinstance(link, str) or not link.strip():
            raise _ZipStopped("bad_next_link", "@odata.nextLink is not a string")
        try:
            url = httpx.URL(current).join(link.strip())
        except (httpx.InvalidURL, ValueError):
            raise _ZipStopped("bad_next_link", "@odata.nextLink is not a URL") from None
        if (url.scheme, url.host, url.port) != (self.base.scheme, self.base.host, self.base.port):
            # Following it would send the bearer token to another host.
            raise _ZipStopped(
                "foreign_next_link",
                f"@odata.nextLink points to another host ({url.host}); not followed",
            )
        return url

    def item_of(self, raw: Any) -> _Item:
        drift: list[str] = []
        if isinstance(raw, dict):
            payload: dict[str, Any] = raw
        else:
            payload = {"_unexpected_item": raw}
            drift.append("drift_non_object")
        key = payload.get("ListingKey")
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)
        has_key = isinstance(key, str) and bool(key.strip())
        if not has_key:
            drift.append("drift_missing_listing_key")
        stamp = parse_timestamp(payload.get("ModificationTimestamp"))
        modified = modification_time(payload, self.now)
        if stamp is None:
            drift.append("drift_bad_modification_timestamp")
        elif modified is None:
            drift.append("drift_future_modification_timestamp")  # kept, never trusted
        unexpected = [k for k in payload if k not in SELECT_FIELDS and "@" not in k]
        if unexpected and isinstance(raw, dict):
            drift.append("drift_unexpected_fields")
            for name in unexpected:
                self.unexpected_fields[name] = self.unexpected_fields.get(name, 0) + 1
        if drift:
            self.result.count("schema_drift")
            for name in drift:
                self.result.count(name)
        source_id = (
            str(key).strip() if has_key else f"{MISSING_KEY_PREFIX}{payload_sha256(payload)[:16]}"
        )
        return _Item(source_id=source_id, payload=payload, modified=modified, has_key=has_key)

    async def collect_zip(self, zip_code: str, window: ZipWindow) -> _ZipOutcome:
        outcome = _ZipOutcome(zip_code=zip_code, window=window)
        try:
            if window.inventory:
                before = len(outcome.items)
                await self.read_all(outcome, ON_MARKET_FILTER, None)
                outcome.inventory_taken = True
                self.result.count("inventory_records", len(outcome.items) - before)
            await self.read_all(outcome, None, window.since)
        except _ZipStopped as stop:
            outcome.failure = ZipFailure(zip_code, stop.kind, self.redact(stop.reason))
        except SourceError as exc:
            kind = exc.kind
            outcome.failure = ZipFailure(zip_code, kind, self.redact(str(exc)))
            if kind == "auth" and self.stopped is None:
                self.stopped = ZipFailure(
                    "*",
                    "auth",
                    self.redact(
                        f"not collected: the source refused the credentials earlier in this "
                        f"run ({exc})"
                    ),
                )
            elif kind == "budget" and self.stopped is None:
                self.stopped = ZipFailure(
                    "*", "budget", f"not collected: {MLS_SOURCE}: the run's time budget is spent"
                )
        return outcome

    async def read_all(
        self, outcome: _ZipOutcome, condition: str | None, since: dt.datetime | None
    ) -> None:
        """One query (``condition`` and/or modified after ``since``), every page; read
        again from where the feed shifted under ``$skip`` paging, if it did."""
        while True:
            clauses = [condition] if condition else []
            if since is not None:
                clauses.append(f"ModificationTimestamp gt {odata_timestamp(since)}")
            first = len(outcome.items)
            await self.read_query(outcome, self.query_url(outcome.zip_code, " and ".join(clauses)))
            resume = _resume_point(outcome.items[first:])
            if resume is None or outcome.rereads >= MAX_REREADS:
                return
            outcome.rereads += 1
            self.result.count("paging_shifts")
            since = resume if since is None else max(since, resume)

    async def read_query(self, outcome: _ZipOutcome, url: str) -> None:
        """Every page of one query, into ``outcome.items``."""
        seen_links = {_url_identity(httpx.URL(url))}
        seen_pages: set[str] = set()
        while True:
            if self.stopped is not None:
                raise _ZipStopped(self.stopped.kind, self.stopped.reason)
            body = await self.get_page(url)
            outcome.pages += 1
            self.result.count("pages")
            if not isinstance(body, dict) or not isinstance(body.get("value"), list):
                raise _ZipStopped(
                    "unexpected_shape",
                    f"{MLS_SOURCE}: a page is not an OData collection "
                    f"(no 'value' list; got {type(body).__name__})",
                )
            values: list[Any] = body["value"]
            if not values:
                return
            # The same page again under another link is a loop too.
            fingerprint = payload_sha256({"value": values})
            if fingerprint in seen_pages:
                raise _ZipStopped(
                    "pagination_loop", f"{MLS_SOURCE}: the same page was served twice"
                )
            seen_pages.add(fingerprint)
            items = [self.item_of(raw) for raw in values]
            outcome.items.extend(items)
            self.result.count("records_received", len(items))
            link = body.get("@odata.nextLink")
            if link is None:
                return
            next_url = self.next_url(url, link)
            identity = _url_identity(next_url)
            if identity in seen_links:
                raise _ZipStopped(
                    "pagination_loop",
                    f"{MLS_SOURCE}: @odata.nextLink leads back to a page already read "
                    f"(after {outcome.pages} pages)",
                )
            seen_links.add(identity)
            url = str(next_url)


def _resume_point(items: Sequence[_Item]) -> dt.datetime | None:
    """Where to read again when a listing came twice in one query's pages, else None.

    A listing read twice was modified while we paged: with $skip paging, the records
    after its first position moved up one place and one may have been skipped. Reading
    again from just before that first position (the latest timestamp seen before it)
    covers it.
    """
    first_seen: dict[str, dt.datetime | None] = {}
    duplicated: list[dt.datetime] = []
    for item in items:
        if not item.has_key:
            continue
        if item.source_id in first_seen:
            earlier = first_seen[item.source_id]
            if earlier is not None:
                duplicated.append(earlier)
        else:
            first_seen[item.source_id] = item.modified
    if not duplicated:
        return None
    cutoff = min(duplicated)
    before = [
        item.modified for item in items if item.modified is not None and item.modified < cutoff
    ]
    return max(before) if before else cutoff - dt.timedelta(microseconds=1)


def _merge_stats(into: RequestStats, other: RequestStats) -> None:
    into.requests += other.requests
    into.retries += other.retries
    for kind, number in other.failures_by_kind.items():
        into.failures_by_kind[kind] = into.failures_by_kind.get(kind, 0) + number


async def collect_listings(
    settings: MlsSettings,
    zip_codes: Sequence[str],
    windows: Mapping[str, ZipWindow],
    *,
    now: dt.datetime,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CollectionResult:
    """Collect each ZIP's window (and standing inventory where asked for).

    Returns the run's result: records (one per listing, its latest version seen),
    per-ZIP failures, request stats and counts.
    """
    settings.require_configured()
    zips = list(dict.fromkeys(zip_codes))
    for zip_code in zips:
        if not isinstance(zip_code, str) or not _ZIP_RE.match(zip_code):
            raise ValueError(f"{zip_code!r} is not a 5-digit ZIP code")
    now = as_utc(now)
    result = CollectionResult(source=MLS_SOURCE, counts=dict.fromkeys(COUNT_KEYS, 0))
    result.count("zips_requested", len(zips))
    secrets = list(settings.secrets)
    policy = settings.policy()
    headers = {"Accept": "application/json"}
    if settings.token and not settings.uses_client_credentials:
        headers["Authorization"] = f"Bearer {settings.token}"
    api = SourceClient(
        source=MLS_SOURCE,
        base_url=settings.base_url or "",
        policy=policy,
        headers=headers,
        secrets=secrets,
        auth_variables=settings.auth_variables,
        url_variable=MLS_RESO_BASE_URL,
        transport=transport,
    )
    token_client = (
        SourceClient(
            source=MLS_SOURCE,
            base_url=settings.token_url or "",
            policy=dataclasses.replace(policy, max_concurrency=1),
            headers={"Accept": "application/json"},
            secrets=secrets,
            auth_variables=settings.auth_variables,
            url_variable=MLS_RESO_TOKEN_URL,
            transport=transport,
        )
        if settings.uses_client_credentials
        else None
    )
    tokens = (
        TokenProvider(settings, api, token_client, result, secrets)
        if token_client is not None
        else None
    )
    run = _MlsRun(settings, api, tokens, result, secrets, now)
    gate = asyncio.Semaphore(settings.max_concurrency)

    async def one(zip_code: str) -> _ZipOutcome:
        async with gate:
            return await run.collect_zip(zip_code, windows[zip_code])

    async with contextlib.AsyncExitStack() as clients:
        await clients.enter_async_context(api)
        if token_client is not None:
            await clients.enter_async_context(token_client)
        outcomes = await asyncio.gather(*(one(zip_code) for zip_code in zips))
    _merge_stats(result.stats, api.stats)
    if token_client is not None:
        _merge_stats(result.stats, token_client.stats)
    if run.unexpected_fields:
        logger.warning(
            "%s: records carry fields that were not asked for (renamed upstream?): %s",
            MLS_SOURCE,
            ", ".join(f"{name} ({n})" for name, n in sorted(run.unexpected_fields.items())[:20]),
        )
    _assemble(result, outcomes)
    return result


def _assemble(result: CollectionResult, outcomes: Iterable[_ZipOutcome]) -> None:
    # Within one run a listing may come twice (modified while paging, in the inventory
    # and the window, or moved to another ZIP): keep the version with the latest
    # ModificationTimestamp (the later one on a tie).
    chosen: dict[str, tuple[int, _Item, str]] = {}
    order = 0
    for outcome in outcomes:
        if outcome.failure is not None:
            result.failures.append(outcome.failure)
            result.count("zips_failed")
            result.count("records_from_failed_zips", len(outcome.items))
            logger.warning(
                "%s: ZIP %s failed (%s) after %d page(s): %s",
                MLS_SOURCE,
                outcome.zip_code,
                outcome.failure.kind,
                outcome.pages,
                outcome.failure.reason,
            )
        else:
            result.count("zips_complete")
            if outcome.inventory_taken:
                result.count("zips_inventory_taken")
            if not outcome.items:
                result.count("zips_up_to_date")
            logger.info(
                "%s: ZIP %s: %d page(s), %d record(s) since %s%s%s",
                MLS_SOURCE,
                outcome.zip_code,
                outcome.pages,
                len(outcome.items),
                odata_timestamp(outcome.window.since),
                ", with its standing inventory" if outcome.inventory_taken else "",
                f" (read again {outcome.rereads}x: the feed changed while it was read)"
                if outcome.rereads
                else "",
            )
        for item in outcome.items:
            order += 1
            previous = chosen.get(item.source_id)
            if previous is not None:
                result.count("duplicates_dropped")
                earlier = previous[1].modified
                if earlier is not None and (item.modified is None or item.modified < earlier):
                    continue
            chosen[item.source_id] = (order, item, outcome.zip_code)
    for _, item, zip_code in sorted(chosen.values(), key=lambda entry: entry[0]):
        result.records.append(
            CollectedRecord(source_id=item.source_id, zip_code=zip_code, payload=item.payload)
        )
    result.count("records", len(result.records))
