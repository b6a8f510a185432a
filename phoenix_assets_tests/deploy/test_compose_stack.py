"""The compose stack of ``deploy/docker``, brought up as an operator does, end to end.

``docker-compose`` (Debian's 1.29) runs the unchanged ``docker-compose.yml`` with a
settings file derived from ``.env.dev`` (one ZIP code, a small demo scale, automation
off, the missed-day sensor looking back two days), against podman's
``system service`` socket: the Docker API the daemon's DockerRunLauncher also uses,
mounted into the webserver and the daemon as the compose file says. Then, through the
webserver's GraphQL only: the code location loads; a ``daily_pipeline`` run for one
day is queued, dequeued by the daemon and succeeds in a container of its own; the
``missed_day_backfill`` sensor, started through GraphQL, launches a backfill for the
other day of its window, which succeeds. Postgres holds the runs and their event logs
(psql in the postgres container), and a ``pg_dump`` of it restores; the reports volume
holds both days' files and the storage volume the runs' step logs; ``down`` then
``up`` keeps the run history, and ``down -v`` removes the volumes.

STAND-INS, because nothing can be pulled here (no Docker Hub):

- ``postgres:16`` is a real PostgreSQL server, but Debian bookworm's 15, built from
  Debian's packages on the debootstrap base image, with an entrypoint that honours
  POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB and PGDATA like the official one;
- ``mongo:7`` is NOT MongoDB: it runs nx-27017 (the MongoDB wire-protocol server in
  Python over SQLite that the project's tests use) on 0.0.0.0:27017 with its data in
  /data/db, and its ``mongosh`` answers only the compose health check.

Their recipes are under ``standins/`` (built by ``podman_env.ensure_standins``); the
project's image is built from the Dockerfile by ``podman_env.prepare``. Podman without
systemd runs no health checks by itself: ``podman_env.HealthChecks`` runs each
container's check at the compose file's interval, as Docker's engine would, so the
up-to-healthy times are what an operator on Docker sees. Podman also keeps stopped
containers attached to their network, so the finished run containers are removed (as
the README's operator notes say to) before ``down``.

It prints the time from ``up`` to a healthy webserver, each run's time and each
service's memory (podman stats), the figures in benchmarks/README.md and the README.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from phoenix_assets.defs.automation.missed_days import SCHEDULED_DELAY, due_days
from phoenix_assets.defs.automation.settings import MissedDaySettings
from phoenix_assets.partitions import TIMEZONE
from phoenix_assets_tests.delivery.smtp_server import free_port
from phoenix_assets_tests.deploy import podman_env

pytestmark = [pytest.mark.container, pytest.mark.timeout(2400)]

COMPOSE_DIR = podman_env.REPO_ROOT / "deploy" / "docker"
SERVICES = ("postgres", "mongodb", "phoenix_user_code", "dagster_webserver", "dagster_daemon")
# The names docker-compose.yml fixes (the run launcher attaches run containers to the
# network and mounts the two volumes by these names).
FIXED_NETWORK = "phoenix_network"
FIXED_VOLUMES = ("phoenix_storage", "phoenix_reports")
PROJECT_VOLUMES = ("phoenix_postgres", "phoenix_mongodb")
LOCATION = "phoenix_assets"
REPOSITORY = "__repository__"
JOB = "daily_pipeline"
SENSOR = "missed_day_backfill"
ZIP_CODE = "85018"
LOOKBACK_DAYS = 2
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
BACKFILL_UNFINISHED = {"REQUESTED", "CANCELING", "FAILING"}
HEALTHY_TIMEOUT = 420.0
RUN_TIMEOUT = 600.0
# On Docker the webserver is healthy at its first check, 30 s after it starts, which
# waits for the user code's first check (30 s), which waits for the databases' (10 s).
UP_TO_HEALTHY_TARGET = 240.0


def _stack_env_file(path: Path, overrides: Mapping[str, str]) -> None:
    """``.env.dev`` with ``overrides`` (each must be a setting .env.dev has)."""
    lines = (COMPOSE_DIR / ".env.dev").read_text().splitlines()
    seen: set[str] = set()
    for index, line in enumerate(lines):
        key = line.split("=", 1)[0]
        if not line.startswith("#") and "=" in line and key in overrides:
            lines[index] = f"{key}={overrides[key]}"
            seen.add(key)
    assert seen == set(overrides), f".env.dev lacks {sorted(set(overrides) - seen)}"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


@dataclass
class Stack:
    """One compose project on the podman socket, and what the test measured of it."""

    podman: podman_env.Podman
    compose_bin: str
    project: str
    env_file: Path
    docker_host: str
    ui_port: int
    memory: dict[str, tuple[float, float]] = field(default_factory=dict)  # now, peak MB

    @property
    def client_env(self) -> dict[str, str]:
        # A clean environment: compose would let the shell's variables override the
        # settings file's.
        keep = ("PATH", "HOME", "LANG", "CONTAINERS_CONF")
        env = {k: v for k, v in self.podman.env.items() if k in keep}
        return {**env, "DOCKER_HOST": self.docker_host}

    def compose(
        self, *args: str, timeout: float = 600, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        command = [
            self.compose_bin,
            "--ansi",
            "never",
            "-p",
            self.project,
            "--env-file",
            str(self.env_file),
            *args,
        ]
        done = subprocess.run(
            command,
            cwd=COMPOSE_DIR,
            env=self.client_env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"docker-compose {' '.join(args[:3])} exited {done.returncode}:\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done

    def docker(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """The docker CLI on the socket (podman's own CLI, same arguments, without one)."""
        docker = shutil.which("docker")
        command = [docker, *args] if docker else [self.podman.executable, *args]
        return subprocess.run(
            command,
            env=self.client_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def container(self, service: str) -> str:
        return self.compose("ps", "-q", service).stdout.strip()

    def psql(self, sql: str) -> list[list[str]]:
        done = self.compose(
            "exec",
            "-T",
            "postgres",
            "sh",
            "-c",
            'psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -At -F "|" -c "$0"',
            sql,
        )
        return [line.split("|") for line in done.stdout.splitlines() if line]

    def gql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ui_port}/graphql",
            data=json.dumps({"query": query, "variables": dict(variables or {})}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def health(self, service: str) -> str:
        cid = self.container(service)
        if not cid:
            return "absent"
        done = self.podman.run(
            ["inspect", "--format", "{{.State.Status}} {{.State.Health.Status}}", cid],
            check=False,
        )
        state, _, health = done.stdout.strip().partition(" ")
        if state in {"exited", "stopped", "dead"}:
            raise AssertionError(f"{service} is {state}:\n{self.podman.logs(cid)[-4000:]}")
        return health or state

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.ui_port}/server_info", timeout=5
            ) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def up_until_healthy(self) -> tuple[float, float, float]:
        """``up -d``; seconds until the webserver answers, until it is healthy, and until
        every service is."""
        started = time.monotonic()
        self.compose("up", "-d", timeout=HEALTHY_TIMEOUT)
        answered = None
        while True:
            if answered is None and self.answers():
                answered = time.monotonic() - started
            health = self.health("dagster_webserver")
            if health == "healthy":
                healthy = time.monotonic() - started
                break
            assert health != "unhealthy", (
                f"the webserver's health check fails:\n{self.ps()}\n"
                + self.podman.run(
                    [
                        "inspect",
                        "--format",
                        "{{json .State.Health.Log}}",
                        self.container("dagster_webserver"),
                    ],
                    check=False,
                ).stdout[-2000:]
            )
            assert time.monotonic() - started < HEALTHY_TIMEOUT, (
                f"the webserver is not healthy after {HEALTHY_TIMEOUT:g} s:\n{self.ps()}"
            )
            time.sleep(1)
        # The daemon's first check comes 60 s after it starts.
        while not all(self.health(service) == "healthy" for service in SERVICES):
            assert time.monotonic() - started < HEALTHY_TIMEOUT, self.ps()
            time.sleep(1)
        return (answered if answered is not None else healthy), healthy, time.monotonic() - started

    def ps(self) -> str:
        return self.compose("ps", check=False).stdout

    def sample_memory(self, run_ids: Iterable[str] = ()) -> None:
        """Each service's memory now (podman stats), and the most seen so far; run
        containers under "run worker"."""
        names = {f"{self.project}_{service}_1": service for service in SERVICES}
        for run_id in run_ids:
            for cid in self.run_containers(run_id):
                names[cid[:12]] = "run worker"
        done = self.podman.run(["stats", "--no-stream", "--format", "json"], check=False)
        if done.returncode != 0 or not done.stdout.strip():
            return
        for entry in json.loads(done.stdout):
            service = names.get(entry["name"]) or names.get(entry["id"][:12])
            if service is None:
                continue
            used = _megabytes(entry["mem_usage"].split("/")[0])
            if used <= 0:
                continue  # a container that has just finished reports 0 B
            _, peak = self.memory.get(service, (0.0, 0.0))
            self.memory[service] = (used, max(peak, used))

    def run_containers(self, run_id: str) -> list[str]:
        """``docker ps -aq --filter label=dagster/run_id=RUN_ID``."""
        done = self.docker("ps", "-aq", "--no-trunc", "--filter", f"label=dagster/run_id={run_id}")
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    def wait_for_run(self, run_id: str, run_ids: list[str]) -> dict[str, Any]:
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            run = self.gql(
                "query($id: ID!) { runOrError(runId: $id) { __typename "
                "... on Run { runId status startTime endTime tags { key value } } } }",
                {"id": run_id},
            )["runOrError"]
            if run.get("status") in FINISHED:
                return run
            assert time.monotonic() < deadline, f"run {run_id} still {run.get('status')}"
            self.sample_memory(run_ids)
            time.sleep(2)

    def logs_tail(self, lines: int = 40) -> str:
        out = [self.compose("logs", "--no-color", "--tail", str(lines), check=False).stdout]
        ids = self.podman.run(
            [
                "ps",
                "-aq",
                "--filter",
                f"network={FIXED_NETWORK}",
                "--filter",
                "label=dagster/run_id",
            ],
            check=False,
        ).stdout.split()
        for cid in ids:
            out.append(f"--- run container {cid}\n{self.podman.logs(cid)[-3000:]}")
        return "\n".join(out)


def _megabytes(text: str) -> float:
    text = text.strip()
    units = {"kB": 1e-3, "KB": 1e-3, "MB": 1.0, "GB": 1e3, "B": 1e-6}
    for unit, factor in units.items():
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text) / 1e6


def _grace_hours_for_a_still_window(now: dt.datetime) -> float:
    """PHOENIX_BACKFILL_GRACE_HOURS that makes the sensor's window end at noon in Phoenix:
    it moves on at midnight, half a day either way."""
    moment = (now - SCHEDULED_DELAY).astimezone(ZoneInfo(TIMEZONE))
    noon = moment.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon > moment:
        noon -= dt.timedelta(days=1)
    return round((moment - noon).total_seconds() / 3600, 3)


def _launch_day(stack: Stack, day: str) -> str:
    result = stack.gql(
        """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
            __typename ... on LaunchRunSuccess { run { runId status } }
            ... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } }
        } }""",
        {
            "params": {
                "selector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": REPOSITORY,
                    "jobName": JOB,
                },
                "runConfigData": {},
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": day}]},
            }
        },
    )["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    # The QueuedRunCoordinator: the webserver queues, the daemon launches.
    assert result["run"]["status"] == "QUEUED", result
    run_id: str = result["run"]["runId"]
    return run_id


def _sensor(stack: Stack) -> dict[str, Any]:
    sensor: dict[str, Any] = stack.gql(
        """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
            ... on Sensor { name jobOriginId sensorState { selectorId status } } } }""",
        {"s": _sensor_selector()},
    )["sensorOrError"]
    assert sensor["__typename"] == "Sensor", sensor
    return sensor


def _sensor_selector() -> dict[str, str]:
    return {
        "repositoryLocationName": LOCATION,
        "repositoryName": REPOSITORY,
        "sensorName": SENSOR,
    }


def _backfills(stack: Stack) -> list[dict[str, Any]]:
    result = stack.gql(
        """{ partitionBackfillsOrError(limit: 20) { __typename
            ... on PartitionBackfills { results { id status tags { key value }
                runs { runId status }
                assetBackfillData { rootTargetedPartitions {
                    partitionKeys ranges { start end } } } } } } }"""
    )["partitionBackfillsOrError"]
    assert result["__typename"] == "PartitionBackfills", result
    backfills: list[dict[str, Any]] = result["results"]
    return backfills


def _targeted_days(backfill: Mapping[str, Any]) -> set[str]:
    targeted = (backfill.get("assetBackfillData") or {}).get("rootTargetedPartitions") or {}
    days = set(targeted.get("partitionKeys") or [])
    for span in targeted.get("ranges") or []:
        day = dt.date.fromisoformat(span["start"])
        while day <= dt.date.fromisoformat(span["end"]):
            days.add(day.isoformat())
            day += dt.timedelta(days=1)
    return days


def _remove_run_containers(stack: Stack, run_ids: Iterable[str]) -> None:
    """The operator's ``docker container prune --filter label=dagster/run_id``, one run
    of this test at a time (other stopped run containers on this host are not ours)."""
    for run_id in run_ids:
        done = stack.docker(
            "container", "prune", "-f", "--filter", f"label=dagster/run_id={run_id}"
        )
        assert done.returncode == 0, done.stderr
        assert not stack.run_containers(run_id), f"run {run_id}'s container was not pruned"


def _volume_listing(stack: Stack, volume: str, image: str) -> list[str]:
    """``docker run --rm -v VOLUME:/v IMAGE find /v``: the volume's files."""
    done = stack.docker("run", "--rm", "-v", f"{volume}:/v:ro", image, "find", "/v", "-type", "f")
    assert done.returncode == 0, done.stderr
    return [line.removeprefix("/v/") for line in done.stdout.split()]


def _volumes_present(podman: podman_env.Podman, names: Iterable[str]) -> list[str]:
    return [
        name
        for name in names
        if podman.run(["volume", "exists", name], check=False).returncode == 0
    ]


def test_compose_stack_runs_a_day_and_a_sensor_backfill_and_keeps_its_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test_started = time.monotonic()
    state_dir = tmp_path / "podman"
    tag = podman_env.DEFAULT_TAG
    try:
        podman, timings = podman_env.prepare(state_dir, tag, build_log=tmp_path / "build.log")
        timings.update(podman_env.ensure_standins(podman, tmp_path))
        compose_bin = podman_env.ensure_compose()
    except podman_env.PodmanUnavailable as exc:
        pytest.skip(str(exc))

    taken = [
        name
        for name, kind in [(FIXED_NETWORK, "network"), *((v, "volume") for v in FIXED_VOLUMES)]
        if podman.run([kind, "exists", name], check=False).returncode == 0
    ]
    if taken:
        pytest.fail(
            f"{', '.join(taken)} already exist on this host's podman (another phoenix "
            "stack, or one a killed test left): the test would take them over. Remove them "
            "(podman volume/network rm) if they are leftovers."
        )

    # The sensor's window (the same function, the same settings): the test runs its first
    # day by hand and leaves the second to the sensor. The grace puts the test half a day
    # from the moment the window moves on, so it cannot move while the test runs.
    now = dt.datetime.now(dt.UTC)
    grace_hours = _grace_hours_for_a_still_window(now)
    window = due_days(
        now, MissedDaySettings(lookback_days=LOOKBACK_DAYS, grace=dt.timedelta(hours=grace_hours))
    )
    assert len(window) == LOOKBACK_DAYS
    day_by_hand, day_missed = window

    project = f"phxstack{uuid.uuid4().hex[:8]}"
    ui_port = free_port()
    socket_path = state_dir / "podman.sock"
    env_file = tmp_path / "stack.env"
    _stack_env_file(
        env_file,
        {
            "PHOENIX_ENV_FILE": str(env_file),
            "PHOENIX_IMAGE": tag,
            "PHOENIX_UI_PORT": str(ui_port),
            "PHOENIX_UI_URL": f"http://127.0.0.1:{ui_port}",
            # podman's socket, group root (0660, as podman's podman.socket unit makes it)
            "DOCKER_SOCKET": str(socket_path),
            "DOCKER_GID": "0",
            "PHOENIX_ZIP_CODES": ZIP_CODE,
            "PHOENIX_DEMO_SCALE": "0.2",
            # Nothing starts by itself; the test starts the sensor.
            "PHOENIX_AUTOMATION": "off",
            "PHOENIX_BACKFILL_LOOKBACK_DAYS": str(LOOKBACK_DAYS),
            "PHOENIX_BACKFILL_GRACE_HOURS": str(grace_hours),
            "PHOENIX_BACKFILL_INTERVAL_SECONDS": "5",
        },
    )

    run_ids: list[str] = []
    failed = True
    with (
        podman.service(socket_path, mode=0o660) as docker_host,
        podman_env.HealthChecks(podman, [f"label=com.docker.compose.project={project}"]),
    ):
        stack = Stack(podman, compose_bin, project, env_file, docker_host, ui_port)
        try:
            # ------------------------------------------------------------ up, healthy
            answered, healthy, all_healthy = stack.up_until_healthy()
            timings["up_to_webserver_answering_s"] = answered
            timings["up_to_webserver_healthy_s"] = healthy
            timings["up_to_all_healthy_s"] = all_healthy

            workspace = stack.gql(
                """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
                    locationOrLoadError { __typename ... on RepositoryLocation {
                        repositories { name jobs { name } sensors { name } } }
                    ... on PythonError { message } } } } } }"""
            )["workspaceOrError"]["locationEntries"]
            assert [entry["name"] for entry in workspace] == [LOCATION]
            location = workspace[0]["locationOrLoadError"]
            assert location["__typename"] == "RepositoryLocation", location
            repository = location["repositories"][0]
            assert JOB in {job["name"] for job in repository["jobs"]}
            assert SENSOR in {sensor["name"] for sensor in repository["sensors"]}

            # ------------------------------------------------------------ a day by hand
            started = time.monotonic()
            run_id = _launch_day(stack, day_by_hand)
            run_ids.append(run_id)
            run = stack.wait_for_run(run_id, run_ids)
            timings["run_by_hand_s"] = time.monotonic() - started
            timings["run_by_hand_in_container_s"] = run["endTime"] - run["startTime"]
            containers = stack.run_containers(run_id)
            worker_logs = "".join(stack.podman.logs(cid) for cid in containers)
            assert run["status"] == "SUCCESS", f"{run}\n{worker_logs[-4000:]}"
            assert len(containers) == 1, "the run ran in a container of its own"
            image, network, project_label = (
                podman.run(
                    [
                        "inspect",
                        "--format",
                        "{{.ImageName}}|{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}|"
                        '{{index .Config.Labels "com.docker.compose.project"}}',
                        containers[0],
                    ]
                )
                .stdout.strip()
                .split("|")
            )
            assert image == tag and network == FIXED_NETWORK, (image, network)
            assert project_label in ("", "<no value>"), "a run container, not a compose service"
            run_container_logs = stack.docker("logs", containers[0])
            assert run_id in run_container_logs.stdout + run_container_logs.stderr

            # ------------------------------------------------------------ the sensor
            sensor = _sensor(stack)
            assert sensor["sensorState"]["status"] == "STOPPED", "PHOENIX_AUTOMATION=off"
            started = time.monotonic()
            result = stack.gql(
                """mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) {
                    __typename ... on Sensor { sensorState { status } }
                    ... on PythonError { message } } }""",
                {"s": _sensor_selector()},
            )["startSensor"]
            assert result["__typename"] == "Sensor", result
            assert result["sensorState"]["status"] == "RUNNING"
            deadline = time.monotonic() + RUN_TIMEOUT
            while True:
                ours = [
                    backfill
                    for backfill in _backfills(stack)
                    if {"key": "phoenix/trigger", "value": SENSOR} in backfill["tags"]
                ]
                if ours and ours[0]["status"] not in BACKFILL_UNFINISHED:
                    break
                assert time.monotonic() < deadline, f"the sensor's backfill: {ours}"
                stack.sample_memory([*run_ids, *(r["runId"] for b in ours for r in b["runs"])])
                time.sleep(2)
            timings["sensor_backfill_s"] = time.monotonic() - started
            assert len(ours) == 1, f"one backfill for the gap, not {len(ours)}"
            backfill = ours[0]
            backfill_runs = [r["runId"] for r in backfill["runs"]]
            run_ids.extend(backfill_runs)
            assert backfill["status"] in ("COMPLETED_SUCCESS", "COMPLETED"), backfill
            assert backfill_runs and all(r["status"] == "SUCCESS" for r in backfill["runs"])
            assert day_missed in _targeted_days(backfill), backfill
            assert day_by_hand not in _targeted_days(backfill), "that day was done"
            stopped = stack.gql(
                """mutation($origin: String, $selector: String) {
                    stopSensor(jobOriginId: $origin, jobSelectorId: $selector) { __typename
                    ... on StopSensorMutationResult { instigationState { status } }
                    ... on PythonError { message } } }""",
                {
                    "origin": sensor["jobOriginId"],
                    "selector": sensor["sensorState"]["selectorId"],
                },
            )["stopSensor"]
            assert stopped.get("instigationState", {}).get("status") == "STOPPED", stopped

            # ------------------------------------------------------------ health, logs
            listed = stack.ps()
            for service in SERVICES:
                line = next(x for x in listed.splitlines() if f"_{service}_1 " in x)
                assert "Up (healthy)" in line, listed
            stack.sample_memory()
            daemon_log = stack.compose("logs", "--no-color", "dagster_daemon").stdout
            assert "QueuedRunCoordinatorDaemon" in daemon_log and "Launched 1 runs" in daemon_log

            # ------------------------------------------------------------ Postgres
            statuses = dict(stack.psql("SELECT run_id, status FROM runs"))
            assert {run_id: statuses.get(run_id) for run_id in run_ids} == dict.fromkeys(
                run_ids, "SUCCESS"
            )
            for run_id in run_ids:
                [[events]] = stack.psql(
                    f"SELECT count(*) FROM event_logs WHERE run_id = '{run_id}'"
                )
                assert int(events) > 0, run_id
            materialized = {
                row[0]
                for row in stack.psql(
                    "SELECT DISTINCT partition FROM event_logs "
                    "WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"
                )
            }
            assert {day_by_hand, day_missed} <= materialized, materialized
            [[backfills_stored]] = stack.psql("SELECT count(*) FROM bulk_actions")
            assert int(backfills_stored) == 1

            # A backup with pg_dump, restored into a scratch database.
            dump = stack.compose(
                "exec", "-T", "postgres", "sh", "-c", 'pg_dump -U "$POSTGRES_USER" "$POSTGRES_DB"'
            ).stdout
            assert "CREATE TABLE public.runs" in dump and run_ids[0] in dump
            stack.compose(
                "exec", "-T", "postgres", "sh", "-c",
                'createdb -U "$POSTGRES_USER" restore_check && '
                'psql -q -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d restore_check > /dev/null',
                stdin=dump,
            )  # fmt: skip
            restored = stack.compose(
                "exec", "-T", "postgres", "sh", "-c",
                'psql -U "$POSTGRES_USER" -d restore_check -At -c "SELECT count(*) FROM runs" '
                '&& dropdb -U "$POSTGRES_USER" restore_check',
            ).stdout.split()  # fmt: skip
            assert restored == [str(len(statuses))]

            # ------------------------------------------------------------ the volumes
            reports = _volume_listing(stack, "phoenix_reports", tag)
            for day in (day_by_hand, day_missed):
                for suffix in ("html", "json", "csv"):
                    assert f"daily/phoenix-market-{day}.{suffix}" in reports, reports
            step_logs = _volume_listing(stack, "phoenix_storage", tag)
            for run_id in run_ids:
                assert any(
                    path.startswith(f"{run_id}/compute_logs/") and path.endswith(".out")
                    for path in step_logs
                ), f"no step logs of {run_id} in phoenix_storage"

            # ------------------------------------------------------------ down, up
            _remove_run_containers(stack, run_ids)
            stack.compose("down")
            assert not stack.compose("ps", "-q").stdout.strip()
            volumes = [f"{project}_{v}" for v in PROJECT_VOLUMES] + list(FIXED_VOLUMES)
            assert _volumes_present(podman, volumes) == volumes, "down keeps the volumes"
            # A backup of a stopped service's volume: tar, in the service's own image.
            backup_dir = tmp_path / "backup"
            backup_dir.mkdir()
            for service, image, data, expected in (
                ("mongodb", "mongo:7", "/data/db", "./phoenix.db"),
                ("postgres", "postgres:16", "/var/lib/postgresql/data", "./PG_VERSION"),
            ):
                done = stack.docker(
                    "run", "--rm", "--entrypoint", "tar",
                    "-v", f"{project}_phoenix_{service}:{data}:ro",
                    "-v", f"{backup_dir}:/backup",
                    image, "-czf", f"/backup/{service}.tar.gz", "-C", data, ".",
                )  # fmt: skip
                assert done.returncode == 0, done.stderr
                archived = subprocess.run(
                    ["tar", "-tzf", str(backup_dir / f"{service}.tar.gz")],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.split()
                assert expected in archived, archived

            answered, healthy, all_healthy = stack.up_until_healthy()
            timings["restart_up_to_webserver_healthy_s"] = healthy
            timings["restart_up_to_all_healthy_s"] = all_healthy
            runs = stack.gql(
                "{ runsOrError(limit: 50) { ... on Runs { results { runId status } } } }"
            )["runsOrError"]["results"]
            assert {r["runId"]: r["status"] for r in runs} == dict.fromkeys(run_ids, "SUCCESS")
            assert [b["id"] for b in _backfills(stack)] == [backfill["id"]]
            # The upgrade step (a no-op here); its output, which shows the instance's
            # configuration, is not printed.
            migrate = stack.compose(
                "exec", "-T", "dagster_daemon", "dagster", "instance", "migrate", check=False
            )
            assert migrate.returncode == 0, f"dagster instance migrate exited {migrate.returncode}"
            assert "Updating run storage" in migrate.stdout

            # ------------------------------------------------------------ down -v
            _remove_run_containers(stack, run_ids)
            stack.compose("down", "-v")
            assert _volumes_present(podman, volumes) == [], "down -v removes the volumes"
            assert podman.run(["network", "exists", FIXED_NETWORK], check=False).returncode != 0
            failed = False
        finally:
            if failed:
                with capsys.disabled():
                    print(f"\n[compose-stack] FAILED; the services' last lines:\n{stack.ps()}")
                    print(stack.logs_tail())
            for cid in podman.run(
                ["ps", "-aq", "--filter", f"network={FIXED_NETWORK}"], check=False
            ).stdout.split():
                podman.remove_containers(cid)
            stack.compose("down", "-v", "--remove-orphans", check=False)
            for name in (*(f"{project}_{v}" for v in PROJECT_VOLUMES), *FIXED_VOLUMES):
                podman.run(["volume", "rm", "-f", name], check=False)
            podman.run(["network", "rm", "-f", FIXED_NETWORK], check=False)

    timings["test_total_s"] = time.monotonic() - test_started
    with capsys.disabled():
        print(
            f"\n[compose-stack] days {day_by_hand} (by hand), {day_missed} (sensor); "
            + ", ".join(f"{key} {value:.1f}" for key, value in timings.items())
        )
        print(
            "[compose-stack] memory MB (after the runs / peak seen): "
            + ", ".join(
                f"{service} {now:.0f}/{peak:.0f}"
                for service, (now, peak) in sorted(stack.memory.items())
            )
        )
    assert timings["up_to_webserver_healthy_s"] < UP_TO_HEALTHY_TARGET
