"""The two ways out for a run's registry: a node_exporter textfile, a Pushgateway push."""

from pathlib import Path

from prometheus_client import CollectorRegistry, push_to_gateway, write_to_textfile

from phoenix_assets.metrics.prometheus import PREFIX

PUSH_JOB = "phoenix_assets"


def textfile_path(directory: str, asset: str) -> Path:
    """The asset's file in the textfile collector's directory (it reads ``*.prom`` only)."""
    return Path(directory) / f"{PREFIX}_{asset}.prom"


def write_textfile(registry: CollectorRegistry, directory: str, asset: str) -> Path:
    """Replace the asset's ``.prom`` file with the registry, atomically.

    ``write_to_textfile`` writes a temporary file beside it, then renames it over the
    old one, so the collector never reads half a file.
    """
    path = textfile_path(directory, asset)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)
    return path


def push(registry: CollectorRegistry, url: str, asset: str, timeout_seconds: float) -> None:
    """Replace the group ``job=phoenix_assets, asset=<asset>`` on the Pushgateway (HTTP PUT
    to ``/metrics/job/phoenix_assets/asset/<asset>``)."""
    push_to_gateway(
        url, job=PUSH_JOB, registry=registry, grouping_key={"asset": asset}, timeout=timeout_seconds
    )
