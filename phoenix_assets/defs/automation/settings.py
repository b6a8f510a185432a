"""The automation's settings: whether schedules and sensors start on, how long a run may
take, when raw data is stale, and how the missed-day sensor looks back and retries.
Parsed when the code location loads: a bad value fails the load, naming the variable."""

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

from phoenix_assets.settings import ConfigError, parse_number_setting

PHOENIX_AUTOMATION = "PHOENIX_AUTOMATION"
PHOENIX_RUN_TIMEOUT_MINUTES = "PHOENIX_RUN_TIMEOUT_MINUTES"
PHOENIX_RAW_FRESHNESS_WARN_HOURS = "PHOENIX_RAW_FRESHNESS_WARN_HOURS"
PHOENIX_RAW_FRESHNESS_FAIL_HOURS = "PHOENIX_RAW_FRESHNESS_FAIL_HOURS"
PHOENIX_BACKFILL_LOOKBACK_DAYS = "PHOENIX_BACKFILL_LOOKBACK_DAYS"
PHOENIX_BACKFILL_MAX_ATTEMPTS = "PHOENIX_BACKFILL_MAX_ATTEMPTS"
PHOENIX_BACKFILL_GRACE_HOURS = "PHOENIX_BACKFILL_GRACE_HOURS"
PHOENIX_BACKFILL_INTERVAL_SECONDS = "PHOENIX_BACKFILL_INTERVAL_SECONDS"

# A year at most: a longer freshness window means no policy, and overflows Dagster's
# timedelta.
MAX_HOURS = 24 * 366
# Each attempt is a whole backfill whose steps already retry (``STEP_RETRY_POLICY``): a
# day that failed ten of them is not failing for a passing reason and needs a person.
MAX_ATTEMPTS = 10
# The sensor repairs a daily schedule: looking less than once a day lets a gap wait
# longer than the schedule's own period.
MAX_INTERVAL_SECONDS = 86_400


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


def run_timeout_seconds() -> int:
    """A run that takes longer than this is cancelled by the daemon's run monitoring.

    A day at most: a daily run allowed to outlast its day overlaps the next day's run."""
    minutes = parse_number_setting(
        os.environ, PHOENIX_RUN_TIMEOUT_MINUTES, 120, integer=True, minimum=1, maximum=24 * 60
    )
    return int(minutes) * 60


def raw_freshness_hours() -> tuple[int, int]:
    """(warn, fail): hours without a collection after which the raw assets warn, then fail."""
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
    return int(warn), int(fail)


@dataclass(frozen=True)
class MissedDaySettings:
    """How far back the sensor looks, how often it tries a day, how long it waits."""

    lookback_days: int = 14
    max_attempts: int = 3
    grace: dt.timedelta = dt.timedelta(hours=3)
    interval_seconds: int = 600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "MissedDaySettings":
        env = os.environ if env is None else env
        return cls(
            lookback_days=parse_number_setting(
                env, PHOENIX_BACKFILL_LOOKBACK_DAYS, 14, integer=True, minimum=1, maximum=366
            ),
            max_attempts=parse_number_setting(
                env, PHOENIX_BACKFILL_MAX_ATTEMPTS, 3, integer=True, minimum=1, maximum=MAX_ATTEMPTS
            ),
            grace=dt.timedelta(
                # At most the longest look-back (beyond, a timedelta would overflow).
                hours=parse_number_setting(
                    env, PHOENIX_BACKFILL_GRACE_HOURS, 3, integer=False, minimum=0, maximum=24 * 366
                )
            ),
            interval_seconds=parse_number_setting(
                env,
                PHOENIX_BACKFILL_INTERVAL_SECONDS,
                600,
                integer=True,
                minimum=5,
                maximum=MAX_INTERVAL_SECONDS,
            ),
        )
