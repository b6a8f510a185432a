"""The demo source: deterministic, realistic, and consistent from one day to the next.

Histories are computed once per module (60 days for two ZIPs, one week for all ten)
and shared by the tests, which keeps the file fast.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from phoenix_assets.settings import DEFAULT_ZIP_CODES
from phoenix_assets.sources.demo import (
    DEMO_SOURCE,
    ZipProfile,
    demo_listing_keys,
    demo_listings,
    zip_profile,
)

Payload = dict[str, Any]
History = list[tuple[dt.date, dict[str, Payload]]]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HISTORY_START = dt.date(2026, 3, 2)  # a Monday in the spring selling season
HISTORY_DAYS = 60
HISTORY_ZIPS = ("85018", "85033")  # Arcadia and Maryvale: the two ends of the price range
WEEK_START = dt.date(2026, 8, 10)  # a slow summer week, the hardest case for "news"
FALLBACK_ZIP = "85254"  # a valid Arizona ZIP without a hand-written profile

RESO_FIELDS = {
    "ListingKey",
    "ListingId",
    "ParcelNumber",
    "StandardStatus",
    "PropertyType",
    "PropertySubType",
    "ListPrice",
    "OriginalListPrice",
    "PreviousListPrice",
    "PriceChangeTimestamp",
    "ClosePrice",
    "CloseDate",
    "PurchaseContractDate",
    "BedroomsTotal",
    "BathroomsTotalInteger",
    "LivingArea",
    "LotSizeSquareFeet",
    "YearBuilt",
    "PoolPrivateYN",
    "GarageSpaces",
    "UnparsedAddress",
    "City",
    "StateOrProvince",
    "PostalCode",
    "Latitude",
    "Longitude",
    "ListingContractDate",
    "OnMarketDate",
    "DaysOnMarket",
    "ModificationTimestamp",
    "DemoData",
}
# What a listing is: none of it may change while the listing lives.
FIXED_FIELDS = (
    "ListingKey",
    "ListingId",
    "ParcelNumber",
    "PropertyType",
    "PropertySubType",
    "OriginalListPrice",
    "BedroomsTotal",
    "BathroomsTotalInteger",
    "LivingArea",
    "LotSizeSquareFeet",
    "YearBuilt",
    "PoolPrivateYN",
    "GarageSpaces",
    "UnparsedAddress",
    "City",
    "StateOrProvince",
    "PostalCode",
    "Latitude",
    "Longitude",
    "ListingContractDate",
    "OnMarketDate",
)
# Status changes a listing can make overnight (staying put is always allowed).
ALLOWED_TRANSITIONS = {
    ("Active", "Pending"),
    ("Active", "Withdrawn"),
    ("Active", "Expired"),
    ("Pending", "Closed"),
    ("Pending", "Active"),  # the deal fell through: back on market
}
STATUSES = {"Active", "Pending", "Closed", "Withdrawn", "Expired"}
MARICOPA_BOX = {"lat": (32.5, 34.1), "lon": (-113.4, -111.0)}
APN_RE = r"^\d{3}-\d{2}-\d{3}[A-Z]?$"


def _days(start: dt.date, count: int) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range(count)]


def _history(zip_code: str, start: dt.date, count: int) -> History:
    return [
        (day, {p["ListingKey"]: p for p in demo_listings(zip_code, day)})
        for day in _days(start, count)
    ]


@pytest.fixture(scope="module")
def histories() -> dict[str, History]:
    return {z: _history(z, HISTORY_START, HISTORY_DAYS) for z in HISTORY_ZIPS}


@pytest.fixture(scope="module")
def week() -> dict[dt.date, list[Payload]]:
    """Every default ZIP's feed on each day of one week."""
    return {
        day: [p for z in DEFAULT_ZIP_CODES for p in demo_listings(z, day)]
        for day in _days(WEEK_START, 7)
    }


def _date(timestamp: str | None) -> str | None:
    return None if timestamp is None else timestamp[:10]


# --- Determinism --------------------------------------------------------------------------


def test_same_arguments_give_equal_sorted_lists() -> None:
    day = dt.date(2026, 5, 14)
    first = demo_listings("85016", day)
    second = demo_listings("85016", day)
    assert first == second
    assert first, "a Phoenix ZIP always has listings"
    keys = [p["ListingKey"] for p in first]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert DEMO_SOURCE == "demo"


@pytest.mark.parametrize(
    ("zip_code", "day", "scale"),
    [
        ("85016", dt.date(2026, 5, 14), 1.0),
        ("85018", dt.date(2026, 11, 17), 1.0),
        ("85033", dt.date(2026, 1, 1), 3.5),
        ("85251", dt.date(2026, 11, 30), 0.0),
    ],
)
def test_the_keys_alone_are_the_feeds_keys_in_order(
    zip_code: str, day: dt.date, scale: float
) -> None:
    # A day's ids are announced before its payloads are drawn: they must be the same.
    keys = [p["ListingKey"] for p in demo_listings(zip_code, day, scale=scale)]
    assert demo_listing_keys(zip_code, day, scale=scale) == keys
    assert keys or scale == 0


def test_the_keys_refuse_what_the_feed_refuses() -> None:
    with pytest.raises(ValueError):
        demo_listing_keys("90210", WEEK_START)
    with pytest.raises(ValueError):
        demo_listing_keys("85016", WEEK_START, scale=-1)


# argv: the fallback ZIP whose profile to print, then the ZIPs whose feeds to hash.
_CHILD_SCRIPT = """
import dataclasses, datetime as dt, hashlib, json, sys
from phoenix_assets.sources.demo import demo_listings, zip_profile
out = {
    z: hashlib.sha256(
        json.dumps(demo_listings(z, dt.date(2026, 5, 14)), sort_keys=True).encode()
    ).hexdigest()
    for z in sys.argv[2:]
}
out["profile"] = dataclasses.asdict(zip_profile(sys.argv[1]))
print(json.dumps(out))
"""


def test_same_output_in_fresh_processes_with_other_hash_seeds() -> None:
    # Python salts str hashes per process; a generator seeded with hash() would differ here.
    zips = ["85018", "85041", FALLBACK_ZIP]
    expected = {
        z: hashlib.sha256(
            json.dumps(demo_listings(z, dt.date(2026, 5, 14)), sort_keys=True).encode()
        ).hexdigest()
        for z in zips
    }
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(PROJECT_ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", _CHILD_SCRIPT, FALLBACK_ZIP, *zips],
            capture_output=True,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
            timeout=60,
            check=True,
        )
        child = json.loads(result.stdout)
        assert {z: child[z] for z in zips} == expected
        assert ZipProfile(**child["profile"]) == zip_profile(FALLBACK_ZIP)


def test_different_zips_and_days_differ() -> None:
    day = dt.date(2026, 5, 14)
    arcadia, maryvale = demo_listings("85018", day), demo_listings("85033", day)
    assert {p["ListingKey"] for p in arcadia}.isdisjoint(p["ListingKey"] for p in maryvale)
    assert {p["ParcelNumber"] for p in arcadia}.isdisjoint(p["ParcelNumber"] for p in maryvale)
    next_day = demo_listings("85018", day + dt.timedelta(days=1))
    assert next_day != arcadia
    # Most of the feed carries over to the next day: the listings live across days.
    carried = {p["ListingKey"] for p in arcadia} & {p["ListingKey"] for p in next_day}
    assert len(carried) > 0.9 * len(arcadia)


def test_scale_multiplies_new_listings_and_keeps_the_smaller_feed() -> None:
    day = dt.date(2026, 5, 14)
    base = demo_listings("85003", day)
    bigger = demo_listings("85003", day, scale=3.0)
    # The same seeds: the smaller feed's listings reappear unchanged in the bigger one.
    bigger_by_key = {p["ListingKey"]: p for p in bigger}
    assert all(bigger_by_key.get(p["ListingKey"]) == p for p in base)
    assert 2.4 < len(bigger) / len(base) < 3.6
    assert demo_listings("85003", day, scale=0) == []
    with pytest.raises(ValueError):
        demo_listings("85003", day, scale=-1)


# --- Lifecycle across days ------------------------------------------------------------------


@pytest.mark.parametrize("zip_code", HISTORY_ZIPS)
def test_listings_follow_their_lifecycle_day_to_day(
    histories: dict[str, History], zip_code: str
) -> None:
    history = histories[zip_code]
    for (day, today), (next_day, tomorrow) in itertools.pairwise(history):
        iso, next_iso = day.isoformat(), next_day.isoformat()
        for key, now in today.items():
            assert now["ModificationTimestamp"][:10] <= iso
            later = tomorrow.get(key)
            if later is None:
                # Leaving the feed: a day after withdrawal/expiry, a week after closing.
                if now["StandardStatus"] == "Closed":
                    close = dt.date.fromisoformat(now["CloseDate"])
                    assert day == close + dt.timedelta(days=7), key
                else:
                    assert now["StandardStatus"] in ("Withdrawn", "Expired"), key
                continue
            assert now["StandardStatus"] not in ("Withdrawn", "Expired"), key
            for field in FIXED_FIELDS:
                assert later[field] == now[field], (key, field)
            before, after = now["StandardStatus"], later["StandardStatus"]
            assert before == after or (before, after) in ALLOWED_TRANSITIONS, (key, before, after)

            price_changed_today = _date(later["PriceChangeTimestamp"]) == next_iso
            if later["ListPrice"] != now["ListPrice"]:
                assert price_changed_today, key
                assert later["PreviousListPrice"] == now["ListPrice"], key
                assert after == "Active", "prices change only while on the market"
            else:
                assert not price_changed_today, key
                assert later["PriceChangeTimestamp"] == now["PriceChangeTimestamp"], key
                assert later["PreviousListPrice"] == now["PreviousListPrice"], key

            if before == "Closed":
                assert later["ClosePrice"] == now["ClosePrice"], key
                assert later["CloseDate"] == now["CloseDate"], key
            if after == "Closed" and before == "Pending":
                assert later["CloseDate"] == next_iso, key
            if before == "Active" and after == "Pending":
                assert later["PurchaseContractDate"] == next_iso, key
            if after == "Active":
                assert later["DaysOnMarket"] == now["DaysOnMarket"] + (before == "Active")
            elif before != "Active":
                assert later["DaysOnMarket"] == now["DaysOnMarket"], key

            changed = before != after or price_changed_today
            if changed:
                assert _date(later["ModificationTimestamp"]) == next_iso, key
            else:
                assert later["ModificationTimestamp"] == now["ModificationTimestamp"], key

        for key, later in tomorrow.items():
            if key not in today:  # a listing enters the feed only on its list date
                assert later["ListingContractDate"] == next_iso, key
                assert later["StandardStatus"] == "Active", key
                assert later["DaysOnMarket"] == 0, key
                assert later["ListPrice"] == later["OriginalListPrice"], key
                assert _date(later["ModificationTimestamp"]) == next_iso, key


@pytest.mark.parametrize("zip_code", HISTORY_ZIPS)
def test_status_fields_agree_with_status(histories: dict[str, History], zip_code: str) -> None:
    for day, feed in histories[zip_code]:
        iso = day.isoformat()
        for key, p in feed.items():
            status = p["StandardStatus"]
            assert status in STATUSES, key
            assert p["ListingContractDate"] <= iso, key
            assert (p["ClosePrice"] is None) == (status != "Closed"), key
            assert (p["CloseDate"] is None) == (status != "Closed"), key
            under_contract = status in ("Pending", "Closed")
            assert (p["PurchaseContractDate"] is None) == (not under_contract), key
            assert (p["PreviousListPrice"] is None) == (p["PriceChangeTimestamp"] is None), key
            if p["PreviousListPrice"] is not None:
                assert p["ListPrice"] != p["PreviousListPrice"], key
                assert p["PriceChangeTimestamp"][:10] <= iso, key
            if status == "Closed":
                # Closing 25-45 days after the contract, at 95-101 % of the last list price.
                contract = dt.date.fromisoformat(p["PurchaseContractDate"])
                close = dt.date.fromisoformat(p["CloseDate"])
                assert 25 <= (close - contract).days <= 45, key
                assert 0 <= (day - close).days <= 7, key
                assert 0.949 <= p["ClosePrice"] / p["ListPrice"] <= 1.011, key
            if under_contract:
                listed = dt.date.fromisoformat(p["ListingContractDate"])
                contract = dt.date.fromisoformat(p["PurchaseContractDate"])
                assert p["DaysOnMarket"] <= (contract - listed).days, key
            elif status == "Active":
                listed = dt.date.fromisoformat(p["ListingContractDate"])
                assert 0 <= p["DaysOnMarket"] <= (day - listed).days, key


def test_market_moves_like_phoenix(histories: dict[str, History]) -> None:
    """Over two months: new listings, cuts, contracts and exits at plausible rates."""
    cuts: list[float] = []
    days_to_contract: list[int] = []
    exits: Counter[str] = Counter()
    back_on_market = 0
    for zip_code, history in histories.items():
        per_day = zip_profile(zip_code).new_listings_per_day
        new_per_day: list[int] = []
        for (_, today), (next_day, tomorrow) in itertools.pairwise(history):
            next_iso = next_day.isoformat()
            new = sum(p["ListingContractDate"] == next_iso for p in tomorrow.values())
            new_per_day.append(new)
            for key, later in tomorrow.items():
                now = today.get(key)
                if now is None:
                    continue
                if later["ListPrice"] < now["ListPrice"]:
                    cuts.append(1 - later["ListPrice"] / now["ListPrice"])
                if (now["StandardStatus"], later["StandardStatus"]) == ("Active", "Pending"):
                    days_to_contract.append(later["DaysOnMarket"])
                if (now["StandardStatus"], later["StandardStatus"]) == ("Pending", "Active"):
                    back_on_market += 1
                if later["StandardStatus"] != now["StandardStatus"]:
                    exits[later["StandardStatus"]] += later["StandardStatus"] != "Active"
        mean_new = statistics.mean(new_per_day)
        assert 0.6 * per_day < mean_new < 1.8 * per_day, (zip_code, mean_new)
    assert min(cuts) >= 0.01 and max(cuts) <= 0.08, (min(cuts), max(cuts))
    assert 0.025 < statistics.median(cuts) < 0.05
    assert 30 <= statistics.median(days_to_contract) <= 65
    assert max(days_to_contract) > 100, "a long tail of stale listings"
    # Most listings sell; some are withdrawn or expire; a few contracts fall through.
    assert exits["Pending"] > 2 * (exits["Withdrawn"] + exits["Expired"]) > 0
    assert 0 < back_on_market < 0.15 * exits["Pending"]


def test_every_day_has_news_across_the_default_zips(week: dict[dt.date, list[Payload]]) -> None:
    # Daily summaries must move: something is listed, cut and closed every single day.
    for day, feed in week.items():
        iso = day.isoformat()
        assert any(p["ListingContractDate"] == iso for p in feed), f"no new listing on {iso}"
        assert any(
            _date(p["PriceChangeTimestamp"]) == iso and p["ListPrice"] < p["PreviousListPrice"]
            for p in feed
        ), f"no price cut on {iso}"
        assert any(p["CloseDate"] == iso for p in feed), f"no closing on {iso}"
        assert any(p["PurchaseContractDate"] == iso for p in feed), f"no new contract on {iso}"


def test_fewer_launches_on_sundays(histories: dict[str, History]) -> None:
    # Agents launch late in the week and hardly ever on Sunday.
    launches: dict[int, list[int]] = {}
    for history in histories.values():
        for day, feed in history:
            new = sum(p["ListingContractDate"] == day.isoformat() for p in feed.values())
            launches.setdefault(day.weekday(), []).append(new)
    weekdays = statistics.mean(n for d in range(5) for n in launches[d])
    assert statistics.mean(launches[6]) < 0.7 * weekdays


# --- Values -------------------------------------------------------------------------------------


def _inside_circle(payload: Payload, profile: ZipProfile) -> bool:
    distance = math.hypot(
        payload["Latitude"] - profile.center_lat, payload["Longitude"] - profile.center_lon
    )
    return distance <= profile.radius_deg


def test_coordinates_lie_in_the_zip_circle_and_maricopa(
    week: dict[dt.date, list[Payload]],
) -> None:
    feed = week[WEEK_START] + demo_listings(FALLBACK_ZIP, WEEK_START)
    for p in feed:
        profile = zip_profile(p["PostalCode"])
        assert _inside_circle(p, profile), p["ListingKey"]
        assert MARICOPA_BOX["lat"][0] < p["Latitude"] < MARICOPA_BOX["lat"][1]
        assert MARICOPA_BOX["lon"][0] < p["Longitude"] < MARICOPA_BOX["lon"][1]
        assert round(p["Latitude"], 6) == p["Latitude"]
        assert round(p["Longitude"], 6) == p["Longitude"]


def test_values_are_in_plausible_ranges(week: dict[dt.date, list[Payload]]) -> None:
    feed = week[WEEK_START]
    for p in feed:
        key = p["ListingKey"]
        assert set(p) == RESO_FIELDS, key
        assert p["DemoData"] is True
        assert p["PropertyType"] == "Residential"
        assert p["PropertySubType"] in ("SingleFamilyResidence", "Townhouse", "Condominium")
        assert (p["City"], p["StateOrProvince"]) == ("Phoenix", "AZ")
        assert key.startswith(f"DEMO-{p['PostalCode']}-")
        assert p["ListingId"].isdigit() and len(p["ListingId"]) == 7, key
        assert re.match(APN_RE, p["ParcelNumber"]), p["ParcelNumber"]
        assert 30_000 <= p["ListPrice"] <= 6_000_000, key
        assert p["ListPrice"] % 100 == 0 and p["OriginalListPrice"] % 100 == 0, key
        assert 100 <= p["ListPrice"] / p["LivingArea"] <= 800, key
        assert 2 <= p["BedroomsTotal"] <= 5, key
        assert 1 <= p["BathroomsTotalInteger"] <= 4, key
        assert 400 <= p["LivingArea"] <= 8_000, key
        assert 2_000 <= p["LotSizeSquareFeet"] <= 20_000, key
        assert 1920 <= p["YearBuilt"] <= 2025, key
        assert 0 <= p["GarageSpaces"] <= 3, key
        assert isinstance(p["PoolPrivateYN"], bool)
        assert re.match(r"^\d+ [NSEW] \S.*\S$", p["UnparsedAddress"]), key
        assert dt.datetime.strptime(p["ModificationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
        assert dt.date.fromisoformat(p["ListingContractDate"]) <= WEEK_START
    # Unique identities across all ten ZIPs.
    for field in ("ListingKey", "ListingId", "ParcelNumber"):
        values = [p[field] for p in feed]
        assert len(set(values)) == len(values), field
    houses = [p for p in feed if p["PropertySubType"] == "SingleFamilyResidence"]
    assert 0.7 < len(houses) / len(feed) < 0.9
    assert 0.25 < sum(p["PoolPrivateYN"] for p in houses) / len(houses) < 0.45
    condos = [p for p in feed if p["PropertySubType"] != "SingleFamilyResidence"]
    assert statistics.median(p["LotSizeSquareFeet"] for p in condos) < statistics.median(
        p["LotSizeSquareFeet"] for p in houses
    )
    # Bigger homes have more bedrooms.
    by_beds = {
        b: statistics.median(p["LivingArea"] for p in feed if p["BedroomsTotal"] == b)
        for b in (2, 3, 4)
    }
    assert by_beds[2] < by_beds[3] < by_beds[4]
    assert any(p["ParcelNumber"][-1].isalpha() for p in feed), "some APNs carry a split letter"


def test_payloads_are_plain_json(week: dict[dt.date, list[Payload]]) -> None:
    feed = week[WEEK_START]
    # A round trip through JSON gives back equal payloads only if every value is native.
    assert json.loads(json.dumps(feed, allow_nan=False)) == feed
    for p in feed:
        for field, value in p.items():
            assert value is None or type(value) in (str, int, float, bool), field


def test_arcadia_lists_well_above_maryvale(histories: dict[str, History]) -> None:
    def month_median(zip_code: str) -> float:
        return statistics.median(
            p["ListPrice"]
            for _, feed in histories[zip_code][:30]
            for p in feed.values()
            if p["StandardStatus"] == "Active"
        )

    arcadia, maryvale = month_median("85018"), month_median("85033")
    assert arcadia > 2.5 * maryvale, (arcadia, maryvale)
    assert 850_000 < arcadia < 1_400_000
    assert 250_000 < maryvale < 420_000


# --- Profiles ------------------------------------------------------------------------------------


def test_every_default_zip_has_a_hand_written_profile() -> None:
    for zip_code in DEFAULT_ZIP_CODES:
        profile = zip_profile(zip_code)
        assert profile.zip_code == zip_code
        assert profile.city == "Phoenix"
        assert not profile.neighborhood.startswith("Phoenix metro"), zip_code
        assert 0.01 <= profile.radius_deg <= 0.03
        assert 1.5 <= profile.new_listings_per_day <= 5
    assert zip_profile("85018").median_price > 3 * zip_profile("85033").median_price


def test_unknown_valid_zip_gets_a_stable_fallback_profile() -> None:
    profile = zip_profile(FALLBACK_ZIP)
    assert profile == zip_profile(FALLBACK_ZIP)
    assert profile.zip_code == FALLBACK_ZIP and profile.city == "Phoenix"
    assert 33.2 <= profile.center_lat <= 33.8 and -112.5 <= profile.center_lon <= -111.6
    assert 350_000 <= profile.median_price <= 650_000
    assert 0.01 <= profile.radius_deg <= 0.03
    other = zip_profile("86001")
    assert (other.center_lat, other.center_lon) != (profile.center_lat, profile.center_lon)
    listings = demo_listings(FALLBACK_ZIP, WEEK_START)
    assert listings and all(p["PostalCode"] == FALLBACK_ZIP for p in listings)


@pytest.mark.parametrize("bad", ["1234", "850180", "8501a", "90210", "85000", "86557", ""])
def test_invalid_zip_codes_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        zip_profile(bad)
    with pytest.raises(ValueError):
        demo_listings(bad, WEEK_START)
