"""Retention of raw data: raw partitions older than a window are dropped, nothing else is.

Raw collections grow by every ZIP's listings and parcels every day; what is derived from
them (snapshots, events, summaries, trends) is small and is the history people read, so
it is kept for ever. A raw partition is dropped whole: its manifest entry first (so a
drop cut short leaves the partition "missing", never "complete but empty", as a write
does), then its documents, with one equality delete per key (``PartitionStore.delete``).

The window must stay longer than the Assessor window that ``property_snapshots`` reads
(``ASSESSOR_WINDOW_DAYS``): a snapshot rebuilt within the kept days still finds every
parcel record it needs. The demo source's raw data has a window of its own
(``PHOENIX_DEMO_RAW_RETENTION_DAYS``, 30 days by default): the demo regenerates any day
exactly, so a year of it is storage spent on nothing.
"""

import datetime as dt
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from pymongo.database import Database

from phoenix_assets.domain.snapshots import ASSESSOR_WINDOW_DAYS
from phoenix_assets.partitions import TIMEZONE
from phoenix_assets.settings import ConfigError, parse_number_setting
from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.store import PartitionStore

PHOENIX_RAW_RETENTION_DAYS = "PHOENIX_RAW_RETENTION_DAYS"
PHOENIX_DEMO_RAW_RETENTION_DAYS = "PHOENIX_DEMO_RAW_RETENTION_DAYS"
DEFAULT_RAW_RETENTION_DAYS = 400
# Regenerated exactly by a backfill; long enough that the missed-day sensor's look-back
# and the report's 30-day charts never ask for a day already dropped.
DEFAULT_DEMO_RAW_RETENTION_DAYS = 30
DEMO_RAW_COLLECTION = "raw_demo_listings"
MAX_RAW_RETENTION_DAYS = 36_500
# The only collections retention ever touches (besides their manifest entries).
RAW_COLLECTIONS: tuple[str, ...] = ("raw_demo_listings", "raw_maricopa_parcels", "raw_mls_listings")

_DAY_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def raw_retention_days(environ: Mapping[str, str] | None = None) -> int:
    """``PHOENIX_RAW_RETENTION_DAYS``: how many days of raw partitions to keep (default 400)."""
    env = os.environ if environ is None else environ
    days = int(
        parse_number_setting(
            env,
            PHOENIX_RAW_RETENTION_DAYS,
            DEFAULT_RAW_RETENTION_DAYS,
            integer=True,
            minimum=1,
            # A century: far past any partition, and the cutoff date stays computable.
            maximum=MAX_RAW_RETENTION_DAYS,
        )
    )
    if days <= ASSESSOR_WINDOW_DAYS:
        raise ConfigError(
            f"{PHOENIX_RAW_RETENTION_DAYS}: {days} must be above {ASSESSOR_WINDOW_DAYS}: "
            f"property snapshots read the last {ASSESSOR_WINDOW_DAYS} days of Assessor records"
        )
    return days


def demo_raw_retention_days(environ: Mapping[str, str] | None = None) -> int:
    """``PHOENIX_DEMO_RAW_RETENTION_DAYS``: days of the demo source's raw partitions to keep
    (default 30; never more than ``PHOENIX_RAW_RETENTION_DAYS`` is kept of any raw data)."""
    env = os.environ if environ is None else environ
    return int(
        parse_number_setting(
            env,
            PHOENIX_DEMO_RAW_RETENTION_DAYS,
            DEFAULT_DEMO_RAW_RETENTION_DAYS,
            integer=True,
            minimum=1,
            maximum=MAX_RAW_RETENTION_DAYS,
        )
    )


def phoenix_today() -> dt.date:
    """Today in Phoenix, the calendar the daily partitions follow."""
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def retention_cutoff(today: dt.date, retention_days: int) -> str:
    """The oldest partition kept: partitions whose day is before it are dropped."""
    return (today - dt.timedelta(days=retention_days)).isoformat()


@dataclass(frozen=True)
class CollectionRetention:
    """One raw collection's part of a retention run."""

    collection: str
    partitions: tuple[str, ...]  # dropped (or, in a plan, to drop), oldest first
    documents: int  # documents in those partitions
    oldest_kept: str | None  # the oldest partition left, None when none is left
    cutoff: str = ""  # this collection's oldest partition kept
    retention_days: int = 0  # this collection's window


@dataclass(frozen=True)
class RetentionReport:
    """What a retention run dropped, or in a dry run, would drop."""

    cutoff: str
    retention_days: int
    dry_run: bool
    collections: tuple[CollectionRetention, ...]

    @property
    def partitions_dropped(self) -> int:
        return sum(len(c.partitions) for c in self.collections)

    @property
    def documents_dropped(self) -> int:
        return sum(c.documents for c in self.collections)

    def markdown(self) -> str:
        """The report as a Markdown table, one row per raw collection."""
        verb = "would drop" if self.dry_run else "dropped"
        lines = [
            f"Raw partitions before **{self.cutoff}** ({self.retention_days} days kept; "
            "a collection with a shorter window says so below): "
            f"{verb} {self.partitions_dropped} partitions, {self.documents_dropped} documents.",
            "",
            "| collection | days kept | partitions | documents | oldest dropped "
            "| newest dropped | oldest kept |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in self.collections:
            first, last = (c.partitions[0], c.partitions[-1]) if c.partitions else ("-", "-")
            lines.append(
                f"| {c.collection} | {c.retention_days} | {len(c.partitions)} | {c.documents} "
                f"| {first} | {last} | {c.oldest_kept or '-'} |"
            )
        return "\n".join(lines)


def _partition_keys(db: Database[Document], collection: str) -> set[str]:
    """Every day partition of ``collection``: those holding documents and those only in the
    manifest (a day stored empty, or a write that died before its documents)."""
    return {key for key in PartitionStore(db, collection).partition_keys() if _DAY_KEY.match(key)}


def plan_retention(
    db: Database[Document],
    *,
    today: dt.date,
    retention_days: int,
    collections: Sequence[str] = RAW_COLLECTIONS,
    windows: Mapping[str, int] | None = None,
) -> RetentionReport:
    """What ``apply_retention`` would drop today; changes nothing. ``windows``: a
    collection's own window, when shorter than ``retention_days``."""
    cutoff = retention_cutoff(today, retention_days)
    planned = []
    for collection in collections:
        days = min(retention_days, (windows or {}).get(collection, retention_days))
        collection_cutoff = retention_cutoff(today, days)
        keys = sorted(_partition_keys(db, collection))
        old = [key for key in keys if key < collection_cutoff]
        kept = [key for key in keys if key >= collection_cutoff]
        planned.append(
            CollectionRetention(
                collection=collection,
                partitions=tuple(old),
                documents=sum(
                    db[collection].count_documents({"partition_key": key}) for key in old
                ),
                oldest_kept=kept[0] if kept else None,
                cutoff=collection_cutoff,
                retention_days=days,
            )
        )
    return RetentionReport(
        cutoff=cutoff, retention_days=retention_days, dry_run=True, collections=tuple(planned)
    )


def apply_retention(db: Database[Document], plan: RetentionReport) -> RetentionReport:
    """Drop the planned partitions and their manifest entries; report what was dropped."""
    dropped = []
    for part in plan.collections:
        if part.collection not in RAW_COLLECTIONS:  # never anything but raw data
            raise ValueError(f"retention only drops raw collections, not {part.collection!r}")
        documents = PartitionStore(db, part.collection).delete(part.partitions)
        dropped.append(replace(part, documents=documents))
    return replace(plan, dry_run=False, collections=tuple(dropped))


def enforce_raw_retention(
    db: Database[Document],
    *,
    today: dt.date,
    retention_days: int,
    dry_run: bool,
    windows: Mapping[str, int] | None = None,
) -> RetentionReport:
    """Plan the raw partitions older than the window and, unless ``dry_run``, drop them."""
    plan = plan_retention(db, today=today, retention_days=retention_days, windows=windows)
    return plan if dry_run else apply_retention(db, plan)
