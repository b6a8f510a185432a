"""Hard bounds at the asset: records that cannot be true end in the quarantine under their
rule, never in ``property_snapshots``; an MLS listing whose state breaks one is quarantined
again each day it stays that listing's state (issue 12's carried state)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import pytest
from pymongo.database import Database
from pytest_httpserver import HTTPServer

from phoenix_assets.defs.assets.property_snapshots import _untrackable
from phoenix_assets.domain import rules
from phoenix_assets.partitions import day_start
from phoenix_assets.storage.version_log import version_id
from phoenix_assets_tests.sources.fake_reso import FakeReso, make_listings

DAY_1, DAY_2 = "2026-11-17", "2026-11-18"
SNAPSHOTS = dg.AssetKey("property_snapshots")
SCRIPT = "<script>alert('phoenix')</script>"
# The issue's four hostile records (and a price that is a script), as changes to an
# ordinary demo listing, with the rule each must be quarantined under.
HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    "HUGE-PRICE": ({"ListPrice": 1e308}, rules.LIST_PRICE_ABOVE_HARD_MAXIMUM),
    "NO-KEY": ({"ListingKey": None}, rules.MISSING_RECORD_KEY),
    "YEAR-2999": ({"ModificationTimestamp": "2999-01-01T00:00:00Z"}, rules.MODIFIED_IN_THE_FUTURE),
    "BUILT-2045": ({"YearBuilt": 2045}, rules.YEAR_BUILT_TOO_FAR_AHEAD),
    "SCRIPT-PRICE": ({"ListPrice": SCRIPT}, rules.INVALID_FIELD),
}


def _quarantined(db: Database[dict], day: str, source: str) -> dict[str, dict[str, Any]]:
    return {
        entry["source_id"]: entry
        for entry in db["quarantine"].find(
            {"asset": "property_snapshots", "partition_key": day, "source": source}
        )
    }


def test_the_issues_hostile_demo_records_are_quarantined_under_their_rules(
    pipeline_env: dict[str, str], db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    job = load_definitions().resolve_job_def("daily_pipeline")
    selection = [dg.AssetKey("raw_demo_listings"), SNAPSHOTS]
    assert job.execute_in_process(partition_key=DAY_1, asset_selection=selection).success
    good = db["raw_demo_listings"].find_one({"partition_key": DAY_1})
    assert good is not None
    for n, (source_id, (changes, _rule)) in enumerate(HOSTILE.items()):
        payload = {**good["payload"], "ListingKey": source_id, "StandardStatus": "Active"}
        payload.pop("ClosePrice", None)
        payload.pop("CloseDate", None)
        payload |= {"ParcelNumber": f"999-00-{n:03d}", "UnparsedAddress": f"{n} W Hostile Rd"}
        payload |= changes
        payload = {name: value for name, value in payload.items() if value is not None}
        db["raw_demo_listings"].insert_one(
            {**good, "_id": f"demo:{source_id}:{DAY_1}", "source_id": source_id, "payload": payload}
        )
    raw = db["raw_demo_listings"].count_documents({"partition_key": DAY_1})

    result = job.execute_in_process(partition_key=DAY_1, asset_selection=[SNAPSHOTS])
    assert result.success

    quarantined = _quarantined(db, DAY_1, "demo")
    assert {sid: e["rule"] for sid, e in quarantined.items()} == {
        sid: rule for sid, (_changes, rule) in HOSTILE.items()
    }
    for entry in quarantined.values():
        assert entry["reason"] == rules.REASONS[entry["rule"]]
        assert SCRIPT not in entry["reason"] and SCRIPT not in entry["detail"]
    assert quarantined["HUGE-PRICE"]["detail"] == "list_price 1e+308 > 100000000"
    assert quarantined["NO-KEY"]["detail"] == "listing_key is missing"
    assert "list_price" in quarantined["SCRIPT-PRICE"]["detail"]

    snapshot = list(db["property_snapshots"].find({"partition_key": DAY_1}))
    assert len(snapshot) == raw - len(HOSTILE)
    assert not {home.get("listing_key") for home in snapshot} & set(HOSTILE)
    assert not [home for home in snapshot if home["property_id"].startswith("apn:999-00-")]
    assert all(home.get("listing_key") for home in snapshot)
    (materialization,) = result.asset_materializations_for_node("property_snapshots")
    by_rule = materialization.metadata["quarantine_by_rule"].value
    assert by_rule == {rule: 1 for _changes, rule in HOSTILE.values()}


@pytest.fixture
def hostile_mls(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """An MLS feed of one ZIP: ordinary active listings modified on DAY_1, one listed at
    1e308 and one built in 2045; nothing changes on DAY_2."""
    newest = day_start(DAY_1) + dt.timedelta(hours=20)
    listings = make_listings(["85018"], 6, newest=newest, seed="hard-bounds")
    for listing in listings:
        listing["StandardStatus"] = "Active"
        listing.pop("ClosePrice", None)
        listing.pop("CloseDate", None)
    listings[0]["ListPrice"] = 1e308
    listings[1]["YearBuilt"] = 2045
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        fake = FakeReso(server, listings)
        for name, value in {
            "PHOENIX_SOURCES": "mls",
            "PHOENIX_ZIP_CODES": "85018",
            "MLS_RESO_BASE_URL": fake.base_url,
            "MLS_RESO_TOKEN": "hard-bounds-token",
            "MLS_RESO_REQUESTS_PER_SECOND": "50",
        }.items():
            monkeypatch.setenv(name, value)
        yield {
            "hostile": {
                listings[0]["ListingKey"]: rules.LIST_PRICE_ABOVE_HARD_MAXIMUM,
                listings[1]["ListingKey"]: rules.YEAR_BUILT_TOO_FAR_AHEAD,
            },
            "ordinary": {listing["ListingKey"] for listing in listings[2:]},
        }


def test_an_mls_state_that_breaks_a_hard_bound_is_quarantined_again_each_day(
    hostile_mls: dict[str, Any],
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    job = load_definitions().resolve_job_def("daily_pipeline")
    selection = [dg.AssetKey("raw_mls_listings"), dg.AssetKey("raw_demo_listings"), SNAPSHOTS]
    for day in (DAY_1, DAY_2):
        assert job.execute_in_process(partition_key=day, asset_selection=selection).success
    for day in (DAY_1, DAY_2):
        quarantined = _quarantined(db, day, "mls")
        assert {sid: e["rule"] for sid, e in quarantined.items()} == hostile_mls["hostile"], day
        shown = {
            d.get("listing_key") for d in db["property_snapshots"].find({"partition_key": day})
        }
        assert shown == hostile_mls["ordinary"], day


@pytest.mark.parametrize(
    ("source_id", "modified", "stamp", "rule"),
    [
        ("missing-key:0123456789abcdef", None, "2026-11-17T10:00:00Z", rules.MISSING_RECORD_KEY),
        ("L-1", None, "2999-01-01T00:00:00Z", rules.MODIFIED_IN_THE_FUTURE),
        ("L-1", None, "yesterday", rules.UNUSABLE_MODIFICATION_TIME),
        ("L-1", None, None, rules.UNUSABLE_MODIFICATION_TIME),
        ("L-1", dt.datetime(2026, 11, 17, 10, tzinfo=dt.UTC), "2026-11-17T10:00:00Z", None),
    ],
)
def test_an_mls_version_that_cannot_be_placed_has_its_rule(
    source_id: str, modified: dt.datetime | None, stamp: str | None, rule: str | None
) -> None:
    payload = {"ModificationTimestamp": stamp} if stamp is not None else {}
    version = {
        "_id": version_id("mls", source_id, modified, "f" * 64),
        "source": "mls",
        "source_id": source_id,
        "payload": payload,
    }
    untrackable = _untrackable(version)
    assert (untrackable[0] if untrackable else None) == rule
