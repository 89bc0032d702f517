# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Write a file so that a reader sees the old content or the new, never half of it.

PRIVATE to the collection: the status table, run records, snapshots and reports all write this way.
"""

from __future__ import annotations

import os
import tempfile


def write_atomic(path: str, text: str, *, prefix: str = ".tmp-", suffix: str = "", fsync: bool = False,
                 mode: int | None = None) -> None:
    """*text* to *path* through a hidden temporary file in the same directory and ``os.replace``.

    *fsync*: flush to disk before the rename (records a crash must not lose). *mode*: the file's permissions
    (``mkstemp`` creates 0600).
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
