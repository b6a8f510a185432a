"""The real pipeline on demo data, run once per test session for the report tests.

Three ZIP codes, 17 days (the last three days of one week and the two whole weeks after
it) in one single-run backfill of ``daily_pipeline`` (which writes a daily report per
day), then ``weekly_trends`` over the three weeks (a weekly report per week), all in one
Dagster instance, so the reports read the checks' results as a deployment would.

On the way, real data-quality events: a list-price ceiling low enough that
``values_plausible`` warns, an invalid record quarantined on one day, a ZIP recorded as
failed on another. The environment is set only while the runs execute; afterwards the
tests read files, MongoDB and the run results.

``independent_day`` recomputes a day's figures from the stored snapshots with plain
Python (``statistics.median``), another way than the pipeline does (pandas).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from pymongo import MongoClient
from pymongo.database import Database

import phoenix_assets
from phoenix_assets.sources.collection import ZipFailure
from phoenix_assets.storage.collection_failures import replace_collection_failures
from phoenix_assets_tests.conftest import PIPELINE_VARIABLE_PREFIXES, TEST_URI_VARIABLE

ZIPS = ("85018", "85033", "85044")
PARTIAL_WEEK = "2026-10-26"  # only its last three days are built
PREVIOUS_WEEK = "2026-11-02"
WEEK = "2026-11-09"
WEEKS = [PARTIAL_WEEK, PREVIOUS_WEEK, WEEK]
FIRST_DAY = "2026-10-30"
LAST_DAY = "2026-11-15"
QUARANTINE_DAY = "2026-11-12"
FAILED_ZIP_DAY = "2026-11-13"
FAILED_ZIP = ZipFailure(zip_code="85044", kind="http_error", reason="HTTP 503 from the feed")
# Arcadia's homes list around $1M: with this ceiling `values_plausible` warns every day.
MAX_LIST_PRICE = "900000"
PHOENIX = ZoneInfo("America/Phoenix")


def days_between(first: str, last: str) -> list[str]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


DAYS = days_between(FIRST_DAY, LAST_DAY)


@dataclass(frozen=True)
class ReportsRun:
    """What the session's pipeline run left: its database, files, instance and results."""

    db: Database[dict[str, Any]]
    reports_dir: Path
    instance: dg.DagsterInstance
    daily: dg.ExecuteInProcessResult  # the 17-day range
    quarantine_rerun: dg.ExecuteInProcessResult
    failure_rerun: dg.ExecuteInProcessResult
    weekly: dg.ExecuteInProcessResult  # the three weeks


def _range_tags(first: str, last: str) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }


def _quarantine_a_record(db: Database[dict[str, Any]], day: str) -> None:
    """An invalid listing (negative price) among the day's raw records."""
    good = db["raw_demo_listings"].find_one({"partition_key": day})
    assert good is not None
    payload = {**good["payload"], "ListingKey": "BAD-1", "ParcelNumber": "000-00-001"}
    payload["ListPrice"] = -1
    db["raw_demo_listings"].insert_one(
        {**good, "_id": f"demo:BAD-1:{day}", "source_id": "BAD-1", "payload": payload}
    )


@contextmanager
def report_pipeline(
    mongo_client: MongoClient[dict[str, Any]], mongo_uri: str, workdir: Path
) -> Iterator[ReportsRun]:
    """Run the pipeline as described above; drop its database afterwards."""
    name = f"phoenix_test_{uuid.uuid4().hex[:10]}"
    (workdir / "instance").mkdir()
    with dg.instance_for_test(temp_dir=str(workdir / "instance")) as instance:
        try:
            with pytest.MonkeyPatch.context() as patch:
                for variable in list(os.environ):
                    if (
                        variable.startswith(PIPELINE_VARIABLE_PREFIXES)
                        and variable != TEST_URI_VARIABLE
                    ):
                        patch.delenv(variable)
                patch.setenv("MONGODB_URI", mongo_uri)
                patch.setenv("MONGODB_DATABASE", name)
                patch.setenv("PHOENIX_ZIP_CODES", ",".join(ZIPS))
                patch.setenv("PHOENIX_REPORTS_DIR", str(workdir / "reports"))
                patch.setenv("PHOENIX_QUALITY_MAX_LIST_PRICE", MAX_LIST_PRICE)
                patch.setenv("DAGSTER_HOME", str(workdir / "instance"))
                defs = dg.load_from_defs_folder(
                    path_within_project=Path(phoenix_assets.__file__).parent
                )
                db = mongo_client[name]
                daily_job = defs.resolve_job_def("daily_pipeline")
                daily = daily_job.execute_in_process(
                    instance=instance, tags=_range_tags(FIRST_DAY, LAST_DAY)
                )
                assert daily.success

                _quarantine_a_record(db, QUARANTINE_DAY)
                quarantine_rerun = daily_job.execute_in_process(
                    instance=instance,
                    partition_key=QUARANTINE_DAY,
                    asset_selection=[
                        dg.AssetKey("property_snapshots"),
                        dg.AssetKey("daily_market_summary"),
                        dg.AssetKey("daily_market_report"),
                    ],
                )
                assert quarantine_rerun.success

                replace_collection_failures(db, "mls", FAILED_ZIP_DAY, [FAILED_ZIP])
                failure_rerun = daily_job.execute_in_process(
                    instance=instance,
                    partition_key=FAILED_ZIP_DAY,
                    asset_selection=[dg.AssetKey("daily_market_report")],
                )
                assert failure_rerun.success

                weekly = defs.resolve_job_def("weekly_trends").execute_in_process(
                    instance=instance, tags=_range_tags(WEEKS[0], WEEKS[-1])
                )
                assert weekly.success
            yield ReportsRun(
                db=db,
                reports_dir=workdir / "reports",
                instance=instance,
                daily=daily,
                quarantine_rerun=quarantine_rerun,
                failure_rerun=failure_rerun,
                weekly=weekly,
            )
        finally:
            mongo_client.drop_database(name)


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _phoenix_day(stamp: Any) -> str | None:
    if stamp is None:
        return None
    when = stamp if isinstance(stamp, dt.datetime) else dt.datetime.fromisoformat(str(stamp))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(PHOENIX).date().isoformat()


_FIELDS = {
    name: 1
    for name in (
        "postal_code",
        "standard_status",
        "list_price",
        "previous_list_price",
        "price_change_timestamp",
        "living_area",
        "days_on_market",
        "listing_contract_date",
        "close_date",
    )
}
_computed: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}


def independent_day(db: Database[dict[str, Any]], day: str) -> dict[str, dict[str, Any]]:
    """The day's figures per area (ZIP and ``metro``), from the snapshot documents
    (computed once per database and day: the stored snapshots do not change)."""
    key = (db.name, day)
    if key not in _computed:
        _computed[key] = _independent_day(db, day)
    return _computed[key]


def _independent_day(db: Database[dict[str, Any]], day: str) -> dict[str, dict[str, Any]]:
    homes = list(db["property_snapshots"].find({"partition_key": day}, _FIELDS))
    areas: dict[str, list[dict[str, Any]]] = {"metro": homes}
    for home in homes:
        areas.setdefault(home["postal_code"], []).append(home)
    figures = {}
    for area, group in areas.items():
        active = [h for h in group if h["standard_status"] == "Active"]
        priced = [h for h in active if h.get("list_price") is not None]
        per_sqft = [h["list_price"] / h["living_area"] for h in priced if h.get("living_area")]
        cuts = sum(
            1
            for h in group
            if _phoenix_day(h.get("price_change_timestamp")) == day
            and h.get("previous_list_price") is not None
            and h["list_price"] < h["previous_list_price"]
        )
        figures[area] = {
            "active_listings": len(active),
            "new_listings": sum(1 for h in group if h.get("listing_contract_date") == day),
            "pending_listings": sum(
                1 for h in group if h["standard_status"] in ("Pending", "ActiveUnderContract")
            ),
            "closed_sales": sum(
                1 for h in group if h.get("close_date") == day and h["standard_status"] == "Closed"
            ),
            "median_list_price": _median([h["list_price"] for h in priced]),
            "median_price_per_sqft": _median(per_sqft),
            "median_days_on_market": _median(
                [h["days_on_market"] for h in active if h.get("days_on_market") is not None]
            ),
            "price_cuts": cuts,
        }
    return figures


LEVELS = (
    "active_listings",
    "pending_listings",
    "median_list_price",
    "median_price_per_sqft",
    "median_days_on_market",
)
FLOWS = ("new_listings", "closed_sales", "price_cuts")


def independent_days(
    db: Database[dict[str, Any]], days: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Per area, the figures of each of ``days`` that has snapshots."""
    by_area: dict[str, list[dict[str, Any]]] = {}
    for day in days:
        figures_by_area = independent_day(db, day)
        if not figures_by_area["metro"]["active_listings"]:
            continue  # a day that was not built
        for area, figures in figures_by_area.items():
            by_area.setdefault(area, []).append(figures)
    return by_area


def week_figures(daily: list[dict[str, Any]]) -> dict[str, float]:
    """A week from its days: levels averaged, flows summed."""
    return {
        **{name: statistics.fmean(d[name] for d in daily) for name in LEVELS},
        **{name: sum(d[name] for d in daily) for name in FLOWS},
    }


def average_week(daily: list[dict[str, Any]]) -> dict[str, float]:
    """The average week of several weeks' days: levels averaged over all the days,
    flows per seven days."""
    return {
        **{name: statistics.fmean(d[name] for d in daily) for name in LEVELS},
        **{name: sum(d[name] for d in daily) / len(daily) * 7 for name in FLOWS},
    }
