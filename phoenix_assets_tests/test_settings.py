"""Parsing and validation of every setting."""

import pytest

from phoenix_assets.settings import (
    DEFAULT_SOURCES,
    DEFAULT_ZIP_CODES,
    ConfigError,
    PipelineSettings,
    mask_uri,
    parse_zip_codes,
)


def test_defaults_work_with_nothing_set() -> None:
    settings = PipelineSettings.from_env({})
    assert settings.mongodb_uri is None
    assert settings.mongodb_database == "phoenix"
    assert settings.zip_codes == DEFAULT_ZIP_CODES and len(DEFAULT_ZIP_CODES) == 10
    assert settings.sources == DEFAULT_SOURCES == ("demo",)


def test_lists_are_trimmed_and_deduplicated() -> None:
    settings = PipelineSettings.from_env(
        {"PHOENIX_ZIP_CODES": " 85018, 85033 ,85018,", "PHOENIX_SOURCES": "DEMO"}
    )
    assert settings.zip_codes == ("85018", "85033")
    assert settings.sources == ("demo",)


def test_the_demo_scale_is_a_bounded_multiplier() -> None:
    assert PipelineSettings.from_env({}).demo_scale == 1.0
    assert PipelineSettings.from_env({"PHOENIX_DEMO_SCALE": "18"}).demo_scale == 18.0
    for raw in ("0", "-1", "31", "lots"):
        with pytest.raises(ConfigError, match="PHOENIX_DEMO_SCALE"):
            PipelineSettings.from_env({"PHOENIX_DEMO_SCALE": raw})


@pytest.mark.parametrize("raw", ["8501", "850188", "85-18", "abcde"])
def test_malformed_zip_codes_name_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="PHOENIX_ZIP_CODES"):
        parse_zip_codes(raw)


def test_a_valid_uri_is_kept_and_srv_is_not_resolved_at_load() -> None:
    uri = "mongodb+srv://user:secret@cluster0.invalid/?retryWrites=true"
    assert PipelineSettings.from_env({"MONGODB_URI": uri}).mongodb_uri == uri


def test_a_malformed_uri_error_never_shows_the_password() -> None:
    with pytest.raises(ConfigError) as raised:
        PipelineSettings.from_env({"MONGODB_URI": "mongodb://user:s3cret@host:notaport/"})
    assert "s3cret" not in str(raised.value)
    assert "MONGODB_URI" in str(raised.value)


@pytest.mark.parametrize(
    ("uri", "masked"),
    [
        ("mongodb://user:pa:ss@host/db", "mongodb://user:***@host/db"),
        ("mongodb+srv://u:p@cluster/x?y=1", "mongodb+srv://u:***@cluster/x?y=1"),
        ("mongodb://host:27017/", "mongodb://host:27017/"),
    ],
)
def test_mask_uri(uri: str, masked: str) -> None:
    assert mask_uri(uri) == masked
