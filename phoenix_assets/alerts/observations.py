"""What the alerting watches: something that ended, well or badly, under a grouping key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["job", "check"]


def job_key(job_name: str) -> str:
    """The grouping key of a job's runs."""
    return f"job:{job_name}"


def check_key(asset: str, check: str) -> str:
    """The grouping key of an asset check (``asset`` as the UI writes it: ``a/b``)."""
    return f"check:{asset}:{check}"


@dataclass(frozen=True)
class Observation:
    """A run that ended, or an asset check's result in a run, as alerting sees it.

    ``error`` is a short summary of what went wrong (formatting scrubs secrets from it
    before it leaves the process). ``severity`` is a failed check's (``WARN`` or
    ``ERROR``), None otherwise.
    """

    kind: Kind
    key: str
    name: str  # the job's name, or the check's "<asset>:<check>"
    at: float  # when it ended (POSIX seconds)
    ok: bool
    run_id: str
    job_name: str
    partition: str | None = None
    error: str = ""
    severity: str | None = None
    failed_partitions: tuple[str, ...] = ()
