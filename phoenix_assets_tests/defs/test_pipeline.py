"""The whole graph on demo data, end to end against a real MongoDB wire-protocol server."""

import datetime as dt
import math
import statistics
from collections.abc import Callable
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from pymongo.database import Database

from phoenix_assets.defs.assets.market import METRO_HEADLINE
from phoenix_assets.domain.adapters import property_from_reso
from phoenix_assets.domain.merge import LIVE_RECORDS
from phoenix_assets.domain.property import Property
from phoenix_assets.domain.snapshots import build_snapshot
from phoenix_assets.sources.demo import demo_listings
from phoenix_assets.storage.mongo_resource import MongoResource, MongoUnavailableError

DAYS = ["2026-11-17", "2026-11-18"]  # a Tuesday and Wednesday
WEEK = "2026-11-16"


def _run(defs: dg.Definitions, job: str, partition_key: str) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def(job).execute_in_process(partition_key=partition_key)
    assert result.success
    return result


def _trimmed_mean(values: pd.Series) -> float:
    """10 % off each end, rounded up, one record always kept: in plain Python."""
    ordered = sorted(float(v) for v in values.dropna())
    cut = min(math.ceil(len(ordered) / 10), (len(ordered) - 1) // 2) if len(ordered) > 2 else 0
    kept = ordered[cut : len(ordered) - cut]
    return statistics.fmean(kept)


def _independent_summary(db: Database[dict], day: str) -> pd.DataFrame:
    """The daily summary recomputed from the stored snapshots, another way than the asset does."""
    frame = pd.DataFrame(list(db["property_snapshots"].find({"partition_key": day})))
    rows = []
    for zip_code, homes in [*frame.groupby("postal_code"), ("metro", frame)]:
        active = homes[homes["standard_status"] == "Active"]
        changed = pd.to_datetime(homes["price_change_timestamp"], utc=True).dt.tz_convert(
            "America/Phoenix"
        )
        cut = (changed.dt.date == dt.date.fromisoformat(day)) & (
            homes["list_price"] < homes["previous_list_price"]
        )
        rows.append(
            {
                "area": zip_code,
                "active_listings": len(active),
                "pending_listings": int(
                    homes["standard_status"].isin(["Pending", "ActiveUnderContract"]).sum()
                ),
                "new_listings": int((homes["listing_contract_date"] == day).sum()),
                "closed_sales": int((homes["close_date"] == day).sum()),
                "price_cuts": int(cut.sum()),
                "median_list_price": active["list_price"].median(),
                "mean_list_price": _trimmed_mean(active["list_price"]),
                "median_price_per_sqft": (active["list_price"] / active["living_area"]).median(),
                "median_days_on_market": active["days_on_market"].median(),
            }
        )
    return pd.DataFrame(rows).set_index("area").sort_index()


@pytest.fixture
def two_days_and_their_week(
    pipeline_env: dict[str, str], load_definitions: Callable[[], dg.Definitions]
) -> dict[str, Any]:
    defs = load_definitions()
    results = {day: _run(defs, "daily_pipeline", day) for day in DAYS}
    results[WEEK] = _run(defs, "weekly_trends", WEEK)
    return {"defs": defs, "results": results}


def test_raw_documents_are_the_demo_source_verbatim(
    two_days_and_their_week: dict[str, Any], db: Database[dict], pipeline_env: dict[str, str]
) -> None:
    zips = pipeline_env["PHOENIX_ZIP_CODES"].split(",")
    for day in DAYS:
        expected = {
            listing["ListingKey"]: listing
            for zip_code in zips
            for listing in demo_listings(zip_code, dt.date.fromisoformat(day))
        }
        stored = {
            doc["source_id"]: doc for doc in db["raw_demo_listings"].find({"partition_key": day})
        }
        assert stored.keys() == expected.keys()
        some_key = next(iter(expected))
        document = stored[some_key]
        assert document["_id"] == f"demo:{some_key}:{day}"
        assert document["payload"] == expected[some_key]
        assert {
            "source",
            "source_id",
            "zip_code",
            "collected_at",
            "payload_sha256",
        } <= document.keys()


def test_snapshots_hold_every_property_once_with_provenance(
    two_days_and_their_week: dict[str, Any], db: Database[dict]
) -> None:
    for day in DAYS:
        raw = db["raw_demo_listings"].count_documents({"partition_key": day})
        snapshots = list(db["property_snapshots"].find({"partition_key": day}))
        assert len(snapshots) == raw > 0
        assert len({s["property_id"] for s in snapshots}) == len(snapshots)
        sample = snapshots[0]
        assert sample["_id"] == f"{sample['property_id']}:{day}"
        # Stored compactly: one source says every field (domain.provenance).
        assert sample["provenance"]["*"] == "demo"
        assert Property.model_validate(sample).provenance["list_price"] == "demo"
        assert sample["sources"] == ["demo"]


def test_the_summary_equals_an_independent_computation(
    two_days_and_their_week: dict[str, Any], db: Database[dict], pipeline_env: dict[str, str]
) -> None:
    for day in DAYS:
        stored = pd.DataFrame(list(db["daily_market_summary"].find({"partition_key": day})))
        stored = stored.set_index("area").sort_index()
        expected = _independent_summary(db, day)
        assert set(stored.index) == set(pipeline_env["PHOENIX_ZIP_CODES"].split(",")) | {"metro"}
        for column in expected.columns:
            pd.testing.assert_series_equal(
                stored[column].astype(float), expected[column].astype(float), check_names=False
            )
    metro = db["daily_market_summary"].find_one({"partition_key": DAYS[1], "area": "metro"})
    assert metro is not None and metro["active_listings"] > 0 and metro["new_listings"] > 0


def test_a_week_with_days_missing_says_which(
    two_days_and_their_week: dict[str, Any], db: Database[dict]
) -> None:
    rows = list(db["weekly_market_trends"].find({"partition_key": WEEK}))
    assert {row["area"] for row in rows} >= {"metro", "85018"}
    metro = next(row for row in rows if row["area"] == "metro")
    assert metro["days_present"] == 2
    assert metro["missing_days"] == [
        "2026-11-16",
        "2026-11-19",
        "2026-11-20",
        "2026-11-21",
        "2026-11-22",
    ]
    assert metro["complete"] is False
    daily = pd.DataFrame(list(db["daily_market_summary"].find({"area": "metro"})))
    assert metro["new_listings"] == daily["new_listings"].sum()
    assert metro["active_listings"] == pytest.approx(daily["active_listings"].mean())
    assert metro["median_list_price_wow_change"] is None  # no week before
    (materialization,) = two_days_and_their_week["results"][WEEK].asset_materializations_for_node(
        "weekly_market_trends"
    )
    assert materialization.metadata["missing_days"].value == {WEEK: metro["missing_days"]}


def test_re_running_a_day_changes_nothing(
    two_days_and_their_week: dict[str, Any], db: Database[dict]
) -> None:
    collections = ["raw_demo_listings", "property_snapshots", "daily_market_summary"]
    before = {
        name: sorted(db[name].find({}, {"payload_sha256": 1}), key=str) for name in collections
    }
    _run(two_days_and_their_week["defs"], "daily_pipeline", DAYS[0])
    after = {
        name: sorted(db[name].find({}, {"payload_sha256": 1}), key=str) for name in collections
    }
    assert after == before


def test_a_backfill_range_in_one_run_equals_day_by_day_runs(
    two_days_and_their_week: dict[str, Any], db: Database[dict]
) -> None:
    by_day = sorted(db["daily_market_summary"].find({}, {"_id": 1, "active_listings": 1}), key=str)
    db["daily_market_summary"].delete_many({})
    result = (
        two_days_and_their_week["defs"]
        .resolve_job_def("daily_pipeline")
        .execute_in_process(
            tags={
                "dagster/asset_partition_range_start": DAYS[0],
                "dagster/asset_partition_range_end": DAYS[1],
            }
        )
    )
    assert result.success
    ranged = sorted(db["daily_market_summary"].find({}, {"_id": 1, "active_listings": 1}), key=str)
    assert ranged == by_day
    # Each day's materialization shows that day's metro figures, not the range's last day's.
    shown = {
        str(materialization.partition): {
            key: value.value
            for key, value in materialization.metadata.items()
            if key.startswith("metro_")
        }
        for materialization in result.asset_materializations_for_node("daily_market_summary")
    }
    stored = {
        day: {
            f"metro_{name}": value
            for name in METRO_HEADLINE
            if (value := db["daily_market_summary"].find_one({"_id": f"metro:{day}"})[name])
            is not None
        }
        for day in DAYS
    }
    assert shown == stored
    assert stored[DAYS[0]] != stored[DAYS[1]]  # else the check above proves nothing


def test_an_unreachable_mongo_fails_fast_with_the_password_masked() -> None:
    resource = MongoResource(
        uri="mongodb://reader:s3cret@127.0.0.1:9/", server_selection_timeout_ms=500
    )
    with pytest.raises(MongoUnavailableError) as raised:
        resource.get_client()
    assert "mongodb://reader:***@127.0.0.1:9/" in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_a_run_against_an_unreachable_mongo_fails_naming_it(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "MONGODB_URI", "mongodb://reader:s3cret@127.0.0.1:9/?serverSelectionTimeoutMS=500"
    )
    result = (
        load_definitions()
        .resolve_job_def("daily_pipeline")
        .execute_in_process(partition_key=DAYS[0], raise_on_error=False)
    )
    assert not result.success
    errors = [
        getattr(event.event_specific_data, "error", None)
        for event in result.all_events
        if event.event_type_value in ("RESOURCE_INIT_FAILURE", "RUN_FAILURE", "STEP_FAILURE")
    ]
    messages = " ".join(str(error.to_string()) for error in errors if error is not None)
    assert "Cannot reach MongoDB at mongodb://reader:***@127.0.0.1:9/" in messages
    assert "s3cret" not in messages


def test_an_invalid_record_is_quarantined_with_its_reason_and_nothing_is_lost(
    two_days_and_their_week: dict[str, Any], db: Database[dict]
) -> None:
    day = DAYS[0]
    good = db["raw_demo_listings"].find_one({"partition_key": day})
    assert good is not None
    bad_payload = {
        **good["payload"],
        "ListingKey": "BAD-1",
        "ParcelNumber": "000-00-001",
        "ListPrice": -1,
    }
    db["raw_demo_listings"].insert_one(
        {**good, "_id": f"demo:BAD-1:{day}", "source_id": "BAD-1", "payload": bad_payload}
    )
    raw_count = db["raw_demo_listings"].count_documents({"partition_key": day})
    job = two_days_and_their_week["defs"].resolve_job_def("daily_pipeline")
    for _ in range(2):  # a re-run replaces the quarantine, never duplicates it
        result = job.execute_in_process(
            partition_key=day, asset_selection=[dg.AssetKey("property_snapshots")]
        )
        assert result.success
    (entry,) = list(db["quarantine"].find({"partition_key": day}))
    assert entry["source_id"] == "BAD-1" and entry["asset"] == "property_snapshots"
    assert entry["rule"] == "invalid_field" and "list_price" in entry["detail"]
    assert (
        entry["reason"]
        == "a field has a value of the wrong type or outside what the schema accepts"
    )
    assert entry["payload"] == bad_payload
    assert db["property_snapshots"].count_documents({"partition_key": day}) == raw_count - 1
    (materialization,) = result.asset_materializations_for_node("property_snapshots")
    assert materialization.metadata["quarantined"].value == 1


def test_events_agree_with_the_summary_and_need_a_previous_day(
    two_days_and_their_week: dict[str, Any], db: Database[dict]
) -> None:
    day = DAYS[1]
    events = list(db["property_events"].find({"partition_key": day}))
    by_type: dict[str, int] = {}
    for event in events:
        by_type[event["event_type"]] = by_type.get(event["event_type"], 0) + 1
        assert event["_id"] == f"{event['property_id']}:{event['event_type']}:{day}"
    metro = db["daily_market_summary"].find_one({"partition_key": day, "area": "metro"})
    assert metro is not None
    # Two ways to the same facts: stamped dates in one snapshot, and the difference of two.
    assert by_type.get("new_listing", 0) == metro["new_listings"] > 0
    assert by_type.get("price_cut", 0) == metro["price_cuts"] > 0
    assert by_type.get("status_change", 0) > 0
    # The first day has no snapshot before it: no events rather than all-new listings.
    assert db["property_events"].count_documents({"partition_key": DAYS[0]}) == 0
    (materialization,) = two_days_and_their_week["results"][
        DAYS[0]
    ].asset_materializations_for_node("property_events")
    assert materialization.metadata["days_without_previous_snapshot"].value == [DAYS[0]]


def test_a_day_past_the_live_limit_is_stored_as_the_whole_day_merged_would_be(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    db: Database[dict],
) -> None:
    """Past ``LIVE_RECORDS`` the snapshot step holds a day's records compressed until
    each property is merged and written: what it stores is what merging the whole day in
    memory gives, property for property."""
    day = dt.date.fromisoformat(DAYS[0])
    zips = pipeline_env["PHOENIX_ZIP_CODES"].split(",")
    scale = 1

    def listings() -> list[dict[str, Any]]:
        return [p for zip_code in zips for p in demo_listings(zip_code, day, scale=scale)]

    while len(listings()) <= LIVE_RECORDS:
        scale += 1
    monkeypatch.setenv("PHOENIX_DEMO_SCALE", str(scale))
    result = (
        load_definitions()
        .resolve_job_def("daily_pipeline")
        .execute_in_process(
            partition_key=DAYS[0],
            asset_selection=[dg.AssetKey("raw_demo_listings"), dg.AssetKey("property_snapshots")],
        )
    )
    assert result.success
    whole = build_snapshot(
        day,
        listings=[property_from_reso(p, source="demo", day=day) for p in listings()],
        parcels_today=[],
        latest_parcels={},
    )
    assert db["quarantine"].count_documents({"partition_key": DAYS[0]}) == 0
    stored = db["property_snapshots"].find({"partition_key": DAYS[0]}).sort("property_id", 1)
    assert [Property.model_validate(document) for document in stored] == whole
    assert len(whole) > LIVE_RECORDS
