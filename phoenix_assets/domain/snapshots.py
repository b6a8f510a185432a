"""Building a day's snapshot from what each source said, and what it said before.

Sources differ in what a day's raw partition means:

- ``demo`` sends its whole feed every day: the day's records are its whole state.
- ``mls`` sends only what changed since its watermark: its state is yesterday's
  listings, carried forward, with today's changes applied. A listing that ended
  (closed, withdrawn, expired, canceled) leaves the snapshot a week after it ended,
  as listing feeds show them.
- ``maricopa`` refreshes each parcel every few weeks: a listed property takes the
  Assessor's facts from the parcel's latest record in a window of recent days, and
  the parcels fetched today are properties seen today.

The result is merged per property (``merge.merge_properties``) with per-field provenance.
"""

import datetime as dt
from collections.abc import Iterable, Mapping

from phoenix_assets.domain.merge import merge_properties
from phoenix_assets.domain.property import Property, StandardStatus

ENDED_STATUSES = frozenset(
    {
        StandardStatus.CLOSED,
        StandardStatus.WITHDRAWN,
        StandardStatus.EXPIRED,
        StandardStatus.CANCELED,
        StandardStatus.DELETE,
    }
)
# An ended listing stays this many days after it ended, as feeds show them.
ENDED_VISIBLE_DAYS = 7
# A listed property takes the Assessor's facts from its parcel's latest record in this
# many days; MARICOPA_STALE_AFTER_DAYS must stay below it (checked at load).
ASSESSOR_WINDOW_DAYS = 60
# The identity fields every contribution carries whatever its source said.
_IDENTITY = ("property_id", "parcel_number", "postal_code", "first_seen", "last_seen")


def contribution(record: Property, source: str) -> Property | None:
    """The part of a merged record that ``source`` said, or None if it said nothing."""
    fields = [name for name, said_by in record.provenance.items() if said_by == source]
    if not fields:
        return None
    values = {name: getattr(record, name) for name in fields}
    return Property.model_validate(
        {
            **{name: getattr(record, name) for name in _IDENTITY},
            **values,
            "snapshot_date": record.snapshot_date,
            "sources": [source],
            "provenance": dict.fromkeys(fields, source),
        }
    )


def _ended_before(record: Property, cutoff: dt.date) -> bool:
    if record.standard_status not in ENDED_STATUSES:
        return False
    ended = record.close_date or (
        record.modification_timestamp.date() if record.modification_timestamp else None
    )
    return (ended or record.last_seen) < cutoff


def _carried(record: Property, day: dt.date) -> Property:
    """A listing carried to ``day``: an active listing's days on market keep counting."""
    update: dict[str, object] = {"snapshot_date": day}
    if record.standard_status is StandardStatus.ACTIVE and record.listing_contract_date:
        update["days_on_market"] = max(0, (day - record.listing_contract_date).days)
    return record.model_copy(update=update)


def carry_forward_listings(
    previous: Iterable[Property], changes: Iterable[Property], day: dt.date, source: str
) -> list[Property]:
    """An incremental source's listings on ``day``: yesterday's, updated by today's changes."""
    listings: dict[str, Property] = {}
    for record in previous:
        part = contribution(record, source)
        if part is not None:
            listings[part.listing_key or part.property_id] = _carried(part, day)
    for record in changes:
        listings[record.listing_key or record.property_id] = record
    cutoff = day - dt.timedelta(days=ENDED_VISIBLE_DAYS)
    return [r for r in listings.values() if not _ended_before(r, cutoff)]


def build_snapshot(
    day: dt.date,
    *,
    previous: Iterable[Property],
    full_state: Iterable[Property],
    incremental: Mapping[str, Iterable[Property]],
    parcels_today: Iterable[Property],
    latest_parcels: Mapping[str, Property],
) -> list[Property]:
    """Every property seen on ``day``, merged across sources.

    ``full_state``: today's records of sources that send their whole state (demo);
    ``incremental``: today's changes per incremental source (mls); ``parcels_today``:
    parcels the Assessor was asked about today; ``latest_parcels``: by APN, the latest
    Assessor record of each parcel in the recent window (facts for listed properties).
    """
    previous = list(previous)
    listings: list[Property] = list(full_state)
    for source, changes in incremental.items():
        listings.extend(carry_forward_listings(previous, changes, day, source))
    parcels = {p.parcel_number: p for p in parcels_today if p.parcel_number}
    for record in listings:
        apn = record.parcel_number
        if apn and apn not in parcels and apn in latest_parcels:
            parcels[apn] = latest_parcels[apn].model_copy(update={"snapshot_date": day})
    return merge_properties([*listings, *parcels.values()])
