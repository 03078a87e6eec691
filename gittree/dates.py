"""Dates: the ones people type for ``--since`` (one strict parser for every command), and authors' clocks."""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, timezone

from gittree.errors import BadValueError

_UNITS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
    "year": 365 * 86400,
}
_RELATIVE = re.compile(r"(\d+)[ .]+(second|minute|hour|day|week|month|year)s?[ .]+ago", re.I)


def parse_since(text: str, *, now: int) -> int:
    """Seconds since the epoch for ``--since``: ISO date/time, ``N units ago``, ``today``, ``yesterday``, ``@EPOCH``.

    Dates without a time zone are the local time, as in git. Anything else is refused (git's own date
    parser reads any text, even a typo, as "now", which would silently draw nothing).
    """
    cleaned = text.strip()
    lowered = cleaned.lower()
    local_now = datetime.fromtimestamp(now).astimezone()
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if re.fullmatch(r"@\d+", cleaned):  # seconds since the epoch, as git writes them
        return int(cleaned[1:])
    if lowered == "today":
        return int(midnight.timestamp())
    if lowered == "yesterday":
        return int((midnight - timedelta(days=1)).timestamp())
    relative = _RELATIVE.fullmatch(lowered)
    if relative:
        return now - int(relative.group(1)) * _UNITS[relative.group(2)]
    try:
        when = datetime.fromisoformat(cleaned.replace("Z", "+00:00") if cleaned.endswith("Z") else cleaned)
    except ValueError:
        raise BadValueError(
            f"cannot read the date '{text}'",
            hint="write 2026-03-01, 2026-03-01T14:00, 2026-03-01T14:00+02:00, '3 days ago', 2.weeks.ago, "
            "today or yesterday",
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()  # a naive time is local time
    return int(when.timestamp())


@functools.cache  # a tree has a handful of time zones and 100k dates
def author_zone(offset_minutes: int) -> timezone:
    """The fixed time zone of an author's clock, ``offset_minutes`` east of UTC (as git records it)."""
    return timezone(timedelta(minutes=offset_minutes))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def author_clock(seconds: int, offset_minutes: int) -> datetime:
    """The author's own clock at ``seconds`` since the epoch, in the zone ``offset_minutes`` east of UTC.

    A commit may carry any date git's parser took (commits are written by scripts too): one whose
    instant is past year 9999 in UTC but not on the author's clock (9999-12-31 12:00 -1200) is shown as
    git shows it; an offset of a day or more (``+9999``), which no time zone has, is shown in UTC; a
    date no calendar here can hold is shown as the epoch, as git shows a date it cannot represent.
    Never raises: one odd commit must not stop a view of the whole history.
    """
    zone = author_zone(offset_minutes) if -1440 < offset_minutes < 1440 else timezone.utc
    try:
        return datetime.fromtimestamp(seconds, zone)
    except (OverflowError, OSError, ValueError):
        pass
    try:  # the wall clock, computed without first passing through a UTC datetime
        shift = zone.utcoffset(None)
        return (datetime(1970, 1, 1) + (timedelta(seconds=seconds) + shift)).replace(tzinfo=zone)
    except (OverflowError, ValueError):
        return _EPOCH
