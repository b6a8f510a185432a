import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "container: builds the Docker image with podman and runs it (minutes; skips, "
        "saying why, where podman cannot be had). Deselect with -m 'not container'.",
    )
