"""The policies every run follows: step retries, the raw assets' freshness, run limits,
built from the automation's settings (``settings.py``) when the code location loads."""

import datetime as dt

import dagster as dg

from phoenix_assets.defs.automation.settings import raw_freshness_hours, run_timeout_seconds
from phoenix_assets.failures import step_retry_policy

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
    warn, fail = raw_freshness_hours()
    return dg.FreshnessPolicy.time_window(
        fail_window=dt.timedelta(hours=fail), warn_window=dt.timedelta(hours=warn)
    )


def run_tags() -> dict[str, str]:
    """Tags every run of the pipeline's jobs and backfills carries."""
    return {"dagster/max_runtime": str(run_timeout_seconds())}
