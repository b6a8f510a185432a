"""A stored asset's partitions, read one at a time: an input too large to hold whole.

An asset that declares an input as ``PartitionReader`` gets this instead of the
documents: the IO manager checks which partitions were completely written (as for any
input) and the asset iterates each partition straight from a cursor, so a day of
50,000 raw listings never sits in memory as 50,000 dictionaries.
"""

from collections.abc import Iterator, Mapping, Sequence

from pymongo.collection import Collection

from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.partition_store import partition_projection
from phoenix_assets.storage.snapshot_history import compacted_documents, projected


class PartitionReader:
    """The completely written partitions of one collection, each read lazily."""

    def __init__(
        self,
        collection: Collection[Document],
        partition_keys: Sequence[str],
        projection: Sequence[str] | None = None,
        *,
        compacted: Mapping[str, str] | None = None,
    ) -> None:
        self._collection = collection
        self._compacted = dict(compacted or {})  # partition -> history generation
        self.partition_keys = tuple(partition_keys)
        self._projection = partition_projection(projection)

    def documents(self, partition_key: str) -> Iterator[Document]:
        """The partition's documents, without ``_id``; none if it was never written."""
        if partition_key not in self.partition_keys:
            return
        generation = self._compacted.get(partition_key)
        documents: Iterator[Document] = (
            self._collection.find({"partition_key": partition_key}, self._projection)
            if generation is None
            else self._from_history(partition_key, generation)
        )
        for document in documents:
            document.pop("_id", None)
            yield document

    def _from_history(self, partition_key: str, generation: str) -> Iterator[Document]:
        collection = self._collection
        for document in compacted_documents(
            collection.database, collection.name, partition_key, generation
        ):
            yield projected(document, self._projection)

    def __repr__(self) -> str:
        return f"PartitionReader({self._collection.name}, {len(self.partition_keys)} partitions)"
