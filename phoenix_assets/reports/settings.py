"""Where the reports land: ``PHOENIX_REPORTS_DIR``, by default ``$DAGSTER_HOME/reports``.

Parsed when the code location loads (a path that cannot be used fails the load with a
``ConfigError`` naming the variable) and again in the run's process, through the
``ReportsDirectory`` resource, which creates the folder when a report is written.
"""

import os
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from pydantic import Field

from phoenix_assets.settings import ConfigError

PHOENIX_REPORTS_DIR = "PHOENIX_REPORTS_DIR"
DAGSTER_HOME = "DAGSTER_HOME"
# The CLI's own default instance folder (``phoenix-assets`` uses ./.dagster_home).
DEFAULT_DAGSTER_HOME = ".dagster_home"


def default_reports_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$DAGSTER_HOME/reports``, or ``./.dagster_home/reports`` without a DAGSTER_HOME."""
    env = os.environ if env is None else env
    home = (env.get(DAGSTER_HOME) or "").strip() or DEFAULT_DAGSTER_HOME
    return Path(home).expanduser() / "reports"


def parse_reports_dir(raw: str | None, env: Mapping[str, str] | None = None) -> Path:
    """The absolute reports folder for ``raw`` (unset or blank: the default).

    The folder need not exist yet, but it must be creatable and writable: the nearest
    existing ancestor must be a writable directory. Otherwise a ``ConfigError`` names
    ``PHOENIX_REPORTS_DIR``.
    """
    text = (raw or "").strip()
    path = Path(os.path.expandvars(text)).expanduser() if text else default_reports_dir(env)
    path = path.absolute()
    origin = f"{PHOENIX_REPORTS_DIR}={text!r}" if text else f"{PHOENIX_REPORTS_DIR} (unset)"
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{origin}: {path} exists and is not a directory")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{origin}: cannot write reports to {path} ({ancestor} is not a writable "
            f"directory); set {PHOENIX_REPORTS_DIR} to a folder this process can write"
        )
    return path


def reports_dir(env: Mapping[str, str] | None = None) -> Path:
    """The reports folder the environment names (see ``parse_reports_dir``)."""
    env = os.environ if env is None else env
    return parse_reports_dir(env.get(PHOENIX_REPORTS_DIR), env)


class ReportsDirectory(dg.ConfigurableResource):
    """The folder the market reports are written to (``PHOENIX_REPORTS_DIR``)."""

    directory: str = Field(
        default="",
        description=f"The reports folder ({PHOENIX_REPORTS_DIR}); blank: $DAGSTER_HOME/reports.",
    )

    def path(self) -> Path:
        """The folder, parsed with the load-time rules, created if missing."""
        folder = parse_reports_dir(self.directory)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
