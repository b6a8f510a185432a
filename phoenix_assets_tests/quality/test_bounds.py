"""Hard bounds: just inside is accepted, just outside is a violation under its rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from phoenix_assets.domain import rules
from phoenix_assets.domain.property import Property
from phoenix_assets.partitions import day_end
from phoenix_assets.quality.bounds import Violation, hard_bound_violation
from phoenix_assets.quality.settings import HardBounds

DAY = dt.date(2026, 11, 24)
BOUNDS = HardBounds()
LATEST_MODIFICATION = day_end(DAY) + dt.timedelta(hours=24)


def _listing(**changes: Any) -> Property:
    values: dict[str, Any] = {
        "property_id": "apn:123-45-678A",
        "snapshot_date": DAY,
        "parcel_number": "123-45-678A",
        "listing_key": "L-1",
        "postal_code": "85018",
        "list_price": 650_000,
        "living_area": 1_850,
        "lot_size_square_feet": 7_405,
        "year_built": 1961,
        "modification_timestamp": dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC),
        "sources": ["mls"],
        "first_seen": DAY,
        "last_seen": DAY,
    }
    values.update(changes)
    return Property.model_validate(values)


def _parcel(**changes: Any) -> Property:
    values: dict[str, Any] = {
        "property_id": "apn:123-45-678A",
        "snapshot_date": DAY,
        "parcel_number": "123-45-678A",
        "postal_code": "85018",
        "sources": ["maricopa"],
        "first_seen": DAY,
        "last_seen": DAY,
    }
    values.update(changes)
    return Property.model_validate(values)


def _rule(record: Property, bounds: HardBounds = BOUNDS) -> str | None:
    violation = hard_bound_violation(record, DAY, bounds)
    return None if violation is None else violation.rule


def test_an_ordinary_listing_and_an_ordinary_parcel_pass() -> None:
    assert hard_bound_violation(_listing(), DAY, BOUNDS) is None
    assert hard_bound_violation(_parcel(), DAY, BOUNDS) is None


@pytest.mark.parametrize(
    ("inside", "outside", "rule"),
    [
        (
            {"list_price": 100_000_000},
            {"list_price": 100_000_001},
            rules.LIST_PRICE_ABOVE_HARD_MAXIMUM,
        ),
        ({"list_price": 1e8}, {"list_price": 1e308}, rules.LIST_PRICE_ABOVE_HARD_MAXIMUM),
        (
            {"original_list_price": 100_000_000},
            {"original_list_price": 100_000_000.01},
            rules.LIST_PRICE_ABOVE_HARD_MAXIMUM,
        ),
        (
            {"previous_list_price": 100_000_000},
            {"previous_list_price": 2e8},
            rules.LIST_PRICE_ABOVE_HARD_MAXIMUM,
        ),
        (
            {"close_price": 100_000_000},
            {"close_price": 100_000_001},
            rules.CLOSE_PRICE_ABOVE_HARD_MAXIMUM,
        ),
        (
            {"year_built": DAY.year + 1},
            {"year_built": DAY.year + 2},
            rules.YEAR_BUILT_TOO_FAR_AHEAD,
        ),
        ({"year_built": 2027}, {"year_built": 2045}, rules.YEAR_BUILT_TOO_FAR_AHEAD),
        (
            {"modification_timestamp": LATEST_MODIFICATION},
            {"modification_timestamp": LATEST_MODIFICATION + dt.timedelta(microseconds=1)},
            rules.MODIFIED_IN_THE_FUTURE,
        ),
        (
            {"modification_timestamp": dt.datetime(2026, 11, 25, 12)},  # naive: UTC
            {"modification_timestamp": dt.datetime(2999, 1, 1, tzinfo=dt.UTC)},
            rules.MODIFIED_IN_THE_FUTURE,
        ),
        ({"lot_size_square_feet": 0.5}, {"lot_size_square_feet": 0}, rules.AREA_NOT_POSITIVE),
        ({"listing_key": "L"}, {"listing_key": None}, rules.MISSING_RECORD_KEY),
        ({"listing_key": "L"}, {"listing_key": "   "}, rules.MISSING_RECORD_KEY),
    ],
)
def test_each_hard_bound_just_inside_and_just_outside(
    inside: dict[str, Any], outside: dict[str, Any], rule: str
) -> None:
    assert _rule(_listing(**inside)) is None
    violation = hard_bound_violation(_listing(**outside), DAY, BOUNDS)
    assert violation is not None and violation.rule == rule
    assert violation.reason == rules.REASONS[rule]  # the product's sentence
    field = next(iter(outside))
    assert violation.detail.startswith(field), violation.detail


def test_a_living_area_of_zero_is_a_violation_even_if_a_model_let_it_through() -> None:
    record = _listing().model_copy(update={"living_area": 0.0})  # no validation on copy
    assert _rule(record) == rules.AREA_NOT_POSITIVE


def test_an_assessor_record_is_keyed_by_its_apn_not_a_listing_key() -> None:
    assert _rule(_parcel(listing_key=None)) is None
    violation = hard_bound_violation(_parcel(parcel_number=None), DAY, BOUNDS)
    assert violation == Violation(rules.MISSING_RECORD_KEY, "parcel_number is missing")


def test_the_bounds_follow_their_settings() -> None:
    wide = HardBounds(
        max_list_price=300_000_000, max_future_modification_hours=48, max_years_ahead_built=3
    )
    record = _listing(
        list_price=250_000_000,
        year_built=DAY.year + 3,
        modification_timestamp=day_end(DAY) + dt.timedelta(hours=47),
    )
    assert _rule(record) == rules.LIST_PRICE_ABOVE_HARD_MAXIMUM
    assert _rule(record, wide) is None
    assert _rule(_listing(year_built=DAY.year), HardBounds(max_years_ahead_built=0)) is None
    assert (
        _rule(_listing(year_built=DAY.year + 1), HardBounds(max_years_ahead_built=0))
        == rules.YEAR_BUILT_TOO_FAR_AHEAD
    )


def test_the_first_bound_broken_is_reported_and_the_detail_names_no_source_text() -> None:
    record = _listing(listing_key=None, list_price=1e308, year_built=2059)
    assert _rule(record) == rules.MISSING_RECORD_KEY
    violation = hard_bound_violation(_listing(list_price=1e308), DAY, BOUNDS)
    assert violation is not None
    assert violation.detail == "list_price 1e+308 > 100000000"
