"""raw_maricopa_parcels as a Dagster asset, against the fake Assessor on 127.0.0.1."""

import datetime as dt
from collections.abc import Callable, Iterator

import dagster as dg
import pytest
from pymongo.database import Database
from pytest_httpserver import HTTPServer

from phoenix_assets_tests.sources.fake_maricopa import TOKEN, FakeMaricopa

DAY_1, DAY_2 = "2026-11-17", "2026-11-18"
ASSET = dg.AssetKey("raw_maricopa_parcels")


@pytest.fixture
def fake(pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMaricopa]:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        fake = FakeMaricopa(server)
        monkeypatch.setenv("PHOENIX_SOURCES", "demo,maricopa")
        monkeypatch.setenv("PHOENIX_ZIP_CODES", "85018,85033")
        monkeypatch.setenv("MARICOPA_API_BASE_URL", fake.base_url)
        monkeypatch.setenv("MARICOPA_API_TOKEN", TOKEN)
        monkeypatch.setenv("MARICOPA_REQUESTS_PER_SECOND", "100")
        monkeypatch.setenv("MARICOPA_MAX_CONCURRENCY", "4")
        yield fake


def _materialize(defs: dg.Definitions, day: str) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def("daily_pipeline").execute_in_process(
        partition_key=day, asset_selection=[ASSET], raise_on_error=False
    )


def _everything_said(result: dg.ExecuteInProcessResult) -> str:
    """Every event message, metadata value and error text of a run, as one string."""
    parts = []
    for event in result.all_events:
        parts.append(str(event.message))
        data = event.event_specific_data
        materialization = getattr(data, "materialization", None)
        if materialization is not None:
            parts.extend(str(v.value) for v in materialization.metadata.values())
        error = getattr(data, "error", None)
        if error is not None:
            parts.append(error.to_string())
    return "\n".join(parts)


def test_one_zip_failing_leaves_the_other_stored_and_recorded(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    apns = fake.add_zip("85018", 12)
    fake.add_zip("85033", 5)
    fake.inject("html", zip_code="85033")  # the search answers an HTML page at 200
    result = _materialize(load_definitions(), DAY_1)
    assert result.success
    stored = list(db["raw_maricopa_parcels"].find({"partition_key": DAY_1}))
    assert sorted(d["source_id"] for d in stored) == sorted(apns)
    assert all(d["_id"] == f"maricopa:{d['source_id']}:{DAY_1}" for d in stored)
    assert {"parcel", "search"} <= stored[0]["payload"].keys()
    (failure,) = list(db["collection_failures"].find({"partition_key": DAY_1}))
    assert failure["zip_code"] == "85033" and failure["source"] == "maricopa"
    assert failure["kind"] == "html_body"
    (materialization,) = result.asset_materializations_for_node("raw_maricopa_parcels")
    assert materialization.metadata["zip_codes_failed"].value == ["85033"]
    assert materialization.metadata["count_new"].value == 12
    assert TOKEN not in _everything_said(result)


def test_the_next_day_skips_fresh_parcels_and_fetches_new_ones(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    fake.add_zip("85018", 6)
    fake.add_zip("85033", 3)
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    added = fake.add_zip("85018", 2, start=6)
    result = _materialize(defs, DAY_2)
    assert result.success
    stored = sorted(
        d["source_id"] for d in db["raw_maricopa_parcels"].find({"partition_key": DAY_2})
    )
    assert stored == sorted(added)
    (materialization,) = result.asset_materializations_for_node("raw_maricopa_parcels")
    assert materialization.metadata["count_fresh_skipped"].value == 9
    # Re-running day 2 decides the same way and stores the same documents.
    assert _materialize(defs, DAY_2).success
    again = sorted(
        d["source_id"] for d in db["raw_maricopa_parcels"].find({"partition_key": DAY_2})
    )
    assert again == stored


def test_a_run_where_every_zip_failed_fails_and_stores_nothing(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    fake.add_zip("85018", 3)
    fake.token = "another-token-entirely"  # the server no longer accepts ours
    result = _materialize(load_definitions(), DAY_1)
    assert not result.success
    said = _everything_said(result)
    assert "MARICOPA_API_TOKEN" in said and TOKEN not in said
    assert len(fake.requests) == 1  # no retry storm
    assert db["raw_maricopa_parcels"].count_documents({}) == 0
    assert db["collection_failures"].count_documents({"kind": "auth"}) == 2


def test_without_a_token_the_source_is_skipped_with_one_log_line(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MARICOPA_API_TOKEN")
    result = _materialize(load_definitions(), DAY_1)
    assert result.success and fake.requests == []
    (materialization,) = result.asset_materializations_for_node("raw_maricopa_parcels")
    assert materialization.metadata["configured"].value is False
    assert db["raw_maricopa_parcels"].count_documents({}) == 0


def materialize_range(
    defs: dg.Definitions, first: str, last: str, asset: dg.AssetKey = ASSET
) -> dg.ExecuteInProcessResult:
    """One run of ``asset`` over the days ``first``..``last``, as a single-run backfill."""
    return defs.resolve_job_def("daily_pipeline").execute_in_process(
        asset_selection=[asset],
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )


def _stored(db: Database[dict], day: str) -> dict[str, dict]:
    return {d["source_id"]: d for d in db["raw_maricopa_parcels"].find({"partition_key": day})}


def _manifest_documents(db: Database[dict], day: str) -> int | None:
    entry = db["partition_manifest"].find_one({"_id": f"raw_maricopa_parcels:{day}"})
    return None if entry is None else entry["documents"]


def test_a_re_run_where_a_zip_fails_keeps_what_the_first_run_stored_of_it(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    first_zip = fake.add_zip("85018", 5)
    second_zip = fake.add_zip("85033", 4)
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    first = _stored(db, DAY_1)
    assert sorted(first) == sorted(first_zip + second_zip)

    fake.inject("html", zip_code="85033")  # this time 85033's search fails
    result = _materialize(defs, DAY_1)
    assert result.success
    again = _stored(db, DAY_1)
    assert sorted(again) == sorted(first)  # merged into the day: nothing lost
    for apn in second_zip:  # the failed ZIP's records are the first run's, untouched
        assert again[apn] == first[apn]
    for apn in first_zip:  # the others were collected again and replaced
        assert again[apn]["_id"] == first[apn]["_id"]
        assert again[apn]["collected_at"] > first[apn]["collected_at"]
    assert _manifest_documents(db, DAY_1) == len(first)
    (failure,) = list(db["collection_failures"].find({"partition_key": DAY_1}))
    assert failure["zip_code"] == "85033"
    (materialization,) = result.asset_materializations_for_node("raw_maricopa_parcels")
    assert materialization.metadata["documents_replaced"].value == len(first_zip)


def test_a_range_run_stores_under_its_last_day_and_does_not_empty_the_earlier_days(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
) -> None:
    fake.add_zip("85018", 6)
    fake.add_zip("85033", 3)
    defs = load_definitions()
    assert _materialize(defs, DAY_1).success
    day_1 = _stored(db, DAY_1)
    added = fake.add_zip("85018", 2, start=6)
    day_3 = (dt.date.fromisoformat(DAY_2) + dt.timedelta(days=1)).isoformat()

    result = materialize_range(defs, DAY_1, day_3)
    assert result.success
    assert _stored(db, DAY_1) == day_1  # the range's first day keeps what it held
    assert _stored(db, DAY_2) == {}
    assert sorted(_stored(db, day_3)) == sorted(added)  # fresh parcels skipped
    assert [_manifest_documents(db, day) for day in (DAY_1, DAY_2, day_3)] == [
        len(day_1),
        0,
        len(added),
    ]


def test_a_skipped_run_deletes_nothing_already_stored(
    fake: FakeMaricopa,
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake.add_zip("85018", 4)
    assert _materialize(load_definitions(), DAY_1).success
    stored = _stored(db, DAY_1)
    monkeypatch.setenv("PHOENIX_SOURCES", "demo")
    assert _materialize(load_definitions(), DAY_1).success
    assert _stored(db, DAY_1) == stored and len(stored) == 4
