"""What a network source's collection run returns: records, per-ZIP failures, figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from phoenix_assets.sources.http import RequestStats


@dataclass(frozen=True)
class CollectedRecord:
    """One record as the source sent it, ready for the raw envelope."""

    source_id: str
    zip_code: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ZipFailure:
    """A ZIP whose collection failed this run; it is retried on the next run."""

    zip_code: str
    kind: str  # "auth", "timeout", "http_503", "html_body", "budget", ...
    reason: str  # redacted, safe to log and store


@dataclass
class CollectionResult:
    """Everything one run collected from one source."""

    source: str
    records: list[CollectedRecord] = field(default_factory=list)
    failures: list[ZipFailure] = field(default_factory=list)
    stats: RequestStats = field(default_factory=RequestStats)
    # Source-specific figures for the run's metadata (decisions, drift, pages, ...).
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, increment: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + increment

    @property
    def zip_codes_failed(self) -> list[str]:
        return sorted({failure.zip_code for failure in self.failures})
