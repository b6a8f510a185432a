"""The Dagster webserver serves this code location: a real server, a real GraphQL client."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from phoenix_assets_tests.defs.test_definitions import EXPECTED_ASSETS
from phoenix_assets_tests.processes import stop_process_group

ASSET_QUERY = "{ assetNodes { assetKey { path } groupName } }"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_webserver_lists_the_assets_over_graphql(
    pipeline_env: dict[str, str], tmp_path: Path
) -> None:
    port = _free_port()
    webserver = Path(sys.executable).with_name("dagster-webserver")
    log = (tmp_path / "webserver.log").open("w")
    process = subprocess.Popen(
        [str(webserver), "-m", "phoenix_assets.definitions", "-h", "127.0.0.1", "-p", str(port)],
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        nodes = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/graphql", json={"query": ASSET_QUERY}, timeout=10
                )
                nodes = response.json()["data"]["assetNodes"]
                break
            except (httpx.HTTPError, KeyError, ValueError):
                time.sleep(1)
        assert nodes is not None, (tmp_path / "webserver.log").read_text()[-3000:]
        keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
        assert keys >= EXPECTED_ASSETS
        groups = {node["groupName"] for node in nodes}
        assert {"raw", "properties", "market"} <= groups
    finally:
        stop_process_group(process, signal.SIGTERM, timeout=20)
        log.close()
