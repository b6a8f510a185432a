"""Resources, configured from the environment with offline defaults."""

import os

import dagster as dg

from phoenix_assets.defs.automation.policies import PHOENIX_RUN_TIMEOUT_MINUTES, run_timeout_seconds
from phoenix_assets.domain.snapshots import ASSESSOR_WINDOW_DAYS
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.settings import (
    MONGODB_DATABASE,
    MONGODB_URI,
    PHOENIX_SOURCES,
    PHOENIX_ZIP_CODES,
    ConfigError,
    PipelineSettings,
)
from phoenix_assets.sources.maricopa import MARICOPA_TIME_BUDGET_SECONDS, MaricopaSettings
from phoenix_assets.sources.mls import MLS_RESO_TIME_BUDGET_SECONDS, MlsSettings
from phoenix_assets.sources.source_resources import MaricopaApiResource, MlsResoResource
from phoenix_assets.storage.io_manager import MongoIOManager
from phoenix_assets.storage.mongo_resource import MongoResource


def _env_or(name: str, default: str) -> str:
    """``dg.EnvVar(name)`` if the variable is set (read in the run's own process), else default."""
    return dg.EnvVar(name) if os.environ.get(name, "").strip() else default


@dg.definitions
def resources() -> dg.Definitions:
    # Parse everything now: a bad value fails the code location's load with a message
    # naming the variable, not a run hours later.
    settings = PipelineSettings.from_env()
    maricopa = MaricopaSettings.from_env(os.environ)
    if maricopa.stale_after_days >= ASSESSOR_WINDOW_DAYS:
        raise ConfigError(
            f"MARICOPA_STALE_AFTER_DAYS: {maricopa.stale_after_days} must be below "
            f"{ASSESSOR_WINDOW_DAYS}, the window in which snapshots look for a parcel's record"
        )
    mls = MlsSettings.from_env(os.environ)
    timeout = run_timeout_seconds()
    for name, budget in (
        (MARICOPA_TIME_BUDGET_SECONDS, maricopa.time_budget_seconds),
        (MLS_RESO_TIME_BUDGET_SECONDS, mls.time_budget_seconds),
    ):
        # Past the run's timeout the daemon cancels the run before the source stops.
        if budget >= timeout:
            raise ConfigError(
                f"{name}: {budget:g} s must be below the run timeout "
                f"({PHOENIX_RUN_TIMEOUT_MINUTES}: {timeout // 60} minutes)"
            )
    mongo = MongoResource(
        uri=dg.EnvVar(MONGODB_URI) if settings.mongodb_uri else None,
        database=_env_or(MONGODB_DATABASE, settings.mongodb_database),
        **settings.mongodb_timeouts(),
    )
    pipeline = PipelineConfig(
        zip_codes=_env_or(PHOENIX_ZIP_CODES, ",".join(settings.zip_codes)),
        sources=_env_or(PHOENIX_SOURCES, ",".join(settings.sources)),
        demo_scale=settings.demo_scale,
    )
    return dg.Definitions(
        resources={
            "mongo": mongo,
            # Knows the enabled sources: a disabled source's raw partition is not required.
            "io_manager": MongoIOManager(mongo=mongo, pipeline=pipeline),
            "pipeline": pipeline,
            "maricopa": MaricopaApiResource.from_environment(),
            "mls": MlsResoResource.from_environment(),
        }
    )
