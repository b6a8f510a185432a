"""Every MongoDB collection the product writes besides the assets' own (one per asset,
named after its key), in one list: each is declared by the storage module that owns it
and gathered here, so "where is X stored" has one answer. The README's storage contract
names each of them (a test holds the two together)."""

from phoenix_assets.storage.collection_failures import COLLECTION_FAILURES
from phoenix_assets.storage.parcel_inventory import PARCEL_INVENTORY, ZIP_SEARCHES
from phoenix_assets.storage.partition_store import MANIFEST_COLLECTION
from phoenix_assets.storage.quarantine import QUARANTINE_COLLECTION
from phoenix_assets.storage.report_ledger import LEDGER_COLLECTION
from phoenix_assets.storage.snapshot_history import SNAPSHOTS_COLLECTION, history_collection
from phoenix_assets.storage.version_log import BASELINE_COLLECTION, LOG_READS_COLLECTION

# Collection -> what it holds (and the module that writes it).
AUXILIARY_COLLECTIONS: dict[str, str] = {
    MANIFEST_COLLECTION: "which partitions are stored whole (storage/partition_store.py)",
    QUARANTINE_COLLECTION: "records that failed validation, with the reason (quarantine.py)",
    COLLECTION_FAILURES: "the ZIP codes a source failed on a day (collection_failures.py)",
    BASELINE_COLLECTION: "the days an MLS ZIP's standing inventory was taken (version_log.py)",
    LOG_READS_COLLECTION: "when each snapshot day read the version log (version_log.py)",
    LEDGER_COLLECTION: "each report sent once per channel (report_ledger.py)",
    PARCEL_INVENTORY: "the Assessor's parcels, one per APN (parcel_inventory.py)",
    ZIP_SEARCHES: "each ZIP's Assessor search passes (parcel_inventory.py)",
    history_collection(SNAPSHOTS_COLLECTION): "old snapshot days as changes (snapshot_history.py)",
}
