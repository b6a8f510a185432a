"""Values as the storage contract stores them, and loaded documents as the value an
asset asked for (``storage/documents.py``)."""

import copy
import datetime as dt
import enum
import types
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

from phoenix_assets.storage.documents import (
    frame_of,
    from_documents,
    records_of,
    to_bson_value,
    to_document,
    to_documents,
)

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


# -- values as stored: the conventions of storage/documents.py ------------------------


class Status(enum.Enum):
    ACTIVE = "Active"


class Home(BaseModel):
    home_id: str
    price: int | None = None


PHOENIX = dt.timezone(dt.timedelta(hours=-7))


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (np.int64(7), 7),
        (np.float32(2.5), 2.5),
        (np.float64("nan"), None),
        (float("nan"), None),
        (np.bool_(True), True),
        (Decimal("12.50"), 12.5),
        (pd.NaT, None),
        (dt.datetime(2026, 11, 17, 8, 0), dt.datetime(2026, 11, 17, 8, 0, tzinfo=dt.UTC)),
        (
            dt.datetime(2026, 11, 17, 8, 0, tzinfo=PHOENIX),
            dt.datetime(2026, 11, 17, 15, 0, tzinfo=dt.UTC),
        ),
        (
            pd.Timestamp("2026-11-17T08:00:00-07:00"),
            dt.datetime(2026, 11, 17, 15, 0, tzinfo=dt.UTC),
        ),
        (dt.date(2026, 11, 17), "2026-11-17"),
        (Status.ACTIVE, "Active"),
        (Home(home_id="h1", price=np.int64(5)), {"home_id": "h1", "price": 5}),  # type: ignore[arg-type]
        (types.MappingProxyType({1: np.int64(2)}), {"1": 2}),
        (np.array([1, 2]), [1, 2]),
        ((dt.date(2026, 1, 2), None), ["2026-01-02", None]),
        (frozenset({np.int64(3)}), [3]),
        ({"nested": [{"at": dt.date(2026, 1, 2)}]}, {"nested": [{"at": "2026-01-02"}]}),
    ],
)
def test_values_are_stored_by_the_contracts_conventions(value: Any, stored: Any) -> None:
    converted = to_bson_value(value)
    assert converted == stored
    assert type(converted) is type(stored)


def test_a_value_mongodb_cannot_hold_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="cannot store a value of type complex"):
        to_bson_value(1 + 2j)
    with pytest.raises(TypeError, match="each stored record must be a dict or a model"):
        to_document(["not", "a", "record"])


def test_an_assets_value_becomes_its_records() -> None:
    frame = pd.DataFrame({"home_id": ["a", "b"], "price": [1, 2]})
    assert to_documents(frame) == [{"home_id": "a", "price": 1}, {"home_id": "b", "price": 2}]
    assert to_documents(Home(home_id="a")) == [{"home_id": "a", "price": None}]
    assert to_documents({"home_id": "a"}) == [{"home_id": "a"}]
    assert to_documents([Home(home_id="a"), {"home_id": "b"}]) == [
        {"home_id": "a", "price": None},
        {"home_id": "b"},
    ]
    with pytest.raises(TypeError, match="the Mongo IO manager stores a DataFrame"):
        records_of("a string")


def test_loaded_documents_become_the_type_the_asset_asked_for() -> None:
    def loaded() -> list[dict[str, Any]]:
        return [{"_id": "a:1", "partition_key": "2026-11-17", "home_id": "a", "price": 1}]

    assert from_documents(loaded(), list[dict[str, Any]]) == [
        {"partition_key": "2026-11-17", "home_id": "a", "price": 1}
    ]
    assert from_documents(loaded(), list[Home]) == [Home(home_id="a", price=1)]
    assert from_documents(loaded(), Home) == Home(home_id="a", price=1)
    with pytest.raises(ValueError, match="expected one Home document, found 2"):
        from_documents(loaded() + loaded(), Home)
