"""Property events: what changed in the market between two consecutive days' snapshots."""

import sys
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import pandas as pd

from phoenix_assets.domain.property import StandardStatus

# Statuses in which a listing is still on the market (for sale or under contract).
ON_MARKET = frozenset(
    {
        StandardStatus.ACTIVE.value,
        StandardStatus.COMING_SOON.value,
        StandardStatus.ACTIVE_UNDER_CONTRACT.value,
        StandardStatus.PENDING.value,
    }
)
UNDER_CONTRACT = frozenset(
    {StandardStatus.ACTIVE_UNDER_CONTRACT.value, StandardStatus.PENDING.value}
)
# A listing taken off the market without a sale.
TAKEN_OFF = frozenset(
    {
        StandardStatus.WITHDRAWN.value,
        StandardStatus.EXPIRED.value,
        StandardStatus.CANCELED.value,
        StandardStatus.DELETE.value,
    }
)
EVENT_TYPES = (
    "new_listing",
    "price_cut",
    "price_rise",
    "status_change",
    "back_on_market",
    "delisting",
)
EVENT_COLUMNS = (
    "property_id",
    "listing_key",
    "standard_status",
    "list_price",
    "postal_code",
    "unparsed_address",
)


class ListedRow(NamedTuple):
    """What the events compare of a listed property (``EVENT_COLUMNS`` but its id)."""

    listing_key: Any
    standard_status: Any
    list_price: Any
    postal_code: Any
    unparsed_address: Any


Listed = dict[str, ListedRow]


def _shared(value: Any) -> Any:
    """A text value that repeats across a day (a status, a ZIP code) as one object."""
    return sys.intern(value) if type(value) is str else value


def listed_properties(documents: Iterable[Mapping[str, Any]]) -> Listed:
    """A snapshot's properties that carry a listing, by property id: their
    ``EVENT_COLUMNS`` only (a missing one is None).

    Small tuples, not a frame or dicts: the comparison below walks every row (a row
    lookup in a frame costs ~100x), and a day of 50,000 listings is held twice.
    """
    return {
        str(doc["property_id"]): ListedRow(
            listing_key=doc.get("listing_key"),
            standard_status=_shared(doc.get("standard_status")),
            list_price=doc.get("list_price"),
            postal_code=_shared(doc.get("postal_code")),
            unparsed_address=doc.get("unparsed_address"),
        )
        for doc in documents
        if not _missing(doc.get("standard_status"))
    }


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _value(value: Any) -> Any:
    return None if pd.isna(value) else value


def events_between(before: Listed, after: Listed, day: str) -> list[dict[str, Any]]:
    """The events of ``day``: one record per property and event type, from the listed
    properties of the day before and of the day (``listed_properties``).

    - ``new_listing``: on the market today, not listed yesterday (or under another listing);
    - ``price_cut`` / ``price_rise``: the list price went down / up;
    - ``back_on_market``: under contract yesterday, active again today;
    - ``delisting``: taken off the market without a sale (withdrawn, expired, canceled),
      or gone from every feed while still on the market;
    - ``status_change``: any other change of status (active -> pending -> closed).
    """
    events: list[dict[str, Any]] = []

    def event(property_id: str, kind: str, row: ListedRow, **details: Any) -> None:
        events.append(
            {
                "partition_key": day,
                "property_id": property_id,
                "event_type": kind,
                "listing_key": _value(row.listing_key),
                "postal_code": _value(row.postal_code),
                "unparsed_address": _value(row.unparsed_address),
                **details,
            }
        )

    for property_id, now in after.items():
        status = now.standard_status
        then = before.get(property_id)
        if then is None or then.listing_key != now.listing_key:
            if status in ON_MARKET:
                event(
                    property_id,
                    "new_listing",
                    now,
                    status=status,
                    list_price=_value(now.list_price),
                )
            continue
        old_price, new_price = _value(then.list_price), _value(now.list_price)
        if old_price and new_price and old_price != new_price:
            event(
                property_id,
                "price_cut" if new_price < old_price else "price_rise",
                now,
                old_value=old_price,
                new_value=new_price,
                change=new_price - old_price,
                change_pct=(new_price - old_price) / old_price * 100,
            )
        old_status = then.standard_status
        if old_status == status:
            continue
        if old_status in UNDER_CONTRACT and status == StandardStatus.ACTIVE.value:
            kind = "back_on_market"
        elif status in TAKEN_OFF and old_status in ON_MARKET:
            kind = "delisting"
        else:
            kind = "status_change"
        event(property_id, kind, now, old_value=old_status, new_value=status)

    for property_id, then in before.items():
        if property_id not in after and then.standard_status in ON_MARKET:
            event(
                property_id,
                "delisting",
                then,
                old_value=then.standard_status,
                new_value=None,
                reason="gone from every feed",
            )
    return events
