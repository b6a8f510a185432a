"""``MetricsExporter``: the resource that sends a run's figures to Prometheus."""

import logging
import time

import dagster as dg
from pydantic import Field

from phoenix_assets.metrics.export import push, textfile_path, write_textfile
from phoenix_assets.metrics.figures import RunFigures
from phoenix_assets.metrics.prometheus import build_registry
from phoenix_assets.metrics.settings import (
    DEFAULT_PUSH_TIMEOUT_SECONDS,
    PHOENIX_METRICS_PUSH_TIMEOUT_SECONDS,
    PHOENIX_METRICS_PUSHGATEWAY_URL,
    PHOENIX_METRICS_TEXTFILE_DIR,
)


class MetricsExporter(dg.ConfigurableResource):
    """Exports each asset run's figures in Prometheus text format: to a node_exporter
    textfile directory (`PHOENIX_METRICS_TEXTFILE_DIR`), to a Pushgateway
    (`PHOENIX_METRICS_PUSHGATEWAY_URL`), both, or, with neither set, nowhere.

    Metrics are best effort: an export that fails is a warning in the run's log, never
    a failed asset.
    """

    textfile_dir: str | None = Field(
        default=None,
        description=f"node_exporter textfile collector directory ({PHOENIX_METRICS_TEXTFILE_DIR}).",
    )
    pushgateway_url: str | None = Field(
        default=None,
        description=f"Prometheus Pushgateway base URL ({PHOENIX_METRICS_PUSHGATEWAY_URL}).",
    )
    push_timeout_seconds: float = Field(
        default=DEFAULT_PUSH_TIMEOUT_SECONDS,
        description=f"Pushgateway request timeout ({PHOENIX_METRICS_PUSH_TIMEOUT_SECONDS}).",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.textfile_dir or self.pushgateway_url)

    def export(
        self, asset: str, partition: str, figures: RunFigures, log: logging.Logger
    ) -> list[str]:
        """Send the figures everywhere configured; return where they went. Never raises."""
        if not self.enabled:
            return []
        try:
            registry = build_registry(asset, partition, figures, finished_at=time.time())
        except Exception as exc:  # a bug here must not fail the asset either
            log.warning(f"metrics for {asset} not exported: {type(exc).__name__}: {exc}")
            return []
        delivered = []
        if self.textfile_dir:
            try:
                delivered.append(str(write_textfile(registry, self.textfile_dir, asset)))
            except Exception as exc:
                log.warning(
                    f"metrics for {asset} not written to "
                    f"{textfile_path(self.textfile_dir, asset)}: {type(exc).__name__}: {exc}"
                )
        if self.pushgateway_url:
            try:
                push(registry, self.pushgateway_url, asset, self.push_timeout_seconds)
                delivered.append(self.pushgateway_url)
            except Exception as exc:
                log.warning(
                    f"metrics for {asset} not pushed to the Pushgateway at "
                    f"{self.pushgateway_url}: {type(exc).__name__}: {exc}"
                )
        return delivered
