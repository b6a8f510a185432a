"""Where a report's files live: ``<reports dir>/daily/phoenix-market-<day>.{json,csv,html}``
and ``<reports dir>/weekly/phoenix-market-week-<monday>.{json,csv,html}``.

Names sort by date, so the latest report is the last name. Files are written to a
temporary name and renamed, so a reader never sees half a report.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["daily", "weekly"]
_PREFIX: dict[str, str] = {"daily": "phoenix-market-", "weekly": "phoenix-market-week-"}
EXTENSIONS = ("html", "json", "csv")


@dataclass(frozen=True)
class ReportFiles:
    """The three files of one report."""

    html: Path
    json: Path
    csv: Path

    def as_dict(self) -> dict[str, str]:
        return {"html": str(self.html), "json": str(self.json), "csv": str(self.csv)}


def report_files(directory: Path, kind: Kind, period: str) -> ReportFiles:
    """The paths of the report of ``period`` (a day, or a week's Monday)."""
    stem = directory / kind / f"{_PREFIX[kind]}{period}"
    return ReportFiles(
        html=stem.with_suffix(".html"), json=stem.with_suffix(".json"), csv=stem.with_suffix(".csv")
    )


def write_atomically(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def latest_report(directory: Path, kind: Kind) -> ReportFiles | None:
    """The newest report of ``kind`` that has its HTML file, or None."""
    folder = directory / kind
    prefix = _PREFIX[kind]
    if not folder.is_dir():
        return None
    candidates = sorted(
        path
        for path in folder.glob(f"{prefix}*.html")
        # "phoenix-market-week-..." also starts with the daily prefix: exclude it.
        if path.stem[len(prefix) :][:1].isdigit()
    )
    if not candidates:
        return None
    return report_files(directory, kind, candidates[-1].stem[len(prefix) :])
