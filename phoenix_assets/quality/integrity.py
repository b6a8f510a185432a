"""Integrity rules over a partition's stored snapshot documents: schema and identity.

A failure here means the stored data is wrong, not merely unusual: a document that
does not read back as a ``Property``, or one property stored twice (a merge failure).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from phoenix_assets.domain.property import Property, normalize_address, normalize_apn
from phoenix_assets.quality.verdict import EXAMPLES, Verdict, rate
from phoenix_assets.storage.documents import STORAGE_FIELDS

Document = Mapping[str, Any]
_MESSAGE_CHARS = 160


def _problems(document: Document, partition_key: str) -> list[tuple[str, str]]:
    """(field, message) for everything wrong with one document; empty when it is valid."""
    body = {k: v for k, v in document.items() if k not in STORAGE_FIELDS}
    try:
        record = Property.model_validate(body)
    except ValidationError as exc:
        return [
            (
                ".".join(str(part) for part in error["loc"]) or "(document)",
                error["msg"][:_MESSAGE_CHARS],
            )
            for error in exc.errors(include_url=False)
        ]
    # A snapshot describes its partition's day; another day here is a misfiled document.
    if record.snapshot_date.isoformat() != partition_key:
        return [("snapshot_date", f"{record.snapshot_date} is not the partition's day")]
    return []


class SchemaTally:
    """The schema rule fed one document at a time (``add``), as a day is written; its
    ``verdict`` once the day is through."""

    def __init__(self, partition_key: str) -> None:
        self._partition_key = partition_key
        self._total = 0
        self._invalid = 0
        self._by_field: Counter[str] = Counter()
        self._examples: list[dict[str, Any]] = []

    def add(self, document: Document) -> None:
        self._total += 1
        problems = _problems(document, self._partition_key)
        if not problems:
            return
        self._invalid += 1
        self._by_field.update({loc.split(".")[0] for loc, _ in problems})
        if len(self._examples) < EXAMPLES:
            self._examples.append(
                {
                    "_id": str(document.get("_id")),
                    "errors": [f"{loc}: {message}" for loc, message in problems[:3]],
                }
            )

    def verdict(self) -> Verdict:
        total, invalid = self._total, self._invalid
        metadata: dict[str, Any] = {
            "documents": total,
            "invalid_documents": invalid,
            "invalid_rate": rate(invalid, total),
            "invalid_by_field": dict(self._by_field.most_common(10)),
            "examples": list(self._examples),
        }
        if invalid:
            fields = ", ".join(name for name, _ in self._by_field.most_common(3))
            summary = f"{invalid} of {total} documents fail the Property schema ({fields})"
        else:
            summary = f"all {total} documents validate against the Property schema"
        return Verdict(passed=invalid == 0, summary=summary, metadata=metadata)


def schema_violations(documents: Iterable[Document], partition_key: str) -> Verdict:
    """Every stored document validates against the ``Property`` schema and is dated the
    partition's day."""
    tally = SchemaTally(partition_key)
    for document in documents:
        tally.add(document)
    return tally.verdict()


# The fields the duplicate rule reads.
IDENTITY_FIELDS = ("_id", "property_id", "parcel_number", "unparsed_address", "postal_code")


def _claims(
    documents: Iterable[Document],
) -> tuple[Counter[str], dict[str, set[str]], dict[str, dict[str, str | None]]]:
    """Occurrences of each property id; the parcel numbers claimed by several ids, with
    those ids; and the normalized addresses claimed by several ids, with each id's parcel
    number.

    Only the first claim of a parcel or an address is kept until a second id claims it: a
    day of 50,000 properties holds a small tuple each, not a set or a dict each (~15 MB).
    """
    ids: Counter[str] = Counter()
    parcel_claim: dict[str, str] = {}
    by_parcel: dict[str, set[str]] = {}
    address_claim: dict[str, tuple[str, str | None]] = {}
    by_address: dict[str, dict[str, str | None]] = {}
    for document in documents:
        property_id = document.get("property_id")
        if not isinstance(property_id, str) or not property_id:
            continue  # no identity to compare: the schema rule reports it
        ids[property_id] += 1
        raw_apn = document.get("parcel_number")
        apn = normalize_apn(raw_apn) if isinstance(raw_apn, str) else None
        if apn:
            first_id = parcel_claim.setdefault(apn, property_id)
            if first_id != property_id:
                by_parcel.setdefault(apn, {first_id}).add(property_id)
        address = normalize_address(document.get("unparsed_address"), document.get("postal_code"))
        if not address:
            continue
        claimants = by_address.get(address)
        if claimants is not None:
            claimants[property_id] = apn
            continue
        first = address_claim.get(address)
        if first is None or first[0] == property_id:
            address_claim[address] = (property_id, apn)
        else:
            by_address[address] = {first[0]: first[1], property_id: apn}
    return ids, by_parcel, by_address


def duplicate_properties(documents: Iterable[Document]) -> Verdict:
    """No property twice in a partition: no repeated ``property_id``, no parcel number
    claimed by two properties, no normalized address claimed by two properties unless
    each is a distinct parcel.

    Two parcels sharing a street address are real (split lots, a house and its casita)
    and kept apart by the merge, which joins on parcel number first; they are counted
    in the metadata, not failed. An address-keyed property sharing its address with
    any other property is a record the merge should have joined.
    """
    ids, by_parcel, by_address = _claims(documents)
    repeated = sorted(pid for pid, n in ids.items() if n > 1)
    parcels = {apn: sorted(pids) for apn, pids in sorted(by_parcel.items())}
    addresses: dict[str, list[str]] = {}
    shared_by_parcels: dict[str, list[str]] = {}
    for address, claimants in sorted(by_address.items()):
        apns = list(claimants.values())
        if all(apns) and len(set(apns)) == len(apns):
            shared_by_parcels[address] = sorted(claimants)
        else:
            addresses[address] = sorted(claimants)
    metadata: dict[str, Any] = {
        "documents": sum(ids.values()),
        "properties": len(ids),
        "repeated_property_ids": len(repeated),
        "parcels_claimed_by_several_properties": len(parcels),
        "addresses_claimed_by_several_properties": len(addresses),
        "addresses_shared_by_distinct_parcels": len(shared_by_parcels),
        "examples": {
            "repeated_property_ids": [
                {"property_id": pid, "times": ids[pid]} for pid in repeated[:EXAMPLES]
            ],
            "parcels": dict(list(parcels.items())[:EXAMPLES]),
            "addresses": dict(list(addresses.items())[:EXAMPLES]),
            "addresses_shared_by_distinct_parcels": dict(
                list(shared_by_parcels.items())[:EXAMPLES]
            ),
        },
    }
    failures = [
        f"{len(repeated)} property ids stored more than once" if repeated else "",
        f"{len(parcels)} parcel numbers claimed by several properties" if parcels else "",
        f"{len(addresses)} addresses claimed by several properties" if addresses else "",
    ]
    failures = [text for text in failures if text]
    summary = "; ".join(failures) if failures else f"{len(ids)} properties, each stored once"
    if shared_by_parcels:
        summary += f" ({len(shared_by_parcels)} addresses shared by distinct parcels)"
    return Verdict(passed=not failures, summary=summary, metadata=metadata)
