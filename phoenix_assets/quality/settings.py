"""Bounds on the data, from the environment: soft ones warn, hard ones quarantine.

Soft bounds (``QualitySettings``, ``PHOENIX_QUALITY_*``) are what is unusual: the
snapshot checks warn when too many values fall outside them, and the data is kept.
Hard bounds (``HardBounds``, ``PHOENIX_HARD_*``) are what cannot be true: a record
outside one is quarantined with its rule (``phoenix_assets.quality.bounds``) and never
reaches a snapshot. Each soft bound must lie inside its hard one.

Parsed when the code location loads: a value that is not a number, or out of range,
fails the load with a ``ConfigError`` naming the variable. Defaults were measured on
the demo source (15 days, the ten default ZIPs): it has no nulls in these fields, no
value near these bounds, no quarantined record, and a daily row count within 1.5% of
its trailing week, so the default pipeline passes every check with a wide margin,
while a real feed's occasional odd record does not raise a warning every day.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from phoenix_assets.settings import ConfigError, parse_number_setting

PREFIX = "PHOENIX_QUALITY_"
MAX_NULL_LIST_PRICE = f"{PREFIX}MAX_NULL_LIST_PRICE"
MAX_NULL_LIVING_AREA = f"{PREFIX}MAX_NULL_LIVING_AREA"
MAX_NULL_POSTAL_CODE = f"{PREFIX}MAX_NULL_POSTAL_CODE"
MAX_NULL_COORDINATES = f"{PREFIX}MAX_NULL_COORDINATES"
MIN_LIST_PRICE = f"{PREFIX}MIN_LIST_PRICE"
MAX_LIST_PRICE = f"{PREFIX}MAX_LIST_PRICE"
MIN_PRICE_PER_SQFT = f"{PREFIX}MIN_PRICE_PER_SQFT"
MAX_PRICE_PER_SQFT = f"{PREFIX}MAX_PRICE_PER_SQFT"
MIN_YEAR_BUILT = f"{PREFIX}MIN_YEAR_BUILT"
MAX_OUT_OF_RANGE = f"{PREFIX}MAX_OUT_OF_RANGE"
ROW_COUNT_TOLERANCE = f"{PREFIX}ROW_COUNT_TOLERANCE"
MAX_QUARANTINE = f"{PREFIX}MAX_QUARANTINE"
MAX_INVENTORY_DROP = f"{PREFIX}MAX_INVENTORY_DROP"
INVENTORY_CHANGE_TOLERANCE = f"{PREFIX}INVENTORY_CHANGE_TOLERANCE"

HARD_PREFIX = "PHOENIX_HARD_"
HARD_MAX_LIST_PRICE = f"{HARD_PREFIX}MAX_LIST_PRICE"
HARD_MAX_FUTURE_MODIFICATION_HOURS = f"{HARD_PREFIX}MAX_FUTURE_MODIFICATION_HOURS"
HARD_MAX_YEARS_AHEAD_BUILT = f"{HARD_PREFIX}MAX_YEARS_AHEAD_BUILT"

# Maricopa County's bounding box (degrees), a little padded; every ZIP the pipeline
# can track lies inside it.
MARICOPA_LATITUDE = (32.50, 34.05)
MARICOPA_LONGITUDE = (-113.34, -111.03)
# Homes are listed before they are finished: a year built up to this many years after
# the snapshot's own year is plausible (the hard bound, HardBounds.max_years_ahead_built,
# quarantines what lies further ahead; this soft bound stays within it by default).
YEAR_BUILT_AHEAD = 1
# The row-count check compares a day with the mean of this many days before it.
TRAILING_DAYS = 7
# Ceilings of the price bounds (each minimum must also stay below its maximum): the
# dearest homes ever offered anywhere asked a few hundred million dollars, and the
# record sales came to under $20,000 a square foot. A bound above these is a typo.
PRICE_CEILING = 500_000_000
PRICE_PER_SQFT_CEILING = 50_000


@dataclass(frozen=True)
class QualitySettings:
    """Every threshold of the snapshot checks. Rates are fractions (0.02 = 2%)."""

    max_null_list_price: float = 0.02  # among properties with a listing status
    max_null_living_area: float = 0.05
    max_null_postal_code: float = 0.0  # a property without a ZIP is in no summary
    max_null_coordinates: float = 0.05
    min_list_price: float = 10_000
    max_list_price: float = 50_000_000
    min_price_per_sqft: float = 25
    max_price_per_sqft: float = 3_000
    min_year_built: int = 1850
    max_out_of_range: float = 0.01  # share of a field's values allowed outside its bounds
    row_count_tolerance: float = 0.25  # allowed relative distance from the trailing mean
    max_quarantine: float = 0.02  # quarantined / (stored + quarantined)
    # On-market listings against the day before's snapshot: a larger drop blocks the day
    # (an incremental source's listings lost, e.g. built without the day before); a
    # change past the tolerance, either way, warns.
    max_inventory_drop: float = 0.40
    inventory_change_tolerance: float = 0.25

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> QualitySettings:
        env = os.environ if environ is None else environ
        defaults = cls()

        def rate(name: str, default: float) -> float:
            return float(
                parse_number_setting(env, name, default, integer=False, minimum=0, maximum=1)
            )

        def tolerance(name: str, default: float) -> float:  # a relative change, up to 10x
            return float(
                parse_number_setting(env, name, default, integer=False, minimum=0, maximum=10)
            )

        def positive(name: str, default: float, ceiling: float) -> float:
            return float(
                parse_number_setting(
                    env,
                    name,
                    default,
                    integer=False,
                    minimum=0,
                    maximum=ceiling,
                    exclusive_minimum=True,
                )
            )

        settings = cls(
            max_null_list_price=rate(MAX_NULL_LIST_PRICE, defaults.max_null_list_price),
            max_null_living_area=rate(MAX_NULL_LIVING_AREA, defaults.max_null_living_area),
            max_null_postal_code=rate(MAX_NULL_POSTAL_CODE, defaults.max_null_postal_code),
            max_null_coordinates=rate(MAX_NULL_COORDINATES, defaults.max_null_coordinates),
            min_list_price=positive(MIN_LIST_PRICE, defaults.min_list_price, PRICE_CEILING),
            max_list_price=positive(MAX_LIST_PRICE, defaults.max_list_price, PRICE_CEILING),
            min_price_per_sqft=positive(
                MIN_PRICE_PER_SQFT, defaults.min_price_per_sqft, PRICE_PER_SQFT_CEILING
            ),
            max_price_per_sqft=positive(
                MAX_PRICE_PER_SQFT, defaults.max_price_per_sqft, PRICE_PER_SQFT_CEILING
            ),
            min_year_built=int(
                parse_number_setting(
                    env,
                    MIN_YEAR_BUILT,
                    defaults.min_year_built,
                    integer=True,
                    minimum=1700,
                    maximum=2100,
                )
            ),
            max_out_of_range=rate(MAX_OUT_OF_RANGE, defaults.max_out_of_range),
            row_count_tolerance=tolerance(ROW_COUNT_TOLERANCE, defaults.row_count_tolerance),
            max_quarantine=rate(MAX_QUARANTINE, defaults.max_quarantine),
            max_inventory_drop=rate(MAX_INVENTORY_DROP, defaults.max_inventory_drop),
            inventory_change_tolerance=tolerance(
                INVENTORY_CHANGE_TOLERANCE, defaults.inventory_change_tolerance
            ),
        )
        for low, high, low_name, high_name in (
            (settings.min_list_price, settings.max_list_price, MIN_LIST_PRICE, MAX_LIST_PRICE),
            (
                settings.min_price_per_sqft,
                settings.max_price_per_sqft,
                MIN_PRICE_PER_SQFT,
                MAX_PRICE_PER_SQFT,
            ),
        ):
            if low >= high:
                raise ConfigError(f"{low_name}: {low:.15g} must be below {high_name} ({high:.15g})")
        return settings

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# The hard price ceiling's own range: below $1M it would quarantine ordinary Phoenix
# homes; above $1bn it is no bound at all.
HARD_PRICE_FLOOR = 1_000_000
HARD_PRICE_CEILING = 1_000_000_000


@dataclass(frozen=True)
class HardBounds:
    """What cannot be true of a record: outside these it is quarantined, not stored.

    A living area or lot size of zero or less, and a record without its key (an MLS
    ListingKey, an Assessor APN), are hard bounds too; they need no setting.
    """

    # Above any home sale ever recorded in Arizona (the record is below $40M): a price
    # above this is a typo or garbage, never a home.
    max_list_price: float = 100_000_000
    # A modification time later than the day's end by more than this is a broken clock.
    max_future_modification_hours: float = 24
    # A home is listed before it is finished, but not years before: a year built after
    # the day's year plus this is not a year it was built.
    max_years_ahead_built: int = 1

    @property
    def max_future_modification(self) -> dt.timedelta:
        return dt.timedelta(hours=self.max_future_modification_hours)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HardBounds:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            max_list_price=float(
                parse_number_setting(
                    env,
                    HARD_MAX_LIST_PRICE,
                    defaults.max_list_price,
                    integer=False,
                    minimum=HARD_PRICE_FLOOR,
                    maximum=HARD_PRICE_CEILING,
                )
            ),
            max_future_modification_hours=float(
                parse_number_setting(
                    env,
                    HARD_MAX_FUTURE_MODIFICATION_HOURS,
                    defaults.max_future_modification_hours,
                    integer=False,
                    minimum=1,
                    maximum=168,
                )
            ),
            max_years_ahead_built=int(
                parse_number_setting(
                    env,
                    HARD_MAX_YEARS_AHEAD_BUILT,
                    defaults.max_years_ahead_built,
                    integer=True,
                    minimum=0,
                    maximum=5,
                )
            ),
        )

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def load_bounds(environ: Mapping[str, str] | None = None) -> tuple[QualitySettings, HardBounds]:
    """The soft and the hard bounds, each parsed and checked against the other: a soft
    maximum at or above its hard one could never warn, so it is a mistake."""
    quality = QualitySettings.from_env(environ)
    hard = HardBounds.from_env(environ)
    if quality.max_list_price >= hard.max_list_price:
        raise ConfigError(
            f"{MAX_LIST_PRICE}: {quality.max_list_price:.15g} must be below "
            f"{HARD_MAX_LIST_PRICE} ({hard.max_list_price:.15g}), the price above which a "
            "record is quarantined"
        )
    return quality, hard
