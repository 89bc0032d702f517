# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The collection's event schema, and the publisher of image-status events to Kafka.

PRIVATE to the collection (controller only: the callback and the device action plugins): the names here may change without a semver bump; the event schema
itself is public and versioned (``docs/events.schema.json``, ``docs/kafka.md``).

Two producers share the envelope built by :class:`EventStream`:

* the ``escalator.swim.kafka_events`` callback (playbook, play, task, per-host results, stats);
* :class:`StatusPublisher`, which the device action plugin creates when the task's variables
  configure a bus (``swim_kafka_bootstrap_servers``) and which forwards every progress report
  (DMI ImageStatus, NETCONF notification) of a download/activate/revert as it arrives.

Every event passes :func:`~.redaction.redact` here, before it is queued, spooled or sent.
"""

from __future__ import annotations

import os
import re
import threading
import typing as t
import uuid

from ansible_collections.escalator.swim.plugins.module_utils.clock import utc_now
from ansible_collections.escalator.swim.plugins.module_utils.device import StatusEvent
from ansible_collections.escalator.swim.plugins.module_utils.redaction import redact, redact_url
from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_settings import producer_settings
from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_settings import resolve as resolve_kafka

SCHEMA_VERSION = 1
DEFAULT_STATUS_TOPIC = "swim.image-status"
DEFAULT_EVENTS_TOPIC = "swim.events"
# Set by the callback in the controller process; forked workers inherit it, so image-status
# events carry the run id of the playbook run they belong to.
RUN_ID_ENV = "SWIM_KAFKA_RUN_ID"
CAMPAIGN_ENV = "SWIM_KAFKA_CAMPAIGN_ID"
# The callback's spool directory, exported for the workers: both spool to the same file.
SPOOL_ENV = "SWIM_KAFKA_SPOOL_DIR"

_PROGRESS = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*%")


class EventStream:
    """Stamps the events of one producer: schema version, ids, UTC time and a gap-free sequence.

    ``seq`` counts from 1 per *producer_id*; for the callback the producer id is the run id,
    for a status publisher it is one task execution on one device.
    """

    def __init__(self, source: str, run_id: str | None = None, campaign_id: str | None = None,
                 producer_id: str | None = None):
        self.source = source
        self.run_id = run_id
        self.campaign_id = campaign_id
        self.producer_id = producer_id or run_id or uuid.uuid4().hex
        self.seq = 0
        self._lock = threading.Lock()  # status reports may arrive on a transport's thread

    def make(self, event: str, *, host: str | None = None, task: str | None = None,
             module: str | None = None, result: dict | None = None, **fields: t.Any) -> dict:
        with self._lock:
            self.seq += 1
            seq = self.seq
        data = {
            "schema_version": SCHEMA_VERSION,
            "event": event,
            "event_id": uuid.uuid4().hex,
            "time": utc_now(),
            "seq": seq,
            "run_id": self.run_id,
            "producer_id": self.producer_id,
            "source": self.source,
            "campaign_id": self.campaign_id,
            "host": host,
            "task": task,
            "module": module,
            "result": result,
        }
        data.update(fields)
        return redact(data)


def progress_of(description: str) -> float | None:
    """``downloaded 40% (4194304/10485760 bytes)`` -> 40.0; None when the text holds no percentage."""
    match = _PROGRESS.search(description or "")
    if not match:
        return None
    value = float(match.group(1))
    return value if 0.0 <= value <= 100.0 else None


def image_status(status: StatusEvent, *, device: str, transport: str, operation: str) -> dict:
    """The ``image_status`` part of an image-status event."""
    return {
        "device": device,
        "transport": transport,
        "operation": operation,
        "state": status.state,
        "ok": status.ok,
        "reason": status.reason or None,
        "description": redact_url(status.description) or None,
        "progress": progress_of(status.description),
        "reason_detail": redact_url(status.reason_detail) or None,
        "time": status.time,
    }


class StatusPublisher:
    """The ``on_status`` callback of one device operation: each report becomes one event.

    Never raises and never blocks: events go to a :class:`~.kafka_sender.KafkaSender` queue.
    Reports the broker does not take go to the spool shared with the callback and are delivered,
    in order, when it is back (by a later task, the callback, or the next run). :meth:`close`
    returns at most one warning, and only the first task of a run that spooled warns about it
    (see :meth:`~.kafka_spool.Spool.claim_notice`); lost events (queue or spool full) always warn.
    """

    def __init__(self, sender_factory: t.Callable[[], t.Any], topic: str, stream: EventStream, *, host: str,
                 task: str, module: str, device: str, transport: str, operation: str):
        # The sender (a thread, and kafka's import) starts with the first report, so the many
        # tasks that never report progress (sw_version, snapshot, check mode) cost nothing.
        self._sender_factory = sender_factory
        self.sender = None
        self.topic = topic
        self.stream = stream
        self.host = host
        self.task = task
        self.module = module
        self.device = device
        self.transport = transport
        self.operation = operation
        self.published = 0
        self.failed = 0
        self._errors: list[str] = []

    def __call__(self, status: StatusEvent) -> None:
        try:
            event = self.stream.make(
                "image_status", host=self.host, task=self.task, module=self.module,
                image_status=image_status(status, device=self.device, transport=self.transport,
                                          operation=self.operation))
            if self.sender is None:
                self.sender = self._sender_factory()
            if self.sender.submit(self.topic, self.host, event):
                self.published += 1
        except Exception as exc:  # a status report must never break the operation
            self.failed += 1
            if not self._errors:
                self._errors.append(f"{type(exc).__name__}: {exc}")

    def close(self, timeout: float) -> list[str]:
        """Flush within *timeout* seconds; return at most one warning for the task result."""
        if self.sender is None:
            return [f"{self.host}: image-status events not published to Kafka: {self._errors[0]}"] if self._errors else []
        try:
            counters = self.sender.close(timeout)
        except Exception as exc:
            return [f"{self.host}: image-status events not published to Kafka: {type(exc).__name__}: {exc}"]
        problems = self.sender.problems + self._errors
        why = problems[0] if problems else "unknown error"
        lost = counters.get("dropped", 0) + self.failed
        if lost:
            return [f"{self.host}: {lost} of {self.published + self.failed} image-status event(s) "
                    f"not published to Kafka topic {self.topic}: {why}"]
        spool = getattr(self.sender, "spool", None)
        if counters.get("spooled") and getattr(self.sender, "backlog", False) and spool is not None:
            if not spool.claim_notice(run_key()):
                return []  # this run already warned once (the callback or an earlier task)
            return [f"escalator.swim: {why}. Undelivered events (image-status reports of {self.host} and "
                    f"others) are kept in {spool.path} and sent, in order, when the broker is back (later in "
                    "this run or by the next run). Shown once per run; the playbook is not affected."]
        return []


def bus_settings(get: t.Callable[[str], t.Any]) -> dict | None:
    """The sender settings of the image-status events, by the one precedence of kafka_settings.py (variables,
    environment, the callback's ini options it exported, defaults); None when no bootstrap servers are set."""
    resolved = resolve_kafka(get)
    settings = producer_settings(resolved)
    if not settings:
        return None
    settings.setdefault("client_id", "escalator.swim-status")
    settings["spool_dir"] = resolved["spool_dir"]
    settings["spool_max_mb"] = resolved["spool_max_mb"]
    return settings


def run_key() -> str:
    """The playbook run this process belongs to: the callback's run id, else the controller's pid.

    Ansible forks one worker per task from the controller's main process, so without the callback
    the parent pid tells the tasks of one ``ansible-playbook`` run apart from the next.
    """
    return os.environ.get(RUN_ID_ENV) or f"pid-{os.getppid()}"


def spooling_sender(settings: dict):
    """The sender of a task's image-status events: same spool file as the callback for these servers."""
    from .kafka_sender import KafkaSender, split_servers
    from .kafka_spool import Spool

    spool = Spool(settings["spool_dir"], ",".join(split_servers(settings["bootstrap_servers"])),
                  max_bytes=int(settings.get("spool_max_mb") or 64) * 1024 * 1024)
    return KafkaSender(settings, spool=spool, queue_size=5000, retry_at_close=False)


def status_publisher(get: t.Callable[[str], t.Any], *, host: str, task: str, module: str, device: str,
                     transport: str, operation: str, sender_factory=None) -> StatusPublisher | None:
    """A publisher when the variables configure a bus, else None (and kafka is never imported)."""
    settings = bus_settings(get)
    if settings is None:
        return None
    # kafka itself is imported in the sender thread, with the first report.
    factory = sender_factory or spooling_sender
    # producer_id: this one operation on this one device (its seq counts from 1), never the run id.
    stream = EventStream("action", run_id=os.environ.get(RUN_ID_ENV) or None,
                         campaign_id=get("swim_campaign_id") or os.environ.get(CAMPAIGN_ENV) or None,
                         producer_id=uuid.uuid4().hex)
    return StatusPublisher(lambda: factory(settings), get("swim_kafka_topic") or DEFAULT_STATUS_TOPIC, stream,
                           host=host, task=task, module=module, device=device, transport=transport,
                           operation=operation)
