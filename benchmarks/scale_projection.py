"""Scale on paper: the Assessor's metro day, and the whole daily run, for N ZIPs.

A projection, not a measurement: it multiplies costs measured here by the work a day
of N ZIPs needs under the sources' published or observed limits, for the Assessor's
strategy in ``phoenix_assets/sources/maricopa/`` (``run.py`` says it in full):

1. **listed parcels**: the parcels the day's listings point at whose record is missing
   or older than ``MARICOPA_STALE_AFTER_DAYS``, never fetched first, then the stalest.
   The day's listings (``storage/listed_parcels.py``, ``DayListings``) are the listing
   sources' records stored for the day (the demo's whole feed: every listing shown; the
   MLS: the versions modified that day) followed by the standing market, the listed
   properties of the day before's ``property_snapshots`` (every listing shown the day
   before, whatever its source);
2. **search pages**: each ZIP's parcel list re-searched every
   ``MARICOPA_SEARCH_EVERY_DAYS`` (25 hits a page), at most ``SEARCH_SHARE`` of what the
   listed parcels left;
3. **details**: parcels whose search row changed, new parcels, then the stalest, with
   whatever the daily request budget has left.

Every parcel, whatever its tier, costs one request: ``/parcel/{apn}`` carries the
``ResidentialPropertyData`` and ``Valuations`` the adapter reads. ``/residential-details``
and ``/valuations`` are asked only when that body lacks the section (schema drift):
``--lacking-share`` (0 by default) is the share of bodies lacking one, each costing
``--lacking-sections`` more calls.

Inputs, each a flag:

- measured in this project (``benchmarks/README.md`` says by which benchmark): the
  pipeline's cost per property per day (``--pipeline-ms-per-property``) and per run
  (``--run-fixed-s``), both from ``backfill.py``; the listings a ZIP shows and modifies
  a day, and from them the listed parcels a day needs fetched (new listings, and
  listings still shown whose record passed the stale window), read from the demo
  source's calibrated model, run here day by day;
- published or observed (``../shared/notes/sources.md``): MLS RESO 2 requests/s and
  40,000 a day; the Assessor: no published limit, public clients use 0.3-5 requests/s,
  one measured ~2.6 s per ``/parcel`` call, 25 search hits a page; ~1.7 million parcels
  in Maricopa County over ~150 residential ZIPs;
- the source's settings, defaults from ``MaricopaSettings``: 3 requests/s, 8 in flight,
  8,000 requests a day, 3000 s, stale after 30 days, each ZIP searched every 30 days;
- assumed, with no source to read them from: the share of parcels whose search row
  changes in a month (``--changed-share-month``, 0.5 %: sales and owner changes), the
  new parcels a day (``--new-parcels-per-day``, 100: ~36,000 a year) and the share of
  ``/parcel`` bodies lacking a section (``--lacking-share``, 0).

A request's time is the larger of 1/rate and latency/concurrency (the client keeps
both limits; ``collection_rate.py`` shows it reaches 99-100 % of the rate whenever the
concurrency can carry it). Sources run at the same time (each in its own step), so the
day takes the slowest source, then the pipeline's processing.

Exits 1 if the day does not fit 60 minutes, if the daily request budget does not fit
the Assessor's time budget, or if the listed parcels and the search rotation do not
fit the daily request budget.

    uv run python benchmarks/scale_projection.py
    uv run python benchmarks/scale_projection.py --zips 150 --maricopa-rate 2
    uv run python benchmarks/scale_projection.py --lacking-share 0.05
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from dataclasses import dataclass

from phoenix_assets.settings import DEFAULT_ZIP_CODES
from phoenix_assets.sources.demo import demo_listings
from phoenix_assets.sources.maricopa.inventory import SEARCH_SHARE, search_allowance
from phoenix_assets.sources.maricopa.search import PAGE_SIZE
from phoenix_assets.sources.maricopa.settings import MaricopaSettings

BUDGET_MINUTES = 60.0
DAY = dt.date(2026, 11, 17)
# The listing model settles for this many stale windows, then is averaged over one.
WARM_UP_WINDOWS = 3
# The strategy before the parcel inventory: every ZIP's whole search every day (capped
# at 200 pages), then every stale parcel with 3 calls (/parcel, /residential-details,
# /valuations).
OLD_MAX_SEARCH_PAGES = 200
OLD_CALLS_PER_PARCEL = 3
OLD_RATE, OLD_CONCURRENCY, OLD_BUDGET = 1.0, 2, 2_000  # its settings' defaults
# Listed parcels cost 3 calls each before /parcel was found to carry every section.
OLD_LISTED_CALLS = 3
BOOTSTRAP_DAY_LIMIT = 10 * 365
DEFAULTS = MaricopaSettings()


@dataclass(frozen=True)
class MarketDay:
    """The demo ZIPs' listings shown at the end of one day."""

    day: dt.date
    shown: tuple[str, ...]  # their parcels, in the feed's order
    listed_on: dict[str, int]  # parcel -> its listing's list date (ordinal)
    modified: int  # listings modified on the day (what the MLS's sync returns)


def demo_market(first: dt.date, days: int) -> list[MarketDay]:
    """``days`` days from ``first`` of the demo source's model, for its ten ZIPs."""
    market = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        listed_on: dict[str, int] = {}
        modified = 0
        for zip_code in DEFAULT_ZIP_CODES:
            for listing in demo_listings(zip_code, day):
                parcel = str(listing["ParcelNumber"])
                listed = dt.date.fromisoformat(str(listing["ListingContractDate"]))
                listed_on.setdefault(parcel, listed.toordinal())
                modified += str(listing.get("ModificationTimestamp", ""))[:10] == day.isoformat()
        market.append(MarketDay(day, tuple(listed_on), listed_on, modified))
    return market


@dataclass(frozen=True)
class ListedDay:
    """The listed parcels of one day of ``run_listed``."""

    listed: int  # parcels in the day's list
    fetched_new: int  # fetched for the first time
    fetched_again: int  # fetched again: their record had passed the stale window
    short: int  # needing a record, left for another day by the capacity


def run_listed(
    market: list[MarketDay], stale_after_days: int, *, capacity: float | None, warm: bool
) -> list[ListedDay]:
    """The listed parcels day by day, as the source picks them (``listed_to_fetch``).

    A day's list is its listing records (the demo's whole feed: every listing shown)
    followed by the parcels shown the day before (the day before's snapshot: the
    standing market, including listings that left the feed today); the first day has no
    snapshot before it, so its list is the feed alone. The MLS's records (the versions
    modified that day, new listings among them) give the same set in another order: a
    listing shown today and not new was shown the day before. A parcel is due when
    it was never fetched or its last fetch is more than ``stale_after_days`` days old;
    the due ones are fetched never-fetched first, then the stalest, ties in the list's
    order, up to ``capacity`` parcels a day (``None``: all of them).

    ``warm``: the listings shown on the first day are taken as fetched when a run
    without limit would have (on their list date and every stale window + 1 days
    since), the steady state; otherwise the inventory starts empty (a first run).
    """
    window = stale_after_days + 1
    last: dict[str, int] = {}  # parcel -> the day (ordinal) it was last fetched
    days: list[ListedDay] = []
    fraction = 0.0
    previous: tuple[str, ...] = ()
    for index, market_day in enumerate(market):
        today = market_day.day.toordinal()
        if warm and index == 0:
            for parcel, listed_on in market_day.listed_on.items():
                age = today - listed_on
                if age > 0:
                    last[parcel] = listed_on + age // window * window
        listed = list(dict.fromkeys((*market_day.shown, *previous)))
        due = sorted(
            (last.get(parcel, -1), order, parcel)
            for order, parcel in enumerate(listed)
            if parcel not in last or today - last[parcel] > stale_after_days
        )
        if capacity is None:
            take = len(due)
        else:
            allowance = capacity + fraction
            take = min(len(due), math.floor(allowance))
            fraction = allowance - math.floor(allowance)
        for _, _, parcel in due[:take]:
            last[parcel] = today
        new = sum(1 for fetched, _, _ in due[:take] if fetched < 0)
        days.append(ListedDay(len(listed), new, take - new, len(due) - take))
        previous = market_day.shown
    return days


@dataclass(frozen=True)
class ListingModel:
    """Per ZIP and day at steady state, from the demo source's model."""

    shown: float  # listings shown
    modified: float  # listings modified on the day
    listed: float  # the day's listed parcels (the day's records + the day before's shown)
    new: float  # listed parcels fetched for the first time
    restale: float  # listed parcels fetched again: their record passed the stale window

    @property
    def needing(self) -> float:
        return self.new + self.restale


def listing_model(market: list[MarketDay], stale_after_days: int) -> ListingModel:
    """The listed parcels a day needs fetched, per ZIP: ``run_listed`` without limit from
    the steady state, averaged over the market's last stale window + 1 days."""
    days = run_listed(market, stale_after_days, capacity=None, warm=True)
    window = stale_after_days + 1
    samples = window * len(DEFAULT_ZIP_CODES)
    sampled_market, sampled = market[-window:], days[-window:]
    return ListingModel(
        shown=sum(len(d.shown) for d in sampled_market) / samples,
        modified=sum(d.modified for d in sampled_market) / samples,
        listed=sum(d.listed for d in sampled) / samples,
        new=sum(d.fetched_new for d in sampled) / samples,
        restale=sum(d.fetched_again for d in sampled) / samples,
    )


def model_days(stale_after_days: int) -> int:
    return (WARM_UP_WINDOWS + 1) * (stale_after_days + 1)


def model_market(stale_after_days: int) -> list[MarketDay]:
    """The days to ``DAY`` the steady model settles on and averages."""
    days = model_days(stale_after_days)
    return demo_market(DAY - dt.timedelta(days=days - 1), days)


def bootstrap_market(stale_after_days: int) -> list[MarketDay]:
    """The days from ``DAY`` the bootstrap's listed parcels are modelled on."""
    return demo_market(DAY, model_days(stale_after_days))


def demo_listing_model(stale_after_days: int) -> ListingModel:
    return listing_model(model_market(stale_after_days), stale_after_days)


def request_seconds(rate: float, latency: float, concurrency: int) -> float:
    return max(1.0 / rate, latency / concurrency)


def calls_per_parcel(args: argparse.Namespace) -> float:
    """``/parcel/{apn}``, and a dedicated endpoint for each section its body lacks."""
    return 1.0 + args.lacking_share * args.lacking_sections


@dataclass(frozen=True)
class AssessorDay:
    """The Assessor's day at steady state: search pages, and parcels by tier."""

    parcels: float
    pages_per_zip: int
    rotation_pages: float  # search pages a day to re-search every ZIP every N days
    search_share: int  # what the searches may spend after the listed parcels
    calls_per_parcel: float
    listed_new: float
    listed_restale: float
    search_pages: float
    changed: float
    new: float
    stale: float

    @property
    def listed(self) -> float:
        return self.listed_new + self.listed_restale

    @property
    def listed_requests(self) -> float:
        return self.calls_per_parcel * self.listed

    @property
    def fetched(self) -> float:
        return self.listed + self.changed + self.new + self.stale

    @property
    def section_calls(self) -> float:
        """Calls to ``/residential-details`` and ``/valuations`` (bodies lacking one)."""
        return (self.calls_per_parcel - 1) * self.fetched

    @property
    def requests(self) -> float:
        return self.calls_per_parcel * self.fetched + self.search_pages


def assessor_day(args: argparse.Namespace, listings: ListingModel) -> AssessorDay:
    zips = args.zips
    calls = calls_per_parcel(args)
    parcels = args.parcels * zips / args.residential_zips
    pages_per_zip = math.ceil(parcels / zips / PAGE_SIZE)
    rotation = zips * pages_per_zip / args.search_every_days
    listed_new = zips * listings.new
    listed_restale = zips * listings.restale
    budget = args.maricopa_request_budget
    left = max(0.0, budget - calls * (listed_new + listed_restale))
    share = search_allowance(math.floor(left))
    search = min(rotation, share)
    details = (left - search) / calls  # parcels
    changed = min(details, parcels * args.changed_share_month / 30)
    new = min(details - changed, args.new_parcels_per_day * zips / args.residential_zips)
    # The stale tier takes the rest, up to every parcel once per stale window.
    stale = min(details - changed - new, parcels / args.maricopa_stale_after_days)
    return AssessorDay(
        parcels,
        pages_per_zip,
        rotation,
        share,
        calls,
        listed_new,
        listed_restale,
        search,
        changed,
        new,
        stale,
    )


@dataclass(frozen=True)
class Bootstrap:
    modelled_days: int  # days of the listing model; later ones take the steady rate
    day_one: float  # parcels listed on day 1
    listed_fresh_from: int | None  # from this day on, every day's listed parcels get one
    wave_day: int  # the day, after the first stale window, whose listed parcels cost most
    wave_requests: float
    wave_share: int  # the search share that day
    rotation_behind: float  # the most pages the rotation fell behind after the first pass
    rotation_behind_day: int
    rotation_caught_up: int | None  # the first day after that the rotation is on time
    searched_by: int | None  # day the last ZIP's first search pass ended
    fetched_by: int | None  # day the last parcel got its first record


def bootstrap(args: argparse.Namespace, market: list[MarketDay], day: AssessorDay) -> Bootstrap:
    """Day by day from an empty inventory.

    The listed parcels come from ``run_listed`` on the demo ZIPs from an empty inventory
    over the model's days, scaled to ``--zips``, with the day's whole budget as their
    capacity: day 1 lists every listing shown (no snapshot before it); later days the
    day's records and the day before's listings, never fetched first, then the stalest.
    What the bootstrap's days fetched comes due together one stale window + 1 days
    later, and again each window while those listings stay shown (a wave that eases as
    they end). After the model's days, the listed parcels take their
    steady rate. The first search passes take their share of what the listed parcels
    left (then the rotation, carrying what a day's share could not cover); details go to
    parcels the searches found that no run fetched, after the changed rows once every
    ZIP was searched. A listed parcel's first fetch counts as its first."""
    zips, budget = args.zips, args.maricopa_request_budget
    scale = zips / len(DEFAULT_ZIP_CODES)
    calls = day.calls_per_parcel
    listed_days = run_listed(
        market, args.maricopa_stale_after_days, capacity=budget / calls / scale, warm=False
    )
    last_short = max((n for n, d in enumerate(listed_days, 1) if d.short), default=0)
    fresh_from = last_short + 1 if last_short < len(listed_days) else None
    pages_total = zips * day.pages_per_zip
    pages_done = behind = most_behind = 0.0
    most_behind_day = 0
    caught_up: int | None = None
    parcels = day.parcels
    fetched = listed_first = detail_first = 0.0
    wave_day, wave_requests, wave_share = 0, 0.0, 0
    searched_by = fetched_by = None
    for today in range(1, BOOTSTRAP_DAY_LIMIT + 1):
        if today <= len(listed_days):
            listed_day = listed_days[today - 1]
            first, again = scale * listed_day.fetched_new, scale * listed_day.fetched_again
        else:
            first, again = day.listed_new, day.listed_restale
        listed_first += first * (1 - fetched / parcels)
        left = budget - calls * (first + again)
        share = search_allowance(math.floor(left))
        if today > args.maricopa_stale_after_days + 1 and calls * (first + again) > wave_requests:
            wave_day, wave_requests, wave_share = today, calls * (first + again), share
        if searched_by is None:
            search = min(share, pages_total - pages_done)
            pages_done += search
            if pages_done >= pages_total:
                searched_by = today
        else:
            need = day.rotation_pages + behind
            search = min(share, need)
            behind = need - search
            if behind > most_behind:
                most_behind, most_behind_day, caught_up = behind, today, None
            elif behind <= 0 and most_behind > 0 and caught_up is None:
                caught_up = today
        details = (left - search) / calls
        found = parcels * pages_done / pages_total
        # Parcels the searches found that no run fetched (listed ones spread evenly).
        known_unfetched = max(0.0, found - detail_first - listed_first * found / parcels)
        if searched_by is not None:
            details -= min(details, parcels * args.changed_share_month / 30)
        detail_first += min(details, known_unfetched)
        fetched = min(parcels, listed_first + detail_first)
        if searched_by is not None and fetched >= parcels - 0.5:
            fetched_by = today
            break
    return Bootstrap(
        modelled_days=len(listed_days),
        day_one=scale * listed_days[0].listed,
        listed_fresh_from=fresh_from,
        wave_day=wave_day,
        wave_requests=wave_requests,
        wave_share=wave_share,
        rotation_behind=most_behind,
        rotation_behind_day=most_behind_day,
        rotation_caught_up=caught_up,
        searched_by=searched_by,
        fetched_by=fetched_by,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add = parser.add_argument
    add("--zips", type=int, default=150)
    add("--pipeline-ms-per-property", type=float, default=3.3)
    add("--run-fixed-s", type=float, default=1.5)
    add("--mls-rate", type=float, default=2.0)
    add("--mls-concurrency", type=int, default=1)
    add("--mls-latency", type=float, default=0.5, help="seconds per RESO page (assumed)")
    add("--mls-page-size", type=int, default=200)
    add("--mls-daily-cap", type=int, default=40_000)
    add("--maricopa-rate", type=float, default=DEFAULTS.requests_per_second)
    add("--maricopa-concurrency", type=int, default=DEFAULTS.max_concurrency)
    add("--maricopa-latency", type=float, default=2.6, help="seconds per call (observed)")
    add("--maricopa-request-budget", type=int, default=DEFAULTS.daily_request_budget)
    add("--maricopa-time-budget-s", type=float, default=DEFAULTS.time_budget_seconds)
    add("--maricopa-stale-after-days", type=int, default=DEFAULTS.stale_after_days)
    add("--search-every-days", type=int, default=DEFAULTS.search_every_days)
    add("--parcels", type=float, default=1_700_000, help="parcels in the county")
    add("--residential-zips", type=int, default=150, help="ZIPs the county's parcels are in")
    add(
        "--changed-share-month",
        type=float,
        default=0.005,
        help="share of parcels whose search row changes in a month (assumed)",
    )
    add(
        "--new-parcels-per-day",
        type=float,
        default=100,
        help="new parcels a day in the county (assumed)",
    )
    add(
        "--lacking-share",
        type=float,
        default=0.0,
        help="share of /parcel bodies lacking ResidentialPropertyData or Valuations "
        "(schema drift): each asks the dedicated endpoint too",
    )
    add(
        "--lacking-sections",
        type=int,
        choices=(1, 2),
        default=1,
        help="sections such a body lacks: extra calls per parcel",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.lacking_share <= 1:
        parser.error("--lacking-share must be between 0 and 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stale_days = args.maricopa_stale_after_days
    market = model_market(stale_days)
    listings = listing_model(market, stale_days)
    print(
        f"Per ZIP a day (demo source's model, {len(market)} days to {DAY}, the last "
        f"{stale_days + 1} averaged): {listings.shown:.0f} listings shown, "
        f"{listings.modified:.1f} modified; listed: {listings.listed:.0f} parcels (the "
        f"day's listing records, then the standing market: every listing shown the day "
        f"before, from the day before's snapshot, whatever its source); needing a record "
        f"(never fetched + record older than {stale_days} days): {listings.new:.1f} + "
        f"{listings.restale:.1f} = {listings.needing:.1f}"
    )
    zips = args.zips
    day = assessor_day(args, listings)
    per_request = request_seconds(
        args.maricopa_rate, args.maricopa_latency, args.maricopa_concurrency
    )
    budget = args.maricopa_request_budget
    calls = day.calls_per_parcel
    print(
        f"Projection for {zips} ZIPs ({day.parcels:,.0f} parcels, {day.pages_per_zip} search "
        f"pages a ZIP), Assessor budget {budget:,} requests a day, "
        f"{per_request:.3f} s a request (max of 1/{args.maricopa_rate:g} req/s and "
        f"{args.maricopa_latency:g} s / {args.maricopa_concurrency} in flight), "
        f"{calls:g} call(s) a parcel (/parcel; {args.lacking_share:.1%} of bodies lack "
        f"{args.lacking_sections} section(s)):"
    )
    rows = [
        (
            "listed parcels: new listings",
            day.listed_new,
            f"{day.listed_new:,.0f} parcels, 1 call each",
        ),
        (
            "listed parcels: record stale",
            day.listed_restale,
            f"{day.listed_restale:,.0f} parcels still listed, record > {stale_days} days old",
        ),
        (
            "search pages (rotation)",
            day.search_pages,
            f"{day.parcels:,.0f} parcels / {PAGE_SIZE} a page / {args.search_every_days} days",
        ),
        (
            "details: changed rows",
            day.changed,
            f"{args.changed_share_month:.1%} of parcels a month (assumed)",
        ),
        (
            "details: new parcels",
            day.new,
            f"{args.new_parcels_per_day * zips / args.residential_zips:.0f} a day (assumed)",
        ),
        ("details: stale refresh", day.stale, "the rest of the budget, stalest first"),
        (
            "section endpoints (drift)",
            day.section_calls,
            f"{args.lacking_share:.1%} of {day.fetched:,.0f} parcels x {args.lacking_sections}",
        ),
    ]
    print(f"  {'Assessor requests by kind':32} {'requests':>9} {'share':>6}  basis")
    for name, requests, basis in rows:
        print(f"  {name:32} {requests:9,.0f} {requests / budget:6.1%}  {basis}")
    print(f"  {'total':32} {day.requests:9,.0f} {day.requests / budget:6.1%}")

    changed_per_zip = listings.modified
    mls_pages = zips * max(1, math.ceil(changed_per_zip / args.mls_page_size))
    mls_minutes = (
        mls_pages * request_seconds(args.mls_rate, args.mls_latency, args.mls_concurrency) / 60
    )
    assessor_minutes = day.requests * per_request / 60
    properties = zips * listings.shown
    pipeline_minutes = (args.run_fixed_s + properties * args.pipeline_ms_per_property / 1000) / 60
    total = max(mls_minutes, assessor_minutes) + pipeline_minutes
    fits_day = total <= BUDGET_MINUTES
    print(f"  {'minutes':32} {'requests':>9} {'min':>6}")
    print(f"  {'maricopa':32} {day.requests:9,.0f} {assessor_minutes:6.1f}")
    print(
        f"  {'mls (incremental), in parallel':32} {mls_pages:9,.0f} {mls_minutes:6.1f}  "
        f"{changed_per_zip:.0f} modified listings a ZIP, pages of {args.mls_page_size}"
    )
    print(
        f"  {'pipeline processing, after':32} {'':9} {pipeline_minutes:6.1f}  "
        f"{properties:,.0f} properties x {args.pipeline_ms_per_property} ms + "
        f"{args.run_fixed_s:g} s a run"
    )
    print(f"day: {total:.1f} min of {BUDGET_MINUTES:.0f}  {'fits' if fits_day else 'does NOT fit'}")
    if mls_pages > args.mls_daily_cap:
        print(f"MLS requests exceed the provider's {args.mls_daily_cap:,} a day")

    budget_seconds = budget * per_request
    fits_time = budget_seconds <= args.maricopa_time_budget_s
    print(
        f"daily budget in time: {budget:,} x {per_request:.3f} s = {budget_seconds:,.0f} s "
        f"of the {args.maricopa_time_budget_s:g} s time budget  "
        f"{'fits' if fits_time else 'does NOT fit'}"
    )
    core = day.listed_requests + day.rotation_pages
    fits_core = core <= budget
    print(
        f"listed parcels + search rotation: {day.listed_requests:,.0f} + "
        f"{day.rotation_pages:,.0f} = {core:,.0f} requests of {budget:,}  "
        f"{'fits' if fits_core else 'does NOT fit'}"
    )
    if day.rotation_pages <= day.search_share:
        rotation_verdict = f"fits ({day.rotation_pages / day.search_share:.0%} of the share)"
    else:
        stretched = args.search_every_days * day.rotation_pages / max(day.search_share, 1)
        rotation_verdict = f"does NOT fit: a rotation takes ~{stretched:.0f} days"
    print(
        f"rotation: every ZIP's search rows refreshed every {args.search_every_days} days = "
        f"{day.rotation_pages:,.0f} pages a day (~{zips / args.search_every_days:.0f} ZIPs); "
        f"search share {SEARCH_SHARE:g} x {budget - day.listed_requests:,.0f} = "
        f"{day.search_share:,} pages  {rotation_verdict}"
    )
    capacity = budget / calls
    share_limit = max(0.0, budget - day.rotation_pages / SEARCH_SHARE) / calls
    print(
        f"listed parcels: {day.listed:,.0f} a day need a record "
        f"({day.listed_requests / budget:.0%} of the budget; {OLD_LISTED_CALLS} calls each "
        f"would be {OLD_LISTED_CALLS * day.listed / budget:.0%}); every listed parcel's "
        f"record is at most {stale_days} days old at the end of its day while they stay "
        f"under {capacity:,.0f} a day ({capacity / day.listed:.1f}x today); the rotation "
        f"keeps its share up to {share_limit:,.0f} ({share_limit / day.listed:.2f}x)"
    )
    refreshed = day.stale + day.changed + day.new
    if day.stale > 0:
        cycle = day.parcels / day.stale
        print(
            f"full-detail refresh of the county: {day.parcels:,.0f} parcels / "
            f"{day.stale:,.0f} stale refreshes a day = {cycle:,.0f} days ({cycle / 365:.1f} "
            f"years); with changed and new parcels, {refreshed:,.0f} records a day. A parcel "
            f"that is not listed and whose search row does not change has a record up to "
            f"~{cycle / 365:.1f} years old; listed ones are kept within {stale_days} days; a "
            f"changed search row is seen when its ZIP is searched again (within "
            f"{args.search_every_days} days) and refetched that day"
        )
    else:
        print("full-detail refresh of the county: no requests left for stale parcels")

    boot = bootstrap(args, bootstrap_market(stale_days), day)

    def when(value: int | None) -> str:
        return f"day {value}" if value is not None else f"not within {BOOTSTRAP_DAY_LIMIT} days"

    fresh_from = (
        f"day {boot.listed_fresh_from}"
        if boot.listed_fresh_from is not None
        else f"no day of the {boot.modelled_days} modelled"
    )
    print(
        f"bootstrap from an empty inventory: day 1 lists every listing shown "
        f"({boot.day_one:,.0f} parcels, {calls * boot.day_one:,.0f} requests: "
        f"{calls * boot.day_one / budget:.1f} days of the budget); every day's listed "
        f"parcels get a record from {fresh_from}; every ZIP searched once by "
        f"{when(boot.searched_by)}; every parcel fetched once by {when(boot.fetched_by)}"
        + (f" (~{boot.fetched_by / 365:.1f} years)" if boot.fetched_by else "")
    )
    boot_days = (boot.listed_fresh_from or boot.modelled_days + 1) - 1
    if day.rotation_pages > day.search_share:
        rotation_after = "the rotation never keeps up (its share is short, above)"
    else:
        rotation_after = (
            f"the rotation falls up to {boot.rotation_behind:,.0f} pages behind (day "
            f"{boot.rotation_behind_day}, ~{boot.rotation_behind / day.rotation_pages:.1f} "
            f"days of rotation), on time again from {when(boot.rotation_caught_up)}"
        )
    print(
        f"bootstrap's refresh wave: what the bootstrap's {boot_days} days fetched comes due "
        f"together {stale_days + 1} days later, and again every {stale_days + 1} days while "
        f"those listings stay shown: the most listed requests after day {stale_days + 1} "
        f"are {boot.wave_requests:,.0f} on day {boot.wave_day} "
        f"({boot.wave_requests / budget:.0%} of the budget; search share {boot.wave_share:,} "
        f"pages); {rotation_after}; listed parcels of the first {boot.modelled_days} days "
        f"from the listing model (from {DAY}), then at its steady rate"
    )

    parcels_per_zip = day.parcels / zips
    old_pages = min(math.ceil(parcels_per_zip / PAGE_SIZE), OLD_MAX_SEARCH_PAGES)
    old_stale = parcels_per_zip / stale_days
    old_per_zip = old_pages + old_stale * OLD_CALLS_PER_PARCEL
    old_requests = zips * old_per_zip
    old_seconds = request_seconds(OLD_RATE, args.maricopa_latency, OLD_CONCURRENCY)
    print(
        f"old strategy (every ZIP searched every day, {OLD_MAX_SEARCH_PAGES}-page cap, then "
        f"{old_stale:.0f} stale parcels x {OLD_CALLS_PER_PARCEL} calls a ZIP): "
        f"{old_per_zip:,.0f} requests a ZIP a day, {old_requests:,.0f} for {zips} ZIPs = "
        f"{old_requests / day.requests:.1f}x the new day's {day.requests:,.0f}; "
        f"{old_requests * per_request / 60:,.0f} min at {per_request:.3f} s a request, "
        f"{old_requests * old_seconds / 60:,.0f} min at its defaults ({OLD_RATE:g} req/s, "
        f"{OLD_CONCURRENCY} in flight), whose {OLD_BUDGET:,}-request budget covered "
        f"{OLD_BUDGET / old_requests:.1%} of it a day"
    )
    # Whole budget: z * (calls * listed + pages / N) <= B. Share: the rotation within
    # SEARCH_SHARE of what the listed parcels leave: z * pages / N <= s * (B - z * listed).
    listed_per_zip = calls * listings.needing
    rotation_per_zip = day.pages_per_zip / args.search_every_days
    budget_zips = budget / (listed_per_zip + rotation_per_zip)
    share_zips = SEARCH_SHARE * budget / (rotation_per_zip + SEARCH_SHARE * listed_per_zip)
    print(
        f"the budget holds the listed parcels and the rotation of up to "
        f"{math.floor(budget_zips)} ZIPs of this size; the rotation keeps within its "
        f"share up to {math.floor(share_zips)} ZIPs"
    )
    ok = fits_day and fits_time and fits_core
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
