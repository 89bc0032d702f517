# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""URL credentials redaction for results, messages, log lines and events.

PRIVATE to the collection (re-exported by ``device.py``).
"""

from __future__ import annotations

import re
import typing as t

# user:password@ in any URL, redacted before a URL reaches a result, a log line or an event.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<cred>[^/@\s]+)@")
REDACTED = "********"


def redact_url(text: t.Any) -> t.Any:
    """Replace ``user:pass@`` inside every URL in *text* (any string) by ``********@``."""
    if not isinstance(text, str):
        return text
    return _URL_CREDENTIALS.sub(lambda m: m.group("scheme") + REDACTED + "@", text)


def url_secrets(value: t.Any) -> set[str]:
    """The ``user:pass`` parts of every URL found in *value* (strings, nested dicts/lists).

    Added to Ansible's no_log values so that copies Ansible makes itself (the module
    ``invocation``) are masked too.
    """
    found: set[str] = set()
    if isinstance(value, str):
        for match in _URL_CREDENTIALS.finditer(value):
            found.add(match.group("cred"))
            found.update(part for part in match.group("cred").split(":", 1)[1:] if part)
    elif isinstance(value, dict):
        for item in value.values():
            found |= url_secrets(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= url_secrets(item)
    return found


def redact(value: t.Any) -> t.Any:
    """Deep copy of *value* with URL credentials redacted in every string."""
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value
