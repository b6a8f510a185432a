"""Shared fixtures: a real MongoDB wire-protocol server for the whole session.

By default the session starts the embedded server (nx-27017) on a free port in a temp
dir and stops it by PID at the end. With PHOENIX_TEST_MONGODB_URI set, the same suite
runs against that server (a real MongoDB) instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from phoenix_assets.storage.embedded_mongo import (
    ensure_embedded_server,
    stop_embedded_server,
)
from phoenix_assets.storage.mongo_resource import MongoResource

if TYPE_CHECKING:
    from phoenix_assets_tests.reports.pipeline_run import ReportsRun

TEST_URI_VARIABLE = "PHOENIX_TEST_MONGODB_URI"
# The pipeline's variables; cleared around each test so the developer's own environment
# never leaks into a test.
PIPELINE_VARIABLE_PREFIXES = ("MONGODB_", "PHOENIX_", "MARICOPA_", "MLS_RESO_")


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get(TEST_URI_VARIABLE, "").strip()
    if external:
        yield external
        return
    state_dir: Path = tmp_path_factory.mktemp("mongo-test-server")
    server = ensure_embedded_server(state_dir)
    try:
        yield server.uri
    finally:
        stop_embedded_server(state_dir)


@pytest.fixture(scope="session")
def mongo_client(mongo_uri: str) -> Iterator[MongoClient[dict]]:
    client: MongoClient[dict] = MongoClient(mongo_uri, tz_aware=True)
    yield client
    client.close()


@pytest.fixture
def database_name(mongo_client: MongoClient[dict]) -> Iterator[str]:
    """A database of this test's own, dropped afterwards."""
    name = f"phoenix_test_{uuid.uuid4().hex[:10]}"
    yield name
    mongo_client.drop_database(name)


@pytest.fixture
def db(mongo_client: MongoClient[dict], database_name: str) -> Database[dict]:
    return mongo_client[database_name]


@pytest.fixture
def mongo_resource(mongo_uri: str, database_name: str) -> MongoResource:
    return MongoResource(uri=mongo_uri, database=database_name)


@pytest.fixture
def pipeline_env(
    monkeypatch: pytest.MonkeyPatch, mongo_uri: str, database_name: str, tmp_path: Path
) -> dict[str, str]:
    """The environment of a pipeline run against the test server and this test's database."""
    for name in list(os.environ):
        if name.startswith(PIPELINE_VARIABLE_PREFIXES) and name != TEST_URI_VARIABLE:
            monkeypatch.delenv(name)
    env = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database_name,
        "PHOENIX_ZIP_CODES": "85018,85033,85044",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()
    return env


@pytest.fixture(scope="session")
def market_reports_run(
    mongo_client: MongoClient[dict], mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReportsRun]:
    """The real pipeline with its daily and weekly reports, run once for the session's
    report tests (see ``phoenix_assets_tests.reports.pipeline_run``)."""
    from phoenix_assets_tests.reports.pipeline_run import report_pipeline

    with report_pipeline(mongo_client, mongo_uri, tmp_path_factory.mktemp("reports")) as run:
        yield run
