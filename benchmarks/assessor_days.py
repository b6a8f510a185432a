"""Days of the Assessor against a local fake Assessor, the metro scaled down.

150 ZIPs of synthetic parcels (``--parcels-per-zip``, 48 by default: a ZIP's search
pass is 2 pages of ~24 hits, close to the metro's ~454 pages of 25) on the fake
Assessor of the tests (``phoenix_assets_tests/sources/fake_maricopa.py``, a real HTTP
server on 127.0.0.1), and a MongoDB holding the parcel inventory (an embedded nx-27017
in a temp dir, or ``--mongo-uri`` / ``PHOENIX_TEST_MONGODB_URI``).

The metro's day (``scale_projection.py``: 1.7 million parcels, 8,000 requests a day,
~34,800 listings shown and ~313 new a day, 0.5 % of search rows changing a month, 100
new parcels a day) is scaled by parcels / 1.7 million: the daily budget (at least what
the day's listed parcels need at steady state), the market, the changed rows. Each
parcel's ``/parcel`` body carries every section, so a parcel is one request. Each day:

- **the market**: a set of listed parcels, the standing market (``--initial-listings``
  on the first day, by default the metro's scaled); each day some listings start (at
  the metro's new-listing rate, scaled: existing parcels and, every other day, a parcel
  that appeared that day) and listings end at the rate new / shown of the market a day
  (whole listings, the remainder carried; which ones at random), so the market holds
  its size;
- **the day's listed parcels**, as ``DayListings`` gives them: the day's new listings
  (the listing sources' records of the day), then every listing shown the day before
  (the day before's snapshot: a listing that ended today is still in it); on the first
  day, the new listings and the whole first-day market (no snapshot before it). A
  listed parcel is fetched when its record is missing or older than 30 days;
- **changes**: search rows of existing parcels change (``Ownership``), seen when their
  ZIP is searched again; at least one new parcel appears (added to its ZIP's search);
- **the day**: ``collect_parcels(settings, zips, MongoParcelInventory(db), day=...,
  listed=...)``, then ``inventory.record_fetches`` as ``raw_maricopa_parcels`` does.

The first day lists the whole standing market from an empty inventory: like the
metro's (~34,800 parcels, 4.3 days of its budget) it takes more than a day of the
scaled budget, so the first days are the **bootstrap**, until the day whose listed
parcels are all fresh at its end. What the bootstrap fetched comes due together 31 days
later: the default 45 days show that wave.

It prints, per day, the requests by kind (as the server saw them), the ZIPs searched,
the day's listed parcels (fetched, of them fetched again because their record passed
30 days, and the share fresh at the end of the day) and the inventory's backlog; at
the end, the bootstrap's length, the oldest record's age, the parcels never fetched,
the share of ZIPs searched within the last 30 days, and the wall time. Exits 1 if the
bootstrap does not end within the run, if a day after it ends with a listed parcel
not fresh, or if any day sends more requests than its budget.

    uv run python benchmarks/assessor_days.py
    uv run python benchmarks/assessor_days.py --days 70 --parcels-per-zip 100
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from pymongo import MongoClient
from pymongo.database import Database
from pytest_httpserver import HTTPServer
from scale_projection import assessor_day, demo_listing_model
from scale_projection import parse_args as projection_args
from support import machine, mongo_uri, server_name

from phoenix_assets.domain.property import normalize_apn
from phoenix_assets.sources.collection import CollectionResult
from phoenix_assets.sources.maricopa import MaricopaSettings, collect_parcels
from phoenix_assets.sources.maricopa.inventory import ParcelState, add_days
from phoenix_assets.storage.parcel_inventory import (
    PARCEL_INVENTORY,
    ZIP_SEARCHES,
    MongoParcelInventory,
)
from phoenix_assets_tests.sources.fake_maricopa import (
    FakeMaricopa,
    RecordedRequest,
    make_apn,
    parcel_fixture,
)

FIRST_DAY = dt.date(2026, 10, 22)
STALE_AFTER_DAYS = 30
SEARCH_EVERY_DAYS = 30


@dataclass(frozen=True)
class Mix:
    """The metro's day, scaled down to the simulated parcels."""

    scale: float
    budget: int
    shown: float  # listings on the market
    listings_per_day: float  # new listings a day
    end_chance: float  # the chance a listing ends on a given day
    listed_per_day: float  # listed parcels needing a record a day, at steady state
    changed_per_day: float
    new_per_day: float
    metro_shown: float
    metro_listings: float
    metro_listed: float
    metro_changed: float
    metro_new: float
    metro_budget: int
    metro_parcels: float


def metro_mix(args: argparse.Namespace, parcels: int) -> Mix:
    metro_args = projection_args(["--zips", str(args.zips)])
    listings = demo_listing_model(metro_args.maricopa_stale_after_days)
    metro = assessor_day(metro_args, listings)
    scale = parcels / metro.parcels
    shown = listings.shown * args.zips
    listed = metro.listed * scale
    changed = metro.parcels * metro_args.changed_share_month / 30
    new = metro_args.new_parcels_per_day * args.zips / metro_args.residential_zips
    budget = max(round(metro_args.maricopa_request_budget * scale), math.ceil(listed))
    return Mix(
        scale=scale,
        budget=budget,
        shown=shown * scale,
        listings_per_day=metro.listed_new * scale,
        end_chance=listings.new / listings.shown,
        listed_per_day=listed,
        changed_per_day=changed * scale,
        new_per_day=max(1.0, new * scale),
        metro_shown=shown,
        metro_listings=metro.listed_new,
        metro_listed=metro.listed,
        metro_changed=changed,
        metro_new=new,
        metro_budget=metro_args.maricopa_request_budget,
        metro_parcels=metro.parcels,
    )


class Accumulator:
    """Whole events a day from a fractional rate, carrying the remainder."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.carry = 0.0

    def take(self) -> int:
        self.carry += self.rate
        whole = math.floor(self.carry)
        self.carry -= whole
        return whole


@dataclass
class DayFigures:
    day: str
    requests: int  # as the server saw them
    client_requests: int  # as the source's client counted them
    search: int
    listed_calls: int
    other_calls: int
    listed_again: int  # listed parcels fetched again: their record passed the window
    zips_searched: int
    zips_continued: int
    listed: int
    listed_fetched: int
    listed_fresh_share: float
    changed: int
    new: int
    stale: int
    known: int
    never_fetched: int
    backlog_stale: int
    failures: int
    seconds: float


def apn_of(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) >= 3 and parts[1] == "parcel":
        return normalize_apn(parts[2])
    return None


class World:
    """The fake Assessor's county and what happens in it from day to day."""

    def __init__(
        self, fake: FakeMaricopa, zips: list[str], mix: Mix, args: argparse.Namespace
    ) -> None:
        self.fake = fake
        self.zips = zips
        self.rng = random.Random(args.seed)
        self.parcels: list[tuple[str, str]] = []  # (apn, zip) on the server
        for zip_code in zips:
            self.parcels += [
                (apn, zip_code) for apn in fake.add_zip(zip_code, args.parcels_per_zip)
            ]
        # The market: listings shown at the end of the day before (APN -> ZIP), the
        # first day's standing market to begin with.
        self.market: dict[str, str] = dict(
            self.rng.sample(self.parcels, min(args.initial_listings, len(self.parcels)))
        )
        self.end_chance = mix.end_chance
        self.end_carry = 0.0
        self.listing_rate = Accumulator(mix.listings_per_day)
        self.changed_rate = Accumulator(mix.changed_per_day)
        self.new_rate = Accumulator(mix.new_per_day)

    def next_day(self, day: str, offset: int) -> dict[str, str]:
        """New parcels, changed search rows, listings starting and ending; returns the
        day's listed parcels (APN -> ZIP): the day's new listings, then the listings
        shown the day before (on the first day, the first day's market)."""
        new_parcels = []
        for _ in range(self.new_rate.take()):
            zip_code = self.rng.choice(self.zips)
            index = len(self.fake.hits_by_zip[zip_code])
            apn = self.fake.add_parcel(
                zip_code, parcel_fixture(make_apn(zip_code, index), zip_code, index)
            )
            self.parcels.append((apn, zip_code))
            new_parcels.append((apn, zip_code))
        for _ in range(self.changed_rate.take()):
            hit = self.rng.choice(self.fake.hits_by_zip[self.rng.choice(self.zips)])
            hit["Ownership"] = f"BUYER {day} {self.rng.randrange(10**6):06d}"
        wanted = self.listing_rate.take()
        # Every other day, one of the day's new parcels is listed (new construction).
        today = dict(new_parcels[:1]) if offset % 2 == 0 and wanted else {}
        while len(today) < wanted:
            apn, zip_code = self.rng.choice(self.parcels)
            if apn not in self.market and apn not in today:
                today[apn] = zip_code
        standing = dict(self.market)  # the day before's snapshot
        if offset > 0:  # the first day's market is what the first day shows
            # end_chance x the market a day, whole listings carrying the remainder, each
            # listing as likely as any other: the market holds its size.
            self.end_carry += self.end_chance * len(self.market)
            ending = min(math.floor(self.end_carry), len(self.market))
            self.end_carry -= ending
            for apn in self.rng.sample(list(self.market), ending):
                del self.market[apn]  # listed today (the snapshot), gone tomorrow
        self.market.update(today)
        return {**today, **{apn: z for apn, z in standing.items() if apn not in today}}


async def one_day(
    settings: MaricopaSettings,
    zips: list[str],
    inventory: MongoParcelInventory,
    day: str,
    listed: Mapping[str, str],
) -> CollectionResult:
    """The day as ``raw_maricopa_parcels`` runs it: collect, then record the fetches."""
    result = await collect_parcels(settings, zips, inventory, day=day, listed=lambda: listed)
    inventory.record_fetches(day, [(r.source_id, r.zip_code) for r in result.records])
    return result


def measure_day(
    day: str,
    sent: list[RecordedRequest],
    result: CollectionResult,
    listed: Mapping[str, str],
    before: Mapping[str, ParcelState],
    inventory: MongoParcelInventory,
    zips: list[str],
    seconds: float,
) -> DayFigures:
    """The day's figures; ``before``: the listed parcels' states before the day."""
    search = sum(r.path == "/search/property/" for r in sent)
    listed_calls = sum(apn_of(r.path) in listed for r in sent)
    fetched_listed = {
        apn for r in sent if (apn := apn_of(r.path)) in listed and r.path.count("/") == 2
    }
    again = sum(1 for apn in fetched_listed if (state := before.get(apn)) and state.fetched_on)
    stale_before = add_days(day, -STALE_AFTER_DAYS)
    states = inventory.parcels(list(listed))
    fresh = sum(
        1
        for apn in listed
        if (state := states.get(apn)) is not None
        and state.fetched_on is not None
        and stale_before <= state.fetched_on <= day
    )
    next_day = add_days(day, 1)
    backlog = inventory.backlog(zips, next_day, add_days(next_day, -STALE_AFTER_DAYS))
    counts = result.counts
    return DayFigures(
        day=day,
        requests=len(sent),
        client_requests=result.stats.requests,
        search=search,
        listed_calls=listed_calls,
        other_calls=len(sent) - search - listed_calls,
        listed_again=again,
        zips_searched=counts["zips_searched"],
        zips_continued=counts["zips_search_continued"],
        listed=len(listed),
        listed_fetched=counts["fetched_listed"],
        listed_fresh_share=fresh / len(listed) if listed else 1.0,
        changed=counts["fetched_changed"],
        new=counts["fetched_new"],
        stale=counts["fetched_stale"],
        known=backlog.parcels,
        never_fetched=backlog.never_fetched,
        backlog_stale=backlog.stale,
        failures=len(result.failures),
        seconds=seconds,
    )


HEADER = (
    f"{'day':10} {'req':>4} {'srch':>4} {'lst':>4} {'oth':>4} {'zips':>7} {'listed':>6} "
    f"{'fetch':>5} {'again':>5} {'fresh':>6} {'chg':>4} {'new':>4} {'stale':>5} {'known':>6} "
    f"{'never':>6} {'stale':>5} {'fail':>4} {'s':>5}"
)


def day_line(f: DayFigures) -> str:
    zips = f"{f.zips_searched}+{f.zips_continued}"
    return (
        f"{f.day:10} {f.requests:4d} {f.search:4d} {f.listed_calls:4d} {f.other_calls:4d} "
        f"{zips:>7} {f.listed:6d} {f.listed_fetched:5d} {f.listed_again:5d} "
        f"{f.listed_fresh_share:6.0%} "
        f"{f.changed:4d} {f.new:4d} {f.stale:5d} {f.known:6d} {f.never_fetched:6d} "
        f"{f.backlog_stale:5d} {f.failures:4d} {f.seconds:5.2f}"
    )


def summarize(
    args: argparse.Namespace,
    db: Database[dict],
    zips: list[str],
    figures: list[DayFigures],
    mix: Mix,
    parcels_on_server: int,
    wall: float,
    bootstrap_days: int | None,
) -> None:
    last = figures[-1].day
    last_date = dt.date.fromisoformat(last)
    fetched_days = [
        str(document["fetched_on"])
        for document in db[PARCEL_INVENTORY].find(
            {"fetched_on": {"$exists": True}}, {"fetched_on": 1}
        )
    ]
    searches = {
        str(document["_id"]): document
        for document in db[ZIP_SEARCHES].find({}, {"completed_on": 1, "next_page": 1})
    }
    searched = {z: str(d["completed_on"]) for z, d in searches.items() if d.get("completed_on")}
    in_progress = sum(1 for d in searches.values() if (d.get("next_page") or 1) > 1)
    ages = [(last_date - dt.date.fromisoformat(day)).days for day in fetched_days]
    search_ages = [(last_date - dt.date.fromisoformat(day)).days for day in searched.values()]
    recent = sum(1 for z in zips if z in searched and searched[z] >= add_days(last, 1 - 30))
    totals = {
        name: sum(getattr(f, name) for f in figures)
        for name in ("requests", "search", "listed_calls", "other_calls")
    }
    print(
        f"{args.days} days: {totals['requests']:,} requests ({totals['search']:,} search pages, "
        f"{totals['listed_calls']:,} listed parcel calls, {totals['other_calls']:,} other "
        f"detail calls) of {args.days * mix.budget:,} budgeted; days with every listed "
        f"parcel fresh at its end: {sum(f.listed_fresh_share >= 1 for f in figures)}/"
        f"{len(figures)}"
    )
    if bootstrap_days is None:
        print(f"bootstrap: the listed backlog was not cleared within {args.days} days")
    else:
        after = figures[bootstrap_days:]
        first = figures[0].listed
        print(
            f"bootstrap: day 1 listed {first} parcels ({first / mix.budget:.1f} days of the "
            f"budget); the listed backlog took {bootstrap_days} days (every "
            f"listed parcel fresh from day {bootstrap_days + 1}); since: "
            f"{sum(f.listed_fresh_share >= 1 for f in after)}/{len(after)} days fresh"
        )
    again = [(index, f) for index, f in enumerate(figures, 1) if f.listed_again]
    if again:
        peak_day, peak = max(again, key=lambda item: item[1].listed_again)
        print(
            f"listed parcels fetched again (record past {STALE_AFTER_DAYS} days): "
            f"{sum(f.listed_again for _, f in again):,} from day {again[0][0]} "
            f"({again[0][1].day}); at most {peak.listed_again} on day {peak_day} "
            f"({peak.listed_again / mix.budget:.0%} of the budget, {peak.search} search pages)"
        )
    else:
        print(f"listed parcels fetched again (record past {STALE_AFTER_DAYS} days): none")
    never = parcels_on_server - len(fetched_days)
    print(
        f"parcels on the server: {parcels_on_server:,}; fetched at least once: "
        f"{len(fetched_days):,} ({len(fetched_days) / parcels_on_server:.1%}); never fetched: "
        f"{never:,} ({figures[-1].never_fetched:,} of them found by a search, "
        f"{never - figures[-1].never_fetched:,} not yet)"
    )
    print(
        f"oldest record on {last}: {max(ages, default=0)} days since its last fetch "
        f"(never-fetched parcels counted above)"
    )
    print(
        f"ZIPs searched within the last 30 days: {recent}/{len(zips)} "
        f"({recent / len(zips):.0%}); searched at least once: {len(searched)}/{len(zips)}; "
        f"passes in progress: {in_progress}; the oldest search rows: "
        f"{max(search_ages, default=0)} days"
    )
    print(f"wall time: {wall:.1f} s ({wall / args.days:.2f} s a day)")


def run(args: argparse.Namespace, uri: str) -> int:
    zips = [f"85{index:03d}" for index in range(1, args.zips + 1)]
    mix = metro_mix(args, args.zips * args.parcels_per_zip)
    if args.initial_listings is None:
        args.initial_listings = round(mix.shown)
    print(
        f"scale {mix.scale:.5f} = {args.zips * args.parcels_per_zip:,} parcels / "
        f"{mix.metro_parcels:,.0f}: budget {mix.budget} requests a day (metro "
        f"{mix.metro_budget:,}); market {args.initial_listings} listings on day 1 ({mix.shown:.1f}"
        f" scaled; metro {mix.metro_shown:,.0f}), {mix.listings_per_day:.2f} new a day "
        f"(metro {mix.metro_listings:,.0f}), each ending with chance {mix.end_chance:.4f} a "
        f"day; listed parcels needing a record at steady state {mix.listed_per_day:.2f} a day "
        f"(metro {mix.metro_listed:,.0f}); changed search rows {mix.changed_per_day:.2f} a "
        f"day (metro {mix.metro_changed:,.0f}); new parcels {mix.new_per_day:.2f} a day "
        f"(metro {mix.metro_new:,.0f} x scale, at least 1)"
    )
    client: MongoClient[dict] = MongoClient(uri)
    db = client[f"assessor_days_{uuid.uuid4().hex[:8]}"]
    failed_days: list[str] = []
    figures: list[DayFigures] = []
    bootstrap_days: int | None = None  # days before the first with every listed one fresh
    try:
        started = time.perf_counter()
        with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
            fake = FakeMaricopa(server)
            world = World(fake, zips, mix, args)
            settings = fake.settings(
                daily_request_budget=mix.budget,
                requests_per_second=500,
                max_concurrency=4,
                search_every_days=SEARCH_EVERY_DAYS,
                stale_after_days=STALE_AFTER_DAYS,
            )
            inventory = MongoParcelInventory(db)
            print(HEADER)
            for offset in range(args.days):
                day = (FIRST_DAY + dt.timedelta(days=offset)).isoformat()
                listed = world.next_day(day, offset)
                states = inventory.parcels(list(listed))
                sent_before = len(fake.requests)
                day_started = time.perf_counter()
                result = asyncio.run(one_day(settings, zips, inventory, day, listed))
                seconds = time.perf_counter() - day_started
                sent = fake.requests[sent_before:]
                figure = measure_day(day, sent, result, listed, states, inventory, zips, seconds)
                figures.append(figure)
                problems = []
                all_fresh = figure.listed_fresh_share >= 1.0
                if bootstrap_days is None and all_fresh:
                    bootstrap_days = offset
                if bootstrap_days is not None and not all_fresh:
                    problems.append("listed NOT all fresh")
                if max(figure.requests, figure.client_requests) > mix.budget:
                    problems.append(f"over the budget of {mix.budget}")
                if problems:
                    failed_days.append(f"{day}: {', '.join(problems)}")
                notes = ["bootstrap: listed backlog"] if bootstrap_days is None else []
                notes += problems
                print(day_line(figure) + (f"  {'; '.join(notes)}" if notes else ""))
            wall = time.perf_counter() - started
            parcels_on_server = len(fake.parcels)
        summarize(args, db, zips, figures, mix, parcels_on_server, wall, bootstrap_days)
    finally:
        client.drop_database(db.name)
        client.close()
    if bootstrap_days is None:
        failed_days.append(f"the listed backlog was not cleared in {args.days} days")
    if failed_days:
        print("FAILED: " + "; ".join(failed_days))
        return 1
    print(
        f"ok: every day's listed parcels fresh at its end from day {bootstrap_days + 1} "
        f"(after a {bootstrap_days}-day bootstrap), every day within its budget"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add = parser.add_argument
    add("--days", type=int, default=45)
    add("--parcels-per-zip", type=int, default=48)
    add("--zips", type=int, default=150)
    add(
        "--initial-listings",
        type=int,
        default=None,
        help="listings on the market on the first day, all listed on it (a first run "
        "lists the whole market); by default the metro's ~34,800 scaled (147)",
    )
    add("--seed", type=int, default=20261205)
    add("--mongo-uri", default=os.environ.get("PHOENIX_TEST_MONGODB_URI"))
    args = parser.parse_args(argv)
    if args.days < 1 or args.parcels_per_zip < 1 or args.zips < 1 or args.zips > 999:
        parser.error("--days, --parcels-per-zip and --zips must be >= 1 (--zips <= 999)")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's access log
    print(f"machine: {machine()}")
    with mongo_uri(args.mongo_uri) as uri:
        print(f"server: {server_name(uri, args.mongo_uri)}")
        return run(args, uri)


if __name__ == "__main__":
    sys.exit(main())
