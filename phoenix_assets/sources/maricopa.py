"""The Maricopa County Assessor source: parcels of the configured ZIP codes.

A ZIP holds thousands of parcels and the Assessor is slow (seconds a call) and
unmetered only by courtesy, so a run refreshes what matters within a request budget:

1. **Search** every ZIP: ``/search/property/?q=<zip>&page=N``, 25 hits a page, until a
   short or empty page, ``TotalFound``, a page repeating the previous one, or
   ``MARICOPA_MAX_SEARCH_PAGES``. Hits whose address names another ZIP are dropped
   (a text search matches more than addresses) and counted.
2. **Decide** per parcel from ``known`` (APN -> when its details were last fetched):
   ``new`` (never fetched), ``stale`` (fetched more than ``MARICOPA_STALE_AFTER_DAYS``
   ago) or ``fresh`` (skipped).
3. **Fetch** details, new parcels first (round-robin over the ZIPs, so one big ZIP
   cannot starve the others), then stale ones stalest first, while the run's request
   budget (``MARICOPA_DAILY_REQUEST_BUDGET``, every request counted: search pages,
   detail calls and retries) allows. A parcel's record is ``/parcel/{apn}`` plus,
   budget allowing, ``/residential-details`` and ``/valuations``, kept verbatim.

Faults: a ZIP whose search fails is recorded as a ``ZipFailure`` and the others go on;
a parcel whose details fail is counted and left for the next run; an authentication
failure or the time budget stops the source at once, every ZIP with work left being
recorded as failed (``auth``, ``budget``). Nothing raises out of ``collect_parcels``
for a source fault.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from phoenix_assets.domain.maricopa_adapter import hit_zip_code
from phoenix_assets.domain.property import normalize_apn
from phoenix_assets.settings import ConfigError, display_url, parse_number_setting
from phoenix_assets.sources.collection import CollectedRecord, CollectionResult, ZipFailure
from phoenix_assets.sources.http import (
    AuthenticationError,
    BudgetExhaustedError,
    RetryableError,
    SourceClient,
    SourceError,
    SourceHttpSettings,
    UnexpectedBodyError,
)

logger = logging.getLogger(__name__)

MARICOPA_SOURCE = "maricopa"

MARICOPA_API_BASE_URL = "MARICOPA_API_BASE_URL"
MARICOPA_API_TOKEN = "MARICOPA_API_TOKEN"
MARICOPA_REQUESTS_PER_SECOND = "MARICOPA_REQUESTS_PER_SECOND"
MARICOPA_MAX_CONCURRENCY = "MARICOPA_MAX_CONCURRENCY"
MARICOPA_DAILY_REQUEST_BUDGET = "MARICOPA_DAILY_REQUEST_BUDGET"
MARICOPA_STALE_AFTER_DAYS = "MARICOPA_STALE_AFTER_DAYS"
MARICOPA_TIME_BUDGET_SECONDS = "MARICOPA_TIME_BUDGET_SECONDS"
MARICOPA_MAX_SEARCH_PAGES = "MARICOPA_MAX_SEARCH_PAGES"

DEFAULT_BASE_URL = "https://mcassessor.maricopa.gov"
PAGE_SIZE = 25
SEARCH_PATH = "/search/property/"

# Bounds of the numeric settings; a value outside them fails the load, naming the variable.
# Below one request every 100 s, a run's time budget buys a handful of requests.
MIN_REQUESTS_PER_SECOND = 0.01
# The Assessor publishes no quota: at its polite ~1 request/s a whole day is 86,400
# requests, and the largest daily quota seen at a real provider is 40,000. More is a
# typo (a zero too many), not a plan.
MAX_DAILY_REQUEST_BUDGET = 100_000
# A daily run that works for more than a day overlaps the next day's run.
MAX_TIME_BUDGET_SECONDS = 86_400
# 100,000 hits for one ZIP, ~9x the average ZIP's parcels (~1.7 million over ~150 ZIPs):
# a search longer than that is looping, and spending the request budget.
SEARCH_PAGE_LIMIT = 4_000

# Top-level keys of ``/parcel/{apn}`` this project reads; one missing is schema drift.
EXPECTED_PARCEL_KEYS = (
    "APN",
    "PropertyAddress",
    "Geo",
    "LotSize",
    "PropertyType",
    "PropertyUseCode",
    "Owner",
    "ResidentialPropertyData",
    "Valuations",
)
# Without these the adapter cannot place the parcel at all.
REQUIRED_PARCEL_KEYS = ("APN", "PropertyAddress")

# Counts every run reports (``result.counts``), present even when zero:
#   search_pages        search pages fetched and parsed
#   parcels_found       distinct parcels the searches placed in their ZIP
#   dropped_other_zip   hits whose address names another ZIP (a text search matches more)
#   duplicate_hits      hits of a parcel already found (another page or ZIP)
#   hits_without_apn    hits with no usable APN (also counted as schema_drift)
#   new, stale          parcels to fetch: never fetched / fetched > STALE_AFTER_DAYS ago
#   fresh_skipped       parcels fetched recently: no request spent on them
#   budget_skipped      new or stale parcels left for a later run by the request or time budget
#   stopped_skipped     new or stale parcels left because the token was refused
#   fetched             records collected
#   detail_failures     parcels whose /parcel failed (left new/stale for the next run)
#   optional_detail_failures, optional_detail_skipped
#                       /residential-details or /valuations failed / not asked (budget, stop)
#   schema_drift        /parcel bodies lacking expected keys, hits lacking an APN,
#                       search responses of an unknown shape
#   search_loop_guard   searches ended because a page repeated the previous one
#   search_page_limit   searches ended by MARICOPA_MAX_SEARCH_PAGES
COUNT_KEYS = (
    "search_pages",
    "parcels_found",
    "dropped_other_zip",
    "duplicate_hits",
    "hits_without_apn",
    "new",
    "stale",
    "fresh_skipped",
    "budget_skipped",
    "stopped_skipped",
    "fetched",
    "detail_failures",
    "optional_detail_failures",
    "optional_detail_skipped",
    "schema_drift",
    "search_loop_guard",
    "search_page_limit",
)

_ZIP_RE = re.compile(r"^\d{5}$")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_COMPACT_APN = re.compile(r"^[A-Z0-9]{1,20}$")


# --------------------------------------------------------------------------- settings


def _parse_base_url(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return DEFAULT_BASE_URL
    url = raw.strip().rstrip("/")
    expected = f"expected something like {DEFAULT_BASE_URL}"
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [IPv6] literal, say
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{MARICOPA_API_BASE_URL}: {display_url(url)!r} is not an http(s) base URL ({expected})"
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"{MARICOPA_API_BASE_URL}: {display_url(url)!r} must not carry a query string or "
            f"fragment (the token belongs in {MARICOPA_API_TOKEN})"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError(
            f"{MARICOPA_API_BASE_URL}: {display_url(url)!r} has an invalid port ({expected})"
        ) from None
    if parts.username or parts.password:
        raise ConfigError(
            f"{MARICOPA_API_BASE_URL}: {display_url(url)!r} carries credentials; "
            f"the token belongs in {MARICOPA_API_TOKEN}"
        )
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        # The token goes in a header of every request: never in clear text over a network.
        raise ConfigError(
            f"{MARICOPA_API_BASE_URL}: {display_url(url)!r} must use https:// "
            "(http:// only for localhost): the token would cross the network unencrypted"
        )
    return url


def _parse_token(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    token = raw.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        # Never echo the value: it is a secret.
        raise ConfigError(
            f"{MARICOPA_API_TOKEN}: the token contains spaces or control characters "
            "(paste the token exactly as the Assessor sent it)"
        )
    return token


@dataclass(frozen=True)
class MaricopaSettings(SourceHttpSettings):
    """The Assessor source's settings, parsed and validated (``from_env``)."""

    base_url: str = DEFAULT_BASE_URL
    token: str | None = field(default=None, repr=False)
    requests_per_second: float = 1.0
    max_concurrency: int = 2
    daily_request_budget: int = 2000
    stale_after_days: int = 30
    time_budget_seconds: float = 3000.0
    max_search_pages: int = 200

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MaricopaSettings:
        env = os.environ if environ is None else environ
        return cls(
            base_url=_parse_base_url(env.get(MARICOPA_API_BASE_URL)),
            token=_parse_token(env.get(MARICOPA_API_TOKEN)),
            requests_per_second=float(
                parse_number_setting(
                    env,
                    MARICOPA_REQUESTS_PER_SECOND,
                    1.0,
                    integer=False,
                    minimum=MIN_REQUESTS_PER_SECOND,
                    maximum=100,
                )
            ),
            max_concurrency=parse_number_setting(
                env, MARICOPA_MAX_CONCURRENCY, 2, integer=True, minimum=1, maximum=32
            ),
            daily_request_budget=parse_number_setting(
                env,
                MARICOPA_DAILY_REQUEST_BUDGET,
                2000,
                integer=True,
                minimum=1,
                maximum=MAX_DAILY_REQUEST_BUDGET,
            ),
            stale_after_days=parse_number_setting(
                env, MARICOPA_STALE_AFTER_DAYS, 30, integer=True, minimum=1, maximum=365
            ),
            time_budget_seconds=float(
                parse_number_setting(
                    env,
                    MARICOPA_TIME_BUDGET_SECONDS,
                    3000.0,
                    integer=False,
                    minimum=1,
                    maximum=MAX_TIME_BUDGET_SECONDS,
                )
            ),
            max_search_pages=parse_number_setting(
                env,
                MARICOPA_MAX_SEARCH_PAGES,
                200,
                integer=True,
                minimum=1,
                maximum=SEARCH_PAGE_LIMIT,
            ),
        )

    @property
    def configured(self) -> bool:
        """Whether a token is set; without one the source cannot run."""
        return bool(self.token)


def is_auth_failure(response: httpx.Response) -> bool:
    """The Assessor refuses a bad token with HTTP 500 and an "Unauthorized access" page."""
    return response.status_code == 500 and b"Unauthorized access" in response.content


# --------------------------------------------------------------------------- search shapes


class SearchShapeError(ValueError):
    """A search response in none of the shapes the Assessor is known to send."""


def _key(mapping: Mapping[Any, Any], name: str) -> Any:
    for key in mapping:
        if isinstance(key, str) and key.lower() == name.lower():
            return key
    return None


def _total_found(mapping: Mapping[Any, Any]) -> int | None:
    key = _key(mapping, "TotalFound")
    value = mapping.get(key) if key is not None else None
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.replace(",", "").strip()
        return int(value) if value.isdigit() else None
    return value if isinstance(value, int) and value >= 0 else None


def parse_search_page(data: Any) -> tuple[list[Any], int | None]:
    """``(hits, TotalFound or None)`` from one search response, whatever its known shape.

    Shapes seen in public clients: ``{"RealPropertyResults": [...]}``,
    ``{"RealProperty": [...], "TotalFound": n}``, ``{"Results": [...]}``,
    ``{"RealProperty": {"results": [...]}}`` and a bare list.
    """
    if isinstance(data, list):
        return data, None
    if not isinstance(data, Mapping):
        raise SearchShapeError(f"search response is a {type(data).__name__}, not an object")
    total = _total_found(data)
    for name in ("RealPropertyResults", "RealProperty", "Results"):
        key = _key(data, name)
        if key is None:
            continue
        value = data[key]
        if value is None:
            return [], total
        if isinstance(value, list):
            return value, total
        if isinstance(value, Mapping):
            inner_key = _key(value, "results")
            inner = value.get(inner_key) if inner_key is not None else None
            if isinstance(inner, list) or (inner_key is not None and inner is None):
                inner_total = _total_found(value)
                return inner or [], inner_total if inner_total is not None else total
        raise SearchShapeError(f"search response's {key!r} is a {type(value).__name__}")
    if total == 0:
        return [], 0
    keys = sorted(str(k) for k in data)[:8]
    raise SearchShapeError(f"unknown search response shape (keys: {', '.join(keys) or 'none'})")


def _hit_apn(hit: Mapping[Any, Any]) -> str | None:
    key = _key(hit, "APN") or _key(hit, "ParcelNumber")
    value = hit.get(key) if key is not None else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    apn = normalize_apn(str(value))
    if apn is None or not _COMPACT_APN.match(apn.replace("-", "")):
        return None
    return apn


def compact_apn(apn: str) -> str:
    """The APN as it goes in a URL: no separators (the Assessor accepts both forms)."""
    return quote((normalize_apn(apn) or apn).replace("-", ""), safe="")


# --------------------------------------------------------------------------- the run


class _RequestBudgetSpent(SourceError):
    """The run's request budget is spent: no request left to send."""


class _Stopped(Exception):
    """The source stopped (authentication, time budget): end every worker."""


class _BudgetTransport(httpx.AsyncBaseTransport):
    """Sends at most ``limit`` requests; the next ones are refused before the wire.

    The run schedules work on ``client.stats.requests``; this is the hard stop that keeps
    a retry (which happens inside ``SourceClient``) from ever going past the budget.
    (Requests that httpx routes through a proxy from the environment bypass it.)
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.sent = 0
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.sent >= self.limit:
            self.refused += 1
            raise _RequestBudgetSpent(
                f"{MARICOPA_SOURCE}: request budget of {self.limit} spent "
                f"({MARICOPA_DAILY_REQUEST_BUDGET})"
            )
        self.sent += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class _Parcel:
    zip_code: str
    apn: str
    hit: Any
    decision: str = ""  # new, stale, fresh
    last_fetched: dt.datetime | None = None
    outcome: str = ""  # "" (not started), started, fetched, failed, budget, stopped


@dataclass
class _ZipState:
    zip_code: str
    pages: int = 0
    searched: bool = False
    failed: bool = False
    parcels: list[_Parcel] = field(default_factory=list)
    dropped: int = 0
    failures: int = 0
    last_error: tuple[str, str] | None = None


def _error_kind(exc: Exception) -> str:
    if isinstance(exc, AuthenticationError):
        return "auth"
    if isinstance(exc, (BudgetExhaustedError, _RequestBudgetSpent)):
        return "budget"
    if isinstance(exc, UnexpectedBodyError):
        return "html_body"
    if isinstance(exc, SearchShapeError):
        return "schema"
    if isinstance(exc, SourceError):
        status = exc.status
        if status is not None and status >= 400:
            return f"http_{status}"
        if isinstance(exc, RetryableError):
            if status is not None:
                return "bad_json"
            return "timeout" if "timed out" in str(exc) else "connection"
        return "error"
    return "error"


def _as_utc(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


class _Run:
    def __init__(
        self,
        settings: MaricopaSettings,
        client: SourceClient,
        transport: _BudgetTransport,
        result: CollectionResult,
        known: Mapping[str, dt.datetime],
        now: dt.datetime,
    ) -> None:
        self.settings = settings
        self.client = client
        self.transport = transport
        self.result = result
        self.now = _as_utc(now)
        self.known: dict[str, dt.datetime] = {}
        for apn, when in known.items():
            normalized = normalize_apn(apn)
            if normalized and isinstance(when, dt.datetime):
                self.known[normalized] = _as_utc(when)
        self.zips: dict[str, _ZipState] = {}
        self.seen_apns: set[str] = set()
        self.stop: tuple[str, str] | None = None  # (kind, reason)
        self.budget_spent = False
        self.proven = False
        self.probe_lock = asyncio.Lock()

    # -- requests

    def requests_made(self) -> int:
        """Every attempt the client made (retries included), less those the cap refused."""
        return self.client.stats.requests - self.transport.refused

    def requests_left(self) -> int:
        return self.settings.daily_request_budget - self.requests_made()

    async def call(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """One JSON call, within the budget; stops the source on auth or time budget."""
        if self.stop is not None:
            raise _Stopped
        if self.requests_left() <= 0:
            self.budget_spent = True
            raise _RequestBudgetSpent(
                f"{MARICOPA_SOURCE}: request budget of {self.settings.daily_request_budget} "
                f"spent ({MARICOPA_DAILY_REQUEST_BUDGET})"
            )
        if not self.proven:
            # Until one call has worked, one at a time: a bad token costs one request.
            async with self.probe_lock:
                if not self.proven:
                    data = await self._call(path, params)
                    self.proven = True
                    return data
        return await self._call(path, params)

    async def _call(self, path: str, params: Mapping[str, Any] | None) -> Any:
        if self.stop is not None:
            raise _Stopped
        try:
            return await self.client.get_json(path, params=params)
        except _RequestBudgetSpent:
            self.budget_spent = True
            raise
        except AuthenticationError as exc:
            self.halt("auth", str(exc))
            raise _Stopped from None
        except BudgetExhaustedError as exc:
            self.halt(
                "budget",
                f"{exc} (time budget of {self.settings.time_budget_seconds:g} s, "
                f"{MARICOPA_TIME_BUDGET_SECONDS})",
            )
            raise _Stopped from None
        except SourceError:
            raise
        except Exception as exc:  # httpx errors SourceClient lets through (decoding, ...)
            raise SourceError(
                self.client.redact(f"{MARICOPA_SOURCE}: {type(exc).__name__}: {exc}")
            ) from None

    def halt(self, kind: str, reason: str) -> None:
        if self.stop is None:
            self.stop = (kind, self.client.redact(reason))
            logger.warning("%s: stopping the source: %s", MARICOPA_SOURCE, self.stop[1])

    def fail_zip(self, state: _ZipState, kind: str, reason: str) -> None:
        if state.failed:
            return
        state.failed = True
        reason = self.client.redact(reason)
        self.result.failures.append(ZipFailure(state.zip_code, kind, reason))
        logger.warning("%s %s: failed (%s): %s", MARICOPA_SOURCE, state.zip_code, kind, reason)

    # -- search

    async def search_zip(self, state: _ZipState) -> None:
        previous: tuple[Any, ...] | None = None
        raw_seen = 0
        zip_code = state.zip_code
        for page in range(1, self.settings.max_search_pages + 1):
            data = await self.call(SEARCH_PATH, params={"q": zip_code, "page": page})
            hits, total = parse_search_page(data)
            state.pages += 1
            self.result.count("search_pages")
            if not hits:
                logger.debug("%s %s: page %d is empty: end", MARICOPA_SOURCE, zip_code, page)
                break
            signature = tuple(
                _hit_apn(hit) if isinstance(hit, Mapping) else repr(hit) for hit in hits
            )
            if signature == previous:
                self.result.count("search_loop_guard")
                logger.warning(
                    "%s %s: page %d repeats page %d: end of search",
                    MARICOPA_SOURCE,
                    zip_code,
                    page,
                    page - 1,
                )
                break
            previous = signature
            self.take_hits(state, hits)
            raw_seen += len(hits)
            if len(hits) < PAGE_SIZE:
                break
            if total is not None and raw_seen >= total:
                logger.debug("%s %s: TotalFound %d reached", MARICOPA_SOURCE, zip_code, total)
                break
        else:
            self.result.count("search_page_limit")
            logger.warning(
                "%s %s: stopped at %d search pages (%s); later pages wait for another run",
                MARICOPA_SOURCE,
                zip_code,
                self.settings.max_search_pages,
                MARICOPA_MAX_SEARCH_PAGES,
            )
        state.searched = True

    def take_hits(self, state: _ZipState, hits: Iterable[Any]) -> None:
        for hit in hits:
            if not isinstance(hit, Mapping):
                self.result.count("schema_drift")
                self.result.count("hits_without_apn")
                logger.debug("%s %s: a hit that is not an object", MARICOPA_SOURCE, state.zip_code)
                continue
            apn = _hit_apn(hit)
            if apn is None:
                self.result.count("schema_drift")
                self.result.count("hits_without_apn")
                logger.debug("%s %s: a hit without an APN", MARICOPA_SOURCE, state.zip_code)
                continue
            hit_zip = hit_zip_code(hit)
            if hit_zip is not None and hit_zip != state.zip_code:
                state.dropped += 1
                self.result.count("dropped_other_zip")
                logger.debug(
                    "%s %s %s: dropped, its address is in %s",
                    MARICOPA_SOURCE,
                    state.zip_code,
                    apn,
                    hit_zip,
                )
                continue
            if apn in self.seen_apns:
                self.result.count("duplicate_hits")
                continue
            self.seen_apns.add(apn)
            state.parcels.append(_Parcel(state.zip_code, apn, dict(hit)))
            self.result.count("parcels_found")

    async def search_worker(self, queue: list[_ZipState]) -> None:
        while queue:
            state = queue.pop(0)
            try:
                await self.search_zip(state)
            except _Stopped:
                raise
            except (SourceError, SearchShapeError) as exc:
                if isinstance(exc, SearchShapeError):
                    self.result.count("schema_drift")
                self.fail_zip(state, _error_kind(exc), f"search failed: {exc}")
                if self.budget_spent:
                    raise _Stopped from None  # no request left: nothing more can happen

    # -- decisions

    def decide(self) -> list[_Parcel]:
        """Classify every parcel found; return what to fetch, in the order to fetch it."""
        stale_after = dt.timedelta(days=self.settings.stale_after_days)
        new_by_zip: list[list[_Parcel]] = []
        stale: list[tuple[dt.datetime, int, str, _Parcel]] = []
        for index, state in enumerate(self.zips.values()):
            if state.failed or not state.searched:
                continue
            new_here: list[_Parcel] = []
            for parcel in sorted(state.parcels, key=lambda p: p.apn):
                last = self.known.get(parcel.apn)
                parcel.last_fetched = last
                if last is None:
                    parcel.decision = "new"
                    new_here.append(parcel)
                    logger.debug(
                        "%s %s %s: new (never fetched)", MARICOPA_SOURCE, state.zip_code, parcel.apn
                    )
                elif self.now - last > stale_after:
                    parcel.decision = "stale"
                    stale.append((last, index, parcel.apn, parcel))
                    logger.debug(
                        "%s %s %s: stale (fetched %s, %d days ago > %d)",
                        MARICOPA_SOURCE,
                        state.zip_code,
                        parcel.apn,
                        last.date().isoformat(),
                        (self.now - last).days,
                        self.settings.stale_after_days,
                    )
                else:
                    parcel.decision = "fresh"
                    logger.debug(
                        "%s %s %s: fresh (fetched %s): skipped",
                        MARICOPA_SOURCE,
                        state.zip_code,
                        parcel.apn,
                        last.date().isoformat(),
                    )
                self.result.count(
                    parcel.decision if parcel.decision != "fresh" else "fresh_skipped"
                )
            new_by_zip.append(new_here)
        # New parcels round-robin over the ZIPs, then the stale ones stalest first.
        plan: list[_Parcel] = []
        for rank in range(max((len(group) for group in new_by_zip), default=0)):
            plan.extend(group[rank] for group in new_by_zip if rank < len(group))
        plan.extend(parcel for *_, parcel in sorted(stale, key=lambda item: item[:3]))
        return plan

    # -- details

    async def detail_worker(self, plan: list[_Parcel]) -> None:
        while plan:
            if self.stop is not None:
                raise _Stopped
            if self.budget_spent or self.requests_left() <= 0:
                self.budget_spent = True
                return
            parcel = plan.pop(0)
            parcel.outcome = "started"
            await self.fetch_parcel(parcel)

    async def fetch_parcel(self, parcel: _Parcel) -> None:
        state = self.zips[parcel.zip_code]
        compact = compact_apn(parcel.apn)
        try:
            data = await self.call(f"/parcel/{compact}")
        except _RequestBudgetSpent:
            parcel.outcome = "budget"
            return
        except SourceError as exc:
            parcel.outcome = "failed"
            state.failures += 1
            state.last_error = (_error_kind(exc), str(exc))
            self.result.count("detail_failures")
            logger.info(
                "%s %s %s: details failed, left for the next run: %s",
                MARICOPA_SOURCE,
                parcel.zip_code,
                parcel.apn,
                exc,
            )
            return
        self.check_drift(parcel, data)
        residential = None
        if not (isinstance(data, Mapping) and _is_false(data.get("IsResidential"))):
            residential = await self.optional(parcel, f"/parcel/{compact}/residential-details")
        valuations = await self.optional(parcel, f"/parcel/{compact}/valuations")
        self.result.records.append(
            CollectedRecord(
                source_id=parcel.apn,
                zip_code=parcel.zip_code,
                payload={
                    "search": parcel.hit,
                    "parcel": data,
                    "residential_details": residential,
                    "valuations": valuations,
                },
            )
        )
        parcel.outcome = "fetched"
        self.result.count("fetched")

    async def optional(self, parcel: _Parcel, path: str) -> Any:
        try:
            return await self.call(path)
        except _Stopped:  # keep the parcel already in hand; the worker stops after it
            self.result.count("optional_detail_skipped")
            return None
        except _RequestBudgetSpent:
            self.result.count("optional_detail_skipped")
            return None
        except SourceError as exc:
            self.result.count("optional_detail_failures")
            logger.debug("%s %s: %s failed: %s", MARICOPA_SOURCE, parcel.apn, path, exc)
            return None

    def check_drift(self, parcel: _Parcel, data: Any) -> None:
        if not isinstance(data, Mapping):
            missing: Sequence[str] = EXPECTED_PARCEL_KEYS
        else:
            missing = [key for key in EXPECTED_PARCEL_KEYS if key not in data]
        if missing:
            self.result.count("schema_drift")
            required = [key for key in missing if key in REQUIRED_PARCEL_KEYS]
            (logger.warning if required else logger.info)(
                "%s %s %s: schema drift, /parcel lacks %s; kept for the adapter to judge",
                MARICOPA_SOURCE,
                parcel.zip_code,
                parcel.apn,
                ", ".join(missing),
            )

    # -- the whole run

    async def run(self, zip_codes: Sequence[str]) -> None:
        for zip_code in dict.fromkeys(zip_codes):
            state = _ZipState(zip_code)
            self.zips[zip_code] = state
            if not _ZIP_RE.match(zip_code):
                self.fail_zip(state, "config", f"{zip_code!r} is not a 5-digit ZIP code")
        workers = max(1, self.settings.max_concurrency)
        queue = [state for state in self.zips.values() if not state.failed]
        await self._gather(self.search_worker(queue) for _ in range(workers))
        plan = self.decide()
        await self._gather(self.detail_worker(plan) for _ in range(workers))
        self.finish()

    async def _gather(self, coroutines: Iterable[Any]) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for coroutine in coroutines:
                    group.create_task(coroutine)
        except* _Stopped:
            pass

    def finish(self) -> None:
        stop_kind, stop_reason = self.stop or ("", "")
        for state in self.zips.values():
            planned = [p for p in state.parcels if p.decision in ("new", "stale")]
            cut = [p for p in planned if p.outcome in ("", "started")]
            for parcel in cut:  # work a budget or a stop left undone
                parcel.outcome = "stopped" if stop_kind == "auth" else "budget"
            for parcel in planned:
                if parcel.outcome in ("budget", "stopped"):
                    logger.debug(
                        "%s %s %s: %s: not fetched this run",
                        MARICOPA_SOURCE,
                        state.zip_code,
                        parcel.apn,
                        "budget spent" if parcel.outcome == "budget" else "source stopped",
                    )
            skipped_budget = sum(p.outcome == "budget" for p in planned)
            skipped_stop = sum(p.outcome == "stopped" for p in planned)
            fetched = sum(p.outcome == "fetched" for p in planned)
            self.result.count("budget_skipped", skipped_budget)
            self.result.count("stopped_skipped", skipped_stop)
            if state.failed:
                pass
            elif self.stop is not None and (not state.searched or cut):
                self.fail_zip(state, stop_kind, stop_reason)
            elif not state.searched:
                self.fail_zip(
                    state,
                    "budget",
                    f"not searched: request budget of {self.settings.daily_request_budget} "
                    f"spent ({MARICOPA_DAILY_REQUEST_BUDGET})",
                )
            elif state.failures and not fetched and state.last_error is not None:
                kind, reason = state.last_error
                self.fail_zip(
                    state,
                    kind,
                    f"all {state.failures} parcel detail fetches failed; last: {reason}",
                )
            decisions = {
                name: sum(p.decision == name for p in state.parcels)
                for name in ("new", "stale", "fresh")
            }
            logger.info(
                "%s %s: %d search pages, %d parcels (%d other-ZIP hits dropped): "
                "%d new, %d stale, %d fresh; fetched %d, %d failed, %d left for the budget%s",
                MARICOPA_SOURCE,
                state.zip_code,
                state.pages,
                len(state.parcels),
                state.dropped,
                decisions["new"],
                decisions["stale"],
                decisions["fresh"],
                fetched,
                state.failures,
                skipped_budget,
                f", {skipped_stop} left by the stop" if skipped_stop else "",
            )
        order = {zip_code: index for index, zip_code in enumerate(self.zips)}
        self.result.failures.sort(key=lambda failure: order.get(failure.zip_code, len(order)))
        self.result.records.sort(key=lambda record: (record.zip_code, record.source_id))


def _is_false(value: Any) -> bool:
    if isinstance(value, bool):
        return not value
    return isinstance(value, str) and value.strip().lower() in ("false", "n", "no")


async def collect_parcels(
    settings: MaricopaSettings,
    zip_codes: Sequence[str],
    known: Mapping[str, dt.datetime],
    *,
    now: dt.datetime,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CollectionResult:
    """Collect the Assessor's parcels of ``zip_codes``: new ones first, then the stalest.

    ``known`` maps a normalized APN to when its details were last fetched (the caller
    keeps it in Mongo); ``now`` is the run's clock, for staleness. Records are sorted by
    ``(zip_code, source_id)``, so the same server and ``known`` give the same result.

    Never raises for a source fault: failures are in ``result.failures`` (one per ZIP),
    figures in ``result.counts`` (``COUNT_KEYS``). If every ZIP failed the result says so
    and it is the caller (the asset) that decides to fail the run. Without a token
    (``settings.configured`` false) nothing is requested and every ZIP fails with kind
    ``not_configured``.
    """
    result = CollectionResult(source=MARICOPA_SOURCE)
    for name in COUNT_KEYS:
        result.counts[name] = 0
    if not settings.configured:
        for zip_code in dict.fromkeys(zip_codes):
            result.failures.append(
                ZipFailure(
                    zip_code,
                    "not_configured",
                    f"{MARICOPA_API_TOKEN} is not set: the Assessor's API needs a token "
                    "(request one through the Assessor's contact form)",
                )
            )
        return result
    token = settings.token or ""
    policy = settings.policy()
    inner = transport or httpx.AsyncHTTPTransport(
        limits=httpx.Limits(
            max_connections=policy.max_concurrency,
            max_keepalive_connections=policy.max_concurrency,
        )
    )
    budget = _BudgetTransport(inner, settings.daily_request_budget)
    async with SourceClient(
        source=MARICOPA_SOURCE,
        base_url=settings.base_url,
        policy=policy,
        headers={"AUTHORIZATION": token, "user-agent": "null", "accept": "application/json"},
        secrets=[token],
        auth_variables=MARICOPA_API_TOKEN,
        url_variable=MARICOPA_API_BASE_URL,
        is_auth_failure=is_auth_failure,
        transport=budget,
    ) as client:
        run = _Run(settings, client, budget, result, known, now)
        await run.run(zip_codes)
        # An attempt refused by the budget never reached the wire: do not count it.
        client.stats.requests -= budget.refused
        result.stats = client.stats
    return result
