"""What every network source's raw asset does with a collection run.

The raw documents are stored through the partition store directly (not returned to
the IO manager) because raw data is added to, never replaced: a re-run, a retry or a
backfill must not delete what an earlier run stored (the IO manager replaces whole
partitions), and a source may record facts only once its data is safely stored (the
MLS inventory baselines).
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from typing import Any

import dagster as dg
from pymongo.database import Database

from phoenix_assets.defs.automation.policies import STEP_RETRY_POLICY, raw_freshness_policy
from phoenix_assets.failures import retry_transient_only
from phoenix_assets.metrics.figures import RunFigures, raw_figures
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.sources.collection import CollectionResult
from phoenix_assets.sources.envelope import raw_document
from phoenix_assets.sources.http import is_retryable_kind
from phoenix_assets.storage.collection_failures import (
    expected_records,
    replace_collection_failures,
)
from phoenix_assets.storage.documents import Document, to_documents
from phoenix_assets.storage.partition_store import (
    NATURAL_KEY,
    SOURCE,
    assign_ids,
    partitions_label,
    write_metadata,
)
from phoenix_assets.storage.store import PartitionStore

RAW_NATURAL_KEY = ["source", "source_id"]


def network_raw_asset(source: str) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """The ``@asset`` of a network source's raw asset: daily, in the source's own pool."""
    asset = dg.asset(
        partitions_def=daily_partitions,
        # A range of days is one collection, stored under its last day (see collection_day).
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=STEP_RETRY_POLICY,
        freshness_policy=raw_freshness_policy(),
        group_name="raw",
        kinds={"python", "mongodb"},
        pool=f"source_{source}",
        metadata={NATURAL_KEY: RAW_NATURAL_KEY, SOURCE: source},
        tags={"source": source},
    )
    return lambda compute: asset(retry_transient_only(compute))


def collection_day(partition_keys: Sequence[str]) -> str:
    """The partition a collection that answers with the source's state now is stored
    under: the last day of the run.

    A run over a range of days (a single-run backfill) stores what it collected under
    the range's last day; the earlier days keep whatever they hold (a day never
    collected stays empty): their state can no longer be asked for.
    """
    return partition_keys[-1]


def store_raw(
    context: dg.AssetExecutionContext,
    db: Database[Document],
    *,
    asset: str,
    source: str,
    result: CollectionResult | None,
    collected_at: dt.datetime,
) -> dict[str, Any]:
    """Add the collection's records to the run's raw partition; return the metadata.

    Raw data is never deleted by a run: a record collected again replaces its earlier
    copy of the same day, every other stored record stays (see ``PartitionStore.merge``),
    and the range's earlier days are only marked collected. ``result`` None means the
    source did not run (disabled or not configured): downstream assets then see
    "nothing collected", not "never ran".
    """
    partitions = list(context.partition_keys)
    day = collection_day(partitions)
    records = result.records if result else []
    documents = to_documents(
        [
            raw_document(
                source=source,
                source_id=record.source_id,
                zip_code=record.zip_code,
                payload=record.payload,
                collected_at=collected_at,
                partition_key=day,
            )
            for record in records
        ]
    )
    assign_ids(
        documents,
        partitions=[day],
        natural_key=RAW_NATURAL_KEY,
        partition_field="partition_key",
        asset=asset,
    )
    run_id = context.run.run_id
    store = PartitionStore(db, asset)
    replaced = store.merge(day, documents, key_field="source_id", run_id=run_id)
    store.mark_written(partitions[:-1], run_id=run_id)
    metadata = write_metadata(db.name, asset, partitions, documents, replaced)
    if result is not None:
        metadata.update(raw_collection_metadata(db.name, asset, partitions, result))
    return metadata


def raw_collection_metadata(
    db_name: str, asset: str, partitions: Sequence[str], result: CollectionResult
) -> dict[str, Any]:
    """What a collection run did, for the materialization: records, requests, failures."""
    records = result.records
    return {
        "dagster/row_count": len(records),
        "collection": f"{db_name}.{asset}",
        "partitions": partitions_label(partitions),
        "records_collected": len(records),
        "requests": result.stats.requests,
        "retries": result.stats.retries,
        "failures_by_kind": dg.MetadataValue.json(result.stats.failures_by_kind),
        "zip_codes_failed": dg.MetadataValue.json(result.zip_codes_failed),
        "failure_reasons": dg.MetadataValue.json(
            {failure.zip_code: failure.reason for failure in result.failures}
        ),
        "records_per_zip": dg.MetadataValue.json(
            dict(sorted(Counter(r.zip_code for r in records).items()))
        ),
        **{f"count_{name}": value for name, value in sorted(result.counts.items())},
    }


def skip_unless_ready(
    context: dg.AssetExecutionContext,
    db: Database[Document],
    *,
    asset: str,
    source: str,
    enabled: bool,
    configured: bool,
    what_to_set: str,
    collected_at: dt.datetime,
    metrics: MetricsExporter,
    started: float,
    append_only: bool = False,
) -> dg.MaterializeResult | None:
    """For a source that is disabled or lacks its settings: one log line, empty partitions
    and the run's figures (nothing collected).

    ``append_only``: the source's raw store is a version log, which nothing but the
    retention job deletes from: its days are only marked collected.

    Returns None when the source is ready to collect.
    """
    if enabled and configured:
        return None
    if not enabled:
        context.log.info(f"source {source!r} is not in PHOENIX_SOURCES: nothing collected")
    else:
        context.log.info(f"source {source!r} skipped: {what_to_set}")
    if append_only:
        partitions = list(context.partition_keys)
        PartitionStore(db, asset).mark_written(partitions, run_id=context.run.run_id)
        metadata: dict[str, Any] = {"collection": f"{db.name}.{asset}", "documents_written": 0}
    else:
        metadata = store_raw(
            context, db, asset=asset, source=source, result=None, collected_at=collected_at
        )
    record_run_figures(
        context, metrics, raw_figures(source=source, started=started, documents_by_zip={})
    )
    return dg.MaterializeResult(metadata={**metadata, "enabled": enabled, "configured": configured})


def collection_figures(
    result: CollectionResult,
    zip_codes: Sequence[str],
    started: float,
    work_counts: Sequence[str] = (),
) -> RunFigures:
    """A collection run's figures: documents per ZIP (every configured ZIP, 0 included),
    requests, retries, ZIPs failed, and the ``work_counts`` of ``result.counts``."""
    per_zip = dict.fromkeys(zip_codes, 0)
    for record in result.records:
        per_zip[record.zip_code] = per_zip.get(record.zip_code, 0) + 1
    return raw_figures(
        source=result.source,
        started=started,
        documents_by_zip=per_zip,
        requests=result.stats.requests,
        retries=result.stats.retries,
        zip_codes_failed=len(result.zip_codes_failed),
        work={name: result.counts.get(name, 0) for name in work_counts},
    )


def record_failures(
    db: Database[Document],
    result: CollectionResult,
    zip_codes: Sequence[str],
    partition_keys: Sequence[str],
    *,
    changes_only: Collection[str] = (),
) -> None:
    """Record the run's failed ZIPs; fail the run, storing nothing, if every ZIP failed.

    A run that lost some ZIPs stores the others and goes on; the failed ones are in
    ``collection_failures`` and are retried by the next run, each with the records read
    for it before the failure (they are stored with the rest: "partly collected") and
    about how many a whole collection returns (``expected_records``; unknown for the
    ZIPs in ``changes_only``, whose request asked only for what changed).
    """
    day = collection_day(partition_keys)
    failed = set(result.zip_codes_failed)
    read = Counter(r.zip_code for r in result.records if r.zip_code in failed)
    asked_whole = sorted(z for z in failed if z not in set(changes_only) and z != "*")
    expected: dict[str, int | None] = (
        expected_records(db, result.source, asked_whole, day) if asked_whole else {}
    )
    replace_collection_failures(
        db, result.source, day, result.failures, records_read=read, records_expected=expected
    )
    if zip_codes and failed >= set(zip_codes):
        reasons = "; ".join(sorted({f.reason for f in result.failures}))[:2000]
        raise dg.Failure(
            description=f"{result.source}: every ZIP code failed: {reasons}",
            metadata={"zip_codes_failed": dg.MetadataValue.json(sorted(failed))},
            # A refused token or an exhausted budget fails the same way on a retry.
            allow_retries=any(is_retryable_kind(f.kind) for f in result.failures),
        )
