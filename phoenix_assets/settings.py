"""The pipeline's settings: names, defaults and validation of every environment variable.

Dagster resources read these variables through ``dg.EnvVar`` at run time; the same
parsers run when the definitions load, so a wrong value fails the code location at
once with a message that names the variable to fix, instead of failing a run hours
later.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

MONGODB_URI = "MONGODB_URI"
MONGODB_DATABASE = "MONGODB_DATABASE"
MONGODB_SERVER_SELECTION_TIMEOUT_MS = "MONGODB_SERVER_SELECTION_TIMEOUT_MS"
MONGODB_CONNECT_TIMEOUT_MS = "MONGODB_CONNECT_TIMEOUT_MS"
MONGODB_SOCKET_TIMEOUT_MS = "MONGODB_SOCKET_TIMEOUT_MS"
PHOENIX_ZIP_CODES = "PHOENIX_ZIP_CODES"
PHOENIX_SOURCES = "PHOENIX_SOURCES"
PHOENIX_DEMO_SCALE = "PHOENIX_DEMO_SCALE"

DEFAULT_DATABASE = "phoenix"

# How long the pipeline waits on MongoDB before it fails a step, in milliseconds:
# - server selection: to find a server that answers (an outage fails a run this fast);
# - connect: to open a TCP connection, and for the driver's heartbeat to answer (a server
#   that stops answering heartbeats fails the operations in flight on it);
# - socket: for any one reply; a reply slower than 30 s is a hung server for this product
#   (its longest single commands take a few seconds, even on the embedded server).
DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 10_000
DEFAULT_CONNECT_TIMEOUT_MS = 10_000
DEFAULT_SOCKET_TIMEOUT_MS = 30_000
# Below these a healthy server fails the work (a value in seconds by mistake lands here);
# above ten minutes a hang is no longer caught.
MIN_TIMEOUT_MS = 100
MIN_SOCKET_TIMEOUT_MS = 1_000
MAX_TIMEOUT_MS = 600_000

# About ten Phoenix ZIP codes spanning the metro's price range, from Maryvale to
# Arcadia; the demo source knows a profile (price level, centre, city) for each.
DEFAULT_ZIP_CODES: tuple[str, ...] = (
    "85003",  # Downtown / Roosevelt
    "85006",  # Coronado / Garfield
    "85016",  # Biltmore / Camelback East
    "85018",  # Arcadia
    "85020",  # North Mountain / Sunnyslope
    "85032",  # Paradise Valley Village
    "85033",  # Maryvale
    "85041",  # South Mountain
    "85044",  # Ahwatukee
    "85085",  # North Phoenix / Norterra
)

# Sources the pipeline knows. `demo` works offline with no credentials; `maricopa` (the
# County Assessor's API) and `mls` (a RESO Web API feed) need their own settings.
KNOWN_SOURCES: tuple[str, ...] = ("demo", "maricopa", "mls")
DEFAULT_SOURCES: tuple[str, ...] = ("demo",)

_ZIP_RE = re.compile(r"^\d{5}$")
# Arizona's ZIP codes run from 85001 to 86556.
_AZ_ZIP_RANGE = (85001, 86556)
# MongoDB forbids these characters in database names (and a name over 63 bytes).
_DB_NAME_FORBIDDEN = re.compile(r'[/\\. "$*<>:|?\x00]')


class ConfigError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


def _split_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.replace(";", ",").split(",") if item.strip()]


def text_setting(env: Mapping[str, str], name: str) -> str | None:
    """Variable ``name``'s value without surrounding blanks, or None when unset or blank."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    return raw.strip()


def parse_number_setting(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    integer: bool,
    minimum: float,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
) -> Any:
    """A numeric setting: ``default`` when unset, else a number within bounds, or a
    ``ConfigError`` naming the variable."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    text = raw.strip()
    kind = "a whole number" if integer else "a number"
    try:
        value: float = int(text) if integer else float(text)
    except ValueError:
        raise ConfigError(f"{name}: {text!r} is not {kind}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name}: {text!r} is not a finite number")
    too_small = value <= minimum if exclusive_minimum else value < minimum
    if too_small or (maximum is not None and value > maximum):
        # .15g: a bound such as 500000000 is shown as written, not as 5e+08.
        bound = f"> {minimum:.15g}" if exclusive_minimum else f">= {minimum:.15g}"
        if maximum is not None:
            bound += f" and <= {maximum:.15g}"
        raise ConfigError(f"{name}: {text} is out of range (expected {bound})")
    return value


def parse_zip_codes(raw: str | None) -> tuple[str, ...]:
    """Parse ``PHOENIX_ZIP_CODES``: a comma list of 5-digit Arizona ZIP codes."""
    if raw is None or not raw.strip():
        return DEFAULT_ZIP_CODES
    zips: list[str] = []
    for item in _split_list(raw):
        if not _ZIP_RE.match(item):
            raise ConfigError(
                f"{PHOENIX_ZIP_CODES}: {item!r} is not a 5-digit ZIP code "
                f"(expected a comma list such as '85003,85016')"
            )
        if not _AZ_ZIP_RANGE[0] <= int(item) <= _AZ_ZIP_RANGE[1]:
            raise ConfigError(
                f"{PHOENIX_ZIP_CODES}: {item} is not an Arizona ZIP code "
                f"(Arizona's run from {_AZ_ZIP_RANGE[0]} to {_AZ_ZIP_RANGE[1]})"
            )
        if item not in zips:
            zips.append(item)
    if not zips:
        raise ConfigError(
            f"{PHOENIX_ZIP_CODES}: {raw.strip()!r} names no ZIP code "
            f"(expected a comma list such as '85003,85016'; unset it for the default list)"
        )
    return tuple(zips)


def parse_sources(raw: str | None) -> tuple[str, ...]:
    """Parse ``PHOENIX_SOURCES``: a comma list of enabled source names."""
    if raw is None or not raw.strip():
        return DEFAULT_SOURCES
    sources: list[str] = []
    for item in _split_list(raw.lower()):
        if item not in KNOWN_SOURCES:
            raise ConfigError(
                f"{PHOENIX_SOURCES}: unknown source {item!r} "
                f"(known sources: {', '.join(KNOWN_SOURCES)})"
            )
        if item not in sources:
            sources.append(item)
    if not sources:
        raise ConfigError(
            f"{PHOENIX_SOURCES}: {raw.strip()!r} names no source "
            f"(known sources: {', '.join(KNOWN_SOURCES)}; unset it for {','.join(DEFAULT_SOURCES)})"
        )
    return tuple(sources)


def parse_database(raw: str | None) -> str:
    """Parse ``MONGODB_DATABASE``: a MongoDB database name (default ``phoenix``)."""
    if raw is None or not raw.strip():
        return DEFAULT_DATABASE
    name = raw.strip()
    if _DB_NAME_FORBIDDEN.search(name) or len(name.encode()) > 63:
        raise ConfigError(
            f"{MONGODB_DATABASE}: {name!r} is not a valid MongoDB database name "
            '(at most 63 bytes, none of / \\ . space " $ * < > : | ?)'
        )
    return name


def parse_mongodb_uri(raw: str | None) -> str | None:
    """Parse ``MONGODB_URI``: unset means the embedded local server."""
    if raw is None or not raw.strip():
        return None
    uri = raw.strip()
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError(
            f"{MONGODB_URI}: expected a URI starting with mongodb:// or mongodb+srv:// "
            f"(got {mask_uri(uri)!r}); unset it to use the embedded local server"
        )
    if any(ch.isspace() for ch in uri):
        raise ConfigError(
            f"{MONGODB_URI}: {mask_uri(uri)!r} contains a space; percent-encode it "
            "(urllib.parse.quote_plus) or remove it"
        )
    # Syntax only: load time must not touch the network, so an SRV URI is checked
    # without the DNS lookup that ``parse_uri`` would make for it.
    from pymongo.uri_parser import parse_uri
    from pymongo.uri_parser_shared import _validate_uri

    try:
        if uri.startswith("mongodb+srv://"):
            _validate_uri(uri)
        else:
            parse_uri(uri, connect_timeout=1)
    except Exception as exc:  # pymongo raises several error types here
        reason = str(exc)
        password = uri_password(uri)
        if password and len(password) >= 4:
            reason = reason.replace(password, "***")
        raise ConfigError(
            f"{MONGODB_URI}: {mask_uri(uri)!r} is not a valid URI: {reason}"
        ) from None
    return uri


def uri_password(uri: str) -> str | None:
    """The password part of ``uri``'s user info, as written (None when there is none)."""
    rest = uri.partition("://")[2] or uri
    userinfo, at, _ = rest.rpartition("@")
    _, colon, password = userinfo.partition(":")
    return password if at and colon else None


def mask_uri(uri: str) -> str:
    """Return ``uri`` with any password replaced by ``***``, safe for logs and errors.

    Whatever the scheme, or none (a URI pasted without ``mongodb://``), and even when the
    password was not percent-encoded (an ``@``, ``:`` or ``/`` inside it, or no user
    name before it): everything from the first ``:`` of the user info to the last ``@``
    is hidden. A URI whose options hold an ``@`` may be masked more than needed, never less.
    """
    if uri_password(uri) is None:
        return uri
    scheme, sep, rest = uri.partition("://")
    prefix, rest = (f"{scheme}{sep}", rest) if sep else ("", uri)
    userinfo, _, hosts = rest.rpartition("@")
    return f"{prefix}{userinfo.partition(':')[0]}:***@{hosts}"


def display_url(url: str) -> str:
    """``url`` safe for an error message: its password, query and fragment hidden.

    A base URL holds no secret by design, but a mistaken one may (a token pasted as
    ``?access_token=...``, credentials in ``user:password@host``).
    """
    masked = mask_uri(url)
    for mark in ("?", "#"):
        head, sep, _ = masked.partition(mark)
        if sep:
            masked = f"{head}{mark}***"
    return masked


# This machine: plain http to it crosses no network.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def mask_url(url: str) -> str:
    """``url`` with its path, query and any credentials hidden: safe for logs and errors.

    ``https://hooks.slack.com/services/T0/B0/xyz`` becomes ``https://hooks.slack.com/***``.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "***"
    if not parts.scheme or not host:
        return "***"
    if ":" in host:  # an IPv6 literal goes back in brackets
        host = f"[{host}]"
    hidden = "/***" if (parts.path.strip("/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{host}{port}{hidden}"


@dataclass(frozen=True)
class UrlRules:
    """What a URL setting may hold, beyond ``http(s)://host[:port]/path``.

    - ``plain_http``: ``"local"`` when a secret travels with the requests (a token, a
      webhook's own path), so plain http is only for this machine; ``"anywhere"`` when
      nothing secret does.
    - ``query``, ``credentials``: whether a query string or fragment, or ``user:password@``,
      may be part of it (a webhook's address is whatever its service gave).
    - ``secret_path``: the path is itself a secret (a webhook's): errors show it masked.
    - ``secrets_go``: where a secret belongs instead (named when one is in the URL).
    - ``example``, ``why_https``: said in the errors.
    - ``strip_slash``: a base URL loses its trailing ``/``; a webhook's is kept as given.
    """

    plain_http: Literal["local", "anywhere"] = "local"
    query: bool = False
    credentials: bool = False
    secret_path: bool = False
    secrets_go: str = ""
    example: str = ""
    why_https: str = ""
    strip_slash: bool = True


def parse_url(name: str, raw: str | None, rules: UrlRules) -> str | None:
    """The URL setting ``name`` (its raw value ``raw``), or None when unset or blank; a
    ``ConfigError`` naming ``name`` when it breaks ``rules``. Errors never show a
    password, a query or (with ``secret_path``) a path."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    shown = mask_url(text) if rules.secret_path else display_url(text)
    example = f", such as {rules.example}" if rules.example else ""
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError(
            f"{name}: {shown!r} is not a valid URL (its host or its port, a number up to "
            f"65535, cannot be read{example})"
        ) from None
    if parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in text):
        raise ConfigError(
            f"{name}: {shown!r} is not a valid URL "
            f"(expected http:// or https:// followed by a host{example})"
        )
    instead = f"; {rules.secrets_go}" if rules.secrets_go else ""
    if not rules.credentials and (parts.username or parts.password):
        # They would be sent as Basic auth and shown wherever the URL is logged.
        raise ConfigError(f"{name}: {shown!r} carries credentials{instead}")
    if not rules.query and (parts.query or parts.fragment):
        raise ConfigError(f"{name}: {shown!r} must not carry a query string or fragment{instead}")
    if rules.plain_http == "local" and parts.scheme == "http" and host not in LOCAL_HOSTS:
        why = f": {rules.why_https}" if rules.why_https else ""
        raise ConfigError(
            f"{name}: {shown!r} must use https:// (http:// only to this machine: localhost, "
            f"127.0.0.1 or [::1]){why}"
        )
    return text.rstrip("/") if rules.strip_slash else text


@dataclass(frozen=True)
class PipelineSettings:
    """Every setting of the pipeline, parsed and validated."""

    mongodb_uri: str | None
    mongodb_database: str
    zip_codes: tuple[str, ...]
    sources: tuple[str, ...]
    # Multiplies the demo source's new listings a day (load tests; 18 gives ~50,000).
    demo_scale: float = 1.0
    mongodb_server_selection_timeout_ms: int = DEFAULT_SERVER_SELECTION_TIMEOUT_MS
    mongodb_connect_timeout_ms: int = DEFAULT_CONNECT_TIMEOUT_MS
    mongodb_socket_timeout_ms: int = DEFAULT_SOCKET_TIMEOUT_MS

    def mongodb_timeouts(self) -> dict[str, int]:
        """The timeouts as ``MongoResource`` takes them (keyword arguments)."""
        return {
            "server_selection_timeout_ms": self.mongodb_server_selection_timeout_ms,
            "connect_timeout_ms": self.mongodb_connect_timeout_ms,
            "socket_timeout_ms": self.mongodb_socket_timeout_ms,
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PipelineSettings:
        env = os.environ if environ is None else environ
        return cls(
            mongodb_uri=parse_mongodb_uri(env.get(MONGODB_URI)),
            mongodb_database=parse_database(env.get(MONGODB_DATABASE)),
            zip_codes=parse_zip_codes(env.get(PHOENIX_ZIP_CODES)),
            sources=parse_sources(env.get(PHOENIX_SOURCES)),
            demo_scale=parse_number_setting(
                env,
                PHOENIX_DEMO_SCALE,
                1.0,
                integer=False,
                minimum=0,
                maximum=30,
                exclusive_minimum=True,
            ),
            mongodb_server_selection_timeout_ms=parse_number_setting(
                env,
                MONGODB_SERVER_SELECTION_TIMEOUT_MS,
                DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
                integer=True,
                minimum=MIN_TIMEOUT_MS,
                maximum=MAX_TIMEOUT_MS,
            ),
            mongodb_connect_timeout_ms=parse_number_setting(
                env,
                MONGODB_CONNECT_TIMEOUT_MS,
                DEFAULT_CONNECT_TIMEOUT_MS,
                integer=True,
                minimum=MIN_TIMEOUT_MS,
                maximum=MAX_TIMEOUT_MS,
            ),
            mongodb_socket_timeout_ms=parse_number_setting(
                env,
                MONGODB_SOCKET_TIMEOUT_MS,
                DEFAULT_SOCKET_TIMEOUT_MS,
                integer=True,
                minimum=MIN_SOCKET_TIMEOUT_MS,
                maximum=MAX_TIMEOUT_MS,
            ),
        )
