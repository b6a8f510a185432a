"""Partitions: Phoenix calendar days and weeks (Arizona keeps no daylight saving time)."""

from __future__ import annotations

import dagster as dg

TIMEZONE = "America/Phoenix"
# A Monday, so daily and weekly partitions start together.
START_DATE = "2026-01-05"

daily_partitions = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone=TIMEZONE)
# Weeks run Monday to Sunday; a weekly partition key is its Monday.
weekly_partitions = dg.WeeklyPartitionsDefinition(
    start_date=START_DATE, timezone=TIMEZONE, day_offset=1
)
