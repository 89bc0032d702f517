# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Timestamps: UTC now in RFC 3339, and parsing the ``date-and-time`` values devices report.

PRIVATE to the collection (``utc_now`` is re-exported by ``device.py``).
"""

from __future__ import annotations

import datetime


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime.datetime | None:
    """A ``yang:date-and-time`` (``Z`` or an offset) as an aware datetime; None when it is not one."""
    try:
        stamp = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.timezone.utc)


def rfc3339(stamp: datetime.datetime) -> str:
    """*stamp* in UTC, to the second, ``Z``-suffixed (what ``startTime`` of create-subscription takes)."""
    return stamp.astimezone(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
