"""Loaded documents as the frame an asset asked for (``storage/documents.frame_of``)."""

import copy
import datetime as dt
from typing import Any

import pandas as pd
import pytest

from phoenix_assets.storage.documents import frame_of

AT = dt.datetime(2026, 11, 17, 15, 30, tzinfo=dt.UTC)


def _documents() -> list[dict[str, Any]]:
    """Documents as MongoDB returns them: ints, floats, nulls, dates as strings, UTC
    datetimes, lists, booleans, and fields only some documents have."""
    return [
        {"_id": "a:1", "zip": "85018", "price": 500_000, "area": 1800.5, "at": AT, "ok": True},
        {"_id": "b:1", "zip": "85033", "price": None, "area": None, "at": None, "ok": False},
        {
            "_id": "c:1",
            "zip": "85044",
            "price": 410_000,
            "area": 1500.0,
            "at": AT + dt.timedelta(days=1),
            "ok": True,
            "sources": ["demo", "mls"],  # a field first seen here
            "close_date": "2026-11-17",
        },
        {"_id": "d:1", "price": 1, "only_null": None, "sources": ["demo"]},
    ]


@pytest.mark.parametrize(
    "documents",
    [
        _documents(),
        _documents()[::-1],
        [{"_id": "x", "n": 1}, {"_id": "y", "n": 2.5}],
        [{"_id": "x", "when": AT}, {"_id": "y"}],
        [{"_id": "x"}],
    ],
)
def test_a_frame_of_documents_is_the_frame_from_records_gives(
    documents: list[dict[str, Any]],
) -> None:
    expected = pd.DataFrame.from_records(
        [{k: v for k, v in doc.items() if k != "_id"} for doc in copy.deepcopy(documents)]
    )
    frame = frame_of(iter(documents))
    pd.testing.assert_frame_equal(frame, expected)
    assert list(frame.columns) == list(expected.columns)
    assert list(frame.dtypes) == list(expected.dtypes)


def test_no_documents_are_an_empty_frame() -> None:
    pd.testing.assert_frame_equal(frame_of(iter([])), pd.DataFrame.from_records([]))
