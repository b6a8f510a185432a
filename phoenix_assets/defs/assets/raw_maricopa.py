"""Raw Maricopa County Assessor parcels: the day's listed, changed, new and stale parcels'
records, verbatim."""

import asyncio
import datetime as dt
import time

import dagster as dg

from phoenix_assets.defs.assets.raw_network import (
    collection_day,
    collection_figures,
    network_raw_asset,
    record_failures,
    skip_unless_ready,
    store_raw,
)
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.sources.maricopa import WORK_FIGURES, collect_parcels
from phoenix_assets.sources.source_resources import MaricopaApiResource
from phoenix_assets.storage.listed_parcels import DayListings
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.parcel_inventory import MongoParcelInventory, seed_from_raw

SOURCE = "maricopa"
ASSET = "raw_maricopa_parcels"


@network_raw_asset(SOURCE)
def raw_maricopa_parcels(
    context: dg.AssetExecutionContext,
    pipeline: PipelineConfig,
    maricopa: MaricopaApiResource,
    mongo: MongoResource,
    metrics: MetricsExporter,
) -> dg.MaterializeResult:
    """Parcel records from the Maricopa County Assessor API (source `maricopa`), verbatim.

    The metro holds ~1.7 million parcels, so a day spends its request budget
    (`MARICOPA_DAILY_REQUEST_BUDGET`) by priority: first the parcels the day's listings
    point at whose record is missing or older than `MARICOPA_STALE_AFTER_DAYS`; then the
    search passes due (each ZIP's parcel list, kept in `assessor_parcel_inventory`, is
    searched again every `MARICOPA_SEARCH_EVERY_DAYS`, about 1/N of the ZIPs a day, a
    large ZIP paging on across days); then parcels whose search row changed, parcels
    never fetched, and the stalest. Searched, fetched and deferred work is counted in
    the metadata (`count_*`). A failing ZIP is recorded in `collection_failures` and
    retried next run; the run fails only if every ZIP failed.
    """
    started = time.monotonic()
    db = mongo.get_database()
    now = dt.datetime.now(dt.UTC)
    settings = maricopa.settings()
    skipped = skip_unless_ready(
        context,
        db,
        asset=ASSET,
        source=SOURCE,
        enabled=SOURCE in pipeline.source_list,
        configured=settings.configured,
        what_to_set="set MARICOPA_API_TOKEN to collect from it",
        collected_at=now,
        metrics=metrics,
        started=started,
    )
    if skipped:
        return skipped

    zip_codes = pipeline.zip_code_list
    day = collection_day(context.partition_keys)
    inventory = MongoParcelInventory(db)
    seeded = seed_from_raw(inventory, ASSET)
    if seeded:
        context.log.info(f"parcel inventory seeded with the fetch days of {seeded} stored parcels")
    result = asyncio.run(
        collect_parcels(settings, zip_codes, inventory, day=day, listed=DayListings(db, day))
    )
    record_failures(db, result, zip_codes, context.partition_keys)
    metadata = store_raw(context, db, asset=ASSET, source=SOURCE, result=result, collected_at=now)
    # Only once stored: what the inventory says was fetched is always in the raw store.
    inventory.record_fetches(day, [(r.source_id, r.zip_code) for r in result.records])
    record_run_figures(
        context, metrics, collection_figures(result, zip_codes, started, WORK_FIGURES)
    )
    return dg.MaterializeResult(metadata={**metadata, "enabled": True, "configured": True})
