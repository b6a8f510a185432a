"""A local, embedded MongoDB-compatible server (nx-27017) shared across processes and runs.

When no ``MONGODB_URI`` is configured the pipeline needs *some* MongoDB to talk to, without the
user installing anything. ``nx-27017`` is a MongoDB wire-protocol server written in Python on
top of SQLite and ships as a dependency of this project, so we run it as a long-lived local
server and reuse it from every process and every Dagster run.

Everything about one server lives in a *state directory*::

    state_dir/
        data/          the server's ``--data-dir`` (one SQLite file per logical database)
        server.pid     pid of the running server (written atomically, after it answers a ping)
        server.port    its TCP port on 127.0.0.1 (written atomically, before server.pid)
        server.lock    ``flock`` lock serialising start/stop across processes
        server.log     the server's output (stderr, which carries its log and any traceback)
        nx-27017.pid   nx-27017's own pid file (it insists on writing one)

A recorded pid is only trusted when ``/proc/<pid>/cmdline`` shows an nx-27017 process serving
*this* state directory's ``data/``, so a recycled pid is never signalled, and the server must
answer a ``ping`` whose ``serverStatus`` reports that same pid before it is reused.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

__all__ = [
    "EmbeddedServer",
    "EmbeddedServerError",
    "default_state_dir",
    "embedded_server_status",
    "ensure_embedded_server",
    "stop_embedded_server",
]

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"

DATA_DIRNAME = "data"
PID_FILENAME = "server.pid"
PORT_FILENAME = "server.port"
LOCK_FILENAME = "server.lock"
LOG_FILENAME = "server.log"
NX_PID_FILENAME = "nx-27017.pid"

_NX_MARKERS = ("nx-27017", "nx_27017")
# How long a live, recorded server may take to answer before it is declared hung and killed.
_UNRESPONSIVE_GRACE = 5.0
# How long such a server (or an unrecorded one on the same data dir) gets to honour SIGTERM.
_KILL_GRACE = 2.0
# Extra time to wait for the lock beyond the caller's timeout (a holder may be killing a
# hung server before starting a new one).
_LOCK_MARGIN = 15.0
_START_ATTEMPTS = 3
_POLL_INTERVAL = 0.05
_LOG_TAIL_CHARS = 2000

# Servers spawned by this process, kept referenced so ``Popen.__del__`` never warns about a
# still-running child; entries are dropped once the child has been reaped.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server."""

    uri: str
    pid: int
    port: int
    state_dir: Path


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started, reached or locked."""


# --------------------------------------------------------------------------- public API


def default_state_dir() -> Path:
    """$DAGSTER_HOME/embedded_mongo when DAGSTER_HOME is set, else ./.dagster_home/embedded_mongo
    (absolute)."""
    dagster_home = os.environ.get("DAGSTER_HOME")
    base = Path(dagster_home).expanduser() if dagster_home else Path.cwd() / ".dagster_home"
    return base.absolute() / "embedded_mongo"


def ensure_embedded_server(
    state_dir: Path | None = None, *, timeout: float = 30.0
) -> EmbeddedServer:
    """Return the running embedded server for state_dir, starting one if none answers."""
    state = _resolve_state_dir(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    data_dir = state / DATA_DIRNAME
    with _locked(state, timeout + _LOCK_MARGIN):
        pid, port = _read_record(state)
        if pid is not None:
            if _is_our_server(pid, data_dir):
                if port is not None:
                    grace = min(_UNRESPONSIVE_GRACE, max(timeout, 0.5))
                    if _wait_until_answers(port, pid, grace):
                        return _server(state, pid, port)
                logger.warning(
                    "Embedded MongoDB server pid %d (port %s) in %s does not answer; killing it",
                    pid,
                    port,
                    state,
                )
                _terminate(pid, timeout=_KILL_GRACE)
            else:
                logger.info(
                    "Removing stale embedded MongoDB pid file (pid %d) in %s",
                    pid,
                    state,
                )
        _clear_record(state)
        for orphan in _find_server_pids(data_dir):
            logger.warning(
                "Killing unrecorded embedded MongoDB server pid %d serving %s",
                orphan,
                data_dir,
            )
            _terminate(orphan, timeout=_KILL_GRACE)
        return _start(state, timeout)


def stop_embedded_server(state_dir: Path | None = None, *, timeout: float = 10.0) -> bool:
    """Stop the server recorded in state_dir (SIGTERM, then SIGKILL after timeout); True if one
    was stopped."""
    state = _resolve_state_dir(state_dir)
    if not state.is_dir():
        return False
    data_dir = state / DATA_DIRNAME
    stopped = False
    with _locked(state, timeout + _LOCK_MARGIN):
        pid, _port = _read_record(state)
        if pid is not None and _is_our_server(pid, data_dir):
            stopped = _terminate(pid, timeout=timeout)
        # Also stop any unrecorded server on the same data directory (e.g. left behind by a
        # process that died between spawning it and recording it).
        for orphan in _find_server_pids(data_dir):
            stopped = _terminate(orphan, timeout=timeout) or stopped
        _clear_record(state)
    if stopped:
        logger.info("Stopped embedded MongoDB server in %s", state)
    return stopped


def embedded_server_status(state_dir: Path | None = None) -> EmbeddedServer | None:
    """The running server for state_dir, or None; never starts one."""
    state = _resolve_state_dir(state_dir)
    pid, port = _read_record(state)
    if pid is None or port is None:
        return None
    if not _is_our_server(pid, state / DATA_DIRNAME):
        return None
    if _probe(port, timeout=2.0) != pid:
        return None
    return _server(state, pid, port)


# --------------------------------------------------------------------------- starting


def _start(state: Path, timeout: float) -> EmbeddedServer:
    """Spawn a server (retrying on a port lost to a race), wait for it, record it."""
    data_dir = state / DATA_DIRNAME
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = state / LOG_FILENAME
    deadline = time.monotonic() + timeout
    for attempt in range(1, _START_ATTEMPTS + 1):
        port = _free_port()
        log_offset = log_path.stat().st_size if log_path.exists() else 0
        _unlink(state / NX_PID_FILENAME)
        started = time.monotonic()
        proc = _spawn(state, port)
        try:
            outcome = _wait_for_start(proc, port, deadline)
        except BaseException:
            _terminate(proc.pid, timeout=2.0)
            raise
        if outcome == "ok":
            _write_atomic(state / PORT_FILENAME, f"{port}\n")
            _write_atomic(state / PID_FILENAME, f"{proc.pid}\n")
            server = _server(state, proc.pid, port)
            logger.info(
                "Started embedded MongoDB server (nx-27017) at %s, pid %d, state dir %s (%.2f s)",
                server.uri,
                proc.pid,
                state,
                time.monotonic() - started,
            )
            return server
        if outcome == "timeout":
            _terminate(proc.pid, timeout=2.0)
            raise EmbeddedServerError(
                f"Embedded MongoDB server (pid {proc.pid}, port {port}) did not answer a ping "
                f"within {timeout:g} s; tail of {log_path}:\n{_log_tail(log_path, log_offset)}"
            )
        # The process exited.
        _reap(proc.pid)
        tail = _log_tail(log_path, log_offset)
        port_taken = "address already in use" in tail.lower() or "errno 98" in tail.lower()
        if port_taken and attempt < _START_ATTEMPTS and time.monotonic() < deadline:
            logger.info("Port %d was taken before the embedded server bound it; retrying", port)
            continue
        raise EmbeddedServerError(
            f"Embedded MongoDB server exited with code {proc.returncode} before answering "
            f"(port {port}); tail of {log_path}:\n{tail}"
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _spawn(state: Path, port: int) -> subprocess.Popen[bytes]:
    script = Path(sys.executable).parent / "nx-27017"
    if script.is_file():
        command = [sys.executable, str(script)]
    else:
        command = [sys.executable, "-m", "nx_27017.nx_27017"]
    command += [
        "--host",
        HOST,
        "-p",
        str(port),
        "--data-dir",
        str(state / DATA_DIRNAME),
        "--pid-file",
        str(state / NX_PID_FILENAME),
        # nx-27017 logs to stderr *and* to --log-file; stderr alone also carries tracebacks
        # (e.g. "address already in use"), so it goes to server.log and --log-file is discarded.
        "--log-file",
        os.devnull,
    ]
    with open(state / LOG_FILENAME, "ab") as log_file:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            cwd=state,
            close_fds=True,
            start_new_session=True,  # outlive the caller; no SIGHUP/SIGINT from its terminal
        )
    _CHILDREN[proc.pid] = proc
    return proc


def _wait_for_start(proc: subprocess.Popen[bytes], port: int, deadline: float) -> str:
    """'ok' once the server answers as itself, 'exited' if it dies, 'timeout' otherwise."""
    while True:
        if proc.poll() is not None:
            return "exited"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        answered_pid = _probe(port, timeout=min(1.0, remaining))
        if answered_pid == proc.pid:
            return "ok"
        # Nobody listening yet, or another process grabbed the port (ours will then exit).
        time.sleep(min(_POLL_INTERVAL, max(deadline - time.monotonic(), 0)))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------- probing


def _probe(port: int, timeout: float) -> int | None:
    """Ping the server on ``port``; return the pid it reports (0 if it reports none), or None
    if nothing answers."""
    try:
        with socket.create_connection((HOST, port), timeout=min(timeout, 1.0)):
            pass
    except OSError:
        return None  # cheap fast path: nothing listening
    timeout_ms = max(int(timeout * 1000), 100)
    client: MongoClient[dict[str, object]] = MongoClient(
        host=HOST,
        port=port,
        directConnection=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms,
        appname="phoenix-embedded-probe",
    )
    try:
        client.admin.command("ping")
        status = client.admin.command("serverStatus")
    except PyMongoError:
        return None
    finally:
        client.close()
    pid = status.get("pid")
    return pid if isinstance(pid, int) else 0


def _wait_until_answers(port: int, pid: int, grace: float) -> bool:
    deadline = time.monotonic() + grace
    while True:
        remaining = deadline - time.monotonic()
        if _probe(port, timeout=max(min(2.0, remaining), 0.1)) == pid:
            return True
        if time.monotonic() >= deadline or not _pid_alive(pid):
            return False
        time.sleep(_POLL_INTERVAL)


# --------------------------------------------------------------------------- processes


def _cmdline(pid: int) -> list[str] | None:
    """argv of ``pid`` or None if unknown (dead, zombie, not visible)."""
    proc_file = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self/cmdline").exists():
        try:
            raw = proc_file.read_bytes()
        except OSError:
            return None
        if not raw:
            return None  # zombie or kernel thread
        return [part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")]
    # No procfs (macOS, BSD): best effort via ps; paths with spaces are not supported here.
    try:
        out = subprocess.run(
            ["ps", "-ww", "-o", "command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.split() if out else None


def _serves(argv: list[str], data_dir: Path) -> bool:
    """argv is an nx-27017 server whose --data-dir is ``data_dir``."""
    if not any(marker in arg for arg in argv[:3] for marker in _NX_MARKERS):
        return False
    served: str | None = None
    for index, arg in enumerate(argv):
        if arg == "--data-dir" and index + 1 < len(argv):
            served = argv[index + 1]
        elif arg.startswith("--data-dir="):
            served = arg.split("=", 1)[1]
    if served is None:
        return False
    return os.path.realpath(served) == os.path.realpath(data_dir)


def _is_our_server(pid: int, data_dir: Path) -> bool:
    if not _pid_alive(pid):
        return False
    argv = _cmdline(pid)
    return argv is not None and _serves(argv, data_dir)


def _find_server_pids(data_dir: Path) -> list[int]:
    """Every live nx-27017 process serving ``data_dir`` (Linux only; empty elsewhere)."""
    proc_root = Path("/proc")
    if not (proc_root / "self" / "cmdline").exists():
        return []
    found = []
    for entry in proc_root.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        argv = _cmdline(pid)
        if argv is not None and _serves(argv, data_dir) and _pid_alive(pid):
            found.append(pid)
    return found


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is a finished child of ours (avoids a zombie)."""
    try:
        reaped, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        _CHILDREN.pop(pid, None)  # not our child, or already reaped
        return
    if reaped == pid:
        proc = _CHILDREN.pop(pid, None)
        if proc is not None and proc.returncode is None:
            proc.returncode = os.waitstatus_to_exitcode(status)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs; kill(0) said it exists
    # Field 3, after the parenthesised command name (which may itself contain spaces).
    if stat.rpartition(")")[2].split()[:1] == ["Z"]:
        # It exited between the first reap and now: reap it, if it is ours, or it stays
        # a zombie for as long as this process lives.
        _reap(pid)
        return False
    return True


def _terminate(pid: int, *, timeout: float) -> bool:
    """SIGTERM ``pid``, SIGKILL after ``timeout``; reap it if it is our child. True if it was
    running."""
    if not _pid_alive(pid):
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            _reap(pid)
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _pid_alive(pid):  # reaps our own child as a side effect
                return True
            time.sleep(0.02)
        if sig == signal.SIGTERM:
            logger.warning("Embedded MongoDB server pid %d ignored SIGTERM; sending SIGKILL", pid)
    if _pid_alive(pid):
        raise EmbeddedServerError(f"Could not stop embedded MongoDB server pid {pid}")
    return True


# --------------------------------------------------------------------------- files


def _resolve_state_dir(state_dir: Path | None) -> Path:
    path = default_state_dir() if state_dir is None else Path(state_dir).expanduser()
    return path.resolve()


def _server(state: Path, pid: int, port: int) -> EmbeddedServer:
    return EmbeddedServer(uri=f"mongodb://{HOST}:{port}/", pid=pid, port=port, state_dir=state)


@contextlib.contextmanager
def _locked(state: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive ``flock`` on state/server.lock, waiting at most ``timeout`` s."""
    fd = os.open(state / LOCK_FILENAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                raise EmbeddedServerError(
                    f"Timed out after {timeout:g} s waiting for {state / LOCK_FILENAME}"
                )
            time.sleep(_POLL_INTERVAL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_int(path: Path) -> int | None:
    try:
        value = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return value if value > 0 else None


def _read_record(state: Path) -> tuple[int | None, int | None]:
    return _read_int(state / PID_FILENAME), _read_int(state / PORT_FILENAME)


def _clear_record(state: Path) -> None:
    for name in (PID_FILENAME, PORT_FILENAME):
        _unlink(state / name)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def _log_tail(log_path: Path, offset: int) -> str:
    """The server output written since ``offset`` (at most the last few thousand chars)."""
    try:
        with open(log_path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(offset, size - _LOG_TAIL_CHARS)
            handle.seek(start)
            text = handle.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return text.strip() or "(empty log)"
