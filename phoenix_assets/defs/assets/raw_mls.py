"""Raw MLS listings through a RESO Web API: what changed since each ZIP's watermark."""

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
from phoenix_assets.sources.mls import collect_listings
from phoenix_assets.sources.source_resources import MlsResoResource
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.watermarks import WatermarkStore, day_start_watermarks

SOURCE = "mls"
ASSET = "raw_mls_listings"


@network_raw_asset(SOURCE)
def raw_mls_listings(
    context: dg.AssetExecutionContext,
    pipeline: PipelineConfig,
    mls: MlsResoResource,
    mongo: MongoResource,
    metrics: MetricsExporter,
) -> dg.MaterializeResult:
    """Phoenix-area MLS listings from a RESO Web API feed (source `mls`), verbatim.

    Incremental per ZIP: the `Property` resource filtered by `PostalCode` and
    `ModificationTimestamp gt <watermark>`, paged through `@odata.nextLink`. The raw
    documents are stored first; only then does each fully fetched ZIP's watermark
    advance, so a run that dies half-way re-fetches and never skips a change. A re-run
    of a day starts from the watermarks that day first started from, so replacing the
    day's partition never loses what an earlier run of it stored.
    """
    started = time.monotonic()
    db = mongo.get_database()
    now = dt.datetime.now(dt.UTC)
    settings = mls.settings()
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
    )
    if skipped:
        return skipped

    zip_codes = pipeline.zip_code_list
    day = collection_day(context.partition_keys)
    watermarks = WatermarkStore(db)
    # A re-run of a day starts where the day's first run started (see day_start_watermarks).
    starts = day_start_watermarks(db, SOURCE, day, zip_codes, watermarks.get_all(SOURCE))
    result, advanced = asyncio.run(collect_listings(settings, zip_codes, starts, now=now))
    record_failures(db, result, zip_codes, context.partition_keys)
    metadata = store_raw(context, db, asset=ASSET, source=SOURCE, result=result, collected_at=now)
    for zip_code, watermark in advanced.items():  # only after the documents are stored
        watermarks.advance(SOURCE, zip_code, watermark)
    record_run_figures(context, metrics, collection_figures(result, zip_codes, started))
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "enabled": True,
            "configured": True,
            "watermarks": dg.MetadataValue.json(
                {z: w.isoformat() for z, w in sorted(advanced.items())}
            ),
        }
    )
