"""How a ZIP's collection is judged and labelled: complete, partly, or not collected."""

from phoenix_assets.domain.collection import (
    Shortfall,
    area_collection,
    collection_label,
    metro_collection,
    period_collection,
)

DAY = "2026-11-17"


def test_nothing_read_is_not_collected() -> None:
    shortfall = Shortfall("mls", "85035", DAY, records_read=0, records_expected=30)
    assert shortfall.status == "not collected"
    assert shortfall.label() == "not collected"
    assert area_collection([shortfall])["not_collected_zips"] == ["85035"]


def test_records_read_before_the_failure_make_it_partly_collected() -> None:
    assert collection_label(4, 40) == "partly collected (4 of about 40 records)"
    assert collection_label(4, None) == "partly collected (4 records read before the failure)"
    assert collection_label(1, None) == "partly collected (1 record read before the failure)"
    # More than expected: the expectation was wrong, say only what was read.
    assert collection_label(45, 40) == "partly collected (45 records read before the failure)"
    assert Shortfall("mls", "85033", DAY, records_read=4).status == "partial"


def test_no_failure_is_complete() -> None:
    fields = area_collection([])
    assert fields["collection"] == fields["collection_label"] == "complete"
    assert fields["records_read"] is None and fields["partial_zips"] == []
    assert metro_collection([])["collection"] == "complete"


def test_a_zip_failed_by_two_sources_adds_them_up() -> None:
    both = [
        Shortfall("mls", "85033", DAY, records_read=4, records_expected=40),
        Shortfall("maricopa", "85033", DAY, records_read=0, records_expected=100),
    ]
    fields = area_collection(both)
    assert fields["collection"] == "partial"
    assert (fields["records_read"], fields["records_expected"]) == (4, 140)
    unknown = [*both, Shortfall("demo", "85033", DAY, records_read=1)]
    assert area_collection(unknown)["records_expected"] is None
    assert area_collection(unknown)["collection_label"] == (
        "partly collected (5 records read before the failure)"
    )


def test_a_week_is_partial_when_any_day_was_short() -> None:
    fields = period_collection(
        [
            Shortfall("mls", "85033", "2026-11-18", records_read=0),
            Shortfall("mls", "85033", DAY, records_read=3, records_expected=9),
        ],
        metro=False,
    )
    assert fields["collection"] == "partial"
    assert fields["collection_label"] == (
        "2026-11-17: partly collected (3 of about 9 records); 2026-11-18: not collected"
    )
    assert fields["partial_zips"] == ["85033"] and fields["not_collected_zips"] == ["85033"]
    assert period_collection([], metro=True)["collection"] == "complete"
