"""Real HTTP servers on 127.0.0.1 for the network sources' tests: one per module
(stopping one takes ~0.5 s), cleared around each test."""

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from phoenix_assets_tests.sources.fake_maricopa import FakeMaricopa


@pytest.fixture(scope="module")
def module_server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as http_server:
        yield http_server


@pytest.fixture
def server(module_server: HTTPServer) -> Iterator[HTTPServer]:
    """The module's server, with no expectation left from another test."""
    module_server.clear()
    yield module_server
    module_server.clear()


@pytest.fixture
def fake(server: HTTPServer) -> FakeMaricopa:
    """A fresh fake Assessor on the module's server."""
    return FakeMaricopa(server)
