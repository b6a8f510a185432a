"""The quarantine in a report: counts by rule in the JSON, the product's sentence per rule
in the HTML, and never a source's text (a ``<script>`` in a reason, a detail or an id)."""

from __future__ import annotations

import datetime as dt
import json

from pymongo.database import Database

from phoenix_assets.domain import rules
from phoenix_assets.domain.market import week_days
from phoenix_assets.reports.assemble import weekly_report_data
from phoenix_assets.reports.build import build_report
from phoenix_assets.reports.quality import quality_facts, read_stored_facts
from phoenix_assets.storage.quarantine import QUARANTINE_COLLECTION, quarantine_entry
from phoenix_assets_tests.reports.test_build import EMPTY_WEEK, _trends

SCRIPT = "<script>alert('phoenix')</script>"
DAYS = list(week_days(dt.date.fromisoformat(EMPTY_WEEK)))


def _quarantine(db: Database[dict]) -> None:
    entries = [
        quarantine_entry(
            asset="property_snapshots",
            partition_key=DAYS[0],
            source="mls",
            source_id=f"{SCRIPT}-{n}",
            rule=rule,
            detail=f"list_price: {SCRIPT}",
            payload={"ListPrice": SCRIPT},
        )
        for n, rule in enumerate(
            [rules.INVALID_FIELD, rules.INVALID_FIELD, rules.LIST_PRICE_ABOVE_HARD_MAXIMUM]
        )
    ]
    db[QUARANTINE_COLLECTION].insert_many(entries)
    # An entry stored before rules existed, its reason quoting the source.
    db[QUARANTINE_COLLECTION].insert_one(
        {
            "_id": "old",
            "asset": "property_snapshots",
            "partition_key": DAYS[1],
            "source": "demo",
            "source_id": "L-9",
            "reason": f"invalid demo record: {SCRIPT}",
        }
    )


def test_the_quarantine_is_counted_by_rule_and_no_source_text_reaches_a_report(
    db: Database[dict],
) -> None:
    _quarantine(db)
    stored = read_stored_facts(db, DAYS)
    assert stored.quarantined == 4
    assert stored.quarantine_by_rule == (
        (rules.INVALID_FIELD, 2),
        (rules.LIST_PRICE_ABOVE_HARD_MAXIMUM, 1),
        (rules.UNCLASSIFIED, 1),
    )
    facts = quality_facts(stored, [], DAYS)
    assert facts.to_dict()["quarantine_by_rule"] == {
        rules.INVALID_FIELD: 2,
        rules.LIST_PRICE_ABOVE_HARD_MAXIMUM: 1,
        rules.UNCLASSIFIED: 1,
    }
    assert "quarantine_reasons" not in facts.to_dict()

    report = build_report(weekly_report_data(_trends(), EMPTY_WEEK, facts))
    document = json.loads(report.json_text)
    assert document["quality"]["quarantine_by_rule"][rules.INVALID_FIELD] == 2
    for text in (report.json_text, report.html, report.csv_text):
        assert "script" not in text.lower()
    for rule in (rules.INVALID_FIELD, rules.LIST_PRICE_ABOVE_HARD_MAXIMUM, rules.UNCLASSIFIED):
        assert rules.REASONS[rule] in report.html  # the product's sentence, as the reader sees it
