"""Adapt a Maricopa County Assessor parcel record to ``Property``.

The record is what ``phoenix_assets.sources.maricopa`` keeps for a parcel, verbatim::

    {"search": <search hit>, "parcel": <GET /parcel/{apn}>,
     "residential_details": <GET /parcel/{apn}/residential-details or None>,
     "valuations": <GET /parcel/{apn}/valuations or None>}

The Assessor's values are loosely typed (see notes/sources.md): numbers arrive as
strings (``"1,850"``, ``"$325,000"``), ``"na"``/``"N/A"``/``""`` mean "no value", dates are
MM/DD/YYYY, booleans are ``"Y"``/``"N"``/``"Yes"``/``true``. Everything here reads
defensively: any payload, however malformed, gives either a ``Property`` or an
``AdapterError`` with a reason a person can act on; never another exception.

What the Assessor does not know is left unset: no listing fields (status, price), no
bedrooms, and no bathroom count (``BathFixtures`` counts fixtures, not bathrooms).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from phoenix_assets.domain import rules
from phoenix_assets.domain.adapters import AdapterError, property_id_for, validate_property
from phoenix_assets.domain.property import Property, normalize_apn

MARICOPA_SOURCE = "maricopa"

_NULL_STRINGS = frozenset({"", "na", "n/a", "n.a.", "none", "null", "-", "--", "unknown"})
_TRUE_STRINGS = frozenset({"y", "yes", "true", "t", "1"})
_FALSE_STRINGS = frozenset({"n", "no", "false", "f", "0"})
_MAX_REASON_VALUE = 60

# The cities and places of Maricopa County as the Assessor writes them in an address,
# longest first so "SUN CITY WEST" wins over "SUN CITY".
_CITIES = sorted(
    {
        "AGUILA",
        "AHWATUKEE",
        "ANTHEM",
        "APACHE JUNCTION",
        "ARLINGTON",
        "AVONDALE",
        "BUCKEYE",
        "CAREFREE",
        "CAVE CREEK",
        "CHANDLER",
        "EL MIRAGE",
        "FORT MCDOWELL",
        "FOUNTAIN HILLS",
        "GILA BEND",
        "GILBERT",
        "GLENDALE",
        "GOODYEAR",
        "GUADALUPE",
        "HIGLEY",
        "LAVEEN",
        "LITCHFIELD PARK",
        "MESA",
        "MORRISTOWN",
        "NEW RIVER",
        "PALO VERDE",
        "PARADISE VALLEY",
        "PEORIA",
        "PHOENIX",
        "QUEEN CREEK",
        "RIO VERDE",
        "SCOTTSDALE",
        "SUN CITY",
        "SUN CITY WEST",
        "SUN LAKES",
        "SURPRISE",
        "TEMPE",
        "TOLLESON",
        "TONOPAH",
        "WADDELL",
        "WICKENBURG",
        "WITTMANN",
        "YOUNGTOWN",
    },
    key=lambda city: (-len(city), city),
)
_ZIP_AT_END = re.compile(r"[\s,]*\b(\d{5})(?:-\d{4})?\s*$")
_STATE_AT_END = re.compile(r"[\s,]+(?:AZ|ARIZONA)\.?\s*$", re.IGNORECASE)
_ZIP_VALUE = re.compile(r"^\s*(\d{5})(?:-?\d{4})?\s*$")
_MDY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s.*)?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T\s].*)?$")

# Keys (compared case-insensitively) where an address's parts may be found.
ADDRESS_STRING_KEYS = ("PropertyAddress", "SitusAddress", "Address", "FullAddress")
STREET_KEYS = ("Street", "StreetAddress", "Address1", "AddressLine1", "Line1", "Situs")
CITY_KEYS = ("PropertyAddressCity", "SitusCity", "City")
ZIP_KEYS = ("PropertyAddressZip", "SitusZip", "SitusZipCode", "Zip", "ZipCode", "PostalCode")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REASON_VALUE else text[: _MAX_REASON_VALUE - 3] + "..."


def _get(mapping: Any, *names: str) -> Any:
    """The value of the first of ``names`` present in ``mapping`` (case-insensitive), or None."""
    if not isinstance(mapping, Mapping):
        return None
    for name in names:
        if name in mapping:
            return mapping[name]
    lowered = {key.lower(): key for key in mapping if isinstance(key, str)}
    for name in names:
        key = lowered.get(name.lower())
        if key is not None:
            return mapping[key]
    return None


def _clean(value: Any) -> Any:
    """None for the Assessor's ways of saying "no value"; strings stripped."""
    if isinstance(value, str):
        value = value.strip()
        return None if value.lower() in _NULL_STRINGS else value
    return value


def _number(value: Any, what: str) -> float | None:
    """A finite number from a number or a string such as ``"1,850"`` or ``"$325,000"``."""
    value = _clean(value)
    if value is None:
        return None
    if isinstance(value, bool):
        raise AdapterError(f"{what}: {_short(value)} is not a number")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise AdapterError(f"{what}: {_short(value)} is out of range") from None
    elif isinstance(value, str):
        text = value.replace(",", "").replace("$", "").replace(" ", "")
        try:
            number = float(text)
        except ValueError:
            raise AdapterError(f"{what}: {_short(value)} is not a number") from None
    else:
        raise AdapterError(f"{what}: expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise AdapterError(f"{what}: {_short(value)} is not a finite number")
    return number


def _integer(value: Any, what: str) -> int | None:
    number = _number(value, what)
    if number is None:
        return None
    if not number.is_integer():
        raise AdapterError(f"{what}: {_short(value)} is not a whole number")
    return int(number)


def _boolean(value: Any, what: str) -> bool | None:
    """Y/N, Yes/No, true/false, 1/0; a positive number (a pool's area, say) means yes."""
    value = _clean(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in _TRUE_STRINGS:
            return True
        if lowered in _FALSE_STRINGS:
            return False
    try:
        number = _number(value, what)
    except AdapterError:
        raise AdapterError(f"{what}: {_short(value)} is not a yes/no value") from None
    if number is None or number < 0:
        raise AdapterError(f"{what}: {_short(value)} is not a yes/no value")
    return number > 0


def _date(value: Any, what: str) -> dt.date | None:
    """A date from MM/DD/YYYY (the Assessor's form) or YYYY-MM-DD."""
    value = _clean(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AdapterError(f"{what}: expected a date string, got {type(value).__name__}")
    try:
        if match := _MDY.match(value):
            month, day, year = (int(part) for part in match.groups())
            return dt.date(year, month, day)
        if match := _ISO.match(value):
            year, month, day = (int(part) for part in match.groups())
            return dt.date(year, month, day)
    except ValueError:
        pass
    raise AdapterError(f"{what}: {_short(value)} is not a date (expected MM/DD/YYYY)")


def _text(value: Any, what: str) -> str | None:
    value = _clean(value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise AdapterError(f"{what}: expected text, got {type(value).__name__}")
    return " ".join(str(value).split()) or None


def zip_of(value: Any) -> str | None:
    """The 5-digit ZIP in a ZIP field's value (``85018``, ``"85018-1234"``), or None."""
    value = _clean(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = f"{value:05d}" if 0 <= value <= 99999 else str(value)
    if not isinstance(value, str):
        return None
    match = _ZIP_VALUE.match(value)
    return match.group(1) if match else None


def split_address(text: str) -> tuple[str | None, str | None, str | None]:
    """``(street, city, zip)`` from one address string.

    Handles the Assessor's forms: ``"4821 N 38TH ST PHOENIX 85018"``,
    ``"4600 N 68TH ST 371 SCOTTSDALE, AZ 85251"``, ``"4821 N 38th St, Phoenix, AZ 85018"``.
    A city is recognised after a comma or when it is one of the county's places; when
    neither, the text before the ZIP is all street.
    """
    rest = " ".join(text.split())
    postal: str | None = None
    if match := _ZIP_AT_END.search(rest):
        postal = match.group(1)
        rest = rest[: match.start()]
    rest = _STATE_AT_END.sub("", rest).strip(" ,")
    city: str | None = None
    if "," in rest:
        street_part, _, city_part = rest.rpartition(",")
        city_part = city_part.strip()
        if city_part and not any(ch.isdigit() for ch in city_part):
            rest, city = street_part.strip(" ,"), city_part
    if city is None:
        upper = rest.upper()
        for known in _CITIES:
            if upper.endswith(" " + known):
                city = rest[len(rest) - len(known) :]
                rest = rest[: len(rest) - len(known)].strip(" ,")
                break
    return (rest or None), city, postal


def address_parts(record: Any) -> tuple[str | None, str | None, str | None]:
    """``(street, city, zip)`` from a parcel or a search hit: one string or split fields."""
    if not isinstance(record, Mapping):
        return None, None, None
    street = city = postal = None
    raw = _clean(_get(record, *ADDRESS_STRING_KEYS))
    if isinstance(raw, Mapping):  # split fields inside the address object
        street_value = _clean(_get(raw, *STREET_KEYS, *ADDRESS_STRING_KEYS))
        if isinstance(street_value, str):
            street, city, postal = split_address(street_value)
        city = _clean(_get(raw, *CITY_KEYS)) or city
        postal = zip_of(_get(raw, *ZIP_KEYS)) or postal
    elif isinstance(raw, str):
        street, city, postal = split_address(raw)
    # Split fields beside the address string (a search hit's PropertyAddressZip...).
    side_city = _clean(_get(record, *CITY_KEYS))
    city = city or (side_city if isinstance(side_city, str) else None)
    postal = postal or zip_of(_get(record, *ZIP_KEYS))
    if not isinstance(city, str):
        city = None
    return street, city, postal


def hit_zip_code(hit: Any) -> str | None:
    """The ZIP a search hit's address fields name, or None when it names none."""
    return address_parts(hit)[2]


def _valuation_entries(payload: Mapping[str, Any], parcel: Any) -> list[Any] | None:
    """The valuation history: ``/valuations`` when fetched, else the parcel's own."""

    def entries(value: Any) -> list[Any] | None:
        if isinstance(value, list):
            return value
        if isinstance(value, Mapping):
            inner = _get(value, "Valuations", "results", "Results")
            if isinstance(inner, list):
                return inner
        return None

    fetched = entries(payload.get("valuations"))
    if fetched:
        return fetched
    own = _get(parcel, "Valuations")
    if own is not None and _clean(own) is not None and entries(own) is None:
        raise AdapterError(f"Valuations: expected a list, got {type(own).__name__}")
    return entries(own) or fetched


def _latest_valuation(valuations: Iterable[Any]) -> tuple[int, Mapping[str, Any]] | None:
    latest: tuple[int, Mapping[str, Any]] | None = None
    for entry in valuations:
        if not isinstance(entry, Mapping):
            continue
        try:
            year = _integer(_get(entry, "TaxYear"), "Valuations.TaxYear")
        except AdapterError:
            continue  # an entry without a usable year cannot be placed in the history
        if year is not None and (latest is None or year > latest[0]):
            latest = (year, entry)
    return latest


def _values_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    parcel = payload.get("parcel") if "parcel" in payload else payload
    if not isinstance(parcel, Mapping):
        raise AdapterError(
            f"parcel is {'missing' if parcel is None else 'a ' + type(parcel).__name__}, "
            "not an object",
            rule=rules.NOT_ADAPTABLE,
        )
    values: dict[str, Any] = {}

    apn = _text(_get(parcel, "APN"), "APN")
    if apn is None:
        raise AdapterError(
            "parcel has no APN (schema drift? expected key 'APN')", rule=rules.MISSING_RECORD_KEY
        )
    values["parcel_number"] = normalize_apn(apn)

    if not any(isinstance(key, str) and key.lower() == "propertyaddress" for key in parcel):
        raise AdapterError(
            "parcel has no PropertyAddress (schema drift?)", rule=rules.NOT_ADAPTABLE
        )
    street, city, postal = address_parts(parcel)
    if postal is None:
        postal = hit_zip_code(payload.get("search"))
    if postal is None:
        raise AdapterError(
            f"no 5-digit ZIP in PropertyAddress {_short(_get(parcel, 'PropertyAddress'))}"
        )
    values["unparsed_address"] = _text(street, "PropertyAddress")
    values["city"] = _text(city, "PropertyAddress city")
    values["postal_code"] = postal

    geo = _clean(_get(parcel, "Geo"))
    if geo is not None:
        if not isinstance(geo, Mapping):
            raise AdapterError(f"Geo: expected an object with lat and long, got {_short(geo)}")
        lat = _number(_get(geo, "lat", "latitude"), "Geo.lat")
        lon = _number(_get(geo, "long", "lng", "lon", "longitude"), "Geo.long")
        if lat or lon:  # 0, 0 is a placeholder, not a place
            values["latitude"], values["longitude"] = lat, lon

    # 0 is the Assessor's "no lot of its own" (a condominium), not a zero area.
    values["lot_size_square_feet"] = _number(_get(parcel, "LotSize"), "LotSize") or None
    values["property_type"] = _text(
        _clean(_get(parcel, "PropertyType")) or _get(parcel, "PropertyUseCode"),
        "PropertyType",
    )

    residential = _clean(_get(parcel, "ResidentialPropertyData"))
    details = payload.get("residential_details")
    if not isinstance(residential, Mapping) and isinstance(details, Mapping):
        residential = details
    if residential is not None:
        if not isinstance(residential, Mapping):
            raise AdapterError(
                f"ResidentialPropertyData: expected an object, got {type(residential).__name__}"
            )
        # 0 is how the Assessor writes "none recorded" for these two.
        year = _integer(_get(residential, "ConstructionYear"), "ConstructionYear")
        values["year_built"] = year or None
        living = _number(_get(residential, "LivableSpace"), "LivableSpace")
        values["living_area"] = living or None
        values["pool_private_yn"] = _boolean(_get(residential, "Pool"), "Pool")
        values["garage_spaces"] = _number(_get(residential, "NumberOfGarages"), "NumberOfGarages")

    owner = _clean(_get(parcel, "Owner"))
    if owner is not None:
        if not isinstance(owner, Mapping):
            raise AdapterError(f"Owner: expected an object, got {type(owner).__name__}")
        values["last_sale_price"] = _number(_get(owner, "SalePrice"), "Owner.SalePrice")
        values["last_sale_date"] = _date(_get(owner, "SaleDate"), "Owner.SaleDate")

    entries = _valuation_entries(payload, parcel)
    latest = _latest_valuation(entries or [])
    if latest is not None:
        year, entry = latest
        values["tax_year"] = year
        values["full_cash_value"] = _number(_get(entry, "FullCashValue"), "FullCashValue")
        values["limited_property_value"] = _number(
            _get(entry, "LimitedPropertyValue"), "LimitedPropertyValue"
        )
    return {name: value for name, value in values.items() if value is not None}


def property_from_maricopa(payload: dict[str, Any], *, day: dt.date) -> Property:
    """Adapt one Assessor parcel record to ``Property``, or raise ``AdapterError``.

    ``payload`` is the record kept by the maricopa source (``search``, ``parcel``,
    ``residential_details``, ``valuations``); a bare ``/parcel`` object is accepted too.
    """
    if not isinstance(payload, Mapping):
        raise AdapterError(
            f"payload is a {type(payload).__name__}, not an object", rule=rules.NOT_ADAPTABLE
        )
    try:
        values = _values_of(payload)
    except AdapterError:
        raise
    except Exception as exc:  # a shape nobody foresaw: still a reason, never a crash
        raise AdapterError(
            f"maricopa payload could not be read ({type(exc).__name__}: {_short(str(exc))})",
            rule=rules.NOT_ADAPTABLE,
        ) from None
    provenance = dict.fromkeys(values, MARICOPA_SOURCE)
    values.update(
        property_id=property_id_for(
            values.get("parcel_number"), values.get("unparsed_address"), values["postal_code"]
        ),
        snapshot_date=day,
        sources=[MARICOPA_SOURCE],
        provenance=provenance,
        first_seen=day,
        last_seen=day,
    )
    return validate_property(values, MARICOPA_SOURCE)
