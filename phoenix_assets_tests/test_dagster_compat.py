"""Dagster's private APIs, used only through ``phoenix_assets.dagster_compat``: each is
still where the product expects it, with the members the product uses."""

import ast
import datetime as dt
from pathlib import Path

import dagster as dg

import phoenix_assets
from phoenix_assets import dagster_compat as compat

PACKAGE = Path(phoenix_assets.__file__).parent


def test_no_module_but_the_compat_one_imports_dagster_internals() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "dagster_compat.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.relative_to(PACKAGE)}: {n}" for n in names if n.startswith("dagster._")
            ]
    assert offenders == []


def test_the_backfill_statuses_and_filter_the_product_uses() -> None:
    assert {compat.BulkActionStatus.REQUESTED, compat.BulkActionStatus.CANCELING} <= set(
        compat.BulkActionStatus
    )
    requested = compat.BulkActionsFilter(statuses=[compat.BulkActionStatus.REQUESTED])
    assert requested.statuses == [compat.BulkActionStatus.REQUESTED]
    with dg.instance_for_test() as instance:
        assert instance.get_backfills(filters=requested) == []


def test_a_backfill_of_days_that_differ_per_asset_can_be_requested() -> None:
    daily = dg.DailyPartitionsDefinition(start_date="2026-11-01")

    @dg.asset(partitions_def=daily)
    def upstream() -> None: ...

    @dg.asset(partitions_def=daily, deps=[upstream])
    def downstream() -> None: ...

    graph = dg.Definitions(assets=[upstream, downstream]).resolve_asset_graph()
    pairs = {
        compat.AssetKeyPartitionKey(dg.AssetKey("upstream"), "2026-11-02"),
        compat.AssetKeyPartitionKey(dg.AssetKey("downstream"), "2026-11-03"),
    }
    subset = compat.AssetGraphSubset.from_asset_partition_set(pairs, graph)
    request = dg.RunRequest.for_asset_graph_subset(subset, tags={"t": "1"})
    assert request.asset_graph_subset is not None
    assert set(request.asset_graph_subset.iterate_asset_partitions()) == pairs


def test_check_records_per_day_and_their_statuses() -> None:
    assert compat.AssetCheckExecutionRecordStatus.PLANNED in set(
        compat.AssetCheckExecutionRecordStatus
    )
    assert compat.PartitionKeyFilter(key="2026-11-17").key == "2026-11-17"
    key = dg.AssetCheckKey(dg.AssetKey("property_snapshots"), "schema_valid")
    with dg.instance_for_test() as instance:
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [key], partition_filter=compat.PartitionKeyFilter(key="2026-11-17")
        )
    assert latest == {}
    assert compat.AssetCheckExecutionRecord.__name__ == "AssetCheckExecutionRecord"


def test_an_evaluation_can_point_at_the_materialization_it_judged() -> None:
    target = compat.AssetCheckEvaluationTargetMaterializationData(
        storage_id=7, run_id="a-run", timestamp=dt.datetime(2026, 11, 17).timestamp()
    )
    evaluation = dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey("property_snapshots"),
        check_name="schema_valid",
        passed=True,
        partition="2026-11-17",
        target_materialization_data=target,
    )
    assert evaluation.target_materialization_data == target
