"""The asset graph as text, compared with the committed ``graph_snapshot.txt``: a change
to the graph (an asset, a dependency or its partition mapping, a check, a job's
selection, a schedule's cron, a sensor's target, a policy) is a visible diff in review.

After an intended change: ``PHOENIX_UPDATE_GRAPH_SNAPSHOT=1 uv run pytest --no-cov
phoenix_assets_tests/defs/test_graph_snapshot.py``, then review and commit the file.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg

SNAPSHOT = Path(__file__).with_name("graph_snapshot.txt")
# Read on import: the tests' settings fixture clears PHOENIX_* variables.
UPDATE = os.environ.get("PHOENIX_UPDATE_GRAPH_SNAPSHOT") == "1"


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> str:
    if partitions_def is None:
        return "none"
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return (
            f"{partitions_def.cron_schedule!r} from {partitions_def.start:%Y-%m-%d} "
            f"in {partitions_def.timezone} ({partitions_def.fmt})"
        )
    return type(partitions_def).__name__


def _assets(defs: dg.Definitions) -> Iterator[str]:
    graph = defs.resolve_asset_graph()
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        op = node.assets_def.node_def
        yield f"asset {key.to_user_string()}"
        yield f"  group: {node.group_name}"
        yield f"  partitions: {_partitions(node.partitions_def)}"
        yield f"  backfill: {node.backfill_policy}"
        yield f"  pools: {sorted(node.pools or [])}"
        yield f"  kinds: {sorted(node.kinds)}"
        tags = {k: v for k, v in sorted(op.tags.items()) if not k.startswith("dagster/kind/")}
        yield f"  op tags: {tags}"
        yield f"  retry: {op.retry_policy}"
        yield f"  automation: {node.automation_condition}"
        yield f"  freshness: {node.freshness_policy}"
        for parent in sorted(node.parent_keys, key=lambda k: k.to_user_string()):
            mapping = graph.get_partition_mapping(key, parent)
            yield f"  from {parent.to_user_string()}: {mapping}"
        for spec in sorted(node.assets_def.check_specs, key=lambda s: s.name):
            blocking = "blocking" if spec.blocking else "warning"
            yield f"  check {spec.name} ({blocking})"


def _automation(defs: dg.Definitions) -> Iterator[str]:
    for name in sorted(job.name for job in defs.jobs or []):
        job = defs.resolve_job_def(name)
        selected = sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
        checks = sorted(k.to_user_string() for k in job.asset_layer.asset_graph.asset_check_keys)
        yield f"job {name}: assets {selected}"
        if checks:
            yield f"  checks {checks}"
        if not selected:
            yield f"  ops {sorted(job.graph.node_dict)}"
        yield f"  tags: {dict(sorted(job.tags.items()))}"
        yield f"  executor: {job.executor_def.name}"
    for name in sorted(schedule.name for schedule in defs.schedules or []):
        schedule = defs.resolve_schedule_def(name)
        yield (
            f"schedule {schedule.name}: {schedule.cron_schedule!r} in "
            f"{schedule.execution_timezone}, job {schedule.job_name}, "
            f"default {schedule.default_status.value}"
        )
    for sensor in sorted(defs.sensors or [], key=lambda s: s.name):
        assert isinstance(sensor, dg.SensorDefinition)
        targets = sorted(target.job_name for target in sensor.targets)
        yield (
            f"sensor {sensor.name}: every {sensor.minimum_interval_seconds}s, jobs {targets}, "
            f"default {sensor.default_status.value}"
        )


def graph_text(defs: dg.Definitions) -> str:
    return "\n".join([*_assets(defs), *_automation(defs)]) + "\n"


def test_the_graph_is_the_committed_snapshot(
    pipeline_env: dict[str, str], load_definitions: Callable[[], dg.Definitions]
) -> None:
    text = graph_text(load_definitions())
    if UPDATE:
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.exists(), "no snapshot yet: run with PHOENIX_UPDATE_GRAPH_SNAPSHOT=1"
    assert text == SNAPSHOT.read_text(), (
        "the asset graph changed; if intended, update the snapshot "
        "(PHOENIX_UPDATE_GRAPH_SNAPSHOT=1, see this module) and review its diff"
    )
