"""Where the run figures go: the environment variables, parsed when the code location loads.

Neither variable set means nothing is exported (the figures still become asset metadata).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from phoenix_assets.settings import (
    ConfigError,
    UrlRules,
    parse_number_setting,
    parse_url,
)

PHOENIX_METRICS_TEXTFILE_DIR = "PHOENIX_METRICS_TEXTFILE_DIR"
PHOENIX_METRICS_PUSHGATEWAY_URL = "PHOENIX_METRICS_PUSHGATEWAY_URL"
PHOENIX_METRICS_PUSH_TIMEOUT_SECONDS = "PHOENIX_METRICS_PUSH_TIMEOUT_SECONDS"

# A push that hangs must not hold up the asset for long: metrics are best effort.
DEFAULT_PUSH_TIMEOUT_SECONDS = 5.0


def parse_textfile_dir(raw: str | None) -> str | None:
    """``PHOENIX_METRICS_TEXTFILE_DIR``: node_exporter's textfile collector directory.

    Made absolute here, so every process writes to the same place whatever its working
    directory. A path that exists and is not a directory is refused; a missing directory
    is created by the first export, so its nearest existing ancestor must be a writable
    directory.
    """
    if raw is None or not raw.strip():
        return None
    path = Path(raw.strip()).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{PHOENIX_METRICS_TEXTFILE_DIR}: {str(path)!r} is not a directory")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{PHOENIX_METRICS_TEXTFILE_DIR}: cannot create or write {str(path)!r} "
            f"({str(ancestor)!r} is not a writable directory)"
        )
    return str(path)


# Nothing secret travels to a Pushgateway: plain http to any host.
PUSHGATEWAY_URL_RULES = UrlRules(plain_http="anywhere", example="http://pushgateway:9091")


def parse_pushgateway_url(raw: str | None) -> str | None:
    """``PHOENIX_METRICS_PUSHGATEWAY_URL``: a Prometheus Pushgateway's base URL.

    Plain http:// is accepted to any host, unlike the webhook URLs: the URL holds no
    secret (credentials, a query or a fragment are refused), what is pushed is run
    counts and durations, and a Pushgateway on the private network is usually served
    over http (its own default).
    """
    return parse_url(PHOENIX_METRICS_PUSHGATEWAY_URL, raw, PUSHGATEWAY_URL_RULES)


@dataclass(frozen=True)
class MetricsSettings:
    """Where metrics go: a textfile directory, a Pushgateway, both or neither."""

    textfile_dir: str | None = None
    pushgateway_url: str | None = None
    push_timeout_seconds: float = DEFAULT_PUSH_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "MetricsSettings":
        env = os.environ if environ is None else environ
        return cls(
            textfile_dir=parse_textfile_dir(env.get(PHOENIX_METRICS_TEXTFILE_DIR)),
            pushgateway_url=parse_pushgateway_url(env.get(PHOENIX_METRICS_PUSHGATEWAY_URL)),
            push_timeout_seconds=parse_number_setting(
                env,
                PHOENIX_METRICS_PUSH_TIMEOUT_SECONDS,
                DEFAULT_PUSH_TIMEOUT_SECONDS,
                integer=False,
                minimum=0,
                maximum=60,
                exclusive_minimum=True,
            ),
        )
