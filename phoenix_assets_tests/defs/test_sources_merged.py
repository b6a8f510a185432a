"""Real sources end to end: the Assessor and an MLS feed (fake servers on 127.0.0.1)
collected, adapted, merged with the demo source into snapshots, summaries and events."""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import pytest
from pymongo.database import Database
from pytest_httpserver import HTTPServer

from phoenix_assets.domain.property import Property
from phoenix_assets.domain.provenance import source_of
from phoenix_assets.partitions import day_end, day_start
from phoenix_assets_tests.defs.test_raw_maricopa import _everything_said
from phoenix_assets_tests.sources.fake_maricopa import TOKEN as MARICOPA_TOKEN
from phoenix_assets_tests.sources.fake_maricopa import FakeMaricopa
from phoenix_assets_tests.sources.fake_reso import FakeReso, make_listings

MLS_TOKEN = "static-SECRET-mls-token-merged"
DAY_1, DAY_2 = "2026-11-17", "2026-11-18"
ZIP = "85018"


@pytest.fixture
def sources(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    with (
        HTTPServer(host="127.0.0.1", port=0, threaded=True) as assessor_server,
        HTTPServer(host="127.0.0.1", port=0, threaded=True) as mls_server,
    ):
        assessor = FakeMaricopa(assessor_server)
        apns = assessor.add_zip(ZIP, 6)
        # Last modified during the first day: a day's snapshot shows the versions made
        # before it ended.
        newest = day_end(DAY_1) - dt.timedelta(minutes=5)
        listings = make_listings([ZIP], 4, newest=newest)
        for listing, apn in zip(listings, apns, strict=False):  # 4 listed parcels of 6
            listing["ParcelNumber"] = apn
            listing["StandardStatus"] = "Active"
        mls = FakeReso(mls_server, listings, auth="static", static_token=MLS_TOKEN)
        env = {
            "PHOENIX_SOURCES": "demo,maricopa,mls",
            "PHOENIX_ZIP_CODES": ZIP,
            "MARICOPA_API_BASE_URL": assessor.base_url,
            "MARICOPA_API_TOKEN": MARICOPA_TOKEN,
            "MARICOPA_REQUESTS_PER_SECOND": "100",
            "MLS_RESO_BASE_URL": mls.base_url,
            "MLS_RESO_TOKEN": MLS_TOKEN,
            "MLS_RESO_REQUESTS_PER_SECOND": "50",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield {"assessor": assessor, "mls": mls, "apns": apns, "listings": listings}


def _run(defs: dg.Definitions, day: str) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def("daily_pipeline").execute_in_process(partition_key=day)
    assert result.success
    return result


def test_a_day_collects_adapts_merges_and_the_next_day_carries_listings_forward(
    sources: dict[str, Any], db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    defs = load_definitions()
    first = _run(defs, DAY_1)
    listed = sources["apns"][:4]
    homes = {d["property_id"]: d for d in db["property_snapshots"].find({"partition_key": DAY_1})}
    for apn in listed:
        home = homes[f"apn:{apn}"]
        assert home["sources"] == ["maricopa", "mls"]
        assert Property.model_validate(home).provenance["list_price"] == "mls"
        assert source_of(home["provenance"], "year_built", valued=True) == "maricopa"
    for apn in sources["apns"][4:]:  # parcels seen today, not listed
        assert homes[f"apn:{apn}"]["sources"] == ["maricopa"]
    assert any(p["sources"] == ["demo"] for p in homes.values())

    # Day 2: the MLS feed changed one price; nothing else is new from either source.
    changed = sources["listings"][0]
    during_day_2 = day_start(DAY_2) + dt.timedelta(hours=12)
    sources["mls"].touch(changed["ListingKey"], during_day_2, ListPrice=333_000)
    second = _run(defs, DAY_2)
    assert db["raw_mls_listings"].count_documents({"partition_key": DAY_2}) == 1
    assert db["raw_maricopa_parcels"].count_documents({"partition_key": DAY_2}) == 0
    homes_2 = {d["property_id"]: d for d in db["property_snapshots"].find({"partition_key": DAY_2})}
    for apn in listed:  # carried forward, still with the Assessor's facts
        assert homes_2[f"apn:{apn}"]["sources"] == ["maricopa", "mls"]
    assert homes_2[f"apn:{listed[0]}"]["list_price"] == 333_000
    cut = db["property_events"].find_one(
        {"partition_key": DAY_2, "property_id": f"apn:{listed[0]}", "event_type": "price_cut"}
    )
    assert cut is not None and cut["new_value"] == 333_000
    metro = db["daily_market_summary"].find_one({"partition_key": DAY_2, "area": ZIP})
    assert metro is not None and metro["active_listings"] >= 4
    for result in (first, second):
        said = _everything_said(result)
        assert MARICOPA_TOKEN not in said and MLS_TOKEN not in said
