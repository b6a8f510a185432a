"""Building a day's snapshot from what each source said, and what it said before.

Sources differ in what a day's raw partition means:

- ``demo`` sends its whole feed every day: the day's records are its whole state.
- ``mls`` sends only what changed: its state on a day is, per listing, the latest
  version in its version log modified before the day ended (``storage.version_log``),
  adapted as of that day. A listing that ended (closed, withdrawn, expired, canceled)
  leaves the snapshot a week after it ended, as listing feeds show them.
- ``maricopa`` refreshes each parcel every few weeks: a listed property takes the
  Assessor's facts from the parcel's latest record in a window of recent days, and
  the parcels fetched today are properties seen today.

The result is merged per property (``merge.MergeGroups``) with per-field provenance.
"""

import datetime as dt
import sys
from collections.abc import Iterable, Mapping

from phoenix_assets.domain.merge import LIVE_RECORDS, Merged, MergeGroups
from phoenix_assets.domain.property import Property, StandardStatus
from phoenix_assets.partitions import phoenix_day

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


def _ended_before(record: Property, cutoff: dt.date) -> bool:
    if record.standard_status not in ENDED_STATUSES:
        return False
    ended = record.close_date or (
        dt.date.fromisoformat(phoenix_day(record.modification_timestamp))
        if record.modification_timestamp
        else None
    )
    return (ended or record.last_seen) < cutoff


def as_of(record: Property, day: dt.date) -> Property:
    """A listing as shown on ``day``: an active listing's days on market keep counting."""
    if record.standard_status is StandardStatus.ACTIVE and record.listing_contract_date:
        days = max(0, (day - record.listing_contract_date).days)
        return record.model_copy(update={"days_on_market": days})
    return record


def shown_on(record: Property, day: dt.date) -> bool:
    """Whether a listing is shown on ``day``: not ended more than a week before."""
    return not _ended_before(record, day - dt.timedelta(days=ENDED_VISIBLE_DAYS))


class DaySnapshot:
    """A day's snapshot as it is built: the listings added as they are adapted
    (``add_listing``), then merged with the Assessor's parcels (``merged``), one property
    at a time. A day is never held as a list of merged models (see ``MergeGroups``)."""

    def __init__(self, day: dt.date, *, live_records: int = LIVE_RECORDS) -> None:
        self.day = day
        self._groups = MergeGroups(live_records)
        # The listings' parcels in the order they came (the Assessor's facts join them).
        self._listing_parcels: dict[str, None] = {}
        self.listed_parcels: set[str] = set()
        """APNs of the listings with a status: the parcels whose latest Assessor record
        is read (``merged``'s ``latest_parcels``)."""

    def add_listing(self, record: Property) -> None:
        """One listing of the day, of any source (see ``build_snapshot``)."""
        if record.parcel_number:
            self._listing_parcels.setdefault(record.parcel_number)
            if record.standard_status is not None:
                self.listed_parcels.add(record.parcel_number)
        self._groups.add(record)

    def merged(
        self, *, parcels_today: Iterable[Property], latest_parcels: Mapping[str, Property]
    ) -> Merged:
        """Every property seen on the day, merged across sources, in id order."""
        parcels = {p.parcel_number: p for p in parcels_today if p.parcel_number}
        for apn in self._listing_parcels:
            if apn not in parcels and apn in latest_parcels:
                parcels[apn] = latest_parcels[apn].model_copy(update={"snapshot_date": self.day})
        for parcel in parcels.values():
            self._groups.add(parcel)
        return self._groups.merged()


def build_snapshot(
    day: dt.date,
    *,
    listings: Iterable[Property],
    parcels_today: Iterable[Property],
    latest_parcels: Mapping[str, Property],
) -> list[Property]:
    """Every property seen on ``day``, merged across sources.

    ``listings``: every source's listings on the day (a whole-feed source's records; an
    incremental source's latest versions, ``as_of`` the day, those ``shown_on`` it);
    ``parcels_today``: parcels the Assessor was asked about today; ``latest_parcels``: by
    APN, the latest Assessor record of each parcel in the recent window (facts for
    listed properties).
    """
    snapshot = DaySnapshot(day, live_records=sys.maxsize)
    for record in listings:
        snapshot.add_listing(record)
    return list(snapshot.merged(parcels_today=parcels_today, latest_parcels=latest_parcels))
