"""The offline demo source: deterministic, realistic-looking Phoenix listings.

Why it exists: the pipeline must run end to end with no credentials and no network,
and its daily summaries must move the way a real market's do. So the listings here
live across days: each is born on a list date and follows a lifecycle (price cuts,
pending, closed, or withdrawn/expired) that is a pure function of its seed. A day's
feed is the set of listings born in the previous ``LOOKBACK_DAYS`` that are still in
the feed, so the same (ZIP, day, scale) always gives the same payloads, in any
process, in any order of calls. (Bounded in-process caches only save recomputing the
listings that consecutive days share.)

Every random draw is seeded from SHA-256 of a string such as ``"85018:2026-11-03:2"``;
never Python's ``hash()`` (salted per process) nor the global ``random`` state.

Every payload carries ``DemoData: True`` so no one mistakes it for real data.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import math
import random
import re
import statistics
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

DEMO_SOURCE = "demo"

# A listing stays in the feed at most this many days after its list date (enforced
# when its lifecycle is drawn), so a day's feed only needs this many birth days.
MAX_LIFE_DAYS = 300
LOOKBACK_DAYS = MAX_LIFE_DAYS
# Closed listings stay in the feed this many days after closing, as feeds show them.
CLOSED_VISIBLE_DAYS = 7

# New listings per ZIP per day are capped so each (ZIP, list date, index) owns a
# distinct slot for its APN and MLS number; ~scale 30 before the cap is ever reached.
MAX_NEW_PER_DAY = 256
# Day 0 of the APN/MLS-number slot numbering. APNs stay unique for ~15 years from
# here, MLS numbers for ~2.7 years (any window of that length, in fact).
_SLOT_EPOCH = dt.date(2025, 1, 1).toordinal()

ACTIVE = "Active"
PENDING = "Pending"
CLOSED = "Closed"
WITHDRAWN = "Withdrawn"
EXPIRED = "Expired"


@dataclass(frozen=True)
class ZipProfile:
    """What the demo source knows about a ZIP: where it is and what homes there are like."""

    zip_code: str
    city: str
    neighborhood: str
    center_lat: float
    center_lon: float
    radius_deg: float
    median_price: int
    median_sqft: int
    median_year_built: int
    new_listings_per_day: float


# Real-ish values: a centroid inside each ZIP, a circle that stays inside it, and
# 2025-era median list price, living area and year built. New listings per day are
# scaled so the ten ZIPs show ~2,800 listings a day (~56,000 at scale=20).
# (ZIP, neighbourhood, lat, lon, radius deg, median price, sqft, year built, new/day)
_PROFILE_ROWS = (
    ("85003", "Downtown / Roosevelt", 33.4530, -112.0800, 0.012, 525_000, 1_500, 1938, 1.5),
    ("85006", "Coronado / Garfield", 33.4650, -112.0480, 0.014, 430_000, 1_250, 1946, 1.8),
    ("85016", "Biltmore", 33.5100, -112.0300, 0.020, 650_000, 1_600, 1966, 3.0),
    ("85018", "Arcadia", 33.4960, -111.9850, 0.020, 1_100_000, 2_600, 1961, 2.2),
    ("85020", "North Mountain", 33.5680, -112.0550, 0.020, 520_000, 1_700, 1972, 2.2),
    ("85032", "Paradise Valley Village", 33.6250, -112.0020, 0.025, 480_000, 1_650, 1979, 3.2),
    ("85033", "Maryvale", 33.4940, -112.2130, 0.020, 330_000, 1_350, 1963, 2.4),
    ("85041", "South Mountain", 33.3880, -112.0950, 0.025, 380_000, 1_600, 1996, 2.8),
    ("85044", "Ahwatukee", 33.3300, -111.9800, 0.022, 520_000, 1_900, 1988, 2.4),
    ("85085", "North Phoenix / Norterra", 33.7400, -112.1150, 0.028, 640_000, 2_300, 2008, 2.8),
)
_PROFILES: dict[str, ZipProfile] = {
    row[0]: ZipProfile(row[0], "Phoenix", *row[1:]) for row in _PROFILE_ROWS
}

# First of ten Maricopa Assessor books per ZIP (disjoint ranges, so APNs never collide
# across these ZIPs); other ZIPs get a book range in 400-899.
_APN_FIRST_BOOK: dict[str, int] = {
    "85033": 100,
    "85003": 110,
    "85006": 120,
    "85020": 150,
    "85016": 160,
    "85018": 170,
    "85085": 200,
    "85032": 210,
    "85041": 300,
    "85044": 310,
}
_ZIP_SLOT: dict[str, int] = {z: n for n, z in enumerate(sorted(_PROFILES))}

_ZIP_RE = re.compile(r"^\d{5}$")
_AZ_ZIP_RANGE = (85001, 86556)


def _digest(key: str) -> int:
    """A stable 64-bit integer from a string: the same in every process and Python build."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def _rng(key: str) -> random.Random:
    return random.Random(_digest(key))


def _check_zip(zip_code: str) -> None:
    if not isinstance(zip_code, str) or not _ZIP_RE.match(zip_code):
        raise ValueError(f"{zip_code!r} is not a 5-digit ZIP code")
    if not _AZ_ZIP_RANGE[0] <= int(zip_code) <= _AZ_ZIP_RANGE[1]:
        raise ValueError(
            f"{zip_code} is not an Arizona ZIP code ({_AZ_ZIP_RANGE[0]}-{_AZ_ZIP_RANGE[1]})"
        )


@functools.cache
def zip_profile(zip_code: str) -> ZipProfile:
    """The ZIP's profile: a hand-written one for the default ZIPs, else a stable fallback.

    The fallback is derived from the ZIP's SHA-256, so any valid Arizona ZIP gets
    plausible Phoenix-metro listings that never change between runs.
    """
    _check_zip(zip_code)
    known = _PROFILES.get(zip_code)
    if known is not None:
        return known
    rng = _rng(f"zip-profile:{zip_code}")
    return ZipProfile(
        zip_code=zip_code,
        city="Phoenix",
        neighborhood=f"Phoenix metro ({zip_code})",
        center_lat=round(rng.uniform(33.25, 33.75), 4),
        center_lon=round(rng.uniform(-112.45, -111.65), 4),
        radius_deg=round(rng.uniform(0.012, 0.030), 3),
        median_price=int(round(rng.uniform(350_000, 650_000), -3)),
        median_sqft=int(round(rng.uniform(1_400, 2_200), -1)),
        median_year_built=rng.randint(1960, 2010),
        new_listings_per_day=round(rng.uniform(1.5, 4.0), 1),
    )


# --- How many listings are born per ZIP per day --------------------------------------

# Monday..Sunday: agents launch listings late in the week, hardly ever on Sunday.
_WEEKDAY_RAW = (1.05, 1.05, 1.10, 1.15, 1.25, 0.80, 0.45)
_WEEKDAY = tuple(w * 7 / sum(_WEEKDAY_RAW) for w in _WEEKDAY_RAW)
_NORMAL = statistics.NormalDist()


def _season(day: dt.date) -> float:
    # Phoenix's selling season peaks in early spring (snowbirds, before the heat).
    return 1.0 + 0.2 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 80) / 365.25)


def _poisson_quantile(lam: float, u: float) -> int:
    """Inverse CDF of Poisson(lam) at u: monotone in lam, so a higher scale only adds listings."""
    if lam <= 0:
        return 0
    if lam > 200:  # exp(-lam) heads for underflow; the normal approximation is plenty here
        return max(
            0,
            round(lam + math.sqrt(lam) * _NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))),
        )
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and k < 10 * MAX_NEW_PER_DAY:
        k += 1
        p *= lam / k
        cdf += p
    return k


# Consecutive days share all but one birth day of their look-back window.
@functools.lru_cache(maxsize=16_384)
def _new_listing_count(zip_code: str, list_ord: int, per_day: float, scale: float) -> int:
    day = dt.date.fromordinal(list_ord)
    lam = per_day * scale * _WEEKDAY[day.weekday()] * _season(day)
    u = _digest(f"{zip_code}:{day.isoformat()}:count") / 2.0**64
    return min(_poisson_quantile(lam, u), MAX_NEW_PER_DAY)


# --- A listing's lifecycle ---------------------------------------------------------------

# Event kinds. Every event falls on its own day offset (days after the list date).
_LIST, _PRICE, _PENDING, _BACK, _CLOSE, _WITHDRAW, _EXPIRE = range(7)

# (day offset, second of the UTC day, kind, value): value is the price factor of a
# price change or the close-price ratio of a closing.
_Event = tuple[int, int, int, float]

_SOLD_SHARE = 0.78
_FALL_THROUGH_SHARE = 0.05
# A fall-through's second contract must start early enough to close inside MAX_LIFE_DAYS.
_LATEST_PENDING = MAX_LIFE_DAYS - CLOSED_VISIBLE_DAYS - 45
_U32 = struct.Struct(">8I")
_SOLD_CUT = int(_SOLD_SHARE * 2**32)
_FALL_THROUGH_CUT = int(_FALL_THROUGH_SHARE * 2**32)
_WITHDRAWN_CUT = int(0.45 * 2**32)
_RELIST_CUT = int(0.7 * 2**32)
# Listing agreements run out on round terms.
_EXPIRY_TERMS = (90, 90, 120, 120, 150, 180, 180)
# Standard normal quantiles, for normal draws from one uniform (cheaper than gauss()).
_Z_SIZE = 4096
_Z_TABLE = tuple(_NORMAL.inv_cdf((j + 0.5) / _Z_SIZE) for j in range(_Z_SIZE))
# Days from listing to contract: log-normal, median ~45, with a long tail of stale
# listings cut at 200 days (so every life fits in MAX_LIFE_DAYS). A quantile table,
# so a draw is an index instead of an inverse-CDF call.
_DAYS_TO_PENDING = tuple(
    min(max(round(45 * math.exp(0.8 * _NORMAL.inv_cdf((j + 0.5) / 2048))), 1), 200)
    for j in range(2048)
)


def _below(u32: int, n: int) -> int:
    """A uniform integer in [0, n) from a uniform 32-bit integer."""
    return (u32 * n) >> 32


class _Lifespan(NamedTuple):
    """The status path of a listing, drawn from its seed digest alone (no RNG object)."""

    last_offset: int  # last day offset on which the listing is in the feed
    status: tuple[tuple[int, int, float], ...]  # (offset, kind, value), by offset
    active_spans: tuple[tuple[int, int], ...]  # [start, end) offsets of Active periods


def _lifespan(digest: bytes, age: int) -> _Lifespan | None:
    """The listing's status path, or None if it has left the feed ``age`` days after listing.

    Most births in the look-back window are gone by ``day``; they cost one SHA-256 and
    a few integer operations here, instead of a whole life drawn from an RNG.
    """
    u0, u1, u2, u3, u4, u5, u6, u7 = _U32.unpack(digest)
    if u0 >= _SOLD_CUT:
        if u1 < _WITHDRAWN_CUT:
            end, kind = 90 + _below(u2, 91), _WITHDRAW
        else:
            end, kind = _EXPIRY_TERMS[_below(u2, 7)], _EXPIRE
        if age > end:
            return None
        return _Lifespan(end, ((end, kind, 0.0),), ((0, end),))
    pending = _DAYS_TO_PENDING[u1 >> 21]
    # Closing 25-45 days after the contract, at 95-101 % of the last list price.
    close_ratio = 0.951 + 0.058 * u7 / 2**32
    if u2 >= _FALL_THROUGH_CUT:
        close = pending + 25 + _below(u6, 21)
        if age > close + CLOSED_VISIBLE_DAYS:
            return None
        return _Lifespan(
            close + CLOSED_VISIBLE_DAYS,
            ((pending, _PENDING, 0.0), (close, _CLOSE, close_ratio)),
            ((0, pending),),
        )
    # The deal falls through: back on market, then pending again or expire.
    back = pending + 7 + _below(u3, 24)
    if u4 >= _RELIST_CUT:
        expire = back + 20 + _below(u5, 41)
        if age > expire:
            return None
        return _Lifespan(
            expire,
            ((pending, _PENDING, 0.0), (back, _BACK, 0.0), (expire, _EXPIRE, 0.0)),
            ((0, pending), (back, expire)),
        )
    second = back + min(5 + _below(u5, 56), _LATEST_PENDING - back)
    close = second + 25 + _below(u6, 21)
    if age > close + CLOSED_VISIBLE_DAYS:
        return None
    return _Lifespan(
        close + CLOSED_VISIBLE_DAYS,
        (
            (pending, _PENDING, 0.0),
            (back, _BACK, 0.0),
            (second, _PENDING, 0.0),
            (close, _CLOSE, close_ratio),
        ),
        ((0, pending), (back, second)),
    )


def _events(rng: random.Random, life: _Lifespan) -> tuple[_Event, ...]:
    """Add price changes inside the Active periods and a time of day to every event."""
    spans = life.active_spans
    draw = rng.random
    prices: dict[int, float] = {}
    if draw() >= 0.3:  # the rest are sellers who never cut
        offset = 10 + int(draw() * 31)  # the first cut, typically 10-40 days in
        while offset < spans[-1][1]:
            if _inside(spans, offset):
                prices[offset] = 0.94 + 0.04 * draw()  # a 2-6 % cut
            if draw() < 0.25:  # the seller stops cutting
                break
            offset += 14 + int(draw() * 22)
    if draw() < 0.03:  # a rare price rise, e.g. after a flood of showings
        offset = 3 + int(draw() * 28)
        if _inside(spans, offset) and offset not in prices:
            prices[offset] = 1.02 + 0.03 * draw()
    raw = [(0, _LIST, 0.0), *life.status, *((o, _PRICE, f) for o, f in prices.items())]
    raw.sort()
    # Business hours in Arizona (UTC-7, no DST): 15:00-23:59 UTC, never the next UTC day.
    return tuple((o, 54_000 + int(draw() * 32_400), k, v) for o, k, v in raw)


def _inside(spans: tuple[tuple[int, int], ...], offset: int) -> bool:
    """Whether ``offset`` falls strictly inside an Active period (not on a status change)."""
    return any(start < offset < end for start, end in spans)


# --- Physical facts and address ------------------------------------------------------------

# About 80 % single-family, the rest split between townhouses and condos.
_SUBTYPES = ("SingleFamilyResidence", "Townhouse", "Condominium")
# Cumulative weights of 0, 1, 2, 3 garage spaces (bisect a uniform draw into them).
_GARAGE_NEWER = (1 / 12, 4 / 12, 10 / 12)
_GARAGE_OLDER = (0.3, 0.7, 1.0)
# Attached homes are smaller and cheaper than the ZIP's typical house.
# Houses sit a little above the ZIP's overall median, which the attached homes pull down.
_SUBTYPE_PRICE = (1.06, 0.72, 0.58)
_SUBTYPE_SIZE = (1.04, 0.74, 0.60)

# Phoenix's grid: Central Ave runs north-south, Washington St east-west; east of
# Central the numbered roads are Streets, west of it Avenues, 8 to the mile.
_CENTRAL_AVE_LON = -112.0740
_LON_DEG_PER_MILE = 0.01728
# (latitude, block number; negative = south) along the grid, from known cross streets.
_NORTH_ANCHORS = (
    (33.2905, -16_000),
    (33.3776, -7_800),
    (33.4484, 0),
    (33.4656, 1_600),
    (33.4801, 2_900),
    (33.4946, 4_100),
    (33.5093, 5_000),
    (33.5383, 7_000),
    (33.5530, 8_000),
    (33.6110, 13_800),
    (33.6400, 17_200),
    (33.7125, 25_000),
    (33.7995, 34_000),
)
# East-west roads and their latitudes, for addresses such as "2215 W Camelback Rd".
_EW_ROADS = (
    (33.2905, "Pecos Rd"),
    (33.3050, "Chandler Blvd"),
    (33.3195, "Ray Rd"),
    (33.3340, "Warner Rd"),
    (33.3486, "Elliot Rd"),
    (33.3630, "Dobbins Rd"),
    (33.3776, "Baseline Rd"),
    (33.3850, "Vineyard Rd"),
    (33.3925, "Southern Ave"),
    (33.4000, "Roeser Rd"),
    (33.4075, "Broadway Rd"),
    (33.4228, "Lower Buckeye Rd"),
    (33.4373, "Buckeye Rd"),
    (33.4517, "Van Buren St"),
    (33.4585, "Roosevelt St"),
    (33.4620, "Culver St"),
    (33.4656, "McDowell Rd"),
    (33.4700, "Palm Ln"),
    (33.4740, "Encanto Blvd"),
    (33.4801, "Thomas Rd"),
    (33.4838, "Earll Dr"),
    (33.4874, "Osborn Rd"),
    (33.4910, "Glenrosa Ave"),
    (33.4946, "Indian School Rd"),
    (33.4983, "Turney Ave"),
    (33.5019, "Campbell Ave"),
    (33.5055, "Highland Ave"),
    (33.5093, "Camelback Rd"),
    (33.5165, "Missouri Ave"),
    (33.5238, "Bethany Home Rd"),
    (33.5310, "Maryland Ave"),
    (33.5383, "Glendale Ave"),
    (33.5455, "Orangewood Ave"),
    (33.5530, "Northern Ave"),
    (33.5600, "Butler Dr"),
    (33.5675, "Dunlap Ave"),
    (33.5745, "Hatcher Rd"),
    (33.5820, "Peoria Ave"),
    (33.5890, "Mountain View Rd"),
    (33.5965, "Cactus Rd"),
    (33.6040, "Sharon Dr"),
    (33.6110, "Thunderbird Rd"),
    (33.6180, "Sweetwater Ave"),
    (33.6255, "Greenway Rd"),
    (33.6330, "Grovers Ave"),
    (33.6400, "Bell Rd"),
    (33.6545, "Union Hills Dr"),
    (33.6690, "Beardsley Rd"),
    (33.6835, "Deer Valley Rd"),
    (33.6980, "Pinnacle Peak Rd"),
    (33.7125, "Happy Valley Rd"),
    (33.7270, "Jomax Rd"),
    (33.7415, "Dixileta Dr"),
    (33.7560, "Dove Valley Rd"),
    (33.7705, "Lone Mountain Rd"),
    (33.7995, "Carefree Hwy"),
)
_EW_LATS = [lat for lat, _ in _EW_ROADS]
_ANCHOR_LATS = [lat for lat, _ in _NORTH_ANCHORS]


def _block_north(lat: float) -> float:
    """The grid's north (+) / south (-) address number at a latitude, by interpolation."""
    j = min(max(bisect.bisect_right(_ANCHOR_LATS, lat), 1), len(_NORTH_ANCHORS) - 1)
    (la0, n0), (la1, n1) = _NORTH_ANCHORS[j - 1], _NORTH_ANCHORS[j]
    return n0 + (lat - la0) * (n1 - n0) / (la1 - la0)


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _street_address(rng: random.Random, lat: float, lon: float) -> str:
    """A Phoenix-style street line whose numbers agree with the home's coordinates."""
    east = (lon - _CENTRAL_AVE_LON) / _LON_DEG_PER_MILE * 800
    north = _block_north(lat)
    kind = rng.random()
    if kind < 0.6:  # on a numbered north-south street or avenue
        street = round(abs(east) / 100)
        # Phoenix fills the gaps between numbered streets with Places and Ways
        # (east) and Drives and Lanes (west).
        suffixes = ("St", "Pl", "Way") if east > 0 else ("Ave", "Dr", "Ln")
        suffix = suffixes[0 if kind < 0.45 else 1 if kind < 0.53 else 2]
        name = "Central Ave" if street == 0 else f"{_ordinal(street)} {suffix}"
        return f"{max(101, round(abs(north)))} {'N' if north >= 0 else 'S'} {name}"
    j = min(max(bisect.bisect_left(_EW_LATS, lat), 1), len(_EW_LATS) - 1)
    road = _EW_ROADS[j - 1 if lat - _EW_LATS[j - 1] < _EW_LATS[j] - lat else j][1]
    return f"{max(101, round(abs(east)))} {'E' if east >= 0 else 'W'} {road}"


@functools.cache
def _zip_constants(zip_code: str) -> tuple[int, int, int]:
    """Per-ZIP offsets of the APN and MLS-number permutations, and the first APN book."""
    first_book = _APN_FIRST_BOOK.get(zip_code, 400 + (int(zip_code) % 50) * 10)
    mls_slot = _ZIP_SLOT.get(zip_code, 10 + _digest(f"mls:{zip_code}") % 6)
    return _digest(f"apn:{zip_code}"), mls_slot, first_book


def _parcel_number(zip_code: str, list_ord: int, index: int) -> str:
    """A Maricopa APN ("123-45-678" or "123-45-678A"), unique per listing in its ZIP.

    An affine permutation of the listing's slot (list day, index) over the ZIP's ten
    books, so no two listings in ~15 years share one, yet neighbours look unrelated.
    """
    apn_offset, _, first_book = _zip_constants(zip_code)
    per_book = 100_000 + 2 * 20_000  # plain parcels + A/B splits on maps 00-19
    size = 10 * per_book  # 1,400,000 = 2**6 * 5**5 * 7; the multiplier is coprime to it
    slot = (list_ord - _SLOT_EPOCH) * MAX_NEW_PER_DAY + index
    book_offset, rest = divmod((slot * 738_163 + apn_offset) % size, per_book)
    letter = ""
    if rest >= 100_000:
        letter_index, rest = divmod(rest - 100_000, 20_000)
        letter = "AB"[letter_index]
    map_number, parcel = divmod(rest, 1_000)
    return f"{first_book + book_offset:03d}-{map_number:02d}-{parcel:03d}{letter}"


def _listing_key(zip_code: str, list_ord: int, index: int) -> str:
    """The listing's ``ListingKey``: its ZIP, list date and index that day."""
    return f"DEMO-{zip_code}-{dt.date.fromordinal(list_ord):%Y%m%d}-{index:02d}"


def _listing_id(zip_code: str, list_ord: int, index: int) -> str:
    """A 7-digit MLS-style number, unique across ZIPs within any ~2.7-year window."""
    size = 4_000_000  # = 2**8 * 5**6; the multiplier is coprime to it
    slot = ((list_ord - _SLOT_EPOCH) * MAX_NEW_PER_DAY + index) * 16 + _zip_constants(zip_code)[1]
    return str(6_000_000 + (slot * 1_234_567) % size)


def _round_price(price: float, charm: bool) -> int:
    """List prices are round thousands, or a hundred under one ("$499,900") for charm pricers."""
    rounded = round(price / 1_000) * 1_000
    return rounded - 100 if charm else rounded


@dataclass(frozen=True, slots=True)
class _ZipLevels:
    """Per-ZIP numbers every listing's draw needs, computed once per ZIP."""

    price: tuple[float, ...]  # typical price per subtype (as in _SUBTYPES)
    sqft: tuple[float, ...]  # typical living area per subtype
    ppsf_low: float
    ppsf_high: float
    lot_median: float
    pool_share: float
    year_spread: float


@functools.cache
def _zip_levels(zip_code: str) -> _ZipLevels:
    profile = zip_profile(zip_code)
    ppsf = profile.median_price / profile.median_sqft
    relative_price = profile.median_price / 500_000
    return _ZipLevels(
        price=tuple(profile.median_price * f for f in _SUBTYPE_PRICE),
        sqft=tuple(profile.median_sqft * f for f in _SUBTYPE_SIZE),
        # Price per square foot stays plausible for the ZIP (and within $170-$700).
        ppsf_low=max(170.0, ppsf * 0.65),
        ppsf_high=min(700.0, ppsf * 1.6),
        # Bigger lots where homes cost more (Arcadia's half-acre lots, Maryvale's small ones).
        lot_median=7_200 * math.sqrt(relative_price),
        # About a third of Phoenix houses have a pool, more in pricier ZIPs.
        pool_share=0.35 * (1 + 0.3 * math.log(relative_price)),
        # Newer suburbs were built in a burst; older ZIPs grew over decades.
        year_spread=8.0 if profile.median_year_built >= 2000 else 14.0,
    )


class _Listing(NamedTuple):
    """Everything about a listing that does not depend on the day: drawn once, cached."""

    key: str
    listing_id: str
    parcel_number: str
    list_ord: int
    list_date: str
    events: tuple[_Event, ...]
    price: int  # original list price
    charm: bool  # prices end in 9,900 rather than 000
    subtype: str
    sqft: int
    beds: int
    baths: int
    year_built: int
    lot_sqft: int
    pool: bool
    garage: int
    address: str
    lat: float
    lon: float


@functools.lru_cache(maxsize=16_384)
def _listing(zip_code: str, list_ord: int, index: int) -> _Listing:
    """Draw the listing's price path and home; cached, as consecutive days reuse them.

    The cache (~20 MB when full) holds a day's listings for the ten default ZIPs at
    scale 1 (~2,800) with room to spare, so a pipeline walking day by day draws each
    listing about once; at larger scales it simply misses.
    """
    profile = zip_profile(zip_code)
    list_date = dt.date.fromordinal(list_ord).isoformat()
    digest = hashlib.sha256(f"{zip_code}:{list_date}:{index}".encode()).digest()
    life = _lifespan(digest, 0)
    assert life is not None  # every listing is in the feed on its list date
    # One RNG per listing, drawn in a fixed order: events first, then the home.
    rng = random.Random(int.from_bytes(digest, "big"))
    events = _events(rng, life)
    levels = _zip_levels(zip_code)
    draw = rng.random
    z = _Z_TABLE  # standard normal quantiles: z[int(draw() * _Z_SIZE)] is a normal draw

    roll = draw()
    kind = 0 if roll < 0.8 else 1 if roll < 0.9 else 2
    typical_price, typical_sqft = levels.price[kind], levels.sqft[kind]
    # Price: log-normal around the ZIP median; size follows price, with its own noise.
    charm = draw() < 0.3
    price = _round_price(typical_price * math.exp(0.33 * z[int(draw() * _Z_SIZE)]), charm)
    sqft = typical_sqft * (price / typical_price) ** 0.7 * math.exp(0.12 * z[int(draw() * _Z_SIZE)])
    # Clamp the size so the price per square foot stays plausible for the ZIP.
    sqft = round(min(max(sqft, price / levels.ppsf_high), price / levels.ppsf_low))
    # Bedrooms grow with the log of size (a 1,500 sqft home has 3, a 2,600 sqft one 4).
    beds = round(3 + 1.6 * math.log(sqft / 1_500) + 0.5 * z[int(draw() * _Z_SIZE)])
    beds = 2 if beds < 2 else min(beds, 5)
    baths = round(beds * 0.45 + sqft / 2_000 + 0.4 * z[int(draw() * _Z_SIZE)])
    baths = 1 if baths < 1 else min(baths, 4)

    year = (
        profile.median_year_built
        + (0 if kind == 0 else 10)
        + levels.year_spread * z[int(draw() * _Z_SIZE)]
    )
    if draw() < 0.04:  # infill and new construction turn up everywhere
        year = 2018 + 8 * draw()
    year_built = round(year)
    year_built = 1920 if year_built < 1920 else min(year_built, 2025)

    roll = draw()
    if kind == 0:
        lot = round(levels.lot_median * math.exp(0.3 * z[int(draw() * _Z_SIZE)]) / 10) * 10
        lot_sqft = 3_000 if lot < 3_000 else min(lot, 20000)
        pool = draw() < levels.pool_share
        # Mostly two-car garages; older homes often have a carport (0) or one space.
        garage = bisect.bisect_right(_GARAGE_NEWER if year_built >= 1960 else _GARAGE_OLDER, roll)
    else:
        lot_sqft = 2_000 + round(150 * draw()) * 10
        pool = False  # a community pool is not a private one
        garage = (0, 1, 1, 2)[int(roll * 4)] if kind == 2 else 1 + (roll < 0.67)

    # Uniform in the ZIP's circle (slightly inside, so rounding never leaves it).
    r = profile.radius_deg * 0.98 * math.sqrt(draw())
    theta = 2 * math.pi * draw()
    lat = round(profile.center_lat + r * math.sin(theta), 6)
    lon = round(profile.center_lon + r * math.cos(theta), 6)
    return _Listing(
        _listing_key(zip_code, list_ord, index),
        _listing_id(zip_code, list_ord, index),
        _parcel_number(zip_code, list_ord, index),
        list_ord,
        list_date,
        events,
        price,
        charm,
        _SUBTYPES[kind],
        sqft,
        beds,
        baths,
        year_built,
        lot_sqft,
        pool,
        garage,
        _street_address(rng, lat, lon),
        lat,
        lon,
    )


# --- The payload on one day -------------------------------------------------------------


def _iso(day_ord: int) -> str:
    return dt.date.fromordinal(day_ord).isoformat()


def _timestamp(day_ord: int, second: int) -> str:
    hours, rest = divmod(second, 3600)
    return f"{_iso(day_ord)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


def _payload(profile: ZipProfile, listing: _Listing, age: int) -> dict[str, Any]:
    """The listing as the feed shows it ``age`` days after its list date (it must be in it)."""
    status = ACTIVE
    price = listing.price
    previous_price: int | None = None
    price_changed: tuple[int, int] | None = None
    modified = (0, 0)
    active_since: int | None = 0
    days_on_market = 0
    pending_offset: int | None = None
    close: tuple[int, int] | None = None
    for offset, second, kind, value in listing.events:
        if offset > age:
            break
        modified = (offset, second)
        if kind == _PRICE:
            new_price = _round_price(price * value, listing.charm)
            if new_price == price:  # a rounding tie must still move the price
                new_price += 1_000 if value > 1 else -1_000
            previous_price, price, price_changed = price, new_price, (offset, second)
        elif kind in (_PENDING, _WITHDRAW, _EXPIRE):
            # MLS days on market count Active days only; they stop at the contract.
            days_on_market += offset - (active_since or 0)
            active_since = None
            if kind == _PENDING:
                status, pending_offset = PENDING, offset
            else:
                status = WITHDRAWN if kind == _WITHDRAW else EXPIRED
        elif kind == _BACK:
            status, active_since, pending_offset = ACTIVE, offset, None
        elif kind == _CLOSE:
            status = CLOSED
            close = (offset, round(price * value / 100) * 100)
    if active_since is not None:
        days_on_market += age - active_since

    list_ord = listing.list_ord
    return {
        "ListingKey": listing.key,
        "ListingId": listing.listing_id,
        "ParcelNumber": listing.parcel_number,
        "StandardStatus": status,
        "PropertyType": "Residential",
        "PropertySubType": listing.subtype,
        "ListPrice": price,
        "OriginalListPrice": listing.price,
        "PreviousListPrice": previous_price,
        "PriceChangeTimestamp": (
            None
            if price_changed is None
            else _timestamp(list_ord + price_changed[0], price_changed[1])
        ),
        "ClosePrice": None if close is None else close[1],
        "CloseDate": None if close is None else _iso(list_ord + close[0]),
        "PurchaseContractDate": None if pending_offset is None else _iso(list_ord + pending_offset),
        "BedroomsTotal": listing.beds,
        "BathroomsTotalInteger": listing.baths,
        "LivingArea": listing.sqft,
        "LotSizeSquareFeet": listing.lot_sqft,
        "YearBuilt": listing.year_built,
        "PoolPrivateYN": listing.pool,
        "GarageSpaces": listing.garage,
        "UnparsedAddress": listing.address,
        "City": profile.city,
        "StateOrProvince": "AZ",
        "PostalCode": profile.zip_code,
        "Latitude": listing.lat,
        "Longitude": listing.lon,
        "ListingContractDate": listing.list_date,
        "OnMarketDate": listing.list_date,
        "DaysOnMarket": days_on_market,
        "ModificationTimestamp": _timestamp(list_ord + modified[0], modified[1]),
        "DemoData": True,
    }


def _in_feed(zip_code: str, day: dt.date, scale: float) -> Iterator[tuple[int, int, int]]:
    """Each listing in ``zip_code``'s feed at the end of ``day``: (its list date as an
    ordinal, its index among that day's new listings, its age in days)."""
    if not (scale >= 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a finite number >= 0, not {scale!r}")
    if isinstance(day, dt.datetime):
        day = day.date()
    day_ord = day.toordinal()
    per_day = zip_profile(zip_code).new_listings_per_day
    # Every birth day whose listings could still be in the feed, each seeded on its own.
    for age in range(LOOKBACK_DAYS + 1):
        list_ord = day_ord - age
        count = _new_listing_count(zip_code, list_ord, per_day, scale)
        if not count:
            continue
        prefix = f"{zip_code}:{dt.date.fromordinal(list_ord).isoformat()}:"
        for index in range(count):
            digest = hashlib.sha256(f"{prefix}{index}".encode()).digest()
            if _lifespan(digest, age) is not None:
                yield list_ord, index, age


def demo_listings(zip_code: str, day: dt.date, *, scale: float = 1.0) -> list[dict[str, Any]]:
    """RESO-shaped listing payloads in `zip_code` as a listing feed shows them at the end of `day`.

    Deterministic: the same arguments give equal lists, sorted by ``ListingKey``.
    ``scale`` multiplies the new listings per day (for load tests); the listings of a
    smaller scale are a subset of a larger one's. Raises ``ValueError`` for a ZIP that
    is not a 5-digit Arizona ZIP or a negative scale.
    """
    profile = zip_profile(zip_code)
    listings = [
        _payload(profile, _listing(zip_code, list_ord, index), age)
        for list_ord, index, age in _in_feed(zip_code, day, scale)
    ]
    listings.sort(key=lambda payload: payload["ListingKey"])
    return listings


def demo_listing_keys(zip_code: str, day: dt.date, *, scale: float = 1.0) -> list[str]:
    """The ``ListingKey`` of each of ``demo_listings(zip_code, day, scale=scale)``, in the
    same order, without drawing the listings (a day's ids before its payloads)."""
    zip_profile(zip_code)  # the same ValueError for a ZIP outside Arizona
    in_feed = _in_feed(zip_code, day, scale)
    return sorted(_listing_key(zip_code, list_ord, index) for list_ord, index, _ in in_feed)
