"""Raw demo listings: the offline source's payloads verbatim, one document per listing per day."""

import datetime as dt
import time
from typing import Any

import dagster as dg

from phoenix_assets.defs.automation.policies import STEP_RETRY_POLICY, raw_freshness_policy
from phoenix_assets.failures import retry_transient_only
from phoenix_assets.metrics.figures import raw_figures
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.sources.demo import DEMO_SOURCE, demo_listings
from phoenix_assets.sources.envelope import raw_document
from phoenix_assets.storage.partition_store import NATURAL_KEY, SOURCE


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
    metadata={NATURAL_KEY: ["source", "source_id"], SOURCE: DEMO_SOURCE},
    tags={"source": DEMO_SOURCE},
)
@retry_transient_only
def raw_demo_listings(
    context: dg.AssetExecutionContext, pipeline: PipelineConfig, metrics: MetricsExporter
) -> list[dict[str, Any]]:
    """Synthetic, deterministic Phoenix listings (source `demo`): clearly labelled demo data.

    Offline and seeded by ZIP and day, the listings live through days as real ones do:
    they appear, get price cuts, go pending, close or are withdrawn. The default source,
    so the whole graph has something true to show with no credentials configured.
    One document per listing per day: the RESO-shaped payload plus the raw envelope.
    """
    started = time.monotonic()
    if DEMO_SOURCE not in pipeline.source_list:
        context.log.info("source 'demo' is not in PHOENIX_SOURCES: nothing collected")
        context.add_output_metadata({"enabled": False})
        record_run_figures(
            context, metrics, raw_figures(source=DEMO_SOURCE, started=started, documents_by_zip={})
        )
        return []
    documents: list[dict[str, Any]] = []
    per_zip: dict[str, int] = {}
    for partition_key in context.partition_keys:
        day = dt.date.fromisoformat(partition_key)
        collected_at = _collected_at(partition_key)
        for zip_code in pipeline.zip_code_list:
            listings = demo_listings(zip_code, day, scale=pipeline.demo_scale)
            per_zip[zip_code] = per_zip.get(zip_code, 0) + len(listings)
            documents.extend(
                raw_document(
                    source=DEMO_SOURCE,
                    source_id=payload["ListingKey"],
                    zip_code=zip_code,
                    payload=payload,
                    collected_at=collected_at,
                    partition_key=partition_key,
                )
                for payload in listings
            )
    context.add_output_metadata(
        {
            "enabled": True,
            "demo_data": True,
            "zip_codes": len(pipeline.zip_code_list),
            "listings_per_zip": dg.MetadataValue.json(per_zip),
        }
    )
    record_run_figures(
        context, metrics, raw_figures(source=DEMO_SOURCE, started=started, documents_by_zip=per_zip)
    )
    return documents
