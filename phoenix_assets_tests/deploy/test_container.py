"""The Docker image, end to end: built from the Dockerfile, serving the code location
over gRPC from a container, and running one job in a container of its own through
dagster-docker's DockerRunLauncher, against the session's MongoDB.

The machine has no Docker engine: podman plays it (see ``podman_env``), and its
``system service`` socket is the DOCKER_HOST the launcher's docker SDK talks to.
Containers use host networking, so the gRPC server, the run worker and the test's
MongoDB server (127.0.0.1) reach each other. The test's Dagster instance is SQLite
files in a temp folder, bind-mounted at the same path into the run container, which
therefore runs as this process's uid (the image's default user is a non-root one; the
gRPC server here runs as that user).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from pymongo import MongoClient

from phoenix_assets_tests.delivery.smtp_server import free_port
from phoenix_assets_tests.deploy import podman_env

pytestmark = [pytest.mark.container, pytest.mark.timeout(2700)]

DAY = "2026-01-06"
ZIP_CODE = "85018"
JOB = "daily_pipeline"
STARTUP_TARGET_SECONDS = 30
RUN_TIMEOUT_SECONDS = 600


def _instance_yaml(image: str, home: Path, env_names: list[str]) -> dict[str, object]:
    return {
        # Launch at once (no daemon here to dequeue runs).
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": "DefaultRunCoordinator",
        },
        "run_launcher": {
            "module": "dagster_docker",
            "class": "DockerRunLauncher",
            "config": {
                "image": image,
                "network": "host",
                # Forwarded from the launching process's environment, by name.
                "env_vars": env_names,
                "container_kwargs": {
                    "volumes": {str(home): {"bind": str(home), "mode": "rw"}},
                    "user": f"{os.getuid()}:{os.getgid()}",
                    "healthcheck": {"test": ["NONE"]},
                },
            },
        },
        "telemetry": {"enabled": False},
    }


def _wait_for_run(home: Path, run_id: str, timeout: float) -> tuple[str, list[str]]:
    """Poll the instance until the run finishes; its status and its error messages."""
    import dagster as dg

    deadline = time.monotonic() + timeout
    with dg.DagsterInstance.from_config(str(home)) as instance:
        while True:
            run = instance.get_run_by_id(run_id)
            if run is not None and run.is_finished:
                errors = [
                    str(entry.dagster_event.event_specific_data)
                    for entry in instance.all_logs(run_id)
                    if entry.dagster_event is not None and entry.dagster_event.is_failure
                ]
                return run.status.value, errors
            if time.monotonic() > deadline:
                return (run.status.value if run else "NOT_FOUND"), ["timed out"]
            time.sleep(1)


def test_image_serves_the_code_location_and_runs_a_job_in_its_own_container(
    mongo_uri: str,
    mongo_client: MongoClient[dict],
    database_name: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    test_started = time.monotonic()
    state_dir = tmp_path / "podman"
    tag = podman_env.DEFAULT_TAG
    try:
        podman, timings = podman_env.prepare(state_dir, tag, build_log=tmp_path / "build.log")
    except podman_env.PodmanUnavailable as exc:
        pytest.skip(str(exc))
    size_mb = podman.image_size(tag) / 1e6

    # The variables the code location and its runs read; passed to containers by name
    # (`podman run -e NAME`, the launcher's env_vars), never written into a command line.
    pipeline_env = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": database_name,
        "PHOENIX_ZIP_CODES": ZIP_CODE,
        "PHOENIX_AUTOMATION": "off",
    }
    home = tmp_path / "dagster_home"
    reports = home / "reports"
    reports.mkdir(parents=True)
    env_names = [*pipeline_env, "PHOENIX_REPORTS_DIR"]
    pipeline_env["PHOENIX_REPORTS_DIR"] = str(reports)
    (home / "dagster.yaml").write_text(yaml.safe_dump(_instance_yaml(tag, home, env_names)))

    port = free_port()
    grpc_name = f"phoenix-grpc-{uuid.uuid4().hex[:8]}"
    run_id = str(uuid.uuid4())
    podman.env.update(pipeline_env)
    try:
        started = time.monotonic()
        podman.run(
            [
                "run",
                "-d",
                "--name",
                grpc_name,
                "--network",
                "host",
                *(arg for name in pipeline_env for arg in ("-e", name)),
                "-e",
                "DAGSTER_GRPC_HOST=127.0.0.1",
                "-e",
                f"DAGSTER_GRPC_PORT={port}",
                "-e",
                f"DAGSTER_CURRENT_IMAGE={tag}",
                tag,
            ]
        )
        podman.wait_healthy(grpc_name, timeout=180)
        timings["grpc_healthy_s"] = time.monotonic() - started
        user = podman.run(["exec", grpc_name, "id", "-u"]).stdout.strip()
        assert user == "10001", "the image runs as its non-root user"

        with podman.service(state_dir / "podman.sock") as docker_host:
            launch_env = {
                **os.environ,
                **pipeline_env,
                "DAGSTER_HOME": str(home),
                "DOCKER_HOST": docker_host,
            }
            started = time.monotonic()
            launched = subprocess.run(
                [
                    str(Path(sys.executable).with_name("dagster")),
                    "job",
                    "launch",
                    "--grpc-host",
                    "127.0.0.1",
                    "--grpc-port",
                    str(port),
                    "-j",
                    JOB,
                    "--tags",
                    json.dumps({"dagster/partition": DAY}),
                    "--run-id",
                    run_id,
                ],
                env=launch_env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert launched.returncode == 0, launched.stderr[-3000:]
            status, errors = _wait_for_run(home, run_id, RUN_TIMEOUT_SECONDS)
            timings["run_s"] = time.monotonic() - started
            run_containers = podman.run(
                ["ps", "-a", "--filter", f"label=dagster/run_id={run_id}", "--format", "{{.ID}}"]
            ).stdout.split()
            worker_logs = "".join(podman.logs(cid) for cid in run_containers)
            assert status == "SUCCESS", f"{status}: {errors}\n{worker_logs[-4000:]}"
            assert len(run_containers) == 1, "the run ran in a container of its own"
    finally:
        podman.remove_containers(grpc_name)
        podman.remove_labelled(f"dagster/run_id={run_id}")

    db = mongo_client[database_name]
    for collection in ("raw_demo_listings", "property_snapshots", "daily_market_summary"):
        assert db[collection].count_documents({"partition_key": DAY}) > 0, collection
    summary = db["daily_market_summary"].find_one({"partition_key": DAY, "area": ZIP_CODE})
    assert summary is not None and summary["active_listings"] > 0
    assert list(reports.rglob("*.html")), "the run wrote its report where it was told"

    timings["test_total_s"] = time.monotonic() - test_started
    with capsys.disabled():
        print(
            f"\n[container] image {tag}: {size_mb:.0f} MB; "
            + ", ".join(f"{key} {value:.1f}" for key, value in timings.items())
        )
    assert timings["grpc_healthy_s"] < STARTUP_TARGET_SECONDS
