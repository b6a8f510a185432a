"""The code location loads, validates, and refuses bad settings at load time."""

import ast
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

import phoenix_assets.defs as defs_package
from phoenix_assets.defs import resources
from phoenix_assets.settings import ConfigError
from phoenix_assets_tests.defs.dagster_results import load_failure

EXPECTED_ASSETS = {
    "raw_demo_listings",
    "property_snapshots",
    "property_events",
    "raw_maricopa_parcels",
    "raw_mls_listings",
    "daily_market_summary",
    "weekly_market_trends",
    "daily_market_report",
    "weekly_market_report",
}


def test_definitions_load_and_validate(
    pipeline_env: dict[str, str], load_definitions: Callable[[], dg.Definitions]
) -> None:
    defs = load_definitions()
    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys >= EXPECTED_ASSETS
    assert defs.resolve_job_def("daily_pipeline") is not None
    assert defs.resolve_job_def("weekly_trends") is not None


def test_every_asset_has_a_docstring(
    pipeline_env: dict[str, str], load_definitions: Callable[[], dg.Definitions]
) -> None:
    graph = load_definitions().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, f"{key.to_user_string()} has no description"


def test_the_module_named_in_the_workspace_is_the_code_location(
    pipeline_env: dict[str, str],
) -> None:
    from phoenix_assets.definitions import defs

    assert isinstance(defs, dg.Definitions)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PHOENIX_ZIP_CODES", "85018,8503", "PHOENIX_ZIP_CODES: '8503' is not a 5-digit ZIP code"),
        ("PHOENIX_ZIP_CODES", "10001", "PHOENIX_ZIP_CODES: 10001 is not an Arizona ZIP code"),
        ("PHOENIX_SOURCES", "demo,zillow", "PHOENIX_SOURCES: unknown source 'zillow'"),
        ("MONGODB_URI", "localhost:27017", "MONGODB_URI: expected a URI starting with mongodb://"),
        ("MONGODB_DATABASE", "my.db", "MONGODB_DATABASE: 'my.db' is not a valid MongoDB database"),
        ("MARICOPA_STALE_AFTER_DAYS", "90", "MARICOPA_STALE_AFTER_DAYS: 90 must be below 60"),
        ("MARICOPA_REQUESTS_PER_SECOND", "0", "MARICOPA_REQUESTS_PER_SECOND: 0 is out of range"),
        ("MLS_RESO_CLIENT_ID", "x", "MLS_RESO_CLIENT_SECRET, MLS_RESO_TOKEN_URL: not set"),
    ],
)
def test_a_bad_setting_fails_at_load_naming_the_variable(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    chain = load_failure(load_definitions)
    assert any(isinstance(e, ConfigError) and message in str(e) for e in chain), chain


def test_a_bad_setting_fails_the_code_location_in_a_fresh_process(
    pipeline_env: dict[str, str],
) -> None:
    env = {**os.environ, "PHOENIX_ZIP_CODES": "85O18"}
    completed = subprocess.run(
        [sys.executable, "-c", "import phoenix_assets.definitions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode != 0
    assert "PHOENIX_ZIP_CODES: '85O18' is not a 5-digit ZIP code" in completed.stderr


def test_every_resource_is_bound_in_one_module(
    pipeline_env: dict[str, str], load_definitions: Callable[[], dg.Definitions]
) -> None:
    # "Where does this resource come from" has one answer: defs/resources.py.
    folder = Path(defs_package.__file__).parent
    binding = {
        str(path.relative_to(folder))
        for path in folder.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.keyword) and node.arg == "resources"
    }
    assert binding == {"resources.py"}
    bound = set(resources.resources().resources)
    assert bound == set(load_definitions().resources or {})
