"""A stored asset's partitions, read one at a time: an input too large to hold whole.

An asset that declares an input as ``PartitionReader`` gets this instead of the
documents: the IO manager checks which partitions were completely written (as for any
input) and the asset iterates each partition straight from a cursor, so a day of
50,000 raw listings never sits in memory as 50,000 dictionaries.
"""

from collections.abc import Iterator, Sequence

from pymongo.collection import Collection

from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.partition_store import partition_projection


class PartitionReader:
    """The completely written partitions of one collection, each read lazily."""

    def __init__(
        self,
        collection: Collection[Document],
        partition_keys: Sequence[str],
        projection: Sequence[str] | None = None,
    ) -> None:
        self._collection = collection
        self.partition_keys = tuple(partition_keys)
        self._projection = partition_projection(projection)

    def documents(self, partition_key: str) -> Iterator[Document]:
        """The partition's documents, without ``_id``; none if it was never written."""
        if partition_key not in self.partition_keys:
            return
        for document in self._collection.find({"partition_key": partition_key}, self._projection):
            document.pop("_id", None)
            yield document

    def __repr__(self) -> str:
        return f"PartitionReader({self._collection.name}, {len(self.partition_keys)} partitions)"
