"""The embedded nx-27017 server: real processes, real sockets, real PyMongo; no mocks.

Every test owns a state directory under ``tmp_path`` and its finalizer kills, by PID, every
nx-27017 process whose command line names that directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from phoenix_assets.storage import embedded_mongo
from phoenix_assets.storage.embedded_mongo import (
    EmbeddedServer,
    EmbeddedServerError,
    default_state_dir,
    embedded_server_status,
    ensure_embedded_server,
    stop_embedded_server,
)

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc"),
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]

ENSURE_SCRIPT = """
import sys
from pathlib import Path
from phoenix_assets.storage.embedded_mongo import ensure_embedded_server
server = ensure_embedded_server(Path(sys.argv[1]))
print(server.pid, server.port, flush=True)
"""

# Waits for a "go" file so that several copies call ensure_embedded_server at the same moment.
RACE_SCRIPT = """
import sys, time
from pathlib import Path
from phoenix_assets.storage.embedded_mongo import ensure_embedded_server
state, ready, go = (Path(arg) for arg in sys.argv[1:4])
ready.touch()
while not go.exists():
    time.sleep(0.002)
server = ensure_embedded_server(state)
print(server.pid, server.port, flush=True)
"""


# --------------------------------------------------------------------------- helpers


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _nx_pids(state_dir: Path) -> list[int]:
    """Live nx-27017 processes whose command line mentions state_dir (independent scan)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        argv = _cmdline(int(entry.name))
        joined = " ".join(argv)
        is_nx = "nx-27017" in joined or "nx_27017" in joined
        if is_nx and str(state_dir) in joined and _alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def _alive(pid: int) -> bool:
    """Running (a zombie counts as dead); reaps it first if it is our finished child."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _wait_dead(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return not _alive(pid)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert not _alive(proc.pid)
    return proc.pid


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _pid_port(proc: subprocess.Popen[str]) -> tuple[int, int]:
    out, err = proc.communicate(timeout=45)
    assert proc.returncode == 0, err
    pid, port = out.split()
    return int(pid), int(port)


def _record(state_dir: Path) -> tuple[int, int]:
    return (
        int((state_dir / "server.pid").read_text()),
        int((state_dir / "server.port").read_text()),
    )


def _client(server: EmbeddedServer) -> MongoClient[dict]:
    return MongoClient(server.uri, serverSelectionTimeoutMS=5000)


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    state = (tmp_path / "embedded").resolve()
    yield state
    for pid in _nx_pids(state):
        os.kill(pid, signal.SIGTERM)
        if not _wait_dead(pid, 5.0):
            os.kill(pid, signal.SIGKILL)
            _wait_dead(pid, 5.0)


# --------------------------------------------------------------------------- tests


def test_start_reuse_and_data_survives_restart(state_dir: Path) -> None:
    server = ensure_embedded_server(state_dir)
    assert server.uri == f"mongodb://127.0.0.1:{server.port}/"
    assert server.state_dir == state_dir
    assert _alive(server.pid)
    assert os.getsid(server.pid) == server.pid  # detached: its own session
    assert _nx_pids(state_dir) == [server.pid]
    assert _record(state_dir) == (server.pid, server.port)
    assert (state_dir / "data").is_dir()
    assert (state_dir / "server.log").is_file()

    with _client(server) as client:
        client.phoenix.things.insert_one({"_id": "a", "value": 42})
        assert client.phoenix.things.find_one({"_id": "a"}) == {"_id": "a", "value": 42}

    again = ensure_embedded_server(state_dir)
    assert again == server
    assert embedded_server_status(state_dir) == server

    assert stop_embedded_server(state_dir) is True
    assert not _alive(server.pid)

    restarted = ensure_embedded_server(state_dir)
    assert restarted.pid != server.pid
    with _client(restarted) as client:
        assert client.phoenix.things.find_one({"_id": "a"}) == {"_id": "a", "value": 42}


def test_concurrent_processes_get_one_server(state_dir: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    readies = [tmp_path / f"ready-{index}" for index in range(3)]
    procs = [_python(RACE_SCRIPT, str(state_dir), str(ready), str(go)) for ready in readies]
    deadline = time.monotonic() + 30
    while not all(ready.exists() for ready in readies):
        assert time.monotonic() < deadline, "racers did not start"
        assert all(proc.poll() is None for proc in procs), [p.communicate() for p in procs]
        time.sleep(0.01)
    go.touch()  # all racers are past their imports; release them together

    results = {_pid_port(proc) for proc in procs}
    assert len(results) == 1, results
    ((pid, port),) = results
    assert _nx_pids(state_dir) == [pid]
    assert _record(state_dir) == (pid, port)
    # Only one server was ever started (not one started and another killed).
    assert (state_dir / "server.log").read_text().count("Starting NX-27017") == 1
    status = embedded_server_status(state_dir)
    assert status is not None and (status.pid, status.port) == (pid, port)


def test_stale_pid_of_dead_process_is_replaced(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    dead = _dead_pid()
    (state_dir / "server.pid").write_text(f"{dead}\n")
    (state_dir / "server.port").write_text(f"{_free_port()}\n")
    assert embedded_server_status(state_dir) is None

    server = ensure_embedded_server(state_dir)
    assert server.pid != dead
    assert _alive(server.pid)
    assert _record(state_dir) == (server.pid, server.port)
    assert _nx_pids(state_dir) == [server.pid]


def test_pid_reused_by_other_process_is_stale_and_not_killed(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (state_dir / "server.pid").write_text(f"{sleeper.pid}\n")
        (state_dir / "server.port").write_text(f"{_free_port()}\n")
        assert embedded_server_status(state_dir) is None
        assert stop_embedded_server(state_dir) is False  # not an nx process: left alone

        server = ensure_embedded_server(state_dir)
        assert server.pid != sleeper.pid
        assert _record(state_dir) == (server.pid, server.port)
        assert sleeper.poll() is None, "the unrelated process was killed"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_server_of_another_state_dir_is_neither_reused_nor_killed(
    state_dir: Path, tmp_path: Path
) -> None:
    other_dir = (tmp_path / "other").resolve()
    try:
        other = ensure_embedded_server(other_dir)
        # state_dir's record points at a live, answering nx-27017 serving a different data dir.
        state_dir.mkdir(parents=True)
        (state_dir / "server.pid").write_text(f"{other.pid}\n")
        (state_dir / "server.port").write_text(f"{other.port}\n")
        assert embedded_server_status(state_dir) is None

        server = ensure_embedded_server(state_dir)
        assert server.pid != other.pid
        assert server.port != other.port
        assert embedded_server_status(other_dir) == other
    finally:
        stop_embedded_server(other_dir)


def test_unresponsive_server_is_killed_and_replaced(state_dir: Path) -> None:
    hung = ensure_embedded_server(state_dir)
    os.kill(hung.pid, signal.SIGSTOP)  # alive, an nx-27017 process, but answers nothing
    try:
        started = time.monotonic()
        server = ensure_embedded_server(state_dir, timeout=2.0)
        assert time.monotonic() - started < 15
    finally:
        if _alive(hung.pid):
            os.kill(hung.pid, signal.SIGKILL)
    assert server.pid != hung.pid
    assert _wait_dead(hung.pid, 5.0)
    assert _nx_pids(state_dir) == [server.pid]


def test_server_outlives_the_process_that_started_it(state_dir: Path) -> None:
    starter = _python(ENSURE_SCRIPT, str(state_dir))
    pid, port = _pid_port(starter)  # the starter has exited
    assert _alive(pid)
    assert _port_open(port)

    server = ensure_embedded_server(state_dir)
    assert (server.pid, server.port) == (pid, port)
    with _client(server) as client:
        assert client.admin.command("ping")["ok"] == 1

    # Stopping works on a server that is not our child too.
    assert stop_embedded_server(state_dir) is True
    assert _wait_dead(pid, 5.0)


def test_stop_and_status(state_dir: Path) -> None:
    assert stop_embedded_server(state_dir) is False
    assert embedded_server_status(state_dir) is None

    server = ensure_embedded_server(state_dir)
    assert embedded_server_status(state_dir) == server

    assert stop_embedded_server(state_dir) is True
    # Checked before _alive(), which would itself reap a zombie child of this process.
    assert not Path(f"/proc/{server.pid}").exists(), "our child was left a zombie"
    assert not _alive(server.pid)
    assert not _port_open(server.port)
    assert not (state_dir / "server.pid").exists()
    assert not (state_dir / "server.port").exists()
    assert embedded_server_status(state_dir) is None
    assert stop_embedded_server(state_dir) is False


def test_start_that_cannot_answer_in_time_raises_and_leaves_nothing(
    state_dir: Path,
) -> None:
    with pytest.raises(EmbeddedServerError, match="did not answer"):
        ensure_embedded_server(state_dir, timeout=0.05)
    assert _nx_pids(state_dir) == []
    assert not (state_dir / "server.pid").exists()
    assert embedded_server_status(state_dir) is None


def test_port_taken_before_bind_is_retried(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reproduce the race deterministically: the first port handed out is already listening.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken, _free_port()])
        monkeypatch.setattr(embedded_mongo, "_free_port", lambda: next(ports))

        server = ensure_embedded_server(state_dir)
    assert server.port != taken
    assert _alive(server.pid)
    assert "address already in use" in (state_dir / "server.log").read_text().lower()


def test_default_state_dir_honours_dagster_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert default_state_dir() == tmp_path / "home" / "embedded_mongo"

    monkeypatch.delenv("DAGSTER_HOME")
    monkeypatch.chdir(tmp_path)
    assert default_state_dir() == tmp_path / ".dagster_home" / "embedded_mongo"
    assert default_state_dir().is_absolute()
