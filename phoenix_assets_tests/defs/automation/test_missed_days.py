"""The missed-day sensor: one backfill for the days that never completed, never two."""

import datetime as dt
import json
from collections.abc import Callable

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.utils import make_new_backfill_id

from phoenix_assets.defs.automation.missed_days import (
    MissedDaySettings,
    days_needing_backfill,
    due_days,
)
from phoenix_assets.settings import ConfigError

DAILY_GRAPH_ASSETS = {
    "raw_demo_listings",
    "raw_maricopa_parcels",
    "raw_mls_listings",
    "property_snapshots",
    "property_events",
    "daily_market_summary",
    "daily_market_report",
}


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
    statuses = [
        {"d1": "MATERIALIZED", "d2": None, "d3": "FAILED", "d4": None, "d5": None, "d6": None},
        {"d1": "MATERIALIZED", "d2": None, "d3": "MATERIALIZED", "d4": "IN_PROGRESS"},
    ]
    chosen, skipped = days_needing_backfill(
        days, statuses, covered={"d5"}, attempts={"d6": 3, "d2": 2}, max_attempts=3
    )
    assert chosen == ["d2", "d3"]
    assert set(skipped) == {"d4", "d5", "d6"}
    assert "gave up after 3" in skipped["d6"]


def test_a_bad_setting_fails_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="PHOENIX_BACKFILL_LOOKBACK_DAYS"):
        MissedDaySettings.from_env({"PHOENIX_BACKFILL_LOOKBACK_DAYS": "two weeks"})


def _tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None
) -> tuple[list[dg.RunRequest], str | None, str | None]:
    sensor = defs.resolve_sensor_def("missed_day_backfill")
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    data = sensor.evaluate_tick(context)
    return list(data.run_requests or []), data.cursor, data.skip_message


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
    monkeypatch.setenv("PHOENIX_ZIP_CODES", "85018")
    monkeypatch.setenv("PHOENIX_BACKFILL_LOOKBACK_DAYS", "4")
    monkeypatch.setenv("PHOENIX_BACKFILL_GRACE_HOURS", "0")
    defs = load_definitions()
    days = due_days(dt.datetime.now(dt.UTC), MissedDaySettings.from_env())
    assert len(days) == 4
    job = defs.resolve_job_def("daily_pipeline")
    # days[0] and days[2] are a real gap; days[3] lacks only its report.
    assert job.execute_in_process(partition_key=days[1], instance=instance).success
    without_report = [dg.AssetKey(name) for name in DAILY_GRAPH_ASSETS - {"daily_market_report"}]
    assert job.execute_in_process(
        partition_key=days[3], instance=instance, asset_selection=without_report
    ).success

    (request,), cursor, _ = _tick(defs, instance, None)
    subset = request.asset_graph_subset
    assert subset is not None
    assert {key.to_user_string() for key in subset.asset_keys} == DAILY_GRAPH_ASSETS
    for key in subset.asset_keys:
        expected = [days[0], days[2]]
        if key.to_user_string() == "daily_market_report":
            expected.append(days[3])  # rebuilt alone: that day's sources are not asked again
        assert sorted(subset.get_partitions_subset(key).get_partition_keys()) == expected
    assert request.tags["phoenix/trigger"] == "missed_day_backfill"
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

    # Once the days are materialized, nothing is left to do.
    for day in (days[0], days[2], days[3]):
        assert job.execute_in_process(partition_key=day, instance=instance).success
    requests, _, skipped = _tick(defs, instance, cursor)
    assert requests == [] and skipped is not None
