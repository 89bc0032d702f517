# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Small checkers of plan values: each reports problems under a path and returns the usable value or None.

PRIVATE to the collection. They never raise on bad input: the validation must list every problem.
"""

from __future__ import annotations

import difflib
import math
import typing as t
from collections.abc import Mapping

from ..redaction import redact_url
from . import schema as s


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(redact_url(f"{path}: {message}"))


def join(path: str, key: t.Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    if isinstance(key, str) and key and all(c.isalnum() or c in "_-" for c in key):
        return f"{path}.{key}" if path else key
    return f"{path}[{redact_url(repr(key))}]"


def kind(value: t.Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def mapping(value: t.Any, path: str, problems: Problems, allowed: t.Iterable[str],
            required: t.Iterable[str] = ()) -> Mapping | None:
    """*value* if it is a mapping; reports unknown keys (with a suggestion) and missing required ones."""
    if not isinstance(value, Mapping):
        problems.add(path, f"must be a mapping, got {kind(value)}")
        return None
    allowed = tuple(allowed)
    for key in value:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1) if isinstance(key, str) else []
            hint = f" (did you mean {close[0]}?)" if close else f" (expected one of: {', '.join(allowed)})"
            problems.add(join(path, key), "unknown key" + hint)
    for key in required:
        if key not in value:
            problems.add(join(path, key), "is required")
    return value


def text(value: t.Any, path: str, problems: Problems, *, max_len: int = 255) -> str | None:
    """A non-empty single-line printable string."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        problems.add(path, f"must be a string (quote it: {value!r} was read as a number)")
        return None
    if not isinstance(value, str):
        problems.add(path, f"must be a string, got {kind(value)}")
        return None
    if not value.strip() or len(value) > max_len or any(ord(c) < 32 for c in value):
        problems.add(path, f"must be 1-{max_len} printable characters on one line")
        return None
    return value


def boolean(value: t.Any, path: str, problems: Problems, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.add(path, f"must be true or false, got {kind(value)}")
        return default
    return value


def number(value: t.Any, path: str, problems: Problems, *, integer: bool = False) -> float | None:
    """A non-negative number (an int when *integer*)."""
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or value < 0 or math.isnan(value):
        problems.add(path, f"must be a non-negative {'integer' if integer else 'number'}, got {value!r}")
        return None
    return value


def duration(value: t.Any, path: str, problems: Problems) -> float | None:
    seconds = s.parse_duration(value)
    if seconds is None:
        problems.add(path, f"must be a positive number of seconds (or 30s, 15m, 2h) below 10^7 s, got {value!r}")
    return seconds


def size(value: t.Any, path: str, problems: Problems, *, allow_zero: bool) -> s.Size | None:
    parsed = s.parse_size(value, allow_zero=allow_zero)
    if parsed is None:
        lowest = "0" if allow_zero else "1"
        problems.add(path, f"must be a count (integer >= {lowest}) or a percentage between {lowest}% and 100% "
                           f"written like \"25%\", got {value!r}")
    return parsed


def string_list(value: t.Any, path: str, problems: Problems) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):      # `depends_on: north` is a one-element list
        value = [value]
    if not isinstance(value, list):
        problems.add(path, f"must be a list of strings, got {kind(value)}")
        return []
    items = []
    for index, item in enumerate(value):
        checked = text(item, join(path, index), problems)
        if checked is not None:
            items.append(checked)
    return items


def check_timeouts(value: t.Any, path: str, problems: Problems, base: dict) -> dict:
    result = dict(base)
    data = mapping(value, path, problems, s.TIMEOUT_KEYS) if value is not None else {}
    for stage in s.TIMEOUT_KEYS:
        if data and stage in data:
            seconds = duration(data[stage], join(path, stage), problems)
            if seconds is not None:
                result[stage] = seconds
    return result
