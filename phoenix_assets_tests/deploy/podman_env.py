"""Build and run the project's Dockerfile with podman on a machine with no Docker engine.

The recipe (see the project's container notes):

- podman from Debian's packages, rootful, with a ``containers.conf`` that selects
  ``runc`` (crun fails here on cgroups and rlimits), cgroupfs, file events and explicit
  ulimits;
- no registry to pull from, so a stand-in for ``python:3.11-slim`` is made locally with
  debootstrap (Debian bookworm + python3, pip, venv) and tagged with that name: the
  Dockerfile stays the standard one and ``FROM python:3.11-slim`` resolves locally.
  Outbound HTTPS may be intercepted here, so the host's CA bundle goes into the
  stand-in (``PIP_CERT`` / ``SSL_CERT_FILE`` point at it for pip and uv);
- ``podman system service`` on a private unix socket gives the docker Python SDK (what
  dagster-docker's DockerRunLauncher uses) and docker-compose an engine to talk to:
  ``DOCKER_HOST=unix:///that/socket``.

Stand-ins for the other images the compose stack names (``postgres:16``, ``mongo:7``),
built from the recipes under ``standins/`` on the same base image, are here too
(:func:`ensure_standins`), for ``test_compose_stack.py``.

Used by ``test_container.py``; also a command for a person::

    python -m phoenix_assets_tests.deploy.podman_env build   # podman, base image, image
    python -m phoenix_assets_tests.deploy.podman_env service /tmp/podman.sock  # the socket

Everything here raises :class:`PodmanUnavailable` with a reason a person can act on
when the machine cannot run containers (no podman and no way to install it, no
debootstrap, no network for the base image); a broken Dockerfile is a plain error.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "docker.io/library/python:3.11-slim"
DEFAULT_TAG = "localhost/phoenix-assets:test"
TEST_IMAGE_LABEL = "org.phoenix-assets.test-image"
APT_PACKAGES = (
    "podman",
    "buildah",
    "fuse-overlayfs",
    "slirp4netns",
    "uidmap",
    "runc",
    "debootstrap",
)
DEBIAN_MIRROR = "http://deb.debian.org/debian"
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
# The build context .dockerignore allows (kept in step with it): the image is rebuilt
# only when one of these, or the base image, changed. (podman 4.3 here does not reuse
# the builder stage's layers, so even an unchanged tree costs a ~2-minute build.)
BUILD_CONTEXT_FILES = ("Dockerfile", ".dockerignore", "pyproject.toml", "uv.lock", "README.md")
BUILD_CONTEXT_DIRS = ("phoenix_assets",)
CONTEXT_DIGEST_LABEL = "org.phoenix-assets.context-digest"
STANDINS_DIR = Path(__file__).resolve().with_name("standins")
# The recipe digest an image was built from: a stand-in is rebuilt only when it changed.
STANDIN_RECIPE_LABEL = "org.phoenix-assets.stand-in-recipe"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
HOST_EXTRA_CAS = Path("/usr/local/share/ca-certificates")


class PodmanUnavailable(RuntimeError):
    """This machine cannot build or run containers; the message says why."""


def _log(message: str) -> None:
    print(f"[podman_env] {message}", file=sys.stderr, flush=True)


def _tail(text: str | bytes | None, chars: int = 3000) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return (text or "")[-chars:]


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _apt_get_install(packages: Sequence[str], *, what: str) -> None:
    """``apt-get install`` these packages; PodmanUnavailable naming ``what`` if it fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _log(f"installing {' '.join(packages)} with apt-get")
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", *packages],
    ):
        try:
            done = subprocess.run(command, env=env, capture_output=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PodmanUnavailable(f"{what} could not be installed: {exc}") from exc
        if done.returncode != 0:
            raise PodmanUnavailable(
                f"{what} could not be installed: `{' '.join(command)}` exited "
                f"{done.returncode}: {_tail(done.stderr, 600)}"
            )


def ensure_podman(*, install: bool = True) -> str:
    """The path of ``podman``, installing it (and buildah, runc, debootstrap ...) with
    apt-get when it is missing and this process is root."""
    found = shutil.which("podman")
    if found and shutil.which("runc"):
        return found
    if not install:
        raise PodmanUnavailable("podman not installed (and installing was not allowed)")
    if not _is_root():
        raise PodmanUnavailable("podman not installed and cannot be installed: not root")
    if shutil.which("apt-get") is None:
        raise PodmanUnavailable("podman not installed and cannot be installed: no apt-get")
    _apt_get_install(APT_PACKAGES, what="podman")
    found = shutil.which("podman")
    if not found:
        raise PodmanUnavailable("podman could not be installed: apt-get gave no podman binary")
    return found


@dataclass
class Podman:
    """podman with this recipe's containers.conf (every call goes through :meth:`run`)."""

    executable: str
    conf_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, state_dir: Path, *, install: bool = True) -> Podman:
        executable = ensure_podman(install=install)
        state_dir.mkdir(parents=True, exist_ok=True)
        conf = state_dir / "containers.conf"
        conf.write_text(CONTAINERS_CONF)
        env = {**os.environ, "CONTAINERS_CONF": str(conf)}
        podman = cls(executable=executable, conf_dir=state_dir, env=env)
        probe = podman.run(["info", "--format", "{{.Host.OCIRuntime.Name}}"], check=False)
        if probe.returncode != 0:
            raise PodmanUnavailable(f"podman does not work here: {_tail(probe.stderr, 600)}")
        return podman

    def run(
        self,
        args: Sequence[str],
        *,
        check: bool = True,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.executable, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise subprocess.CalledProcessError(
                done.returncode, done.args, output=done.stdout, stderr=done.stderr
            )
        return done

    def image_exists(self, name: str) -> bool:
        return self.run(["image", "exists", name], check=False).returncode == 0

    # ------------------------------------------------------------------ base image

    def ensure_base_image(self, name: str = BASE_IMAGE) -> float:
        """Make the ``python:3.11-slim`` stand-in unless an image of that name exists.
        Returns the seconds it took (0 when it was there)."""
        if self.image_exists(name):
            return 0.0
        if shutil.which("debootstrap") is None:
            raise PodmanUnavailable(
                f"no {name} image and no debootstrap to make a stand-in for it "
                "(apt-get install debootstrap)"
            )
        started = time.monotonic()
        _log(f"making a stand-in for {name} with debootstrap (about a minute)")
        with tempfile.TemporaryDirectory(prefix="phoenix-base-") as tmp:
            rootfs = Path(tmp) / "rootfs"
            self._debootstrap(rootfs)
            self._import(rootfs, name)
        return time.monotonic() - started

    def _debootstrap(self, rootfs: Path) -> None:
        def step(command: list[str], what: str, timeout: float = 900) -> None:
            try:
                done = subprocess.run(command, capture_output=True, timeout=timeout)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise PodmanUnavailable(f"base image stand-in: {what} failed: {exc}") from exc
            if done.returncode != 0:
                raise PodmanUnavailable(
                    f"base image stand-in: {what} exited {done.returncode}: "
                    f"{_tail(done.stdout, 800)} {_tail(done.stderr, 800)}"
                )

        step(
            ["debootstrap", "--variant=minbase", "bookworm", str(rootfs), DEBIAN_MIRROR],
            "debootstrap",
        )
        # The host's resolver and CAs (outbound HTTPS here may be intercepted).
        shutil.copyfile("/etc/resolv.conf", rootfs / "etc" / "resolv.conf")
        extra = rootfs / "usr" / "local" / "share" / "ca-certificates"
        extra.mkdir(parents=True, exist_ok=True)
        if HOST_EXTRA_CAS.is_dir():
            for crt in HOST_EXTRA_CAS.glob("*.crt"):
                shutil.copyfile(crt, extra / crt.name)
        step(
            [
                "chroot",
                str(rootfs),
                "/bin/sh",
                "-c",
                "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && "
                "apt-get install -y -qq --no-install-recommends python3 python3-venv "
                "python3-pip python-is-python3 ca-certificates && update-ca-certificates && "
                "apt-get clean",
            ],
            "installing python3 in the rootfs",
        )
        if HOST_CA_BUNDLE.is_file():
            shutil.copyfile(HOST_CA_BUNDLE, rootfs / "etc" / "ssl" / "certs" / HOST_CA_BUNDLE.name)
        # Like the real image: pip may install system-wide; no docs, no apt lists; the
        # container engine provides resolv.conf.
        (rootfs / "usr" / "lib" / "python3.11" / "EXTERNALLY-MANAGED").unlink(missing_ok=True)
        (rootfs / "etc" / "resolv.conf").write_text("")
        for junk in ("usr/share/doc", "usr/share/man", "usr/share/info", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
            (rootfs / junk).mkdir(parents=True, exist_ok=True)

    def _import(self, rootfs: Path, name: str) -> None:
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            done = subprocess.run(
                [
                    self.executable,
                    "import",
                    "--change",
                    f"ENV PIP_CERT={HOST_CA_BUNDLE}",
                    "--change",
                    f"ENV SSL_CERT_FILE={HOST_CA_BUNDLE}",
                    "--change",
                    'CMD ["python3"]',
                    "-",
                    name,
                ],
                stdin=tar.stdout,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        finally:
            if tar.stdout is not None:
                tar.stdout.close()
            tar.wait(timeout=60)
        if done.returncode != 0:
            raise PodmanUnavailable(f"podman import of the base image failed: {done.stderr}")

    # ------------------------------------------------------------------ images, containers

    def build(
        self,
        tag: str = DEFAULT_TAG,
        context: Path = REPO_ROOT,
        log: Path | None = None,
        *,
        build_args: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> float:
        """``podman build`` the Dockerfile (docker format, so HEALTHCHECK is kept), or the
        context's Containerfile; returns the seconds it took. The output goes to ``log``
        when given."""
        started = time.monotonic()
        command = [
            "build",
            "--format",
            "docker",
            "--network",
            "host",
            "--label",
            f"{TEST_IMAGE_LABEL}=1",
            *(
                arg
                for key, value in (labels or {}).items()
                for arg in ("--label", f"{key}={value}")
            ),
            *(
                arg
                for key, value in (build_args or {}).items()
                for arg in ("--build-arg", f"{key}={value}")
            ),
            "-t",
            tag,
            str(context),
        ]
        with contextlib.ExitStack() as stack:
            handle = stack.enter_context(open(log, "w")) if log else None
            done = subprocess.run(
                [self.executable, *command],
                env=self.env,
                stdout=handle if handle else subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=1800,
                check=False,
            )
        if done.returncode != 0:
            output = log.read_text() if log else done.stdout
            raise RuntimeError(f"podman build failed ({done.returncode}):\n{_tail(output, 4000)}")
        # Earlier builds' images, untagged by this one, go; the build cache stays.
        self.run(["image", "prune", "-f", "--filter", f"label={TEST_IMAGE_LABEL}=1"], check=False)
        return time.monotonic() - started

    def image_label(self, name: str, label: str) -> str | None:
        done = self.run(
            ["image", "inspect", "--format", f'{{{{index .Labels "{label}"}}}}', name], check=False
        )
        value = done.stdout.strip()
        return value if done.returncode == 0 and value and value != "<no value>" else None

    def ensure_standin(
        self,
        tag: str,
        context: Path,
        *,
        build_args: Mapping[str, str] | None = None,
        log: Path | None = None,
    ) -> float:
        """Build the stand-in image ``tag`` from the recipe in ``context`` unless an image
        of that name was built from this very recipe; the seconds it took (0 when cached)."""
        digest = recipe_digest(context, build_args or {})
        if self.image_label(tag, STANDIN_RECIPE_LABEL) == digest:
            return 0.0
        _log(f"building the stand-in {tag} from {context}")
        return self.build(
            tag, context, log, build_args=build_args, labels={STANDIN_RECIPE_LABEL: digest}
        )

    def image_size(self, tag: str) -> int:
        out = self.run(["image", "inspect", "--format", "{{.Size}}", tag]).stdout
        return int(out.strip())

    def remove_containers(self, *names_or_ids: str) -> None:
        for name in names_or_ids:
            self.run(["rm", "-f", "-t", "5", name], check=False, timeout=120)

    def remove_labelled(self, label: str) -> None:
        ids = self.run(["ps", "-aq", "--filter", f"label={label}"], check=False).stdout.split()
        self.remove_containers(*ids)

    def logs(self, name: str) -> str:
        done = self.run(["logs", name], check=False)
        return f"{done.stdout}{done.stderr}"

    def wait_healthy(self, name: str, timeout: float = 120) -> float:
        """Run the image's HEALTHCHECK until it passes; seconds waited."""
        started = time.monotonic()
        while True:
            if self.run(["healthcheck", "run", name], check=False).returncode == 0:
                return time.monotonic() - started
            state = self.run(
                ["inspect", "--format", "{{.State.Status}}", name], check=False
            ).stdout.strip()
            if state in {"exited", "stopped", "dead", ""}:
                raise RuntimeError(f"container {name} is {state or 'gone'}:\n{self.logs(name)}")
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{name} not healthy after {timeout:g} s:\n{self.logs(name)}")
            time.sleep(0.25)

    @contextlib.contextmanager
    def service(self, socket_path: Path, *, mode: int | None = None) -> Iterator[str]:
        """``podman system service`` on ``socket_path`` for the docker SDK; yields the
        DOCKER_HOST value and stops the service (by its pid) afterwards. ``mode`` sets
        the socket's permissions (podman's own podman.socket unit uses 0660: root and
        its group, which containers given that group through ``group_add`` can use)."""
        socket_path.parent.mkdir(parents=True, exist_ok=True)
        socket_path.unlink(missing_ok=True)
        uri = f"unix://{socket_path}"
        log = open(socket_path.with_suffix(".log"), "w")  # noqa: SIM115 - closed below
        process = subprocess.Popen(
            [self.executable, "system", "service", "--time=0", uri],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while not socket_path.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "podman system service did not start: "
                        f"{socket_path.with_suffix('.log').read_text()}"
                    )
                time.sleep(0.05)
            if mode is not None:
                socket_path.chmod(mode)
            yield uri
        finally:
            stop_process(process)
            log.close()
            socket_path.unlink(missing_ok=True)


class HealthChecks:
    """Runs the health checks of running containers, as a Docker engine does.

    Podman without systemd (these machines) schedules no health checks of its own (it
    would use systemd timers): a container stays ``starting`` forever, and compose's
    ``depends_on: condition: service_healthy`` never holds. This thread plays that part
    for the containers ``filters`` select (``podman ps --filter`` values): each one's
    check (``podman healthcheck run``, which records the result, its failing streak and
    the start period as podman does) first ``Interval`` after the container is seen
    running, then every ``Interval``, as Docker runs them.
    """

    def __init__(self, podman: Podman, filters: Sequence[str], poll_seconds: float = 1.0):
        self.podman = podman
        self.filters = list(filters)
        self.poll_seconds = poll_seconds
        self._due: dict[str, float] = {}
        self._intervals: dict[str, float | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="health-checks", daemon=True)

    def __enter__(self) -> HealthChecks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _interval(self, cid: str) -> float | None:
        if cid not in self._intervals:
            done = self.podman.run(
                ["inspect", "--format", "{{json .Config.Healthcheck}}", cid], check=False
            )
            interval = None
            if done.returncode == 0 and done.stdout.strip() not in ("", "null"):
                config = json.loads(done.stdout)
                if config.get("Test") and config["Test"][0] != "NONE":
                    # Nanoseconds; Docker's default is 30 s.
                    interval = (config.get("Interval") or 30_000_000_000) / 1e9
            self._intervals[cid] = interval
        return self._intervals[cid]

    def _loop(self) -> None:
        while not self._stop.is_set():
            args = ["ps", "-q", "--no-trunc"]
            for value in self.filters:
                args += ["--filter", value]
            running = self.podman.run(args, check=False, timeout=60).stdout.split()
            now = time.monotonic()
            for cid in running:
                interval = self._interval(cid)
                if interval is None:
                    continue
                due = self._due.setdefault(cid, now + interval)
                if now >= due:
                    self._due[cid] = now + interval
                    self.podman.run(["healthcheck", "run", cid], check=False, timeout=120)
            for cid in set(self._due) - set(running):
                del self._due[cid]  # stopped: a restart starts its schedule again
            self._stop.wait(self.poll_seconds)


def ensure_compose(*, install: bool = True) -> str:
    """The path of Debian's ``docker-compose`` (1.29), installed with apt-get when it is
    missing and this process is root."""
    found = shutil.which("docker-compose")
    if found:
        return found
    if not install or not _is_root() or shutil.which("apt-get") is None:
        raise PodmanUnavailable(
            "docker-compose not installed and cannot be installed here "
            "(apt-get install docker-compose, as root)"
        )
    _apt_get_install(["docker-compose"], what="docker-compose")
    found = shutil.which("docker-compose")
    if not found:
        raise PodmanUnavailable("apt-get gave no docker-compose binary")
    return found


def files_digest(root: Path, files: Iterable[Path], extra: Mapping[str, str]) -> str:
    """A digest of ``files`` (names under ``root``, modes and contents) and ``extra``."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(oct(path.stat().st_mode & 0o777).encode())
        digest.update(path.read_bytes())
    for key in sorted(extra):
        digest.update(f"{key}={extra[key]}".encode())
    return digest.hexdigest()[:16]


def recipe_digest(context: Path, build_args: Mapping[str, str]) -> str:
    """A digest of every file of a build context and the build arguments."""
    return files_digest(context, (p for p in context.rglob("*") if p.is_file()), build_args)


def context_digest(podman: Podman, root: Path = REPO_ROOT) -> str:
    """A digest of what the Dockerfile's build sees: the files .dockerignore lets in
    (bytecode aside), the Dockerfile, and the base image's id."""
    files = [root / name for name in BUILD_CONTEXT_FILES]
    for folder in BUILD_CONTEXT_DIRS:
        files += [
            path
            for path in (root / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        ]
    base = podman.run(["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE], check=False)
    return files_digest(root, files, {"base": base.stdout.strip()})


def locked_version(package: str, lock: Path = REPO_ROOT / "uv.lock") -> str:
    """The version of ``package`` that uv.lock pins."""
    for entry in tomllib.loads(lock.read_text())["package"]:
        if entry["name"] == package:
            return str(entry["version"])
    raise LookupError(f"{package} is not in {lock}")


# The images docker-compose.yml names that cannot be pulled here, and the recipes of
# their stand-ins (see each Containerfile for what it is and is not).
STANDIN_IMAGES = {
    "docker.io/library/postgres:16": STANDINS_DIR / "postgres",
    "docker.io/library/mongo:7": STANDINS_DIR / "mongo",
}


def ensure_standins(podman: Podman, log_dir: Path | None = None) -> dict[str, float]:
    """The stand-ins for ``postgres:16`` and ``mongo:7`` (on the base image stand-in);
    the seconds each build took (0 when the image was already built from its recipe)."""
    podman.ensure_base_image()
    mongo_args = {
        "NX_27017_VERSION": locked_version("nx-27017"),
        "NEOSQLITE_VERSION": locked_version("neosqlite"),
        "PYMONGO_VERSION": locked_version("pymongo"),
    }
    timings: dict[str, float] = {}
    for tag, context in STANDIN_IMAGES.items():
        name = context.name
        timings[f"{name}_standin_s"] = podman.ensure_standin(
            tag,
            context,
            build_args=mongo_args if name == "mongo" else None,
            log=log_dir / f"{name}-build.log" if log_dir else None,
        )
    return timings


def stop_process(process: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """SIGTERM ``process`` (by its pid), SIGKILL after 10 s, and reap it."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def prepare(
    state_dir: Path, tag: str = DEFAULT_TAG, *, build_log: Path | None = None
) -> tuple[Podman, dict[str, float]]:
    """podman (installed if needed), the base image stand-in, and the image ``tag`` built
    from the repository's Dockerfile (not again when ``tag`` was built from this very
    context, see :func:`context_digest`). Returns podman and the seconds each step took
    (``build_s`` 0 when the image was up to date)."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    podman = Podman.create(state_dir)
    timings["podman_ready_s"] = time.monotonic() - started
    timings["base_image_s"] = podman.ensure_base_image()
    digest = context_digest(podman)
    if podman.image_label(tag, CONTEXT_DIGEST_LABEL) == digest:
        _log(f"{tag} is up to date (context {digest})")
        timings["build_s"] = 0.0
    else:
        timings["build_s"] = podman.build(
            tag, REPO_ROOT, log=build_log, labels={CONTEXT_DIGEST_LABEL: digest}
        )
    return podman, timings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="podman, the base image stand-in, and the image")
    build.add_argument("--tag", default=DEFAULT_TAG)
    service = commands.add_parser(
        "service", help="serve the docker API on a unix socket until Ctrl-C"
    )
    service.add_argument("socket", type=Path)
    args = parser.parse_args(argv)
    state_dir = Path(tempfile.gettempdir()) / "phoenix-podman"
    try:
        if args.command == "build":
            podman, timings = prepare(state_dir, args.tag)
            size = podman.image_size(args.tag)
            print(
                f"{args.tag}: {size / 1e6:.0f} MB; "
                + ", ".join(f"{key} {value:.1f}" for key, value in timings.items())
            )
            print(f"export CONTAINERS_CONF={state_dir / 'containers.conf'}")
            return 0
        podman = Podman.create(state_dir)
        with podman.service(args.socket.resolve()) as uri:
            print(f"export CONTAINERS_CONF={state_dir / 'containers.conf'}")
            print(f"export DOCKER_HOST={uri}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
        return 0
    except PodmanUnavailable as exc:
        print(f"podman unavailable: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
