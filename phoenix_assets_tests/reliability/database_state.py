"""A whole MongoDB database as comparable data, and a readable account of two differing.

``capture_database`` reads every collection, sorted by ``_id``, without the few fields
that legitimately differ between two runs of the same data; ``describe_differences``
says which collection and which ``_id``s are missing, extra or different, and how.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo.database import Database

Document = dict[str, Any]
DatabaseState = dict[str, list[Document]]

# Fields dropped before comparing, per collection (dotted paths reach into sub-documents).
# Found by diffing two clean runs of the same day and week in two databases; nothing else
# differed. Keep this list short: every entry is something a comparison cannot check.
VOLATILE_FIELDS: Mapping[str, tuple[str, ...]] = {
    # Which Dagster run wrote the partition, and when: a new run id and clock time on
    # every write, by design (the manifest's other fields, e.g. `documents`, are compared).
    "partition_manifest": ("run_id", "written_at"),
    # A report's build time and how long it took: wall-clock facts of the run. Its
    # `delivery.reason` names the newest partition at the time of the run ("only the
    # newest partition (<yesterday>) is delivered"), so it changes when a run crosses
    # midnight in Phoenix. Everything else in a report document (figures, quality facts,
    # file paths for the same PHOENIX_REPORTS_DIR) is compared.
    "daily_market_report": ("generated_at", "build_seconds", "delivery.reason"),
    "weekly_market_report": ("generated_at", "build_seconds", "delivery.reason"),
    # When a version first reached the MLS log, and by which run's clock: the run that
    # first met it (the version itself, its id and partition are compared).
    "raw_mls_listings": ("collected_at", "stored_at", "stored_us"),
}
# Collections of run bookkeeping, left out whole: which Dagster run read the MLS log
# when (ids name runs), and which day first took a ZIP's MLS inventory (the first day
# run, which depends on the order days ran in).
VOLATILE_COLLECTIONS = frozenset({"version_log_reads", "source_inventory_baselines"})

_MAX_IDS_LISTED = 10
_MAX_FIELDS_LISTED = 5


def _sort_key(document: Document) -> tuple[str, str]:
    identity = document.get("_id")
    return (type(identity).__name__, str(identity))


def _drop(document: Document, path: str) -> None:
    head, _, rest = path.partition(".")
    if not rest:
        document.pop(head, None)
    elif isinstance(document.get(head), dict):
        _drop(document[head], rest)


def capture_database(
    db: Database[Document], volatile: Mapping[str, Iterable[str]] = VOLATILE_FIELDS
) -> DatabaseState:
    """Every non-empty collection of ``db`` (system collections aside) as a list of its
    documents sorted by ``_id``, without the ``volatile`` fields.

    An empty collection is left out: whether one exists (an index created by a run that
    then wrote nothing) is not data, so "absent" and "empty" compare equal.
    """
    state: DatabaseState = {}
    for name in sorted(db.list_collection_names()):
        if name.startswith("system.") or name in VOLATILE_COLLECTIONS:
            continue
        documents = sorted(db[name].find({}), key=_sort_key)
        if not documents:
            continue
        for document in documents:
            for path in volatile.get(name, ()):
                _drop(document, path)
        state[name] = documents
    return state


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A document as ``{dotted.path: leaf value}``, lists indexed as ``path[i]``."""
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list) and value:
        flat = {}
        for index, item in enumerate(value):
            flat.update(_flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: value}


def _short(value: Any, width: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _listed(ids: list[Any]) -> str:
    shown = ", ".join(repr(i) for i in ids[:_MAX_IDS_LISTED])
    more = len(ids) - _MAX_IDS_LISTED
    return shown + (f" ... and {more} more" if more > 0 else "")


_MISSING = object()


def describe_differences(
    expected: DatabaseState,
    actual: DatabaseState,
    *,
    expected_label: str = "expected",
    actual_label: str = "actual",
) -> str:
    """How ``actual`` differs from ``expected``: per collection, the ``_id``s missing
    from it, extra in it, and different (with the first differing fields). Empty when
    the two are equal."""
    lines: list[str] = []
    for name in sorted(expected.keys() | actual.keys()):
        want = {doc["_id"]: doc for doc in expected.get(name, [])}
        have = {doc["_id"]: doc for doc in actual.get(name, [])}
        missing = sorted((i for i in want if i not in have), key=str)
        extra = sorted((i for i in have if i not in want), key=str)
        changed = sorted((i for i in want.keys() & have.keys() if want[i] != have[i]), key=str)
        if not (missing or extra or changed):
            continue
        lines.append(
            f"collection {name!r}: {len(want)} documents in {expected_label}, "
            f"{len(have)} in {actual_label}"
        )
        if missing:
            lines.append(f"  {len(missing)} missing from {actual_label}: {_listed(missing)}")
        if extra:
            lines.append(f"  {len(extra)} extra in {actual_label}: {_listed(extra)}")
        if changed:
            lines.append(f"  {len(changed)} different: {_listed(changed)}")
            for identity in changed[:3]:
                want_flat, have_flat = _flatten(want[identity]), _flatten(have[identity])
                fields = sorted(
                    path
                    for path in want_flat.keys() | have_flat.keys()
                    if want_flat.get(path, _MISSING) != have_flat.get(path, _MISSING)
                )
                lines.append(f"    {identity!r}: {len(fields)} field(s) differ")
                for path in fields[:_MAX_FIELDS_LISTED]:
                    was = _short(want_flat.get(path, "<absent>"))
                    now = _short(have_flat.get(path, "<absent>"))
                    lines.append(f"      {path}: {expected_label} {was}, {actual_label} {now}")
    return "\n".join(lines)


def document_counts(state: DatabaseState) -> dict[str, int]:
    """How many documents each collection of a captured state holds."""
    return {name: len(documents) for name, documents in state.items()}
