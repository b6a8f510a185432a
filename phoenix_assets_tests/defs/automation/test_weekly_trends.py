"""The weekly trends follow once a week's seven daily summaries are in, once per input."""

import datetime as dt
from collections.abc import Callable

import dagster as dg
import pytest

from phoenix_assets.defs.automation.weekly_trends import recent_weeks
from phoenix_assets.domain.market import week_days

# The last week that has ended, so the sensor's window holds it whenever the test runs.
WEEK = recent_weeks(dt.datetime.now(dt.UTC), 14)[-1]
WEEK_DAYS = week_days(dt.date.fromisoformat(WEEK))


def test_recent_weeks_are_the_ended_weeks_of_the_window() -> None:
    wednesday = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    assert recent_weeks(wednesday, 14) == ["2026-11-09", "2026-11-16"]
    # Sunday evening in Phoenix: the week of 11-16 has not ended yet.
    sunday = dt.datetime(2026, 11, 23, 6, 59, tzinfo=dt.UTC)
    assert recent_weeks(sunday, 7)[-1] == "2026-11-09"


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    sensor = defs.resolve_sensor_def("complete_week_trends")
    context = dg.build_sensor_context(instance=instance, definitions=defs)
    return [r for r in sensor.evaluate_tick(context).run_requests or [] if r.partition_key == WEEK]


def _run_days(defs: dg.Definitions, instance: dg.DagsterInstance, first: str, last: str) -> None:
    result = defs.resolve_job_def("daily_pipeline").execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )
    assert result.success


def test_a_week_runs_once_its_days_are_in_and_again_only_when_a_day_changes(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOENIX_ZIP_CODES", "85018")
    defs = load_definitions()
    _run_days(defs, instance, WEEK_DAYS[0], WEEK_DAYS[5])
    assert _tick(defs, instance) == []  # Sunday is missing: the week waits

    _run_days(defs, instance, WEEK_DAYS[6], WEEK_DAYS[6])
    (request,) = _tick(defs, instance)
    assert request.run_key and request.run_key.startswith(f"{WEEK}:")
    trends = defs.resolve_job_def("weekly_trends").execute_in_process(
        partition_key=WEEK, instance=instance
    )
    assert trends.success
    assert _tick(defs, instance) == []  # up to date

    _run_days(defs, instance, WEEK_DAYS[3], WEEK_DAYS[3])  # a day of the week is rebuilt
    (again,) = _tick(defs, instance)
    assert again.run_key != request.run_key
