"""Dagster's private APIs the product uses, behind one door.

Why no public API of Dagster 1.13 serves (checked against ``dagster``'s exports and
``DagsterInstance``'s public methods):

- ``AssetGraphSubset``, ``AssetKeyPartitionKey``: the missed-day sensor requests one
  asset backfill whose days differ per asset. The public
  ``RunRequest.for_asset_graph_subset`` takes an ``AssetGraphSubset``, which Dagster does
  not export, built from (asset, day) pairs.
- ``BulkActionsFilter``, ``BulkActionStatus``: the missed-day sensor skips days a
  requested backfill covers, and the emergency stop cancels requested backfills. The
  public ``DagsterInstance.get_backfills`` filters only by a ``BulkActionsFilter``, and
  a backfill's status is a ``BulkActionStatus``; Dagster exports neither.
- ``AssetCheckEvaluationTargetMaterializationData``: the snapshot checks evaluate each
  day of a range and point each evaluation at the materialization it judged.
  ``AssetCheckResult`` builds this record itself but cannot name a day of a range.
- ``PartitionKeyFilter``, ``AssetCheckExecutionRecord``,
  ``AssetCheckExecutionRecordStatus``: the reports read the latest execution of each
  check for one day, and the report waits for its own run's checks. The public
  ``DagsterInstance.get_latest_asset_check_evaluation_record`` takes no partition; the
  event log storage's query by key takes a ``PartitionKeyFilter`` and returns execution
  records, whose status (planned, succeeded, ...) is an
  ``AssetCheckExecutionRecordStatus``.

An upgrade that moves one fails here, on import, and in
``phoenix_assets_tests/test_dagster_compat.py``, which also keeps every other module
from importing ``dagster._`` itself.
"""

from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
)

__all__ = [
    "AssetCheckEvaluationTargetMaterializationData",
    "AssetCheckExecutionRecord",
    "AssetCheckExecutionRecordStatus",
    "AssetGraphSubset",
    "AssetKeyPartitionKey",
    "BulkActionStatus",
    "BulkActionsFilter",
    "PartitionKeyFilter",
]
