"""Property snapshots: every property seen on a day, adapted to ``Property`` and merged."""

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

import dagster as dg

from phoenix_assets.domain.adapters import AdapterError, property_from_reso
from phoenix_assets.domain.merge import merge_properties
from phoenix_assets.domain.property import Property
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_store import NATURAL_KEY, PARTITION_FIELD
from phoenix_assets.storage.quarantine import quarantine_entry, replace_quarantine

ASSET_NAME = "property_snapshots"


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="properties",
    kinds={"python", "mongodb"},
    metadata={NATURAL_KEY: ["property_id"], PARTITION_FIELD: "snapshot_date"},
)
def property_snapshots(
    context: dg.AssetExecutionContext,
    mongo: MongoResource,
    raw_demo_listings: list[dict[str, Any]],
) -> list[Property]:
    """The state of every property seen that day, adapted to `Property` and merged across sources.

    Records join on parcel number (APN) first, normalized address second; each field keeps
    the source that said it (`provenance`). Records that fail validation go to the
    `quarantine` collection with the reason and the raw payload, never silently dropped.
    """
    by_day: dict[str, list[Property]] = defaultdict(list)
    quarantined: list[dict[str, Any]] = []
    for raw in raw_demo_listings:
        partition_key = raw["partition_key"]
        try:
            record = property_from_reso(
                raw["payload"],
                source=raw["source"],
                day=dt.date.fromisoformat(partition_key),
            )
        except AdapterError as exc:
            quarantined.append(
                quarantine_entry(
                    asset=ASSET_NAME,
                    partition_key=partition_key,
                    source=raw["source"],
                    source_id=raw["source_id"],
                    reason=str(exc),
                    payload=raw["payload"],
                )
            )
            continue
        by_day[partition_key].append(record)

    replace_quarantine(mongo.get_database(), ASSET_NAME, context.partition_keys, quarantined)
    snapshots = [p for key in context.partition_keys for p in merge_properties(by_day[key])]
    if quarantined:
        context.log.warning(f"{len(quarantined)} records quarantined (collection 'quarantine')")
    context.add_output_metadata(
        {
            "properties": len(snapshots),
            "quarantined": len(quarantined),
            "quarantine_reasons": dg.MetadataValue.json(
                dict(Counter(q["reason"] for q in quarantined).most_common(5))
            ),
            "by_source": dg.MetadataValue.json(
                dict(Counter(s for p in snapshots for s in p.sources))
            ),
        }
    )
    return snapshots
