"""Adapters: turn a source's raw payload into a ``Property``.

An adapter either returns a valid ``Property`` or raises ``AdapterError`` with a reason
a person can act on; the caller quarantines the payload with that reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from phoenix_assets.domain import rules
from phoenix_assets.domain.property import Property, normalize_address, normalize_apn


class AdapterError(ValueError):
    """A payload could not be adapted to ``Property``; ``str(self)`` is the reason (it may
    quote the source's values), ``rule`` the stable name of what went wrong
    (``phoenix_assets.domain.rules``)."""

    def __init__(self, message: str, *, rule: str = rules.INVALID_FIELD) -> None:
        super().__init__(message)
        self.rule = rule


# Fields whose value must be above zero: a schema error on one of them is that rule.
_AREA_FIELDS = frozenset({"living_area", "lot_size_square_feet"})


# RESO Data Dictionary field -> Property field. Everything here is what a listing says.
RESO_FIELDS: dict[str, str] = {
    "ListingKey": "listing_key",
    "ListingId": "listing_id",
    "UnparsedAddress": "unparsed_address",
    "City": "city",
    "StateOrProvince": "state_or_province",
    "PostalCode": "postal_code",
    "Latitude": "latitude",
    "Longitude": "longitude",
    "PropertyType": "property_type",
    "PropertySubType": "property_sub_type",
    "BedroomsTotal": "bedrooms_total",
    "BathroomsTotalInteger": "bathrooms_total_integer",
    "LivingArea": "living_area",
    "LotSizeSquareFeet": "lot_size_square_feet",
    "YearBuilt": "year_built",
    "PoolPrivateYN": "pool_private_yn",
    "GarageSpaces": "garage_spaces",
    "StandardStatus": "standard_status",
    "ListPrice": "list_price",
    "OriginalListPrice": "original_list_price",
    "PreviousListPrice": "previous_list_price",
    "PriceChangeTimestamp": "price_change_timestamp",
    "ClosePrice": "close_price",
    "ListingContractDate": "listing_contract_date",
    "PurchaseContractDate": "purchase_contract_date",
    "CloseDate": "close_date",
    "DaysOnMarket": "days_on_market",
    "ModificationTimestamp": "modification_timestamp",
}


def property_id_for(parcel_number: object, street: object, postal_code: object) -> str:
    """The stable id of a property: its APN when known, else its normalized address."""
    if parcel_number is not None and not isinstance(parcel_number, str):
        raise AdapterError(f"the parcel number is a {type(parcel_number).__name__}, not text")
    apn = normalize_apn(parcel_number)
    if apn:
        return f"apn:{apn}"
    address = normalize_address(street, postal_code)
    if address:
        return f"addr:{address}"
    raise AdapterError(
        "no parcel number and no street address with a ZIP: cannot identify it",
        rule=rules.NO_PROPERTY_IDENTITY,
    )


def property_from_reso(payload: dict[str, Any], *, source: str, day: dt.date) -> Property:
    """Adapt a RESO ``Property`` resource record (MLS, demo) to ``Property``."""
    if not isinstance(payload, dict):
        raise AdapterError(
            f"payload is a {type(payload).__name__}, not an object", rule=rules.NOT_ADAPTABLE
        )
    values: dict[str, Any] = {
        field: payload[reso] for reso, field in RESO_FIELDS.items() if payload.get(reso) is not None
    }
    lot = values.get("lot_size_square_feet")
    if type(lot) in (int, float) and lot == 0:
        # A condominium has no lot of its own: feeds write 0 for "none", not a zero area.
        del values["lot_size_square_feet"]
    postal_code = values.get("postal_code")
    if isinstance(postal_code, str):
        values["postal_code"] = postal_code.strip()[:5]
    elif isinstance(postal_code, int) and not isinstance(postal_code, bool):
        values["postal_code"] = f"{postal_code:05d}" if 0 <= postal_code < 100_000 else "invalid"
    listed = payload.get("ListingContractDate") or payload.get("OnMarketDate")
    values.update(
        property_id=property_id_for(
            payload.get("ParcelNumber"),
            payload.get("UnparsedAddress"),
            values.get("postal_code"),
        ),
        parcel_number=payload.get("ParcelNumber"),
        snapshot_date=day,
        sources=[source],
        first_seen=listed or day,
        last_seen=day,
    )
    values["provenance"] = {field: source for field in values if field in RESO_FIELDS.values()}
    if values.get("parcel_number"):
        values["provenance"]["parcel_number"] = source
    return validate_property(values, source)


def validate_property(values: dict[str, Any], source: str) -> Property:
    """``Property`` from adapted values, or an ``AdapterError`` listing what is invalid."""
    try:
        return Property.model_validate(values)
    except ValidationError as exc:
        errors = exc.errors()
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in errors
        )
        not_positive = any(
            err["loc"][:1]
            and err["loc"][0] in _AREA_FIELDS
            and err["type"].startswith("greater_than")
            for err in errors
        )
        rule = rules.AREA_NOT_POSITIVE if not_positive else rules.INVALID_FIELD
        raise AdapterError(f"invalid {source} record: {reasons}", rule=rule) from None
