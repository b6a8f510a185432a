"""TCP faults on 127.0.0.1 for outage tests: a port that refuses, a server that accepts
and never answers, and a proxy to a real server that can stop relaying mid-conversation.

All of them are real sockets, so PyMongo meets them exactly as it would meet a stopped
server, a hung one, or a network that silently drops packets.
"""

from __future__ import annotations

import contextlib
import functools
import select
import socket
import threading
from collections.abc import Callable, Iterator

HOST = "127.0.0.1"
_POLL_SECONDS = 0.05


def _fill_backlog(listener: socket.socket) -> list[socket.socket]:
    """Shrink ``listener``'s accept queue to one and fill it (nobody accepts), so that
    Linux drops every further SYN: a new connection then hangs until its own timeout,
    as one to a host behind a firewall that drops packets does."""
    listener.listen(0)
    address = listener.getsockname()
    fillers: list[socket.socket] = []
    for _ in range(8):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.settimeout(0.3)
        try:
            filler.connect(address)
        except OSError:  # timed out: the queue is full
            filler.close()
            return fillers
        fillers.append(filler)
    for filler in fillers:
        filler.close()
    raise RuntimeError("could not fill the accept queue: connections are not dropped here")


@contextlib.contextmanager
def dropping_port() -> Iterator[int]:
    """A port on 127.0.0.1 whose new connections hang at the TCP handshake (see
    ``_fill_backlog``) while the block runs."""
    with socket.create_server((HOST, 0)) as listener:
        fillers = _fill_backlog(listener)
        try:
            yield int(listener.getsockname()[1])
        finally:
            for filler in fillers:
                filler.close()


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A port on 127.0.0.1 bound but not listening while the block runs: a connection to
    it is refused at once, and no other process can start listening on it meanwhile."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind((HOST, 0))
        yield int(held.getsockname()[1])


class SilentServer:
    """Accepts TCP connections and never sends a byte nor closes them: a server that hangs
    right after the connection is made."""

    def __init__(self) -> None:
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(_POLL_SECONDS)
        self.port = int(self._listener.getsockname()[1])
        self._accepted: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def accepted(self) -> int:
        """How many connections it has accepted so far."""
        with self._lock:
            return len(self._accepted)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._accepted.append(conn)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            for conn in self._accepted:
                conn.close()


class FreezableProxy:
    """Relays 127.0.0.1:``port`` to ``upstream`` until ``freeze()``. Frozen, it keeps every
    socket open and still accepts new connections, but passes no byte in either direction:
    a server hung mid-conversation, or a network dropping packets without a reset.
    ``thaw()`` relays again, delivering what it held. ``drop_new_connections()`` leaves the
    open connections working and makes new ones hang at the TCP handshake."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(_POLL_SECONDS)
        self.port = int(self._listener.getsockname()[1])
        self._relaying = threading.Event()
        self._relaying.set()
        self._accepting = threading.Event()
        self._accepting.set()
        self._accept_paused = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._pumps: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self.connections = 0

    def freeze(self) -> None:
        self._relaying.clear()

    def thaw(self) -> None:
        self._relaying.set()

    def drop_new_connections(self) -> None:
        self._accepting.clear()
        if not self._accept_paused.wait(5):
            raise RuntimeError("the proxy's accept loop did not pause")
        fillers = _fill_backlog(self._listener)
        with self._lock:
            self._sockets += fillers

    def _accept(self) -> None:
        while not self._stop.is_set():
            if not self._accepting.is_set():
                self._accept_paused.set()
                self._stop.wait(_POLL_SECONDS)
                continue
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
                self.connections += 1
            self._spawn(functools.partial(self._pump, client, server))
            self._spawn(functools.partial(self._pump, server, client))

    def _spawn(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, daemon=True)
        with self._lock:
            self._pumps.append(thread)
        thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                readable, _, _ = select.select([source], [], [], _POLL_SECONDS)
                if not readable:
                    continue
                data = source.recv(65536)
            except (OSError, ValueError):  # closed under us at teardown
                return
            if not data:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
                return
            while not self._relaying.wait(_POLL_SECONDS):
                if self._stop.is_set():
                    return
            try:
                sink.sendall(data)
            except OSError:
                return

    def __enter__(self) -> FreezableProxy:
        self._acceptor.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._acceptor.join(5)  # no new sockets after this
        self._listener.close()
        with self._lock:
            sockets, pumps = list(self._sockets), list(self._pumps)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for pump in pumps:
            pump.join(5)
