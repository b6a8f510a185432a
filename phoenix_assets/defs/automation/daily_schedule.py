"""The daily schedule: yesterday's partition of the whole daily graph, every morning."""

import dagster as dg

from phoenix_assets.defs.automation.policies import run_tags
from phoenix_assets.defs.automation.settings import schedule_default_status
from phoenix_assets.defs.jobs import daily_pipeline


@dg.definitions
def daily_schedule_definitions() -> dg.Definitions:
    schedule = dg.build_schedule_from_partitioned_job(
        daily_pipeline,
        name="daily_pipeline_schedule",
        # 03:00 in Phoenix is 10:00 UTC all year: Arizona keeps no daylight saving time.
        # Each tick runs the day that ended three hours before.
        hour_of_day=3,
        minute_of_hour=0,
        default_status=schedule_default_status(),
        tags=run_tags(),
        description=(
            "Every day at 10:00 UTC (03:00 in Phoenix): yesterday's partition of the daily graph."
        ),
    )
    return dg.Definitions(schedules=[schedule])
