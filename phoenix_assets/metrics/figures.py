"""One asset run's figures, built by the asset, read alike by its metadata and its metrics.

A figure (``Sample``) names the metric it feeds, its labels beyond ``asset`` and
``partition``, and the metadata key it is recorded under, so the Dagster UI and
Prometheus always show the same numbers.
"""

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# The metrics a figure can feed (their names, help and labels are in ``prometheus``).
DOCUMENTS_WRITTEN = "documents_written"
DOCUMENTS_COLLECTED = "documents_collected"
REQUESTS = "requests"
RETRIES = "retries"
ZIP_CODES_FAILED = "zip_codes_failed"
SOURCE_WORK = "source_work"
QUARANTINED = "quarantined"
EVENTS = "events"


@dataclass(frozen=True)
class Sample:
    """One figure: a value of ``metric`` with its extra labels, recorded as ``metadata_key``."""

    metric: str
    value: int
    metadata_key: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunFigures:
    """What one run of an asset did, and how long it took."""

    duration_seconds: float
    samples: tuple[Sample, ...] = ()

    def metadata(self) -> dict[str, int | float]:
        """The figures as numeric asset metadata (numbers, so the UI plots them over time)."""
        values: dict[str, int | float] = {s.metadata_key: int(s.value) for s in self.samples}
        values["duration_seconds"] = round(self.duration_seconds, 3)
        return values


def elapsed(started: float) -> float:
    """Seconds since ``started``, a ``time.monotonic()`` reading."""
    return max(0.0, time.monotonic() - started)


def partition_label(partition_keys: Sequence[str]) -> str:
    """The ``partition`` label of a run: its key, or ``first...last`` for a range."""
    if not partition_keys:
        return ""
    if len(partition_keys) == 1:
        return partition_keys[0]
    return f"{partition_keys[0]}...{partition_keys[-1]}"


def raw_figures(
    *,
    source: str,
    started: float,
    documents_by_zip: Mapping[str, int],
    requests: int | None = None,
    retries: int | None = None,
    zip_codes_failed: int | None = None,
    work: Mapping[str, int] | None = None,
) -> RunFigures:
    """A raw asset's run: documents collected (in all and per ZIP) and, for a network
    source, requests made, retries and ZIPs that failed.

    ``documents_by_zip`` should name every configured ZIP, with 0 where nothing was
    collected, so a ZIP that went quiet shows as 0 rather than as a missing line.
    """
    samples = [
        Sample(DOCUMENTS_WRITTEN, sum(documents_by_zip.values()), "documents_collected"),
        *(
            Sample(
                DOCUMENTS_COLLECTED,
                count,
                f"documents_zip_{zip_code}",
                {"source": source, "zip_code": zip_code},
            )
            for zip_code, count in sorted(documents_by_zip.items())
        ),
    ]
    for metric, value, key in (
        (REQUESTS, requests, "requests"),
        (RETRIES, retries, "retries"),
        # ``zip_codes_failed`` already holds the list of failed ZIPs (JSON).
        (ZIP_CODES_FAILED, zip_codes_failed, "zip_codes_failed_count"),
    ):
        if value is not None:
            samples.append(Sample(metric, value, key, {"source": source}))
    # What a source with a plan did with it (searched, fetched by priority, deferred),
    # under the same keys as its ``count_*`` metadata.
    samples.extend(
        Sample(SOURCE_WORK, value, f"count_{what}", {"source": source, "what": what})
        for what, value in sorted((work or {}).items())
    )
    return RunFigures(elapsed(started), tuple(samples))


def snapshot_figures(*, started: float, properties: int, quarantined: int) -> RunFigures:
    """``property_snapshots``' run: properties stored and records quarantined."""
    return RunFigures(
        elapsed(started),
        (
            Sample(DOCUMENTS_WRITTEN, properties, "properties"),
            Sample(QUARANTINED, quarantined, "quarantined"),
        ),
    )


def event_figures(*, started: float, events_by_type: Mapping[str, int]) -> RunFigures:
    """``property_events``' run: events in all and per type."""
    return RunFigures(
        elapsed(started),
        (
            Sample(DOCUMENTS_WRITTEN, sum(events_by_type.values()), "events"),
            *(
                Sample(EVENTS, count, f"events_{event_type}", {"event_type": event_type})
                for event_type, count in events_by_type.items()
            ),
        ),
    )


def row_figures(*, started: float, rows: int, metadata_key: str) -> RunFigures:
    """A table's run (market summaries, trends): the rows it stored."""
    return RunFigures(elapsed(started), (Sample(DOCUMENTS_WRITTEN, rows, metadata_key),))
