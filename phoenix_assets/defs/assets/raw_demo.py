"""Raw demo listings: the offline source's payloads verbatim, one document per listing per day."""

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg

from phoenix_assets.defs.automation.policies import STEP_RETRY_POLICY, raw_freshness_policy
from phoenix_assets.failures import retry_transient_only
from phoenix_assets.metrics.figures import raw_figures
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.sources.demo import DEMO_SOURCE, demo_listing_keys, demo_listings
from phoenix_assets.sources.envelope import raw_document
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_store import NATURAL_KEY, SOURCE
from phoenix_assets.storage.store import PREVIEW_ROWS, PartitionStore, StoredRecords

ASSET_NAME = "raw_demo_listings"
# The storage contract's natural key of a raw document (``demo:<ListingKey>:<day>``).
RAW_KEY = ["source", "source_id"]


def _collected_at(partition_key: str) -> dt.datetime:
    # Demo data describes the end of its day; a fixed timestamp keeps re-runs identical.
    start = daily_partitions.time_window_for_partition_key(partition_key).end
    return start.astimezone(dt.UTC)


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=STEP_RETRY_POLICY,
    freshness_policy=raw_freshness_policy(),
    group_name="raw",
    kinds={"python", "mongodb"},
    pool="source_demo",
    metadata={NATURAL_KEY: RAW_KEY, SOURCE: DEMO_SOURCE},
    tags={"source": DEMO_SOURCE},
)
@retry_transient_only
def raw_demo_listings(
    context: dg.AssetExecutionContext,
    mongo: MongoResource,
    pipeline: PipelineConfig,
    metrics: MetricsExporter,
) -> dg.Output[None]:
    """Synthetic, deterministic Phoenix listings (source `demo`): clearly labelled demo data.

    Offline and seeded by ZIP and day, the listings live through days as real ones do:
    they appear, get price cuts, go pending, close or are withdrawn. The default source,
    so the whole graph has something true to show with no credentials configured.
    One document per listing per day: the RESO-shaped payload plus the raw envelope.
    A range is generated and stored one day at a time, and a day one ZIP at a time.
    """
    started = time.monotonic()
    store = PartitionStore(mongo.get_database(), ASSET_NAME)
    enabled = DEMO_SOURCE in pipeline.source_list
    stored = StoredRecords(ASSET_NAME, [])
    per_zip: dict[str, int] = {}
    # A disabled source stores its days empty: a day with nothing from it is complete.
    zip_codes = pipeline.zip_code_list if enabled else []
    for partition_key in context.partition_keys:
        day = dt.date.fromisoformat(partition_key)
        stored.add(
            store.store(
                [partition_key],
                _day_documents(day, zip_codes, pipeline.demo_scale, per_zip),
                natural_key=RAW_KEY,
                partition_field="partition_key",
                asset=ASSET_NAME,
                run_id=context.run.run_id,
                # The ids first, then the payloads drawn ZIP by ZIP as they are written:
                # a day of 50,000 listings as one list was ~60 MB more at its peak.
                id_fields=(
                    {"source": DEMO_SOURCE, "source_id": key, "partition_key": partition_key}
                    for zip_code in zip_codes
                    for key in demo_listing_keys(zip_code, day, scale=pipeline.demo_scale)
                ),
            )
        )
    if enabled:
        metadata: dict[str, Any] = {
            "enabled": True,
            "demo_data": True,
            "zip_codes": len(pipeline.zip_code_list),
            "listings_per_zip": dg.MetadataValue.json(per_zip),
        }
    else:
        context.log.info("source 'demo' is not in PHOENIX_SOURCES: nothing collected")
        metadata = {"enabled": False}
    record_run_figures(
        context, metrics, raw_figures(source=DEMO_SOURCE, started=started, documents_by_zip=per_zip)
    )
    # Stored already, day by day (the IO manager stores nothing for None).
    return dg.Output(None, metadata={**stored.metadata(mongo.database, PREVIEW_ROWS), **metadata})


def _day_documents(
    day: dt.date, zip_codes: Sequence[str], scale: float, per_zip: dict[str, int]
) -> Iterator[dict[str, Any]]:
    """The day's raw documents, every target ZIP's listings; counted into ``per_zip``."""
    partition_key = day.isoformat()
    collected_at = _collected_at(partition_key)
    for zip_code in zip_codes:
        listings = demo_listings(zip_code, day, scale=scale)
        per_zip[zip_code] = per_zip.get(zip_code, 0) + len(listings)
        for payload in listings:
            yield raw_document(
                source=DEMO_SOURCE,
                source_id=payload["ListingKey"],
                zip_code=zip_code,
                payload=payload,
                collected_at=collected_at,
                partition_key=partition_key,
            )
