"""The daily schedule: 10:00 UTC, yesterday's partition of the daily graph."""

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

UTC = dt.UTC


@pytest.mark.parametrize("day", ["2026-01-15", "2026-07-15"])  # winter and summer: no DST
def test_the_schedule_ticks_at_10_utc_and_runs_the_day_before(
    pipeline_env: dict[str, str], load_definitions: Callable[[], dg.Definitions], day: str
) -> None:
    schedule = load_definitions().resolve_schedule_def("daily_pipeline_schedule")
    assert schedule.job_name == "daily_pipeline"
    tick = dt.datetime.fromisoformat(f"{day}T10:00:00+00:00")
    next_tick = _next_tick(schedule, tick - dt.timedelta(minutes=1))
    assert next_tick == tick
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    (request,) = schedule.evaluate_tick(context).run_requests or []
    day_before = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
    assert request.partition_key == day_before
    assert request.tags["dagster/max_runtime"] == str(120 * 60)


def _next_tick(schedule: dg.ScheduleDefinition, after: dt.datetime) -> dt.datetime:
    from dagster._utils.schedules import cron_string_iterator

    ticks = cron_string_iterator(
        after.timestamp(), schedule.cron_schedule, schedule.execution_timezone or "UTC"
    )
    return next(ticks).astimezone(ZoneInfo("UTC"))


def test_phoenix_automation_off_loads_everything_stopped(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOENIX_AUTOMATION", "off")
    defs = load_definitions()
    assert defs.resolve_schedule_def("daily_pipeline_schedule").default_status == (
        dg.DefaultScheduleStatus.STOPPED
    )
    assert {sensor.default_status for sensor in defs.sensors or []} == {
        dg.DefaultSensorStatus.STOPPED
    }
