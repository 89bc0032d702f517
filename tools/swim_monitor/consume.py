"""Read the event topics from the beginning, without a consumer group.

``assign()`` + ``seek_to_beginning()`` over every partition: the monitor needs the whole history
of a campaign, must not disturb other consumers, and consumer-group joins were seen to stall
against Tansu. New partitions (a topic created after the monitor started) are picked up by
:meth:`TopicReader.refresh`.
"""
from __future__ import annotations

import json
import time


class TopicReader:
    def __init__(self, bootstrap_servers: str | list[str], topics: list[str], *, timeout: float = 5.0):
        from kafka import KafkaConsumer  # imported on use: `swim --help` needs no kafka

        servers = bootstrap_servers.split(",") if isinstance(bootstrap_servers, str) else bootstrap_servers
        self.topics = list(topics)
        self.consumer = KafkaConsumer(
            bootstrap_servers=[s.strip() for s in servers if s.strip()], group_id=None, enable_auto_commit=False,
            client_id="swim-monitor", request_timeout_ms=int(timeout * 1000),
            bootstrap_timeout_ms=int(timeout * 1000), allow_auto_create_topics=False)
        self.assigned: set = set()

    def refresh(self) -> int:
        """Assign partitions not assigned yet (reading them from the beginning); return how many are new."""
        from kafka import TopicPartition

        found = set()
        for topic in self.topics:
            for partition in self.consumer.partitions_for_topic(topic) or ():
                found.add(TopicPartition(topic, partition))
        new = found - self.assigned
        if new:
            self.assigned |= new
            self.consumer.assign(sorted(self.assigned))
            self.consumer.seek_to_beginning(*sorted(new))
        return len(new)

    def poll(self, timeout: float) -> list[dict]:
        """Decoded JSON events that arrived within *timeout* seconds (partition order kept)."""
        if not self.assigned:
            time.sleep(timeout)
            return []
        events = []
        for _partition, records in sorted(self.consumer.poll(timeout_ms=int(timeout * 1000)).items()):
            for record in records:
                try:
                    events.append(json.loads(record.value))
                except (ValueError, TypeError):
                    continue  # not ours
        return events

    def close(self) -> None:
        try:
            self.consumer.close()
        except Exception:
            pass


def read_available(reader: TopicReader, apply, *, timeout: float, idle: float = 1.0) -> None:
    """Feed *apply* every event already on the topics: stop after *idle* seconds without any, or *timeout*.

    End offsets are not used to decide "caught up": Tansu was seen to report end offsets below
    the offsets it then serves, so silence on the topic is the criterion.
    """
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    refreshed = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now - refreshed >= 1.0:
            refreshed = now
            if reader.refresh():
                quiet_since = now
        events = reader.poll(min(0.2, max(0.01, deadline - time.monotonic())))
        for event in events:
            apply(event)
        if events:
            quiet_since = time.monotonic()
        elif reader.assigned and time.monotonic() - quiet_since >= idle:
            return
        elif not reader.assigned and time.monotonic() - quiet_since >= idle:
            return  # no topic at all (nothing published yet)
