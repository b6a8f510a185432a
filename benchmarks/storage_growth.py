"""How fast does the database grow? A year projected from a measured steady state.

The budget case is MongoDB Atlas's free tier: 512 MB, counted as data size (each
document's uncompressed BSON) plus index size (Atlas's ``atlasSize``). On a fresh
``DAGSTER_HOME`` and an empty MongoDB database, as real Dagster runs (``execute_job``,
steps in their own processes), this runs ``daily_pipeline`` (the embedded defaults: the
demo source, the default ZIPs) over ``--days`` days, as two single-run backfills: the
first ``--warm-up-days`` days, then the rest. The weekly trends of every complete week
run with the half its Sunday falls in. After each half it reads every collection:

- documents, and data bytes: the sum of each document's BSON size as the server returns
  it (what MongoDB's ``collStats`` ``size`` counts; the embedded server's ``size`` is
  its stored JSON text, so it is compared, not printed);
- index bytes: the server's ``totalIndexSize`` where it reports one (a real MongoDB);
  else estimated from the index keys: per index, one entry a document of
  (the key values' BSON size + 16 bytes for the record id and the B-tree).

The steady state is the growth per day over the second half. A year is the database
after ``--days`` days plus the rest of the 365 days at that rate, per collection and in
total, for the ZIPs measured and scaled linearly in ZIPs to 150.

Then the snapshot history job runs as it would the morning after the last day
(``compact_snapshots``, ``PHOENIX_SNAPSHOT_DAILY_DAYS`` whole days kept): every day is
read before and after and must read back byte for byte the same (exit 2 when one does
not). With it, ``property_snapshots`` holds only the window's days whole, and a year of
its history is the newest complete month compacted (data + index), per day, times the
days outside the window. Target: a year of the measured ZIPs within 512 MB, that year
with the history (exit 1 when it is not). ``property_snapshots``' documents
are sampled (~1,000) for what their ``provenance`` field and null fields weigh.

    uv run python benchmarks/storage_growth.py
    uv run python benchmarks/storage_growth.py --days 20 --zips 85003,85018
    uv run python benchmarks/storage_growth.py --mongo-uri mongodb://localhost:27017
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any

import bson
import dagster as dg
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient
from pymongo.database import Database
from run_jobs import timed_run
from support import dagster_home, machine, mongo_uri, prepare_run_environment, server_name

from phoenix_assets.settings import (
    DEFAULT_ZIP_CODES,
    PHOENIX_DEMO_SCALE,
    PHOENIX_SOURCES,
    PHOENIX_ZIP_CODES,
    parse_sources,
    parse_zip_codes,
)
from phoenix_assets.storage.retention import (
    DEMO_RAW_COLLECTION,
    RAW_COLLECTIONS,
    demo_raw_retention_days,
    raw_retention_days,
)
from phoenix_assets.storage.snapshot_history import (
    compact_snapshots,
    history_collection,
    snapshot_daily_days,
)
from phoenix_assets.storage.store import PartitionStore

LAST_DAY = dt.date(2026, 11, 15)  # as backfill.py
YEAR_DAYS = 365
METRO_ZIPS = 150
MB = 1024**2  # Atlas's "512 MB" quota is 512 x 2^20 bytes
FREE_TIER = 512 * MB
NEXT_TIER = 5 * 1024 * MB
INDEX_ENTRY_OVERHEAD = 16  # bytes an index entry beyond its key: record id, B-tree
SAMPLE = 1_000
SNAPSHOTS = "property_snapshots"
HISTORY = history_collection(SNAPSHOTS)
DEFAULT_DAYS = 46  # 2026-10-01 to 11-15: October is a whole month of history


def weekly_trends() -> dg.JobDefinition:
    """The product's weekly job, importable by the step processes (as run_jobs' daily)."""
    from phoenix_assets.definitions import defs

    return defs.resolve_job_def("weekly_trends")


@dataclass
class Collection:
    """One collection read whole."""

    docs: int = 0
    data: int = 0  # sum of the documents' BSON sizes
    index_estimate: int = 0
    index_reported: int = 0  # the server's totalIndexSize
    server_size: int = 0  # the server's collStats size
    by_day: dict[str, list[int]] = field(default_factory=dict)  # partition: [docs, bytes]


@dataclass
class Anatomy:
    """What ``property_snapshots``' sampled documents are made of."""

    docs: int = 0
    total: int = 0
    provenance: int = 0
    provenance_entries: int = 0
    nulls: int = 0
    null_fields: int = 0
    names: int = 0


def _value_bytes(value: Any) -> int:
    """The BSON size of one index key value: its type byte and its value."""
    return len(bson.encode({"": value})) - 5  # less the document's length, name and end


def _element_bytes(name: str, value: Any) -> int:
    return len(bson.encode({name: value})) - 5


def measure(db: Database[Any], anatomy: Anatomy | None = None) -> dict[str, Collection]:
    """Every collection, read document by document; ``anatomy`` samples the snapshots."""
    raw_options: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)
    state: dict[str, Collection] = {}
    for name in sorted(db.list_collection_names()):
        stats = db.command("collStats", name)
        coll = Collection(
            index_reported=int(stats.get("totalIndexSize") or 0),
            server_size=int(stats.get("size") or 0),
        )
        keys = [list(index["key"]) for index in db[name].list_indexes()]
        stride = max(1, math.ceil(int(stats.get("count") or 0) / SAMPLE))
        for position, raw in enumerate(db.get_collection(name, codec_options=raw_options).find()):
            size = len(raw.raw)
            coll.docs += 1
            coll.data += size
            for fields in keys:
                coll.index_estimate += INDEX_ENTRY_OVERHEAD + sum(
                    _value_bytes(raw.get(f)) for f in fields
                )
            day = raw.get("partition_key")
            if isinstance(day, str):
                entry = coll.by_day.setdefault(day, [0, 0])
                entry[0] += 1
                entry[1] += size
            if anatomy is not None and name == SNAPSHOTS and position % stride == 0:
                _dissect(bson.decode(raw.raw), size, anatomy)
        state[name] = coll
    return state


def _dissect(doc: dict[str, Any], size: int, anatomy: Anatomy) -> None:
    anatomy.docs += 1
    anatomy.total += size
    provenance = doc.get("provenance")
    if provenance is not None:
        anatomy.provenance += _element_bytes("provenance", provenance)
        anatomy.provenance_entries += len(provenance)
    for key, value in doc.items():
        anatomy.names += len(key.encode()) + 1
        if value is None:
            anatomy.nulls += _element_bytes(key, None)  # type byte + name: a null has no value
            anatomy.null_fields += 1


def clear(uri: str, database: str) -> None:
    client: MongoClient[dict[str, Any]]
    with MongoClient(uri) as client:
        client.drop_database(database)


def complete_weeks(first: dt.date, last: dt.date) -> list[dt.date]:
    """Mondays of the Monday-to-Sunday weeks inside [first, last]."""
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    weeks = []
    while monday + dt.timedelta(days=6) <= last:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


def run_half(
    instance: dg.DagsterInstance, first: dt.date, last: dt.date, weeks: list[dt.date]
) -> float:
    """Days ``first``..``last`` as one run (a single-run backfill), then their weeks."""
    started = time.perf_counter()
    timed_run(
        instance,
        "daily_pipeline",
        {
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
    )
    if weeks:
        result = dg.execute_job(
            dg.reconstructable(weekly_trends),
            instance,
            tags={
                "dagster/asset_partition_range_start": weeks[0].isoformat(),
                "dagster/asset_partition_range_end": weeks[-1].isoformat(),
            },
        )
        if not result.success:
            raise SystemExit(f"the weekly_trends run {result.run_id} failed; see its event log")
    return time.perf_counter() - started


def _mb(value: float) -> str:
    return f"{value / MB:,.1f}"


@dataclass(frozen=True)
class Growth:
    """One collection at the end and its growth per day over the measured days."""

    name: str
    docs: int
    data: int
    index: int
    docs_day: float
    data_day: float
    index_day: float
    year: float  # data + index after YEAR_DAYS days


def growth(
    before: dict[str, Collection],
    after: dict[str, Collection],
    *,
    days: int,
    steady_days: int,
    reported_index: bool,
    retention: int,
    windows: dict[str, int] | None = None,
) -> list[Growth]:
    rows = []
    for name, now in after.items():
        then = before.get(name, Collection())
        index_now, index_then = (
            (now.index_reported, then.index_reported)
            if reported_index
            else (now.index_estimate, then.index_estimate)
        )
        data_day = (now.data - then.data) / steady_days
        index_day = (index_now - index_then) / steady_days
        # Raw partitions older than the retention window are dropped: a raw collection
        # stops growing once it holds that many days.
        # (A collection with a window of its own, the demo's raw data, keeps fewer.)
        window = min(retention, (windows or {}).get(name, retention))
        kept = min(YEAR_DAYS, window) if name in RAW_COLLECTIONS else YEAR_DAYS
        held = (now.data + index_now) * min(1.0, kept / days)
        year = held + max(0, kept - days) * (data_day + index_day)
        rows.append(
            Growth(
                name,
                now.docs,
                now.data,
                index_now,
                (now.docs - then.docs) / steady_days,
                data_day,
                index_day,
                year,
            )
        )
    return rows


def print_table(rows: list[Growth], index_label: str) -> Growth:
    """The per-collection table; returns the total."""
    total = Growth(
        "total",
        sum(r.docs for r in rows),
        sum(r.data for r in rows),
        sum(r.index for r in rows),
        sum(r.docs_day for r in rows),
        sum(r.data_day for r in rows),
        sum(r.index_day for r in rows),
        sum(r.year for r in rows),
    )
    print(
        f"{'collection':28} {'docs':>9} {'data MB':>8} {'avg B':>6} {index_label + ' MB':>17}"
        f" {'docs/day':>9} {'data B/day':>11} {'index B/day':>11} {'year MB':>8}"
    )
    for row in [*sorted(rows, key=lambda r: -r.year), total]:
        average = row.data / row.docs if row.docs else 0
        print(
            f"{row.name:28} {row.docs:9,} {_mb(row.data):>8} {average:6,.0f} "
            f"{_mb(row.index):>17} {row.docs_day:9,.1f} {row.data_day:11,.0f} "
            f"{row.index_day:11,.0f} {_mb(row.year):>8}"
        )
    return total


def print_server_figures(after: dict[str, Collection], data: int, db_stats: dict[str, Any]) -> None:
    """What the server itself reports, against what the table prints."""
    size = sum(c.server_size for c in after.values())
    print(
        f"Server's own figures: collStats size {_mb(size)} MB in all "
        f"({size / data if data else 0:.2f}x the BSON sum); collStats totalIndexSize "
        f"{_mb(sum(c.index_reported for c in after.values()))} MB in all (estimate from the "
        f"keys: {_mb(sum(c.index_estimate for c in after.values()))} MB); dbStats dataSize "
        f"{_mb(db_stats.get('dataSize', 0))} MB, indexSize {_mb(db_stats.get('indexSize', 0))} "
        f"MB, storageSize {_mb(db_stats.get('storageSize', 0))} MB"
    )


def print_trends(rows: list[Growth], after: dict[str, Collection], window: list[str]) -> None:
    """Is the per-day growth steady? Per partition, for the collections that grow most."""
    daily = sum(r.data_day for r in rows)
    for row in sorted(rows, key=lambda r: -r.data_day):
        by_day = after[row.name].by_day
        if row.data_day < 0.05 * daily or not by_day:
            continue
        docs = [by_day.get(day, [0, 0])[0] for day in window]
        sizes = [by_day.get(day, [0, 0])[1] for day in window]
        drift = statistics.linear_regression(range(len(window)), sizes).slope
        mean = statistics.fmean(sizes)
        print(
            f"  {row.name}, {window[0]} to {window[-1]}: {min(docs):,}-{max(docs):,} documents "
            f"a day (first {docs[0]:,}, last {docs[-1]:,}); its bytes a day drift "
            f"{drift / mean if mean else 0:+.2%} a day"
        )


def print_anatomy(anatomy: Anatomy, snapshots: Growth) -> None:
    """What a snapshot document is made of: the candidate savings."""
    n = anatomy.docs
    average = anatomy.total / n
    print(
        f"{SNAPSHOTS}: {n:,} documents sampled evenly of {snapshots.docs:,}, "
        f"{average:,.0f} B on average (BSON):"
    )
    for label, part, note in (
        ("provenance field", anatomy.provenance, f"{anatomy.provenance_entries / n:.1f} entries"),
        ("null fields (type byte + name)", anatomy.nulls, f"{anatomy.null_fields / n:.1f} fields"),
        ("top-level field names (all)", anatomy.names, "null fields' names included"),
    ):
        print(f"  {label:31} {part / n:7,.0f} B {part / anatomy.total:6.1%}  ({note})")
    lean = 1 - (anatomy.provenance + anatomy.nulls) / anatomy.total
    print(
        f"  without provenance and null fields: {average * lean:,.0f} B a document; the "
        f"snapshots' data would grow {snapshots.data_day * lean / MB:.2f} MB a day instead of "
        f"{snapshots.data_day / MB:.2f}"
    )


def _tier(year: float, now: float, per_day: float, days: int, limit: float) -> str:
    """Whether a year fits ``limit``, else the day the database reaches it at the per-day
    rate (that of the days after the measured ones, raw windows applied)."""
    if year <= limit:
        return "fits"
    if per_day <= 0:
        return f"over by day {days}"
    return f"full on day {max(1, math.ceil(days + (limit - now) / per_day))}"


def print_year(
    total: Growth, zips: int, days: int, index_label: str, *, verdict: bool = True
) -> bool:
    """A year against the free tier and the next; whether the measured ZIPs' year fits."""
    now = total.data + total.index
    # The growth a day from here on: a raw collection past its window grows no more.
    per_day = (
        (total.year - now) / (YEAR_DAYS - days)
        if days < YEAR_DAYS
        else total.data_day + total.index_day
    )
    scale = METRO_ZIPS / zips
    print(f"A year ({YEAR_DAYS} days), data + {index_label}, in MB of 2^20 bytes:")
    for label, factor in ((f"{zips} ZIPs", 1.0), (f"{METRO_ZIPS} ZIPs (x{scale:g})", scale)):
        year = total.year * factor
        tiers = "; ".join(
            f"{tier}: {_tier(year, now * factor, per_day * factor, days, limit)}"
            for tier, limit in (("512 MB", FREE_TIER), ("5 GB", NEXT_TIER))
        )
        print(f"  {label:17} {_mb(year):>9} MB, {per_day * factor / MB:6.2f} MB a day; {tiers}")
    fits = total.year <= FREE_TIER
    if not verdict:
        return fits
    print(
        f"a year of {zips} ZIPs: {_mb(total.year)} MB  "
        f"{'ok' if fits else 'MISSED'} (target <= 512 MB, the Atlas free tier)"
    )
    return fits


@dataclass
class History:
    """The snapshot history after the morning's compaction."""

    daily_days: int
    seconds: float
    days_compacted: list[str]
    mismatched: list[str]
    month: str = ""  # the newest month compacted whole ("" when none is)
    month_days: int = 0
    month_docs: int = 0
    month_data: int = 0
    month_index: int = 0  # estimated as ``measure`` estimates
    whole_month_data: int = 0  # what the month's days took whole (BSON)
    after: dict[str, Collection] = field(default_factory=dict)  # every collection, after


def _exact(db: Database[Any], day: str) -> list[bytes]:
    documents = PartitionStore(db, SNAPSHOTS).read([day])
    return [bson.encode(doc) for doc in sorted(documents, key=lambda d: d["_id"])]


def compact_history(db: Database[Any], first: dt.date) -> History:
    """Compact as the daily job would the morning after ``LAST_DAY``; every day must read
    back the same; the newest whole month, measured."""
    days = [(first + dt.timedelta(days=n)).isoformat() for n in range((LAST_DAY - first).days + 1)]
    before = {day: _exact(db, day) for day in days}
    daily_days = snapshot_daily_days()
    started = time.perf_counter()
    results = compact_snapshots(
        db, SNAPSHOTS, today=LAST_DAY + dt.timedelta(days=1), daily_days=daily_days
    )
    seconds = time.perf_counter() - started
    mismatched = [day for day in days if _exact(db, day) != before[day]]
    whole_months = [
        r
        for r in results
        if r.days_held == len({d for d in days if d.startswith(r.month)}) and r.days_held >= 28
    ]
    chosen = whole_months[-1] if whole_months else (results[-1] if results else None)
    history = History(
        daily_days, seconds, [d for r in results for d in r.days_compacted], mismatched
    )
    history.after = measure(db)
    if chosen is None:
        return history
    keys = [list(index["key"]) for index in db[HISTORY].list_indexes()]
    raw_options: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)
    for raw in db.get_collection(HISTORY, codec_options=raw_options).find({"month": chosen.month}):
        history.month_docs += 1
        history.month_data += len(raw.raw)
        for fields in keys:
            history.month_index += INDEX_ENTRY_OVERHEAD + sum(
                _value_bytes(raw.get(f)) for f in fields
            )
    history.month = chosen.month
    history.month_days = chosen.days_held
    history.whole_month_data = chosen.whole_bytes
    return history


def print_history(
    history: History, rows: list[Growth], snapshots: Growth | None, reported: bool
) -> Growth:
    """The snapshot history measured, and the year's total with it."""
    print(
        f"Snapshot history (PHOENIX_SNAPSHOT_DAILY_DAYS={history.daily_days}): the morning "
        f"after {LAST_DAY} moved {len(history.days_compacted)} days in {history.seconds:.0f}s; "
        "every day of the run reads back byte for byte as it was stored"
    )
    if not history.month or snapshots is None:
        print("  no month compacted: run more days (--days) for a year with the history")
        return Growth("total", 0, 0, 0, 0, 0, 0, sum(r.year for r in rows))
    per_day = (history.month_data + history.month_index) / history.month_days
    whole_day = snapshots.data_day + snapshots.index_day
    print(
        f"  {history.month}, {history.month_days} days: {history.month_docs:,} documents, "
        f"{_mb(history.month_data)} MB data + {_mb(history.month_index)} MB index (est.) for "
        f"{_mb(history.whole_month_data)} MB of whole documents: {per_day / 1024:,.0f} KB a day "
        f"against {whole_day / 1024:,.0f} KB a day whole ({whole_day / per_day:.1f}x smaller)"
        + ("" if history.month_days >= 28 else "; a part month: its bases weigh more")
    )
    window = history.daily_days + 1  # today's day joins before the morning's compaction
    kept_whole = min(YEAR_DAYS, window) * whole_day
    in_history = max(0, YEAR_DAYS - window) * per_day
    year_rows = [r for r in rows if r.name not in (SNAPSHOTS, HISTORY)]
    year_rows.append(replace(snapshots, year=kept_whole))
    year_rows.append(Growth(HISTORY, 0, 0, 0, 0, 0, 0, in_history))
    after = history.after.values()
    total = Growth(
        "total",
        sum(c.docs for c in after),
        sum(c.data for c in after),
        sum(c.index_reported if reported else c.index_estimate for c in after),
        0,
        sum(r.data_day for r in rows) - snapshots.data_day + per_day,
        sum(r.index_day for r in rows) - snapshots.index_day,
        sum(r.year for r in year_rows),
    )
    print(f"A year with the history, by collection ({'index' if reported else 'index (est.)'}):")
    for row in sorted(year_rows, key=lambda r: -r.year):
        print(f"  {row.name:28} {_mb(row.year):>9} MB")
    print(
        f"  property_snapshots: {window} days whole ({_mb(kept_whole)} MB); the history: "
        f"{YEAR_DAYS - window} days at {per_day / 1024:,.0f} KB ({_mb(in_history)} MB)"
    )
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument(
        "--warm-up-days",
        type=int,
        default=None,
        help="days not counted in the steady state (default: a third of --days)",
    )
    parser.add_argument(
        "--zips",
        default=",".join(DEFAULT_ZIP_CODES),
        help="comma list of ZIP codes (default: the project's ten)",
    )
    parser.add_argument("--mongo-uri", help="a real MongoDB (default: embedded server)")
    args = parser.parse_args(argv)
    warm_up = args.days // 3 if args.warm_up_days is None else args.warm_up_days
    if args.days < 2 or not 1 <= warm_up < args.days:
        parser.error("need --days >= 2 and 1 <= --warm-up-days < --days")
    zips = parse_zip_codes(args.zips)
    os.environ[PHOENIX_ZIP_CODES] = ",".join(zips)
    prepare_run_environment(os.environ)
    database = os.environ["MONGODB_DATABASE"] = f"bench_storage_{os.getpid()}"
    first = LAST_DAY - dt.timedelta(days=args.days - 1)
    split = first + dt.timedelta(days=warm_up)  # the first day of the steady state
    steady_days = args.days - warm_up
    weeks = complete_weeks(first, LAST_DAY)
    early = [w for w in weeks if w + dt.timedelta(days=6) < split]
    late = [w for w in weeks if w not in early]

    anatomy = Anatomy()
    with mongo_uri(args.mongo_uri) as uri, dagster_home():
        os.environ["MONGODB_URI"] = uri
        clear(uri, database)
        client: MongoClient[dict[str, Any]]
        with dg.DagsterInstance.get() as instance, MongoClient(uri) as client:
            db: Database[dict[str, Any]] = client[database]
            first_half_s = run_half(instance, first, split - dt.timedelta(days=1), early)
            started = time.perf_counter()
            before = measure(db)
            read_s = time.perf_counter() - started
            second_half_s = run_half(instance, split, LAST_DAY, late)
            started = time.perf_counter()
            after = measure(db, anatomy)
            read_s += time.perf_counter() - started
            db_stats = db.command("dbStats")
            history = compact_history(db, first)
        clear(uri, database)
        name = server_name(uri, args.mongo_uri)

    reported = any(c.index_reported for c in after.values())
    index_label = "index" if reported else "index (est.)"
    retention = raw_retention_days()
    demo_days = demo_raw_retention_days()
    sources = parse_sources(os.environ.get(PHOENIX_SOURCES))
    scale = os.environ.get(PHOENIX_DEMO_SCALE)
    print(f"Machine: {machine()}")
    print(
        f"Server: {name}; {len(zips)} ZIPs ({','.join(zips)}); sources: {','.join(sources)}"
        + (f"; {PHOENIX_DEMO_SCALE}={scale}" if scale else "")
    )
    print(
        f"{args.days} days, {first} to {LAST_DAY}, as two runs: {warm_up} days of warm-up "
        f"({first_half_s:.0f}s), then {steady_days} measured ({second_half_s:.0f}s); weekly "
        f"trends for {len(weeks)} complete weeks, {len(late)} in the measured days; reading "
        f"every document after each took {read_s:.0f}s"
    )
    print(
        f"Per day: growth from the end of day {warm_up} to the end of day {args.days}, "
        f"/ {steady_days}. Data: the documents' BSON sizes. {index_label}: "
        + (
            "the server's totalIndexSize."
            if reported
            else f"per index and document, the key values' BSON + {INDEX_ENTRY_OVERHEAD} B."
        )
    )
    print(
        f"Year: the database after day {args.days} + {YEAR_DAYS - args.days} days at the "
        f"per-day rate (raw collections keep {retention} days: PHOENIX_RAW_RETENTION_DAYS; "
        f"the demo's {min(demo_days, retention)}: PHOENIX_DEMO_RAW_RETENTION_DAYS)."
    )
    print()
    rows = growth(
        before,
        after,
        days=args.days,
        steady_days=steady_days,
        reported_index=reported,
        retention=retention,
        windows={DEMO_RAW_COLLECTION: demo_days},
    )
    total = print_table(rows, index_label)
    print()
    print_server_figures(after, total.data, db_stats)
    print("Steady? Per partition over the measured days:")
    print_trends(
        rows, after, [(split + dt.timedelta(days=n)).isoformat() for n in range(steady_days)]
    )
    print()
    snapshots = next((r for r in rows if r.name == SNAPSHOTS), None)
    if anatomy.docs and snapshots is not None:
        print_anatomy(anatomy, snapshots)
        print()
    print_year(total, len(zips), args.days, index_label, verdict=False)
    print()
    if history.mismatched:
        print(f"MISMATCH: {', '.join(history.mismatched)} read back differently after compaction")
        return 2
    with_history = print_history(history, rows, snapshots, reported)
    print()
    return 0 if print_year(with_history, len(zips), args.days, index_label) else 1


if __name__ == "__main__":
    sys.exit(main())
