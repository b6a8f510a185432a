"""The MongoDB resource: one PyMongo client per process, embedded server when no URI is set."""

import threading
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr
from pymongo import AsyncMongoClient, MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

from phoenix_assets.settings import DEFAULT_DATABASE, mask_uri
from phoenix_assets.storage.embedded_mongo import ensure_embedded_server

Document = dict[str, Any]


class MongoUnavailableError(RuntimeError):
    """MongoDB could not be reached; the message names the (masked) URI and what to set."""


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
        """The configured database."""
        return self.get_client()[self.database]

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
