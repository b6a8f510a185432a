"""MetricsExporter against a real local HTTP receiver and a real directory."""

import logging
import socket
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from phoenix_assets.metrics.figures import RunFigures, raw_figures
from phoenix_assets.metrics.resource import MetricsExporter

ASSET = "raw_demo_listings"
PATH = f"/metrics/job/phoenix_assets/asset/{ASSET}"
LOGGER = logging.getLogger("phoenix_assets_tests.metrics")


def _figures() -> RunFigures:
    return raw_figures(source="demo", started=0.0, documents_by_zip={"85018": 5, "85033": 2})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_push_replaces_the_assets_group_on_the_pushgateway(httpserver: HTTPServer) -> None:
    httpserver.expect_request(PATH, method="PUT").respond_with_data("", status=200)
    exporter = MetricsExporter(pushgateway_url=httpserver.url_for("/").rstrip("/"))
    delivered = exporter.export(ASSET, "2026-11-17", _figures(), LOGGER)
    assert delivered == [exporter.pushgateway_url]
    ((request, _),) = httpserver.log
    assert request.method == "PUT" and request.path == PATH
    families = {f.name: f for f in text_string_to_metric_families(request.get_data(as_text=True))}
    collected = families["phoenix_assets_documents_collected"].samples
    per_zip = {sample.labels["zip_code"]: sample.value for sample in collected}
    assert per_zip == {"85018": 5, "85033": 2}
    (written,) = families["phoenix_assets_documents_written"].samples
    assert written.value == 7 and written.labels == {"asset": ASSET, "partition": "2026-11-17"}
    assert "phoenix_assets_last_success_timestamp_seconds" in families


@pytest.mark.parametrize("failure", ["http_500", "unreachable"])
def test_a_failing_pushgateway_is_a_warning_not_an_error(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    if failure == "http_500":
        httpserver.expect_request(PATH).respond_with_data("boom", status=500)
        url = httpserver.url_for("/").rstrip("/")
    else:
        url = f"http://127.0.0.1:{_free_port()}"
    exporter = MetricsExporter(pushgateway_url=url, push_timeout_seconds=2)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        assert exporter.export(ASSET, "2026-11-17", _figures(), LOGGER) == []
    (warning,) = _warnings(caplog)
    assert f"metrics for {ASSET} not pushed to the Pushgateway at {url}" in warning
    if failure == "http_500":
        assert "500" in warning


def test_an_unwritable_textfile_dir_is_a_warning_and_the_push_still_goes(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    blocked = tmp_path / "not_a_dir"
    blocked.write_text("a file where the directory should be")
    httpserver.expect_request(PATH, method="PUT").respond_with_data("")
    exporter = MetricsExporter(
        textfile_dir=str(blocked), pushgateway_url=httpserver.url_for("/").rstrip("/")
    )
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        delivered = exporter.export(ASSET, "2026-11-17", _figures(), LOGGER)
    assert delivered == [exporter.pushgateway_url]
    (warning,) = _warnings(caplog)
    assert f"metrics for {ASSET} not written to {blocked}/phoenix_assets_{ASSET}.prom" in warning
    assert len(httpserver.log) == 1


def test_no_exporter_configured_exports_nothing(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(request: Request) -> Response:
        raise AssertionError("nothing should be pushed")

    httpserver.expect_request(PATH).respond_with_handler(refuse)
    with caplog.at_level(logging.DEBUG, logger=LOGGER.name):
        assert MetricsExporter().export(ASSET, "2026-11-17", _figures(), LOGGER) == []
    assert not caplog.records
    assert httpserver.log == []
