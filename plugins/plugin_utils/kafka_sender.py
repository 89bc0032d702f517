# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Deliver events to Kafka from a background thread, never blocking or failing the caller.

PRIVATE to the collection: the names here may change without a semver bump.

Used by the ``kafka_events`` callback (controller main process) and by the image-status
publisher of the device action plugin (a forked worker per task). Both use the same spool file
for the same bootstrap servers.

Why it is shaped like this:

* Callbacks run synchronously in the controller's main process: a blocking ``send`` would stall
  every host of the play. :meth:`KafkaSender.submit` only appends to a bounded in-memory queue;
  a daemon thread does all network and disk I/O.
* A dead broker must cost almost nothing. Before building a producer the thread tries a plain
  TCP connect to the bootstrap servers (sub-second timeout) and, when that fails, does not try
  again for ``retry_interval`` seconds; kafka-python's own waits (bootstrap, ``max_block_ms``,
  request and delivery timeouts) are all set to a few seconds.
* Nothing is lost while the broker is away: with a :class:`~.kafka_spool.Spool`, records the
  broker did not confirm, and every record after them, go to the spool file; later records are
  appended behind them until the spool has been drained, so each key (host) keeps its order.
  A sender started while the spool holds records (an earlier task or run) queues behind them
  and drains the spool first. A sender that finds records spooled by someone else while it runs
  (a worker's image-status events) adopts them: its own later records queue behind them too,
  and it drains them when the broker is back.
* Delivery is at-least-once: a request that timed out may still have been written, and is then
  delivered again from the spool. Consumers deduplicate on the event's ``event_id``.
* Problems are collected, not raised: the owner shows :meth:`take_warning` once.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import socket
import threading
import time
import typing as t

from .kafka_spool import Record, Spool, dumps

BATCH = 500
# Seconds the thread lets events gather before one produce round (broker up) or one spool write
# (broker away). Waking the thread for every event made it compete with the controller's main
# thread for the GIL at each event.
LINGER = 0.05
SPOOL_LINGER = 0.5


def split_servers(servers: t.Any) -> list[str]:
    """``"a:9092,b:9092"`` or a list -> ``["a:9092", "b:9092"]``."""
    if isinstance(servers, str):
        servers = servers.split(",")
    return [str(server).strip() for server in servers or () if str(server).strip()]


def host_port(server: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or ``host`` (port 9092)."""
    if server.startswith("["):
        host, _sep, rest = server[1:].partition("]")
        return host, int(rest.lstrip(":") or 9092)
    host, _sep, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    return host, int(port or 9092)


class KafkaSender:
    """A bounded queue of records and the daemon thread that delivers them.

    *settings*: ``bootstrap_servers`` (required), ``client_id``, ``acks``, ``security_protocol``,
    ``ssl_cafile``, ``ssl_certfile``, ``ssl_keyfile``, ``sasl_mechanism``, ``sasl_plain_username``,
    ``sasl_plain_password``, ``connect_timeout`` and ``request_timeout`` (seconds).
    """

    def __init__(self, settings: dict, *, spool: Spool | None = None, queue_size: int = 10000,
                 retry_interval: float = 3.0, producer_factory: t.Callable[[dict], t.Any] | None = None,
                 probe: t.Callable[[list[str], float], bool] | None = None, retry_at_close: bool = True,
                 on_delivered: t.Callable[[list[Record]], None] | None = None):
        self.servers = split_servers(settings.get("bootstrap_servers"))
        if not self.servers:
            raise ValueError("no Kafka bootstrap servers configured")
        self.settings = settings
        self.spool = spool
        self.queue_size = queue_size
        self.retry_interval = retry_interval
        self.connect_timeout = float(settings.get("connect_timeout") or 1.0)
        self.request_timeout = float(settings.get("request_timeout") or 5.0)
        self.counters = collections.Counter(sent=0, spooled=0, drained=0, dropped=0)
        self._producer_factory = producer_factory or _kafka_producer
        self._probe = probe or tcp_reachable
        self._cond = threading.Condition()
        self._pending: collections.deque[Record] = collections.deque()
        self._inflight: list[Record] = []
        self._stopping = False
        self._lingering = False
        self._abandoned = False
        self._deadline: float | None = None
        self._producer = None
        self._down_until = 0.0
        self._next_drain = 0.0
        self._next_check = time.monotonic() + retry_interval
        # The callback tries the broker once more at the end of the run, whatever the retry interval
        # says; a task's publisher does not (a later task, the callback or the next run drains).
        self.retry_at_close = retry_at_close
        # Called in the sender thread with the records the broker confirmed, in delivery order (the callback's
        # ledger of published campaign rows). Never with a record only queued, in flight or spooled.
        self._on_delivered = on_delivered
        self._backlog = bool(spool and spool.pending())
        self._problems: list[str] = []
        self._warned = False
        self._closed = False
        self.thread_cpu = 0.0  # CPU seconds the sender thread used (known once it ended)
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="escalator.swim-kafka", daemon=True)
        self._thread.start()
        # A run interrupted before its owner's close (Ctrl-C, a fatal error): spool what is left.
        atexit.register(self._at_exit)

    # -- caller side (never blocks on I/O) -----------------------------------------------------
    def submit(self, topic: str, key: str, value: dict) -> bool:
        """Queue one event; False (and counted as dropped) when the queue is full or closed."""
        with self._cond:
            if self._stopping or len(self._pending) >= self.queue_size:
                self.counters["dropped"] += 1
                self._problem(f"{self.counters['dropped']} event(s) dropped: the send queue is full or closed")
                return False
            self._pending.append(Record(topic, key, value))
            # Wake the thread for the first event only (it then lingers for more) or a full batch.
            if (len(self._pending) == 1 and not self._lingering) or len(self._pending) == BATCH:
                self._cond.notify()
        return True

    def take_warning(self) -> str | None:
        """The first problem, once per sender; None afterwards and while all is well."""
        with self._cond:
            if self._warned or not self._problems:
                return None
            self._warned = True
            return self._problems[0]

    @property
    def problems(self) -> list[str]:
        return list(self._problems)

    @property
    def backlog(self) -> bool:
        """True while records wait in the spool."""
        return self._backlog

    def close(self, timeout: float = 10.0) -> dict:
        """Deliver what is queued within *timeout* seconds, spool (or drop) the rest; return counters."""
        if self._closed:
            return dict(self.counters)
        self._closed = True
        with self._cond:
            self._deadline = time.monotonic() + max(timeout, 0.0)
            self._stopping = True
            self._cond.notify()
        if os.getpid() == self._pid:
            self._thread.join(max(timeout, 0.0))
        if self._thread.is_alive() or os.getpid() != self._pid:
            self._abandon()
        return dict(self.counters)

    def _abandon(self) -> None:
        """The thread is stuck in a network call past the deadline: keep its records ourselves."""
        with self._cond:
            self._abandoned = True
            leftovers = self._inflight + list(self._pending)
            self._inflight, self._pending = [], collections.deque()
        if not leftovers:
            return
        if self.spool is None:
            self.counters["dropped"] += len(leftovers)
            self._problem(f"{len(leftovers)} event(s) dropped: Kafka did not take them in time")
            return
        try:
            # Someone may hold the lock for a while (this process's stuck thread, or another run
            # draining a long spool, which then rewrites the file): never append without the lock;
            # after a short wait, keep the records aside for the next lock holder to fold in.
            with self.spool.locked(timeout=1.0) as acquired:
                if acquired:
                    self.spool.append(leftovers)
                else:
                    self.spool.append_aside(leftovers)
            self.counters["spooled"] += len(leftovers)
        except OSError as exc:
            self.counters["dropped"] += len(leftovers)
            self._problem(f"{len(leftovers)} event(s) dropped: cannot write the spool {self.spool.path}: {exc}")

    def _at_exit(self) -> None:
        if os.getpid() == self._pid and not self._closed:
            self.close(timeout=min(self.request_timeout, 2.0))

    # -- sender thread ------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                batch = self._next_batch()
                if batch is None:
                    break
                if batch:
                    self._deliver(batch)
                elif self._backlog:
                    self._maybe_drain()
                if not self._backlog:  # checked every retry interval, busy or idle
                    self._adopt_foreign_backlog()
            if self._backlog and not self._abandoned:
                if self.retry_at_close:
                    self._down_until = 0.0  # one last try, whatever the retry interval says
                self._drain()
        except Exception as exc:  # the thread must never die silently: say why, once
            self._problem(f"Kafka sender stopped: {type(exc).__name__}: {exc}")
        finally:
            self._close_producer(0.5)
            self.thread_cpu = time.thread_time()

    def _next_batch(self) -> list[Record] | None:
        with self._cond:
            if not self._pending and not self._stopping:
                self._cond.wait(timeout=0.5)
            if self._pending and not self._stopping and len(self._pending) < BATCH:
                deadline = time.monotonic() + (SPOOL_LINGER if self._backlog else LINGER)
                self._lingering = True
                while not self._stopping and len(self._pending) < BATCH:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                self._lingering = False
            if self._abandoned or (self._stopping and not self._pending):
                return None
            batch = [self._pending.popleft() for _index in range(min(BATCH, len(self._pending)))]
            self._inflight = batch
            return batch

    def _deliver(self, batch: list[Record]) -> None:
        if self._backlog:
            # Older records wait in the spool: queue behind them, or a host's order would break.
            self._to_spool(batch)
            self._maybe_drain()
        else:
            undelivered = self._send(batch)
            if undelivered:
                if self.spool is not None:
                    self._backlog = True
                    self._next_drain = time.monotonic() + self.retry_interval
                    self._to_spool(undelivered)
                else:
                    self.counters["dropped"] += len(undelivered)
        with self._cond:
            if not self._abandoned:
                self._inflight = []

    def _to_spool(self, records: list[Record]) -> None:
        try:
            with self.spool.locked():
                if self._abandoned:
                    return
                self.spool.append(records)
            self.counters["spooled"] += len(records)
        except OSError as exc:
            self.counters["dropped"] += len(records)
            self._problem(f"{len(records)} event(s) dropped: cannot write the spool {self.spool.path}: {exc}")

    def _adopt_foreign_backlog(self) -> None:
        """Records spooled by another sender (a worker's task) wait in our spool: deliver them too."""
        now = time.monotonic()
        if self.spool is not None and now >= self._next_check:
            self._next_check = now + self.retry_interval
            if self.spool.pending():
                self._backlog = True
                self._maybe_drain()

    def _maybe_drain(self) -> None:
        now = time.monotonic()
        if now >= self._next_drain:
            self._next_drain = now + self.retry_interval
            self._drain()

    def _drain(self) -> None:
        """Send the spool, oldest first; keep what the broker did not confirm (and all after it)."""
        if self._connect() is None:
            return  # broker still away: do not even read the spool
        try:
            with self.spool.locked():
                records = self.spool.read()
                delivered = 0
                while delivered < len(records) and not self._abandoned and not self._past_deadline():
                    chunk = records[delivered:delivered + BATCH]
                    undelivered = self._send(chunk)
                    delivered += len(chunk) - len(undelivered)
                    if undelivered:
                        break
                if self._abandoned:
                    return  # the owner appends behind us now; leave the file as it is
                if delivered or not records:  # not records: only torn lines were left; empty the file
                    self.spool.replace(records[delivered:])
                    self.counters["drained"] += delivered
                if delivered == len(records):
                    self._backlog = False
        except OSError as exc:
            self._problem(f"cannot read the spool {self.spool.path}: {exc}")

    def _past_deadline(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def _send(self, records: list[Record]) -> list[Record]:
        """Send *records*; return the suffix the broker did not confirm (empty when all went)."""
        producer = self._connect()
        if producer is None:
            return records
        futures = []
        try:
            for record in records:
                futures.append(producer.send(record.topic, key=record.key.encode(),
                                             value=dumps(record.value).encode()))
        except Exception as exc:  # max_block_ms ran out (no metadata), buffer full, ...
            self._problem(f"Kafka at {','.join(self.servers)} refused events: {type(exc).__name__}: {exc}")
        wait = self.request_timeout * 2
        if self._deadline is not None:
            wait = max(0.1, min(wait, self._deadline - time.monotonic()))
        try:
            producer.flush(timeout=wait)
        except Exception:
            pass  # unconfirmed futures are judged below
        for index, future in enumerate(futures):
            if not (future.is_done and future.succeeded()):
                error = future.exception if future.is_done else "no acknowledgement in time"
                self._problem(f"Kafka at {','.join(self.servers)} did not confirm events: {error}")
                self._reset()
                self._confirmed(records[:index])
                return records[index:]
        self.counters["sent"] += len(futures)
        self._confirmed(records[:len(futures)])
        if len(futures) < len(records):
            self._reset()
            return records[len(futures):]
        return []

    def _confirmed(self, records: list[Record]) -> None:
        if records and self._on_delivered is not None:
            try:
                self._on_delivered(records)
            except Exception as exc:  # the owner's bookkeeping must not stop delivery
                self._problem(f"delivery confirmation handler failed: {type(exc).__name__}: {exc}")

    def _reset(self) -> None:
        # Start over with a fresh producer after the retry interval: its connection state is suspect.
        self._close_producer(0)
        self._down_until = time.monotonic() + self.retry_interval

    def _connect(self):
        if self._producer is not None:
            return self._producer
        if time.monotonic() < self._down_until:
            return None
        if not self._probe(self.servers, self.connect_timeout):
            self._down_until = time.monotonic() + self.retry_interval
            self._problem(f"Kafka broker {','.join(self.servers)} is not reachable")
            return None
        try:
            self._producer = self._producer_factory(producer_config(self.settings))
        except Exception as exc:
            self._down_until = time.monotonic() + self.retry_interval
            self._problem(connect_failure(self.settings, self.servers, exc))
            return None
        return self._producer

    def _close_producer(self, timeout: float) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                producer.close(timeout=timeout)

    def _problem(self, text: str) -> None:
        if len(self._problems) < 20:  # the first is what the owner shows; a few more help debugging
            self._problems.append(text)


def connect_failure(settings: dict, servers: list[str], exc: Exception) -> str:
    """Why a producer could not be made, for the owner's warning."""
    hint = ""
    if "SSL" in str(settings.get("security_protocol") or ""):
        # The TCP probe passed: with TLS on, a failed bootstrap is most often the certificate check.
        hint = " (the port answers: check ssl_cafile/ssl_certfile/ssl_keyfile against the broker's certificate)"
    return f"cannot connect to Kafka at {','.join(servers)}: {type(exc).__name__}: {exc}{hint}"


def tcp_reachable(servers: list[str], timeout: float) -> bool:
    """True when at least one bootstrap server accepts a TCP connection within *timeout*."""
    for server in servers:
        try:
            host, port = host_port(server)
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except (OSError, ValueError):
            continue
    return False


def producer_config(settings: dict) -> dict:
    """kafka-python producer options: short timeouts everywhere, ordering kept on retries."""
    request_ms = int(float(settings.get("request_timeout") or 5.0) * 1000)
    connect_ms = int(float(settings.get("connect_timeout") or 1.0) * 1000)
    acks = settings.get("acks", "1")
    acks = "all" if str(acks).lower() in ("all", "-1") else int(acks)
    config = {
        "bootstrap_servers": split_servers(settings["bootstrap_servers"]),
        "client_id": settings.get("client_id") or "escalator.swim",
        "acks": acks,
        "retries": 2,
        "max_in_flight_requests_per_connection": 1,  # retries must not reorder a host's events
        "enable_idempotence": False,  # at-least-once with event_id dedup; no InitProducerId round trip
        "linger_ms": 5,
        "max_block_ms": 2 * connect_ms,
        "request_timeout_ms": request_ms,
        "delivery_timeout_ms": 2 * request_ms + 100,
        "bootstrap_timeout_ms": 2 * connect_ms,
        "api_version_auto_timeout_ms": 2 * connect_ms,
        "reconnect_backoff_max_ms": 1000,
        "security_protocol": settings.get("security_protocol") or "PLAINTEXT",
    }
    for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "sasl_mechanism", "sasl_plain_username",
                "sasl_plain_password"):
        if settings.get(key):
            config[key] = settings[key]
    return config


def preload() -> None:
    """Import, in the calling thread, everything the sender thread would import on first use.

    Call it from the controller's main thread before Ansible forks its workers. A module import
    holds a per-module lock; if the sender thread is importing kafka (~0.13 s) at the moment the
    main thread forks a worker, the worker inherits that lock held by a thread it does not have,
    and its own first ``import kafka`` (the image-status publisher) blocks forever. Seen in
    practice: every image-status event of a run was dropped. ``encodings.idna`` is imported lazily
    by the first ``socket.create_connection`` to a host name, hence here too.
    """
    import encodings.idna  # noqa: F401

    from kafka import KafkaProducer  # noqa: F401


def _kafka_producer(config: dict):
    # Imported here, on first use: no kafka import cost for runs without a bus. The callback
    # preloads it in the main thread (see preload()); a worker imports it in its sender thread.
    from kafka import KafkaProducer

    known = getattr(KafkaProducer, "DEFAULT_CONFIG", config)
    return KafkaProducer(**{key: value for key, value in config.items() if key in known})
