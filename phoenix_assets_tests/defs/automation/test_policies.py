"""The policies every run follows: retries, freshness, timeout, pools; bad values fail the load."""

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from phoenix_assets import failures
from phoenix_assets.cli import PROJECT_ROOT
from phoenix_assets.settings import ConfigError

DAILY_ASSETS = [
    "raw_demo_listings",
    "raw_maricopa_parcels",
    "raw_mls_listings",
    "property_snapshots",
    "property_events",
    "daily_market_summary",
]


def test_every_asset_and_check_retries_transient_failures_only_without_a_policy_delay(
    pipeline_env: dict[str, str], load_definitions: Callable[[], dg.Definitions]
) -> None:
    """The classifier decides what is retried; the step, not the executor, waits."""
    defs = load_definitions()
    computed = [node for node in defs.resolve_asset_graph().assets_defs if node.is_executable]
    names = {key.to_user_string() for node in computed for key in node.keys}
    assert {*DAILY_ASSETS, "weekly_market_trends", "daily_market_report"} <= names
    assert any(node.check_keys for node in computed), "the checks are covered too"
    for node in computed:
        compute = node.op.compute_fn.decorated_fn  # type: ignore[union-attr]
        assert getattr(compute, failures.RETRY_TRANSIENT_ONLY, False), node.op.name
        policy = node.op.retry_policy
        assert policy is not None, node.op.name
        assert policy.max_retries == failures.STEP_MAX_RETRIES, node.op.name
        assert not policy.delay, f"{node.op.name}: the executor busy-waits through a delay"


def test_raw_assets_have_a_freshness_policy_and_their_own_pool(
    pipeline_env: dict[str, str], load_definitions: Callable[[], dg.Definitions]
) -> None:
    defs = load_definitions()
    for name, source in [
        ("raw_demo_listings", "demo"),
        ("raw_maricopa_parcels", "maricopa"),
        ("raw_mls_listings", "mls"),
    ]:
        asset = defs.resolve_assets_def(name)
        (spec,) = asset.specs
        policy = spec.freshness_policy
        assert isinstance(policy, dg.FreshnessPolicy), name
        assert policy.fail_window.to_timedelta() == dt.timedelta(hours=36)  # type: ignore[attr-defined]
        assert policy.warn_window.to_timedelta() == dt.timedelta(hours=26)  # type: ignore[attr-defined]
        assert asset.op.pool == f"source_{source}"


def test_every_job_carries_the_run_timeout(
    pipeline_env: dict[str, str], load_definitions: Callable[[], dg.Definitions]
) -> None:
    defs = load_definitions()
    for job in ("daily_pipeline", "weekly_trends"):
        assert defs.resolve_job_def(job).tags["dagster/max_runtime"] == "7200"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PHOENIX_AUTOMATION", "maybe", "PHOENIX_AUTOMATION: 'maybe' must be 'on' or 'off'"),
        (
            "PHOENIX_BACKFILL_LOOKBACK_DAYS",
            "0",
            "PHOENIX_BACKFILL_LOOKBACK_DAYS: 0 is out of range",
        ),
        ("PHOENIX_BACKFILL_MAX_ATTEMPTS", "x", "PHOENIX_BACKFILL_MAX_ATTEMPTS: 'x' is not"),
    ],
)
def test_a_bad_automation_setting_fails_the_load(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(Exception) as raised:
        load_definitions()
    chain: list[BaseException] = [raised.value]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
    assert any(isinstance(e, ConfigError) and message in str(e) for e in chain), chain


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"PHOENIX_RAW_FRESHNESS_FAIL_HOURS": "a day"}, "PHOENIX_RAW_FRESHNESS_FAIL_HOURS"),
        (
            {"PHOENIX_RAW_FRESHNESS_WARN_HOURS": "40"},
            "PHOENIX_RAW_FRESHNESS_WARN_HOURS: 40 must be below PHOENIX_RAW_FRESHNESS_FAIL_HOURS",
        ),
        ({"PHOENIX_RUN_TIMEOUT_MINUTES": "-5"}, "PHOENIX_RUN_TIMEOUT_MINUTES"),
        ({"PHOENIX_RUN_TIMEOUT_MINUTES": "1441"}, "PHOENIX_RUN_TIMEOUT_MINUTES: 1441 is out"),
        (
            {
                "PHOENIX_RUN_TIMEOUT_MINUTES": "30",
                "MARICOPA_TIME_BUDGET_SECONDS": "600",
                "MLS_RESO_TIME_BUDGET_SECONDS": "1800",
            },
            "MLS_RESO_TIME_BUDGET_SECONDS: 1800 s must be below the run timeout "
            "(PHOENIX_RUN_TIMEOUT_MINUTES: 30 minutes)",
        ),
        (
            {"PHOENIX_RUN_TIMEOUT_MINUTES": "40"},  # the Assessor's default budget is 50 min
            "MARICOPA_TIME_BUDGET_SECONDS: 3000 s must be below the run timeout",
        ),
    ],
)
def test_a_bad_policy_setting_fails_the_code_location_in_a_fresh_process(
    pipeline_env: dict[str, str], settings: dict[str, str], message: str
) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", "import phoenix_assets.definitions"],
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode != 0
    assert message in completed.stderr


def test_the_instance_config_limits_sources_retries_dead_runs_and_watches_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(PROJECT_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        config = instance.get_concurrency_config()
        assert config.pool_config.default_pool_limit == 1  # one step per source at a time
        assert config.run_queue_config is not None
        assert config.run_queue_config.max_concurrent_runs == 4
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert not instance.run_retries_retry_on_asset_or_op_failure  # steps retry themselves
        assert instance.run_monitoring_enabled
