"""No secret leaks: the pipeline runs with every secret set to a distinctive value, against
real local servers (the Assessor and a RESO feed on pytest-httpserver, an SMTP server
with STARTTLS and a login, webhook receivers), through its success and failure paths,
and then every place text can end up is searched for every secret.

Searched: stdout and stderr (``capfd``), Python logging (``caplog``, every logger at
DEBUG but the test servers' own), every event of every run in the Dagster instance
(serialized), the instance's files on disk (event log, run storage, compute logs),
materialization and check metadata, the report files, every document of every
collection of the test database, the alert sensor's log, cursor and skip message, and
the bodies of every alert and report delivered (a webhook's URL path and the SMTP
password are the channels' own credentials: they travel in the request line and the
SMTP login, never in a body). ``test_the_search_finds_what_is_planted`` proves the
search finds a secret in each of those places.

The MongoDB URI's password cannot go through a working run here: the embedded test
server has no authentication, and PyMongo logs in whenever a URI has a user. Its run
points at a closed port instead, which is where the URI is most likely to be printed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from bson import json_util
from dagster._serdes import serialize_value
from pymongo.database import Database
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import phoenix_assets
from phoenix_assets.defs.automation.alerts import AlertChannelsResource
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.storage.collections import AUXILIARY_COLLECTIONS
from phoenix_assets_tests.delivery.smtp_server import (
    SmtpTestServer,
    make_certificate,
    smtp_test_server,
)
from phoenix_assets_tests.sources.fake_maricopa import FakeMaricopa
from phoenix_assets_tests.sources.fake_reso import (
    PROPERTY_PATH,
    TOKEN_PATH,
    FakeReso,
    make_listings,
)
from phoenix_assets_tests.tcp_faults import refusing_port

# Distinctive values: letters, digits and dashes only, so that JSON, HTML, URL and
# e-mail encodings leave them as they are and a plain search finds them.
MARICOPA_TOKEN = "mcTOKEN-leakcheck-5e1f0a93"
MLS_CLIENT_ID = "mlsCLIENTID-leakcheck-71c2e4"
MLS_CLIENT_SECRET = "mlsCLIENTSECRET-leakcheck-b8d4"
MLS_STATIC_TOKEN = "mlsBEARER-leakcheck-3a90f1"
SMTP_PASSWORD = "smtpPASSWORD-leakcheck-c6e7"
SLACK_SECRET = "slackPATH-leakcheck-04de"
ALERT_HOOK_SECRET = "alertHOOK-leakcheck-9f31"
REPORT_HOOK_SECRET = "reportHOOK-leakcheck-2b77"
MONGO_PASSWORD = "mongoPASSWORD-leakcheck-1d5c"

SMTP_USER = "alerts@example.com"
SLACK_PATH = f"/services/T000/B000/{SLACK_SECRET}"
ALERT_HOOK_PATH = f"/alerts/{ALERT_HOOK_SECRET}"
REPORT_HOOK_PATH = f"/hooks/{REPORT_HOOK_SECRET}"
ZIPS = ("85018", "85033")
# Loggers of the test's own servers: they are the other end of the wire, where a
# credential is supposed to arrive (aiosmtpd logs the SMTP dialogue at DEBUG).
SERVER_LOGGERS = ("mail.log", "werkzeug")

SECRETS = {
    "MARICOPA_API_TOKEN": MARICOPA_TOKEN,
    "MLS_RESO_CLIENT_ID": MLS_CLIENT_ID,
    "MLS_RESO_CLIENT_SECRET": MLS_CLIENT_SECRET,
    "MLS_RESO_TOKEN": MLS_STATIC_TOKEN,
    "PHOENIX_SMTP_PASSWORD": SMTP_PASSWORD,
    "PHOENIX_ALERT_SLACK_WEBHOOK_URL path": SLACK_SECRET,
    "PHOENIX_ALERT_WEBHOOK_URL path": ALERT_HOOK_SECRET,
    "PHOENIX_REPORT_WEBHOOK_URL path": REPORT_HOOK_SECRET,
    "MONGODB_URI password": MONGO_PASSWORD,
}


# --- the search ----------------------------------------------------------------------------


@dataclass
class LeakSearch:
    """Looks for every secret, as written and base64-encoded (how an SMTP login or an
    HTTP Basic header carries it), in everything it is given."""

    secrets: dict[str, str]
    looked_at: dict[str, int] = field(default_factory=dict)  # place -> texts searched
    found: list[str] = field(default_factory=list)

    def add_secret(self, label: str, value: str) -> None:
        self.secrets[label] = value

    def forms(self) -> dict[str, str]:
        forms = {}
        for label, value in self.secrets.items():
            forms[label] = value
            forms[f"{label} (base64)"] = base64.b64encode(value.encode()).decode()
        pair = f"{MLS_CLIENT_ID}:{MLS_CLIENT_SECRET}".encode()
        forms["MLS client id:secret (Basic auth)"] = base64.b64encode(pair).decode()
        return forms

    def search(self, place: str, data: str | bytes) -> None:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        self.looked_at[place] = self.looked_at.get(place, 0) + 1
        for label, form in self.forms().items():
            if form in text:
                at = text.index(form)
                self.found.append(f"{label} in {place}: ...{text[max(0, at - 120) : at + 60]}...")

    def assert_nothing_found(self) -> None:
        assert not self.found, "secrets leaked:\n" + "\n".join(self.found)


@dataclass
class Places:
    """Everything a run can leave text in, gathered for a ``LeakSearch``."""

    instance: dg.DagsterInstance
    instance_dir: Path
    db: Database[dict]
    folders: list[Path]
    caplog: pytest.LogCaptureFixture
    capfd: pytest.CaptureFixture[str]
    output: list[str] = field(default_factory=list)
    results: list[dg.ExecuteInProcessResult] = field(default_factory=list)
    extra: dict[str, list[str]] = field(default_factory=dict)  # delivered bodies, sensor text

    def add(self, place: str, text: str) -> None:
        self.extra.setdefault(place, []).append(text)

    def search(self, leaks: LeakSearch) -> None:
        captured = self.capfd.readouterr()
        self.output += [captured.out, captured.err]
        for text in self.output:
            leaks.search("stdout/stderr", text)
        for record in self.caplog.records:
            if not record.name.startswith(SERVER_LOGGERS):
                leaks.search(f"log record of {record.name}", _log_text(record))
        for run in self.instance.get_runs():
            leaks.search("run record", serialize_value(run))
            for entry in self.instance.all_logs(run.run_id):
                leaks.search("Dagster event log", serialize_value(entry))
                leaks.search("Dagster event log", str(entry))
        for result in self.results:
            for event in result.get_asset_materialization_events():
                leaks.search("materialization metadata", _metadata_text(event))
            for evaluation in result.get_asset_check_evaluations():
                leaks.search("check metadata", repr(evaluation.metadata))
                leaks.search("check metadata", str(evaluation.description))
        for folder in [self.instance_dir, *self.folders]:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    leaks.search(f"file {path.relative_to(folder)}", path.read_bytes())
        for name in self.db.list_collection_names():
            for document in self.db[name].find({}):
                leaks.search(f"mongo collection {name}", json_util.dumps(document))
        for place, texts in self.extra.items():
            for text in texts:
                leaks.search(place, text)


def _log_text(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return text


def _metadata_text(event: dg.DagsterEvent) -> str:
    materialization = event.step_materialization_data.materialization
    return "\n".join(f"{key}: {value.value!r}" for key, value in materialization.metadata.items())


# --- servers that echo what they were given -------------------------------------------------


@dataclass
class Echo:
    """Answer matching requests with ``status`` and a body quoting their credentials."""

    path: str  # exact, or a prefix when it ends with "*"
    status: int
    zip_code: str | None = None
    times: int | None = 1  # None: for ever
    hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, path: str, zip_code: str | None) -> bool:
        """Whether this request gets the echo (the servers answer from several threads)."""
        wanted = path.startswith(self.path[:-1]) if self.path.endswith("*") else path == self.path
        if not wanted or (self.zip_code is not None and zip_code != self.zip_code):
            return False
        with self._lock:
            if self.times is not None and self.hits >= self.times:
                return False
            self.hits += 1
            return True


def _echo_body(request: Request, status: int) -> Response:
    """What a careless server says: every credential it received, quoted back."""
    quoted = {
        "authorization": request.headers.get("Authorization"),
        "form": dict(request.form),
        "url": request.url,
    }
    body = json.dumps({"error": {"code": str(status), "message": f"rejected: {quoted}"}})
    return Response(body, status, content_type="application/json")


@dataclass
class EchoingAssessor(FakeMaricopa):
    """The fake Assessor, plus faults answered with the request's token quoted back."""

    echoes: list[Echo] = field(default_factory=list)

    def _handle(self, request: Request) -> Response:
        for echo in self.echoes:
            if echo.take(request.path, request.args.get("q")):
                return _echo_body(request, echo.status)
        return super()._handle(request)


class EchoingReso(FakeReso):
    """The fake RESO feed, plus faults answered with the bearer token or the client
    credentials quoted back."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.echoes: list[Echo] = []
        super().__init__(*args, **kwargs)

    def _echoed(self, request: Request) -> Response | None:
        match = re.search(r"PostalCode eq '(\d{5})'", request.args.get("$filter", ""))
        for echo in self.echoes:
            if echo.take(request.path, match.group(1) if match else None):
                return _echo_body(request, echo.status)
        return None

    def _handle_property(self, request: Request) -> Response:
        return self._echoed(request) or super()._handle_property(request)

    def _handle_token(self, request: Request) -> Response:
        return self._echoed(request) or super()._handle_token(request)


# --- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    """The servers, the instance and the places a run leaves text in."""

    assessor: EchoingAssessor
    reso: EchoingReso
    receiver: HTTPServer  # the Slack, alert and report webhooks
    smtp: SmtpTestServer
    instance: dg.DagsterInstance
    places: Places
    leaks: LeakSearch
    reports_dir: Path

    def posts(self, path: str) -> list[str]:
        return [
            request.get_data(as_text=True)
            for request, _ in self.receiver.log
            if request.path == path
        ]

    def emails(self) -> list[EmailMessage]:
        return [received.message for received in self.smtp.received]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections while the test runs: bound, never
    listening, so no other socket (an ephemeral client port included) can take it."""
    with refusing_port() as port:
        yield port


@pytest.fixture
def world(
    pipeline_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    db: Database[dict],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> Iterator[World]:
    """Every source, channel and secret configured against servers on 127.0.0.1."""
    caplog.set_level(logging.DEBUG)
    certificate = make_certificate(tmp_path)
    reports_dir = tmp_path / "reports"
    instance_dir = tmp_path / "instance"
    instance_dir.mkdir()
    dagster_home = Path(os.environ["DAGSTER_HOME"])  # the instance replaces it while open
    newest = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    with (
        HTTPServer(host="127.0.0.1", port=0, threaded=True) as assessor_server,
        HTTPServer(host="127.0.0.1", port=0, threaded=True) as reso_server,
        HTTPServer(host="127.0.0.1", port=0, threaded=True) as receiver,
        smtp_test_server(
            certificate=certificate, username=SMTP_USER, password=SMTP_PASSWORD
        ) as smtp,
        dg.instance_for_test(temp_dir=str(instance_dir)) as instance,
    ):
        assessor = EchoingAssessor(assessor_server, token=MARICOPA_TOKEN)
        for zip_code in ZIPS:
            assessor.add_zip(zip_code, 4)
        reso = EchoingReso(
            reso_server,
            make_listings(ZIPS, 5, newest=newest),
            auth="oauth",
            client_id=MLS_CLIENT_ID,
            client_secret=MLS_CLIENT_SECRET,
        )
        receiver.expect_request(SLACK_PATH, method="POST").respond_with_data("ok")
        receiver.expect_request(ALERT_HOOK_PATH, method="POST").respond_with_data("ok")
        env = {
            "PHOENIX_SOURCES": "demo,maricopa,mls",
            "PHOENIX_ZIP_CODES": ",".join(ZIPS),
            "PHOENIX_REPORTS_DIR": str(reports_dir),
            "MARICOPA_API_BASE_URL": assessor.base_url,
            "MARICOPA_API_TOKEN": MARICOPA_TOKEN,
            "MARICOPA_REQUESTS_PER_SECOND": "100",
            "MLS_RESO_BASE_URL": reso.base_url,
            "MLS_RESO_CLIENT_ID": MLS_CLIENT_ID,
            "MLS_RESO_CLIENT_SECRET": MLS_CLIENT_SECRET,
            "MLS_RESO_TOKEN_URL": reso.token_url,
            "MLS_RESO_REQUESTS_PER_SECOND": "100",
            "PHOENIX_SMTP_HOST": smtp.host,
            "PHOENIX_SMTP_PORT": str(smtp.port),
            "PHOENIX_SMTP_USERNAME": SMTP_USER,
            "PHOENIX_SMTP_PASSWORD": SMTP_PASSWORD,
            "PHOENIX_EMAIL_FROM": f"Phoenix <{SMTP_USER}>",
            "PHOENIX_REPORT_EMAIL_TO": "reader@example.com",
            "PHOENIX_REPORT_WEBHOOK_URL": receiver.url_for(REPORT_HOOK_PATH),
            "PHOENIX_ALERT_SLACK_WEBHOOK_URL": receiver.url_for(SLACK_PATH),
            "PHOENIX_ALERT_WEBHOOK_URL": receiver.url_for(ALERT_HOOK_PATH),
            "PHOENIX_ALERT_EMAIL_TO": "ops@example.com",
            "PHOENIX_UI_URL": "http://dagster.test:3000",
            # The SMTP server's self-signed certificate, trusted by the default TLS context.
            "SSL_CERT_FILE": str(certificate.cert_path),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        places = Places(
            instance=instance,
            instance_dir=instance_dir,
            db=db,
            folders=[reports_dir, dagster_home],
            caplog=caplog,
            capfd=capfd,
        )
        yield World(
            assessor=assessor,
            reso=reso,
            receiver=receiver,
            smtp=smtp,
            instance=instance,
            places=places,
            leaks=LeakSearch(dict(SECRETS)),
            reports_dir=reports_dir,
        )


def _load() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(phoenix_assets.__file__).parent)


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class AlertSensor:
    """The code location's ``run_failure_alerts`` sensor, ticked by hand."""

    defs: dg.Definitions
    world: World
    cursor: str | None = None

    def tick(self) -> str:
        context = dg.build_sensor_context(
            instance=self.world.instance,
            cursor=self.cursor,
            definitions=self.defs,
            resources={"alert_channels": AlertChannelsResource.from_environment()},
        )
        collector = _Collector()
        context.log.addHandler(collector)
        try:
            result = self.defs.resolve_sensor_def("run_failure_alerts")(context)
        finally:
            context.log.removeHandler(collector)
        assert isinstance(result, dg.SkipReason)
        self.cursor = context.cursor
        said = result.skip_message or ""
        places = self.world.places
        places.add("alert sensor skip message", said)
        places.add("alert sensor cursor", self.cursor or "")
        for record in collector.records:
            places.add("alert sensor log", _log_text(record))
        return said


def _run(defs: dg.Definitions, world: World, day: str, **options: Any) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def("daily_pipeline").execute_in_process(
        partition_key=day, instance=world.instance, raise_on_error=False, **options
    )
    world.places.results.append(result)
    return result


def _deliveries(world: World) -> None:
    """Every body the receivers got: alerts, the report's JSON, e-mails."""
    for request, _ in world.receiver.log:
        world.places.add(
            f"body POSTed to {request.path.rsplit('/', 1)[0]}/...", request.get_data(as_text=True)
        )
    for message in world.emails():
        world.places.add("e-mail delivered", message.as_string())


def _newest_day() -> str:
    newest = daily_partitions.get_last_partition_key()
    assert newest is not None
    return newest


# --- the tests ---------------------------------------------------------------------------------


def test_a_day_through_every_source_and_channel_leaks_no_secret(world: World) -> None:
    """The newest day with every source and channel on, each source answering faults that
    quote its credentials back (a 500 and a 401 that are retried, a 400 and a 404 that
    are not), and the report's webhook refusing it while quoting its own path: the run
    succeeds, the report goes out by e-mail, and no secret is anywhere."""
    world.assessor.echoes += [
        Echo("/search/property/", 500, zip_code="85033"),  # retried
        Echo("/parcel/*", 404, times=1),  # a parcel whose details fail: left for later
    ]
    world.reso.echoes += [
        Echo(TOKEN_PATH, 500),  # the first token request: retried
        Echo(PROPERTY_PATH, 500, zip_code="85018"),  # retried
        Echo(PROPERTY_PATH, 401, zip_code="85033"),  # a new token, then again:
        Echo(PROPERTY_PATH, 400, zip_code="85033", times=None),  # refused: the ZIP fails
    ]
    world.receiver.expect_request(REPORT_HOOK_PATH, method="POST").respond_with_data(
        f"Cannot POST {REPORT_HOOK_PATH}", status=400
    )
    defs = _load()
    sensor = AlertSensor(defs, world)
    sensor.tick()  # the sensor starts watching

    day = _newest_day()
    result = _run(defs, world, day)
    assert result.success
    sensor.tick()

    # Every fault was served, and its answer did quote the secrets back to the product.
    assert all(echo.hits for echo in [*world.assessor.echoes, *world.reso.echoes])
    answers = "".join(
        response.get_data(as_text=True)
        for _, response in [*world.assessor.server.log, *world.reso.server.log]
    )
    for secret in (MARICOPA_TOKEN, MLS_CLIENT_ID, MLS_CLIENT_SECRET, *world.reso.issued_tokens):
        assert secret in answers
    (mls,) = result.asset_materializations_for_node("raw_mls_listings")
    assert mls.metadata["count_token_refreshes_after_401"].value == 1
    assert mls.metadata["zip_codes_failed"].value == ["85033"]
    (report,) = result.asset_materializations_for_node("daily_market_report")
    assert report.metadata["delivery_email"].value == "sent"
    assert str(report.metadata["delivery_webhook"].value).startswith("failed: ")
    assert "HTTP 400" in str(report.metadata["delivery_webhook"].value)
    assert len(world.emails()) == 1 and world.posts(REPORT_HOOK_PATH)
    for token in world.reso.issued_tokens:
        world.leaks.add_secret("an MLS access token the run was issued", token)

    _deliveries(world)
    world.places.search(world.leaks)
    world.leaks.assert_nothing_found()
    looked = world.leaks.looked_at
    for place in (
        "stdout/stderr",
        "Dagster event log",
        "materialization metadata",
        "e-mail delivered",
    ):
        assert looked.get(place), f"nothing was searched in {place}: {sorted(looked)}"
    assert any(p.startswith("mongo collection raw_mls") for p in looked)
    assert any(p.startswith("file daily/") for p in looked)
    assert any(p.startswith("log record of phoenix_assets.sources") for p in looked)
    # The same full day also shows every collection the product writes is declared: an
    # asset's own, or one of storage/collections.py's (which the README's contract names).
    assets = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    written = set(world.places.db.list_collection_names())
    undeclared = written - assets - set(AUXILIARY_COLLECTIONS)
    assert undeclared == set()


def test_refused_credentials_and_a_failed_login_leak_no_secret(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both sources refuse the credentials with a 401 that quotes them back (the MLS with a
    static bearer token), so the run fails; the alert sensor reports it to Slack and the
    webhook while its e-mail is refused (a wrong SMTP password): no secret anywhere, the
    alerts included."""
    monkeypatch.delenv("MLS_RESO_CLIENT_ID")
    monkeypatch.delenv("MLS_RESO_CLIENT_SECRET")
    monkeypatch.delenv("MLS_RESO_TOKEN_URL")
    monkeypatch.setenv("MLS_RESO_TOKEN", MLS_STATIC_TOKEN)
    wrong_password = "smtpWRONG-leakcheck-8a1b"
    monkeypatch.setenv("PHOENIX_SMTP_PASSWORD", wrong_password)
    world.leaks.add_secret("the wrong SMTP password", wrong_password)
    world.assessor.echoes.append(Echo("/*", 401, times=None))
    world.reso.echoes.append(Echo(PROPERTY_PATH, 401, times=None))
    defs = _load()
    sensor = AlertSensor(defs, world)
    sensor.tick()

    result = _run(defs, world, "2026-11-17")
    assert not result.success
    assert result.is_node_success("raw_demo_listings")
    said = sensor.tick()

    _deliveries(world)
    world.places.search(world.leaks)
    world.leaks.assert_nothing_found()
    assert world.leaks.looked_at.get("alert sensor log")
    assert any(p.startswith("mongo collection collection_failures") for p in world.leaks.looked_at)

    # What was searched is what the brief says happened.
    assert "sent by" in said
    [slack] = world.posts(SLACK_PATH)
    [alert] = world.posts(ALERT_HOOK_PATH)
    assert "daily_pipeline" in slack and "daily_pipeline" in alert
    assert "MARICOPA_API_TOKEN" in alert and "MLS_RESO_TOKEN" in alert
    assert world.smtp.auth_attempts and not world.smtp.received  # the login was refused
    sensor_log = "\n".join(world.places.extra["alert sensor log"])
    assert "login refused" in sensor_log and "PHOENIX_SMTP_PASSWORD" in sensor_log


def test_the_mongodb_password_stays_out_of_an_unreachable_run(
    world: World, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    """MONGODB_URI with a password, on a closed port: the run fails naming the URI with
    its password masked, the alert about it says so too (not just "a resource failed"),
    and the password is nowhere."""
    port = closed_port
    monkeypatch.setenv("MONGODB_URI", f"mongodb://phoenix:{MONGO_PASSWORD}@127.0.0.1:{port}/")
    defs = _load()
    sensor = AlertSensor(defs, world)
    sensor.tick()
    result = _run(defs, world, "2026-11-17", asset_selection=[dg.AssetKey("raw_demo_listings")])
    assert not result.success
    sensor.tick()
    [alert] = world.posts(ALERT_HOOK_PATH)
    text = json.loads(alert)["text"]
    assert f"Cannot reach MongoDB at mongodb://***@127.0.0.1:{port}/" in text
    assert "MONGODB_URI" in text

    _deliveries(world)
    world.places.search(world.leaks)
    world.leaks.assert_nothing_found()
    assert world.leaks.looked_at.get("Dagster event log")


def test_the_search_finds_what_is_planted(world: World) -> None:
    """Each place the tests above search is really read: a secret planted in it is found
    (and a text without one is not)."""
    defs = _load()
    result = _run(defs, world, "2026-11-17", asset_selection=[dg.AssetKey("raw_demo_listings")])
    assert result.success
    clean = LeakSearch(dict(SECRETS))
    world.places.search(clean)
    clean.assert_nothing_found()

    (world.reports_dir / "daily").mkdir(parents=True, exist_ok=True)
    plants: list[tuple[str, Callable[[str], object]]] = [
        ("stdout/stderr", lambda secret: print(f"token={secret}")),
        ("stdout/stderr", lambda secret: print(secret, file=sys.stderr)),
        ("log record of phoenix_assets.planted", logging.getLogger("phoenix_assets.planted").debug),
        (
            "Dagster event log",
            lambda secret: world.instance.report_engine_event(
                f"engine says {secret}", result.dagster_run
            ),
        ),
        (
            "mongo collection planted",
            lambda secret: world.places.db["planted"].insert_one(
                {"_id": secret, "deep": {"list": [secret]}}
            ),
        ),
        (
            "file daily/planted",
            lambda secret: (world.reports_dir / "daily" / f"planted-{secret}.csv").write_text(
                secret
            ),
        ),
        ("materialization metadata", lambda secret: _materialize_metadata(world, secret)),
        (
            "body POSTed",
            lambda secret: world.places.add("body POSTed to /x/...", json.dumps([secret])),
        ),
        (
            "smtp dialogue",  # as the SMTP login carries it
            lambda secret: world.places.add(
                "smtp dialogue", base64.b64encode(secret.encode()).decode()
            ),
        ),
    ]
    for number, (place, plant) in enumerate(plants):
        secret = f"planted{number}-SECRET-{place.split()[0]}"
        search = LeakSearch({"planted": secret})
        world.places.search(search)
        assert not search.found, f"found before it was planted: {search.found}"
        plant(secret)
        world.places.search(search)
        assert any(f" in {place}" in found for found in search.found), (
            f"a secret planted in {place} was not found: {search.found}"
        )


def _materialize_metadata(world: World, secret: str) -> None:
    """Materialize an asset whose metadata holds ``secret`` (only for the plant)."""

    @dg.asset(name="planted_asset")
    def planted_asset() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"note": secret})

    result = dg.materialize([planted_asset], instance=world.instance)
    assert result.success
    world.places.results.append(result)
