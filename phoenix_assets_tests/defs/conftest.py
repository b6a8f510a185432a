"""Fixtures for tests of the code location."""

from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

import phoenix_assets


@pytest.fixture
def load_definitions() -> Callable[[], dg.Definitions]:
    """Load the code location afresh, from the environment as it is when called."""

    def load() -> dg.Definitions:
        return dg.load_from_defs_folder(path_within_project=Path(phoenix_assets.__file__).parent)

    return load
