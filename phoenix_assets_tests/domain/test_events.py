"""Events derived from two consecutive snapshots."""

from typing import Any

from phoenix_assets.domain.events import events_between, listed_properties

DAY = "2026-11-18"


def _snapshot(*rows: tuple[str, str | None, str | None, float]) -> list[dict[str, Any]]:
    """Stored snapshot documents, with a field the events do not read."""
    return [
        {
            "property_id": pid,
            "listing_key": key,
            "standard_status": status,
            "list_price": price,
            "postal_code": "85018",
            "unparsed_address": f"{pid} N 38th St",
            "living_area": 1_500.0,
        }
        for pid, key, status, price in rows
    ]


def derive_events(
    yesterday: list[dict[str, Any]], today: list[dict[str, Any]], day: str
) -> list[dict[str, Any]]:
    return events_between(listed_properties(yesterday), listed_properties(today), day)


def _by_property(events: list[dict]) -> dict[str, list[tuple[str, object, object]]]:
    found: dict[str, list[tuple[str, object, object]]] = {}
    for e in events:
        found.setdefault(e["property_id"], []).append(
            (e["event_type"], e.get("old_value"), e.get("new_value"))
        )
    return found


def test_each_kind_of_change_is_one_event() -> None:
    yesterday = _snapshot(
        ("cut", "L1", "Active", 500_000),
        ("rise", "L2", "Active", 400_000),
        ("pends", "L3", "Active", 300_000),
        ("back", "L4", "Pending", 350_000),
        ("withdrawn", "L5", "Active", 450_000),
        ("vanished", "L6", "Pending", 600_000),
        ("relisted", "L7", "Expired", 700_000),
        ("closes", "L8", "Pending", 380_000),
        ("same", "L9", "Active", 310_000),
        ("closed_gone", "L10", "Closed", 390_000),
    )
    today = _snapshot(
        ("cut", "L1", "Active", 480_000),
        ("rise", "L2", "Active", 410_000),
        ("pends", "L3", "Pending", 300_000),
        ("back", "L4", "Active", 350_000),
        ("withdrawn", "L5", "Withdrawn", 450_000),
        ("relisted", "L77", "Active", 650_000),
        ("closes", "L8", "Closed", 380_000),
        ("same", "L9", "Active", 310_000),
        ("new", "L11", "Active", 525_000),
    )
    events = _by_property(derive_events(yesterday, today, DAY))
    assert events == {
        "cut": [("price_cut", 500_000, 480_000)],
        "rise": [("price_rise", 400_000, 410_000)],
        "pends": [("status_change", "Active", "Pending")],
        "back": [("back_on_market", "Pending", "Active")],
        "withdrawn": [("delisting", "Active", "Withdrawn")],
        "vanished": [("delisting", "Pending", None)],
        "relisted": [("new_listing", None, None)],
        "closes": [("status_change", "Pending", "Closed")],
        "new": [("new_listing", None, None)],
    }


def test_a_price_cut_carries_its_size() -> None:
    (event,) = derive_events(
        _snapshot(("p", "L1", "Active", 500_000)), _snapshot(("p", "L1", "Active", 475_000)), DAY
    )
    assert event["change"] == -25_000 and event["change_pct"] == -5.0
    assert event["partition_key"] == DAY and event["listing_key"] == "L1"


def test_no_change_no_events() -> None:
    same = _snapshot(("p", "L1", "Active", 500_000))
    assert derive_events(same, same, DAY) == []


def test_only_listed_properties_count_and_only_the_event_fields_are_kept() -> None:
    documents = [
        *_snapshot(("listed", "L1", "Active", 500_000), ("parcel", None, None, 0.0)),
        {"property_id": "nan-status", "standard_status": float("nan")},
    ]
    listed = listed_properties(documents)
    assert list(listed) == ["listed"]
    assert "living_area" not in listed["listed"]._fields and listed["listed"].listing_key == "L1"
    # A property that was only a parcel yesterday and is listed today is a new listing.
    today = _snapshot(("listed", "L1", "Active", 500_000), ("parcel", "L2", "Active", 400_000))
    (event,) = derive_events(documents, today, DAY)
    assert (event["property_id"], event["event_type"]) == ("parcel", "new_listing")
