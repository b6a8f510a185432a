"""The run-failure alert sensor and the resource that says where alerts go.

Settings (``phoenix_assets.delivery.settings``) are parsed when the code location
loads, so a bad value fails the load with a message naming the variable; the resource
then reads them through ``dg.EnvVar`` at run time, so no secret is ever written into
the definitions or shown in the UI.
"""

import time
from typing import ClassVar

import dagster as dg

from phoenix_assets.alerts.dispatch import alert_channels
from phoenix_assets.alerts.watch import evaluate_alerts
from phoenix_assets.defs.automation.settings import automation_default_status
from phoenix_assets.delivery.channels import Channel
from phoenix_assets.delivery.errors import DeliveryError
from phoenix_assets.delivery.redaction import secret_values_from_env
from phoenix_assets.delivery.settings import (
    PHOENIX_ALERT_COOLDOWN_MINUTES,
    PHOENIX_ALERT_EMAIL_TO,
    PHOENIX_ALERT_SLACK_WEBHOOK_URL,
    PHOENIX_ALERT_WEBHOOK_URL,
    PHOENIX_EMAIL_FROM,
    PHOENIX_SMTP_HOST,
    PHOENIX_SMTP_PASSWORD,
    PHOENIX_SMTP_PORT,
    PHOENIX_SMTP_STARTTLS,
    PHOENIX_SMTP_USERNAME,
    PHOENIX_UI_URL,
    AlertSettings,
)
from phoenix_assets.env_resource import EnvSettingsResource

DEFAULT_LOCATION_NAME = "phoenix_assets"

# Resource field -> the environment variable it is read from.
_FIELD_VARIABLES: dict[str, str] = {
    "smtp_host": PHOENIX_SMTP_HOST,
    "smtp_port": PHOENIX_SMTP_PORT,
    "smtp_username": PHOENIX_SMTP_USERNAME,
    "smtp_password": PHOENIX_SMTP_PASSWORD,
    "smtp_starttls": PHOENIX_SMTP_STARTTLS,
    "email_from": PHOENIX_EMAIL_FROM,
    "alert_email_to": PHOENIX_ALERT_EMAIL_TO,
    "slack_webhook_url": PHOENIX_ALERT_SLACK_WEBHOOK_URL,
    "webhook_url": PHOENIX_ALERT_WEBHOOK_URL,
    "cooldown_minutes": PHOENIX_ALERT_COOLDOWN_MINUTES,
    "ui_url": PHOENIX_UI_URL,
}


class AlertChannelsResource(EnvSettingsResource):
    """Where alerts go (Slack, a generic webhook, email) and how often.

    Each field holds its environment variable's text (``from_environment`` passes
    ``dg.EnvVar``s); ``settings()`` parses them with the same rules as at load time.
    An unset field means the variable is unset: its default applies.
    """

    variables: ClassVar[dict[str, str]] = _FIELD_VARIABLES

    smtp_host: str | None = None
    smtp_port: str | None = None
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: str | None = None
    email_from: str | None = None
    alert_email_to: str | None = None
    slack_webhook_url: str | None = None
    webhook_url: str | None = None
    cooldown_minutes: str | None = None
    ui_url: str | None = None

    def settings(self) -> AlertSettings:
        """The parsed settings (a ``ConfigError`` names the variable of a bad value)."""
        return AlertSettings.from_env(self.environ())

    def channels(self, settings: AlertSettings | None = None) -> list[Channel]:
        """The configured channels; empty when alerts go nowhere."""
        return alert_channels(settings or self.settings())


def _location_name(context: dg.SensorEvaluationContext) -> str:
    origin = context.code_location_origin
    return origin.location_name if origin else DEFAULT_LOCATION_NAME


def _belongs_here(run: dg.DagsterRun, context: dg.SensorEvaluationContext) -> bool:
    """Whether ``run`` is one of this code location's runs."""
    origin = run.remote_job_origin
    location = context.code_location_origin
    if origin is not None and location is not None:
        return origin.repository_origin.code_location_origin.location_name == location.location_name
    # A run launched in process (the CLI, a test) has no origin: match the job by name.
    repository = context.repository_def
    return repository is not None and repository.has_job(run.job_name)


def alert_tick(
    context: dg.SensorEvaluationContext, alert_channels: AlertChannelsResource
) -> dg.SkipReason:
    """Tell a person when a run of this code location fails or an asset check fails, and
    once more when it recovers (Slack, a generic webhook and/or email).

    Each tick reads the runs that ended (FAILURE, and SUCCESS for recovery) since the
    cursor, and the asset check results of those runs. Alerts are grouped per job
    (``job:<name>``) and per check (``check:<asset>:<check>``): one alert per key per
    ``PHOENIX_ALERT_COOLDOWN_MINUTES``, the next one saying how many failures it groups;
    the first success after failures sends one "recovered" message. A failed run that
    Dagster will retry is left to its retry. The first tick starts from now: nothing
    that ended before the sensor started is reported. When every channel fails, the tick
    fails and the next one sends again; when some succeed, the others' failures are logged.
    All state lives in the cursor, so alerting works with MongoDB down. The sensor never
    launches runs.
    """
    settings = alert_channels.settings()
    outcome = evaluate_alerts(
        context.instance,
        context.cursor,
        settings=settings,
        channels=alert_channels.channels(settings),
        belongs=lambda run: _belongs_here(run, context),
        logger=context.log,
        now=time.time(),
        started_at=context.last_sensor_start_time,
        location=_location_name(context),
        secrets=secret_values_from_env(),
    )
    report = outcome.report
    if report is not None and report.failed and not report.delivered:
        # Nobody got the alert: fail the tick without saving the cursor, so the next
        # tick sends it again (and the failed tick shows in the UI meanwhile).
        raise DeliveryError(f"No alert channel delivered; retrying next tick. {outcome.summary}")
    context.update_cursor(outcome.cursor)
    return dg.SkipReason(outcome.summary)


def build_alert_sensor() -> dg.SensorDefinition:
    """The sensor, its default status read when the code location loads."""
    return dg.sensor(
        name="run_failure_alerts",
        minimum_interval_seconds=60,
        default_status=automation_default_status(),
        description=(
            "Alerts a person (Slack, webhook, email) when a run of this code location fails "
            "or an asset check fails, at most once per job or check per "
            "PHOENIX_ALERT_COOLDOWN_MINUTES (the next alert counts the failures in between), "
            "and once when it recovers. Launches no run."
        ),
    )(alert_tick)


@dg.definitions
def alerting() -> dg.Definitions:
    """The alert sensor (its ``alert_channels`` resource is bound in ``defs/resources.py``)."""
    return dg.Definitions(sensors=[build_alert_sensor()])
