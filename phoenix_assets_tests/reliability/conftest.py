"""The reliability suite: the pipeline killed, starved of MongoDB, replayed, misconfigured
and handed secrets. Run it alone with ``uv run pytest -m reliability``."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reliability: crash, outage, replay, bad-configuration and secret-leak tests "
        "(minutes). Run alone with -m reliability.",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/reliability/" in str(item.fspath):
            item.add_marker(pytest.mark.reliability)
