"""The run-failure alert sensor against a real Dagster instance, a real HTTP receiver and
a real SMTP server (STARTTLS + AUTH LOGIN), with runs that really failed."""

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import dagster as dg
import pytest
from pytest_httpserver import HTTPServer

from phoenix_assets.defs.automation.alerts import AlertChannelsResource, build_alert_sensor
from phoenix_assets.delivery.errors import DeliveryError
from phoenix_assets.settings import ConfigError
from phoenix_assets_tests.delivery.smtp_server import (
    SmtpTestServer,
    make_certificate,
    smtp_test_server,
)

SMTP_USER = "alerts@example.com"
SMTP_PASSWORD = "smtp-Pa55word-xyz"
SLACK_PATH = "/services/T000/B000/slackSECRETpath"
HOOK_PATH = "/hooks/genericSECRETpath"
UI_URL = "http://dagster.test:3000"
DB_PASSWORD = "hunter22-db-password"

# What the test's op and check do on their next run (execute_in_process runs in this
# process, so a module-level switch reaches them).
BEHAVIOUR = {"check_passes": False}

run_failure_alerts = build_alert_sensor()


@dg.op(config_schema={"fail": dg.Field(bool, default_value=False)})
def nightly_step(context: dg.OpExecutionContext) -> None:
    if context.op_config["fail"]:
        raise RuntimeError(f"source outage at mongodb://app:{DB_PASSWORD}@db.example.com/phoenix")


@dg.job
def nightly() -> None:
    nightly_step()


@dg.asset
def listings() -> int:
    return 3


@dg.asset_check(asset=listings)
def listings_have_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=BEHAVIOUR["check_passes"],
        severity=dg.AssetCheckSeverity.ERROR,
        description="No listing for ZIP 85018",
        metadata={"rows": 0},
    )


listings_job = dg.define_asset_job("listings_job", selection=[listings])


def run_nightly(instance: dg.DagsterInstance, *, fail: bool) -> dg.ExecuteInProcessResult:
    result = nightly.execute_in_process(
        instance=instance,
        run_config={"ops": {"nightly_step": {"config": {"fail": fail}}}},
        raise_on_error=False,
    )
    assert result.success is not fail
    return result


@dataclass
class Harness:
    """The sensor's world: an instance, definitions, and the receivers of its alerts."""

    instance: dg.DagsterInstance
    defs: dg.Definitions
    resource: AlertChannelsResource
    http: HTTPServer
    smtp: SmtpTestServer | None
    cursor: str | None = None
    tick_log: list[str] = field(default_factory=list)

    def tick(self) -> str:
        """Evaluate the sensor once; keep what it logged (the test servers' logs aside)."""
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            definitions=self.defs,
            resources={"alert_channels": self.resource},
        )
        with _collect_logs(context) as records:
            result = run_failure_alerts(context)
        self.tick_log += [r.getMessage() for r in records if r.name not in ("werkzeug", "mail.log")]
        assert isinstance(result, dg.SkipReason)
        self.cursor = context.cursor
        return result.skip_message or ""

    def posts(self, path: str) -> list[dict]:
        return [
            json.loads(request.get_data()) for request, _ in self.http.log if request.path == path
        ]

    def emails(self) -> list[EmailMessage]:
        assert self.smtp is not None
        return [received.message for received in self.smtp.received]

    def groups(self) -> dict:
        assert self.cursor is not None
        return json.loads(self.cursor)["groups"]

    def run_check(self, *, passes: bool) -> dg.ExecuteInProcessResult:
        BEHAVIOUR["check_passes"] = passes
        job = self.defs.resolve_job_def("listings_job")
        return job.execute_in_process(instance=self.instance, raise_on_error=False)


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _collect_logs(context: dg.SensorEvaluationContext) -> Iterator[list[logging.LogRecord]]:
    """Every record logged during the block: by the sensor (its ``context.log`` does not
    propagate to the root logger) and by libraries (httpx, smtplib's callers)."""
    collector = _Collector()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    context.log.addHandler(collector)
    try:
        yield collector.records
    finally:
        context.log.removeHandler(collector)
        root.removeHandler(collector)
        root.setLevel(previous)


def _defs(resource: AlertChannelsResource) -> dg.Definitions:
    return dg.Definitions(
        jobs=[nightly, listings_job],
        assets=[listings],
        asset_checks=[listings_have_rows],
        sensors=[run_failure_alerts],
        resources={"alert_channels": resource},
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No pipeline variable from the developer's shell; a DAGSTER_HOME of the test's own."""
    for name in list(os.environ):
        if name.startswith(("MONGODB_", "PHOENIX_", "MARICOPA_", "MLS_RESO_")):
            monkeypatch.delenv(name)
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))


@pytest.fixture
def http() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        server.expect_request(SLACK_PATH, method="POST").respond_with_data("ok")
        server.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
        yield server


@pytest.fixture
def harness(
    clean_env: None, http: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Harness]:
    certificate = make_certificate(tmp_path)
    # The sensor's email channel uses the default TLS context, which trusts SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert_path))
    # A secret of the environment (as MONGODB_URI would be) must never reach an alert.
    monkeypatch.setenv("TEST_DB_PASSWORD", DB_PASSWORD)
    with (
        smtp_test_server(
            certificate=certificate, username=SMTP_USER, password=SMTP_PASSWORD
        ) as smtp,
        dg.instance_for_test() as instance,
    ):
        resource = AlertChannelsResource(
            smtp_host=smtp.host,
            smtp_port=str(smtp.port),
            smtp_username=SMTP_USER,
            smtp_password=SMTP_PASSWORD,
            email_from="Phoenix Alerts <alerts@example.com>",
            alert_email_to="ops@example.com",
            slack_webhook_url=http.url_for(SLACK_PATH),
            webhook_url=http.url_for(HOOK_PATH),
            ui_url=UI_URL,
            cooldown_minutes="60",
        )
        yield Harness(
            instance=instance, defs=_defs(resource), resource=resource, http=http, smtp=smtp
        )


def _no_secret_in(*texts: str) -> None:
    for text in texts:
        for secret in ("SECRETpath", SMTP_PASSWORD, DB_PASSWORD):
            assert secret not in text


def test_failure_grouping_and_recovery_reach_every_channel(harness: Harness) -> None:
    # Ancient history: a failure before the sensor's first tick is never reported.
    run_nightly(harness.instance, fail=True)
    summary = harness.tick()
    assert summary.startswith("Watching runs that end from ")
    assert harness.http.log == []

    # First failure: one alert on each channel.
    failed = run_nightly(harness.instance, fail=True)
    summary = harness.tick()
    assert "1 run ended; 1 alert notice, sent by slack" in summary
    [slack] = harness.posts(SLACK_PATH)
    [hook] = harness.posts(HOOK_PATH)
    [mail] = harness.emails()
    title = "[phoenix_assets] Job nightly failed"
    assert slack["text"] == title
    assert slack["blocks"][0]["text"]["text"] == title
    run_link = f"{UI_URL}/runs/{failed.run_id}"
    assert f"<{run_link}|Open the run in Dagster>" in slack["blocks"][1]["text"]["text"]
    assert hook["event"] == "alert"
    assert hook["title"] == title
    [section] = hook["sections"]
    assert section["link"] == run_link
    assert (
        "Step 'nightly_step' failed: RuntimeError: source outage at mongodb://***@"
        in (section["text"])
    )
    assert hook["data"]["alerts"][0]["key"] == "job:nightly"
    assert mail["Subject"] == title
    assert mail["To"] == "ops@example.com"
    assert harness.smtp is not None and harness.smtp.received[0].over_tls
    assert harness.smtp.received[0].authenticated_as == SMTP_USER
    html = mail.get_body(preferencelist=("html",))
    assert html is not None and run_link in html.get_content()

    # A second failure within the cooldown: nothing new goes out; it is counted.
    run_nightly(harness.instance, fail=True)
    summary = harness.tick()
    assert summary == "1 run ended; no alert to send."
    assert len(harness.http.log) == 2
    assert len(harness.emails()) == 1
    assert harness.groups()["job:nightly"]["suppressed"] == 1

    # The first success: exactly one "recovered" message per channel.
    run_nightly(harness.instance, fail=False)
    harness.tick()
    assert len(harness.posts(SLACK_PATH)) == 2
    recovered = harness.posts(HOOK_PATH)[-1]
    assert recovered["title"] == "[phoenix_assets] Job nightly recovered"
    assert recovered["level"] == "success"
    assert "(2 failures)" in recovered["sections"][0]["text"]
    assert [m["Subject"] for m in harness.emails()][-1] == recovered["title"]

    # Another success, and a tick with nothing new: silence.
    run_nightly(harness.instance, fail=False)
    assert harness.tick() == "1 run ended; no alert to send."
    assert harness.tick() == "0 runs ended; no alert to send."
    assert len(harness.http.log) == 4
    assert len(harness.emails()) == 2

    assert any("Sent '[phoenix_assets] Job nightly failed' by slack" in m for m in harness.tick_log)
    _no_secret_in(
        harness.cursor or "",
        *harness.tick_log,
        *(json.dumps(p) for p in harness.posts(HOOK_PATH)),
        *(json.dumps(p) for p in harness.posts(SLACK_PATH)),
    )
    _no_secret_in(*(m.as_string() for m in harness.emails()))


def test_a_failed_asset_check_alerts_and_its_pass_recovers(harness: Harness) -> None:
    harness.tick()

    result = harness.run_check(passes=False)
    # The run itself succeeded: only the check is reported.
    assert result.success
    harness.tick()
    [hook] = harness.posts(HOOK_PATH)
    assert hook["title"] == "[phoenix_assets] Check listings:listings_have_rows failed (ERROR)"
    assert hook["level"] == "error"
    assert "No listing for ZIP 85018" in hook["sections"][0]["text"]
    assert "rows: 0" in hook["sections"][0]["text"]
    assert hook["data"]["alerts"][0]["key"] == "check:listings:listings_have_rows"
    assert hook["data"]["alerts"][0]["run_url"] == f"{UI_URL}/runs/{result.run_id}"

    harness.run_check(passes=True)
    harness.tick()
    recovered = harness.posts(HOOK_PATH)[-1]
    assert recovered["title"] == "[phoenix_assets] Check listings:listings_have_rows recovered"
    assert len(harness.posts(HOOK_PATH)) == 2
    assert len(harness.emails()) == 2


def test_a_job_and_a_check_failing_in_one_tick_make_one_message(harness: Harness) -> None:
    harness.tick()
    run_nightly(harness.instance, fail=True)
    harness.run_check(passes=False)
    harness.tick()
    [hook] = harness.posts(HOOK_PATH)
    assert hook["title"] == "[phoenix_assets] 2 failures"
    assert {a["key"] for a in hook["data"]["alerts"]} == {
        "job:nightly",
        "check:listings:listings_have_rows",
    }
    assert len(harness.emails()) == 1


def test_runs_of_jobs_outside_the_code_location_are_ignored(harness: Harness) -> None:
    harness.tick()

    @dg.asset
    def elsewhere() -> None:
        raise RuntimeError("not ours")

    result = dg.materialize([elsewhere], instance=harness.instance, raise_on_error=False)
    assert not result.success
    assert harness.tick() == "0 runs ended; no alert to send."
    assert harness.http.log == []


def test_turning_the_sensor_on_again_starts_from_then(harness: Harness) -> None:
    harness.tick()
    run_nightly(harness.instance, fail=True)
    # The sensor was turned off before this failure was seen, and on again after it.
    cursor = json.loads(harness.cursor or "{}")
    context = dg.build_sensor_context(
        instance=harness.instance,
        cursor=harness.cursor,
        definitions=harness.defs,
        resources={"alert_channels": harness.resource},
        last_sensor_start_time=cursor["last_tick_at"] + 3600 * 24 * 365,
    )
    result = run_failure_alerts(context)
    assert isinstance(result, dg.SkipReason)
    assert (result.skip_message or "").startswith("Watching runs that end from ")
    assert harness.http.log == []


def test_no_channel_configured_logs_one_line_and_does_not_fail(clean_env: None) -> None:
    logged: list[logging.LogRecord] = []
    resource = AlertChannelsResource()
    with dg.instance_for_test() as instance:
        defs = _defs(resource)
        cursor = None
        for step in ("first tick", "failure"):
            if step == "failure":
                run_nightly(instance, fail=True)
            context = dg.build_sensor_context(
                instance=instance,
                cursor=cursor,
                definitions=defs,
                resources={"alert_channels": resource},
            )
            with _collect_logs(context) as records:
                result = run_failure_alerts(context)
            logged += records
            cursor = context.cursor
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == (
        "1 run ended; 1 alert notice, not sent: no alert channel configured."
    )
    lines = [r for r in logged if "no alert channel configured" in r.getMessage()]
    assert len(lines) == 1
    assert "[phoenix_assets] Job nightly failed" in lines[0].getMessage()
    # The failure is still remembered: configuring a channel later does not replay it.
    assert json.loads(cursor or "{}")["groups"]["job:nightly"]["streak_failures"] == 1


def test_the_resource_reads_the_environment_at_run_time(
    clean_env: None, http: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHOENIX_ALERT_WEBHOOK_URL", http.url_for(HOOK_PATH))
    monkeypatch.setenv("PHOENIX_ALERT_COOLDOWN_MINUTES", "5")
    resource = AlertChannelsResource.from_environment()
    # Only the variables that are set become fields, as EnvVars (no value stored).
    assert isinstance(resource.webhook_url, dg.EnvVar)
    assert resource.slack_webhook_url is None
    with dg.instance_for_test() as instance:
        harness = Harness(
            instance=instance, defs=_defs(resource), resource=resource, http=http, smtp=None
        )
        harness.tick()
        run_nightly(instance, fail=True)
        harness.tick()
    [hook] = harness.posts(HOOK_PATH)
    assert hook["title"] == "[phoenix_assets] Job nightly failed"


# The code location: the sensor and its resource are there, and bad settings fail the load.


def test_the_code_location_has_the_sensor_and_its_resource(
    clean_env: None, load_definitions: Callable[[], dg.Definitions], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHOENIX_ALERT_SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x")
    defs = load_definitions()
    dg.Definitions.validate_loadable(defs)
    sensor = defs.resolve_sensor_def("run_failure_alerts")
    assert sensor.description and "cooldown" in sensor.description.lower()
    assert sensor.required_resource_keys == {"alert_channels"}
    resource = (defs.resources or {})["alert_channels"]
    assert isinstance(resource, AlertChannelsResource)
    # The secret is referenced by name, not copied into the definitions.
    assert resource.slack_webhook_url == dg.EnvVar("PHOENIX_ALERT_SLACK_WEBHOOK_URL")
    assert "hooks.slack.com" not in repr(resource)
    assert "run_failure_alerts" in {s.name for s in defs.sensors or []}


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PHOENIX_SMTP_PORT", "smtp", "PHOENIX_SMTP_PORT: 'smtp' is not a whole number"),
        ("PHOENIX_SMTP_STARTTLS", "perhaps", "PHOENIX_SMTP_STARTTLS: 'perhaps' is not a yes/no"),
        ("PHOENIX_SMTP_HOST", "smtp.example.com", "PHOENIX_EMAIL_FROM: not set"),
        ("PHOENIX_ALERT_EMAIL_TO", "ops@example.com", "PHOENIX_SMTP_HOST: not set"),
        ("PHOENIX_ALERT_WEBHOOK_URL", "example.com/hook", "PHOENIX_ALERT_WEBHOOK_URL: '***'"),
        ("PHOENIX_ALERT_COOLDOWN_MINUTES", "-5", "PHOENIX_ALERT_COOLDOWN_MINUTES: -5 is out"),
        ("PHOENIX_UI_URL", "dagster:3000", "PHOENIX_UI_URL: "),
    ],
)
def test_a_bad_delivery_setting_fails_the_load_naming_the_variable(
    clean_env: None,
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(Exception) as raised:
        load_definitions()
    chain: list[BaseException] = [raised.value]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
    assert any(isinstance(e, ConfigError) and message in str(e) for e in chain), chain


def test_when_every_channel_fails_the_next_tick_sends_again(clean_env: None) -> None:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as http:
        http.expect_ordered_request(HOOK_PATH).respond_with_data("invalid", status=400)
        http.expect_ordered_request(HOOK_PATH).respond_with_data("ok")
        resource = AlertChannelsResource(webhook_url=http.url_for(HOOK_PATH))
        with dg.instance_for_test() as instance:
            harness = Harness(
                instance=instance, defs=_defs(resource), resource=resource, http=http, smtp=None
            )
            harness.tick()
            before = harness.cursor
            run_nightly(instance, fail=True)

            with pytest.raises(DeliveryError, match="No alert channel delivered") as raised:
                harness.tick()
            assert "HTTP 400 (invalid)" in str(raised.value)
            assert "SECRETpath" not in str(raised.value)
            assert harness.cursor == before

            assert "sent by webhook" in harness.tick()
        http.check_assertions()
        titles = [body["title"] for body in harness.posts(HOOK_PATH)]
        assert titles == ["[phoenix_assets] Job nightly failed"] * 2
