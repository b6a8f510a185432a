"""BROWSER test of the Dagster UI that ``phoenix-assets ui`` opens, in headless Chromium.

``phoenix-assets ui`` starts as a user starts it (a subprocess, on a free port), on the
embedded defaults but on the session's MongoDB, this test's database and a temporary
DAGSTER_HOME; one ZIP code keeps the demo run short, and automation is off so the
missed-day sensor launches no backfill of its own. Debian's ``chromium`` at
/usr/bin/chromium, driven by Playwright, then goes where a user goes: the asset catalog,
the ``daily_pipeline`` job's "Materialize all…" dialog (a two-day backfill, run by the
daemon of ``dagster dev``), the backfill's page, the daily market summary's days and the
snapshot checks of those days. Each step is checked against the code location, GraphQL,
the instance or MongoDB, and leaves a screenshot, whose folder is printed on failure.
Selected with the other browser tests by ``pytest -k browser``; skipped without Chromium.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect, sync_playwright
from pymongo.database import Database

from phoenix_assets.defs.assets.market import METRO_HEADLINE
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.reports.quality import CheckOutcome, read_check_outcomes
from phoenix_assets_tests.delivery.smtp_server import free_port
from phoenix_assets_tests.processes import stop_process_group

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1400, "height": 1200}
# The UI's own waits: pages on a 2-core machine shared with the run can be slow.
UI_TIMEOUT_MS = 60_000
PLAYWRIGHT_EXPECT_TIMEOUT_MS = 5_000  # Playwright's default, restored after the test
SERVER_START_SECONDS = 180
BACKFILL_SECONDS = 420
DIALOG_DAYS = 90  # the days the "Materialize all…" dialog offers until told to show all
SETTINGS = {"PHOENIX_ZIP_CODES": "85018", "PHOENIX_AUTOMATION": "off"}
# The backfill page's status tag once the backfill is over (BackfillStatusTagForPage).
BACKFILL_DONE = {"Succeeded", "Completed", "Failed", "Canceled"}
# The check's result as the check's execution history shows it (AssetCheckStatusTag):
# a warning that failed is "Failed" too, with another icon.
CHECK_LABEL = {"passed": "Passed", "warned": "Failed", "failed": "Failed"}
BACKFILL_QUERY = """query ($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status partitionNames }
  }
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { results { status tags { key value } } }
  }
}"""
BACKFILLS_QUERY = "{ partitionBackfillsOrError { ... on PartitionBackfills { results { id } } } }"
# Chromium aborts every request in flight, loopback included, when the host's network
# interfaces change (here: containers other processes start and stop on a shared machine)
# and logs it with this code; Dagster's UI then logs its failed queries ("Failed to fetch")
# and polls again. Those are forgiven only when every failed request failed this way.
NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"
NAVIGATION_ABORTED = "net::ERR_ABORTED"  # a request cut off by leaving its page

T = TypeVar("T")


class BrowserLog:
    """The console errors, page errors and failed requests of one page."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.failed_requests: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on(
            "requestfailed",
            lambda request: self.failed_requests.append(f"{request.failure} {request.url}"),
        )

    def network_changes(self) -> int:
        return sum(NETWORK_CHANGED in failure for failure in self.failed_requests)

    def unexplained_errors(self) -> list[str]:
        network_changed_only = self.network_changes() > 0 and all(
            NETWORK_CHANGED in failure or NAVIGATION_ABORTED in failure
            for failure in self.failed_requests
        )
        return [
            error
            for error in self.errors
            if NETWORK_CHANGED not in error
            and not (network_changed_only and "Failed to fetch" in error)
        ]


class Screenshots:
    """One screenshot per step, numbered, in a folder kept after the test."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def take(self, name: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{name}.png"), full_page=True)


def _step(log: BrowserLog, step: Callable[[], T], attempts: int = 3) -> T:
    """Run a step (each opens its page first); when it fails while the host's network
    changed under the browser (see NETWORK_CHANGED), run it again. Any other failure
    stands."""
    for attempt in range(1, attempts + 1):
        changes = log.network_changes()
        try:
            return step()
        except (AssertionError, PlaywrightError):
            if attempt == attempts or log.network_changes() == changes:
                raise
    raise AssertionError("not reached")


def _graphql(base: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables or {}}, timeout=30
    )
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def _wait_until_serving(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()[-4000:]
        try:
            if httpx.get(f"{base}/server_info", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(
        f"the UI did not answer in {SERVER_START_SECONDS} s\n{log_path.read_text()[-4000:]}"
    )


@contextmanager
def _phoenix_assets_ui(cwd: Path, port: int) -> Iterator[str]:
    """``phoenix-assets ui -h 127.0.0.1 -p PORT`` in a session of its own, stopped as Ctrl-C
    stops it (SIGINT to its process group), killed if it has not stopped a minute later."""
    log_path = cwd / "phoenix-assets-ui.log"
    command = [str(Path(sys.executable).with_name("phoenix-assets")), "ui"]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "-h", "127.0.0.1", "-p", str(port)],
            # Not the project folder: dagster dev would read a developer's .env there.
            cwd=cwd,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, process, log_path)
        yield base
    except BaseException:
        print(f"phoenix-assets ui log: {log_path}")
        raise
    finally:
        stop_process_group(process, signal.SIGINT, timeout=60)


def _js_number(value: float | int) -> str:
    """A number as the UI prints a metadata value (JavaScript's String(number))."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _check_catalog(page: Page, base: str, specs: list[dg.AssetSpec]) -> None:
    page.goto(f"{base}/assets")
    for spec in specs:
        key = spec.key.to_user_string()
        link = page.locator(f'a[href="/assets/{key}"]')
        expect(link).to_be_visible()
        # The asset's row: the nearest element holding its link and a group link.
        row = link.locator("xpath=ancestor::div[.//a[contains(@href, '/asset-groups')]][1]")
        group = row.locator('a[href*="/asset-groups"]')
        expect(group).to_have_text(str(spec.group_name))
        assert f"/{key}" in str(group.get_attribute("href"))
        first_line = (spec.description or "").strip().splitlines()[0]
        expect(row.get_by_text(first_line)).to_be_visible()
    listed = page.locator('a[href^="/assets/"]').evaluate_all(
        "links => links.map(link => link.getAttribute('href').slice('/assets/'.length))"
    )
    assert set(listed) == {spec.key.to_user_string() for spec in specs}


def _launch_backfill(page: Page, base: str, partition_range: str) -> str:
    """From the job's page, "Materialize all…" over ``partition_range``; the backfill id."""
    if backfills := _graphql(base, BACKFILLS_QUERY)["partitionBackfillsOrError"]["results"]:
        # An earlier attempt launched it, but its answer was lost to a network change.
        return str(backfills[0]["id"])
    page.goto(f"{base}/jobs")
    page.get_by_role("link").filter(has_text=re.compile(r"^daily_pipeline$")).click()
    page.get_by_role("button", name="Materialize all…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    # The dialog offers the last 90 days at first; the range starts on the first day.
    if len(daily_partitions.get_partition_keys()) > DIALOG_DAYS:
        dialog.get_by_role("button", name="Show all partitions").click()
    selection = dialog.get_by_role("textbox")
    selection.fill(partition_range)
    selection.press("Enter")
    expect(dialog.get_by_text("2 partitions", exact=True)).to_be_visible()
    dialog.get_by_role("button", name="Launch backfill").click()
    created = page.get_by_role("region", name=re.compile("Notifications")).get_by_role(
        "link", name="View"
    )
    expect(created).to_have_attribute("href", re.compile(r"^/runs/b/\w+$"))
    return str(created.get_attribute("href")).rsplit("/", 1)[1]


def _wait_for_backfill_in_ui(page: Page, base: str, backfill_id: str) -> str:
    """The backfill's page, until its status tag says it is over; that status."""
    page.goto(f"{base}/runs/b/{backfill_id}")
    status = page.get_by_text("Status", exact=True).locator("xpath=following-sibling::*[1]")
    over = re.compile("^(" + "|".join(sorted(BACKFILL_DONE)) + ")$")
    expect(status).to_have_text(over, timeout=BACKFILL_SECONDS * 1000)
    return status.inner_text().strip()


def _check_summary_day(page: Page, base: str, day: str, metro: dict[str, Any]) -> None:
    """The summary's page for ``day`` shows the metro figures stored for that day."""
    page.goto(f"{base}/assets/daily_market_summary?view=partitions&partition={day}")
    for name in METRO_HEADLINE:
        row = page.get_by_role("row").filter(
            has=page.get_by_role("cell", name=f"metro_{name}", exact=True)
        )
        expect(row.get_by_role("cell").nth(1)).to_have_text(_js_number(metro[name]))


def _check_checks_of_day(page: Page, base: str, day: str, expected: list[CheckOutcome]) -> None:
    """Each check's execution history shows its result and description for ``day``."""
    for outcome in expected:
        page.goto(f"{base}/assets/{outcome.asset}?view=checks&checkDetail={outcome.check}")
        page.get_by_role("tab", name="Execution history").click()
        row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=day, exact=True))
        expect(row).to_have_count(1)
        expect(row.get_by_role("cell").first).to_have_text(CHECK_LABEL[outcome.outcome])
        expect(row.get_by_role("cell", name=outcome.summary, exact=True)).to_be_visible()


@pytest.mark.timeout(900)
def test_the_ui_lists_the_assets_backfills_two_days_and_shows_their_figures_and_checks(
    pipeline_env: dict[str, str],
    db: Database[dict],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed: apt-get install chromium")
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    defs = importlib.import_module("phoenix_assets.definitions").defs
    specs = list(defs.resolve_all_asset_specs())
    check_keys = sorted(defs.resolve_asset_graph().asset_check_keys, key=str)
    days = daily_partitions.get_partition_keys()[:2]
    home = Path(os.environ["DAGSTER_HOME"])

    shots_dir = tmp_path / "screenshots"
    with (
        _phoenix_assets_ui(tmp_path, free_port()) as base,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
        page.set_default_timeout(UI_TIMEOUT_MS)
        expect.set_options(timeout=UI_TIMEOUT_MS)
        log = BrowserLog(page)
        shots = Screenshots(page, shots_dir)
        # Dagster's "Join the Dagster community" dialog opens on a fresh instance a second
        # after any page loads, over whatever dialog is open then (where its "Skip" cannot
        # be clicked). Dismissed first, on the server, as its "Skip" button does.
        _graphql(base, "mutation { setNuxSeen }")
        assert _graphql(base, "{ shouldShowNux }") == {"shouldShowNux": False}
        try:
            _step(log, partial(_check_catalog, page, base, specs))
            shots.take("catalog")

            backfill_id = _step(
                log, partial(_launch_backfill, page, base, f"[{days[0]}...{days[1]}]")
            )
            shots.take("backfill-launched")
            shown = _step(log, partial(_wait_for_backfill_in_ui, page, base, backfill_id))
            shots.take("backfill-done")
            assert shown == "Succeeded"
            data = _graphql(base, BACKFILL_QUERY, {"id": backfill_id})
            backfill = data["partitionBackfillOrError"]
            assert backfill == {"status": "COMPLETED_SUCCESS", "partitionNames": days}
            # Single-run backfill policy: one run for the range, and it succeeded.
            (run,) = data["runsOrError"]["results"]
            tags = {tag["key"]: tag["value"] for tag in run["tags"]}
            assert run["status"] == "SUCCESS"
            assert tags["dagster/asset_partition_range_start"] == days[0]
            assert tags["dagster/asset_partition_range_end"] == days[1]

            with dg.DagsterInstance.from_config(str(home)) as instance:
                outcomes = read_check_outcomes(instance, check_keys, days)
            for day in days:
                metro = db["daily_market_summary"].find_one({"_id": f"metro:{day}"})
                assert metro is not None, day
                _step(log, partial(_check_summary_day, page, base, day, metro))
                shots.take(f"summary-{day}")
                expected = [outcome for outcome in outcomes if outcome.day == day]
                assert len(expected) == len(check_keys)
                assert {outcome.outcome for outcome in expected} <= set(CHECK_LABEL), expected
                _step(log, partial(_check_checks_of_day, page, base, day, expected))
                shots.take(f"checks-{day}")
            assert log.unexplained_errors() == [], log.failed_requests
        except BaseException:
            try:
                shots.take("failure")
            finally:
                print(f"UI screenshots: {shots_dir}")
                print(f"console errors: {log.errors}\nfailed requests: {log.failed_requests}")
            raise
        finally:
            expect.set_options(timeout=PLAYWRIGHT_EXPECT_TIMEOUT_MS)
            browser.close()
