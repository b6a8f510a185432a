"""Stored snapshot documents for the rule tests, shaped as the IO manager writes them."""

import datetime as dt
from typing import Any

from phoenix_assets.domain.property import Property
from phoenix_assets.storage.documents import to_bson_value

DAY = "2026-11-17"


def snapshot_document(n: int, day: str = DAY, **changes: Any) -> dict[str, Any]:
    """A valid listed property, number ``n``, as stored; ``changes`` override fields."""
    date = dt.date.fromisoformat(day)
    record = Property(
        property_id=f"apn:100-00-{n:03d}",
        snapshot_date=date,
        parcel_number=f"100-00-{n:03d}",
        unparsed_address=f"{100 + n} E Camelback Rd",
        postal_code="85018" if n % 2 else "85033",
        latitude=33.50 + n / 10_000,
        longitude=-112.02 - n / 10_000,
        living_area=1_500 + n,
        year_built=1960 + n % 60,
        standard_status="Active",
        list_price=450_000 + 1_000 * n,
        sources=["demo"],
        provenance={"list_price": "demo"},
        first_seen=date,
        last_seen=date,
    )
    document = to_bson_value(record)
    document.update(changes)
    document["partition_key"] = day
    document["_id"] = f"{document['property_id']}:{day}"
    return document


def snapshot_documents(count: int, day: str = DAY) -> list[dict[str, Any]]:
    return [snapshot_document(n, day) for n in range(count)]
