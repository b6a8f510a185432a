"""Every resource of the code location, bound here and configured from the environment
with offline defaults.

Each resource's settings are parsed when the code location loads, so a bad value fails
the load with a message naming the variable, not a run hours later; the resources read
secrets through ``dg.EnvVar`` at run time, so none is written into the definitions or
shown in the UI.
"""

import os

import dagster as dg

from phoenix_assets.defs.automation.alerts import AlertChannelsResource
from phoenix_assets.defs.automation.settings import PHOENIX_RUN_TIMEOUT_MINUTES, run_timeout_seconds
from phoenix_assets.defs.checks.snapshot_checks import HARD_BOUNDS_RESOURCE, QUALITY_RESOURCE
from phoenix_assets.delivery.settings import AlertSettings, ReportDeliverySettings
from phoenix_assets.domain.snapshots import ASSESSOR_WINDOW_DAYS
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.metrics.settings import MetricsSettings
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.quality.settings import load_bounds
from phoenix_assets.reports.delivery import ReportDelivery
from phoenix_assets.reports.settings import PHOENIX_REPORTS_DIR, ReportsDirectory, reports_dir
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


def storage_and_source_resources() -> dict[str, object]:
    """``mongo``, the ``io_manager``, ``pipeline`` (ZIP codes, sources) and the network
    sources' clients (``maricopa``, ``mls``)."""
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
    return {
        "mongo": mongo,
        # Knows the enabled sources: a disabled source's raw partition is not required.
        "io_manager": MongoIOManager(mongo=mongo, pipeline=pipeline),
        "pipeline": pipeline,
        "maricopa": MaricopaApiResource.from_environment(),
        "mls": MlsResoResource.from_environment(),
    }


def quality_resources() -> dict[str, object]:
    """The snapshot checks' thresholds and the quarantine's hard bounds, parsed together:
    each soft maximum must lie below its hard one."""
    quality, hard = load_bounds()
    return {QUALITY_RESOURCE: quality, HARD_BOUNDS_RESOURCE: hard}


def metrics_resource() -> MetricsExporter:
    """``metrics``: where every asset's run figures are exported (see
    ``phoenix_assets.metrics``); none set means asset metadata only."""
    settings = MetricsSettings.from_env()
    return MetricsExporter(
        textfile_dir=settings.textfile_dir,
        pushgateway_url=settings.pushgateway_url,
        push_timeout_seconds=settings.push_timeout_seconds,
    )


def reports_resource() -> ReportsDirectory:
    """``reports``: the folder the report assets write to (``PHOENIX_REPORTS_DIR``)."""
    default = reports_dir()  # an unusable folder fails the load, naming the variable
    directory = (
        dg.EnvVar(PHOENIX_REPORTS_DIR)
        if os.environ.get(PHOENIX_REPORTS_DIR, "").strip()
        else str(default)
    )
    return ReportsDirectory(directory=directory)


def report_delivery_resource() -> ReportDelivery:
    """``report_delivery``: where the daily and weekly market reports go (email through
    ``PHOENIX_SMTP_*``, a webhook; all optional)."""
    ReportDeliverySettings.from_env(os.environ)
    return ReportDelivery.from_environment()


def alert_channels_resource() -> AlertChannelsResource:
    """``alert_channels``: where the alert sensor sends alerts, and how often."""
    AlertSettings.from_env(os.environ)
    return AlertChannelsResource.from_environment()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            **storage_and_source_resources(),
            **quality_resources(),
            "metrics": metrics_resource(),
            "reports": reports_resource(),
            "report_delivery": report_delivery_resource(),
            "alert_channels": alert_channels_resource(),
        }
    )
