"""The Mongo resource: sync and async clients on the same database."""

import asyncio

from phoenix_assets.storage.mongo_resource import MongoResource


def test_sync_and_async_clients_see_the_same_data(mongo_resource: MongoResource) -> None:
    mongo_resource.get_database()["probe"].insert_one({"_id": "a", "value": 1})

    async def read_and_write() -> dict | None:
        client = mongo_resource.get_async_client()
        try:
            collection = client[mongo_resource.database]["probe"]
            await collection.insert_one({"_id": "b", "value": 2})
            return await collection.find_one({"_id": "a"})
        finally:
            await client.close()

    assert asyncio.run(read_and_write()) == {"_id": "a", "value": 1}
    assert mongo_resource.get_database()["probe"].count_documents({}) == 2


def test_the_client_is_shared_within_a_process(mongo_resource: MongoResource) -> None:
    assert mongo_resource.get_client() is mongo_resource.get_client()
