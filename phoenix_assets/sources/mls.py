"""Phoenix-area MLS listings through a RESO Web API (OData 4), by day window per ZIP.

A run is asked, for each ZIP, for the ``Property`` records modified after a point in
time (``ZipWindow.since``: the start of the first day the run collects, less an overlap
for records that become visible late)::

    GET {base}/Property?$filter=PostalCode eq '85018' and ModificationTimestamp gt <since>
        &$orderby=ModificationTimestamp asc,ListingKey asc&$top=<page size>&$select=<fields>

and follows ``@odata.nextLink`` (absolute or relative) until a page has none or is
empty. A ZIP whose standing inventory was never taken (``ZipWindow.inventory``) is first
asked for every listing on the market, whatever its modification date::

    $filter=PostalCode eq '85018' and (StandardStatus eq 'Active' or ... eq 'Hold')

What comes back (``collect_listings``): the records, verbatim (``source_id`` =
``ListingKey``), each the version the server holds now. The raw asset appends them to
the source's version log (``storage.version_log``), which keeps every version it ever
saw: a RESO server keeps only each record's latest version, so a past day can be asked
again only for what has not changed since. A ZIP that failed part-way keeps the records
it got (they are real data) and is reported failed.

Details that protect against gaps:

- ``$skip`` paging over a feed that changes while it is read can skip a record: a
  listing already read that is modified moves to the end, and every later one moves
  up a place. That listing then shows up twice in one ZIP's pages; when that happens
  the ZIP is read again from just before the listing's first appearance (at most
  ``MAX_REREADS`` times), so the possibly-skipped range is read whole.
- Records without a readable ``ModificationTimestamp`` or ``ListingKey``, or with one
  more than a day ahead of ``now``, are kept and counted as ``schema_drift``.
- A ``nextLink`` seen before stops that ZIP (``pagination_loop``); one pointing to
  another host is not followed, so the bearer token never leaves the provider.

Authentication: a static bearer token (``MLS_RESO_TOKEN``) or OAuth2 client
credentials (``MLS_RESO_CLIENT_ID``, ``MLS_RESO_CLIENT_SECRET``, ``MLS_RESO_TOKEN_URL``):
the token is fetched once, reused, refreshed shortly before ``expires_in`` runs out,
and on a 401 refreshed once and the request retried; a second 401 stops the source.
No token or secret is ever logged, raised or returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from phoenix_assets.domain.adapters import RESO_FIELDS
from phoenix_assets.domain.property import ON_MARKET_STATUSES
from phoenix_assets.settings import ConfigError, display_url, parse_number_setting
from phoenix_assets.sources.collection import CollectedRecord, CollectionResult, ZipFailure
from phoenix_assets.sources.envelope import payload_sha256
from phoenix_assets.sources.http import (
    AuthenticationError,
    RequestStats,
    SourceClient,
    SourceError,
    SourceHttpSettings,
    redact,
)

logger = logging.getLogger(__name__)

MLS_SOURCE = "mls"

# Environment variables.
MLS_RESO_BASE_URL = "MLS_RESO_BASE_URL"
MLS_RESO_TOKEN = "MLS_RESO_TOKEN"
MLS_RESO_CLIENT_ID = "MLS_RESO_CLIENT_ID"
MLS_RESO_CLIENT_SECRET = "MLS_RESO_CLIENT_SECRET"
MLS_RESO_TOKEN_URL = "MLS_RESO_TOKEN_URL"
MLS_RESO_REQUESTS_PER_SECOND = "MLS_RESO_REQUESTS_PER_SECOND"
MLS_RESO_MAX_CONCURRENCY = "MLS_RESO_MAX_CONCURRENCY"
MLS_RESO_PAGE_SIZE = "MLS_RESO_PAGE_SIZE"
MLS_RESO_TIME_BUDGET_SECONDS = "MLS_RESO_TIME_BUDGET_SECONDS"
MLS_RESO_OVERLAP_HOURS = "MLS_RESO_OVERLAP_HOURS"

CLIENT_CREDENTIAL_VARIABLES = (MLS_RESO_CLIENT_ID, MLS_RESO_CLIENT_SECRET, MLS_RESO_TOKEN_URL)

DEFAULT_REQUESTS_PER_SECOND = 2.0  # one real RESO provider's limit
DEFAULT_MAX_CONCURRENCY = 1
DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000  # the lowest `$top` cap among real providers
DEFAULT_TIME_BUDGET_SECONDS = 1800.0
# A day's window reaches this far into the day before, for records that become visible late.
DEFAULT_OVERLAP_HOURS = 24
# Below the week an ended listing stays visible, so an overlap never revives one.
MAX_OVERLAP_HOURS = 144
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

# A ModificationTimestamp further ahead of `now` than this is not trusted to date a version.
FUTURE_TOLERANCE = dt.timedelta(days=1)
# Refresh a token this long before it expires (capped at 10% of its lifetime).
TOKEN_REFRESH_MARGIN_SECONDS = 60.0

_ZIP_RE = re.compile(r"^\d{5}$")
_QUERY_SAFE = "',:()"
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

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


# --- settings ------------------------------------------------------------------------------


def _text(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _number(
    environ: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float,
    maximum: float,
    integer: bool,
) -> float:
    value: float = parse_number_setting(
        environ, name, default, integer=integer, minimum=minimum, maximum=maximum
    )
    return value


def _url(environ: Mapping[str, str], name: str) -> str | None:
    raw = _text(environ, name)
    if raw is None:
        return None
    shown = display_url(raw)  # a mistaken URL may carry a secret (user:password@, ?token=)
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise ConfigError(f"{name}: {shown!r} is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"{name}: {shown!r} is not an http(s) URL")
    if url.scheme == "http" and url.host not in _LOCAL_HOSTS:
        # Bearer tokens and client secrets must not cross the network in clear text.
        raise ConfigError(f"{name}: {shown!r} must use https:// (http:// only for localhost)")
    if url.query or url.fragment:
        raise ConfigError(f"{name}: {shown!r} must not carry a query string or fragment")
    if url.userinfo:
        # They would be sent as Basic auth and shown wherever the URL is logged.
        raise ConfigError(
            f"{name}: {shown!r} carries credentials; put them in {MLS_RESO_TOKEN} or "
            f"{', '.join(CLIENT_CREDENTIAL_VARIABLES)} instead"
        )
    return raw.rstrip("/")


@dataclass(frozen=True)
class MlsSettings(SourceHttpSettings):
    """The MLS source's settings; secrets are left out of ``repr``."""

    base_url: str | None = None
    token: str | None = field(default=None, repr=False)
    client_id: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)
    token_url: str | None = None
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    page_size: int = DEFAULT_PAGE_SIZE
    time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS
    overlap_hours: float = DEFAULT_OVERLAP_HOURS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> MlsSettings:
        """Parse the ``MLS_RESO_*`` variables; a bad or partial set raises ``ConfigError``."""
        token = _text(environ, MLS_RESO_TOKEN)
        credentials = {name: _text(environ, name) for name in CLIENT_CREDENTIAL_VARIABLES}
        given = [name for name, value in credentials.items() if value is not None]
        if token is not None and given:
            raise ConfigError(
                f"{MLS_RESO_TOKEN}: set either {MLS_RESO_TOKEN} (a static bearer token) or "
                f"{', '.join(CLIENT_CREDENTIAL_VARIABLES)} (OAuth2 client credentials), not both "
                f"(also set: {', '.join(given)})"
            )
        missing = [name for name, value in credentials.items() if value is None]
        if given and missing:
            raise ConfigError(
                f"{', '.join(missing)}: not set; OAuth2 client credentials need all of "
                f"{', '.join(CLIENT_CREDENTIAL_VARIABLES)} (or set {MLS_RESO_TOKEN} instead)"
            )
        return cls(
            base_url=_url(environ, MLS_RESO_BASE_URL),
            token=token,
            client_id=credentials[MLS_RESO_CLIENT_ID],
            client_secret=credentials[MLS_RESO_CLIENT_SECRET],
            token_url=_url(environ, MLS_RESO_TOKEN_URL),
            requests_per_second=_number(
                environ,
                MLS_RESO_REQUESTS_PER_SECOND,
                DEFAULT_REQUESTS_PER_SECOND,
                minimum=0.01,
                maximum=100,
                integer=False,
            ),
            max_concurrency=int(
                _number(
                    environ,
                    MLS_RESO_MAX_CONCURRENCY,
                    DEFAULT_MAX_CONCURRENCY,
                    minimum=1,
                    maximum=16,
                    integer=True,
                )
            ),
            page_size=int(
                _number(
                    environ,
                    MLS_RESO_PAGE_SIZE,
                    DEFAULT_PAGE_SIZE,
                    minimum=1,
                    maximum=MAX_PAGE_SIZE,
                    integer=True,
                )
            ),
            time_budget_seconds=_number(
                environ,
                MLS_RESO_TIME_BUDGET_SECONDS,
                DEFAULT_TIME_BUDGET_SECONDS,
                minimum=1,
                maximum=86_400,
                integer=False,
            ),
            overlap_hours=_number(
                environ,
                MLS_RESO_OVERLAP_HOURS,
                DEFAULT_OVERLAP_HOURS,
                minimum=0,
                maximum=MAX_OVERLAP_HOURS,
                integer=False,
            ),
        )

    @property
    def uses_client_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret and self.token_url)

    @property
    def configured(self) -> bool:
        """True when the base URL and a complete set of credentials are present."""
        return bool(self.base_url and (self.token or self.uses_client_credentials))

    @property
    def auth_variables(self) -> str:
        """The variables to check when the provider refuses the credentials."""
        if self.uses_client_credentials:
            return f"{MLS_RESO_CLIENT_ID}/{MLS_RESO_CLIENT_SECRET}"
        return MLS_RESO_TOKEN

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction."""
        return tuple(s for s in (self.token, self.client_secret, self.client_id) if s)

    def missing_variables(self) -> list[str]:
        """What is still to set for the source to be configured (empty when it is)."""
        missing = [] if self.base_url else [MLS_RESO_BASE_URL]
        if not (self.token or self.uses_client_credentials):
            missing.append(f"{MLS_RESO_TOKEN} (or {', '.join(CLIENT_CREDENTIAL_VARIABLES)})")
        return missing

    def require_configured(self) -> None:
        missing = self.missing_variables()
        if missing:
            raise ConfigError(f"{', '.join(missing)}: not set; the MLS source needs them")


# --- timestamps ----------------------------------------------------------------------------


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def parse_timestamp(value: Any) -> dt.datetime | None:
    """A RESO ``ModificationTimestamp`` as an aware UTC datetime, or None if unreadable.

    Sub-microsecond digits (.NET providers send seven) are truncated, never rounded
    up, so a time made from one is never later than the record it came from.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return _utc(dt.datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def modification_time(payload: Mapping[str, Any], now: dt.datetime) -> dt.datetime | None:
    """A record's ``ModificationTimestamp`` when it can be trusted: readable, and not more
    than ``FUTURE_TOLERANCE`` ahead of ``now`` (one bad clock must not date a version)."""
    modified = parse_timestamp(payload.get("ModificationTimestamp"))
    if modified is None or modified > _utc(now) + FUTURE_TOLERANCE:
        return None
    return modified


def odata_timestamp(value: dt.datetime) -> str:
    """A ``DateTimeOffset`` literal for ``$filter``: ``2026-11-24T00:00:00Z``."""
    value = _utc(value)
    spec = "microseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


# --- one run -------------------------------------------------------------------------------


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


class _TokenProvider:
    """OAuth2 client credentials: one token at a time, refreshed before it expires."""

    def __init__(
        self,
        settings: MlsSettings,
        api: SourceClient,
        token_client: SourceClient,
        result: CollectionResult,
        secrets: list[str],
    ) -> None:
        self._settings = settings
        self._api = api
        self._token_client = token_client
        self._result = result
        self._secrets = secrets
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at: float | None = None
        self.generation = 0

    def _valid(self) -> bool:
        return self._token is not None and (
            self._expires_at is None or time.monotonic() < self._expires_at
        )

    async def ensure(self) -> int:
        """Make sure a valid token is set; returns its generation."""
        if not self._valid():
            async with self._lock:
                if not self._valid():
                    await self._fetch()
        return self.generation

    async def refresh_after(self, generation: int) -> int:
        """The token of ``generation`` was refused: fetch a new one unless someone already has."""
        async with self._lock:
            if self.generation == generation:
                await self._fetch()
        return self.generation

    async def _fetch(self) -> None:
        settings = self._settings
        assert settings.token_url and settings.client_id and settings.client_secret
        asked_at = time.monotonic()
        self._result.count("token_requests")
        try:
            body = await self._token_client.request_json(
                "POST",
                settings.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": settings.client_id,
                    "client_secret": settings.client_secret,
                },
            )
        except AuthenticationError:
            raise
        except SourceError as exc:
            if exc.status in (400, 401, 403):  # OAuth2 answers a bad client with 400 too
                raise AuthenticationError(
                    f"{MLS_SOURCE}: the token endpoint refused the client credentials "
                    f"(HTTP {exc.status}); check {settings.auth_variables}",
                    status=exc.status,
                ) from None
            raise
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise AuthenticationError(
                f"{MLS_SOURCE}: the token endpoint answered without an access_token; "
                f"check {settings.auth_variables} and {MLS_RESO_TOKEN_URL}"
            )
        token = token.strip()
        self._secrets.append(token)
        self._api.set_header("Authorization", f"Bearer {token}")
        self._token = token
        self._expires_at = None
        expires_in = body.get("expires_in")
        try:
            lifetime = float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            lifetime = None
        if lifetime is not None and lifetime > 0:
            margin = min(TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 10)
            self._expires_at = asked_at + lifetime - margin
        self.generation += 1


class _MlsRun:
    """One collection run over a set of ZIPs."""

    def __init__(
        self,
        settings: MlsSettings,
        api: SourceClient,
        tokens: _TokenProvider | None,
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
    now = _utc(now)
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
        _TokenProvider(settings, api, token_client, result, secrets)
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
