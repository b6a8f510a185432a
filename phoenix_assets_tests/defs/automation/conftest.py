"""Fixtures for automation tests: a real temporary Dagster instance, a prepared DAGSTER_HOME."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from phoenix_assets.cli import prepare_dagster_home


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    (tmp_path / "instance").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "instance")) as instance:
        yield instance


@pytest.fixture
def dagster_home(pipeline_env: dict[str, str]) -> Path:
    """The test's ``$DAGSTER_HOME`` (from ``pipeline_env``), prepared as ``phoenix-assets``
    prepares one: the project's instance config, and the instance storage created once,
    before any process (the daemon, its code server, the test) opens it."""
    return prepare_dagster_home()
