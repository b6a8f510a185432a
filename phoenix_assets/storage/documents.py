"""Conversion between asset values (dicts, pydantic models, DataFrames) and Mongo documents.

Dates are stored as ``YYYY-MM-DD`` strings (BSON has no date type, and the string
sorts and compares like the date and like a daily partition key); datetimes as
UTC BSON dates; numpy and pandas scalars as plain Python values; NaN/NaT as null.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

Document = dict[str, Any]

# Fields the storage layer owns; they are stripped before values reach a pydantic model.
STORAGE_FIELDS = ("_id", "partition_key")


# Values BSON stores as they are; checked by exact type first, because a snapshot
# partition converts over a million values and the general path costs ~5x more.
_AS_IS: frozenset[type] = frozenset({str, int, bool, type(None)})


def to_bson_value(value: Any) -> Any:
    """Return ``value`` as something BSON can encode, with the conventions above."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is float:
        return None if value != value else value  # NaN is the only value unequal to itself
    if kind is dict:
        return _bson_dict(value)
    if kind is list:
        return [v if type(v) in _AS_IS else to_bson_value(v) for v in value]
    return _to_bson_value_general(value)


def _bson_dict(mapping: Mapping[Any, Any]) -> Document:
    converted: Document = {}
    for key, item in mapping.items():
        converted[key if type(key) is str else str(key)] = (
            item if type(item) in _AS_IS else to_bson_value(item)
        )
    return converted


def _to_bson_value_general(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):  # includes pd.Timestamp
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_bson_value(value.value)
    if isinstance(value, BaseModel):
        return to_bson_value(value.model_dump(mode="python"))
    if isinstance(value, Mapping):
        return _bson_dict(value)
    if isinstance(value, np.ndarray):
        return [to_bson_value(v) for v in value.tolist()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_bson_value(v) for v in value]
    raise TypeError(f"cannot store a value of type {type(value).__name__} in MongoDB: {value!r}")


def records_of(obj: Any) -> Sequence[Any]:
    """The records of an asset's value: a DataFrame's rows, a model or dict alone, or a
    list of either."""
    if isinstance(obj, pd.DataFrame):
        return obj.to_dict(orient="records")
    if isinstance(obj, (BaseModel, Mapping)):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return obj
    raise TypeError(
        "the Mongo IO manager stores a DataFrame, a pydantic model, a dict, or a list of "
        f"models or dicts; got {type(obj).__name__}"
    )


def to_document(record: Any) -> Document:
    """One record (a dict or a model) as a Mongo document."""
    converted = to_bson_value(record)
    if not isinstance(converted, dict):
        raise TypeError(f"each stored record must be a dict or a model; got {type(record)}")
    return converted


def to_documents(obj: Any) -> list[Document]:
    """Turn an asset's value into Mongo documents.

    Accepts a DataFrame, a pydantic model or a dict, or a list of either.
    """
    return [to_document(record) for record in records_of(obj)]


def frame_of(documents: Iterable[Document]) -> pd.DataFrame:
    """``pd.DataFrame.from_records`` of these documents (``_id`` dropped), the same frame
    column for column and dtype for dtype, without holding them: each is kept as a row
    tuple (~8 bytes a field) instead of a dict (a day of 50,000 snapshots' summary
    fields: 76 MB as dicts, the frame 22 MB)."""
    columns: dict[str, int] = {}  # in order of first appearance, as from_records orders them
    rows: list[tuple[Any, ...]] = []
    for doc in documents:
        doc.pop("_id", None)
        for name in doc:
            if name not in columns:
                columns[name] = len(columns)
        # A field a document lacks is NaN, as from_records fills it.
        rows.append(tuple(doc.get(name, np.nan) for name in columns))
    if not rows:
        return pd.DataFrame.from_records([])
    width = len(columns)
    for index, row in enumerate(rows):
        if len(row) < width:  # read before a later document brought more fields
            rows[index] = row + (np.nan,) * (width - len(row))
    return pd.DataFrame.from_records(rows, columns=list(columns))


def from_documents(documents: list[Document], typing_type: Any) -> Any:
    """Turn loaded documents into the value an asset asked for.

    ``pd.DataFrame`` gets a frame, ``list[SomeModel]`` validated models, anything else
    (``list[dict]``, ``Any``) the documents. ``_id`` is dropped; ``partition_key`` is
    kept (a range load needs to know each record's partition) except for models.
    """
    if typing_type is pd.DataFrame:
        return frame_of(_draining(documents))  # drops ``_id`` as it goes
    # In place: a copy of every document would double a large partition's memory.
    for doc in documents:
        doc.pop("_id", None)
    plain = documents
    model = _model_of(typing_type)
    if model is None:
        return plain
    models = [model.model_validate(_for_model(doc, model)) for doc in _draining(plain)]
    if typing_type is model:  # a single model, not a list of them
        if len(models) != 1:
            raise ValueError(f"expected one {model.__name__} document, found {len(models)}")
        return models[0]
    return models


def _draining(documents: list[Document]) -> Iterator[Document]:
    """Yield the documents in order, dropping each from the list once taken, so a document
    is freed as soon as its model is built (a partition is never held twice)."""
    documents.reverse()
    while documents:
        yield documents.pop()


def _model_of(typing_type: Any) -> type[BaseModel] | None:
    if isinstance(typing_type, type) and issubclass(typing_type, BaseModel):
        return typing_type
    if typing.get_origin(typing_type) in (list, typing.Sequence, tuple):
        args = typing.get_args(typing_type)
        if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            return args[0]
    return None


def _for_model(doc: Document, model: type[BaseModel]) -> Document:
    return {k: v for k, v in doc.items() if k not in STORAGE_FIELDS or k in model.model_fields}
