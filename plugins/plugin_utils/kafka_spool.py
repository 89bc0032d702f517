# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Append-only JSON-lines spool for events the Kafka broker has not taken yet.

PRIVATE to the collection: the names here may change without a semver bump.

One file per destination (the bootstrap servers), so a run pointed at another broker never
ships someone else's backlog there. Each line is one record ``{"topic", "key", "value"}`` whose
value is the (already redacted) event. Lines are only ever appended, except by the drainer,
which replaces the file with what is still undelivered once the broker took a prefix.

Several ``ansible-playbook`` runs on one controller may share a spool: every reader and writer
serialises on an ``flock`` of a side file that is never renamed (the spool itself is replaced
atomically by rename, so locking it directly would lock a stale inode).

A writer that cannot wait for the lock (a sender closing past its deadline while another process
drains a long spool) writes its records to an *aside* file instead (``<spool>.aside-<pid>-<id>``,
renamed into place complete); whoever takes the lock next appends the aside files to the spool,
oldest first, before anything else, so they are neither lost nor overtaken.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
import typing as t
import uuid
from dataclasses import dataclass

from ansible.module_utils.common.json import AnsibleJSONEncoder


class _Encoder(AnsibleJSONEncoder):
    """AnsibleJSONEncoder (vault, unsafe text, dates), and str() for anything else: never fail on a value."""

    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def dumps(value: t.Any) -> str:
    """The one serializer of events: compact JSON, the same bytes on the bus and in the spool."""
    return json.dumps(value, cls=_Encoder, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Record:
    """One message for Kafka: topic, partition key (host or run id) and the event."""
    topic: str
    key: str
    value: dict

    def line(self) -> str:
        return dumps({"topic": self.topic, "key": self.key, "value": self.value}) + "\n"

    @classmethod
    def from_line(cls, line: str) -> Record | None:
        try:
            data = json.loads(line)
            return cls(str(data["topic"]), str(data["key"]), dict(data["value"]))
        except (ValueError, KeyError, TypeError):
            return None  # a torn last line after a crash: skip it rather than block the spool


class SpoolFull(OSError):
    """Appending would grow the spool past its size limit."""


class Spool:
    """The spool file of one destination, under *directory* (created 0700, files 0600)."""

    def __init__(self, directory: str, destination: str, max_bytes: int = 64 * 1024 * 1024):
        self.directory = os.path.expanduser(directory)
        digest = hashlib.sha256(destination.encode()).hexdigest()[:16]
        self.path = os.path.join(self.directory, f"events-{digest}.jsonl")
        self.lock_path = self.path + ".lock"
        self.aside_prefix = os.path.basename(self.path) + ".aside-"
        self.destination = destination
        self.max_bytes = max_bytes
        self.skipped_lines = 0

    def claim_notice(self, run_key: str, max_age: float = 86400.0) -> bool:
        """True for the first caller per *run_key* (a playbook run) and destination, False afterwards.

        The callback (controller process) and the device modules (one forked worker per task) share
        the spool; this marker lets exactly one of them warn that the broker is away, once per run.
        Markers older than *max_age* seconds are removed on the way. Never raises: on any file
        error the caller warns (better twice than never).
        """
        name = "notice-" + hashlib.sha256(f"{self.destination}|{run_key}".encode()).hexdigest()[:16]
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            now = time.time()
            for entry in os.scandir(self.directory):
                if entry.name.startswith("notice-") and now - entry.stat().st_mtime > max_age:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
            os.close(os.open(os.path.join(self.directory, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return True
        except FileExistsError:
            return False
        except OSError:
            return True

    def pending(self) -> bool:
        """True when undelivered records wait in the file or aside (cheap: no lock, no read)."""
        try:
            if os.path.getsize(self.path) > 0:
                return True
        except OSError:
            pass
        return bool(self._asides())

    def _asides(self) -> list[str]:
        try:
            names = [n for n in os.listdir(self.directory) if n.startswith(self.aside_prefix)]
        except OSError:
            return []
        paths = [os.path.join(self.directory, n) for n in names]
        with contextlib.suppress(OSError):
            paths.sort(key=lambda p: (os.stat(p).st_mtime_ns, p))
        return paths

    def append_aside(self, records: t.Sequence[Record]) -> str:
        """Keep *records* without the lock: a complete aside file, folded into the spool by the next lock holder."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        name = f"{self.aside_prefix}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        temporary = os.path.join(self.directory, "." + name)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, "".join(record.line() for record in records).encode())
        finally:
            os.close(fd)
        os.rename(temporary, os.path.join(self.directory, name))  # readers only ever see it complete
        return os.path.join(self.directory, name)

    def _fold_asides(self) -> None:
        """With the lock held: append the aside files to the spool, oldest first (they are older than what
        anyone appends from now on), and remove them."""
        for path in self._asides():
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                if data:
                    fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
                    try:
                        size = os.fstat(fd).st_size
                        if size and os.pread(fd, 1, size - 1) != b"\n":
                            data = b"\n" + data
                        os.write(fd, data)
                    finally:
                        os.close(fd)
                os.unlink(path)
            except OSError:
                break  # keep the rest for the next lock holder, in order

    @contextlib.contextmanager
    def locked(self, timeout: float | None = None) -> t.Iterator[bool]:
        """Hold the spool lock; with *timeout*, give up waiting after it and yield False."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            acquired = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                    acquired = True
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(0.02)
            try:
                if acquired:
                    self._fold_asides()
                yield acquired
            finally:
                if acquired:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def append(self, records: t.Sequence[Record]) -> None:
        """Append *records* in order. Call with the lock held. Raises OSError (SpoolFull) when it cannot."""
        if not records:
            return
        data = "".join(record.line() for record in records).encode()
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size + len(data) > self.max_bytes:
                raise SpoolFull(f"spool {self.path} would exceed {self.max_bytes} bytes")
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a crash left a torn last line: do not glue the next record to it
            os.write(fd, data)
        finally:
            os.close(fd)

    def read(self) -> list[Record]:
        """Every record in the file, oldest first. Call with the lock held."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                lines = handle.readlines()
        except FileNotFoundError:
            return []
        records = []
        for line in lines:
            record = Record.from_line(line) if line.strip() else None
            if record is None:
                self.skipped_lines += bool(line.strip())
                continue
            records.append(record)
        return records

    def replace(self, records: t.Sequence[Record]) -> None:
        """Make *records* the whole spool (what is left after a partial drain). Call with the lock held."""
        if not records:
            with contextlib.suppress(FileNotFoundError):
                os.truncate(self.path, 0)
            return
        temporary = f"{self.path}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, "".join(record.line() for record in records).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
