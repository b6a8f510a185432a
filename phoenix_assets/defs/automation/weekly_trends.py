"""The weekly trends follow the days: a week's trends run once its seven days are in.

A sensor rather than a weekly schedule because a week is ready when its days are, not
at a fixed hour: Sunday's summary lands on Monday morning, and a day repaired later by
the missed-day backfill makes its week (and the next, whose week-over-week change reads
it) stale again. A sensor rather than declarative automation because "ready" here is
"this week's seven days", while the trends also read the week before (for the change)
and must not wait forever on a day of that week that will never come.

Each run request carries a run key made of the week and the newest daily summary it
reads, so a tick never launches a second run for the same inputs.
"""

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import dagster as dg

from phoenix_assets.defs.automation.policies import run_tags
from phoenix_assets.defs.automation.settings import MissedDaySettings, automation_default_status
from phoenix_assets.defs.jobs import weekly_trends
from phoenix_assets.domain.market import week_days
from phoenix_assets.partitions import START_DATE, TIMEZONE

DAILY_SUMMARY = dg.AssetKey("daily_market_summary")
WEEKLY_TRENDS = dg.AssetKey("weekly_market_trends")


def recent_weeks(now: dt.datetime, lookback_days: int) -> list[str]:
    """Weekly partitions (Monday keys) that have ended and overlap the last ``lookback_days``."""
    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    monday = today - dt.timedelta(days=today.weekday() + 7)  # the last week that has ended
    earliest = max(today - dt.timedelta(days=lookback_days + 7), dt.date.fromisoformat(START_DATE))
    weeks = []
    while monday >= earliest:
        weeks.append(monday.isoformat())
        monday -= dt.timedelta(days=7)
    return sorted(weeks)


def build_weekly_trends_sensor(settings: MissedDaySettings) -> dg.SensorDefinition:
    @dg.sensor(
        name="complete_week_trends",
        job=weekly_trends,
        minimum_interval_seconds=settings.interval_seconds,
        default_status=automation_default_status(),
        description="Runs a week's trends once its seven daily summaries are in, "
        "and again when one of the days it reads is rebuilt.",
    )
    def complete_week_trends(context: dg.SensorEvaluationContext) -> Iterator[dg.RunRequest]:
        """Launch the weekly trends of each recent week whose seven days are present."""
        instance = context.instance
        event = dg.DagsterEventType.ASSET_MATERIALIZATION
        for week in recent_weeks(dt.datetime.now(dt.UTC), settings.lookback_days):
            monday = dt.date.fromisoformat(week)
            days = week_days(monday)
            read = [*week_days(monday - dt.timedelta(days=7)), *days]
            summaries = instance.get_latest_storage_id_by_partition(DAILY_SUMMARY, event, set(read))
            missing = [day for day in days if day not in summaries]
            if missing:
                context.log.info(f"week {week} waits for {', '.join(missing)}")
                continue
            newest_input = max(summaries.values())
            trends = instance.get_latest_storage_id_by_partition(WEEKLY_TRENDS, event, {week})
            if trends.get(week, -1) > newest_input:
                continue  # up to date
            yield dg.RunRequest(
                partition_key=week, run_key=f"{week}:{newest_input}", tags=run_tags()
            )

    return complete_week_trends


@dg.definitions
def weekly_trends_definitions() -> dg.Definitions:
    return dg.Definitions(sensors=[build_weekly_trends_sensor(MissedDaySettings.from_env())])
