"""The MongoDB resource: one PyMongo client per process, embedded server when no URI is set."""

import functools
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any, cast

import dagster as dg
from pydantic import Field, PrivateAttr
from pymongo import AsyncMongoClient, MongoClient
from pymongo.collection import Collection
from pymongo.command_cursor import CommandCursor
from pymongo.cursor import Cursor
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError

from phoenix_assets.settings import DEFAULT_DATABASE, mask_uri
from phoenix_assets.storage.embedded_mongo import ensure_embedded_server

Document = dict[str, Any]


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
        default=5000,
        description="How long to look for a server before failing, in milliseconds.",
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
                    self.resolved_uri(),
                    tz_aware=True,
                    serverSelectionTimeoutMS=self.server_selection_timeout_ms,
                    connectTimeoutMS=self.server_selection_timeout_ms,
                    appname="phoenix_assets",
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
        detail = str(exc).split(" (configured timeouts")[0]
        detail = (detail.splitlines() or [""])[0][:300]
        return MongoUnavailableError(
            f"Lost MongoDB at {self.display_uri()} during {operation} "
            f"({type(exc).__name__}: {detail}). Check that the server is running and "
            "reachable; a re-run of the partition replaces what this run wrote."
        )

    def get_async_client(self) -> AsyncMongoClient[Document]:
        """A new ``AsyncMongoClient`` on the same URI, for async code; the caller closes it."""
        return AsyncMongoClient(
            self.resolved_uri(),
            tz_aware=True,
            serverSelectionTimeoutMS=self.server_selection_timeout_ms,
            appname="phoenix_assets",
        )

    def _ping(self, client: MongoClient[Document]) -> None:
        try:
            client.admin.command("ping")
        except PyMongoError as exc:
            client.close()
            raise MongoUnavailableError(
                f"Cannot reach MongoDB at {self.display_uri()} within "
                f"{self.server_selection_timeout_ms} ms ({type(exc).__name__}). "
                "Check that the server is running and MONGODB_URI is right, "
                "or unset MONGODB_URI to use the embedded local server."
            ) from None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Fail the run in seconds, before any asset computes, when Mongo is unreachable.
        self.get_client()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
