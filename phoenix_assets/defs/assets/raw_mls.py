"""Raw MLS listings through a RESO Web API: each day's versions, appended to a version log."""

import asyncio
import datetime as dt
import time
from collections.abc import Sequence

import dagster as dg

from phoenix_assets.defs.assets.raw_network import (
    collection_figures,
    network_raw_asset,
    raw_collection_metadata,
    record_failures,
    skip_unless_ready,
)
from phoenix_assets.domain.snapshots import ENDED_VISIBLE_DAYS
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.partitions import day_start
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.sources.envelope import raw_document
from phoenix_assets.sources.mls import ZipWindow, collect_listings, modification_time
from phoenix_assets.sources.source_resources import MlsResoResource
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.store import PartitionStore
from phoenix_assets.storage.version_log import (
    append_versions,
    baseline_zips,
    record_baselines,
    version_document,
)

SOURCE = "mls"
ASSET = "raw_mls_listings"


def day_windows(
    zip_codes: Sequence[str], first_day: str, overlap: dt.timedelta, with_baseline: set[str]
) -> dict[str, ZipWindow]:
    """What each ZIP is asked for, for a run whose first day is ``first_day``.

    Every ZIP: the records modified since that day began, less ``overlap`` (records
    that became visible late). A ZIP whose standing inventory was never taken on or
    before that day: its whole inventory too, and the records modified in the week
    before (listings that ended then are still shown).
    """
    since = day_start(first_day) - overlap
    ended_window = day_start(first_day) - dt.timedelta(days=ENDED_VISIBLE_DAYS)
    return {
        zip_code: ZipWindow(since=since)
        if zip_code in with_baseline
        else ZipWindow(since=min(since, ended_window), inventory=True)
        for zip_code in zip_codes
    }


@network_raw_asset(SOURCE)
def raw_mls_listings(
    context: dg.AssetExecutionContext,
    pipeline: PipelineConfig,
    mls: MlsResoResource,
    mongo: MongoResource,
    metrics: MetricsExporter,
) -> dg.MaterializeResult:
    """Phoenix-area MLS listings from a RESO Web API feed (source `mls`), verbatim, as a
    version log.

    Each ZIP is asked for the `Property` records modified since the run's first day
    began (less `MLS_RESO_OVERLAP_HOURS`), paged through `@odata.nextLink`; a ZIP seen
    for the first time is first asked for its whole standing inventory. Every version is
    appended once (`_id` = `mls:<ListingKey>:<ModificationTimestamp>`, partition = the
    Phoenix day it was modified): a re-run, a retry or a backfill adds versions and never
    deletes one. A past day can be asked again only for what has not changed since: a
    RESO server keeps only each record's latest version.
    """
    started = time.monotonic()
    db = mongo.get_database()
    now = dt.datetime.now(dt.UTC)
    settings = mls.settings()
    partitions = list(context.partition_keys)
    skipped = skip_unless_ready(
        context,
        db,
        asset=ASSET,
        source=SOURCE,
        enabled=SOURCE in pipeline.source_list,
        configured=settings.configured,
        what_to_set="set MLS_RESO_BASE_URL and MLS_RESO_TOKEN (or MLS_RESO_CLIENT_ID, "
        "MLS_RESO_CLIENT_SECRET and MLS_RESO_TOKEN_URL)",
        collected_at=now,
        metrics=metrics,
        started=started,
        append_only=True,
    )
    if skipped:
        return skipped

    zip_codes = pipeline.zip_code_list
    with_baseline = baseline_zips(db, SOURCE, zip_codes, on_or_before=partitions[0])
    windows = day_windows(
        zip_codes, partitions[0], dt.timedelta(hours=settings.overlap_hours), with_baseline
    )
    result = asyncio.run(collect_listings(settings, zip_codes, windows, now=now))
    record_failures(
        db,
        result,
        zip_codes,
        partitions,
        # A ZIP with a baseline was asked only for its changes: no count to expect.
        changes_only=[z for z, w in windows.items() if not w.inventory],
    )
    versions = (
        version_document(
            raw_document(
                source=SOURCE,
                source_id=record.source_id,
                zip_code=record.zip_code,
                payload=record.payload,
                collected_at=now,
                partition_key="",  # set from the version's modification day
            ),
            modified=modification_time(record.payload, now),
            collected_at=now,
        )
        for record in result.records
    )
    appended = append_versions(db, ASSET, versions, stored_at=now)
    PartitionStore(db, ASSET).mark_written(partitions, run_id=context.run.run_id)
    failed = set(result.zip_codes_failed)
    inventories = [z for z, w in windows.items() if w.inventory and z not in failed]
    # Only after its versions are stored: a baseline promises the inventory is in the log.
    record_baselines(db, SOURCE, inventories, partitions[0])
    record_run_figures(context, metrics, collection_figures(result, zip_codes, started))
    return dg.MaterializeResult(
        metadata={
            **raw_collection_metadata(db.name, ASSET, partitions, result),
            "enabled": True,
            "configured": True,
            "versions_new": appended.new,
            "versions_already_stored": appended.known,
            "versions_new_by_day": dg.MetadataValue.json(
                dict(sorted(appended.new_by_partition.items()))
            ),
            "asked_since": dg.MetadataValue.json(
                {z: w.since.isoformat() for z, w in sorted(windows.items())}
            ),
            "inventory_taken_for": dg.MetadataValue.json(sorted(inventories)),
        }
    )
