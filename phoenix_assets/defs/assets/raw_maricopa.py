"""Raw Maricopa County Assessor parcels: new and stale parcels' records, verbatim."""

import asyncio
import datetime as dt
import time

import dagster as dg

from phoenix_assets.defs.assets.raw_network import (
    collection_day,
    collection_figures,
    last_collected,
    network_raw_asset,
    record_failures,
    skip_unless_ready,
    store_raw,
)
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.sources.maricopa import collect_parcels
from phoenix_assets.sources.source_resources import MaricopaApiResource
from phoenix_assets.storage.mongo_resource import MongoResource

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

    A ZIP holds thousands of parcels, so a day refreshes only parcels that are new or
    stale (`MARICOPA_STALE_AFTER_DAYS`), new first, then the stalest, within the day's
    request budget (`MARICOPA_DAILY_REQUEST_BUDGET`). Each skip-or-fetch decision is
    counted in the metadata. A failing ZIP is recorded in `collection_failures` and
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
    known = last_collected(db, ASSET, before=day)
    result = asyncio.run(collect_parcels(settings, zip_codes, known, now=now))
    record_failures(db, result, zip_codes, context.partition_keys)
    metadata = store_raw(context, db, asset=ASSET, source=SOURCE, result=result, collected_at=now)
    record_run_figures(context, metrics, collection_figures(result, zip_codes, started))
    return dg.MaterializeResult(metadata={**metadata, "enabled": True, "configured": True})
