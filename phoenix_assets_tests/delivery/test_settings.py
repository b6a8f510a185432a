"""Delivery settings: defaults, parsing, and errors that name the variable (and no secret)."""

import pytest

from phoenix_assets.delivery.settings import (
    AlertSettings,
    ReportDeliverySettings,
    SmtpSettings,
)
from phoenix_assets.settings import ConfigError

SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
FULL_ENV = {
    "PHOENIX_SMTP_HOST": "smtp.example.com",
    "PHOENIX_SMTP_PORT": "2525",
    "PHOENIX_SMTP_USERNAME": "alerts@example.com",
    "PHOENIX_SMTP_PASSWORD": " pass word ",
    "PHOENIX_SMTP_STARTTLS": "Yes",
    "PHOENIX_EMAIL_FROM": "Phoenix Alerts <alerts@example.com>",
    "PHOENIX_ALERT_EMAIL_TO": "ops@example.com; owner@example.org, ops@example.com",
    "PHOENIX_ALERT_SLACK_WEBHOOK_URL": SLACK_URL,
    "PHOENIX_ALERT_WEBHOOK_URL": "https://example.com/hooks/abc?token=1",
    "PHOENIX_ALERT_COOLDOWN_MINUTES": "15",
    "PHOENIX_UI_URL": "https://dagster.example.com/",
}


def test_nothing_set_means_no_channel_and_the_defaults() -> None:
    settings = AlertSettings.from_env({})
    assert settings == AlertSettings()
    assert settings.smtp is None
    assert settings.email_to == ()
    assert settings.cooldown_minutes == 60
    assert settings.cooldown_seconds == 3600
    assert settings.ui_url is None
    assert settings.secrets() == ()


def test_every_variable_is_parsed() -> None:
    settings = AlertSettings.from_env(FULL_ENV)
    assert settings.smtp == SmtpSettings(
        host="smtp.example.com",
        port=2525,
        sender="Phoenix Alerts <alerts@example.com>",
        starttls=True,
        username="alerts@example.com",
        password=" pass word ",
    )
    assert settings.email_to == ("ops@example.com", "owner@example.org")
    assert settings.slack_webhook_url == SLACK_URL
    assert settings.webhook_url == "https://example.com/hooks/abc?token=1"
    assert settings.cooldown_minutes == 15
    assert settings.ui_url == "https://dagster.example.com"
    assert set(settings.secrets()) == {
        " pass word ",
        SLACK_URL,
        "https://example.com/hooks/abc?token=1",
    }


def test_secrets_stay_out_of_repr() -> None:
    text = repr(AlertSettings.from_env(FULL_ENV))
    assert "pass word" not in text
    assert "XXXXsecretXXXX" not in text
    assert "hooks/abc" not in text


def test_smtp_defaults_to_port_587_with_starttls() -> None:
    smtp = SmtpSettings.from_env(
        {"PHOENIX_SMTP_HOST": "smtp.example.com", "PHOENIX_EMAIL_FROM": "a@example.com"}
    )
    assert smtp is not None
    assert (smtp.port, smtp.starttls, smtp.username, smtp.password) == (587, True, None, None)


def test_plain_login_is_allowed_to_a_local_relay() -> None:
    smtp = SmtpSettings.from_env(
        {
            "PHOENIX_SMTP_HOST": "localhost",
            "PHOENIX_EMAIL_FROM": "a@example.com",
            "PHOENIX_SMTP_STARTTLS": "off",
            "PHOENIX_SMTP_USERNAME": "u",
            "PHOENIX_SMTP_PASSWORD": "p",
        }
    )
    assert smtp is not None and not smtp.starttls


SMTP = {"PHOENIX_SMTP_HOST": "smtp.example.com", "PHOENIX_EMAIL_FROM": "a@example.com"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PHOENIX_SMTP_PORT": "abc"}, "PHOENIX_SMTP_PORT: 'abc' is not a whole number"),
        ({"PHOENIX_SMTP_PORT": "70000"}, "PHOENIX_SMTP_PORT: 70000 is out of range"),
        ({"PHOENIX_SMTP_PORT": "0"}, "PHOENIX_SMTP_PORT: 0 is out of range"),
        ({"PHOENIX_SMTP_STARTTLS": "maybe"}, "PHOENIX_SMTP_STARTTLS: 'maybe' is not a yes/no"),
        (
            {"PHOENIX_SMTP_HOST": "smtp.example.com"},
            "PHOENIX_EMAIL_FROM: not set; it is required when PHOENIX_SMTP_HOST is set",
        ),
        (
            {**SMTP, "PHOENIX_EMAIL_FROM": "alerts"},
            "PHOENIX_EMAIL_FROM: 'alerts' is not an email address",
        ),
        (
            {"PHOENIX_SMTP_HOST": "smtp://smtp.example.com"},
            "PHOENIX_SMTP_HOST: 'smtp://smtp.example.com' should be a host name only",
        ),
        (
            {"PHOENIX_SMTP_HOST": "smtp.example.com:587"},
            "put the port in PHOENIX_SMTP_PORT",
        ),
        ({"PHOENIX_SMTP_HOST": "smtp_example com"}, "PHOENIX_SMTP_HOST: 'smtp_example com'"),
        (
            {**SMTP, "PHOENIX_SMTP_USERNAME": "u"},
            "PHOENIX_SMTP_PASSWORD: not set, but PHOENIX_SMTP_USERNAME is",
        ),
        (
            {**SMTP, "PHOENIX_SMTP_PASSWORD": "p"},
            "PHOENIX_SMTP_USERNAME: not set, but PHOENIX_SMTP_PASSWORD is",
        ),
        (
            {
                **SMTP,
                "PHOENIX_SMTP_USERNAME": "u",
                "PHOENIX_SMTP_PASSWORD": "p",
                "PHOENIX_SMTP_STARTTLS": "false",
            },
            "PHOENIX_SMTP_STARTTLS: false while PHOENIX_SMTP_USERNAME is set",
        ),
        (
            {"PHOENIX_ALERT_EMAIL_TO": "ops@example.com"},
            "PHOENIX_SMTP_HOST: not set, but PHOENIX_ALERT_EMAIL_TO is",
        ),
        (
            {**SMTP, "PHOENIX_ALERT_EMAIL_TO": "ops@example.com, oops"},
            "PHOENIX_ALERT_EMAIL_TO: 'oops' is not an email address",
        ),
        (
            {**SMTP, "PHOENIX_ALERT_EMAIL_TO": "Ops <ops@example.com>"},
            "PHOENIX_ALERT_EMAIL_TO: 'Ops <ops@example.com>' should be a bare address",
        ),
        (
            {"PHOENIX_ALERT_COOLDOWN_MINUTES": "-1"},
            "PHOENIX_ALERT_COOLDOWN_MINUTES: -1 is out of range",
        ),
        (
            {"PHOENIX_ALERT_COOLDOWN_MINUTES": "soon"},
            "PHOENIX_ALERT_COOLDOWN_MINUTES: 'soon' is not a whole number",
        ),
        ({"PHOENIX_ALERT_WEBHOOK_URL": "ftp://example.com/x"}, "PHOENIX_ALERT_WEBHOOK_URL:"),
        ({"PHOENIX_UI_URL": "localhost:3000"}, "PHOENIX_UI_URL: "),
        ({"PHOENIX_UI_URL": "http://localhost:port"}, "PHOENIX_UI_URL: "),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        AlertSettings.from_env(env)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "hooks.slack.com/services/T000/B000/XXXXsecretXXXX",
        "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX and more",
        "https:///services/T000/B000/XXXXsecretXXXX",
    ],
)
def test_a_bad_webhook_url_is_refused_without_showing_its_path(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        AlertSettings.from_env({"PHOENIX_ALERT_SLACK_WEBHOOK_URL": url})
    message = str(raised.value)
    assert message.startswith("PHOENIX_ALERT_SLACK_WEBHOOK_URL: ")
    assert "is not a valid URL" in message
    assert "XXXXsecretXXXX" not in message


WEBHOOK_VARIABLES = (
    "PHOENIX_ALERT_SLACK_WEBHOOK_URL",
    "PHOENIX_ALERT_WEBHOOK_URL",
    "PHOENIX_REPORT_WEBHOOK_URL",
)


def _webhook_settings(name: str, url: str) -> str | None:
    """The URL of webhook variable ``name`` set to ``url``, as its settings parse it."""
    env = {name: url}
    if name == "PHOENIX_REPORT_WEBHOOK_URL":
        return ReportDeliverySettings.from_env(env).webhook_url
    alerts = AlertSettings.from_env(env)
    return (
        alerts.slack_webhook_url
        if name == "PHOENIX_ALERT_SLACK_WEBHOOK_URL"
        else alerts.webhook_url
    )


@pytest.mark.parametrize("name", WEBHOOK_VARIABLES)
@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.slack.com/services/T000/B000/XXXXsecretXXXX",
        "HTTP://hooks.example.com:8080/hooks/XXXXsecretXXXX",
        "http://10.0.0.5/hooks/XXXXsecretXXXX",  # a private network is still a network
        "http://localhost.example.com/XXXXsecretXXXX",
    ],
)
def test_a_webhook_over_plain_http_to_another_host_is_refused(name: str, url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _webhook_settings(name, url)
    message = str(raised.value)
    assert message.startswith(f"{name}: ")
    assert "must use https://" in message
    assert "XXXXsecretXXXX" not in message


@pytest.mark.parametrize("name", WEBHOOK_VARIABLES)
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks/abc",
        "http://localhost/hooks/abc",
        "http://[::1]:9000/hooks/abc",
        "https://hooks.example.com/hooks/abc",
    ],
)
def test_a_webhook_over_https_or_to_this_machine_is_accepted(name: str, url: str) -> None:
    assert _webhook_settings(name, url) == url


def test_the_ui_url_may_use_plain_http_to_any_host() -> None:
    # It is a link shown in messages, not a secret: an internal host over http is common.
    env = {"PHOENIX_UI_URL": "http://dagster.internal:3000/"}
    assert AlertSettings.from_env(env).ui_url == "http://dagster.internal:3000"


def test_email_settings_alone_do_not_need_alert_recipients() -> None:
    # SMTP may be configured for reports only: no recipient means no email alert channel.
    settings = AlertSettings.from_env(SMTP)
    assert settings.smtp is not None
    assert settings.email_to == ()
