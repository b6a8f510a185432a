"""Alert messages: what a person reads when a job or a check fails, and when it recovers.

One notice makes one ``Section`` (heading, the error in short, partition, run, a link
to the run in the Dagster UI when ``PHOENIX_UI_URL`` is set); the notices of one sensor
tick go out together as one ``Notification``, so a run that fails three checks is one
message, not four. Every free text (error messages, check descriptions) is scrubbed of
secrets and truncated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from phoenix_assets.alerts.grouping import Notice
from phoenix_assets.alerts.observations import Observation
from phoenix_assets.delivery.message import Level, Notification, Section
from phoenix_assets.delivery.redaction import scrub

ERROR_SUMMARY_MAX_CHARS = 600
_IMPLICIT_ASSET_JOB = "__ASSET_JOB"
_LEVEL_RANK: dict[Level, int] = {"success": 0, "info": 1, "warning": 2, "error": 3}


def truncate(text: str, limit: int = ERROR_SUMMARY_MAX_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying so when it was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 14].rstrip() + " … (truncated)"


def format_duration(seconds: float) -> str:
    """A short human duration: ``45 s``, ``12 min``, ``2 h 5 min``, ``3 d 4 h``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def run_url(ui_url: str | None, run_id: str) -> str | None:
    """The run's page in the Dagster UI, when the UI's address is known."""
    return f"{ui_url.rstrip('/')}/runs/{run_id}" if ui_url else None


def _utc(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _subject(observation: Observation) -> str:
    if observation.kind == "check":
        return f"Check {observation.name}"
    if observation.job_name == _IMPLICIT_ASSET_JOB:
        return "Asset materialization (__ASSET_JOB)"
    return f"Job {observation.job_name}"


def _level(notice: Notice, observation: Observation) -> Level:
    if notice.kind == "recovered":
        return "success"
    return "warning" if observation.severity == "WARN" else "error"


def build_section(
    notice: Notice,
    observation: Observation,
    *,
    ui_url: str | None,
    cooldown_minutes: int,
    secrets: Iterable[str] = (),
) -> Section:
    """The part of a message about one notice."""
    secrets = tuple(secrets)
    subject = _subject(observation)
    lines: list[str] = []
    if notice.kind == "failure":
        heading = f"{subject} failed"
        if observation.severity:
            heading += f" ({observation.severity})"
        if observation.error:
            lines.append(truncate(scrub(observation.error, secrets)))
        if notice.failures > 1:
            lines.append(
                f"Failing since {_utc(notice.at - notice.failing_seconds)} "
                f"({_plural(notice.failures, 'failure')} in a row)."
            )
        if notice.grouped:
            lines.append(
                f"{_plural(notice.grouped, 'more failure')} since the last alert "
                f"{'was' if notice.grouped == 1 else 'were'} grouped into this one "
                f"(alerts for one job or check go out at most once per "
                f"{format_duration(cooldown_minutes * 60)})."
            )
    else:
        heading = f"{subject} recovered"
        lines.append(
            f"Succeeded again after failing for {format_duration(notice.failing_seconds)} "
            f"({_plural(notice.failures, 'failure')})."
        )
    fields: list[tuple[str, str]] = []
    if observation.partition:
        fields.append(("Partition", observation.partition))
    if observation.failed_partitions and notice.kind == "failure":
        shown = ", ".join(observation.failed_partitions[:10])
        more = len(observation.failed_partitions) - 10
        fields.append(("Failed partitions", shown + (f" (+{more} more)" if more > 0 else "")))
    if observation.kind == "check":
        fields.append(("Job", observation.job_name))
    fields.append(("Run", observation.run_id))
    fields.append(("Ended", _utc(observation.at)))
    return Section(
        heading=heading,
        text="\n".join(lines),
        level=_level(notice, observation),
        fields=tuple(fields),
        link=run_url(ui_url, observation.run_id),
        link_label="Open the run in Dagster",
    )


def build_notification(
    items: Sequence[tuple[Notice, Observation]],
    *,
    ui_url: str | None,
    cooldown_minutes: int,
    location: str = "phoenix_assets",
    secrets: Iterable[str] = (),
) -> Notification:
    """One message for the notices of one tick: one section each, the worst level wins."""
    if not items:
        raise ValueError("build_notification: no notice")
    secrets = tuple(secrets)
    sections = tuple(
        build_section(
            notice, observation, ui_url=ui_url, cooldown_minutes=cooldown_minutes, secrets=secrets
        )
        for notice, observation in items
    )
    level = max((section.level for section in sections), key=_LEVEL_RANK.__getitem__)
    if len(sections) == 1:
        title = f"[{location}] {sections[0].heading}"
    else:
        failures = sum(1 for notice, _ in items if notice.kind == "failure")
        recoveries = len(items) - failures
        counts = [
            _plural(failures, "failure") if failures else "",
            (f"{recoveries} recover{'y' if recoveries == 1 else 'ies'}" if recoveries else ""),
        ]
        title = f"[{location}] {', '.join(c for c in counts if c)}"
    data: dict[str, Any] = {
        "location": location,
        "alerts": [
            {
                "kind": notice.kind,
                "key": notice.key,
                "at": dt.datetime.fromtimestamp(notice.at, dt.UTC).isoformat(),
                "run_id": observation.run_id,
                "job_name": observation.job_name,
                "partition": observation.partition,
                "severity": observation.severity,
                "grouped": notice.grouped,
                "failures": notice.failures,
                "failing_seconds": round(notice.failing_seconds, 1),
                "run_url": run_url(ui_url, observation.run_id),
            }
            for notice, observation in items
        ],
    }
    return Notification(
        title=title,
        sections=sections,
        level=level,
        source=location,
        event="alert",
        data=data,
    )
