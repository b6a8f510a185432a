"""Run figures of the real daily pipeline on demo data: metadata, textfiles, Pushgateway."""

import datetime as dt
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymongo.database import Database
from pytest_httpserver import HTTPServer

from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.partitions import day_end
from phoenix_assets.settings import ConfigError
from phoenix_assets_tests.sources.fake_reso import FakeReso, make_listings

DAYS = ["2026-11-17", "2026-11-18"]
DAILY_ASSETS = [
    "raw_demo_listings",
    "raw_maricopa_parcels",
    "raw_mls_listings",
    "property_snapshots",
    "property_events",
    "daily_market_summary",
    "daily_market_report",
]
RAW_DEMO = dg.AssetKey("raw_demo_listings")
Samples = dict[str, list[tuple[dict[str, str], float]]]


def _parse(text: str) -> Samples:
    """Every sample by metric name: (labels, value)."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def _one(samples: Samples, name: str, **labels: str) -> float:
    (value,) = [v for found, v in samples[name] if labels.items() <= found.items()]
    return value


def _warnings(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [
        entry.user_message
        for entry in instance.all_logs(run_id)
        if entry.level == logging.WARNING and "metrics for" in entry.user_message
    ]


@pytest.fixture
def pushgateway(httpserver: HTTPServer) -> HTTPServer:
    for asset in DAILY_ASSETS:
        httpserver.expect_request(
            f"/metrics/job/phoenix_assets/asset/{asset}", method="PUT"
        ).respond_with_data("")
    return httpserver


@pytest.fixture
def exported_two_days(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    pushgateway: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[dict[str, Any]]:
    """Two days of the daily pipeline with both exporters on; the second day's figures last."""
    textfile_dir = tmp_path / "node_exporter_textfile"
    monkeypatch.setenv("PHOENIX_METRICS_TEXTFILE_DIR", str(textfile_dir))
    monkeypatch.setenv("PHOENIX_METRICS_PUSHGATEWAY_URL", pushgateway.url_for("/"))
    defs = load_definitions()
    instance = dg.DagsterInstance.ephemeral()
    started = time.time()
    results = {}
    for day in DAYS:
        results[day] = defs.resolve_job_def("daily_pipeline").execute_in_process(
            partition_key=day, instance=instance
        )
        assert results[day].success
    yield {
        "dir": textfile_dir,
        "results": results,
        "instance": instance,
        "window": (started, time.time()),
    }


def test_the_textfiles_hold_what_mongo_stored(
    exported_two_days: dict[str, Any], db: Database[dict], pipeline_env: dict[str, str]
) -> None:
    day = DAYS[-1]
    directory: Path = exported_two_days["dir"]
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        f"phoenix_assets_{asset}.prom" for asset in DAILY_ASSETS
    )
    earliest, latest = exported_two_days["window"]
    for asset in DAILY_ASSETS:
        samples = _parse((directory / f"phoenix_assets_{asset}.prom").read_text())
        stored = db[asset].count_documents({"partition_key": day})
        written = _one(samples, "phoenix_assets_documents_written", asset=asset, partition=day)
        assert written == stored, asset
        assert _one(samples, "phoenix_assets_run_duration_seconds", asset=asset) > 0
        success = _one(samples, "phoenix_assets_last_success_timestamp_seconds", asset=asset)
        assert earliest <= success <= latest
        # The second day's run replaced the first day's figures.
        assert {labels.get("partition") for series in samples.values() for labels, _ in series} <= {
            day,
            None,
        }

    raw = _parse((directory / "phoenix_assets_raw_demo_listings.prom").read_text())
    per_zip = {
        labels["zip_code"]: value for labels, value in raw["phoenix_assets_documents_collected"]
    }
    stored_per_zip = Counter(
        doc["zip_code"] for doc in db["raw_demo_listings"].find({"partition_key": day})
    )
    assert per_zip == stored_per_zip
    assert set(per_zip) == set(pipeline_env["PHOENIX_ZIP_CODES"].split(","))
    assert all(count > 0 for count in per_zip.values())

    events = _parse((directory / "phoenix_assets_property_events.prom").read_text())
    by_type = {labels["event_type"]: value for labels, value in events["phoenix_assets_events"]}
    stored_by_type = Counter(
        doc["event_type"] for doc in db["property_events"].find({"partition_key": day})
    )
    assert {k: v for k, v in by_type.items() if v} == stored_by_type
    assert sum(by_type.values()) > 0

    snapshots = _parse((directory / "phoenix_assets_property_snapshots.prom").read_text())
    quarantined = db["quarantine"].count_documents(
        {"asset": "property_snapshots", "partition_key": day}
    )
    assert _one(snapshots, "phoenix_assets_quarantined_records", partition=day) == quarantined


def test_each_asset_pushes_its_own_group_with_the_textfile_body(
    exported_two_days: dict[str, Any], pushgateway: HTTPServer
) -> None:
    pushes: dict[str, list[str]] = {}
    for request, _ in pushgateway.log:
        assert request.method == "PUT"
        pushes.setdefault(request.path, []).append(request.get_data(as_text=True))
    expected = {f"/metrics/job/phoenix_assets/asset/{asset}" for asset in DAILY_ASSETS}
    assert set(pushes) == expected
    assert all(len(bodies) == len(DAYS) for bodies in pushes.values())
    for asset in DAILY_ASSETS:
        last_push = pushes[f"/metrics/job/phoenix_assets/asset/{asset}"][-1]
        textfile = (exported_two_days["dir"] / f"phoenix_assets_{asset}.prom").read_text()
        assert last_push == textfile  # one registry, two ways out
    assert not _warnings(
        exported_two_days["instance"], exported_two_days["results"][DAYS[-1]].run_id
    )


def test_the_figures_are_numeric_metadata_on_each_materialization(
    exported_two_days: dict[str, Any], db: Database[dict], pipeline_env: dict[str, str]
) -> None:
    day = DAYS[-1]
    result: dg.ExecuteInProcessResult = exported_two_days["results"][day]

    def metadata(asset: str) -> dict[str, Any]:
        (materialization,) = result.asset_materializations_for_node(asset)
        return dict(materialization.metadata)

    def stored(asset: str, **query: Any) -> int:
        return db[asset].count_documents({"partition_key": day, **query})

    demo = metadata("raw_demo_listings")
    assert isinstance(demo["documents_collected"], dg.IntMetadataValue)
    assert demo["documents_collected"].value == stored("raw_demo_listings") > 0
    for zip_code in pipeline_env["PHOENIX_ZIP_CODES"].split(","):
        value = demo[f"documents_zip_{zip_code}"]
        assert isinstance(value, dg.IntMetadataValue)
        assert value.value == stored("raw_demo_listings", zip_code=zip_code) > 0
    assert isinstance(demo["duration_seconds"], dg.FloatMetadataValue)
    assert "listings_per_zip" in demo  # the keys that were there stay

    skipped = metadata("raw_mls_listings")  # not in PHOENIX_SOURCES: collected nothing
    assert skipped["documents_collected"].value == 0 == stored("raw_mls_listings")

    snapshots = metadata("property_snapshots")
    assert snapshots["properties"].value == stored("property_snapshots") > 0
    assert isinstance(snapshots["quarantined"], dg.IntMetadataValue)
    assert isinstance(snapshots["duration_seconds"], dg.FloatMetadataValue)

    events = metadata("property_events")
    assert events["events"].value == stored("property_events") > 0
    assert events["events_new_listing"].value == stored("property_events", event_type="new_listing")
    assert isinstance(events["duration_seconds"], dg.FloatMetadataValue)

    summary = metadata("daily_market_summary")
    assert summary["areas"].value == stored("daily_market_summary")
    assert isinstance(summary["duration_seconds"], dg.FloatMetadataValue)


def test_a_network_run_counts_requests_retries_and_failed_zips(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    db: Database[dict],
) -> None:
    token = "static-token-for-metrics-tests"
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        # Modified during the day collected: the versions land in its partition.
        newest = day_end(DAYS[0]) - dt.timedelta(minutes=5)
        fake = FakeReso(
            server,
            make_listings(("85018", "85033"), 8, newest=newest),
            auth="static",
            static_token=token,
        )
        fake.inject("503", zip_code="85018", times=1)  # one retry
        fake.inject("html", zip_code="85033", times=None)  # a ZIP that fails for good
        for name, value in {
            "PHOENIX_SOURCES": "mls",
            "PHOENIX_ZIP_CODES": "85018,85033",
            "MLS_RESO_BASE_URL": fake.base_url,
            "MLS_RESO_TOKEN": token,
            "MLS_RESO_REQUESTS_PER_SECOND": "50",
            "MLS_RESO_PAGE_SIZE": "5",
            "PHOENIX_METRICS_TEXTFILE_DIR": str(tmp_path),
        }.items():
            monkeypatch.setenv(name, value)
        result = (
            load_definitions()
            .resolve_job_def("daily_pipeline")
            .execute_in_process(
                partition_key=DAYS[0], asset_selection=[dg.AssetKey("raw_mls_listings")]
            )
        )
        assert result.success
        requests = len(fake.property_requests())
        retried = sum(1 for r in fake.property_requests() if r.status == 503)

    stored = Counter(d["zip_code"] for d in db["raw_mls_listings"].find({"partition_key": DAYS[0]}))
    assert stored["85018"] > 0 and stored["85033"] == 0
    samples = _parse((tmp_path / "phoenix_assets_raw_mls_listings.prom").read_text())
    assert _one(samples, "phoenix_assets_source_requests", source="mls") == requests > 0
    assert _one(samples, "phoenix_assets_source_retries", source="mls") == retried == 1
    assert _one(samples, "phoenix_assets_zip_codes_failed", source="mls") == 1
    for zip_code in ("85018", "85033"):
        collected = _one(samples, "phoenix_assets_documents_collected", zip_code=zip_code)
        assert collected == stored[zip_code]
    (materialization,) = result.asset_materializations_for_node("raw_mls_listings")
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    assert metadata["requests"] == requests and metadata["retries"] == 1
    assert metadata["zip_codes_failed_count"] == 1
    assert metadata["zip_codes_failed"] == ["85033"]  # the existing key keeps its meaning
    assert metadata["documents_zip_85018"] == stored["85018"]
    assert metadata["documents_zip_85033"] == 0
    assert metadata["documents_collected"] == sum(stored.values())


@pytest.mark.parametrize("failure", ["http_500", "unreachable", "textfile_dir_blocked"])
def test_a_failed_export_warns_and_the_run_succeeds(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    db: Database[dict],
    failure: str,
) -> None:
    if failure == "http_500":
        httpserver.expect_request(
            "/metrics/job/phoenix_assets/asset/raw_demo_listings"
        ).respond_with_data("pushgateway down", status=500)
        monkeypatch.setenv("PHOENIX_METRICS_PUSHGATEWAY_URL", httpserver.url_for("/"))
    elif failure == "unreachable":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        monkeypatch.setenv("PHOENIX_METRICS_PUSHGATEWAY_URL", f"http://127.0.0.1:{port}")
    else:
        blocked = tmp_path / "textfile"
        monkeypatch.setenv("PHOENIX_METRICS_TEXTFILE_DIR", str(blocked))
    defs = load_definitions()
    if failure == "textfile_dir_blocked":
        blocked.write_text("the directory was replaced by a file after the load")
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("daily_pipeline").execute_in_process(
        partition_key=DAYS[0], asset_selection=[RAW_DEMO], instance=instance
    )
    assert result.success
    (warning,) = _warnings(instance, result.run_id)
    assert "metrics for raw_demo_listings not" in warning
    # The data and the metadata are all there regardless.
    (materialization,) = result.asset_materializations_for_node("raw_demo_listings")
    stored = db["raw_demo_listings"].count_documents({"partition_key": DAYS[0]})
    assert materialization.metadata["documents_collected"].value == stored > 0


def test_a_bad_metrics_setting_fails_the_load_naming_the_variable(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOENIX_METRICS_PUSHGATEWAY_URL", "localhost:9091")
    with pytest.raises(Exception) as raised:
        load_definitions()
    chain: list[BaseException] = [raised.value]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
    assert any(
        isinstance(error, ConfigError)
        and str(error).startswith("PHOENIX_METRICS_PUSHGATEWAY_URL: 'localhost:9091'")
        for error in chain
    ), chain


def test_without_an_exporter_the_metrics_resource_exports_nowhere(
    pipeline_env: dict[str, str], load_definitions: Callable[[], dg.Definitions]
) -> None:
    exporter = (load_definitions().resources or {})["metrics"]
    assert isinstance(exporter, MetricsExporter)
    assert not exporter.enabled
    assert exporter.textfile_dir is None and exporter.pushgateway_url is None
