"""The metrics settings: parsed at load, a bad value names its variable."""

from pathlib import Path

import pytest

from phoenix_assets.metrics.settings import (
    DEFAULT_PUSH_TIMEOUT_SECONDS,
    MetricsSettings,
    parse_pushgateway_url,
)
from phoenix_assets.settings import ConfigError


def test_nothing_set_means_nothing_exported() -> None:
    settings = MetricsSettings.from_env({})
    assert settings.textfile_dir is None
    assert settings.pushgateway_url is None
    assert settings.push_timeout_seconds == DEFAULT_PUSH_TIMEOUT_SECONDS


def test_values_are_normalized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = MetricsSettings.from_env(
        {
            "PHOENIX_METRICS_TEXTFILE_DIR": " metrics ",
            "PHOENIX_METRICS_PUSHGATEWAY_URL": "https://push.example.com:9091/",
            "PHOENIX_METRICS_PUSH_TIMEOUT_SECONDS": "2.5",
        }
    )
    # A relative directory is pinned at load, whatever a later process's working directory.
    assert settings.textfile_dir == str(tmp_path / "metrics")
    assert settings.pushgateway_url == "https://push.example.com:9091"
    assert settings.push_timeout_seconds == 2.5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("pushgateway:9091", "is not a valid URL"),
        ("ftp://pushgateway:9091", "is not a valid URL"),
        ("http://", "is not a valid URL"),
        ("http://user:secret@pushgateway:9091", "carries credentials"),
        ("http://pushgateway:9091/?x=1", "must not carry a query string or fragment"),
        ("http://pushgateway:99999", "its port, a number up to 65535"),
    ],
)
def test_a_bad_pushgateway_url_is_refused(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_pushgateway_url(value)
    assert str(raised.value).startswith("PHOENIX_METRICS_PUSHGATEWAY_URL: ")
    assert message in str(raised.value)
    assert "secret" not in str(raised.value)


@pytest.mark.parametrize(
    "value", ["http://pushgateway:9091", "http://10.0.0.7:9091", "http://127.0.0.1:9091"]
)
def test_a_pushgateway_over_plain_http_is_accepted(value: str) -> None:
    # Unlike a webhook URL it holds no secret (credentials and queries are refused), and a
    # Pushgateway on the private network is usually served over http.
    assert parse_pushgateway_url(value) == value


def test_a_textfile_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    a_file = tmp_path / "metrics.prom"
    a_file.write_text("")
    with pytest.raises(ConfigError, match=r"PHOENIX_METRICS_TEXTFILE_DIR: .* is not a directory"):
        MetricsSettings.from_env({"PHOENIX_METRICS_TEXTFILE_DIR": str(a_file)})
