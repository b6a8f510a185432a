"""Provenance stored compactly comes back exactly, in memory and through storage."""

import datetime as dt
from typing import Any

import bson
from hypothesis import given
from hypothesis import strategies as st

from phoenix_assets.domain.adapters import property_from_reso
from phoenix_assets.domain.merge import merge_properties
from phoenix_assets.domain.property import PROVENANCE_FIELDS, Property
from phoenix_assets.domain.provenance import compact, expand, source_of
from phoenix_assets.storage.documents import to_document

DAY = dt.date(2026, 11, 18)
FIELDS = st.sampled_from([*PROVENANCE_FIELDS, "property_id"])
SOURCES = st.sampled_from(["demo", "mls", "maricopa"])


@given(st.dictionaries(FIELDS, SOURCES), st.sets(st.sampled_from(PROVENANCE_FIELDS)))
def test_compact_then_expand_is_the_identity(provenance: dict[str, str], valued: set[str]) -> None:
    stored = compact(provenance, valued)
    assert expand(stored, valued) == provenance
    for field in {*provenance, *valued}:
        assert source_of(stored, field, valued=field in valued) == provenance.get(field)


def test_a_mapping_stored_whole_reads_as_it_is() -> None:
    whole = {"list_price": "mls", "year_built": "maricopa"}
    assert expand(whole, ["list_price", "year_built", "city"]) == whole
    assert source_of(whole, "list_price", valued=True) == "mls"
    assert source_of(whole, "city", valued=True) is None
    assert source_of(None, "city", valued=True) is None


def _payload(**overrides: Any) -> dict[str, Any]:
    return {
        "ListingKey": "K1",
        "ParcelNumber": "123-45-678A",
        "StandardStatus": "Active",
        "ListPrice": 525000,
        "LivingArea": 1850,
        "UnparsedAddress": "4821 N 38th St",
        "City": "Phoenix",
        "PostalCode": "85018",
        "ModificationTimestamp": "2026-11-17T18:00:00Z",
        **overrides,
    }


def test_a_merged_property_keeps_every_fields_source_through_storage() -> None:
    listing = property_from_reso(_payload(), source="mls", day=DAY)
    parcel = property_from_reso(
        _payload(ListingKey=None, ListPrice=None, YearBuilt=1958, LivingArea=1912),
        source="maricopa",
        day=DAY,
    )
    (home,) = merge_properties([listing, parcel])
    document = to_document(home)
    stored = document["provenance"]
    # One default source and the fields another said: a fraction of the mapping.
    assert stored["*"] in ("mls", "maricopa") and len(stored) < len(home.provenance)
    assert Property.model_validate(document) == home
    assert source_of(stored, "year_built", valued=True) == "maricopa"
    assert source_of(stored, "list_price", valued=True) == "mls"


def test_a_snapshot_document_from_before_is_read_unchanged() -> None:
    home = property_from_reso(_payload(), source="mls", day=DAY)
    document = to_document(home)
    document["provenance"] = dict(home.provenance)  # as documents were stored before
    assert Property.model_validate(document) == home


def test_a_single_source_propertys_provenance_costs_a_few_bytes() -> None:
    home = property_from_reso(_payload(), source="mls", day=DAY)
    stored = to_document(home)["provenance"]
    # state_or_province is the schema's "AZ" here: a value no source said.
    assert stored == {"*": "mls", "-": ["state_or_province"]}
    whole = len(bson.encode({"p": dict(home.provenance)}))
    assert len(bson.encode({"p": stored})) * 3 < whole
