"""BROWSER tests: the HTML reports of the session's pipeline run, in headless Chromium.

Select them with ``pytest -k browser``; they need Debian's ``chromium`` at
/usr/bin/chromium (driven by Playwright) and are skipped without it.
"""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from playwright.sync_api import Browser, Page, sync_playwright

from phoenix_assets_tests.reports.pipeline_run import (
    PARTIAL_WEEK,
    QUARANTINE_DAY,
    WEEK,
    ZIPS,
    ReportsRun,
)

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
REPORTS = {
    "daily": f"daily/phoenix-market-{QUARANTINE_DAY}.html",
    "weekly": f"weekly/phoenix-market-week-{WEEK}.html",
    "weekly-missing-days": f"weekly/phoenix-market-week-{PARTIAL_WEEK}.html",
}
# Lines per chart: one per ZIP, plus the metro's except on the inventory chart.
SERIES = {
    "median_list_price": len(ZIPS) + 1,
    "inventory": len(ZIPS),
    "price_cut_share": len(ZIPS) + 1,
    "days_on_market": len(ZIPS) + 1,
}
# In an SVG chart, the data series: matplotlib's line groups inside the axes holding a
# path or marker that covers an area (tick marks, grid lines and spines have none).
_DRAWN_SERIES = """svg => Array.from(svg.querySelectorAll('g[id^="axes_"] g[id^="line2d_"]'))
    .filter(group => Array.from(group.querySelectorAll('path, use')).some(shape => {
        const box = shape.getBBox();
        return box.width > 0 && box.height > 0;
    })).length"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def _open(browser: Browser, path: Path, viewport: dict[str, int]) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"failed to load {request.url}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, errors


def _variety(png: bytes) -> tuple[int, float]:
    """Distinct colours and the brightness spread of a screenshot."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=image.width * image.height) or []
    return len(colours), max(ImageStat.Stat(image.convert("L")).stddev)


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_browser_draws_every_chart_without_errors(
    browser: Browser, market_reports_run: ReportsRun, report: str
) -> None:
    page, errors = _open(browser, market_reports_run.reports_dir / REPORTS[report], DESKTOP)
    try:
        assert page.locator("#demo-note").is_visible()  # demo data says so
        charts = page.locator("figure svg.chart")
        assert charts.count() == len(SERIES)
        for index in range(charts.count()):
            chart = charts.nth(index)
            name = str(chart.get_attribute("id")).removeprefix("chart-")
            box = chart.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 150, name
            assert chart.evaluate(_DRAWN_SERIES) == SERIES[name], name
            colours, spread = _variety(chart.screenshot())
            assert colours > 20 and spread > 10, name
        colours, spread = _variety(page.screenshot(full_page=True))
        assert colours > 200 and spread > 20
        assert page.locator("table.zip").count() == len(ZIPS)
        assert errors == []
    finally:
        page.close()


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_browser_phone_width_has_no_horizontal_overflow(
    browser: Browser, market_reports_run: ReportsRun, report: str
) -> None:
    page, errors = _open(browser, market_reports_run.reports_dir / REPORTS[report], PHONE)
    try:
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.body.scrollWidth,"
            " window.innerWidth]"
        )
        assert widths[0] <= widths[2] and widths[1] <= widths[2], widths
        for box in [page.locator("figure svg.chart").nth(i).bounding_box() for i in range(4)]:
            assert box is not None and box["x"] > 0 and box["x"] + box["width"] <= PHONE["width"]
        headline = page.locator(".card").first.bounding_box()
        assert headline is not None and headline["width"] < PHONE["width"]
        assert errors == []
    finally:
        page.close()


def test_browser_a_week_with_missing_days_says_which(
    browser: Browser, market_reports_run: ReportsRun
) -> None:
    page, errors = _open(
        browser, market_reports_run.reports_dir / REPORTS["weekly-missing-days"], PHONE
    )
    try:
        missing = page.locator("#missing-days")
        assert missing.is_visible()
        text = missing.inner_text()
        for day in ("2026-10-26", "2026-10-27", "2026-10-28", "2026-10-29"):
            assert day in text
        assert "2026-10-30" not in text
        assert "Read with care" in page.locator("#quality").inner_text()
        assert errors == []
    finally:
        page.close()
