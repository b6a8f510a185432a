"""A run's figures as a Prometheus registry: names, labels, values, and the textfile."""

import os
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from phoenix_assets.metrics.export import textfile_path, write_textfile
from phoenix_assets.metrics.figures import (
    RunFigures,
    event_figures,
    partition_label,
    raw_figures,
    snapshot_figures,
)
from phoenix_assets.metrics.prometheus import METRICS, build_registry


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _raw() -> RunFigures:
    return raw_figures(
        source="mls",
        started=0.0,
        documents_by_zip={"85018": 7, "85033": 0},
        requests=12,
        retries=3,
        zip_codes_failed=1,
    )


def test_a_raw_run_becomes_labelled_gauges() -> None:
    figures = _raw()
    registry = build_registry("raw_mls_listings", "2026-11-17", figures, finished_at=1.8e9)
    samples = _samples(generate_latest(registry).decode())
    base = (("asset", "raw_mls_listings"), ("partition", "2026-11-17"))
    with_source = tuple(sorted((*base, ("source", "mls"))))

    def zip_labels(zip_code: str) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((*with_source, ("zip_code", zip_code))))

    assert samples[("phoenix_assets_documents_written", base)] == 7
    assert samples[("phoenix_assets_documents_collected", zip_labels("85018"))] == 7
    assert samples[("phoenix_assets_documents_collected", zip_labels("85033"))] == 0
    assert samples[("phoenix_assets_source_requests", with_source)] == 12
    assert samples[("phoenix_assets_source_retries", with_source)] == 3
    assert samples[("phoenix_assets_zip_codes_failed", with_source)] == 1
    duration = samples[("phoenix_assets_run_duration_seconds", base)]
    assert duration == figures.duration_seconds > 0
    last = (("asset", "raw_mls_listings"),)
    assert samples[("phoenix_assets_last_success_timestamp_seconds", last)] == 1.8e9


def test_a_sources_work_is_one_gauge_per_what_and_its_count_metadata() -> None:
    figures = raw_figures(
        source="maricopa",
        started=0.0,
        documents_by_zip={"85018": 3},
        work={"fetched_listed": 2, "budget_skipped": 40},
    )
    registry = build_registry("raw_maricopa_parcels", "2026-11-17", figures, finished_at=1.0)
    samples = _samples(generate_latest(registry).decode())
    base = (("asset", "raw_maricopa_parcels"), ("partition", "2026-11-17"), ("source", "maricopa"))

    def work(what: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        return ("phoenix_assets_source_work", tuple(sorted((*base, ("what", what)))))

    assert samples[work("fetched_listed")] == 2 and samples[work("budget_skipped")] == 40
    assert figures.metadata()["count_budget_skipped"] == 40


def test_metadata_and_metrics_say_the_same_numbers() -> None:
    figures = _raw()
    assert figures.metadata() == {
        "documents_collected": 7,
        "documents_zip_85018": 7,
        "documents_zip_85033": 0,
        "requests": 12,
        "retries": 3,
        "zip_codes_failed_count": 1,
        "duration_seconds": round(figures.duration_seconds, 3),
    }
    events = event_figures(started=0.0, events_by_type={"new_listing": 4, "price_cut": 2})
    assert events.metadata()["events"] == 6
    assert events.metadata()["events_price_cut"] == 2
    snapshots = snapshot_figures(started=0.0, properties=40, quarantined=1)
    assert {k: v for k, v in snapshots.metadata().items() if k != "duration_seconds"} == {
        "properties": 40,
        "quarantined": 1,
    }


def test_every_metric_keeps_one_label_set_whatever_the_asset() -> None:
    """node_exporter refuses a metric whose label names differ between files."""
    label_names: dict[str, set[tuple[str, ...]]] = {}
    runs = {
        "raw_demo_listings": raw_figures(source="demo", started=0.0, documents_by_zip={}),
        "raw_mls_listings": _raw(),
        "raw_maricopa_parcels": raw_figures(
            source="maricopa",
            started=0.0,
            documents_by_zip={"85018": 2},
            work={"fetched_listed": 2, "zips_search_deferred": 1},
        ),
        "property_snapshots": snapshot_figures(started=0.0, properties=3, quarantined=0),
        "property_events": event_figures(started=0.0, events_by_type={"delisting": 1}),
    }
    for asset, figures in runs.items():
        text = generate_latest(build_registry(asset, "2026-11-17", figures, finished_at=1.0))
        for family in text_string_to_metric_families(text.decode()):
            for sample in family.samples:
                label_names.setdefault(sample.name, set()).add(tuple(sorted(sample.labels)))
    assert all(len(sets) == 1 for sets in label_names.values()), label_names
    assert {spec.name for spec in METRICS.values()} <= set(label_names)


def test_a_range_is_labelled_first_to_last() -> None:
    assert partition_label(["2026-11-17"]) == "2026-11-17"
    assert partition_label(["2026-11-17", "2026-11-18", "2026-11-19"]) == "2026-11-17...2026-11-19"
    assert partition_label([]) == ""


def test_the_textfile_is_replaced_whole_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    directory = tmp_path / "textfile"  # created on first write
    first = build_registry("raw_mls_listings", "2026-11-17", _raw(), finished_at=1.0)
    path = write_textfile(first, str(directory), "raw_mls_listings")
    assert path == textfile_path(str(directory), "raw_mls_listings")
    assert path.name == "phoenix_assets_raw_mls_listings.prom"
    inode = os.stat(path).st_ino
    second_figures = raw_figures(source="mls", started=0.0, documents_by_zip={"85044": 2})
    second = build_registry("raw_mls_listings", "2026-11-18", second_figures, finished_at=2.0)
    write_textfile(second, str(directory), "raw_mls_listings")
    assert os.listdir(directory) == [path.name]  # the temporary file was renamed over it
    assert os.stat(path).st_ino != inode  # a new file, not an old one rewritten in place
    samples = _samples(path.read_text())
    partitions = {dict(labels).get("partition") for _, labels in samples}
    assert partitions == {"2026-11-18", None}  # None: the last-success gauge has no partition
    assert not any(dict(labels).get("zip_code") == "85018" for _, labels in samples)
