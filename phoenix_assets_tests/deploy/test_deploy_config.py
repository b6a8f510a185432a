"""The deployment files agree with each other and with the code: the Dockerfile's
promises, the compose stack's instance config (validated by Dagster itself), the env
files, the workspace, the Helm values and the GitHub workflows. No container runs here
(test_container.py does that)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "deploy" / "docker"
HELM = ROOT / "deploy" / "helm"
WORKFLOWS = ROOT / ".github" / "workflows"
# Settings of .env.example that are not passed to run containers: the instance folder
# and the reports folder (the image sets both, the reports one to the volume the run
# launcher mounts), and the tests' own MongoDB.
NOT_FORWARDED = {"DAGSTER_HOME", "PHOENIX_REPORTS_DIR", "PHOENIX_TEST_MONGODB_URI"}
SECRET_NAMES = ("PASSWORD", "TOKEN", "SECRET", "WEBHOOK_URL", "MONGODB_URI")


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def _settings_in_env_example() -> set[str]:
    names = re.findall(r"^# ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    return set(names) - NOT_FORWARDED


def _forwarded() -> list[str]:
    launcher = _yaml(DOCKER / "dagster.yaml")["run_launcher"]
    names: list[str] = launcher["config"]["env_vars"]
    return names


# --------------------------------------------------------------------------- Dockerfile


def test_dockerfile_is_multi_stage_from_the_lock_file_non_root_and_healthchecked() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    # The deployment's extra (Postgres storage, the Docker and Kubernetes launchers) is
    # the image's, not a laptop's: every sync of the image names it.
    syncs = re.findall(r"uv sync [^\n\\]*", text)
    assert syncs and all("--frozen --no-dev --extra deploy" in sync for sync in syncs), syncs
    assert re.search(r"^COPY --from=builder /app/.venv /app/.venv$", text, re.M)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in {"0", "root"}
    assert re.search(r"^HEALTHCHECK .*\n.*grpc-health-check", text, re.M)
    assert "DAGSTER_HOME=" in text
    assert '"-m", "phoenix_assets.definitions"' in text
    for line in re.findall(r"^(?:ENV|ARG) .*$", text, re.M):
        assert not any(secret in line for secret in SECRET_NAMES), line


def test_a_laptop_install_has_no_deployment_packages() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deploy = {"dagster-docker", "dagster-postgres", "dagster-k8s"}
    names = {re.split(r"[<>=\[ ]", spec, maxsplit=1)[0] for spec in project["dependencies"]}
    assert not names & deploy
    extra = {
        re.split(r"[<>=\[ ]", spec, maxsplit=1)[0]
        for spec in project["optional-dependencies"]["deploy"]
    }
    assert extra == deploy


def test_dockerignore_lets_in_only_what_the_image_needs() -> None:
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allow-list: .env files, .git and .venv stay out"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "uv.lock", "README.md", "phoenix_assets"}


# --------------------------------------------------------------------------- compose


def test_compose_instance_config_is_valid_for_dagster(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes.config_class import ConfigurableClassData
    from dagster_docker import DockerRunLauncher

    for name, value in _env_file(DOCKER / ".env.dev").items():
        monkeypatch.setenv(name, value)
    config, _ = dagster_instance_config(str(DOCKER))
    assert set(config["storage"]) == {"postgres"}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    launcher_config = config["run_launcher"]
    launcher = ConfigurableClassData(
        launcher_config["module"],
        launcher_config["class"],
        yaml.safe_dump(launcher_config["config"]),
    ).rehydrate(DockerRunLauncher)
    assert isinstance(launcher, DockerRunLauncher)


def test_compose_stack_wires_the_run_launcher_to_its_network_and_volumes() -> None:
    compose = _yaml(DOCKER / "docker-compose.yml")
    services = compose["services"]
    expected = {"postgres", "mongodb", "phoenix_user_code", "dagster_webserver", "dagster_daemon"}
    assert expected <= set(services)
    assert services["mongodb"]["image"] == "mongo:7"
    launcher = _yaml(DOCKER / "dagster.yaml")["run_launcher"]["config"]
    networks = {net.get("name", key) for key, net in compose["networks"].items()}
    assert launcher["network"] in networks
    volume_names = {vol.get("name") for vol in compose["volumes"].values() if vol}
    for mount in launcher["container_kwargs"]["volumes"]:
        assert mount.split(":")[0] in volume_names, mount

    user_code = services["phoenix_user_code"]
    assert user_code["command"][:3] == ["dagster", "api", "grpc"]
    assert user_code["command"][-2:] == ["-m", "phoenix_assets.definitions"]
    assert "DAGSTER_CURRENT_IMAGE" in user_code["environment"]
    workspace = _yaml(DOCKER / "workspace.yaml")["load_from"][0]["grpc_server"]
    assert workspace["host"] == "phoenix_user_code"
    assert str(workspace["port"]) == user_code["command"][user_code["command"].index("-p") + 1]
    for name in ("dagster_webserver", "dagster_daemon"):
        mounts = services[name]["volumes"]
        assert any(m.endswith("/opt/dagster/dagster_home/dagster.yaml:ro") for m in mounts)
        assert any(m.endswith(":/var/run/docker.sock") for m in mounts)


def test_every_setting_reaches_run_containers_and_is_defined_in_both_env_files() -> None:
    forwarded = _forwarded()
    assert len(forwarded) == len(set(forwarded))
    missing = _settings_in_env_example() - set(forwarded)
    assert not missing, f"add to deploy/docker/dagster.yaml env_vars: {sorted(missing)}"
    for env_file in (".env.dev", ".env.prod.example"):
        defined = _env_file(DOCKER / env_file)
        undefined = set(forwarded) - set(defined)
        # An unset name would stop every run launch ("Tried to load environment variable").
        assert not undefined, f"{env_file} must define (maybe empty): {sorted(undefined)}"
        assert defined["PHOENIX_ENV_FILE"] == env_file.removesuffix(".example")


def test_env_files_hold_no_real_secret() -> None:
    prod = _env_file(DOCKER / ".env.prod.example")
    for name, value in prod.items():
        if any(secret in name for secret in SECRET_NAMES) and value:
            assert "CHANGE-ME" in value, f"{name} in .env.prod.example must be a placeholder"
    dev = _env_file(DOCKER / ".env.dev")
    assert dev["MONGODB_URI"] == "mongodb://mongodb:27017/"
    ignored = (DOCKER / ".gitignore").read_text().split()
    assert ".env.*" in ignored and "!.env.prod.example" in ignored


def test_env_example_shows_the_assessor_sources_own_defaults() -> None:
    """Every MARICOPA_* setting is in .env.example with the default the code uses (a
    commented value that drifted from the code tells the operator the wrong story)."""
    from phoenix_assets.sources.maricopa import MaricopaSettings
    from phoenix_assets.sources.source_resources import MaricopaApiResource

    text = (ROOT / ".env.example").read_text()
    shown = dict(re.findall(r"^# ?(MARICOPA_[A-Z_]+)=(\S*)", text, re.M))
    fields = MaricopaApiResource.model_fields
    assert set(shown) == {f"MARICOPA_{name.upper()}" for name in fields}
    defaults = MaricopaSettings.from_env({})
    for name, value in shown.items():
        attribute = name.removeprefix("MARICOPA_").lower().removeprefix("api_")
        if attribute == "token":
            assert value == "" and defaults.token is None
            continue
        expected = getattr(defaults, attribute)
        if isinstance(expected, str):
            assert value == expected, name
        else:
            assert float(value) == expected, f"{name}: .env.example shows {value}, code {expected}"


def test_the_code_location_loads_with_the_development_env_file(tmp_path: Path) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MONGODB_", "PHOENIX_", "MARICOPA_", "MLS_RESO_"))
    }
    env.update(_env_file(DOCKER / ".env.dev"))
    env["DAGSTER_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", "import phoenix_assets.definitions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


# --------------------------------------------------------------------------- Helm


def test_helm_values_run_this_image_as_a_user_deployment_with_secrets_from_kubernetes() -> None:
    values = _yaml(HELM / "values.yaml")
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["port"] == 4000
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "phoenix_assets.definitions"]
    assert deployment["envSecrets"] == [{"name": "phoenix-assets-env"}]
    assert deployment["podSecurityContext"]["runAsUser"] == 10001
    assert not any(secret in name for name in deployment["env"] for secret in SECRET_NAMES)
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert values["generatePostgresqlPasswordSecret"] is False
    assert "postgresqlPassword" not in values["postgresql"]


@pytest.mark.parametrize(
    "scheme",
    [
        pytest.param(
            _yaml(DOCKER / "dagster.yaml")["storage"]["postgres"]["postgres_db"].get("scheme"),
            id="compose",
        ),
        pytest.param(_yaml(HELM / "values.yaml")["postgresql"].get("postgresqlScheme"), id="helm"),
    ],
)
def test_dagsters_postgres_storage_names_a_driver_the_image_has(scheme: str | None) -> None:
    """The run workers, the webserver and the daemon open Dagster's Postgres storage with
    this URL scheme: its driver must be among the image's packages (the ``deploy``
    extra, installed here too). A plain ``postgresql`` means psycopg 3 to SQLAlchemy 2.1,
    which the image does not have."""
    import sqlalchemy

    assert scheme, "set the Postgres scheme (the default driver is not installed)"
    engine = sqlalchemy.create_engine(f"{scheme}://user:secret@localhost:5432/dagster")
    engine.dispose()  # never connected: the driver imported is what is checked


# --------------------------------------------------------------------------- workflows


def test_workflows_test_against_mongodb_and_run_yesterday_daily() -> None:
    ci = _yaml(WORKFLOWS / "ci.yml")
    test_job = ci["jobs"]["test"]
    assert test_job["services"]["mongodb"]["image"] == "mongo:7"
    assert "PHOENIX_TEST_MONGODB_URI" in test_job["env"]
    commands = " ".join(step.get("run", "") for step in test_job["steps"])
    for command in ("ruff check", "ruff format --check", "mypy", "pytest"):
        assert command in commands

    daily = _yaml(WORKFLOWS / "daily.yml")
    triggers = daily[True]  # YAML reads the key `on` as true
    assert triggers["schedule"] == [{"cron": "0 10 * * *"}]
    assert "workflow_dispatch" in triggers
    job = daily["jobs"]["run"]
    assert job["env"]["MONGODB_URI"] == "${{ secrets.MONGODB_URI }}"
    steps = " ".join(step.get("run", "") for step in job["steps"])
    assert "TZ=America/Phoenix date -d yesterday" in steps
    assert "phoenix-assets run --day" in steps
    uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload")]
    assert uploads and uploads[0]["with"]["path"] == "${{ env.PHOENIX_REPORTS_DIR }}"
