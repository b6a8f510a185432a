"""The trust box's day-before fact: which days were built without the day before's
snapshot, read from ``partition_manifest`` in the test MongoDB, and how the report's
JSON and HTML say it."""

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

import pandas as pd
from pymongo.database import Database

from phoenix_assets.domain.market import DAILY_METRICS, week_days
from phoenix_assets.partitions import START_DATE
from phoenix_assets.reports.assemble import daily_report_data, weekly_report_data
from phoenix_assets.reports.build import build_and_write
from phoenix_assets.reports.quality import (
    quality_facts,
    quality_metadata,
    read_day_before_gaps,
    read_stored_facts,
)
from phoenix_assets.reports.render import render_html
from phoenix_assets.storage.partition_store import MANIFEST_COLLECTION, replace_partitions
from phoenix_assets.storage.version_log import record_log_read, to_micros

DAY, BEFORE = "2026-11-04", "2026-11-03"
STALE = (
    f"{DAY} was built without {BEFORE}'s snapshot: MLS listings may be missing until it is rebuilt."
)


def _store(db: Database[dict], days: list[str], sources: tuple[str, ...] = ("mls",)) -> None:
    """Snapshots of ``days`` written in one go (one manifest time), two properties a day."""
    documents = [
        {"_id": f"p{n}:{day}", "partition_key": day, "property_id": f"p{n}", "sources": [source]}
        for day in days
        for n, source in enumerate([*sources, *sources][:2])
    ]
    replace_partitions(db, "property_snapshots", days, documents)


def _written_at(db: Database[dict], day: str, when: dt.datetime) -> None:
    """Set when a day's snapshot was written, as a run at that time would have."""
    db[MANIFEST_COLLECTION].update_one(
        {"_id": f"property_snapshots:{day}"}, {"$set": {"written_at": when}}
    )


def _summary_rows(day: str) -> pd.DataFrame:
    rows = []
    for area in ("metro", "85018"):
        figures: dict[str, Any] = dict.fromkeys(DAILY_METRICS, 0)
        figures |= {"active_listings": 40, "median_list_price": 500_000.0}
        rows.append(
            {"partition_key": day, "area": area, "area_type": "metro" if area == "metro" else "zip"}
            | figures
        )
    return pd.DataFrame(rows)


def test_a_day_built_without_the_day_before_says_so_in_json_and_html(
    db: Database[dict], tmp_path: Path
) -> None:
    _store(db, [DAY])
    stored = read_stored_facts(db, [DAY])
    (gap,) = stored.day_before_gaps
    # Written with no record of reading the MLS version log (as before the log existed,
    # when MLS listings were carried forward from the day before): they may be missing.
    assert (gap.day, gap.day_before, gap.reason, gap.incremental, gap.stale) == (
        DAY,
        BEFORE,
        "missing",
        True,
        True,
    )
    assert gap.day_before_written_at is None and gap.written_at.startswith("20")
    assert gap.sentence() == STALE
    facts = quality_facts(stored, [], [DAY])
    assert not facts.trustworthy
    assert facts.verdict() == f"Read with care: {DAY} built without {BEFORE}'s snapshot."
    assert quality_metadata(facts)["days_built_without_day_before"] == 1

    _, files = build_and_write(daily_report_data(_summary_rows(DAY), DAY, facts), tmp_path)
    quality = json.loads(files.json.read_text())["quality"]
    assert quality["built_without_day_before"] == [
        {
            "day": DAY,
            "day_before": BEFORE,
            "reason": "missing",
            "incremental": True,
            "stale": True,
            "written_at": gap.written_at,
            "day_before_written_at": None,
            "sentence": STALE,
        }
    ]
    assert quality["verdict"] == facts.verdict()
    page = html.unescape(files.html.read_text())
    assert (
        f'<li class="day-before stale" id="day-before-{DAY}"><strong>{STALE}</strong></li>' in page
    )
    assert 'class="quality warn"' in page


def test_the_day_before_written_after_the_day_leaves_the_day_stale_until_rebuilt(
    db: Database[dict],
) -> None:
    _store(db, [DAY])
    _store(db, [BEFORE])  # the missing day, backfilled after the day it feeds
    _written_at(db, DAY, dt.datetime(2026, 11, 5, 10, 1, tzinfo=dt.UTC))
    _written_at(db, BEFORE, dt.datetime(2026, 11, 6, 10, 2, 30, tzinfo=dt.UTC))
    (gap,) = read_day_before_gaps(db, [DAY])
    assert (gap.reason, gap.incremental, gap.stale) == ("written_after", True, True)
    assert gap.day_before_written_at is not None
    assert dt.datetime.fromisoformat(gap.day_before_written_at) == dt.datetime(
        2026, 11, 6, 10, 2, 30, tzinfo=dt.UTC
    )
    assert gap.sentence() == (
        f"{DAY} was built before {BEFORE}'s snapshot was written (2026-11-06 10:02 UTC): "
        "MLS listings may be missing until it is rebuilt."
    )
    # Rebuilt after its day before: nothing to say any more.
    _written_at(db, DAY, dt.datetime(2026, 11, 6, 10, 5, tzinfo=dt.UTC))
    assert read_day_before_gaps(db, [DAY]) == []
    _store(db, [DAY])  # as a real rebuild does: written now
    assert read_day_before_gaps(db, [DAY]) == []


def test_days_written_together_are_no_gap_but_the_first_of_them_is(db: Database[dict]) -> None:
    days = ["2026-11-02", BEFORE, DAY]
    _store(db, days)  # one range run: one time for all three
    gaps = read_day_before_gaps(db, days)
    assert [(g.day, g.day_before, g.reason) for g in gaps] == [
        ("2026-11-02", "2026-11-01", "missing")
    ]


def test_a_day_not_stored_and_the_first_day_there_is_are_not_judged(db: Database[dict]) -> None:
    assert read_day_before_gaps(db, [DAY]) == []  # not stored: a missing day, said elsewhere
    _store(db, [START_DATE])
    assert read_day_before_gaps(db, [START_DATE]) == []


def test_without_an_incremental_source_the_fact_is_a_note_not_a_warning(
    db: Database[dict],
) -> None:
    _store(db, [DAY], sources=("demo", "maricopa"))
    stored = read_stored_facts(db, [DAY])
    (gap,) = stored.day_before_gaps
    assert not gap.incremental and not gap.stale
    assert gap.sentence() == (
        f"{DAY} was built without {BEFORE}'s snapshot; its sources report their whole "
        "state every day, so its figures do not depend on the day before."
    )
    facts = quality_facts(stored, [], [DAY])
    assert facts.trustworthy and facts.verdict() == "No data-quality problems."
    assert quality_metadata(facts)["days_built_without_day_before"] == 0
    page = html.unescape(render_html(daily_report_data(_summary_rows(DAY), DAY, facts), []))
    assert f'<li class="day-before" id="day-before-{DAY}">{gap.sentence()}</li>' in page
    assert 'class="quality ok"' in page

    # Once the MLS has collected anything, its listings depend on the day before, even
    # on a day none of them reached the snapshot.
    db["raw_mls_listings"].insert_one({"_id": "mls:L1:1", "partition_key": BEFORE})
    (gap,) = read_day_before_gaps(db, [DAY])
    assert gap.incremental and gap.stale and gap.sentence() == STALE


def test_a_day_that_read_the_whole_mls_log_misses_nothing_unless_versions_came_later(
    db: Database[dict],
) -> None:
    """A snapshot's build records when it read the MLS version log: built without the day
    before it took the log's state, complete unless a version made by the day's end
    reached the log after that read."""
    run_id = "run-of-the-day"
    read_at = dt.datetime(2026, 11, 5, 10, 0, tzinfo=dt.UTC)
    documents = [
        {"_id": f"p{n}:{DAY}", "partition_key": DAY, "property_id": f"p{n}", "sources": ["mls"]}
        for n in range(2)
    ]
    replace_partitions(db, "property_snapshots", [DAY], documents, run_id=run_id)
    record_log_read(db, "property_snapshots", [DAY], run_id, read_at)
    made = dt.datetime(2026, 11, 4, 18, 0, tzinfo=dt.UTC)  # during the day, in Phoenix
    log = db["raw_mls_listings"]
    log.insert_one(
        {
            "_id": "mls:L1:a",
            "partition_key": DAY,
            "modified_at": made,
            "modified_us": to_micros(made),
            "stored_at": read_at - dt.timedelta(seconds=1),
            "stored_us": to_micros(read_at - dt.timedelta(seconds=1)),  # stored before the read
        }
    )
    # A version made after the day ended, stored later: not the day's business.
    later = dt.datetime(2026, 11, 5, 9, 0, tzinfo=dt.UTC)
    log.insert_one(
        {
            "_id": "mls:L2:b",
            "partition_key": "2026-11-05",
            "modified_at": later,
            "modified_us": to_micros(later),
            "stored_at": read_at + dt.timedelta(hours=1),
            "stored_us": to_micros(read_at + dt.timedelta(hours=1)),
        }
    )
    stored = read_stored_facts(db, [DAY])
    (gap,) = stored.day_before_gaps
    assert (gap.reason, gap.incremental, gap.stale) == ("missing", True, False)
    assert gap.sentence() == (
        f"{DAY} was built without {BEFORE}'s snapshot; its MLS listings were read from the "
        "MLS version log, so none is missing."
    )
    assert quality_facts(stored, [], [DAY]).trustworthy

    # A version of the day that reached the log after the snapshot read it: stale.
    log.insert_one(
        {
            "_id": "mls:L3:c",
            "partition_key": DAY,
            "modified_at": made,
            "modified_us": to_micros(made),
            "stored_at": read_at + dt.timedelta(hours=2),
            "stored_us": to_micros(read_at + dt.timedelta(hours=2)),
        }
    )
    (gap,) = read_day_before_gaps(db, [DAY])
    assert gap.stale and gap.sentence() == STALE


def test_a_week_names_each_day_built_without_its_day_before(db: Database[dict]) -> None:
    week = "2026-11-09"
    days = week_days(dt.date.fromisoformat(week))  # Monday to Sunday
    _store(db, days[:2])  # Monday and Tuesday; Sunday before the week is missing
    _store(db, days[3:])  # Thursday to Sunday; Wednesday is missing
    stored = read_stored_facts(db, days)
    assert [(g.day, g.day_before) for g in stored.day_before_gaps] == [
        (days[0], "2026-11-08"),
        (days[3], days[2]),
    ]
    facts = quality_facts(stored, [], days, missing_days=[days[2]])
    assert facts.verdict() == (
        "Read with care: 1 of 7 days missing; 2 days built without the day before's snapshot."
    )
    page = html.unescape(render_html(weekly_report_data(pd.DataFrame(), week, facts), []))
    for gap in stored.day_before_gaps:
        assert gap.sentence() in page
