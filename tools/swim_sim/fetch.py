"""Asynchronous, throttled fetching of image/config bytes from http:// and file:// URLs.

Only loopback hosts are fetched from (the simulator never talks to the outside).
Every message raised here carries the URL with credentials redacted.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

from .redact import redact

CONNECT_TIMEOUT = 5.0
IDLE_TIMEOUT = 10.0
HEAD_BYTES = 4096


class FetchError(Exception):
    """``kind`` is 'request' (the URL itself is wrong: scheme, host, 4xx) or
    'transfer' (network/file problem while fetching)."""

    def __init__(self, kind: str, message: str):
        super().__init__(redact(message))
        self.kind = kind


@dataclass
class FetchResult:
    size: int
    sha256: str
    head: bytes  # the first HEAD_BYTES bytes (for header validation)


# on_chunk(received_so_far, total_or_None, chunk) -> chunk to account (may raise FetchError)
ChunkHook = Callable[[int, "int | None", bytes], bytes]


def is_loopback(host: str) -> bool:
    """Whether *host* is localhost or a loopback address (the only targets the simulator reaches)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_url(url: str) -> None:
    """Raise FetchError('request') when the simulator would not fetch this URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as exc:
        raise FetchError("request", f"malformed URL {url}: {exc}") from None
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise FetchError("request", f"file URL {url} must not name a host")
        if not parts.path:
            raise FetchError("request", f"file URL {url} has no path")
        return
    if parts.scheme != "http":
        raise FetchError("request", f"unsupported URL scheme {parts.scheme or '(none)'!r} in {url}: "
                                    "only http:// and file:// are supported")
    if not parts.hostname:
        raise FetchError("request", f"URL {url} has no host")
    if not is_loopback(parts.hostname):
        raise FetchError("request", f"host {parts.hostname} in {url} is not a loopback address; "
                                    "the simulator only fetches from 127.0.0.1")


class _Throttle:
    def __init__(self, rate: float):
        self.rate = rate
        self.start = time.monotonic()

    def chunk_size(self) -> int:
        return int(max(1024, min(65536, self.rate / 20)))

    async def account(self, received: int) -> None:
        due = self.start + received / self.rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


async def fetch(url: str, rate: float, on_chunk: ChunkHook | None = None) -> FetchResult:
    """Fetch ``url`` at ``rate`` bytes/s, hashing as it goes. Never keeps the whole body."""
    validate_url(url)
    parts = urlsplit(url)
    if parts.scheme == "file":
        return await _fetch_file(url, Path(unquote(parts.path)), rate, on_chunk)
    return await _fetch_http(url, parts, rate, on_chunk)


class _Sink:
    def __init__(self, on_chunk: ChunkHook | None):
        self.on_chunk = on_chunk
        self.digest = hashlib.sha256()
        self.head = b""
        self.received = 0

    def feed(self, chunk: bytes, total: int | None) -> None:
        self.received += len(chunk)
        if self.on_chunk is not None:
            chunk = self.on_chunk(self.received, total, chunk)
        self.digest.update(chunk)
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]

    def result(self) -> FetchResult:
        return FetchResult(size=self.received, sha256=self.digest.hexdigest(), head=self.head)


async def _fetch_file(url: str, path: Path, rate: float, on_chunk: ChunkHook | None) -> FetchResult:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise FetchError("request", f"{url}: no such file") from None
    except OSError as exc:
        raise FetchError("request", f"{url}: cannot open: {exc.strerror}") from None
    with handle:
        total = path.stat().st_size
        throttle = _Throttle(rate)
        sink = _Sink(on_chunk)
        while True:
            chunk = handle.read(throttle.chunk_size())
            if not chunk:
                break
            sink.feed(chunk, total)
            await throttle.account(sink.received)
        return sink.result()


async def _fetch_http(url: str, parts, rate: float, on_chunk: ChunkHook | None) -> FetchResult:
    host, port = parts.hostname, parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [f"GET {target} HTTP/1.0", f"Host: {host}:{port}", "User-Agent: swim-sim", "Connection: close"]
    if parts.username is not None:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers.append("Authorization: Basic " + base64.b64encode(token.encode()).decode())
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
    except (OSError, asyncio.TimeoutError) as exc:
        raise FetchError("transfer", f"cannot connect to {url}: {exc or 'timeout'}") from None
    try:
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
        fields = status_line.decode("latin-1").split(None, 2)
        if len(fields) < 2 or not fields[1].isdigit():
            raise FetchError("transfer", f"{url}: not an HTTP response")
        code = int(fields[1])
        length = None
        while True:
            line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length" and value.strip().isdigit():
                length = int(value.strip())
        if code != 200:
            reason = fields[2].strip() if len(fields) > 2 else ""
            kind = "request" if 400 <= code < 500 else "transfer"
            raise FetchError(kind, f"{url}: HTTP {code} {reason}".rstrip())
        throttle = _Throttle(rate)
        sink = _Sink(on_chunk)
        while length is None or sink.received < length:
            want = throttle.chunk_size()
            if length is not None:
                want = min(want, length - sink.received)
            chunk = await asyncio.wait_for(reader.read(want), IDLE_TIMEOUT)
            if not chunk:
                if length is not None:
                    raise FetchError("transfer", f"{url}: connection closed after {sink.received} of {length} bytes")
                break
            sink.feed(chunk, length)
            await throttle.account(sink.received)
        return sink.result()
    except asyncio.TimeoutError:
        raise FetchError("transfer", f"{url}: timed out waiting for data") from None
    except (OSError, asyncio.IncompleteReadError) as exc:
        raise FetchError("transfer", f"{url}: {exc}") from None
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
