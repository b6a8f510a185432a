"""Partitions: Phoenix calendar days and weeks (Arizona keeps no daylight saving time)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

TIMEZONE = "America/Phoenix"
# A Monday, so daily and weekly partitions start together.
START_DATE = "2026-01-05"

daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone=TIMEZONE)
# Weeks run Monday to Sunday; a weekly partition key is its Monday.
weekly_partitions = dg.WeeklyPartitionsDefinition(
    start_date=START_DATE, timezone=TIMEZONE, day_offset=1
)


def day_start(day: str | dt.date) -> dt.datetime:
    """The instant a Phoenix day begins, in UTC (midnight in Phoenix is 07:00 UTC)."""
    date = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return dt.datetime.combine(date, dt.time(), ZoneInfo(TIMEZONE)).astimezone(dt.UTC)


def day_end(day: str | dt.date) -> dt.datetime:
    """The instant a Phoenix day ends (the next day's start): a day is ``[start, end)``."""
    date = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return day_start(date + dt.timedelta(days=1))


def phoenix_day(instant: dt.datetime) -> str:
    """The Phoenix day an instant falls on, as a partition key (a naive one is UTC, as
    MongoDB returns them)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()
