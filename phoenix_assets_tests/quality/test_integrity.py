"""The blocking rules: schema validity and one record per property."""

from phoenix_assets.quality.integrity import duplicate_properties, schema_violations
from phoenix_assets_tests.quality.documents import DAY, snapshot_document, snapshot_documents


def test_valid_documents_pass_the_schema() -> None:
    verdict = schema_violations(snapshot_documents(20), DAY)
    assert verdict.passed
    assert verdict.metadata["documents"] == 20
    assert verdict.metadata["invalid_documents"] == 0


def test_schema_violations_are_counted_by_field_with_examples() -> None:
    documents = snapshot_documents(20)
    documents[3]["list_price"] = -5  # must be > 0
    documents[7]["postal_code"] = "8501"  # not five digits
    documents[9]["latitude"] = "north"  # not a number
    del documents[11]["first_seen"]  # required
    verdict = schema_violations(documents, DAY)
    assert not verdict.passed
    assert verdict.metadata["invalid_documents"] == 4
    assert verdict.metadata["invalid_rate"] == 4 / 20
    assert verdict.metadata["invalid_by_field"] == {
        "list_price": 1,
        "postal_code": 1,
        "latitude": 1,
        "first_seen": 1,
    }
    examples = {e["_id"]: e["errors"] for e in verdict.metadata["examples"]}
    assert set(examples) >= {documents[3]["_id"], documents[7]["_id"]}
    assert any(e.startswith("list_price:") for e in examples[documents[3]["_id"]])
    assert "4 of 20" in verdict.summary


def test_a_document_dated_another_day_is_misfiled() -> None:
    documents = snapshot_documents(5)
    documents[2]["snapshot_date"] = "2026-11-16"
    verdict = schema_violations(documents, DAY)
    assert not verdict.passed
    assert verdict.metadata["invalid_by_field"] == {"snapshot_date": 1}


def test_distinct_properties_pass_and_shared_addresses_of_distinct_parcels_are_noted() -> None:
    documents = snapshot_documents(10)
    # Two parcels at one street address (a lot split): real, kept apart by the merge.
    documents[4]["unparsed_address"] = documents[2]["unparsed_address"]
    documents[4]["postal_code"] = documents[2]["postal_code"]
    verdict = duplicate_properties(documents)
    assert verdict.passed, verdict.summary
    assert verdict.metadata["properties"] == 10
    assert verdict.metadata["addresses_shared_by_distinct_parcels"] == 1


def test_a_repeated_property_id_fails() -> None:
    documents = snapshot_documents(6)
    documents.append({**documents[1], "_id": "another-id"})
    verdict = duplicate_properties(documents)
    assert not verdict.passed
    assert verdict.metadata["repeated_property_ids"] == 1
    assert verdict.metadata["examples"]["repeated_property_ids"] == [
        {"property_id": documents[1]["property_id"], "times": 2}
    ]


def test_a_parcel_claimed_by_two_properties_fails_whatever_its_spelling() -> None:
    documents = snapshot_documents(6)
    # The same APN written without separators still names the same parcel.
    documents[5]["parcel_number"] = documents[0]["parcel_number"].replace("-", "")
    verdict = duplicate_properties(documents)
    assert not verdict.passed
    assert verdict.metadata["parcels_claimed_by_several_properties"] == 1
    assert verdict.metadata["examples"]["parcels"] == {
        "100-00-000": sorted([documents[0]["property_id"], documents[5]["property_id"]])
    }


def test_an_address_keyed_property_at_a_parcels_address_is_a_merge_failure() -> None:
    documents = snapshot_documents(6)
    unjoined = snapshot_document(
        50,
        property_id="addr:102 E CAMELBACK RD 85033",
        parcel_number=None,
        unparsed_address="102 East Camelback Road",  # normalizes to document 2's address
        postal_code=documents[2]["postal_code"],
    )
    verdict = duplicate_properties([*documents, unjoined])
    assert not verdict.passed
    assert verdict.metadata["addresses_claimed_by_several_properties"] == 1
    (claimants,) = verdict.metadata["examples"]["addresses"].values()
    assert claimants == sorted([documents[2]["property_id"], unjoined["property_id"]])


def test_every_claimant_of_a_parcel_and_an_address_is_named_however_many() -> None:
    documents = snapshot_documents(8)
    # A third and a fourth claimant, after the first claim was recorded alone; a property
    # repeated at its own address is a repeated id, not a second claimant.
    for index in (3, 6, 7):
        documents[index]["parcel_number"] = documents[0]["parcel_number"]
        documents[index]["unparsed_address"] = documents[0]["unparsed_address"]
        documents[index]["postal_code"] = documents[0]["postal_code"]
    documents.append({**documents[5], "_id": "again"})
    verdict = duplicate_properties(documents)
    assert not verdict.passed
    claimants = sorted(documents[i]["property_id"] for i in (0, 3, 6, 7))
    assert verdict.metadata["examples"]["parcels"] == {"100-00-000": claimants}
    assert list(verdict.metadata["examples"]["addresses"].values()) == [claimants]
    assert verdict.metadata["parcels_claimed_by_several_properties"] == 1
    assert verdict.metadata["addresses_claimed_by_several_properties"] == 1
    assert verdict.metadata["repeated_property_ids"] == 1
