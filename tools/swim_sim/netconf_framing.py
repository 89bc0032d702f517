"""NETCONF message framing over SSH (RFC 6242).

* base:1.0 end-of-message framing: every message ends with ``]]>]]>`` (always used for <hello>).
* base:1.1 chunked framing: ``\\n#<len>\\n<bytes>`` chunks, the message ends with ``\\n##\\n``.
"""
from __future__ import annotations

EOM = b"]]>]]>"
MAX_CHUNK = 4294967295
MAX_MESSAGE = 16 * 1024 * 1024  # a simulator has no business receiving bigger RPCs


class FramingError(Exception):
    """The peer broke the framing rules: the session must be closed."""


def frame(message: bytes, chunked: bool, chunk_size: int = 65536) -> bytes:
    if not chunked:
        return message + EOM
    parts = []
    for start in range(0, len(message), chunk_size):
        chunk = message[start:start + chunk_size]
        parts.append(b"\n#%d\n" % len(chunk) + chunk)
    return b"".join(parts) + b"\n##\n"


class FrameReader:
    """Incremental decoder: :meth:`feed` bytes, get back the complete messages."""

    def __init__(self) -> None:
        self.chunked = False
        self._buf = b""
        self._msg = b""

    def switch_to_chunked(self) -> None:
        self.chunked = True

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        if len(self._buf) + len(self._msg) > MAX_MESSAGE:
            raise FramingError(f"message larger than {MAX_MESSAGE} bytes")
        messages = []
        while True:
            message = self._next_chunked() if self.chunked else self._next_eom()
            if message is None:
                return messages
            messages.append(message)
            if not self.chunked:
                # After the hello the caller may switch framing: hand back one message at a time
                # so the rest of the buffer is decoded with the new framing.
                return messages

    def _next_eom(self) -> bytes | None:
        index = self._buf.find(EOM)
        if index < 0:
            return None
        message, self._buf = self._buf[:index], self._buf[index + len(EOM):]
        return message

    def _next_chunked(self) -> bytes | None:
        while True:
            if len(self._buf) < 4:
                return None
            if not self._buf.startswith(b"\n#"):
                raise FramingError(f"bad chunk header {self._buf[:12]!r}")
            if self._buf.startswith(b"\n##\n"):
                message, self._msg = self._msg, b""
                self._buf = self._buf[4:]
                return message
            end = self._buf.find(b"\n", 2)
            if end < 0:
                if len(self._buf) > 13:
                    raise FramingError(f"bad chunk header {self._buf[:12]!r}")
                return None
            size_text = self._buf[2:end]
            if not size_text.isdigit() or size_text.startswith(b"0") or int(size_text) > MAX_CHUNK:
                raise FramingError(f"bad chunk size {size_text[:12]!r}")
            size = int(size_text)
            if len(self._buf) < end + 1 + size:
                return None
            self._msg += self._buf[end + 1:end + 1 + size]
            self._buf = self._buf[end + 1 + size:]
