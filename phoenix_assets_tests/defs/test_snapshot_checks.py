"""The snapshot checks in real runs against the test MongoDB server.

One module-wide database holds two days the real `daily_pipeline` built from the demo
source (a single run over the range); each test builds a crafted partition next to them,
on a day of its own, with a stand-in `property_snapshots` that stores the documents it is
given and runs the asset's own checks on them (past days, as a run needs, at least a week
apart, so one test's partition never enters another's trailing-week row count).
"""

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pymongo import MongoClient
from pymongo.database import Database

import phoenix_assets
from phoenix_assets.defs.assets.market import daily_market_summary
from phoenix_assets.defs.assets.market_reports import daily_market_report
from phoenix_assets.defs.assets.property_events import property_events
from phoenix_assets.defs.checks.snapshot_checks import (
    DUPLICATES,
    INTEGRITY_SPECS,
    INVENTORY_KEPT,
    INVENTORY_STEADY,
    NULL_RATES,
    PROFILE_SPECS,
    QUARANTINE,
    RANGES,
    ROW_COUNT,
    SCHEMA,
    SNAPSHOT_CHECK_SPECS,
    ZIP_COVERAGE,
    SnapshotChecks,
)
from phoenix_assets.domain.adapters import property_from_reso
from phoenix_assets.domain.merge import merge_properties
from phoenix_assets.domain.property import Property
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.quality.inventory import ON_MARKET
from phoenix_assets.quality.settings import QualitySettings
from phoenix_assets.sources.demo import demo_listings
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_store import NATURAL_KEY, PARTITION_FIELD
from phoenix_assets.storage.quarantine import quarantine_entry
from phoenix_assets_tests.conftest import PIPELINE_VARIABLE_PREFIXES, TEST_URI_VARIABLE

ZIPS = ("85018", "85033", "85044")
DAYS = ["2026-11-17", "2026-11-18"]
ALL_CHECKS = {spec.name for spec in [*INTEGRITY_SPECS, *PROFILE_SPECS]}
BLOCKING = {spec.name for spec in INTEGRITY_SPECS}
Evaluations = dict[tuple[str, str], dg.AssetCheckEvaluation]
# Builds a stand-in's days: per partition key of the run, the records it stores.
Build = Callable[[dg.AssetExecutionContext], Mapping[str, Sequence[Any]]]


def _load() -> dg.Definitions:
    """The code location as the environment now says."""
    return dg.load_from_defs_folder(path_within_project=Path(phoenix_assets.__file__).parent)


def _with_checks(build: Build, quarantined: Sequence[dict[str, Any]] = ()) -> dg.AssetsDefinition:
    """A stand-in for `property_snapshots`, stored the same way, with the real asset's
    checks run the way the real asset runs them: on what ``build`` made, once stored."""

    @dg.asset(
        name="property_snapshots",
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="properties",
        metadata={NATURAL_KEY: ["property_id"], PARTITION_FIELD: "snapshot_date"},
        check_specs=SNAPSHOT_CHECK_SPECS,
    )
    def stand_in(
        context: dg.AssetExecutionContext,
        mongo: MongoResource,
        pipeline: PipelineConfig,
        snapshot_quality: dg.ResourceParam[QualitySettings],
    ) -> Iterator[dg.Output[Any] | dg.AssetCheckEvaluation]:
        built = build(context)
        yield dg.Output([record for day in built.values() for record in day])
        checks = SnapshotChecks(mongo.get_database(), snapshot_quality, pipeline.zip_code_list)
        for key, records in built.items():
            checks.judge(key, records)
        yield from checks.events(context, quarantined)

    return stand_in


def _range_tags(first: str, last: str) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }


def _evaluations(result: dg.ExecuteInProcessResult) -> Evaluations:
    found: Evaluations = {}
    for evaluation in result.get_asset_check_evaluations():
        key = (evaluation.check_name, str(evaluation.partition))
        assert key not in found, f"{key} evaluated twice"
        found[key] = evaluation
    return found


def _failed(evaluations: Evaluations) -> set[tuple[str, str]]:
    return {key for key, evaluation in evaluations.items() if not evaluation.passed}


def _metadata(evaluation: dg.AssetCheckEvaluation, name: str) -> Any:
    return evaluation.metadata[name].value


@pytest.fixture(scope="module")
def pipeline(
    mongo_client: MongoClient[dict], mongo_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Two demo days built in one range run of `daily_pipeline`, in a database of this module."""
    name = f"phoenix_test_{uuid.uuid4().hex[:10]}"
    home = tmp_path_factory.mktemp("dagster_home")
    with pytest.MonkeyPatch.context() as patch:
        for variable in list(os.environ):
            if variable.startswith(PIPELINE_VARIABLE_PREFIXES) and variable != TEST_URI_VARIABLE:
                patch.delenv(variable)
        patch.setenv("MONGODB_URI", mongo_uri)
        patch.setenv("MONGODB_DATABASE", name)
        patch.setenv("PHOENIX_ZIP_CODES", ",".join(ZIPS))
        patch.setenv("DAGSTER_HOME", str(home))
        defs = _load()
        result = defs.resolve_job_def("daily_pipeline").execute_in_process(
            tags=_range_tags(DAYS[0], DAYS[-1])
        )
        assert result.success
        yield {"defs": defs, "db": mongo_client[name], "result": result, "patch": patch}
    mongo_client.drop_database(name)


def _good_copy(db: Database[dict], day: str) -> list[dict[str, Any]]:
    """The pipeline's last day, re-dated to ``day``: a good partition to spoil."""
    documents = list(db["property_snapshots"].find({"partition_key": DAYS[-1]}))
    assert len(documents) > 300
    for document in documents:
        document.update(
            snapshot_date=day, partition_key=day, _id=f"{document['property_id']}:{day}"
        )
    return documents


def _check(
    defs: dg.Definitions,
    documents: Mapping[str, list[dict[str, Any]]],
    quarantined: Sequence[dict[str, Any]] = (),
) -> dg.ExecuteInProcessResult:
    """Store ``documents`` (day -> its documents) as the stand-in's partitions, in one run
    over their days with the code location's resources, and run the checks on them."""
    stand_in = _with_checks(
        lambda context: {k: documents[k] for k in context.partition_keys}, quarantined
    )
    job = dg.Definitions(
        assets=[stand_in],
        jobs=[dg.define_asset_job("crafted", selection=dg.AssetSelection.all())],
        resources=defs.resources,
    ).resolve_job_def("crafted")
    days = sorted(documents)
    if len(days) == 1:
        return job.execute_in_process(partition_key=days[0], raise_on_error=False)
    return job.execute_in_process(tags=_range_tags(days[0], days[-1]), raise_on_error=False)


def test_the_default_pipeline_passes_every_check_on_every_day_of_a_range_run(
    pipeline: dict[str, Any],
) -> None:
    evaluations = _evaluations(pipeline["result"])
    assert set(evaluations) == {(name, day) for name in ALL_CHECKS for day in DAYS}
    assert not _failed(evaluations), {k: e.description for k, e in evaluations.items()}
    for (name, _), evaluation in evaluations.items():
        assert evaluation.blocking is (name in BLOCKING)
        expected = dg.AssetCheckSeverity.ERROR if name in BLOCKING else dg.AssetCheckSeverity.WARN
        assert evaluation.severity == expected
        assert evaluation.target_materialization_data is not None
        assert evaluation.description
    # Each day is judged on its own figures: the second day's trailing week is the first.
    db = pipeline["db"]
    for day in DAYS:
        stored = db["property_snapshots"].count_documents({"partition_key": day})
        assert _metadata(evaluations[(SCHEMA, day)], "documents") == stored
        assert _metadata(evaluations[(ZIP_COVERAGE, day)], "missing_zips") == []
    assert _metadata(evaluations[(ROW_COUNT, DAYS[0])], "history_days") == 0
    assert _metadata(evaluations[(ROW_COUNT, DAYS[1])], "history") == {
        DAYS[0]: db["property_snapshots"].count_documents({"partition_key": DAYS[0]})
    }


def test_the_daily_pipeline_job_runs_the_checks_before_the_downstream_assets(
    pipeline: dict[str, Any],
) -> None:
    job = pipeline["defs"].resolve_job_def("daily_pipeline")
    check_keys = {key.name for key in job.asset_layer.asset_graph.asset_check_keys}
    assert check_keys >= ALL_CHECKS
    # The checks are the asset's own: evaluated in its step, after its partitions are
    # stored and before any step downstream of it starts.
    snapshots = job.asset_layer.asset_graph.get(dg.AssetKey("property_snapshots")).assets_def
    assert {key.name for key in snapshots.check_keys} == ALL_CHECKS
    events = [(event.event_type_value, event.step_key) for event in pipeline["result"].all_events]
    evaluated = [n for n, (kind, _) in enumerate(events) if kind == "ASSET_CHECK_EVALUATION"]
    assert {events[n][1] for n in evaluated} == {"property_snapshots"}
    stored = max(
        n
        for n, (kind, step) in enumerate(events)
        if kind == "ASSET_MATERIALIZATION" and step == "property_snapshots"
    )
    assert stored < min(evaluated)
    for downstream in ("property_events", "daily_market_summary"):
        assert max(evaluated) < events.index(("STEP_START", downstream))


def test_documents_violating_the_schema_fail_the_blocking_check(
    pipeline: dict[str, Any],
) -> None:
    day, db = "2026-09-10", pipeline["db"]
    documents = _good_copy(db, day)
    documents[0]["list_price"] = -1  # must be positive
    documents[1]["postal_code"] = "ABCDE"  # not a ZIP
    documents[2]["snapshot_date"] = DAYS[0]  # filed under the wrong day
    result = _check(pipeline["defs"], {day: documents})
    assert not result.success  # a blocking failure fails its step
    evaluations = _evaluations(result)
    assert _failed(evaluations) == {(SCHEMA, day)}
    schema = evaluations[(SCHEMA, day)]
    assert _metadata(schema, "invalid_documents") == 3
    assert _metadata(schema, "invalid_by_field") == {
        "list_price": 1,
        "postal_code": 1,
        "snapshot_date": 1,
    }
    assert {e["_id"] for e in _metadata(schema, "examples")} == {d["_id"] for d in documents[:3]}
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "property_snapshots"
    # The day is stored (and judged); what is downstream of it does not run.
    assert db["property_snapshots"].count_documents({"partition_key": day}) == len(documents)


def test_two_properties_claiming_one_parcel_fail_the_blocking_check(
    pipeline: dict[str, Any],
) -> None:
    day, db = "2026-09-20", pipeline["db"]
    documents = _good_copy(db, day)
    apn = documents[0]["parcel_number"]
    documents[1]["parcel_number"] = apn
    result = _check(pipeline["defs"], {day: documents})
    assert not result.success
    evaluations = _evaluations(result)
    assert _failed(evaluations) == {(DUPLICATES, day)}
    duplicates = evaluations[(DUPLICATES, day)]
    assert _metadata(duplicates, "parcels_claimed_by_several_properties") == 1
    assert _metadata(duplicates, "examples")["parcels"] == {
        apn: sorted([documents[0]["property_id"], documents[1]["property_id"]])
    }


def test_null_prices_warn_without_blocking_unless_the_threshold_allows_them(
    pipeline: dict[str, Any],
) -> None:
    day, db = "2026-09-30", pipeline["db"]
    documents = _good_copy(db, day)
    listed = [d for d in documents if d.get("standard_status")]
    for document in listed[: len(listed) // 10]:
        document["list_price"] = None
    result = _check(pipeline["defs"], {day: documents})
    assert result.success  # a warning never fails the run
    evaluations = _evaluations(result)
    assert _failed(evaluations) == {(NULL_RATES, day)}
    nulls = evaluations[(NULL_RATES, day)]
    assert nulls.severity == dg.AssetCheckSeverity.WARN
    price = _metadata(nulls, "fields")["list_price"]
    assert (price["nulls"], price["of"]) == (len(listed) // 10, len(listed))
    assert price["max_rate"] == 0.02

    # The same partition judged with a threshold set in the environment, read at load.
    pipeline["patch"].setenv("PHOENIX_QUALITY_MAX_NULL_LIST_PRICE", "0.5")
    try:
        relaxed = _evaluations(_check(_load(), {day: documents}))
    finally:
        pipeline["patch"].delenv("PHOENIX_QUALITY_MAX_NULL_LIST_PRICE")
    assert relaxed[(NULL_RATES, day)].passed
    assert _metadata(relaxed[(NULL_RATES, day)], "fields")["list_price"]["max_rate"] == 0.5


def test_coordinates_outside_the_county_warn(pipeline: dict[str, Any]) -> None:
    day, db = "2026-10-10", pipeline["db"]
    documents = _good_copy(db, day)
    moved = documents[:: len(documents) // 20][:20]  # about 3%, over the 1% default
    for document in moved:
        document.update(latitude=40.7128, longitude=-74.006)  # valid, but New York
    evaluations = _evaluations(_check(pipeline["defs"], {day: documents}))
    assert _failed(evaluations) == {(RANGES, day)}
    coordinates = _metadata(evaluations[(RANGES, day)], "fields")["coordinates"]
    assert coordinates["out_of_range"] == len(moved)
    shown = {example["property_id"] for example in coordinates["examples"]}
    assert len(shown) == 5 and shown <= {d["property_id"] for d in moved}


def test_a_target_zip_with_no_property_warns(pipeline: dict[str, Any]) -> None:
    day, db = "2026-08-15", pipeline["db"]
    documents = [d for d in _good_copy(db, day) if d["postal_code"] != "85044"]
    evaluations = _evaluations(_check(pipeline["defs"], {day: documents}))
    assert _failed(evaluations) == {(ZIP_COVERAGE, day)}
    coverage = evaluations[(ZIP_COVERAGE, day)]
    assert _metadata(coverage, "missing_zips") == ["85044"]
    assert _metadata(coverage, "rows_by_zip")["85044"] == 0


def test_a_row_count_collapse_warns_on_its_own_day_of_a_range(pipeline: dict[str, Any]) -> None:
    days = ["2026-08-25", "2026-08-26", "2026-08-27", "2026-08-28"]
    db = pipeline["db"]
    crafted = {day: _good_copy(db, day) for day in days[:-1]}
    full = _good_copy(db, days[-1])
    kept = full[::3]  # every ZIP keeps a third
    result = _check(pipeline["defs"], {**crafted, days[-1]: kept})
    evaluations = _evaluations(result)
    # Every day of the range is evaluated by every check; only the collapse fails: the
    # row count warns, and the on-market inventory lost with the rows blocks.
    assert set(evaluations) == {(name, day) for name in ALL_CHECKS for day in days}
    assert _failed(evaluations) == {
        (ROW_COUNT, days[-1]),
        (INVENTORY_KEPT, days[-1]),
        (INVENTORY_STEADY, days[-1]),
    }
    assert not result.success
    first, collapse = evaluations[(ROW_COUNT, days[0])], evaluations[(ROW_COUNT, days[-1])]
    assert _metadata(first, "history_days") == 0
    assert "no stored partition" in str(first.description)
    assert _metadata(collapse, "history") == dict.fromkeys(days[:-1], len(full))
    assert _metadata(collapse, "deviation") == pytest.approx(len(kept) / len(full) - 1, abs=1e-6)


def test_heavy_quarantine_warns_on_its_own_day(pipeline: dict[str, Any]) -> None:
    day_before, day, db = "2026-08-01", "2026-08-02", pipeline["db"]
    documents = _good_copy(db, day)
    # A light quarantine the day before (1 record): under the threshold.
    light = quarantine_entry(
        asset="property_snapshots",
        partition_key=day_before,
        source="mls",
        source_id="ODD-1",
        rule="invalid_field",
        detail="postal_code: String should match pattern",
        payload={},
    )
    entries = [
        quarantine_entry(
            asset="property_snapshots",
            partition_key=day,
            source="mls",
            source_id=f"BAD-{n}",
            rule="invalid_field",
            detail="list_price: Input should be greater than 0",
            payload={"ListPrice": -1},
        )
        for n in range(len(documents) // 10)
    ]
    crafted = {day_before: _good_copy(db, day_before), day: documents}
    evaluations = _evaluations(_check(pipeline["defs"], crafted, [light, *entries]))
    assert _failed(evaluations) == {(QUARANTINE, day)}
    assert _metadata(evaluations[(QUARANTINE, day_before)], "quarantined") == 1
    share = evaluations[(QUARANTINE, day)]
    assert _metadata(share, "quarantined") == len(entries)
    expected = len(entries) / (len(entries) + len(documents))
    assert _metadata(share, "share") == pytest.approx(expected, abs=1e-6)
    assert _metadata(share, "by_rule") == {"invalid_field": len(entries)}


def _substitute_snapshots(corrupt: bool, collapse: Collection[str] = ()) -> dg.AssetsDefinition:
    """A stand-in for `property_snapshots`, stored the same way and checked by the real
    asset's checks, built from the demo feed; when ``corrupt``, two of its properties
    claim one parcel (a merge failure); on a day in ``collapse`` (read when the asset
    runs), seven in ten of its on-market listings are gone, as an incremental source's
    are when built without the day before."""

    def build(context: dg.AssetExecutionContext) -> dict[str, list[Property]]:
        built: dict[str, list[Property]] = {}
        for key in context.partition_keys:
            day = dt.date.fromisoformat(key)
            records = [
                property_from_reso(listing, source="demo", day=day)
                for zip_code in ZIPS
                for listing in demo_listings(zip_code, day)
            ]
            merged = merge_properties(records)
            if corrupt:
                merged[1] = merged[1].model_copy(update={"parcel_number": merged[0].parcel_number})
            if key in collapse:
                merged = [
                    p
                    for n, p in enumerate(merged)
                    if p.standard_status not in ON_MARKET or n % 10 < 3
                ]
            built[key] = merged
        return built

    return _with_checks(build)


@pytest.mark.parametrize("corrupt", [True, False], ids=["merge_failure", "clean"])
def test_a_blocking_failure_stops_the_downstream_assets(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    db: Database[dict],
    corrupt: bool,
) -> None:
    assets = [_substitute_snapshots(corrupt), property_events, daily_market_summary]
    defs = dg.Definitions(
        assets=assets,
        jobs=[dg.define_asset_job("substituted", selection=dg.AssetSelection.all())],
        resources=load_definitions().resources,
    )
    result = defs.resolve_job_def("substituted").execute_in_process(
        tags=_range_tags(*DAYS), raise_on_error=False
    )
    materialized = {
        (event.asset_key.to_user_string(), event.partition)
        for event in result.get_asset_materialization_events()
        if event.asset_key is not None
    }
    evaluations = _evaluations(result)
    assert {(SCHEMA, day) for day in DAYS} <= set(evaluations)
    assert db["property_snapshots"].count_documents({}) > 0
    if corrupt:
        assert not result.success
        assert _failed(evaluations) == {(DUPLICATES, day) for day in DAYS}
        assert materialized == {("property_snapshots", day) for day in DAYS}
        assert db["property_events"].count_documents({}) == 0
        assert db["daily_market_summary"].count_documents({}) == 0
    else:
        assert result.success
        assert not _failed(evaluations)
        assert {asset for asset, _ in materialized} == {
            "property_snapshots",
            "property_events",
            "daily_market_summary",
        }
        assert db["daily_market_summary"].count_documents({}) == len(DAYS) * (len(ZIPS) + 1)


def test_a_bad_threshold_fails_the_load_naming_its_variable(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOENIX_QUALITY_ROW_COUNT_TOLERANCE", "a lot")
    with pytest.raises(Exception) as raised:
        load_definitions()
    chain: list[BaseException] = []
    error: BaseException | None = raised.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(
        "PHOENIX_QUALITY_ROW_COUNT_TOLERANCE: 'a lot' is not a number" in str(e) for e in chain
    )


def _materialized(result: dg.ExecuteInProcessResult) -> set[tuple[str, str | None]]:
    return {
        (event.asset_key.to_user_string(), event.partition)
        for event in result.get_asset_materialization_events()
        if event.asset_key is not None
    }


def _on_market_stored(db: Database[dict], day: str) -> int:
    return db["property_snapshots"].count_documents(
        {"partition_key": day, "standard_status": {"$in": sorted(ON_MARKET)}}
    )


def _substituted_pipeline(
    load_definitions: Callable[[], dg.Definitions], collapse: Collection[str]
) -> dg.JobDefinition:
    """The daily graph from the snapshots to the report, on the stand-in snapshots."""
    assets = [
        _substitute_snapshots(False, collapse),
        property_events,
        daily_market_summary,
        daily_market_report,
    ]
    defs = dg.Definitions(
        assets=assets,
        jobs=[dg.define_asset_job("substituted", selection=dg.AssetSelection.all())],
        resources=load_definitions().resources,
    )
    return defs.resolve_job_def("substituted")


@pytest.mark.parametrize("run", ["range", "day_after_day"])
def test_an_on_market_collapse_blocks_the_day_and_everything_after_the_snapshots(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    db: Database[dict],
    tmp_path: Path,
    run: str,
) -> None:
    """Day 2 stored with seven in ten on-market listings gone: the blocking check fails on
    it, with the figures behind the verdict, and neither its events, its summary nor its
    report are made. In one range run the day before is the range's own first day; day
    after day, it is read from the database."""
    first, second = DAYS
    job = _substituted_pipeline(load_definitions, collapse={second})
    if run == "range":
        result = job.execute_in_process(tags=_range_tags(first, second), raise_on_error=False)
        downstream_days = {first, second}  # a range's blocking failure stops the range
    else:
        assert job.execute_in_process(partition_key=first).success
        result = job.execute_in_process(partition_key=second, raise_on_error=False)
        downstream_days = {second}
    assert not result.success
    evaluations = _evaluations(result)
    failed = _failed(evaluations)
    assert {(INVENTORY_KEPT, second), (INVENTORY_STEADY, second)} <= failed
    assert failed <= {(INVENTORY_KEPT, second), (INVENTORY_STEADY, second), (ROW_COUNT, second)}

    kept = evaluations[(INVENTORY_KEPT, second)]
    assert kept.blocking and kept.severity == dg.AssetCheckSeverity.ERROR
    today, before = _on_market_stored(db, second), _on_market_stored(db, first)
    assert today < before * 0.4
    assert _metadata(kept, "on_market_today") == today
    assert _metadata(kept, "on_market_day_before") == before
    assert _metadata(kept, "day_before") == first
    assert _metadata(kept, "change_pct") == pytest.approx((today - before) / before * 100, abs=0.01)
    losers = _metadata(kept, "biggest_losers")
    assert set(losers) == set(ZIPS)
    assert sum(zip_figures["change"] for zip_figures in losers.values()) == today - before
    assert "on-market listings fell" in str(kept.description)
    steady = evaluations[(INVENTORY_STEADY, second)]
    assert steady.severity == dg.AssetCheckSeverity.WARN
    if run == "range":  # the range's first day has no day before to compare with
        assert evaluations[(INVENTORY_KEPT, first)].passed
        assert "no stored snapshot" in str(evaluations[(INVENTORY_KEPT, first)].description)

    materialized = _materialized(result)
    assert ("property_snapshots", second) in materialized
    assert {asset for asset, _ in materialized} == {"property_snapshots"}
    reports = tmp_path / "dagster_home" / "reports" / "daily"
    for day in downstream_days:
        for collection in ("property_events", "daily_market_summary", "daily_market_report"):
            assert db[collection].count_documents({"partition_key": day}) == 0, collection
        assert not (reports / f"phoenix-market-{day}.html").exists()
    if run == "day_after_day":  # the day before went through, report and all
        assert db["daily_market_summary"].count_documents({"partition_key": first}) > 0
        assert (reports / f"phoenix-market-{first}.html").exists()


def test_a_report_made_after_an_on_market_collapse_shows_the_failed_check(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    db: Database[dict],
    tmp_path: Path,
) -> None:
    """Day 2 built well, then rebuilt with its on-market listings collapsed: the check
    blocks the new figures (the day's summary stays the earlier one), and a report of the
    day made afterwards says the check failed, and why."""
    first, second = DAYS
    collapse: set[str] = set()
    job = _substituted_pipeline(load_definitions, collapse)
    with dg.instance_for_test(set_dagster_home=False) as instance:
        assert job.execute_in_process(instance=instance, tags=_range_tags(first, second)).success
        collapse.add(second)
        rebuilt = job.execute_in_process(
            instance=instance, partition_key=second, raise_on_error=False
        )
        assert not rebuilt.success
        assert {asset for asset, _ in _materialized(rebuilt)} == {"property_snapshots"}
        report = job.execute_in_process(
            instance=instance,
            partition_key=second,
            asset_selection=[dg.AssetKey("daily_market_report")],
        )
        assert report.success
    reports = tmp_path / "dagster_home" / "reports" / "daily"
    quality = json.loads((reports / f"phoenix-market-{second}.json").read_text())["quality"]
    failed = [c for c in quality["checks_not_passed"] if c["check"] == INVENTORY_KEPT]
    assert [(c["outcome"], c["day"]) for c in failed] == [("failed", second)]
    assert failed[0]["summary"].startswith("on-market listings fell")
    assert quality["verdict"].startswith("Read with care") and "failed" in quality["verdict"]
    html = (reports / f"phoenix-market-{second}.html").read_text()
    assert f"<strong>{INVENTORY_KEPT}</strong> failed on {second}: on-market listings fell" in html
