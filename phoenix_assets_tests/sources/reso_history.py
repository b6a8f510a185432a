"""A RESO Web API with a clock: listings that live through days, and the truth about them.

A real RESO server keeps only each record's latest version: whoever asks at time ``t``
sees, per listing, the version current at ``t``, and every earlier version is gone.
This module keeps whole listing histories and serves them that way:

- ``ListingHistory``: one listing's versions (each a complete RESO ``Property`` record
  with its ``ModificationTimestamp``), oldest first.
- ``phoenix_histories(seed, zip_codes, days)``: realistic histories around a run of days,
  deterministic by seed: a standing inventory listed weeks or months before the first
  day (some last modified long before it, some changed in the fortnight before), a few
  listings that ended in the days before (still shown for a week), some that ended long
  ago, and on every day a few changes (price cuts and rises, Active -> Pending ->
  Closed, under contract, on hold, back on market, withdrawals, a listing changed
  twice in one day, a listing changed again the day after) and new listings.
- ``HistoryReso``: a ``FakeReso`` whose ``set_clock(t)`` makes it hold, for each listing,
  its version current at ``t`` (the latest with ``ModificationTimestamp <= t``; a
  listing with no version yet is absent). Faults are ``FakeReso``'s (``inject``).
- ``served_versions``: what one query of the collector (a ZIP's window, optionally its
  standing inventory) gets from the server at a given clock.
- ``truth(histories, day)`` / ``state_of(versions, day)``: per listing its state at the
  end of a Phoenix day (its latest version modified before the day ended; an ended
  listing is dropped once more than ``ENDED_VISIBLE_DAYS`` days have passed since the
  Phoenix day it ended: its ``CloseDate``, else the Phoenix day of its last
  modification), and from it the on-market count, property ids, statuses and prices.

Changes happen between 07:00 and 21:30 Phoenix time (some of them after 17:00, which is
already the next day in UTC), never between midnight and 03:00: a daily collection at
03:00 the next morning sees every version made the day before.

Every listing has its own valid parcel number (``123-45-678`` shape) and street address,
so a property id is ``apn:<ParcelNumber>`` and no two listings merge.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from pytest_httpserver import HTTPServer

from phoenix_assets_tests.sources.fake_reso import FakeReso, iso_z, make_listing

PHOENIX = ZoneInfo("America/Phoenix")
ON_MARKET = frozenset({"Active", "ActiveUnderContract", "Pending", "ComingSoon", "Hold"})
ENDED = frozenset({"Closed", "Withdrawn", "Expired", "Canceled", "Delete"})
# An ended listing is shown for this many days after the day it ended.
ENDED_VISIBLE_DAYS = 7
# When changes happen (Phoenix local time): business hours and the evening.
FIRST_CHANGE_MINUTE = 7 * 60
LAST_CHANGE_MINUTE = 21 * 60 + 30
# Phoenix 17:00 is midnight UTC: a change after it is dated the next day in UTC.
UTC_MIDNIGHT_MINUTE = 17 * 60


# --- days --------------------------------------------------------------------------------------


def as_date(day: str | dt.date) -> dt.date:
    return dt.date.fromisoformat(day) if isinstance(day, str) else day


def day_start(day: str | dt.date) -> dt.datetime:
    """When a Phoenix day begins, in UTC."""
    return dt.datetime.combine(as_date(day), dt.time(), PHOENIX).astimezone(dt.UTC)


def day_end(day: str | dt.date) -> dt.datetime:
    """When a Phoenix day ends (the next one begins), in UTC."""
    return day_start(as_date(day) + dt.timedelta(days=1))


def phoenix_date(instant: dt.datetime) -> dt.date:
    return instant.astimezone(PHOENIX).date()


def at_phoenix(day: str | dt.date, minute: float) -> dt.datetime:
    """``minute`` minutes after midnight of a Phoenix day, in UTC."""
    return day_start(day) + dt.timedelta(minutes=minute)


def scheduled_clock(day: str | dt.date) -> dt.datetime:
    """When the daily schedule collects ``day``: 03:00 the next morning in Phoenix."""
    return day_end(day) + dt.timedelta(hours=3)


# --- histories ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One version of a listing: the whole RESO record as the server would send it."""

    modified: dt.datetime  # aware UTC; the record's ModificationTimestamp
    record: Mapping[str, Any]

    @property
    def status(self) -> str:
        return str(self.record["StandardStatus"])

    @property
    def list_price(self) -> float:
        return float(self.record["ListPrice"])


@dataclass(frozen=True)
class ListingHistory:
    """One listing: its versions, oldest first (modification times strictly increasing)."""

    listing_key: str
    zip_code: str
    parcel_number: str
    versions: tuple[Version, ...]

    @property
    def property_id(self) -> str:
        return f"apn:{self.parcel_number}"

    def at(self, instant: dt.datetime) -> Version | None:
        """The version current at ``instant`` (the latest modified at or before it)."""
        times = [v.modified for v in self.versions]
        index = bisect.bisect_right(times, instant)
        return self.versions[index - 1] if index else None

    def before(self, instant: dt.datetime) -> Version | None:
        """The latest version modified strictly before ``instant``."""
        times = [v.modified for v in self.versions]
        index = bisect.bisect_left(times, instant)
        return self.versions[index - 1] if index else None

    def until(self, instant: dt.datetime) -> ListingHistory | None:
        """This listing as if nothing happened after ``instant`` (None: not listed yet)."""
        kept = tuple(v for v in self.versions if v.modified <= instant)
        return ListingHistory(self.listing_key, self.zip_code, self.parcel_number, kept) or None

    def __bool__(self) -> bool:
        return bool(self.versions)


class ListingBuilder:
    """Builds one listing's history, change by change (each a new complete record)."""

    def __init__(self, record: dict[str, Any], listed_at: dt.datetime) -> None:
        record = dict(record, ModificationTimestamp=iso_z(listed_at))
        self.record = record
        self.versions: list[Version] = [Version(listed_at, dict(record))]

    @property
    def key(self) -> str:
        return str(self.record["ListingKey"])

    @property
    def status(self) -> str:
        return str(self.record["StandardStatus"])

    @property
    def last_modified(self) -> dt.datetime:
        return self.versions[-1].modified

    def change(self, at: dt.datetime, **fields: Any) -> None:
        if at <= self.last_modified:
            raise ValueError(f"{self.key}: a change at {at} is not after {self.last_modified}")
        record = dict(self.record)
        for name, value in fields.items():
            if value is None:
                record.pop(name, None)
            else:
                record[name] = value
        record["ModificationTimestamp"] = iso_z(at)
        listed = record.get("ListingContractDate")
        if isinstance(listed, str):
            record["DaysOnMarket"] = max(0, (phoenix_date(at) - dt.date.fromisoformat(listed)).days)
        self.record = record
        self.versions.append(Version(at, dict(record)))

    def price_cut(self, at: dt.datetime, fraction: float) -> None:
        old = int(self.record["ListPrice"])
        new = max(90_000, round(old * (1 - fraction), -3))
        if new == old:
            new = old - 1_000
        self.change(at, ListPrice=new, PreviousListPrice=old, PriceChangeTimestamp=iso_z(at))

    def price_rise(self, at: dt.datetime, fraction: float) -> None:
        old = int(self.record["ListPrice"])
        new = round(old * (1 + fraction), -3) + 1_000
        self.change(at, ListPrice=new, PreviousListPrice=old, PriceChangeTimestamp=iso_z(at))

    def close(self, at: dt.datetime, rng: random.Random) -> None:
        price = int(self.record["ListPrice"])
        closed_on = phoenix_date(at) - dt.timedelta(days=rng.choice((0, 0, 0, 1)))
        self.change(
            at,
            StandardStatus="Closed",
            ClosePrice=round(price * rng.uniform(0.96, 1.02), -2),
            CloseDate=closed_on.isoformat(),
        )

    def build(self) -> ListingHistory:
        return ListingHistory(
            listing_key=self.key,
            zip_code=str(self.record["PostalCode"]),
            parcel_number=str(self.record["ParcelNumber"]),
            versions=tuple(self.versions),
        )


@dataclass
class _Zip:
    """One ZIP's listings while a history is generated."""

    zip_code: str
    rng: random.Random
    parcels: set[str]
    addresses: set[str]
    listings: list[ListingBuilder] = field(default_factory=list)

    def new_listing(self, listed_at: dt.datetime, status: str = "Active") -> ListingBuilder:
        record = make_listing(self.rng, self.zip_code, len(self.listings), listed_at)
        for name in ("ClosePrice", "CloseDate", "PreviousListPrice", "PriceChangeTimestamp"):
            record.pop(name, None)
        listed = phoenix_date(listed_at).isoformat()
        record.update(
            StandardStatus=status,
            ParcelNumber=self._unique(self.parcels, self._parcel),
            UnparsedAddress=self._unique(self.addresses, lambda: self._address(record)),
            ListingContractDate=listed,
            OnMarketDate=listed,
            OriginalListPrice=record["ListPrice"],
            DaysOnMarket=0,
        )
        builder = ListingBuilder(record, listed_at)
        self.listings.append(builder)
        return builder

    def _parcel(self) -> str:
        rng = self.rng
        return f"{rng.randint(100, 399)}-{rng.randint(10, 99)}-{rng.randint(100, 999)}"

    def _address(self, record: Mapping[str, Any]) -> str:
        street = str(record["UnparsedAddress"]).split(" ", 1)[1]
        return f"{self.rng.randint(1_000, 29_999)} {street}"

    @staticmethod
    def _unique(taken: set[str], make: Any) -> str:
        while (value := make()) in taken:
            pass
        taken.add(value)
        return str(value)

    def moment(
        self, day: dt.date, *, after: dt.datetime | None = None, latest_minute: float | None = None
    ) -> dt.datetime | None:
        """A random instant on ``day`` in the change hours, after ``after`` (None if none)."""
        low = float(FIRST_CHANGE_MINUTE)
        high = float(LAST_CHANGE_MINUTE if latest_minute is None else latest_minute)
        if after is not None and phoenix_date(after) == day:
            low = max(low, (after - day_start(day)).total_seconds() / 60 + 1)
        elif after is not None and phoenix_date(after) > day:
            return None
        if low >= high:
            return None
        instant = at_phoenix(day, self.rng.uniform(low, high)).replace(microsecond=0)
        if self.rng.random() < 0.3:  # some providers send microseconds
            instant = instant.replace(microsecond=self.rng.randint(1, 999_999))
        return instant


def _change(zone: _Zip, listing: ListingBuilder, at: dt.datetime) -> None:
    """One realistic change of an on-market listing at ``at``."""
    rng = zone.rng
    status = listing.status
    if status in ("ComingSoon", "Hold"):
        listing.change(at, StandardStatus="Active")
    elif status == "ActiveUnderContract":
        if rng.random() < 0.6:
            listing.change(
                at, StandardStatus="Pending", PurchaseContractDate=phoenix_date(at).isoformat()
            )
        else:
            listing.change(at, StandardStatus="Active")  # back on market
    elif status == "Pending":
        if rng.random() < 0.75:
            listing.close(at, rng)
        else:
            listing.change(at, StandardStatus="Active")  # the sale fell through
    else:  # Active
        roll = rng.random()
        if roll < 0.42:
            listing.price_cut(at, rng.choice((0.01, 0.02, 0.03, 0.05)))
        elif roll < 0.50:
            listing.price_rise(at, rng.choice((0.01, 0.02)))
        elif roll < 0.72:
            listing.change(
                at, StandardStatus="Pending", PurchaseContractDate=phoenix_date(at).isoformat()
            )
        elif roll < 0.82:
            listing.change(at, StandardStatus="ActiveUnderContract")
        elif roll < 0.94:
            listing.change(at, StandardStatus="Withdrawn")
        else:
            listing.change(at, StandardStatus="Hold")


def phoenix_histories(
    seed: int | str,
    zip_codes: Sequence[str],
    days: Sequence[str | dt.date],
    *,
    standing_per_zip: int = 26,
    changes_per_day: tuple[int, int] = (2, 4),
    new_per_day: tuple[int, int] = (0, 2),
    ended_evenings: bool = True,
) -> list[ListingHistory]:
    """Listing histories of ``zip_codes`` around ``days``, deterministic by ``seed``.

    Per ZIP: ``standing_per_zip`` listings listed 15 to 200 days before the first day
    (about a third changed in the fortnight before it, the rest last modified when
    listed), three that ended 2 to 6 days before the first day (one closed, one
    withdrawn, one closed or withdrawn), two closed months ago; then on every day from
    the first to the last a few changes of on-market listings (one or two of those
    changed the day before change again; now and then one changes twice in a day) and
    a few new listings. With 26 standing, a ZIP has 25 to 30 listings on the market on
    any day.

    ``ended_evenings``: withdrawals before the first day may happen after 17:00 Phoenix
    (already the next day in UTC), as any change may; False keeps them before 17:00, for
    a test that must not depend on which calendar an ended listing's day is counted in.
    """
    dates = sorted({as_date(d) for d in days})
    first, last = dates[0], dates[-1]
    parcels: set[str] = set()
    addresses: set[str] = set()
    histories: list[ListingHistory] = []
    for zip_code in zip_codes:
        zone = _Zip(zip_code, random.Random(f"{seed}:{zip_code}"), parcels, addresses)
        rng = zone.rng
        # Closed long ago: never shown on any of the days.
        for _ in range(2):
            listed = zone.moment(first - dt.timedelta(days=rng.randint(150, 240)))
            assert listed is not None
            old = zone.new_listing(listed)
            closed = zone.moment(first - dt.timedelta(days=rng.randint(60, 120)))
            assert closed is not None
            old.change(closed, StandardStatus="Pending")
            old.close(closed + dt.timedelta(minutes=5), rng)
        # Ended in the days before the first day: shown until a week after they ended.
        for n in range(3):
            listed = zone.moment(first - dt.timedelta(days=rng.randint(40, 150)))
            assert listed is not None
            ended = zone.new_listing(listed)
            day = first - dt.timedelta(days=rng.randint(2, 6))
            if n == 0 or (n == 2 and rng.random() < 0.5):
                at = zone.moment(day)
                assert at is not None
                ended.change(at, StandardStatus="Pending")
                closing = zone.moment(day, after=at)
                if closing is None:
                    closing = at + dt.timedelta(minutes=1)
                ended.close(closing, rng)
            else:
                latest = None if ended_evenings else UTC_MIDNIGHT_MINUTE - 1
                at = zone.moment(day, latest_minute=latest)
                assert at is not None
                ended.change(at, StandardStatus="Withdrawn")
        # The standing inventory.
        for _ in range(standing_per_zip):
            listed_day = first - dt.timedelta(days=rng.randint(15, 200))
            status = rng.choices(
                ("Active", "Pending", "ActiveUnderContract", "ComingSoon"), (0.8, 0.1, 0.06, 0.04)
            )[0]
            listed = zone.moment(listed_day)
            assert listed is not None
            builder = zone.new_listing(listed, status)
            if rng.random() < 0.35:
                day = first - dt.timedelta(days=rng.randint(1, 14))
                at = zone.moment(day)
                assert at is not None
                if builder.status == "Active":
                    builder.price_cut(at, rng.choice((0.02, 0.03, 0.05)))
                elif builder.status == "ComingSoon":
                    builder.change(at, StandardStatus="Active")
        # The days themselves.
        changed_yesterday: list[ListingBuilder] = []
        day = first
        while day <= last:
            changed_today: list[ListingBuilder] = []
            on_market = [b for b in zone.listings if b.status in ON_MARKET]
            picks = rng.sample(on_market, min(len(on_market), rng.randint(*changes_per_day)))
            again = [b for b in changed_yesterday if b.status in ON_MARKET]
            picks.extend(rng.sample(again, min(len(again), rng.randint(1, 2))))
            for listing in dict.fromkeys(picks):
                at = zone.moment(day, after=listing.last_modified)
                if at is None:
                    continue
                _change(zone, listing, at)
                changed_today.append(listing)
                if listing.status in ON_MARKET and rng.random() < 0.15:
                    later = zone.moment(day, after=at)
                    if later is not None:
                        _change(zone, listing, later)  # twice in one day
            for _ in range(rng.randint(*new_per_day)):
                at = zone.moment(day)
                assert at is not None
                status = "ComingSoon" if rng.random() < 0.15 else "Active"
                changed_today.append(zone.new_listing(at, status))
            changed_yesterday = changed_today
            day += dt.timedelta(days=1)
        histories.extend(b.build() for b in zone.listings)
    return histories


# --- the server --------------------------------------------------------------------------------


class HistoryReso(FakeReso):
    """A ``FakeReso`` serving ``histories`` as a real RESO server would at its clock.

    ``set_clock(t)``: from now on the server holds, per listing, its version current at
    ``t`` (a listing with no version at ``t`` is absent). The clock moves only when set.
    """

    def __init__(
        self, server: HTTPServer, histories: Iterable[ListingHistory], **options: Any
    ) -> None:
        super().__init__(server, (), **options)
        self.histories = [h for h in histories if h]
        self.clock: dt.datetime | None = None

    def set_clock(self, instant: dt.datetime) -> None:
        current = [dict(v.record) for h in self.histories if (v := h.at(instant)) is not None]
        with self._lock:
            self._listings.clear()
            self.upsert(current)
            self.clock = instant


def served_versions(
    histories: Iterable[ListingHistory],
    clock: dt.datetime,
    zip_code: str,
    *,
    since: dt.datetime,
    inventory: bool,
) -> list[tuple[ListingHistory, Version]]:
    """What the collector gets for one ZIP from a server at ``clock``: the current
    versions modified after ``since`` and, with ``inventory``, every on-market one."""
    served = []
    for history in histories:
        if history.zip_code != zip_code:
            continue
        version = history.at(clock)
        if version is None:
            continue
        if version.modified > since or (inventory and version.status in ON_MARKET):
            served.append((history, version))
    return served


# --- the truth ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingState:
    """A listing as shown at the end of a day."""

    listing_key: str
    property_id: str
    zip_code: str
    status: str
    list_price: float
    modified: dt.datetime


@dataclass(frozen=True)
class DayTruth:
    """Every listing shown at the end of a Phoenix day, by property id."""

    day: str
    listings: Mapping[str, ListingState]

    @property
    def on_market(self) -> int:
        return sum(1 for s in self.listings.values() if s.status in ON_MARKET)

    @property
    def on_market_by_zip(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for state in self.listings.values():
            if state.status in ON_MARKET:
                counts[state.zip_code] = counts.get(state.zip_code, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def property_ids(self) -> frozenset[str]:
        return frozenset(self.listings)

    @property
    def statuses(self) -> dict[str, str]:
        return {pid: s.status for pid, s in sorted(self.listings.items())}

    @property
    def prices(self) -> dict[str, float]:
        return {pid: s.list_price for pid, s in sorted(self.listings.items())}

    def without(self, listing_keys: Iterable[str]) -> dict[str, ListingState]:
        gone = set(listing_keys)
        return {pid: s for pid, s in self.listings.items() if s.listing_key not in gone}


def ended_on(version: Version) -> dt.date | None:
    """The Phoenix day an ended listing ended: its CloseDate, else the day of its last
    modification; None while it is not ended."""
    if version.status not in ENDED:
        return None
    close_date = version.record.get("CloseDate")
    if isinstance(close_date, str) and close_date:
        return dt.date.fromisoformat(close_date)
    return phoenix_date(version.modified)


def shown_on(version: Version, day: str | dt.date) -> bool:
    """Whether a listing whose latest version is ``version`` is shown on ``day``."""
    ended = ended_on(version)
    return ended is None or ended >= as_date(day) - dt.timedelta(days=ENDED_VISIBLE_DAYS)


def state_of(known: Iterable[tuple[ListingHistory, Version]], day: str | dt.date) -> DayTruth:
    """The state at the end of ``day`` that the ``known`` versions tell: per listing its
    latest known version modified before the day ended, if it is still shown."""
    end = day_end(day)
    latest: dict[str, tuple[ListingHistory, Version]] = {}
    for history, version in known:
        if version.modified >= end:
            continue
        kept = latest.get(history.listing_key)
        if kept is None or version.modified > kept[1].modified:
            latest[history.listing_key] = (history, version)
    listings = {
        history.property_id: ListingState(
            listing_key=history.listing_key,
            property_id=history.property_id,
            zip_code=history.zip_code,
            status=version.status,
            list_price=version.list_price,
            modified=version.modified,
        )
        for history, version in latest.values()
        if shown_on(version, day)
    }
    return DayTruth(as_date(day).isoformat(), dict(sorted(listings.items())))


def truth(histories: Iterable[ListingHistory], day: str | dt.date) -> DayTruth:
    """The state at the end of ``day``: what a snapshot that missed nothing shows."""
    return state_of(((h, v) for h in histories for v in h.versions), day)


def truth_version(history: ListingHistory, day: str | dt.date) -> Version | None:
    """The version a listing's state at the end of ``day`` comes from (None: not listed)."""
    return history.before(day_end(day))


__all__ = [
    "ENDED",
    "ENDED_VISIBLE_DAYS",
    "ON_MARKET",
    "DayTruth",
    "HistoryReso",
    "ListingBuilder",
    "ListingHistory",
    "ListingState",
    "Version",
    "as_date",
    "at_phoenix",
    "day_end",
    "day_start",
    "ended_on",
    "phoenix_date",
    "phoenix_histories",
    "scheduled_clock",
    "served_versions",
    "shown_on",
    "state_of",
    "truth",
    "truth_version",
]
