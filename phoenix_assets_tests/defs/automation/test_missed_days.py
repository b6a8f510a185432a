"""The missed-day sensor: one backfill for the days that never completed (and what they
feed on the days after them), never two."""

import datetime as dt
import json
from collections.abc import Callable

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)
from dagster._core.utils import make_new_backfill_id

from phoenix_assets.defs.automation.missed_days import (
    Node,
    daily_parents,
    downstream_closure,
    due_days,
    plan_backfill,
    stale_partitions,
)
from phoenix_assets.defs.automation.settings import MissedDaySettings
from phoenix_assets.defs.jobs import DAILY_GRAPH
from phoenix_assets.settings import ConfigError

RAW_ASSETS = {"raw_demo_listings", "raw_maricopa_parcels", "raw_mls_listings"}
DERIVED_ASSETS = {
    "property_snapshots",
    "property_events",
    "daily_market_summary",
    "daily_market_report",
}
DAILY_GRAPH_ASSETS = RAW_ASSETS | DERIVED_ASSETS

# A toy daily graph over plain dicts, shaped like the real one: the snapshot reads the
# day's raw data and the day before's snapshot, the events the snapshots of the day and
# the day before, the summary the day's snapshot, the report the summaries of the day
# and the day before.
DAYS = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
TOY_ASSETS = ["raw", "snap", "events", "summary", "report"]


def _toy_parents(days: list[str] = DAYS) -> dict[Node, set[Node]]:
    parents: dict[Node, set[Node]] = {}
    for index, day in enumerate(days):
        before = [days[index - 1]] if index else []
        parents[("raw", day)] = set()
        parents[("snap", day)] = {("raw", day), *(("snap", b) for b in before)}
        parents[("events", day)] = {("snap", day), *(("snap", b) for b in before)}
        parents[("summary", day)] = {("snap", day)}
        parents[("report", day)] = {("summary", day), *(("summary", b) for b in before)}
    return parents


def _single_run_ids(days: list[str] = DAYS, start: int = 1) -> dict[Node, int]:
    """Storage ids as one single-run backfill of ``days`` writes them: asset by asset in
    dependency order, each asset's days in order."""
    ids: dict[Node, int] = {}
    for asset in TOY_ASSETS:
        for day in days:
            ids[(asset, day)] = start + len(ids)
    return ids


def _all(status: str | None, days: list[str] = DAYS) -> dict[str, dict[str, str | None]]:
    return {asset: dict.fromkeys(days, status) for asset in TOY_ASSETS}


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_a_day_is_due_only_after_its_scheduled_run_and_the_grace() -> None:
    settings = MissedDaySettings(lookback_days=3, grace=dt.timedelta(hours=3))
    # The schedule runs 11-24 at 10:00 UTC; the sensor leaves it alone until 13:00 UTC.
    assert due_days(_at("2026-11-25T12:59:00+00:00"), settings) == [
        "2026-11-21",
        "2026-11-22",
        "2026-11-23",
    ]
    assert due_days(_at("2026-11-25T13:00:00+00:00"), settings)[-1] == "2026-11-24"


def test_the_window_never_reaches_before_the_first_partition() -> None:
    settings = MissedDaySettings(lookback_days=14, grace=dt.timedelta(0))
    assert due_days(_at("2026-01-08T12:00:00+00:00"), settings) == [
        "2026-01-05",
        "2026-01-06",
        "2026-01-07",
    ]


def test_incomplete_days_are_chosen_unless_running_covered_or_given_up() -> None:
    days = ["d1", "d2", "d3", "d4", "d5", "d6"]
    statuses: dict[str, dict[str, str | None]] = {
        "a": {"d1": "MATERIALIZED", "d2": None, "d3": "FAILED", "d4": None, "d5": None, "d6": None},
        "b": {"d1": "MATERIALIZED", "d2": None, "d3": "MATERIALIZED", "d4": "IN_PROGRESS"},
    }
    plan = plan_backfill(
        days,
        statuses,
        parents={},
        latest={},
        covered={"d5"},
        attempts={"d6": 3, "d2": 2},
        max_attempts=3,
    )
    assert plan.chosen_days == ("d2", "d3")
    assert plan.targets == {("a", "d2"), ("b", "d2"), ("a", "d3")}  # only what they lack
    assert set(plan.skipped) == {"d4", "d5", "d6"}
    assert "gave up after 3" in plan.skipped["d6"]
    assert "running backfill" in plan.skipped["d5"]


def test_a_partition_is_stale_only_when_a_parent_was_materialized_after_it() -> None:
    parents = {
        ("events", "d2"): {("snap", "d1"), ("snap", "d2")},
        ("summary", "d2"): {("snap", "d2")},
        ("report", "d2"): {("summary", "d2")},
        ("snap", "d2"): {("raw", "d2")},
    }
    latest = {
        ("snap", "d1"): 50,  # rebuilt after the events that read it
        ("snap", "d2"): 10,
        ("events", "d2"): 20,
        ("summary", "d2"): 30,
        # report d2 never materialized: missing, not stale; raw d2 never: nothing stale
    }
    assert stale_partitions(parents, latest) == {("events", "d2")}
    latest[("snap", "d2")] = 40
    assert stale_partitions(parents, latest) == {("events", "d2"), ("summary", "d2")}


def test_one_run_over_a_range_does_not_look_stale_to_itself() -> None:
    ids = _single_run_ids()
    # The run wrote the events of day 3 after the snapshot of day 4 and the snapshot of
    # day 4 after that of day 3, yet only a parent written after its child is a reason.
    assert ids[("events", DAYS[2])] > ids[("snap", DAYS[3])] > ids[("snap", DAYS[2])]
    assert stale_partitions(_toy_parents(), ids) == set()
    # A day-by-day history (the daily schedule) is not stale either.
    daily = {
        (asset, day): 100 * index + order
        for index, day in enumerate(DAYS)
        for order, asset in enumerate(TOY_ASSETS)
    }
    assert stale_partitions(_toy_parents(), daily) == set()


def test_the_closure_reaches_every_later_day_but_never_a_raw_asset() -> None:
    closure = downstream_closure([("snap", DAYS[1])], _toy_parents())
    assert closure == {
        ("snap", DAYS[1]),
        ("events", DAYS[1]),
        ("summary", DAYS[1]),
        ("report", DAYS[1]),
        *((asset, day) for day in DAYS[2:] for asset in TOY_ASSETS if asset != "raw"),
    }
    # A report feeds nothing: rebuilding one rebuilds nothing else.
    assert downstream_closure([("report", DAYS[0])], _toy_parents()) == {("report", DAYS[0])}


def test_the_closure_neither_adds_nor_crosses_a_busy_partition() -> None:
    closure = downstream_closure(
        [("snap", DAYS[0])], _toy_parents(), allowed=lambda node: node[1] != DAYS[2]
    )
    assert {day for _, day in closure} == {DAYS[0], DAYS[1]}
    assert ("report", DAYS[1]) in closure


def test_a_gap_is_backfilled_with_what_it_feeds_on_later_days() -> None:
    statuses = _all("MATERIALIZED")
    for asset in TOY_ASSETS:
        statuses[asset][DAYS[1]] = None  # day 2 never ran
    ids = {node: i for node, i in _single_run_ids().items() if node[1] != DAYS[1]}
    plan = plan_backfill(
        DAYS, statuses, _toy_parents(), ids, covered=set(), attempts={}, max_attempts=3
    )
    assert plan.chosen_days == (DAYS[1],)
    assert plan.propagated_days == (DAYS[2], DAYS[3])
    assert plan.targets == {
        *((asset, DAYS[1]) for asset in TOY_ASSETS),
        *((asset, day) for day in DAYS[2:] for asset in TOY_ASSETS if asset != "raw"),
    }


def test_a_rebuilt_day_makes_its_readers_stale_and_they_count_as_attempts() -> None:
    ids = _single_run_ids()
    ids[("snap", DAYS[1])] = 1000  # day 2's snapshot rebuilt by hand, after everything
    plan = plan_backfill(
        DAYS, _all("MATERIALIZED"), _toy_parents(), ids, set(), attempts={}, max_attempts=3
    )
    assert plan.stale == {
        ("events", DAYS[1]),
        ("summary", DAYS[1]),
        ("snap", DAYS[2]),
        ("events", DAYS[2]),
    }
    assert plan.chosen_days == (DAYS[1], DAYS[2])  # counted: stale of their own
    assert plan.propagated_days == (DAYS[3],)  # only downstream: not counted
    assert plan.targets == {
        ("events", DAYS[1]),
        ("summary", DAYS[1]),
        ("report", DAYS[1]),
        *((asset, day) for day in DAYS[2:] for asset in TOY_ASSETS if asset != "raw"),
    }


def test_a_day_given_up_is_left_alone_and_nothing_propagates_from_it() -> None:
    ids = _single_run_ids()
    ids[("snap", DAYS[1])] = 1000
    plan = plan_backfill(
        DAYS,
        _all("MATERIALIZED"),
        _toy_parents(),
        ids,
        covered=set(),
        attempts={DAYS[1]: 3, DAYS[2]: 3},
        max_attempts=3,
    )
    assert plan.targets == frozenset()
    assert set(plan.skipped) == {DAYS[1], DAYS[2]}


def test_propagation_stops_at_a_day_a_backfill_is_working_on() -> None:
    statuses = _all("MATERIALIZED")
    statuses["snap"][DAYS[0]] = "FAILED"
    plan = plan_backfill(
        DAYS,
        statuses,
        _toy_parents(),
        _single_run_ids(),
        covered={DAYS[2]},
        attempts={},
        max_attempts=3,
    )
    assert plan.chosen_days == (DAYS[0],)
    assert {day for _, day in plan.targets} == {DAYS[0], DAYS[1]}


def test_parents_follow_the_partition_mappings_up_to_the_day_before(
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    repository = load_definitions().get_repository_def()
    keys = DAILY_GRAPH.resolve(repository.asset_graph)
    day, before = "2026-03-10", "2026-03-09"
    parents = daily_parents(repository, keys, [day])
    assert parents[("property_snapshots", day)] == {
        ("property_snapshots", before),
        ("raw_demo_listings", day),
        ("raw_mls_listings", day),
        # The Assessor's 60-day window counts for its last two days only.
        ("raw_maricopa_parcels", before),
        ("raw_maricopa_parcels", day),
    }
    assert parents[("property_events", day)] == {
        ("property_snapshots", before),
        ("property_snapshots", day),
    }
    assert parents[("daily_market_summary", day)] == {("property_snapshots", day)}
    # The report's 30-day charts: the day and the day before, not a month of cascades.
    assert parents[("daily_market_report", day)] == {
        ("daily_market_summary", before),
        ("daily_market_summary", day),
    }
    assert parents[("raw_demo_listings", day)] == set()
    # The first partition has no day before.
    first = daily_parents(repository, keys, ["2026-01-05"])
    assert first[("property_snapshots", "2026-01-05")] == {
        ("raw_demo_listings", "2026-01-05"),
        ("raw_mls_listings", "2026-01-05"),
        ("raw_maricopa_parcels", "2026-01-05"),
    }


def test_a_bad_setting_fails_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="PHOENIX_BACKFILL_LOOKBACK_DAYS"):
        MissedDaySettings.from_env({"PHOENIX_BACKFILL_LOOKBACK_DAYS": "two weeks"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PHOENIX_BACKFILL_MAX_ATTEMPTS", "0"),
        ("PHOENIX_BACKFILL_MAX_ATTEMPTS", "11"),
        ("PHOENIX_BACKFILL_INTERVAL_SECONDS", "4"),
        ("PHOENIX_BACKFILL_INTERVAL_SECONDS", "86401"),
    ],
)
def test_a_setting_past_its_bounds_fails_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}: {value} is out of range"):
        MissedDaySettings.from_env({name: value})


def test_the_bounds_themselves_are_accepted() -> None:
    lowest = MissedDaySettings.from_env(
        {"PHOENIX_BACKFILL_MAX_ATTEMPTS": "1", "PHOENIX_BACKFILL_INTERVAL_SECONDS": "5"}
    )
    highest = MissedDaySettings.from_env(
        {"PHOENIX_BACKFILL_MAX_ATTEMPTS": "10", "PHOENIX_BACKFILL_INTERVAL_SECONDS": "86400"}
    )
    assert (lowest.max_attempts, lowest.interval_seconds) == (1, 5)
    assert (highest.max_attempts, highest.interval_seconds) == (10, 86_400)


def _due_days_of_one_zip(monkeypatch: pytest.MonkeyPatch, lookback: int) -> list[str]:
    """One ZIP, a look-back of ``lookback`` days, no grace: the days the sensor judges."""
    monkeypatch.setenv("PHOENIX_ZIP_CODES", "85018")
    monkeypatch.setenv("PHOENIX_BACKFILL_LOOKBACK_DAYS", str(lookback))
    monkeypatch.setenv("PHOENIX_BACKFILL_GRACE_HOURS", "0")
    days = due_days(dt.datetime.now(dt.UTC), MissedDaySettings.from_env())
    assert len(days) == lookback
    return days


def _tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None
) -> tuple[list[dg.RunRequest], str | None, str | None]:
    sensor = defs.resolve_sensor_def("missed_day_backfill")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    data = sensor.evaluate_tick(context)
    return list(data.run_requests or []), data.cursor, data.skip_message


def _requested(request: dg.RunRequest) -> dict[str, list[str]]:
    """The days a backfill request targets, per asset name."""
    subset = request.asset_graph_subset
    assert subset is not None
    return {
        key.to_user_string(): sorted(subset.get_partitions_subset(key).get_partition_keys())
        for key in subset.asset_keys
    }


def _submit_as_the_daemon_does(
    instance: dg.DagsterInstance, defs: dg.Definitions, request: dg.RunRequest
) -> str:
    backfill_id = make_new_backfill_id()
    assert request.asset_graph_subset is not None
    instance.add_backfill(
        PartitionBackfill.from_asset_graph_subset(
            backfill_id=backfill_id,
            asset_graph_subset=request.asset_graph_subset,
            dynamic_partitions_store=instance,
            tags=request.tags,
            backfill_timestamp=dt.datetime.now(dt.UTC).timestamp(),
            title=None,
            description=None,
            run_config=None,
        )
    )
    return backfill_id


def test_the_sensor_backfills_a_real_gap_once(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    days = _due_days_of_one_zip(monkeypatch, 4)
    defs = load_definitions()
    job = defs.resolve_job_def("daily_pipeline")
    # days[0] and days[2] are a real gap; days[3] lacks only its report.
    assert job.execute_in_process(partition_key=days[1], instance=instance).success
    without_report = [dg.AssetKey(name) for name in DAILY_GRAPH_ASSETS - {"daily_market_report"}]
    assert job.execute_in_process(
        partition_key=days[3], instance=instance, asset_selection=without_report
    ).success

    (request,), cursor, _ = _tick(defs, instance, None)
    assert _requested(request) == {
        # The gaps: every asset, their sources collected.
        **{name: [days[0], days[2]] for name in RAW_ASSETS},
        # What the gaps feed on the days after them is rebuilt too, sources aside; the
        # report of days[3] was missing anyway (rebuilt alone: its sources are not asked).
        **{name: days for name in DERIVED_ASSETS},
    }
    assert request.tags["phoenix/trigger"] == "missed_day_backfill"
    # days[1] lacks nothing of its own: rebuilt for days[0]'s sake, it is not counted.
    assert cursor is not None and json.loads(cursor)["attempts"] == {
        days[0]: 1,
        days[2]: 1,
        days[3]: 1,
    }

    backfill_id = _submit_as_the_daemon_does(instance, defs, request)
    # The next tick sees the same gap, covered by the running backfill: no second one.
    requests, cursor, skipped = _tick(defs, instance, cursor)
    assert requests == [] and skipped is not None and "needs a backfill" in skipped

    # The backfill ended without filling the gap: the sensor tries again, counting.
    backfill = instance.get_backfill(backfill_id)
    assert backfill is not None
    instance.update_backfill(backfill.with_status(BulkActionStatus.COMPLETED_FAILED))
    (_again,), cursor, _ = _tick(defs, instance, cursor)
    assert cursor is not None and json.loads(cursor)["attempts"] == {
        days[0]: 2,
        days[2]: 2,
        days[3]: 2,
    }

    # Once the days are materialized (each after the day it reads), nothing is left to do.
    for day in days:
        assert job.execute_in_process(partition_key=day, instance=instance).success
    requests, _, skipped = _tick(defs, instance, cursor)
    assert requests == [] and skipped is not None


def test_a_rebuilt_day_is_propagated_to_the_days_after_it_once(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    days = _due_days_of_one_zip(monkeypatch, 4)
    defs = load_definitions()
    job = defs.resolve_job_def("daily_pipeline")
    for day in days:
        assert job.execute_in_process(partition_key=day, instance=instance).success
    requests, cursor, _ = _tick(defs, instance, None)
    assert requests == []  # day by day, in order: nothing is stale

    # Day 2's snapshot is rebuilt (by hand, or by an earlier repair).
    snapshots = dg.AssetKey("property_snapshots")
    assert job.execute_in_process(
        partition_key=days[1], instance=instance, asset_selection=[snapshots]
    ).success

    (request,), cursor, _ = _tick(defs, instance, cursor)
    assert _requested(request) == {
        # Day 2: what reads its snapshot; the snapshot itself is the newest thing there.
        "property_snapshots": days[2:],
        "property_events": days[1:],
        "daily_market_summary": days[1:],
        "daily_market_report": days[1:],
        # No source is collected again: raw assets read nothing.
    }
    # Days 2 and 3 had stale partitions of their own; day 4 only follows them.
    assert cursor is not None and json.loads(cursor)["attempts"] == {days[1]: 1, days[2]: 1}

    # Materialize what was requested as one single-run backfill would: one run over the
    # range (a range is rectangular, so day 2's snapshot is rebuilt once more with it),
    # asset by asset, each asset's days in order.
    assert job.execute_in_process(
        instance=instance,
        asset_selection=[dg.AssetKey(name) for name in DERIVED_ASSETS],
        tags={ASSET_PARTITION_RANGE_START_TAG: days[1], ASSET_PARTITION_RANGE_END_TAG: days[3]},
    ).success
    requests, cursor, skipped = _tick(defs, instance, cursor)
    assert requests == [] and skipped is not None and "needs a backfill" in skipped
    assert json.loads(cursor or "{}")["attempts"] == {days[1]: 1, days[2]: 1}  # unchanged


def test_a_day_some_zip_codes_failed_to_collect_is_collected_again(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A raw day stored with failed ZIPs (its metadata's `zip_codes_failed`) counts as
    failed: that source's day is backfilled, with what it feeds; a clean day is not."""
    days = _due_days_of_one_zip(monkeypatch, 3)
    defs = load_definitions()
    job = defs.resolve_job_def("daily_pipeline")
    for day in days:
        assert job.execute_in_process(partition_key=day, instance=instance).success
    requests, cursor, _ = _tick(defs, instance, None)
    assert requests == []
    # What raw_mls_listings records when a ZIP failed while the others were stored.
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key="raw_mls_listings",
            partition=days[0],
            metadata={"zip_codes_failed": dg.MetadataValue.json(["85018"])},
        )
    )
    (request,), cursor, _ = _tick(defs, instance, cursor)
    requested = _requested(request)
    assert requested["raw_mls_listings"] == [days[0]]
    assert requested["property_snapshots"] == days
    assert "raw_demo_listings" not in requested
    assert json.loads(cursor or "{}")["attempts"][days[0]] == 1
