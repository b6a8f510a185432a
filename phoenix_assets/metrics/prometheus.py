"""The metrics, named and labelled, and the Prometheus registry of one run's figures.

Every metric is a gauge holding the figure of the asset's last successful run: the
textfile is rewritten and a Pushgateway group replaced by each run, so a value never
adds up across runs. Every metric carries ``asset`` and ``partition`` (the run's
partition, ``first...last`` for a range) except the last-success timestamp, which has
``asset`` only, so that ``time() - phoenix_assets_last_success_timestamp_seconds`` is
one series per asset to alert on.
"""

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge

from phoenix_assets.metrics.figures import (
    DOCUMENTS_COLLECTED,
    DOCUMENTS_WRITTEN,
    EVENTS,
    QUARANTINED,
    REQUESTS,
    RETRIES,
    SOURCE_WORK,
    ZIP_CODES_FAILED,
    RunFigures,
)

PREFIX = "phoenix_assets"
BASE_LABELS = ("asset", "partition")
RUN_DURATION_SECONDS = f"{PREFIX}_run_duration_seconds"
LAST_SUCCESS_TIMESTAMP_SECONDS = f"{PREFIX}_last_success_timestamp_seconds"


@dataclass(frozen=True)
class MetricSpec:
    """A metric's name, help and labels beyond ``asset`` and ``partition``."""

    name: str
    help: str
    labels: tuple[str, ...] = ()


# One label set per metric whatever the asset: node_exporter refuses a family whose
# series differ in label names across files.
METRICS: dict[str, MetricSpec] = {
    DOCUMENTS_WRITTEN: MetricSpec(
        f"{PREFIX}_documents_written",
        "Documents the asset's last successful run stored (raw documents, properties, "
        "events, summary rows).",
    ),
    DOCUMENTS_COLLECTED: MetricSpec(
        f"{PREFIX}_documents_collected",
        "Raw documents the last successful run collected, per source and ZIP code.",
        ("source", "zip_code"),
    ),
    REQUESTS: MetricSpec(
        f"{PREFIX}_source_requests",
        "HTTP requests the last successful run made to its source (retries included).",
        ("source",),
    ),
    RETRIES: MetricSpec(
        f"{PREFIX}_source_retries",
        "Requests the last successful run retried.",
        ("source",),
    ),
    ZIP_CODES_FAILED: MetricSpec(
        f"{PREFIX}_zip_codes_failed",
        "ZIP codes whose collection failed in the last successful run (retried next run).",
        ("source",),
    ),
    SOURCE_WORK: MetricSpec(
        f"{PREFIX}_source_work",
        "What the last successful run of a source did with its plan: searched, fetched "
        "by priority, deferred to a later day (the count_* metadata).",
        ("source", "what"),
    ),
    QUARANTINED: MetricSpec(
        f"{PREFIX}_quarantined_records",
        "Records the last successful run quarantined (failed validation).",
    ),
    EVENTS: MetricSpec(
        f"{PREFIX}_events",
        "Property events the last successful run derived, per event type.",
        ("event_type",),
    ),
}


def build_registry(
    asset: str, partition: str, figures: RunFigures, *, finished_at: float
) -> CollectorRegistry:
    """A fresh registry holding exactly this run's figures (``finished_at``: Unix time)."""
    registry = CollectorRegistry(auto_describe=True)
    gauges: dict[str, Gauge] = {}
    for sample in figures.samples:
        spec = METRICS[sample.metric]
        if sample.metric not in gauges:
            gauges[sample.metric] = Gauge(
                spec.name, spec.help, [*BASE_LABELS, *spec.labels], registry=registry
            )
        labels = {"asset": asset, "partition": partition, **sample.labels}
        gauges[sample.metric].labels(**labels).set(sample.value)
    Gauge(
        RUN_DURATION_SECONDS,
        "How long the asset's last successful run took to compute, in seconds.",
        BASE_LABELS,
        registry=registry,
    ).labels(asset=asset, partition=partition).set(figures.duration_seconds)
    Gauge(
        LAST_SUCCESS_TIMESTAMP_SECONDS,
        "When the asset's last successful run finished, in Unix time.",
        ["asset"],
        registry=registry,
    ).labels(asset=asset).set(finished_at)
    return registry
