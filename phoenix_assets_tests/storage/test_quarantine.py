"""Quarantine entries: a rule to count by, the product's reason, source text only as a
short detail; stored and read back as data from a real MongoDB wire server."""

from __future__ import annotations

from pymongo.database import Database

from phoenix_assets.domain import rules
from phoenix_assets.storage.quarantine import (
    MAX_DETAIL_LENGTH,
    QUARANTINE_COLLECTION,
    quarantine_entry,
    quarantine_rules,
    quarantined_source_ids,
    replace_quarantine,
    short_detail,
)

SCRIPT = "<script>alert('phoenix')</script>"


def _entry(**changes: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "asset": "property_snapshots",
        "partition_key": "2026-11-17",
        "source": "demo",
        "source_id": "L-1",
        "rule": rules.INVALID_FIELD,
        "payload": {"ListPrice": SCRIPT},
    }
    arguments.update(changes)
    return quarantine_entry(**arguments)  # type: ignore[arg-type]


def test_an_entry_has_its_rule_the_products_reason_and_a_detail() -> None:
    entry = _entry(detail="invalid demo record: list_price: Input should be a valid number")
    assert entry["_id"] == "property_snapshots:demo:L-1:2026-11-17"
    assert entry["rule"] == rules.INVALID_FIELD
    assert entry["reason"] == rules.REASONS[rules.INVALID_FIELD]
    assert entry["detail"] == "invalid demo record: list_price: Input should be a valid number"
    assert entry["payload"] == {"ListPrice": SCRIPT}  # the record whole, as data
    assert set(entry) == {
        "_id",
        "asset",
        "partition_key",
        "source",
        "source_id",
        "rule",
        "reason",
        "detail",
        "payload",
        "quarantined_at",
    }


def test_a_reason_given_is_kept_and_no_detail_is_empty() -> None:
    entry = _entry(rule=rules.MISSING_RECORD_KEY, reason="no ListingKey: cannot be followed")
    assert entry["reason"] == "no ListingKey: cannot be followed" and entry["detail"] == ""


def test_source_text_in_a_detail_is_folded_and_cut() -> None:
    hostile = SCRIPT + "\n\t\x00" + "x" * 10_000
    detail = _entry(detail=hostile)["detail"]
    assert isinstance(detail, str)
    assert len(detail) == MAX_DETAIL_LENGTH and detail.endswith("…")
    assert detail.startswith(SCRIPT + " x")  # kept as text: escaping is the renderer's job
    assert "\n" not in detail and "\x00" not in detail
    assert short_detail("  a\n b  ") == "a b"
    assert short_detail("y" * MAX_DETAIL_LENGTH) == "y" * MAX_DETAIL_LENGTH


def test_an_unknown_rule_is_named_never_guessed() -> None:
    assert _entry(rule="brand_new_rule")["reason"] == "quarantine rule brand_new_rule"


def test_entries_are_stored_and_replaced_as_data(db: Database[dict]) -> None:
    first = [_entry(detail=SCRIPT), _entry(source_id="L-2", rule=rules.AREA_NOT_POSITIVE)]
    replace_quarantine(db, "property_snapshots", ["2026-11-17"], first)
    replace_quarantine(db, "property_snapshots", ["2026-11-17"], first[1:])  # a re-run
    stored = list(db[QUARANTINE_COLLECTION].find({}))
    assert [(e["source_id"], e["rule"], e["detail"]) for e in stored] == [
        ("L-2", rules.AREA_NOT_POSITIVE, "")
    ]


def test_a_days_quarantined_ids_and_the_rules_of_a_range_are_read_back(
    db: Database[dict],
) -> None:
    mls = [
        _entry(source="mls", source_id="M-1"),
        _entry(source="mls", source_id="M-2", rule=rules.AREA_NOT_POSITIVE),
        _entry(source="demo", source_id="D-1"),
    ]
    replace_quarantine(db, "property_snapshots", ["2026-11-17"], mls)
    replace_quarantine(
        db, "property_snapshots", ["2026-11-18"], [_entry(partition_key="2026-11-18")]
    )
    assert sorted(quarantined_source_ids(db, "property_snapshots", "2026-11-17", "mls")) == [
        "M-1",
        "M-2",
    ]
    assert quarantined_source_ids(db, "raw_mls_listings", "2026-11-17", "mls") == []
    assert sorted(map(str, quarantine_rules(db, ["2026-11-17"]))) == sorted(
        [rules.INVALID_FIELD, rules.AREA_NOT_POSITIVE, rules.INVALID_FIELD]
    )
    assert len(quarantine_rules(db, ["2026-11-17", "2026-11-18"])) == 4
    assert quarantine_rules(db, []) == []
