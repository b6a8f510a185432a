"""The policies every run follows: step retries, the raw assets' freshness, run limits.

Read when the code location loads (a bad value fails the load, naming the variable).
"""

import datetime as dt
import os

import dagster as dg

from phoenix_assets.settings import ConfigError, parse_number_setting

PHOENIX_RAW_FRESHNESS_WARN_HOURS = "PHOENIX_RAW_FRESHNESS_WARN_HOURS"
PHOENIX_RAW_FRESHNESS_FAIL_HOURS = "PHOENIX_RAW_FRESHNESS_FAIL_HOURS"
PHOENIX_RUN_TIMEOUT_MINUTES = "PHOENIX_RUN_TIMEOUT_MINUTES"
MAX_HOURS = 24 * 366

# A step that fails for a passing reason (a source's outage, a Mongo fail-over) is
# retried after about 30 s, 60 s and 120 s; the jitter keeps retries of runs that
# failed together from arriving together. A failure that a retry cannot fix (a refused
# token, a bad setting) raises ``dg.Failure(allow_retries=False)`` and fails at once.
STEP_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3,
    delay=30,
    backoff=dg.Backoff.EXPONENTIAL,
    jitter=dg.Jitter.PLUS_MINUS,
)


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
    """A run that takes longer than this is cancelled by the daemon's run monitoring."""
    minutes = parse_number_setting(
        os.environ, PHOENIX_RUN_TIMEOUT_MINUTES, 120, integer=True, minimum=1
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
