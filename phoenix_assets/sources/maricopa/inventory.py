"""What the Assessor source remembers between days, and how it ranks a day's work.

A county of ~1.7 million parcels cannot be searched and fetched every day within a
polite request rate, so the source keeps a **parcel inventory** between days (stored
by ``phoenix_assets.storage.parcel_inventory``; ``ParcelInventory`` says what it must
answer):

- each ZIP's parcels, as their search rows, found by a **search pass** that runs once
  every ``MARICOPA_SEARCH_EVERY_DAYS`` per ZIP, spread so that about 1/N of the ZIPs are
  searched each day, and that pages on across days when a day's share of the budget
  runs out (``ZipSearch``);
- per parcel, the days its details were last stored and when its search row last
  changed (``ParcelState``).

A day's details are fetched by priority (``Tier``): parcels the day's listings point at,
then parcels whose search row changed, then parcels never fetched, then the stalest.
Every decision for day D reads what was stored before D, so a re-run of D decides
as its first run did.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol


class Tier(enum.StrEnum):
    """Why a parcel's details are fetched today, most valuable first."""

    LISTED = "listed"  # a listing of the day points at it, and its record is missing or stale
    CHANGED = "changed"  # its search row changed since its details were fetched
    NEW = "new"  # never fetched
    STALE = "stale"  # fetched more than MARICOPA_STALE_AFTER_DAYS ago, stalest first


# The share of the day's requests (after the listed parcels) a search may spend: the
# rest goes to details, so a county being discovered still gets its parcels fetched.
SEARCH_SHARE = 0.5


@dataclass
class ZipSearch:
    """One ZIP's search passes: when the last ended, when the next is due, where one in
    progress resumes."""

    zip_code: str
    completed_on: str | None = None  # the day the last whole pass ended
    due_on: str | None = None  # the day the next pass is due
    next_page: int = 1  # above 1: a pass in progress resumes at this page
    pass_started_on: str | None = None
    pass_pages: int = 0  # pages of the pass in progress
    pass_hits: int = 0  # hits of the pass in progress (against TotalFound)
    last_page: list[str] = field(default_factory=list)  # its last page's APNs (loop guard)

    @property
    def in_progress(self) -> bool:
        return self.next_page > 1


@dataclass(frozen=True)
class ParcelState:
    """What the inventory holds for one parcel."""

    apn: str
    zip_code: str
    hit: Mapping[str, Any] | None = None  # its search row (None: known from a listing only)
    fetched_on: str | None = None  # the latest day its details were stored
    fetched_before_on: str | None = None  # the latest day before ``fetched_on``
    hit_changed_on: str | None = None  # the day a search found its row changed
    first_seen_on: str | None = None  # the day it entered the inventory
    not_found_on: str | None = None  # the day the Assessor had no parcel of this APN

    def fetched_before(self, day: str) -> str | None:
        """The latest day before ``day`` on which its details were stored: what ``day``
        knew, whatever runs of ``day`` or later stored since."""
        for fetched in (self.fetched_on, self.fetched_before_on):
            if fetched is not None and fetched < day:
                return fetched
        return None

    def changed_since_fetched(self, day: str) -> bool:
        fetched = self.fetched_before(day)
        changed = self.hit_changed_on
        return fetched is not None and changed is not None and fetched < changed <= day


@dataclass(frozen=True)
class PageSaved:
    """What storing one search page did to the inventory."""

    new: int  # parcels the inventory did not hold
    changed: int  # parcels whose search row differs from the stored one


@dataclass(frozen=True)
class Backlog:
    """The configured ZIPs' inventory on a day: parcels, never fetched, stale."""

    parcels: int
    never_fetched: int
    stale: int


class ParcelInventory(Protocol):
    """The store the source reads its memory from and writes search results to."""

    def zip_searches(self, zip_codes: Sequence[str]) -> dict[str, ZipSearch]:
        """Every ZIP's search state (a fresh ``ZipSearch`` for a ZIP never searched)."""
        ...

    def save_search_page(
        self, day: str, search: ZipSearch, hits: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> PageSaved:
        """Store a page's ``(apn, search row)`` hits and the pass's progress, together."""
        ...

    def parcels(self, apns: Collection[str]) -> dict[str, ParcelState]:
        """The states of these parcels that the inventory holds."""
        ...

    def record_not_found(self, day: str, apn: str, zip_code: str) -> None:
        """Note that the Assessor had no parcel of ``apn`` (a listing's mistyped APN)."""
        ...

    def candidates(
        self, tier: Tier, zip_codes: Sequence[str], day: str, stale_before: str, limit: int
    ) -> list[ParcelState]:
        """Up to ``limit`` parcels of ``tier`` (not ``LISTED``) for ``day``, in the order
        to fetch them: changed and new by when they were found, stale stalest first."""
        ...

    def backlog(self, zip_codes: Sequence[str], day: str, stale_before: str) -> Backlog: ...


def add_days(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


def due_searches(
    searches: Mapping[str, ZipSearch], zip_codes: Sequence[str], day: str
) -> list[str]:
    """The ZIPs to search on ``day``, in order: passes in progress, ZIPs never searched,
    then those due, the longest overdue first."""
    in_progress = [z for z in zip_codes if searches[z].in_progress]
    never = [z for z in zip_codes if not searches[z].in_progress and not searches[z].completed_on]
    due = sorted(
        (
            z
            for z in zip_codes
            if not searches[z].in_progress
            and searches[z].completed_on
            and (searches[z].due_on or "") <= day
        ),
        key=lambda z: (searches[z].due_on or "", zip_codes.index(z)),
    )
    return [*in_progress, *never, *due]


def next_search_due(day: str, every_days: int, *, first_pass: bool, index: int, count: int) -> str:
    """When a ZIP whose pass ended on ``day`` is searched again.

    After a ZIP's first pass its next one is due 1 to ``every_days`` days later by its
    place among the ``count`` configured ZIPs (the ``index``-th), so a county searched
    at once on its first days is re-searched about ``count / every_days`` ZIPs a day from
    then on; after that, every ``every_days`` days.
    """
    if not first_pass:
        return add_days(day, every_days)
    return add_days(day, max(1, math.ceil(every_days * (index + 1) / max(count, 1))))


def search_allowance(requests_left: int) -> int:
    """Requests the day's searches may spend of what is left after the listed parcels."""
    return math.floor(requests_left * SEARCH_SHARE)


def listed_to_fetch(
    listed: Mapping[str, str],
    known: Mapping[str, ParcelState],
    day: str,
    stale_before: str,
) -> tuple[list[ParcelState], int]:
    """Of the parcels the day's listings point at (APN -> ZIP, the day's own listings
    first), those to fetch: never fetched first, then the stalest, ties in the listings'
    order; and how many were fresh enough to skip. An APN the Assessor did not know
    within the stale window is not asked again."""
    fetch: list[tuple[str, int, ParcelState]] = []
    fresh = 0
    for index, (apn, zip_code) in enumerate(listed.items()):
        # The listing's ZIP (a configured one) is where the record is counted.
        state = replace(
            known.get(apn) or ParcelState(apn=apn, zip_code=zip_code), zip_code=zip_code
        )
        fetched = state.fetched_before(day)
        if fetched is not None and fetched >= stale_before:
            fresh += 1
            continue
        missing = state.not_found_on
        if fetched is None and missing is not None and stale_before <= missing < day:
            continue  # asked recently, and the Assessor had no such parcel
        fetch.append((fetched or "", index, state))
    fetch.sort(key=lambda item: item[:2])
    return [state for *_, state in fetch], fresh
