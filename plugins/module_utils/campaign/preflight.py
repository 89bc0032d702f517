# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Image preflight: the controller fetches each target image it can reach and checks its size and sha256.

PRIVATE to the collection. Run before any device is touched (``validate_plan`` with ``verify_images``):
a wrong checksum found by the devices costs each device of the first batch a full download and its
standby (previous, known-good) image. The image is streamed through the hash in chunks of
:data:`CHUNK` bytes (bounded memory whatever its size) and reading stops as soon as it is longer than
the plan says. URL credentials are used (HTTP basic auth) but never appear in a message: every message
goes through ``redact_url``.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import time
import typing as t
from dataclasses import dataclass
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from ansible.module_utils.urls import open_url

from ..redaction import redact_url
from . import schema as s

CHUNK = 1024 * 1024
# Schemes the controller fetches itself (ansible.module_utils.urls); the others (sftp, scp, tftp, file:
# a path on the device) are left to the devices and reported as such.
CONTROLLER_SCHEMES = ("http", "https", "ftp")


@dataclass(frozen=True)
class ImageCheck:
    """What the preflight found for one image of the plan (``problem`` empty: verified or left out)."""

    key: str
    url: str              # redacted
    verified: bool
    size: int | None = None
    sha256: str = ""
    problem: str = ""
    note: str = ""

    def as_dict(self) -> dict:
        return {"image": self.key, "url": self.url, "verified": self.verified, "size": self.size,
                "sha256": self.sha256, "problem": self.problem, "note": self.note}


def _fetch(image: s.Image, timeout: float, validate_certs: bool, opener: t.Callable) -> tuple[int, str]:
    """(bytes read, sha256 hex) of *image*, streamed; raises ValueError when longer than its ``size``."""
    digest, total, deadline = hashlib.sha256(), 0, time.monotonic() + timeout
    limit = image.size
    response = opener(image.url, timeout=min(timeout, 60), validate_certs=validate_certs, force_basic_auth=True,
                      http_agent="escalator.swim-preflight")
    try:
        length = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
        if limit is not None and length and length.isdigit() and int(length) != limit:
            raise ValueError(f"the server announces {int(length)} bytes, the plan says size {limit}")
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError(f"not read within {timeout:g} s (preflight.timeout)")
            chunk = response.read(CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if limit is not None and total > limit:
                raise ValueError(f"longer than the plan's size {limit} bytes")
            digest.update(chunk)
    finally:
        response.close()
    return total, digest.hexdigest()


def check_image(key: str, image: s.Image, preflight: s.Preflight, opener: t.Callable = open_url) -> ImageCheck:
    shown = redact_url(image.url)
    scheme = urlsplit(image.url).scheme.lower()
    if scheme not in CONTROLLER_SCHEMES:
        return ImageCheck(key, shown, False, note=f"{scheme}:// is fetched by the devices only: checked by them")
    where = f"campaign.images.{key}"
    try:
        size, sha = _fetch(image, preflight.timeout, preflight.validate_certs, opener)
    except HTTPError as exc:
        reason, hint = f"the server answered HTTP {exc.code} {exc.reason}", ""
    except ValueError as exc:
        reason, hint = str(exc), ""
    except (URLError, OSError, ssl.SSLError, socket.timeout, TimeoutError) as exc:
        reason = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
        hint = "; if only the devices can reach it, set campaign.preflight.images: false"
    else:
        if image.size is not None and size != image.size:
            reason = f"{size} bytes, the plan says size {image.size}"
        elif sha != image.sha256:
            reason = f"sha256 is {sha}, the plan says {image.sha256} (wrong checksum or wrong file)"
        else:
            return ImageCheck(key, shown, True, size=size, sha256=sha)
        return ImageCheck(key, shown, False, size=size, sha256=sha,
                          problem=redact_url(f"{where}: preflight: the image at {shown}: {reason}"))
    return ImageCheck(key, shown, False,
                      problem=redact_url(f"{where}: preflight: cannot read the image at {shown}: {reason}{hint}"))


def verify_images(plan: s.Plan, opener: t.Callable = open_url) -> list[ImageCheck]:
    """One check per image of *plan* (an image shared by several keys is fetched once)."""
    if not plan.preflight.images:
        return []
    results, seen = [], {}
    for key, image in sorted(plan.images.items()):
        known = seen.get((image.url, image.sha256, image.size))
        if known is not None:
            results.append(ImageCheck(key, known.url, known.verified, known.size, known.sha256,
                                      known.problem.replace(f"images.{known.key}:", f"images.{key}:", 1),
                                      known.note))
            continue
        seen[(image.url, image.sha256, image.size)] = check = check_image(key, image, plan.preflight, opener)
        results.append(check)
    return results
