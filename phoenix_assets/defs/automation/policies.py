"""The policies every run follows: step retries, the raw assets' freshness, run limits.

Read when the code location loads (a bad value fails the load, naming the variable).
"""

import datetime as dt
import os

import dagster as dg

from phoenix_assets.failures import step_retry_policy
from phoenix_assets.settings import ConfigError, parse_number_setting

PHOENIX_RAW_FRESHNESS_WARN_HOURS = "PHOENIX_RAW_FRESHNESS_WARN_HOURS"
PHOENIX_RAW_FRESHNESS_FAIL_HOURS = "PHOENIX_RAW_FRESHNESS_FAIL_HOURS"
PHOENIX_RUN_TIMEOUT_MINUTES = "PHOENIX_RUN_TIMEOUT_MINUTES"
MAX_HOURS = 24 * 366

# A step is retried only when its failure can pass by itself (a source's outage, MongoDB
# failing over): ``retry_transient_only`` on each compute function and the IO manager
# fail the others at once (``phoenix_assets.failures``). The policy has no delay: the
# failing step sleeps its backoff in its own process, because the executor busy-waits
# through a policy's delay. Longer outages are the missed-day sensor's: it re-runs failed
# days on its next ticks.
STEP_RETRY_POLICY = step_retry_policy()


def raw_freshness_policy() -> dg.FreshnessPolicy:
    """Raw data is collected once a day (10:00 UTC): warn a couple of hours after a
    missed day, fail when a day and a half has passed without a collection."""
    # A year at most: a longer window means no policy, and overflows Dagster's timedelta.
    warn = parse_number_setting(
        os.environ, PHOENIX_RAW_FRESHNESS_WARN_HOURS, 26, integer=True, minimum=1, maximum=MAX_HOURS
    )
    fail = parse_number_setting(
        os.environ, PHOENIX_RAW_FRESHNESS_FAIL_HOURS, 36, integer=True, minimum=1, maximum=MAX_HOURS
    )
    if warn >= fail:
        raise ConfigError(
            f"{PHOENIX_RAW_FRESHNESS_WARN_HOURS}: {warn} must be below "
            f"{PHOENIX_RAW_FRESHNESS_FAIL_HOURS} ({fail})"
        )
    return dg.FreshnessPolicy.time_window(
        fail_window=dt.timedelta(hours=fail), warn_window=dt.timedelta(hours=warn)
    )


def run_timeout_seconds() -> int:
    """A run that takes longer than this is cancelled by the daemon's run monitoring.

    A day at most: a daily run allowed to outlast its day overlaps the next day's run."""
    minutes = parse_number_setting(
        os.environ, PHOENIX_RUN_TIMEOUT_MINUTES, 120, integer=True, minimum=1, maximum=24 * 60
    )
    return int(minutes) * 60


def run_tags() -> dict[str, str]:
    """Tags every run of the pipeline's jobs and backfills carries."""
    return {"dagster/max_runtime": str(run_timeout_seconds())}


PHOENIX_AUTOMATION = "PHOENIX_AUTOMATION"


def automation_default_status() -> dg.DefaultSensorStatus:
    """Schedules and sensors start running unless ``PHOENIX_AUTOMATION=off``.

    Only the default: a schedule or sensor turned on or off in the UI or CLI stays so.
    """
    raw = os.environ.get(PHOENIX_AUTOMATION, "").strip().lower() or "on"
    if raw not in ("on", "off"):
        raise ConfigError(f"{PHOENIX_AUTOMATION}: {raw!r} must be 'on' or 'off'")
    return dg.DefaultSensorStatus.RUNNING if raw == "on" else dg.DefaultSensorStatus.STOPPED


def schedule_default_status() -> dg.DefaultScheduleStatus:
    """The schedules' counterpart of ``automation_default_status``."""
    return dg.DefaultScheduleStatus(automation_default_status().value)
