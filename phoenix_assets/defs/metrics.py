"""The metrics exporter resource, configured from the environment when the code location loads.

A bad ``PHOENIX_METRICS_*`` value fails the load, naming the variable; none set means
run figures are recorded as asset metadata only.
"""

import dagster as dg

from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.metrics.settings import MetricsSettings


@dg.definitions
def metrics_resources() -> dg.Definitions:
    """``metrics``: where every asset's run figures are exported (see phoenix_assets.metrics)."""
    settings = MetricsSettings.from_env()
    return dg.Definitions(
        resources={
            "metrics": MetricsExporter(
                textfile_dir=settings.textfile_dir,
                pushgateway_url=settings.pushgateway_url,
                push_timeout_seconds=settings.push_timeout_seconds,
            )
        }
    )
