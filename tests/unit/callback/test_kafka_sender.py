"""KafkaSender and Spool with a fake producer: ordering, spooling, draining, bounded close, one warning."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest

from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_sender import KafkaSender, host_port, split_servers
from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_spool import Record, Spool


class Future:
    def __init__(self, ok: bool):
        self.is_done = True
        self._ok = ok
        self.exception = None if ok else RuntimeError("NotLeaderForPartition")

    def succeeded(self):
        return self._ok


class FakeBroker:
    """What a producer delivered, and switches for up/down/failing/stuck."""

    def __init__(self):
        self.up = True
        self.delivered: list[tuple[str, str, dict]] = []
        self.fail_after: int | None = None  # accept this many more records, then fail the rest
        self.stuck = threading.Event()  # set: send() blocks until released
        self.release = threading.Event()
        self.producers = 0

    def probe(self, servers, timeout):
        return self.up

    def factory(self, config):
        self.producers += 1
        return FakeProducer(self)


class FakeProducer:
    def __init__(self, broker: FakeBroker):
        self.broker = broker

    def send(self, topic, key, value):
        if self.broker.stuck.is_set():
            self.broker.release.wait(30)
        if not self.broker.up:
            return Future(False)
        if self.broker.fail_after is not None:
            if self.broker.fail_after <= 0:
                return Future(False)
            self.broker.fail_after -= 1
        self.broker.delivered.append((topic, key.decode(), json.loads(value)))
        return Future(True)

    def flush(self, timeout=None):
        pass

    def close(self, timeout=None):
        pass


def sender(broker, spool=None, **kwargs):
    return KafkaSender({"bootstrap_servers": "127.0.0.1:9", "request_timeout": 1}, spool=spool, retry_interval=0.05,
                       producer_factory=broker.factory, probe=broker.probe, **kwargs)


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def numbers(broker):
    return [value["n"] for _topic, _key, value in broker.delivered]


def test_servers_are_parsed():
    assert split_servers(" a:1, b:2 ,") == ["a:1", "b:2"]
    assert split_servers(["a:1"]) == ["a:1"]
    assert host_port("kafka") == ("kafka", 9092)
    assert host_port("[::1]:9093") == ("::1", 9093)
    assert host_port("127.0.0.1:19092") == ("127.0.0.1", 19092)


def test_delivers_in_order_and_counts(tmp_path):
    broker = FakeBroker()
    s = sender(broker, Spool(str(tmp_path), "x"))
    for n in range(50):
        assert s.submit("t", f"h{n % 3}", {"n": n})
    counters = s.close(5)
    assert numbers(broker) == list(range(50))
    assert counters["sent"] == 50 and counters["spooled"] == 0
    assert s.take_warning() is None


def test_broker_down_spools_in_order_then_drains_before_new_events(tmp_path):
    broker = FakeBroker()
    broker.up = False
    spool = Spool(str(tmp_path), "x")
    s = sender(broker, spool)
    for n in range(10):
        s.submit("t", "h", {"n": n})
    assert wait_until(lambda: len(spool.read()) == 10)
    assert "not reachable" in s.take_warning()
    assert s.take_warning() is None  # once
    broker.up = True
    for n in range(10, 15):
        s.submit("t", "h", {"n": n})
    counters = s.close(5)
    assert numbers(broker) == list(range(15))
    assert counters["drained"] >= 10 and spool.read() == [] and not spool.pending()


def test_next_sender_drains_an_old_spool_first(tmp_path):
    spool = Spool(str(tmp_path), "x")
    with spool.locked():
        spool.append([Record("t", "h", {"n": n}) for n in range(5)])
    broker = FakeBroker()
    s = sender(broker, Spool(str(tmp_path), "x"))
    for n in range(5, 8):
        s.submit("t", "h", {"n": n})
    s.close(5)
    assert numbers(broker) == list(range(8))


def test_partial_failure_spools_the_unconfirmed_suffix(tmp_path):
    broker = FakeBroker()
    broker.fail_after = 3
    spool = Spool(str(tmp_path), "x")
    s = sender(broker, spool)
    for n in range(6):
        s.submit("t", "h", {"n": n})
    assert wait_until(lambda: [r.value["n"] for r in spool.read()] == [3, 4, 5])
    broker.fail_after = None
    s.close(5)
    assert numbers(broker) == list(range(6))


def test_close_is_bounded_when_the_producer_hangs_and_nothing_is_lost(tmp_path):
    broker = FakeBroker()
    broker.stuck.set()
    spool = Spool(str(tmp_path), "x")
    s = sender(broker, spool)
    for n in range(5):
        s.submit("t", "h", {"n": n})
    time.sleep(0.2)  # the thread is now blocked inside send()
    started = time.monotonic()
    counters = s.close(0.5)
    assert time.monotonic() - started < 2.5
    assert [r.value["n"] for r in spool.read()] == list(range(5))
    assert counters["spooled"] == 5
    broker.release.set()  # the abandoned thread must not rewrite or duplicate the spool
    time.sleep(0.3)
    assert [r.value["n"] for r in spool.read()] == list(range(5))


def test_full_queue_drops_and_says_so_once():
    broker = FakeBroker()
    broker.stuck.set()
    s = sender(broker, queue_size=3)
    accepted = [s.submit("t", "h", {"n": n}) for n in range(10)]
    assert accepted.count(False) >= 5
    assert "dropped" in s.take_warning()
    assert s.take_warning() is None
    broker.release.set()
    s.close(2)


def test_without_spool_undelivered_events_are_dropped_not_retried():
    broker = FakeBroker()
    broker.up = False
    s = sender(broker)
    for n in range(4):
        s.submit("t", "h", {"n": n})
    counters = s.close(2)
    assert counters["dropped"] == 4 and broker.delivered == []
    assert "not reachable" in s.problems[0]


def test_spool_skips_a_torn_line_and_replaces_atomically(tmp_path):
    spool = Spool(str(tmp_path), "x", max_bytes=10_000)
    with spool.locked():
        spool.append([Record("t", "a", {"n": 1})])
    with open(spool.path, "a") as handle:
        handle.write('{"topic": "t", "key"')  # a crash mid-write
    with spool.locked():
        spool.append([Record("t", "b", {"n": 2})])
        assert [r.value["n"] for r in spool.read()] == [1, 2]  # the torn line is skipped, nothing else
    assert spool.skipped_lines == 1
    with spool.locked():
        spool.replace([Record("t", "c", {"n": 3})])
        assert [r.key for r in spool.read()] == ["c"]
    with pytest.raises(OSError):
        spool.append([Record("t", "d", {"blob": "x" * 20_000})])
    assert os.stat(spool.path).st_mode & 0o777 == 0o600


def test_spool_lock_times_out(tmp_path):
    spool = Spool(str(tmp_path), "x")
    with spool.locked() as first:
        assert first
        result = {}

        def other():
            with Spool(str(tmp_path), "x").locked(timeout=0.2) as acquired:
                result["acquired"] = acquired

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(5)
    assert result == {"acquired": False}


class CountingBroker(FakeBroker):
    def __init__(self):
        super().__init__()
        self.probes = 0

    def probe(self, servers, timeout):
        self.probes += 1
        return self.up


def test_records_spooled_by_another_sender_are_adopted_and_delivered_first(tmp_path):
    """A worker's image-status events spooled while the broker was away: the callback's sender,
    running all along, delivers them when the broker is back, and its own later events after them."""
    broker = FakeBroker()
    running = sender(broker, Spool(str(tmp_path), "x"))
    running.submit("events", "h", {"n": 0})
    assert wait_until(lambda: numbers(broker) == [0])
    broker.up = False
    worker_spool = Spool(str(tmp_path), "x")
    worker = sender(broker, worker_spool, retry_at_close=False)
    for n in range(1, 4):
        worker.submit("status", "h", {"n": n})
    worker.close(2)
    assert [r.value["n"] for r in worker_spool.read()] == [1, 2, 3] and worker.backlog
    assert wait_until(lambda: running.backlog)  # adopted without any event of its own
    running.submit("events", "h", {"n": 4})  # queues behind the adopted records
    broker.up = True
    assert wait_until(lambda: numbers(broker) == [0, 1, 2, 3, 4])
    running.close(2)
    assert worker_spool.read() == [] and not worker_spool.pending()


def test_no_retry_at_close_means_no_probe_and_no_spool_read_while_down(tmp_path, monkeypatch):
    broker = CountingBroker()
    broker.up = False
    spool = Spool(str(tmp_path), "x")
    s = KafkaSender({"bootstrap_servers": "127.0.0.1:9"}, spool=spool, retry_interval=60,
                    producer_factory=broker.factory, probe=broker.probe, retry_at_close=False)
    s.submit("t", "h", {"n": 1})
    assert wait_until(lambda: spool.pending())
    reads = []
    monkeypatch.setattr(spool, "read", lambda: reads.append(1) or [])
    started = time.monotonic()
    counters = s.close(5)
    assert time.monotonic() - started < 1.0
    assert broker.probes == 1 and reads == [] and counters["spooled"] == 1


def test_one_notice_per_run_and_destination(tmp_path):
    first, second = Spool(str(tmp_path), "a:1"), Spool(str(tmp_path), "a:1")
    assert first.claim_notice("run-1") is True
    assert second.claim_notice("run-1") is False and first.claim_notice("run-1") is False
    assert second.claim_notice("run-2") is True
    assert Spool(str(tmp_path), "b:1").claim_notice("run-1") is True  # another destination
    old = [p for p in os.listdir(tmp_path) if p.startswith("notice-")]
    for name in old:
        os.utime(os.path.join(tmp_path, name), (0, 0))
    assert first.claim_notice("run-3") is True
    assert [p for p in os.listdir(tmp_path) if p.startswith("notice-")] != old and \
        len([p for p in os.listdir(tmp_path) if p.startswith("notice-")]) == 1  # stale markers removed


def test_close_while_another_process_holds_the_spool_lock_keeps_records_aside_then_folds_them(tmp_path):
    """A drain elsewhere holds the lock past our deadline: our leftovers go aside, never unlocked into
    a file the drainer is about to replace, and the next lock holder appends them in order."""
    spool = Spool(str(tmp_path), "x")
    with spool.locked():
        spool.append([Record("t", "h", {"n": n}) for n in range(3)])
    broker = FakeBroker()
    broker.up = False
    holder = Spool(str(tmp_path), "x")
    with holder.locked() as held:  # another run, draining a long spool
        assert held
        s = sender(broker, Spool(str(tmp_path), "x"))
        for n in range(3, 6):
            s.submit("t", "h", {"n": n})
        started = time.monotonic()
        counters = s.close(0.3)
        assert time.monotonic() - started < 3.0 and counters["spooled"] == 3
        asides = [p for p in os.listdir(tmp_path) if ".aside-" in p and not p.startswith(".")]
        assert len(asides) == 1 and holder.pending()
        holder.replace(holder.read()[1:])  # the drainer delivered the first record and rewrites the file
    with spool.locked():
        assert [r.value["n"] for r in spool.read()] == [1, 2, 3, 4, 5]
    assert not [p for p in os.listdir(tmp_path) if ".aside-" in p]


def test_a_busy_sender_adopts_foreign_records_too(tmp_path):
    """Events keep arriving (the thread is never idle): records another sender spooled are still adopted."""
    broker = FakeBroker()
    running = sender(broker, Spool(str(tmp_path), "x"))
    broker.up = False
    worker = sender(broker, Spool(str(tmp_path), "x"), retry_at_close=False)
    worker.submit("status", "w", {"n": -1})
    worker.close(2)
    broker.up = True
    n = 0
    deadline = time.monotonic() + 10
    while -1 not in numbers(broker) and time.monotonic() < deadline:
        running.submit("events", "h", {"n": n})
        n += 1
        time.sleep(0.01)
    assert -1 in numbers(broker), "adopted and delivered while the run goes on"
    running.close(5)
    assert sorted(numbers(broker)) == list(range(-1, n)) and Spool(str(tmp_path), "x").read() == []


def test_only_records_the_broker_confirmed_are_reported_delivered(tmp_path):
    broker = FakeBroker()
    confirmed: list[str] = []
    s = sender(broker, Spool(str(tmp_path / "spool"), "127.0.0.1:9"),
               on_delivered=lambda records: confirmed.extend(r.value["n"] for r in records))
    broker.fail_after = 2
    for n in range(4):
        s.submit("t", "olt-1", {"n": n})
    assert wait_until(lambda: len(confirmed) == 2 and s.backlog)
    assert confirmed == [0, 1]            # 2 and 3 are in the spool, not confirmed
    broker.fail_after = None
    assert wait_until(lambda: not s.backlog)
    s.close(2)
    assert confirmed == [0, 1, 2, 3]      # delivered from the spool, in order
