"""raw_mls_listings as a Dagster asset, against the fake RESO Web API on 127.0.0.1."""

import datetime as dt
from collections.abc import Callable, Iterator

import dagster as dg
import pytest
from pymongo.database import Database
from pytest_httpserver import HTTPServer

from phoenix_assets_tests.defs.test_raw_maricopa import _everything_said
from phoenix_assets_tests.sources.fake_reso import FakeReso, make_listings

TOKEN = "static-SECRET-token-for-dagster-tests"
DAY_1, DAY_2 = "2026-11-17", "2026-11-18"
ASSET = dg.AssetKey("raw_mls_listings")
ZIPS = ("85018", "85033")


@pytest.fixture
def fake(pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeReso]:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        newest = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        fake = FakeReso(
            server, make_listings(ZIPS, 8, newest=newest), auth="static", static_token=TOKEN
        )
        monkeypatch.setenv("PHOENIX_SOURCES", "demo,mls")
        monkeypatch.setenv("PHOENIX_ZIP_CODES", ",".join(ZIPS))
        monkeypatch.setenv("MLS_RESO_BASE_URL", fake.base_url)
        monkeypatch.setenv("MLS_RESO_TOKEN", TOKEN)
        monkeypatch.setenv("MLS_RESO_REQUESTS_PER_SECOND", "50")
        monkeypatch.setenv("MLS_RESO_PAGE_SIZE", "5")
        yield fake


def _materialize(defs: dg.Definitions, day: str) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("daily_pipeline").execute_in_process(
        partition_key=day, asset_selection=[ASSET], raise_on_error=False
    )


def _keys(db: Database[dict], day: str) -> set[str]:
    return {d["source_id"] for d in db["raw_mls_listings"].find({"partition_key": day})}


def test_a_day_stores_every_listing_then_advances_the_watermarks(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    result = _materialize(load_definitions(), DAY_1)
    assert result.success
    assert _keys(db, DAY_1) == {listing["ListingKey"] for listing in fake.listings()}
    marks = {d["zip_code"]: d["watermark"] for d in db["source_watermarks"].find({})}
    assert set(marks) == set(ZIPS)
    assert TOKEN not in _everything_said(result)


def test_the_next_day_fetches_only_what_changed(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    changed = fake.listings("85018")[0]["ListingKey"]
    fake.touch(changed, dt.datetime.now(dt.UTC), ListPrice=499_000)
    assert _materialize(defs, DAY_2).success
    assert _keys(db, DAY_2) == {changed}
    stored = db["raw_mls_listings"].find_one({"_id": f"mls:{changed}:{DAY_2}"})
    assert stored is not None and stored["payload"]["ListPrice"] == 499_000


def test_re_running_a_day_loses_nothing_the_first_run_stored(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    first = _keys(db, DAY_1)
    changed = fake.listings("85033")[0]["ListingKey"]
    fake.touch(changed, dt.datetime.now(dt.UTC), StandardStatus="Pending")
    assert _materialize(defs, DAY_1).success  # a retry of the same day
    assert _keys(db, DAY_1) == first  # the whole day again, not only the change
    stored = db["raw_mls_listings"].find_one({"_id": f"mls:{changed}:{DAY_1}"})
    assert stored is not None and stored["payload"]["StandardStatus"] == "Pending"


def test_a_failing_zip_keeps_its_watermark_and_the_others_are_stored(
    fake: FakeReso, db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    fake.inject("html", zip_code="85033", times=None)
    result = _materialize(load_definitions(), DAY_1)
    assert result.success
    assert {d["zip_code"] for d in db["raw_mls_listings"].find({})} == {"85018"}
    assert {d["zip_code"] for d in db["source_watermarks"].find({})} == {"85018"}
    (failure,) = list(db["collection_failures"].find({"source": "mls"}))
    assert failure["zip_code"] == "85033"
