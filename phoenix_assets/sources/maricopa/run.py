"""The Assessor source's day: listed parcels first, a share of search passes, then details
by priority, all within one request budget.

1. **Listed parcels.** The parcels the day's listings point at (``listed``: APN -> ZIP,
   asked again after the searches and every ``LISTED_POLL_REQUESTS`` requests, so a
   listing stored while the Assessor runs still gets its facts today) whose record is
   missing or older than ``MARICOPA_STALE_AFTER_DAYS``.
2. **Search passes** of the ZIPs due (``inventory.due_searches``), at most
   ``SEARCH_SHARE`` of what the listed parcels left: ``/search/property/?q=<zip>&page=N``,
   25 hits a page, each page stored in the inventory as it comes, so a pass that the
   day's share does not cover resumes at its next page the next day. A pass ends on a
   short or empty page, ``TotalFound``, a page repeating the previous one, or
   ``MARICOPA_MAX_SEARCH_PAGES``. Hits whose address names another ZIP are dropped.
3. **Details** with what is left: parcels whose search row changed, then parcels never
   fetched, then the stalest.

A parcel's record is ``/parcel/{apn}``, which carries the residential data and the
valuations the adapter reads: one request. ``/residential-details`` and ``/valuations``
are asked only when that body lacks its section (a residential parcel without
``ResidentialPropertyData``, no ``Valuations``), budget allowing.

Faults: a ZIP whose search fails is recorded as a ``ZipFailure`` and the others go on;
a parcel whose details fail is counted and left for the next run; an authentication
failure or the time budget stops the source at once, every ZIP with work left being
recorded as failed (``auth``, ``budget``). The request budget (owned by the client)
running out is not a failure: what it did not cover is counted as deferred and comes
first on a later day. Nothing raises out of ``collect_parcels`` for a source fault.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from phoenix_assets.domain.maricopa_adapter import hit_zip_code
from phoenix_assets.domain.property import normalize_apn
from phoenix_assets.sources.collection import CollectedRecord, CollectionResult, ZipFailure
from phoenix_assets.sources.http import (
    AuthenticationError,
    BudgetExhaustedError,
    RequestBudgetSpentError,
    SourceClient,
    SourceError,
    UnexpectedBodyError,
    unexpected_failure,
)
from phoenix_assets.sources.maricopa.inventory import (
    ParcelInventory,
    ParcelState,
    Tier,
    ZipSearch,
    add_days,
    due_searches,
    listed_to_fetch,
    next_search_due,
    search_allowance,
)
from phoenix_assets.sources.maricopa.search import (
    PAGE_SIZE,
    SEARCH_PATH,
    SearchShapeError,
    compact_apn,
    hit_apn,
    parse_search_page,
)
from phoenix_assets.sources.maricopa.settings import (
    MARICOPA_API_BASE_URL,
    MARICOPA_API_TOKEN,
    MARICOPA_DAILY_REQUEST_BUDGET,
    MARICOPA_MAX_SEARCH_PAGES,
    MARICOPA_SOURCE,
    MARICOPA_TIME_BUDGET_SECONDS,
    MaricopaSettings,
    is_auth_failure,
)

logger = logging.getLogger(__name__)

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
# Ask for the day's listings again after this many detail requests.
LISTED_POLL_REQUESTS = 250

# Counts every run reports (``result.counts``), present even when zero:
#   zips_due                ZIPs whose search pass was due (in progress, never searched, due)
#   zips_searched           passes completed today
#   zips_search_continued   passes begun or resumed today that go on another day
#   zips_search_deferred    due ZIPs not reached today (the day's search share was spent)
#   search_pages            search pages fetched and parsed
#   parcels_found           distinct parcels the searches placed in their ZIP
#   inventory_new           parcels the searches added to the inventory
#   inventory_changed       parcels whose search row changed (their details are refetched)
#   dropped_other_zip       hits whose address names another ZIP (a text search matches more)
#   duplicate_hits          hits of a parcel already found (another page or ZIP)
#   hits_without_apn        hits with no usable APN (also counted as schema_drift)
#   listed, changed, new, stale
#                           parcels planned for details today, by tier
#   listed_fresh            parcels of the day's listings whose record is fresh: skipped
#   listed_not_found        APNs of the day's listings the Assessor has no parcel of (an
#                           HTML page for /parcel): not asked again within the stale window
#   fetched_listed, fetched_changed, fetched_new, fetched_stale, fetched
#                           records collected, by tier and in all
#   budget_skipped          planned parcels the request or time budget left for a later day
#   stopped_skipped         planned parcels left because the token was refused
#   backlog_parcels, backlog_never_fetched, backlog_stale
#                           the configured ZIPs' inventory before the details: parcels,
#                           never fetched, fetched before the stale cutoff
#   detail_failures         parcels whose /parcel failed (left for the next run)
#   optional_detail_failures, optional_detail_skipped
#                           /residential-details or /valuations failed / not asked (budget, stop)
#   schema_drift            /parcel bodies lacking expected keys, hits lacking an APN,
#                           search responses of an unknown shape
#   search_loop_guard       passes ended because a page repeated the previous one
#   search_page_limit       passes ended by MARICOPA_MAX_SEARCH_PAGES
COUNT_KEYS = (
    "zips_due",
    "zips_searched",
    "zips_search_continued",
    "zips_search_deferred",
    "search_pages",
    "parcels_found",
    "inventory_new",
    "inventory_changed",
    "dropped_other_zip",
    "duplicate_hits",
    "hits_without_apn",
    *(tier.value for tier in Tier),
    "listed_fresh",
    "listed_not_found",
    *(f"fetched_{tier.value}" for tier in Tier),
    "fetched",
    "budget_skipped",
    "stopped_skipped",
    "backlog_parcels",
    "backlog_never_fetched",
    "backlog_stale",
    "detail_failures",
    "optional_detail_failures",
    "optional_detail_skipped",
    "schema_drift",
    "search_loop_guard",
    "search_page_limit",
)

# The counts that are also run figures (metrics): the day's work and what it deferred.
WORK_FIGURES = (
    "zips_searched",
    "zips_search_continued",
    "zips_search_deferred",
    "search_pages",
    *(f"fetched_{tier.value}" for tier in Tier),
    "budget_skipped",
    "backlog_never_fetched",
    "backlog_stale",
)

ListedParcels = Callable[[], Mapping[str, str]]

_ZIP_RE = re.compile(r"^\d{5}$")


class _Stopped(Exception):
    """The source stopped (authentication, time budget): end every worker."""


@dataclass
class _Planned:
    state: ParcelState
    tier: Tier
    outcome: str = ""  # "" (not started), started, fetched, failed, not_found, budget, stopped


@dataclass
class _ZipDay:
    """One ZIP's day: its search, its failures."""

    zip_code: str
    search: ZipSearch
    due: bool = False
    pages: int = 0
    search_outcome: str = ""  # completed, continued, deferred ("" when not due)
    failed: bool = False
    dropped: int = 0
    failures: int = 0
    last_error: tuple[str, str] | None = None
    planned: list[_Planned] = field(default_factory=list)


class _Run:
    def __init__(
        self,
        settings: MaricopaSettings,
        client: SourceClient,
        result: CollectionResult,
        inventory: ParcelInventory,
        listed: ListedParcels,
        day: str,
    ) -> None:
        self.settings = settings
        self.client = client
        self.result = result
        self.inventory = inventory
        self.listed = listed
        self.day = day
        self.stale_before = add_days(day, -settings.stale_after_days)
        self.zips: dict[str, _ZipDay] = {}
        self.seen_apns: set[str] = set()
        self.planned_apns: set[str] = set()
        self.queue: deque[_Planned] = deque()
        self.stop: tuple[str, str] | None = None  # (kind, reason)
        self.proven = False
        self.probe_lock = asyncio.Lock()
        self.search_left = 0
        self.polled_at = 0

    # -- requests

    def requests_left(self) -> int:
        left = self.client.requests_left
        return left if left is not None else self.settings.daily_request_budget

    async def call(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """One JSON call; stops the source on a refused token or the time budget.
        ``RequestBudgetSpentError`` passes through: the caller defers its work."""
        if self.stop is not None:
            raise _Stopped
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
        except RequestBudgetSpentError:
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
            raise unexpected_failure(MARICOPA_SOURCE, exc, self.client.redact) from None

    def halt(self, kind: str, reason: str) -> None:
        if self.stop is None:
            self.stop = (kind, self.client.redact(reason))
            logger.warning("%s: stopping the source: %s", MARICOPA_SOURCE, self.stop[1])

    def fail_zip(self, zip_day: _ZipDay, kind: str, reason: str) -> None:
        if zip_day.failed:
            return
        zip_day.failed = True
        reason = self.client.redact(reason)
        self.result.failures.append(ZipFailure(zip_day.zip_code, kind, reason))
        logger.warning("%s %s: failed (%s): %s", MARICOPA_SOURCE, zip_day.zip_code, kind, reason)

    # -- listed parcels

    def poll_listed(self) -> None:
        """Queue, ahead of everything else, the listed parcels not yet planned."""
        listed = {
            apn: zip_code
            for raw_apn, zip_code in self.listed().items()
            if (apn := normalize_apn(raw_apn))
            and zip_code in self.zips
            and not self.zips[zip_code].failed
            and apn not in self.planned_apns
        }
        self.polled_at = self.client.stats.requests
        if not listed:
            return
        to_fetch, fresh = listed_to_fetch(
            listed, self.inventory.parcels(listed), self.day, self.stale_before
        )
        self.result.count("listed_fresh", fresh)
        self.planned_apns.update(listed)  # fresh ones too: asked once a run
        for state in reversed(to_fetch):
            self.queue.appendleft(self.plan(state, Tier.LISTED))

    def plan(self, state: ParcelState, tier: Tier) -> _Planned:
        planned = _Planned(state, tier)
        self.planned_apns.add(state.apn)
        zip_day = self.zips.get(state.zip_code)
        if zip_day is not None:
            zip_day.planned.append(planned)
        self.result.count(tier.value)
        return planned

    # -- search

    async def search_worker(self, queue: list[_ZipDay]) -> None:
        while queue and self.stop is None and self.search_left > 0:
            zip_day = queue.pop(0)
            try:
                await self.search_zip(zip_day)
            except RequestBudgetSpentError:
                return
            except (SourceError, SearchShapeError) as exc:
                if isinstance(exc, SearchShapeError):
                    self.result.count("schema_drift")
                kind = exc.kind if isinstance(exc, SourceError) else "schema"
                self.fail_zip(zip_day, kind, f"search failed: {exc}")

    async def search_zip(self, zip_day: _ZipDay) -> None:
        search = zip_day.search
        zip_code = zip_day.zip_code
        first_pass = not search.completed_on
        while self.search_left > 0:
            if search.pass_pages >= self.settings.max_search_pages:
                self.result.count("search_page_limit")
                logger.warning(
                    "%s %s: pass ended at %d search pages (%s)",
                    MARICOPA_SOURCE,
                    zip_code,
                    search.pass_pages,
                    MARICOPA_MAX_SEARCH_PAGES,
                )
                break
            self.search_left -= 1
            page = search.next_page
            data = await self.call(SEARCH_PATH, params={"q": zip_code, "page": page})
            hits, total = parse_search_page(data)
            zip_day.pages += 1
            self.result.count("search_pages")
            if search.pass_pages == 0:
                search.pass_started_on = self.day
            signature = [
                (hit_apn(hit) or "") if isinstance(hit, Mapping) else repr(hit) for hit in hits
            ]
            if hits and signature == search.last_page:
                self.result.count("search_loop_guard")
                logger.warning(
                    "%s %s: page %d repeats the page before: end of the pass",
                    MARICOPA_SOURCE,
                    zip_code,
                    page,
                )
                break
            taken = self.take_hits(zip_day, hits)
            search.pass_pages += 1
            search.pass_hits += len(hits)
            search.next_page = page + 1
            search.last_page = signature
            ended = len(hits) < PAGE_SIZE or (total is not None and search.pass_hits >= total)
            if ended:
                self.complete_pass(zip_day, first_pass)
            saved = self.inventory.save_search_page(self.day, search, taken)
            self.result.count("inventory_new", saved.new)
            self.result.count("inventory_changed", saved.changed)
            if ended:
                return
        else:
            if not zip_day.pages:
                return  # not reached today: deferred
            zip_day.search_outcome = "continued"
            logger.info(
                "%s %s: the day's search share is spent at page %d; the pass goes on another day",
                MARICOPA_SOURCE,
                zip_code,
                search.next_page,
            )
            return
        self.complete_pass(zip_day, first_pass)
        self.inventory.save_search_page(self.day, search, [])

    def complete_pass(self, zip_day: _ZipDay, first_pass: bool) -> None:
        search = zip_day.search
        zip_codes = list(self.zips)
        search.completed_on = self.day
        search.due_on = next_search_due(
            self.day,
            self.settings.search_every_days,
            first_pass=first_pass,
            index=zip_codes.index(zip_day.zip_code),
            count=len(zip_codes),
        )
        logger.info(
            "%s %s: search pass done (%d pages, %d hits); next due %s",
            MARICOPA_SOURCE,
            zip_day.zip_code,
            search.pass_pages,
            search.pass_hits,
            search.due_on,
        )
        search.next_page, search.pass_pages, search.pass_hits = 1, 0, 0
        search.pass_started_on, search.last_page = None, []
        zip_day.search_outcome = "completed"
        self.result.count("zips_searched")

    def take_hits(
        self, zip_day: _ZipDay, hits: Iterable[Any]
    ) -> list[tuple[str, Mapping[str, Any]]]:
        taken: list[tuple[str, Mapping[str, Any]]] = []
        zip_code = zip_day.zip_code
        for hit in hits:
            apn = hit_apn(hit) if isinstance(hit, Mapping) else None
            if apn is None:
                self.result.count("schema_drift")
                self.result.count("hits_without_apn")
                logger.debug("%s %s: a hit without an APN", MARICOPA_SOURCE, zip_code)
                continue
            hit_zip = hit_zip_code(hit)
            if hit_zip is not None and hit_zip != zip_code:
                zip_day.dropped += 1
                self.result.count("dropped_other_zip")
                logger.debug(
                    "%s %s %s: dropped, its address is in %s",
                    MARICOPA_SOURCE,
                    zip_code,
                    apn,
                    hit_zip,
                )
                continue
            if apn in self.seen_apns:
                self.result.count("duplicate_hits")
                continue
            self.seen_apns.add(apn)
            taken.append((apn, dict(hit)))
            self.result.count("parcels_found")
        return taken

    # -- details

    def plan_details(self) -> None:
        """Queue, after the listed parcels, what the requests left can fetch: changed,
        then never fetched, then the stalest."""
        zip_codes = [z for z, zip_day in self.zips.items() if not zip_day.failed]
        backlog = self.inventory.backlog(zip_codes, self.day, self.stale_before)
        self.result.count("backlog_parcels", backlog.parcels)
        self.result.count("backlog_never_fetched", backlog.never_fetched)
        self.result.count("backlog_stale", backlog.stale)
        room = self.requests_left() - len(self.queue)  # a parcel is one call, as a rule
        for tier in (Tier.CHANGED, Tier.NEW, Tier.STALE):
            if room <= 0:
                return
            # Planned parcels may be returned again: ask for that many more.
            states = self.inventory.candidates(
                tier, zip_codes, self.day, self.stale_before, room + len(self.planned_apns)
            )
            for state in states:
                if room <= 0:
                    break
                if state.apn in self.planned_apns:
                    continue
                self.queue.append(self.plan(state, tier))
                room -= 1

    async def detail_worker(self) -> None:
        while self.queue:
            if self.stop is not None:
                raise _Stopped
            if self.requests_left() <= 0:
                return
            if self.client.stats.requests - self.polled_at >= LISTED_POLL_REQUESTS:
                self.poll_listed()
            planned = self.queue.popleft()
            planned.outcome = "started"
            await self.fetch_parcel(planned)

    async def fetch_parcel(self, planned: _Planned) -> None:
        state = planned.state
        zip_day = self.zips[state.zip_code]
        compact = compact_apn(state.apn)
        try:
            data = await self.call(f"/parcel/{compact}")
        except RequestBudgetSpentError:
            planned.outcome = "budget"
            return
        except UnexpectedBodyError as exc:
            if planned.tier is not Tier.LISTED:
                self.detail_failed(planned, zip_day, exc)
                return
            # The Assessor answers an APN it does not know with an HTML page: a
            # listing's APN that names no parcel. Not the ZIP's failure; not asked
            # again for MARICOPA_STALE_AFTER_DAYS.
            planned.outcome = "not_found"
            self.result.count("listed_not_found")
            self.inventory.record_not_found(self.day, state.apn, state.zip_code)
            logger.info(
                "%s %s %s: no such parcel (a listing points at it): %s",
                MARICOPA_SOURCE,
                state.zip_code,
                state.apn,
                exc,
            )
            return
        except SourceError as exc:
            self.detail_failed(planned, zip_day, exc)
            return
        self.check_drift(state, data)
        # /parcel carries the residential data and the valuations the adapter reads; the
        # dedicated endpoints are asked only for a section it lacks.
        residential = valuations = None
        body = data if isinstance(data, Mapping) else {}
        if not isinstance(body.get("ResidentialPropertyData"), Mapping) and not _is_false(
            body.get("IsResidential")
        ):
            residential = await self.optional(state, f"/parcel/{compact}/residential-details")
        if not body.get("Valuations") or not isinstance(body.get("Valuations"), list):
            valuations = await self.optional(state, f"/parcel/{compact}/valuations")
        self.result.records.append(
            CollectedRecord(
                source_id=state.apn,
                zip_code=state.zip_code,
                payload={
                    "search": dict(state.hit) if state.hit is not None else None,
                    "parcel": data,
                    "residential_details": residential,
                    "valuations": valuations,
                },
            )
        )
        planned.outcome = "fetched"
        self.result.count("fetched")
        self.result.count(f"fetched_{planned.tier.value}")

    def detail_failed(self, planned: _Planned, zip_day: _ZipDay, exc: SourceError) -> None:
        planned.outcome = "failed"
        zip_day.failures += 1
        zip_day.last_error = (exc.kind, str(exc))
        self.result.count("detail_failures")
        logger.info(
            "%s %s %s: details failed, left for the next run: %s",
            MARICOPA_SOURCE,
            planned.state.zip_code,
            planned.state.apn,
            exc,
        )

    async def optional(self, state: ParcelState, path: str) -> Any:
        try:
            return await self.call(path)
        except (_Stopped, RequestBudgetSpentError):
            # Keep the parcel already in hand; the worker stops after it.
            self.result.count("optional_detail_skipped")
            return None
        except SourceError as exc:
            self.result.count("optional_detail_failures")
            logger.debug("%s %s: %s failed: %s", MARICOPA_SOURCE, state.apn, path, exc)
            return None

    def check_drift(self, state: ParcelState, data: Any) -> None:
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
                state.zip_code,
                state.apn,
                ", ".join(missing),
            )

    # -- the whole run

    async def run(self, zip_codes: Sequence[str]) -> None:
        unique = list(dict.fromkeys(zip_codes))
        valid = [z for z in unique if _ZIP_RE.match(z)]
        searches = self.inventory.zip_searches(valid)
        for zip_code in unique:
            self.zips[zip_code] = _ZipDay(zip_code, searches.get(zip_code) or ZipSearch(zip_code))
            if zip_code not in searches:
                self.fail_zip(
                    self.zips[zip_code], "config", f"{zip_code!r} is not a 5-digit ZIP code"
                )
        await self._gather([self._listed_first()])
        due = [self.zips[z] for z in due_searches(searches, valid, self.day)]
        for zip_day in due:
            zip_day.due = True
        self.result.count("zips_due", len(due))
        self.search_left = search_allowance(max(0, self.requests_left() - len(self.queue)))
        workers = max(1, self.settings.max_concurrency)
        queue = list(due)
        if self.stop is None:
            await self._gather(self.search_worker(queue) for _ in range(workers))
        if self.stop is None:
            self.poll_listed()
            self.plan_details()
            await self._gather(self.detail_worker() for _ in range(workers))
        self.finish()

    async def _listed_first(self) -> None:
        """Before the searches: the listed parcels known now, fetched first, with no
        search taking their requests."""
        self.poll_listed()
        await self._gather(self.detail_worker() for _ in range(self.settings.max_concurrency))

    async def _gather(self, coroutines: Iterable[Any]) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for coroutine in coroutines:
                    group.create_task(coroutine)
        except* _Stopped:
            pass

    def finish(self) -> None:
        stop_kind, stop_reason = self.stop or ("", "")
        for zip_day in self.zips.values():
            if zip_day.due and not zip_day.search_outcome:
                zip_day.search_outcome = "deferred" if zip_day.pages == 0 else "continued"
            if zip_day.search_outcome in ("continued", "deferred"):
                self.result.count(f"zips_search_{zip_day.search_outcome}")
            cut = [p for p in zip_day.planned if p.outcome in ("", "started", "budget")]
            for planned in cut:  # work a budget or a stop left undone
                planned.outcome = "stopped" if stop_kind == "auth" else "budget"
            skipped_budget = sum(p.outcome == "budget" for p in zip_day.planned)
            skipped_stop = sum(p.outcome == "stopped" for p in zip_day.planned)
            fetched = sum(p.outcome == "fetched" for p in zip_day.planned)
            self.result.count("budget_skipped", skipped_budget)
            self.result.count("stopped_skipped", skipped_stop)
            search_cut = zip_day.search_outcome in ("continued", "deferred")
            if zip_day.failed:
                pass
            elif self.stop is not None and (search_cut or cut):
                self.fail_zip(zip_day, stop_kind, stop_reason)
            elif zip_day.failures and not fetched and zip_day.last_error is not None:
                kind, reason = zip_day.last_error
                self.fail_zip(
                    zip_day,
                    kind,
                    f"all {zip_day.failures} parcel detail fetches failed; last: {reason}",
                )
            tiers = {tier: sum(p.tier is tier for p in zip_day.planned) for tier in Tier}
            logger.info(
                "%s %s: search %s (%d pages, %d other-ZIP hits dropped); planned %s; "
                "fetched %d, %d failed, %d left for the budget%s",
                MARICOPA_SOURCE,
                zip_day.zip_code,
                zip_day.search_outcome or "not due",
                zip_day.pages,
                zip_day.dropped,
                ", ".join(f"{n} {tier.value}" for tier, n in tiers.items()),
                fetched,
                zip_day.failures,
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


def _no_listings() -> Mapping[str, str]:
    return {}


async def collect_parcels(
    settings: MaricopaSettings,
    zip_codes: Sequence[str],
    inventory: ParcelInventory,
    *,
    day: str,
    listed: ListedParcels = _no_listings,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CollectionResult:
    """The Assessor's day ``day`` for ``zip_codes``: listed parcels, search passes due,
    then changed, new and stale parcels, within ``MARICOPA_DAILY_REQUEST_BUDGET``.

    ``inventory`` is what the source remembers between days (search passes are written
    to it as they go; the caller records the fetches once the records are stored);
    ``listed`` returns the parcels the day's listings point at (APN -> ZIP). Records are
    sorted by ``(zip_code, source_id)``, so the same server and inventory give the same
    result.

    Never raises for a source fault: failures are in ``result.failures`` (one per ZIP),
    figures in ``result.counts`` (``COUNT_KEYS``). Without a token (``settings.configured``
    false) nothing is requested and every ZIP fails with kind ``not_configured``.
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
    async with SourceClient(
        source=MARICOPA_SOURCE,
        base_url=settings.base_url,
        policy=policy,
        headers={"AUTHORIZATION": token, "user-agent": "null", "accept": "application/json"},
        secrets=[token],
        auth_variables=MARICOPA_API_TOKEN,
        url_variable=MARICOPA_API_BASE_URL,
        is_auth_failure=is_auth_failure,
        transport=transport,
        request_budget=settings.daily_request_budget,
        budget_variable=MARICOPA_DAILY_REQUEST_BUDGET,
    ) as client:
        run = _Run(settings, client, result, inventory, listed, day)
        await run.run(zip_codes)
        result.stats = client.stats
    return result
