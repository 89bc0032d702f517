"""ImageStatus events to Kafka, as a DMI device manager does.

The asyncio loop only ever calls :meth:`EventPublisher.publish`, which puts the
message on a bounded queue and returns at once. A dedicated thread owns the
kafka-python producers (one per message-bus endpoint; SetMsgBusEndpoint can
change the endpoint of a device manager at run time). A broker that is down
costs dropped events and one warning per outage, never a stalled or crashed
simulator.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from datetime import datetime, timezone
from typing import Any

from .redact import redact

log = logging.getLogger("swim_sim.kafka")
SCHEMA = 1
SOURCE = "swim-sim"
DEFAULT_TOPIC = "swim.dmi.image-status"
RETRY_AFTER = 5.0  # seconds an endpoint is considered down after a failure
_STOP = object()


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_message(device_name: str, device_uuid: str, rpc: str, event) -> dict[str, Any]:
    """The JSON document published for one status event (schema 1, see docs/simulator.md)."""
    return {
        "schema": SCHEMA,
        "source": SOURCE,
        "device": device_name,
        "device_uuid": device_uuid,
        "rpc": rpc,
        "state": str(event.state),
        "reason": str(event.reason) if event.reason else None,
        "description": redact(event.description),
        "reason_detail": redact(event.reason_detail),
        "time": iso_utc(event.timestamp),
    }


class EventPublisher:
    """Thread-backed, non-blocking Kafka publisher shared by all device managers of a process."""

    def __init__(self, topic: str = DEFAULT_TOPIC, queue_size: int = 10000):
        self.topic = topic
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._producers: dict[str, Any] = {}
        self._down_until: dict[str, float] = {}
        self._warned: set[str] = set()
        self._overflow_warned = False
        self.sent = 0
        self.dropped = 0

    # ------------------------------------------------------------ loop side
    def publish(self, endpoint: str | None, key: str, message: dict[str, Any]) -> None:
        """Queue one message for ``endpoint`` (host:port); never blocks."""
        if not endpoint:
            return
        self._ensure_thread()
        try:
            self._queue.put_nowait((endpoint, key.encode(), json.dumps(message).encode()))
        except queue.Full:
            self.dropped += 1
            if not self._overflow_warned:
                self._overflow_warned = True
                log.warning("Kafka event queue is full: dropping ImageStatus events until it drains")

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (bounded by ``timeout``) and stop the thread."""
        thread = self._thread
        if thread is None:
            return
        deadline = time.monotonic() + timeout
        try:
            self._queue.put(_STOP, timeout=max(0.1, timeout / 2))
        except queue.Full:
            pass
        thread.join(max(0.1, deadline - time.monotonic()))
        self._thread = None

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="swim-kafka-publisher", daemon=True)
                self._thread.start()

    # ------------------------------------------------------------ publisher thread
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            endpoint, key, value = item
            if len(self._queue.queue) < self._queue.maxsize // 2:
                self._overflow_warned = False
            self._send(endpoint, key, value)
        for endpoint, producer in list(self._producers.items()):
            try:
                producer.flush(timeout=2)
                producer.close(timeout=2)
            except Exception:  # noqa: BLE001 -- shutting down anyway
                pass
        self._producers.clear()

    def _producer(self, endpoint: str):
        producer = self._producers.get(endpoint)
        if producer is not None:
            return producer
        if time.monotonic() < self._down_until.get(endpoint, 0):
            return None
        from kafka import KafkaProducer  # imported here: the loop thread never pays for it

        try:
            producer = KafkaProducer(
                bootstrap_servers=endpoint,
                client_id="swim-sim",
                linger_ms=5,
                max_block_ms=2000,
                request_timeout_ms=5000,
                delivery_timeout_ms=10000,
                bootstrap_timeout_ms=3000,
                retries=2,
            )
        except Exception as exc:  # noqa: BLE001 -- NoBrokersAvailable, KafkaTimeoutError, ...
            self._mark_down(endpoint, exc)
            return None
        self._producers[endpoint] = producer
        return producer

    def _mark_down(self, endpoint: str, exc: BaseException) -> None:
        self._down_until[endpoint] = time.monotonic() + RETRY_AFTER
        if endpoint not in self._warned:
            self._warned.add(endpoint)
            log.warning("Kafka at %s is not available (%s): dropping ImageStatus events for it "
                        "(retrying every %.0fs)", endpoint, type(exc).__name__, RETRY_AFTER)

    def _send(self, endpoint: str, key: bytes, value: bytes) -> None:
        producer = self._producer(endpoint)
        if producer is None:
            self.dropped += 1
            return
        try:
            future = producer.send(self.topic, key=key, value=value)
        except Exception as exc:  # noqa: BLE001 -- metadata timeout while the broker is down
            self.dropped += 1
            self._producers.pop(endpoint, None)
            try:
                producer.close(timeout=0)
            except Exception:  # noqa: BLE001
                pass
            self._mark_down(endpoint, exc)
            return
        future.add_callback(self._delivered, endpoint)
        future.add_errback(self._failed, endpoint)

    def _delivered(self, endpoint: str, _metadata) -> None:
        self.sent += 1
        if endpoint in self._warned:
            self._warned.discard(endpoint)
            log.info("Kafka at %s is reachable again: publishing ImageStatus events", endpoint)

    def _failed(self, endpoint: str, exc: BaseException) -> None:
        self.dropped += 1
        if endpoint not in self._warned:
            self._warned.add(endpoint)
            log.warning("Kafka at %s failed to take an event (%s): dropping until it recovers", endpoint, exc)
