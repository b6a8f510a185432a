"""The ``Property`` schema: one residential property as the pipeline knows it on one day.

Field names follow the RESO Data Dictionary's meaning in snake_case where RESO has
the field (``list_price`` = ``ListPrice``, ``living_area`` = ``LivingArea``); the
Assessor's values use the Assessor's own terms (full cash value, limited value).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_serializer,
    field_validator,
)

from phoenix_assets.domain import provenance as stored_provenance


class StandardStatus(enum.StrEnum):
    """RESO ``StandardStatus`` values."""

    ACTIVE = "Active"
    ACTIVE_UNDER_CONTRACT = "ActiveUnderContract"
    COMING_SOON = "ComingSoon"
    PENDING = "Pending"
    HOLD = "Hold"
    WITHDRAWN = "Withdrawn"
    EXPIRED = "Expired"
    CANCELED = "Canceled"
    CLOSED = "Closed"
    DELETE = "Delete"
    INCOMPLETE = "Incomplete"


# Statuses that count as inventory: the home can still be bought.
FOR_SALE_STATUSES = frozenset({StandardStatus.ACTIVE})
UNDER_CONTRACT_STATUSES = frozenset({StandardStatus.PENDING, StandardStatus.ACTIVE_UNDER_CONTRACT})
# A listing's standing inventory: for sale, under contract or announced, not yet ended.
ON_MARKET_STATUSES = (
    FOR_SALE_STATUSES | UNDER_CONTRACT_STATUSES | {StandardStatus.COMING_SOON, StandardStatus.HOLD}
)

_APN_STRIP = re.compile(r"[\s.\-]")
_APN_SHAPE = re.compile(r"^(\d{3})(\d{2})(\d{3})([A-Z0-9]?)$")


def normalize_apn(raw: str | None) -> str | None:
    """Normalize a Maricopa APN (``12345678A``, ``123.45.678 A``...) to ``123-45-678A``.

    An APN that does not have the county's 8-digit shape is returned upper-cased with
    separators removed, so it still joins consistently.
    """
    if raw is None:
        return None
    compact = _APN_STRIP.sub("", str(raw)).upper()
    if not compact:
        return None
    match = _APN_SHAPE.match(compact)
    if not match:
        return compact
    book, mapno, parcel, split = match.groups()
    return f"{book}-{mapno}-{parcel}{split}"


_ADDRESS_ABBREVIATIONS = {
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "STREET": "ST",
    "AVENUE": "AVE",
    "ROAD": "RD",
    "DRIVE": "DR",
    "LANE": "LN",
    "PLACE": "PL",
    "COURT": "CT",
    "BOULEVARD": "BLVD",
    "PARKWAY": "PKWY",
    "TRAIL": "TRL",
    "CIRCLE": "CIR",
    "WAY": "WAY",
}


def normalize_address(street: object, postal_code: object) -> str | None:
    """A join key for addresses: upper case, abbreviations unified, punctuation dropped."""
    if not isinstance(street, str) or not isinstance(postal_code, str) or not postal_code:
        return None
    words = re.sub(r"[^A-Z0-9 ]", " ", street.upper()).split()
    if not words:
        return None
    return " ".join(_ADDRESS_ABBREVIATIONS.get(w, w) for w in words) + f" {postal_code[:5]}"


class Property(BaseModel):
    """One residential property on one day, merged across sources."""

    # No infinities or NaN in any number: a price of `inf` is garbage, not a price.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    # Identity
    property_id: str = Field(description="Stable id: 'apn:<APN>' or 'addr:<normalized address>'.")
    snapshot_date: dt.date = Field(description="The day this snapshot describes (the partition).")
    parcel_number: str | None = Field(None, description="Maricopa County APN (RESO ParcelNumber).")
    listing_key: str | None = Field(None, description="RESO ListingKey of the current listing.")
    listing_id: str | None = Field(None, description="The MLS number (RESO ListingId).")

    # Address and location
    unparsed_address: str | None = None
    city: str | None = None
    state_or_province: str = "AZ"
    postal_code: str = Field(pattern=r"^\d{5}$")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)

    # Physical facts
    property_type: str | None = None
    property_sub_type: str | None = None
    bedrooms_total: int | None = Field(None, ge=0, le=50)
    bathrooms_total_integer: int | None = Field(None, ge=0, le=50)
    living_area: float | None = Field(None, gt=0, le=100_000)
    lot_size_square_feet: float | None = Field(None, ge=0)
    year_built: int | None = Field(None, ge=1800, le=2100)
    pool_private_yn: bool | None = None
    garage_spaces: float | None = Field(None, ge=0, le=50)

    # Listing
    standard_status: StandardStatus | None = None
    list_price: float | None = Field(None, gt=0)
    original_list_price: float | None = Field(None, gt=0)
    previous_list_price: float | None = Field(None, gt=0)
    price_change_timestamp: dt.datetime | None = None
    close_price: float | None = Field(None, gt=0)
    listing_contract_date: dt.date | None = None
    purchase_contract_date: dt.date | None = None
    close_date: dt.date | None = None
    days_on_market: int | None = Field(None, ge=0)
    modification_timestamp: dt.datetime | None = None

    # Assessor values
    full_cash_value: float | None = Field(None, ge=0)
    limited_property_value: float | None = Field(None, ge=0)
    tax_year: int | None = Field(None, ge=1900, le=2100)

    # Last recorded sale
    last_sale_price: float | None = Field(None, ge=0)
    last_sale_date: dt.date | None = None

    # Where it came from
    sources: list[str] = Field(default_factory=list, description="Sources that reported it.")
    provenance: dict[str, str] = Field(
        default_factory=dict, description="For each field set, the source that said it."
    )
    first_seen: dt.date = Field(description="Earliest day a source places this property on record.")
    last_seen: dt.date = Field(description="Latest day a source reported this property.")

    @field_validator("provenance", mode="before")
    @classmethod
    def _expand_provenance(cls, value: object, info: ValidationInfo) -> object:
        """A stored provenance (``domain.provenance``) back to field -> source; the fields
        it names by default are those with a value, all validated before it."""
        if isinstance(value, dict) and stored_provenance.DEFAULT_SOURCE in value:
            valued = [f for f in PROVENANCE_FIELDS if info.data.get(f) is not None]
            return stored_provenance.expand(value, valued)
        return value

    @field_serializer("provenance")
    def _compact_provenance(self, provenance: dict[str, str]) -> dict[str, Any]:
        valued = [f for f in PROVENANCE_FIELDS if getattr(self, f) is not None]
        return stored_provenance.compact(provenance, valued)

    @field_validator("parcel_number", mode="before")
    @classmethod
    def _normalize_apn(cls, value: object) -> str | None:
        if value is None or isinstance(value, str):
            return normalize_apn(value)
        raise ValueError(f"a parcel number must be text, not {type(value).__name__}")


# The fields a source can say, in declaration order: every field before ``sources``
# (all of them are validated before ``provenance``, which is what lets a stored
# provenance name them by default).
PROVENANCE_FIELDS: tuple[str, ...] = tuple(
    name
    for name in list(Property.model_fields)[: list(Property.model_fields).index("sources")]
    if name not in ("property_id", "snapshot_date")
)
