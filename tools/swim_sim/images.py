"""Simulated software images and a small HTTP server for them.

Image file format: one header line ``SWIMIMG1 {"name": "...", "version": "..."}\\n``
followed by ``size`` bytes of deterministic pseudo-random payload (the same
name/version/size always gives the same bytes, hence the same sha256).
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
import threading
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAGIC = b"SWIMIMG1"
MAX_HEADER = 4096
log = logging.getLogger("swim_sim.images")


class ImageFormatError(ValueError):
    """The bytes are not a valid SWIMIMG1 image."""


def header_line(name: str, version: str) -> bytes:
    return MAGIC + b" " + json.dumps({"name": name, "version": version}).encode() + b"\n"


def payload(name: str, version: str, size: int) -> bytes:
    rng = random.Random(f"swim-sim/{name}/{version}/{size}")
    return rng.randbytes(size)


def image_bytes(name: str, version: str, size: int) -> bytes:
    return header_line(name, version) + payload(name, version, size)


def make_image(path: str | Path, name: str, version: str, size: int = 1024 * 1024) -> tuple[Path, str]:
    """Write an image file; return ``(path, sha256 hex)``. ``path`` may be a directory
    (the file is then named ``<name>-<version>.img``)."""
    if size < 0:
        raise ValueError("size must be >= 0")
    is_dir = str(path).endswith(("/", "\\")) or Path(path).is_dir()
    path = Path(path)
    if is_dir:
        path = path / f"{name}-{version}.img"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = image_bytes(name, version, size)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path, hashlib.sha256(data).hexdigest()


def parse_header(head: bytes) -> dict[str, str]:
    """Parse the header line from the first bytes of an image; raise ImageFormatError."""
    line, sep, _ = head[:MAX_HEADER].partition(b"\n")
    if not sep:
        raise ImageFormatError("no header line in the first 4096 bytes")
    magic, _, meta = line.partition(b" ")
    if magic != MAGIC:
        raise ImageFormatError(f"bad magic {magic[:16]!r} (expected {MAGIC.decode()})")
    try:
        data = json.loads(meta)
    except ValueError:
        raise ImageFormatError("header metadata is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("version"), str):
        raise ImageFormatError("header metadata lacks string 'name' and 'version'")
    return {"name": data["name"], "version": data["version"]}


class _Handler(SimpleHTTPRequestHandler):
    server_version = "swim-sim-images/1"
    auth_header: str | None = None

    def _authorized(self) -> bool:
        if self.auth_header is None:
            return True
        if self.headers.get("Authorization") == self.auth_header:
            return True
        self.send_response(HTTPStatus.UNAUTHORIZED)
        self.send_header("WWW-Authenticate", 'Basic realm="swim-images"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_GET(self):  # noqa: N802 (http.server naming)
        if self._authorized():
            super().do_GET()

    def do_HEAD(self):  # noqa: N802
        if self._authorized():
            super().do_HEAD()

    def copyfile(self, source, outputfile):
        try:
            super().copyfile(source, outputfile)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the device gave up (download_drop fault): not an error of the server

    def log_message(self, format, *args):  # noqa: A002
        log.debug("%s %s", self.address_string(), format % args)


class ImageServer:
    """Serve ``directory`` over HTTP on 127.0.0.1 from a background thread.

    ``auth="user:pass"`` enforces HTTP basic auth. Use as a context manager or
    call start()/stop(). ``url_for(filename)`` gives the download URL (with
    credentials embedded when auth is set, unless ``credentials=False``).
    """

    def __init__(self, directory: str | Path, port: int = 0, auth: str | None = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.auth = auth
        if auth is not None and ":" not in auth:
            raise ValueError("auth must be USER:PASS")
        self._requested_port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("image server not started")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def url_for(self, filename: str, credentials: bool = True) -> str:
        userinfo = f"{self.auth}@" if (self.auth and credentials) else ""
        return f"http://{userinfo}127.0.0.1:{self.port}/{filename}"

    def make_image(self, name: str, version: str, size: int = 1024 * 1024, filename: str | None = None):
        """Create an image in the served directory; return an :class:`ImageFile`."""
        filename = filename or f"{name}-{version}.img"
        path, sha = make_image(self.dir / filename, name, version, size)
        return ImageFile(path=path, filename=filename, sha256=sha, size=path.stat().st_size,
                         url=self.url_for(filename), name=name, version=version)

    def start(self) -> "ImageServer":
        handler = type("Handler", (_Handler,), {})
        if self.auth:
            handler.auth_header = "Basic " + base64.b64encode(self.auth.encode()).decode()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._requested_port), partial(handler, directory=str(self.dir)))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="swim-image-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "ImageServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass(frozen=True)
class ImageFile:
    path: Path
    filename: str
    sha256: str
    size: int
    url: str
    name: str
    version: str
