"""How close does the shared SourceClient get to its configured request rate?

Starts a threaded HTTP server on 127.0.0.1 that answers every request after a fixed
latency (100 ms by default, like a distant API), then, for each configured
(requests per second, concurrency) pair, sends a bounded number of requests through a
``SourceClient`` and prints:

- the achieved rate as the server saw it: (N - 1) / (last arrival - first arrival),
  and its fraction of the configured rate (target >= 0.9, and never above ~1.0);
- the wall-clock rate: N / (time from the first request sent to the last answer);
- the baseline of the same run, first: the same N requests with no limiter at all
  (plain httpx, the same number of connections), i.e. what the server's latency and
  the concurrency allow (about concurrency / latency).

Loopback only, bounded in requests (``--requests``, at most 1000) and in time (each
measurement is cancelled after twice its expected duration plus 10 s).

    uv run python benchmarks/collection_rate.py
    uv run python benchmarks/collection_rate.py --requests 60 --configs 5:2,5:4,10:2,10:4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from phoenix_assets.sources.http import HttpPolicy, SourceClient

HOST = "127.0.0.1"
MAX_REQUESTS = 1000
TARGET = 0.9


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    latency = 0.1

    def __init__(self) -> None:
        super().__init__((HOST, 0), _Handler)
        self.arrivals: list[float] = []
        self.lock = threading.Lock()

    def reset(self) -> list[float]:
        with self.lock:
            arrivals, self.arrivals = self.arrivals, []
        return arrivals


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs and httpx's pool do
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK add ~40 ms to every answer.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.arrivals.append(time.monotonic())
        time.sleep(self.server.latency)
        body = json.dumps({"value": [{"ListingKey": "x"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@dataclass
class Measurement:
    label: str
    configured: float | None
    concurrency: int
    requests: int
    server_rate: float
    wall_rate: float

    @property
    def fraction(self) -> float | None:
        return None if self.configured is None else self.server_rate / self.configured


def _rate(arrivals: list[float]) -> float:
    arrivals = sorted(arrivals)
    span = arrivals[-1] - arrivals[0]
    return (len(arrivals) - 1) / span if span > 0 else float("inf")


async def _limited(url: str, rate: float, concurrency: int, n: int) -> float:
    policy = HttpPolicy(
        requests_per_second=rate,
        max_concurrency=concurrency,
        max_attempts=1,
        timeout_seconds=10,
        total_budget_seconds=600,
    )
    async with SourceClient(
        source="bench", base_url=url, policy=policy, auth_variables="NONE"
    ) as client:
        started = time.monotonic()
        await asyncio.gather(*(client.get_json("/r") for _ in range(n)))
        return time.monotonic() - started


async def _unlimited(url: str, concurrency: int, n: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:

        async def get() -> None:
            (await client.get("/r")).raise_for_status()

        started = time.monotonic()
        await asyncio.gather(*(get() for _ in range(n)))
        return time.monotonic() - started


def _measure(
    server: _Server, url: str, rate: float | None, concurrency: int, n: int
) -> Measurement:
    expected = (n / rate if rate else 0) + n * server.latency / concurrency
    work = _limited(url, rate, concurrency, n) if rate else _unlimited(url, concurrency, n)
    server.reset()
    elapsed = asyncio.run(asyncio.wait_for(work, timeout=2 * expected + 10))
    arrivals = server.reset()
    if len(arrivals) != n:
        raise RuntimeError(f"expected {n} requests at the server, saw {len(arrivals)}")
    return Measurement(
        label=f"{rate:g}/s limit" if rate else "no limiter",
        configured=rate,
        concurrency=concurrency,
        requests=n,
        server_rate=_rate(arrivals),
        wall_rate=n / elapsed,
    )


def _configs(text: str) -> list[tuple[float, int]]:
    pairs = []
    for item in text.split(","):
        rate, _, concurrency = item.partition(":")
        pairs.append((float(rate), int(concurrency or 1)))
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="requests per measurement")
    parser.add_argument("--latency", type=float, default=0.1, help="server latency, seconds")
    parser.add_argument(
        "--configs", default="5:2,5:4,10:2,10:4", help="rate:concurrency pairs, comma-separated"
    )
    args = parser.parse_args(argv)
    if not 2 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be between 2 and {MAX_REQUESTS}")
    if not 0 <= args.latency <= 2:
        parser.error("--latency must be between 0 and 2 seconds")
    logging.basicConfig(level=logging.WARNING)

    server = _Server()
    server.latency = args.latency
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://{HOST}:{server.server_address[1]}"
    print(
        f"python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; server latency {args.latency * 1000:.0f} ms; "
        f"{args.requests} requests per row"
    )
    print(f"{'run':<14} {'conc':>4} {'server req/s':>12} {'of limit':>9} {'wall req/s':>10}")
    configs = _configs(args.configs)
    failed = False
    try:
        rows = [(None, c) for c in dict.fromkeys(c for _, c in configs)] + list(configs)
        for rate, concurrency in rows:
            measured = _measure(server, url, rate, concurrency, args.requests)
            fraction = measured.fraction
            verdict = ""
            if fraction is not None:
                ok = TARGET <= fraction <= 1.05
                failed |= not ok
                verdict = f"{'ok' if ok else 'MISSED'} (target >= {TARGET})"
            print(
                f"{measured.label:<14} {measured.concurrency:>4} "
                f"{measured.server_rate:>12.2f} "
                f"{'' if fraction is None else f'{fraction:.3f}':>9} "
                f"{measured.wall_rate:>10.2f}  {verdict}"
            )
    finally:
        server.shutdown()
        server.server_close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
