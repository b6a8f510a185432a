"""The MongoDB resource: one PyMongo client per process, embedded server when no URI is set."""

import functools
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any, cast
from urllib.parse import parse_qsl

import dagster as dg
from pydantic import Field, PrivateAttr
from pymongo import AsyncMongoClient, MongoClient
from pymongo.collection import Collection
from pymongo.command_cursor import CommandCursor
from pymongo.cursor import Cursor
from pymongo.database import Database
from pymongo.errors import (
    ConnectionFailure,
    NetworkTimeout,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from phoenix_assets.settings import (
    DEFAULT_CONNECT_TIMEOUT_MS,
    DEFAULT_DATABASE,
    DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
    DEFAULT_SOCKET_TIMEOUT_MS,
    MONGODB_CONNECT_TIMEOUT_MS,
    MONGODB_SERVER_SELECTION_TIMEOUT_MS,
    MONGODB_SOCKET_TIMEOUT_MS,
    MONGODB_URI,
    mask_uri,
    uri_password,
)
from phoenix_assets.storage.embedded_mongo import ensure_embedded_server

Document = dict[str, Any]

# PyMongo's timeout options, each with the variable that sets it.
_TIMEOUT_VARIABLES = {
    "serverSelectionTimeoutMS": MONGODB_SERVER_SELECTION_TIMEOUT_MS,
    "connectTimeoutMS": MONGODB_CONNECT_TIMEOUT_MS,
    "socketTimeoutMS": MONGODB_SOCKET_TIMEOUT_MS,
}
# Where PyMongo opens a TCP connection: a timeout raised from there is connectTimeoutMS's.
_CONNECTING_FRAMES = frozenset({"_create_connection", "_async_create_connection"})


def _uri_options(uri: str) -> dict[str, str]:
    """The options written in ``uri``'s query string, keyed by lower-cased name (PyMongo
    reads option names case-insensitively). Text only: no DNS lookup for an SRV URI."""
    hosts = uri.partition("://")[2].rpartition("@")[2]
    query = hosts.partition("?")[2]
    return {name.lower(): value for name, value in parse_qsl(query, keep_blank_values=True)}


def _timed_out_connecting(exc: BaseException) -> bool:
    """Whether a ``NetworkTimeout`` fired while opening a TCP connection (connectTimeoutMS),
    rather than while waiting for a reply (socketTimeoutMS)."""
    error: BaseException | None = exc
    for _ in range(5):  # PyMongo raises its own error ``from`` the socket's
        if error is None:
            break
        tb = error.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_name in _CONNECTING_FRAMES:
                return True
            tb = tb.tb_next
        error = error.__cause__
    return False


def _first_line(exc: BaseException, uri: str) -> str:
    """The first line of PyMongo's message, without its topology dump or timeout list,
    and without ``uri``'s password should it ever appear there."""
    detail = str(exc).split(" (configured timeouts")[0].split(", Timeout: ")[0]
    detail = (detail.splitlines() or [""])[0][:300]
    password = uri_password(uri)
    return detail.replace(password, "***") if password else detail


class MongoUnavailableError(RuntimeError, ConnectionFailure):
    """MongoDB could not be reached; the message names the (masked) URI and what to set.

    A PyMongo ``ConnectionFailure`` too, so code that handles PyMongo's errors (a report's
    delivery ledger) handles it as before."""

    def __init__(self, message: str) -> None:
        ConnectionFailure.__init__(self, message)


class _NamingOutages:
    """A PyMongo database, collection or cursor whose connection errors (the server went
    away, a network timeout, no server to select) are raised as ``MongoUnavailableError``
    naming the masked URI, rather than as PyMongo's bare ``host:port`` messages.

    Everything else passes through untouched; databases, collections and cursors it
    returns are wrapped the same way.
    """

    __slots__ = ("_outage", "_target")

    def __init__(self, target: Any, outage: Callable[[ConnectionFailure, str], Exception]) -> None:
        self._target = target
        self._outage = outage

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, (Database, Collection, Cursor, CommandCursor)):
            return _NamingOutages(value, self._outage)
        return value

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not isinstance(value, types.MethodType):
            return self._wrap(value)

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return self._wrap(value(*args, **kwargs))
            except MongoUnavailableError:
                raise
            except ConnectionFailure as exc:
                raise self._outage(exc, name) from exc

        return call

    def __getitem__(self, key: Any) -> Any:
        return self._wrap(self._target[key])

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from self._target
        except MongoUnavailableError:
            raise
        except ConnectionFailure as exc:
            raise self._outage(exc, "reading a cursor") from exc

    def __next__(self) -> Any:
        try:
            return next(self._target)
        except MongoUnavailableError:
            raise
        except ConnectionFailure as exc:
            raise self._outage(exc, "reading a cursor") from exc

    def __enter__(self) -> Any:
        self._target.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        return self._target.__exit__(*exc_info)

    def __bool__(self) -> bool:
        return bool(self._target)

    def __repr__(self) -> str:
        return repr(self._target)


class MongoResource(dg.ConfigurableResource):
    """A MongoDB database reached with PyMongo 4.

    With no ``uri`` (``MONGODB_URI`` unset) it starts, or reuses, the local embedded
    server under ``$DAGSTER_HOME/embedded_mongo`` so a first run needs nothing installed.
    """

    uri: str | None = Field(
        default=None,
        description="MongoDB connection URI (MONGODB_URI); unset = the local embedded server.",
    )
    database: str = Field(default=DEFAULT_DATABASE, description="Database name (MONGODB_DATABASE).")
    server_selection_timeout_ms: int = Field(
        default=DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
        description=(
            "How long to look for a server that answers before failing, in milliseconds "
            f"({MONGODB_SERVER_SELECTION_TIMEOUT_MS}); serverSelectionTimeoutMS in the URI wins."
        ),
    )
    connect_timeout_ms: int = Field(
        default=DEFAULT_CONNECT_TIMEOUT_MS,
        description=(
            "How long to open a connection, and for the driver's heartbeat to be answered, "
            f"in milliseconds ({MONGODB_CONNECT_TIMEOUT_MS}); connectTimeoutMS in the URI wins."
        ),
    )
    socket_timeout_ms: int = Field(
        default=DEFAULT_SOCKET_TIMEOUT_MS,
        description=(
            "How long to wait for any one reply before failing the operation, in milliseconds "
            f"({MONGODB_SOCKET_TIMEOUT_MS}); socketTimeoutMS in the URI wins."
        ),
    )

    _client: MongoClient[Document] | None = PrivateAttr(default=None)
    _resolved_uri: str | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def resolved_uri(self) -> str:
        """The URI actually used: the configured one, or the embedded server's."""
        if self._resolved_uri is None:
            self._resolved_uri = self.uri or ensure_embedded_server().uri
        return self._resolved_uri

    def display_uri(self) -> str:
        """The URI with any password masked, for logs, errors and metadata."""
        return mask_uri(self.resolved_uri())

    def get_client(self) -> MongoClient[Document]:
        """The process's ``MongoClient``, connected and answering ``ping``."""
        with self._lock:
            if self._client is None:
                client: MongoClient[Document] = MongoClient(
                    self.resolved_uri(), **self._client_options()
                )
                self._ping(client)
                self._client = client
            return self._client

    def get_database(self) -> Database[Document]:
        """The configured database. A connection lost mid-run (the server stopped, the
        network dropped) raises ``MongoUnavailableError`` naming the masked URI."""
        database = self.get_client()[self.database]
        return cast(Database[Document], _NamingOutages(database, self._outage))

    def _outage(self, exc: ConnectionFailure, operation: str) -> MongoUnavailableError:
        cause = self._timeout_cause(exc)
        what = f"{cause}; " if cause else ""
        detail = _first_line(exc, self.resolved_uri())
        return MongoUnavailableError(
            f"Lost MongoDB at {self.display_uri()} during {operation} "
            f"({what}{type(exc).__name__}: {detail}). Check that the server is running and "
            "reachable; a re-run of the partition replaces what this run wrote."
        )

    def _timeout_cause(self, exc: BaseException) -> str | None:
        """Which timeout ``exc`` is, with its value and what sets it; None for other errors."""
        if isinstance(exc, ServerSelectionTimeoutError):
            return f"no server answered within {self._describe('serverSelectionTimeoutMS')}"
        if isinstance(exc, NetworkTimeout):
            if "timeoutms" in _uri_options(self.resolved_uri()):
                return f"the operation ran out of {self._describe('timeoutMS')}"
            if _timed_out_connecting(exc):
                return f"no connection opened within {self._describe('connectTimeoutMS')}"
            return f"no reply within {self._describe('socketTimeoutMS')}"
        if type(exc).__name__ == "_OperationCancelled":
            # PyMongo interrupts the operations in flight on a server whose heartbeat timed
            # out; a heartbeat waits for its reply as long as connectTimeoutMS.
            return (
                "the server stopped answering the driver's heartbeat within "
                f"{self._describe('connectTimeoutMS')}"
            )
        return None

    def _describe(self, option: str) -> str:
        """``<option>=<ms> ms, set by <what sets it>``, as the client uses it."""
        written = _uri_options(self.resolved_uri()).get(option.lower())
        if written is not None:
            return f"{option}={written} ms, set in {MONGODB_URI}'s options"
        value = self._client_options().get(option)
        return f"{option}={value} ms, set by {_TIMEOUT_VARIABLES.get(option, MONGODB_URI)}"

    def _client_options(self) -> dict[str, Any]:
        """The options every client of this resource is made with. A timeout written in the
        URI's options wins over the field (and so over its environment variable)."""
        written = _uri_options(self.resolved_uri())
        timeouts = {
            "serverSelectionTimeoutMS": self.server_selection_timeout_ms,
            "connectTimeoutMS": self.connect_timeout_ms,
            "socketTimeoutMS": self.socket_timeout_ms,
        }
        return {
            "tz_aware": True,
            "appname": "phoenix_assets",
            **{name: ms for name, ms in timeouts.items() if name.lower() not in written},
        }

    def get_async_client(self) -> AsyncMongoClient[Document]:
        """A new ``AsyncMongoClient`` on the same URI and timeouts, for async code; the
        caller closes it."""
        return AsyncMongoClient(self.resolved_uri(), **self._client_options())

    def _ping(self, client: MongoClient[Document]) -> None:
        try:
            client.admin.command("ping")
        except PyMongoError as exc:
            client.close()
            cause = self._timeout_cause(exc)
            what = f": {cause}" if cause else ""
            detail = _first_line(exc, self.resolved_uri())
            raise MongoUnavailableError(
                f"Cannot reach MongoDB at {self.display_uri()}{what} "
                f"({type(exc).__name__}: {detail}). "
                f"Check that the server is running and {MONGODB_URI} is right, "
                f"or unset {MONGODB_URI} to use the embedded local server."
            ) from None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Fail the run in seconds, before any asset computes, when Mongo is unreachable.
        self.get_client()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
