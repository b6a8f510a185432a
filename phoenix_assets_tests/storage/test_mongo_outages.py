"""MongoDB outages fail in seconds, naming the (masked) URI and the timeout that fired.

Real sockets throughout (see ``tcp_faults``): a refused port, a port whose TCP handshake
hangs, a server that accepts and never answers, and a proxy to the session's test server
that stops relaying (or stops opening connections) mid-run, met by real PyMongo clients.
Every test bounds its wall time generously (a noisy 2-core machine: three times the
timeout plus five seconds; PyMongo 4.20 may wait up to three times per operation) and
checks what the error says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pymongo.uri_parser import parse_uri

from phoenix_assets.settings import (
    DEFAULT_CONNECT_TIMEOUT_MS,
    DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
    DEFAULT_SOCKET_TIMEOUT_MS,
    MONGODB_CONNECT_TIMEOUT_MS,
    MONGODB_SERVER_SELECTION_TIMEOUT_MS,
    MONGODB_SOCKET_TIMEOUT_MS,
    ConfigError,
    PipelineSettings,
)
from phoenix_assets.storage.mongo_resource import MongoResource, MongoUnavailableError
from phoenix_assets_tests.tcp_faults import (
    FreezableProxy,
    SilentServer,
    dropping_port,
    refusing_port,
)

PASSWORD = "s3cret-Pw"


def within(timeout_ms: float) -> float:
    """The wall-time bound, in seconds, for something that should fail after
    ``timeout_ms``: three times the timeout plus five seconds."""
    return timeout_ms / 1000 * 3 + 5


def failure_of(action: Callable[[], object]) -> tuple[MongoUnavailableError, float]:
    """The ``MongoUnavailableError`` that ``action`` raises, and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(MongoUnavailableError) as raised:
        action()
    return raised.value, time.monotonic() - started


# -- unreachable and hung at connect -----------------------------------------------------


@pytest.mark.parametrize("call", ["get_client", "get_database"])
def test_an_unreachable_server_fails_after_the_selection_timeout_naming_the_masked_uri(
    call: str,
) -> None:
    with refusing_port() as port:
        resource = MongoResource(
            uri=f"mongodb://reader:{PASSWORD}@127.0.0.1:{port}/",
            server_selection_timeout_ms=1000,
            connect_timeout_ms=1000,
        )
        error, seconds = failure_of(getattr(resource, call))

    message = str(error)
    assert 0.9 <= seconds < within(1000), seconds
    assert f"Cannot reach MongoDB at mongodb://reader:***@127.0.0.1:{port}/" in message
    assert PASSWORD not in message
    assert (
        "no server answered within serverSelectionTimeoutMS=1000 ms, "
        f"set by {MONGODB_SERVER_SELECTION_TIMEOUT_MS}"
    ) in message
    assert "Connection refused" in message
    assert "MONGODB_URI" in message


@pytest.mark.parametrize(
    ("selection_ms", "connect_ms"),
    [(1500, 1000), (1500, 5000)],
    ids=["connect-timeout-first", "selection-timeout-first"],
)
def test_a_server_that_accepts_and_never_answers_fails_after_the_selection_timeout(
    selection_ms: int, connect_ms: int
) -> None:
    with SilentServer() as server:
        resource = MongoResource(
            uri=f"mongodb://reader:{PASSWORD}@127.0.0.1:{server.port}/",
            server_selection_timeout_ms=selection_ms,
            connect_timeout_ms=connect_ms,
            socket_timeout_ms=1000,
        )
        error, seconds = failure_of(resource.get_database)
        assert server.accepted >= 1, "PyMongo never connected: this tested nothing"

    message = str(error)
    assert selection_ms / 1000 * 0.9 <= seconds < within(selection_ms), seconds
    assert f"Cannot reach MongoDB at mongodb://reader:***@127.0.0.1:{server.port}/" in message
    assert PASSWORD not in message
    assert (
        f"no server answered within serverSelectionTimeoutMS={selection_ms} ms, "
        f"set by {MONGODB_SERVER_SELECTION_TIMEOUT_MS}"
    ) in message


def test_a_host_that_drops_packets_fails_after_the_selection_timeout() -> None:
    """The TCP handshake itself hangs (a firewall dropping packets, a host gone from the
    network): the driver's connect gives up after connectTimeoutMS, the whole wait after
    serverSelectionTimeoutMS."""
    with dropping_port() as port:
        resource = MongoResource(
            uri=f"mongodb://reader:{PASSWORD}@127.0.0.1:{port}/",
            server_selection_timeout_ms=1500,
            connect_timeout_ms=1000,
        )
        error, seconds = failure_of(resource.get_client)

    message = str(error)
    assert 1.35 <= seconds < within(1500), seconds
    assert f"Cannot reach MongoDB at mongodb://reader:***@127.0.0.1:{port}/" in message
    assert PASSWORD not in message
    assert "serverSelectionTimeoutMS=1500 ms" in message and "timed out" in message


def test_a_timeout_written_in_the_uri_wins_over_the_resource_setting() -> None:
    with refusing_port() as port:
        resource = MongoResource(
            uri=f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=300",
            server_selection_timeout_ms=20_000,
        )
        error, seconds = failure_of(resource.get_client)

    assert seconds < within(300), seconds
    assert "serverSelectionTimeoutMS=300 ms, set in MONGODB_URI's options" in str(error)


def test_both_clients_carry_the_three_timeouts(mongo_uri: str, database_name: str) -> None:
    resource = MongoResource(
        uri=mongo_uri,
        database=database_name,
        server_selection_timeout_ms=1234,
        connect_timeout_ms=2345,
        socket_timeout_ms=3456,
    )
    async_client = resource.get_async_client()
    try:
        for options in (resource.get_client().options, async_client.options):
            assert options.server_selection_timeout == 1.234
            assert options.pool_options.connect_timeout == 2.345
            assert options.pool_options.socket_timeout == 3.456
    finally:
        resource.teardown_after_execution(None)  # type: ignore[arg-type]
        asyncio.run(async_client.close())


def test_the_defaults_bound_every_wait() -> None:
    resource = MongoResource(uri="mongodb://127.0.0.1:1/")
    assert (
        resource.server_selection_timeout_ms,
        resource.connect_timeout_ms,
        resource.socket_timeout_ms,
    ) == (10_000, 10_000, 30_000)


# -- hung mid-operation ------------------------------------------------------------------


def _proxied_uri(uri: str, port: int) -> str:
    """``uri`` with its one host replaced by the proxy on 127.0.0.1:``port``."""
    rest = uri.partition("://")[2]
    userinfo, at, hosts_and_tail = rest.rpartition("@")
    tail = hosts_and_tail.partition("/")[2]
    separator = "&" if "?" in tail else ("" if tail.endswith("?") else "?")
    return f"mongodb://{userinfo}{at}127.0.0.1:{port}/{tail}{separator}directConnection=true"


@pytest.fixture
def proxy(mongo_uri: str) -> Iterator[FreezableProxy]:
    """A proxy to the session's test server (skipped for a server it cannot relay)."""
    parsed = None if mongo_uri.startswith("mongodb+srv://") else parse_uri(mongo_uri)
    options = {name.lower(): value for name, value in (parsed or {}).get("options", {}).items()}
    if parsed is None or len(parsed["nodelist"]) != 1 or options.get("tls") or options.get("ssl"):
        pytest.skip("the proxy relays a single plain-TCP server")
    host, port = parsed["nodelist"][0]
    with FreezableProxy((str(host), int(port))) as relay:
        yield relay


OPERATIONS: dict[str, tuple[str, Callable[[Any], object]]] = {
    # name: (what the message says the run was doing, the call on the collection)
    "find_one": ("during find_one", lambda coll: coll.find_one({"_id": "a"})),
    "iterate a cursor": ("during reading a cursor", lambda coll: list(coll.find({}))),
    "insert_one": ("during insert_one", lambda coll: coll.insert_one({"_id": "b"})),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_a_server_hung_mid_operation_fails_after_the_socket_timeout(
    proxy: FreezableProxy, mongo_uri: str, database_name: str, operation: str
) -> None:
    """No reply within socketTimeoutMS fails the operation, naming the URI and
    MONGODB_SOCKET_TIMEOUT_MS. The heartbeat's timeout (connectTimeoutMS) is long here so
    that the socket timeout is the one that fires.

    A read waits up to three times (measured ~4.6-4.9 s for 1.5 s): its first try,
    PyMongo's one retry of a read, and PyMongo 4.20's retry of a connection whose
    handshake timed out (labelled an overload). A write on a standalone server is not
    retried (1.5 s); on a replica set it is, like a read."""
    socket_ms = 1500
    resource = MongoResource(
        uri=_proxied_uri(mongo_uri, proxy.port),
        database=database_name,
        server_selection_timeout_ms=2000,
        connect_timeout_ms=20_000,
        socket_timeout_ms=socket_ms,
    )
    try:
        collection = resource.get_database()["outage_probe"]
        collection.insert_one({"_id": "a", "value": 1})
        assert collection.find_one({"_id": "a"}) == {"_id": "a", "value": 1}

        proxy.freeze()
        doing, act = OPERATIONS[operation]
        error, seconds = failure_of(lambda: act(collection))

        assert socket_ms / 1000 * 0.9 <= seconds < within(socket_ms), seconds
        message = str(error)
        assert f"Lost MongoDB at {resource.display_uri()} {doing}" in message
        assert (
            f"no reply within socketTimeoutMS={socket_ms} ms, set by {MONGODB_SOCKET_TIMEOUT_MS}"
        ) in message
        assert "NetworkTimeout" in message

        # Once the server answers again, the same resource works again.
        proxy.thaw()
        assert _eventually(lambda: collection.find_one({"_id": "a"})) == {"_id": "a", "value": 1}
    finally:
        resource.teardown_after_execution(None)  # type: ignore[arg-type]


def test_a_server_that_stops_answering_heartbeats_fails_the_operation_in_flight(
    proxy: FreezableProxy, mongo_uri: str, database_name: str
) -> None:
    """With the socket timeout far away, PyMongo's heartbeat (every heartbeatFrequencyMS,
    waiting connectTimeoutMS for its reply) notices the hung server and cancels the
    operation in flight; the message names MONGODB_CONNECT_TIMEOUT_MS."""
    connect_ms = 1000
    uri = _proxied_uri(mongo_uri, proxy.port) + "&heartbeatFrequencyMS=500"
    resource = MongoResource(
        uri=uri,
        database=database_name,
        server_selection_timeout_ms=2000,
        connect_timeout_ms=connect_ms,
        socket_timeout_ms=25_000,
    )
    try:
        collection = resource.get_database()["outage_probe"]
        collection.insert_one({"_id": "a"})
        proxy.freeze()
        error, seconds = failure_of(lambda: collection.insert_one({"_id": "b"}))

        assert seconds < within(connect_ms + 500) < 25, seconds
        message = str(error)
        assert f"Lost MongoDB at {resource.display_uri()} during insert_one" in message
        assert (
            "stopped answering the driver's heartbeat within "
            f"connectTimeoutMS={connect_ms} ms, set by {MONGODB_CONNECT_TIMEOUT_MS}"
        ) in message
    finally:
        resource.teardown_after_execution(None)  # type: ignore[arg-type]


def test_a_connection_that_cannot_be_opened_mid_run_names_the_connect_timeout(
    proxy: FreezableProxy, mongo_uri: str, database_name: str
) -> None:
    """The server's open connections work but a new one hangs at the TCP handshake: the
    operation that needs one fails after connectTimeoutMS, once per attempt (PyMongo 4.20
    retries a connection that could not be opened as an overload; measured ~3.2 s for
    three 1 s waits). ``maxIdleTimeMS`` makes the pool open a new connection for it."""
    connect_ms = 1000
    resource = MongoResource(
        uri=_proxied_uri(mongo_uri, proxy.port) + "&maxIdleTimeMS=100",
        database=database_name,
        server_selection_timeout_ms=3000,
        connect_timeout_ms=connect_ms,
        socket_timeout_ms=25_000,
    )
    try:
        collection = resource.get_database()["outage_probe"]
        collection.insert_one({"_id": "a"})
        proxy.drop_new_connections()
        time.sleep(0.3)  # the pooled connection is now idle too long to be reused
        error, seconds = failure_of(lambda: collection.insert_one({"_id": "b"}))

        assert connect_ms / 1000 * 0.9 <= seconds < within(connect_ms), seconds
        message = str(error)
        assert f"Lost MongoDB at {resource.display_uri()} during insert_one" in message
        assert (
            f"no connection opened within connectTimeoutMS={connect_ms} ms, "
            f"set by {MONGODB_CONNECT_TIMEOUT_MS}"
        ) in message
    finally:
        resource.teardown_after_execution(None)  # type: ignore[arg-type]


def test_an_operation_timeout_written_in_the_uri_is_the_one_named(
    proxy: FreezableProxy, mongo_uri: str, database_name: str
) -> None:
    """``timeoutMS`` in the URI (PyMongo's whole-operation timeout) replaces the socket
    timeout, retries included; the message says so."""
    resource = MongoResource(
        uri=_proxied_uri(mongo_uri, proxy.port) + "&timeoutMS=1000",
        database=database_name,
        connect_timeout_ms=20_000,
        socket_timeout_ms=20_000,
    )
    try:
        collection = resource.get_database()["outage_probe"]
        collection.insert_one({"_id": "a"})
        proxy.freeze()
        error, seconds = failure_of(lambda: collection.find_one({"_id": "a"}))

        assert seconds < within(1000), seconds
        assert "ran out of timeoutMS=1000 ms, set in MONGODB_URI's options" in str(error)
    finally:
        resource.teardown_after_execution(None)  # type: ignore[arg-type]


def _eventually(read: Callable[[], object], seconds: float = 10) -> object:
    """``read()``, retried on MongoUnavailableError while the driver rediscovers the server."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return read()
        except MongoUnavailableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# -- settings ----------------------------------------------------------------------------

TIMEOUT_SETTINGS = [
    # variable, PipelineSettings field, default, lowest and highest accepted
    (
        MONGODB_SERVER_SELECTION_TIMEOUT_MS,
        "mongodb_server_selection_timeout_ms",
        DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
        100,
        600_000,
    ),
    (
        MONGODB_CONNECT_TIMEOUT_MS,
        "mongodb_connect_timeout_ms",
        DEFAULT_CONNECT_TIMEOUT_MS,
        100,
        600_000,
    ),
    (
        MONGODB_SOCKET_TIMEOUT_MS,
        "mongodb_socket_timeout_ms",
        DEFAULT_SOCKET_TIMEOUT_MS,
        1000,
        600_000,
    ),
]


def test_timeout_defaults() -> None:
    settings = PipelineSettings.from_env({})
    assert settings.mongodb_server_selection_timeout_ms == 10_000
    assert settings.mongodb_connect_timeout_ms == 10_000
    assert settings.mongodb_socket_timeout_ms == 30_000


@pytest.mark.parametrize(("variable", "field", "default", "lowest", "highest"), TIMEOUT_SETTINGS)
def test_timeouts_within_bounds_are_read(
    variable: str, field: str, default: int, lowest: int, highest: int
) -> None:
    for raw, expected in ((str(lowest), lowest), (f" {highest} ", highest), ("", default)):
        assert getattr(PipelineSettings.from_env({variable: raw}), field) == expected


@pytest.mark.parametrize(("variable", "field", "default", "lowest", "highest"), TIMEOUT_SETTINGS)
def test_timeouts_out_of_bounds_are_rejected_naming_the_variable(
    variable: str, field: str, default: int, lowest: int, highest: int
) -> None:
    for raw, says in (
        (str(lowest - 1), f"out of range (expected >= {lowest} and <= {highest})"),
        (str(highest + 1), "out of range"),
        ("0", "out of range"),
        ("-5000", "out of range"),
        ("30s", "is not a whole number"),
        ("1.5", "is not a whole number"),
    ):
        with pytest.raises(ConfigError) as raised:
            PipelineSettings.from_env({variable: raw})
        assert str(raised.value).startswith(f"{variable}: "), raised.value
        assert says in str(raised.value), raised.value
