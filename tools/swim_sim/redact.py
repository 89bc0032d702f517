"""Credential redaction for URLs in log lines, event texts and Kafka messages.

``http://user:pass@host/x`` becomes ``http://***@host/x``. Every text that may
carry a URL passes through :func:`redact` before it leaves the simulator.
"""
from __future__ import annotations

import logging
import re

# scheme://<userinfo>@  -- userinfo is everything up to the first '@' before any '/', whitespace or quote.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)[^/@\s\"'<>]+@")


def redact(text):
    """Return ``text`` with the userinfo part of every URL replaced by ``***``."""
    if not text:
        return text
    return _USERINFO.sub(r"\g<scheme>***@", str(text))


class RedactingFilter(logging.Filter):
    """Logging filter that redacts credentials from the fully formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


def setup_logging(level: int = logging.INFO, stream=None) -> None:
    """Configure root logging for the simulator processes (redacting, timestamped)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # kafka-python is chatty about connection attempts; our publisher reports what matters.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
