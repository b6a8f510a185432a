"""The collections besides the assets' own: declared in one place and named in the
README's storage contract (what a full day writes is checked against the same list in
``reliability/test_secrets.py``)."""

import re
from pathlib import Path

from phoenix_assets.storage.collections import AUXILIARY_COLLECTIONS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_storage_contract_names_every_collection_besides_the_assets() -> None:
    text = README.read_text()
    contract = text[
        text.index("## Storage contract") : text.index(
            "\n## ", text.index("## Storage contract") + 1
        )
    ]
    named = set(re.findall(r"`([a-z_]+)`", contract))
    assert set(AUXILIARY_COLLECTIONS) - named == set()
    assert len(AUXILIARY_COLLECTIONS) == len(set(AUXILIARY_COLLECTIONS.values()))
