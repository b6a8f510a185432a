"""A Dagster instance home whose storage is created once, before any process opens it.

Dagster creates a fresh home's SQLite storage (runs, the event log index, schedules) the
first time a process opens the instance, and stamps each database with its Alembic
version. Two processes doing that at the same moment (``dagster dev`` starts the
webserver, the daemon and code servers together; the daemon starts a code server) race:
one sees the other's tables before its stamp and stamps an older version, and the home is
broken for good ("Version table 'alembic_version' has more than one head present").

So the home is prepared by one process at a time: under an exclusive lock on
``.phoenix-instance.lock`` in the home, the instance is opened (which creates, stamps and
migrates its storage) and closed, and ``.phoenix-instance.ready`` records it. Later calls
on the same home, instance config and Dagster version only read that file. A Postgres
instance (``deploy/docker/dagster.yaml``) is opened the same way: Dagster creates its
tables in the database. The lock is ``flock``: POSIX systems only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

CONFIG_FILE = "dagster.yaml"
LOCK_FILE = ".phoenix-instance.lock"
READY_FILE = ".phoenix-instance.ready"
# The SQLite databases of Dagster's default storage, relative to the home: a home whose
# databases were deleted is prepared again.
SQLITE_DATABASES = ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")


def ensure_instance_storage(home: Path, default_config: Path | None = None) -> None:
    """Create and migrate the instance storage of ``home`` unless that is done already.

    A home without an instance config first gets a copy of ``default_config`` (when given
    and present). Safe to call from several processes at once: one prepares the home,
    the others wait for it and then find it ready.
    """
    home.mkdir(parents=True, exist_ok=True)
    config = home / CONFIG_FILE
    template = default_config if default_config is not None and default_config.exists() else None
    if (template is None or config.exists()) and _is_ready(home):
        return
    with _exclusive_lock(home / LOCK_FILE):
        if template is not None and not config.exists():
            _replace_atomically(config, template.read_bytes())
        if _is_ready(home):  # another process prepared it while this one waited
            return
        import dagster as dg

        # Opening the instance creates and stamps whatever storage is missing.
        with dg.DagsterInstance.from_config(str(home)):
            pass
        databases = [name for name in SQLITE_DATABASES if (home / name).exists()]
        ready = {"fingerprint": _fingerprint(home), "databases": databases}
        _replace_atomically(home / READY_FILE, json.dumps(ready, indent=2).encode())


def _fingerprint(home: Path) -> dict[str, str | None]:
    """What the storage was prepared for: the Dagster version and the instance config."""
    config = home / CONFIG_FILE
    digest = hashlib.sha256(config.read_bytes()).hexdigest() if config.exists() else None
    return {"dagster": version("dagster"), "config_sha256": digest}


def _is_ready(home: Path) -> bool:
    try:
        ready = json.loads((home / READY_FILE).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(ready, dict) or ready.get("fingerprint") != _fingerprint(home):
        return False
    databases = ready.get("databases")
    return isinstance(databases, list) and all((home / str(name)).exists() for name in databases)


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path``; released when closed, or if the process dies."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _replace_atomically(path: Path, content: bytes) -> None:
    """Write ``path`` so that no reader ever sees it half written."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
