"""Hard bounds: what cannot be true of an adapted record (it is quarantined, not stored).

``hard_bound_violation`` is pure: the record, the day it describes, the bounds. It
returns the first bound broken, as a rule (``phoenix_assets.domain.rules``) and a detail
naming the field and the value, or None. The soft bounds (``QualitySettings``) are the
snapshot checks' business, not this module's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from phoenix_assets.domain import rules
from phoenix_assets.domain.property import Property
from phoenix_assets.partitions import day_end
from phoenix_assets.quality.settings import HardBounds

ASSESSOR_SOURCE = "maricopa"
LIST_PRICE_FIELDS = ("list_price", "original_list_price", "previous_list_price")
AREA_FIELDS = ("living_area", "lot_size_square_feet")


@dataclass(frozen=True)
class Violation:
    """A hard bound a record breaks: the rule, and the field and value that break it."""

    rule: str
    detail: str

    @property
    def reason(self) -> str:
        return rules.reason_for(self.rule)


def _key_field(record: Property) -> str:
    """The field that keys a record in its source: the Assessor's APN, else the ListingKey."""
    return "parcel_number" if ASSESSOR_SOURCE in record.sources else "listing_key"


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def hard_bound_violation(record: Property, day: dt.date, bounds: HardBounds) -> Violation | None:
    """The first hard bound ``record`` (adapted for ``day``) breaks, or None."""
    key_field = _key_field(record)
    key = getattr(record, key_field)
    if not isinstance(key, str) or not key.strip():
        return Violation(rules.MISSING_RECORD_KEY, f"{key_field} is missing")
    for name in LIST_PRICE_FIELDS:
        price = getattr(record, name)
        if price is not None and price > bounds.max_list_price:
            return Violation(
                rules.LIST_PRICE_ABOVE_HARD_MAXIMUM,
                f"{name} {price:.15g} > {bounds.max_list_price:.15g}",
            )
    if record.close_price is not None and record.close_price > bounds.max_list_price:
        return Violation(
            rules.CLOSE_PRICE_ABOVE_HARD_MAXIMUM,
            f"close_price {record.close_price:.15g} > {bounds.max_list_price:.15g}",
        )
    for name in AREA_FIELDS:
        area = getattr(record, name)
        if area is not None and area <= 0:
            return Violation(rules.AREA_NOT_POSITIVE, f"{name} {area:.15g} <= 0")
    latest_year = day.year + bounds.max_years_ahead_built
    if record.year_built is not None and record.year_built > latest_year:
        return Violation(
            rules.YEAR_BUILT_TOO_FAR_AHEAD, f"year_built {record.year_built} > {latest_year}"
        )
    modified = record.modification_timestamp
    latest = day_end(day) + bounds.max_future_modification
    if modified is not None and _utc(modified) > latest:
        return Violation(
            rules.MODIFIED_IN_THE_FUTURE,
            f"modification_timestamp {_utc(modified).isoformat()} > {latest.isoformat()}",
        )
    return None
