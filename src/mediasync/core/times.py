"""Times as users and S3 Batch requests write them: ISO 8601, no zone meaning UTC."""

from __future__ import annotations

import datetime


def iso_time(text: str) -> datetime.datetime:
    """``text`` as an aware datetime: a date, or a date and time with ``Z``/``z``, an
    offset or no zone (UTC). ValueError when it is none of these; callers say which
    option or field it came from."""
    value = text.strip()
    # fromisoformat takes "Z" from Python 3.11 on, but not "z".
    when = datetime.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


def iso_text(when: datetime.datetime) -> str:
    """``when`` in UTC as ISO 8601 with ``Z``: milliseconds only when there are some (S3
    keeps no finer)."""
    text = when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{when.microsecond // 1000:03d}" if when.microsecond else "") + "Z"
