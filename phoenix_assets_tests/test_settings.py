"""Parsing and validation of every setting."""

import pytest

from phoenix_assets.settings import (
    DEFAULT_SOURCES,
    DEFAULT_ZIP_CODES,
    ConfigError,
    PipelineSettings,
    UrlRules,
    mask_uri,
    parse_url,
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


# -- the one URL parser every URL setting goes through ---------------------------------

BASE = UrlRules(secrets_go="the token belongs in X_TOKEN", example="https://api.example.com")
OPEN = UrlRules(plain_http="anywhere", query=True, credentials=True, strip_slash=False)


@pytest.mark.parametrize(
    ("raw", "rules", "parsed"),
    [
        (None, BASE, None),
        ("  ", BASE, None),
        (" https://api.example.com/v1/ ", BASE, "https://api.example.com/v1"),
        ("http://localhost:8080/", BASE, "http://localhost:8080"),
        ("http://[::1]:8080", BASE, "http://[::1]:8080"),
        ("http://10.0.0.5/", OPEN, "http://10.0.0.5/"),
        ("https://me:pw@hooks.example.com/a?b=c", OPEN, "https://me:pw@hooks.example.com/a?b=c"),
    ],
)
def test_a_url_setting_is_kept_as_its_rules_allow(
    raw: str | None, rules: UrlRules, parsed: str | None
) -> None:
    assert parse_url("X_URL", raw, rules) == parsed


@pytest.mark.parametrize(
    ("raw", "rules", "says"),
    [
        ("api.example.com", BASE, "is not a valid URL (expected http:// or https://"),
        ("ftp://api.example.com", BASE, "such as https://api.example.com"),
        ("https://api.example.com:80a", BASE, "its port, a number up to 65535"),
        ("https://api.example.com/a b", BASE, "is not a valid URL"),
        ("https://me:SECRET@api.example.com", BASE, "carries credentials; the token belongs in"),
        ("https://api.example.com/?token=SECRET", BASE, "must not carry a query string"),
        ("http://api.example.com", BASE, "must use https:// (http:// only to this machine"),
        ("http://localhost.example.com", BASE, "must use https://"),
    ],
)
def test_a_url_setting_that_breaks_its_rules_names_the_variable_and_hides_secrets(
    raw: str, rules: UrlRules, says: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_url("X_URL", raw, rules)
    message = str(raised.value)
    assert message.startswith("X_URL: ") and says in message
    assert "SECRET" not in message


def test_a_secret_path_is_masked_in_the_error() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_url("X_HOOK", "http://hooks.example.com/T0/SECRET", UrlRules(secret_path=True))
    assert "'http://hooks.example.com/***'" in str(raised.value)
