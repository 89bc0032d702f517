"""Event building without a broker: envelope, redaction, no_log summaries, progress, status publisher."""
from __future__ import annotations

import threading

from ansible_collections.escalator.swim.plugins.module_utils.device import StatusEvent
from ansible_collections.escalator.swim.plugins.plugin_utils.events import (
    EventStream, StatusPublisher, bus_settings, progress_of, status_publisher)
from ansible_collections.escalator.swim.plugins.plugin_utils.task_events import (
    CENSORED, clip, is_no_log, module_name, result_summary, stats_summary, task_args)


class Task:
    def __init__(self, action="ansible.builtin.debug", args=None, no_log=False, resolved=None):
        self.action, self.args, self.no_log, self._resolved_action = action, args or {}, no_log, resolved

    def _resolve_action(self, action):
        return "ansible.builtin." + action if "." not in action else action


def test_envelope_has_every_field_and_a_gap_free_sequence():
    stream = EventStream("callback", run_id="r1", campaign_id="c1")
    first = stream.make("playbook_start")
    second = stream.make("host_result", host="olt-1", task="t", module="m", result={"status": "ok"}, extra=1)
    assert first["seq"] == 1 and second["seq"] == 2
    assert first["producer_id"] == "r1" and first["schema_version"] == 1 and first["time"].endswith("Z")
    assert set(first) >= {"schema_version", "event", "event_id", "time", "seq", "run_id", "producer_id", "source",
                          "campaign_id", "host", "task", "module", "result"}
    assert second["extra"] == 1 and first["event_id"] != second["event_id"]


def test_sequence_is_unique_across_threads():
    stream = EventStream("action")
    seqs: list[int] = []
    lock = threading.Lock()

    def work():
        for _ in range(200):
            value = stream.make("image_status")["seq"]
            with lock:
                seqs.append(value)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(seqs) == list(range(1, 801))


def test_url_credentials_are_redacted_everywhere_in_an_event():
    stream = EventStream("callback", run_id="r")
    event = stream.make("task_start", task="fetch sftp://u:p4ss@h/x", args={"url": "https://bob:hunter2@h/i.img",
                                                                       "list": ["ftp://a:b@c/d"]})
    text = repr(event)
    assert "hunter2" not in text and "p4ss" not in text and "a:b@" not in text
    assert event["args"]["url"] == "https://********@h/i.img"


def test_no_log_result_keeps_only_status_and_the_notice():
    result = {"changed": True, "msg": "the password is hunter2", "reason": "X"}
    summary = result_summary("changed", result, no_log=True)
    assert summary == {"status": "changed", "changed": True, "failed": False, "censored": CENSORED}
    assert is_no_log(Task(no_log=True)) and is_no_log(Task(), {"censored": "..."})
    assert is_no_log(Task(), {"_ansible_no_log": True}) and not is_no_log(Task(no_log="{{ x }}"))


def test_result_summary_picks_msg_reason_and_ignored():
    summary = result_summary("failed", {"msg": "m", "reason": "WRONG_IMAGE_CHECKSUM", "final_state": "UPGRADE_FAILED",
                                        "stdout": "big", "rc": 2}, no_log=False, ignored=True)
    assert summary == {"status": "failed", "changed": False, "failed": True, "ignored": True, "msg": "m",
                       "reason": "WRONG_IMAGE_CHECKSUM", "final_state": "UPGRADE_FAILED", "rc": 2}
    assert result_summary("unreachable", {}, no_log=False)["failed"] is True
    assert clip("x" * 3000).endswith("[1000 more characters]") and clip(["a"]) == "['a']"


def test_task_args_hidden_for_no_log_and_by_option():
    task = Task(args={"msg": "hi", "_ansible_check_mode": True})
    assert task_args(task, hide=False) == {"msg": "hi"}
    assert task_args(task, hide=True) is None
    assert task_args(Task(args={"msg": "x"}, no_log=True), hide=False) is None


def test_module_name_resolves_without_templated_warnings():
    assert module_name(Task(resolved="escalator.swim.download_image")) == "escalator.swim.download_image"
    assert module_name(Task(action="debug")) == "ansible.builtin.debug"
    assert module_name(Task(action="{{ which }}")) == "{{ which }}"


def test_stats_summary():
    class Stats:
        processed = {"b": 1, "a": 1}

        def summarize(self, host):
            return {"ok": 2, "changed": 1, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0, "ignored": 1}

    assert list(stats_summary(Stats())) == ["a", "b"]
    assert stats_summary(Stats())["a"]["ignored"] == 1


def test_progress_parsing():
    assert progress_of("downloaded 40% (4194304/10485760 bytes)") == 40.0
    assert progress_of("downloaded 12.5 %") == 12.5
    assert progress_of("installing swim-olt 2.0.0") is None
    assert progress_of("999% weird") is None


class FakeSender:
    def __init__(self, fail=False):
        self.records, self.fail, self.closed = [], fail, None
        self.problems = ["Kafka broker 127.0.0.1:9 is not reachable"] if fail else []

    def submit(self, topic, key, value):
        if self.fail:
            return False
        self.records.append((topic, key, value))
        return True

    def close(self, timeout):
        self.closed = timeout
        return {"sent": len(self.records), "dropped": 3 if self.fail else 0}


def publisher(sender):
    return StatusPublisher(lambda: sender, "swim.image-status", EventStream("action", run_id="r", campaign_id="c"),
                           host="olt-1", task="Download", module="escalator.swim.download_image", device="olt-1-dev",
                           transport="dmi", operation="download_image")


def test_status_publisher_publishes_each_report_keyed_by_host():
    sender = FakeSender()
    pub = publisher(sender)
    pub(StatusEvent(state="COPYING_IMAGE", description="downloaded 50% (1/2 bytes) from http://u:pw@h/x"))
    pub(StatusEvent(state="UPGRADE_FAILED", reason="WRONG_IMAGE_CHECKSUM", reason_detail="bad", ok=False))
    assert pub.close(1.0) == [] and sender.closed == 1.0
    (topic, key, first), (_, _, second) = sender.records
    assert topic == "swim.image-status" and key == "olt-1"
    status = first["image_status"]
    assert status["progress"] == 50.0 and "pw" not in status["description"] and status["device"] == "olt-1-dev"
    assert second["image_status"]["ok"] is False and second["image_status"]["reason"] == "WRONG_IMAGE_CHECKSUM"
    assert [first["seq"], second["seq"]] == [1, 2] and first["campaign_id"] == "c"


def test_status_publisher_never_raises_and_warns_once():
    pub = publisher(FakeSender(fail=True))
    for _ in range(3):
        pub(StatusEvent(state="COPYING_IMAGE"))
    [warning] = pub.close(1.0)
    assert "not reachable" in warning and "olt-1" in warning

    def broken():
        raise RuntimeError("boom")

    pub = StatusPublisher(broken, "t", EventStream("action"), host="h", task="t", module="m", device="d",
                          transport="dmi", operation="download_image")
    pub(StatusEvent(state="COPYING_IMAGE"))  # no exception
    assert "boom" in pub.close(1.0)[0]


def test_no_bus_configured_means_no_publisher_and_no_kafka_import(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "kafka", raising=False)
    assert status_publisher(lambda name: None, host="h", task="t", module="m", device="d", transport="dmi",
                            operation="download_image") is None
    assert "kafka" not in sys.modules


def test_bus_settings_from_vars_and_env_password(monkeypatch):
    monkeypatch.setenv("SWIM_KAFKA_SASL_PLAIN_PASSWORD", "from-env")
    values = {"swim_kafka_bootstrap_servers": "127.0.0.1:9092", "swim_kafka_security_protocol": "SASL_PLAINTEXT",
              "swim_kafka_timeout": "2"}
    settings = bus_settings(values.get)
    assert settings["sasl_plain_password"] == "from-env" and settings["request_timeout"] == 2.0
    assert settings["security_protocol"] == "SASL_PLAINTEXT" and settings["connect_timeout"] == 1.0


def test_undelivered_status_events_spool_and_warn_once_per_run(tmp_path, monkeypatch):
    """Broker away: each task's reports go to the shared spool, in order; only the first task of the run warns."""
    from ansible_collections.escalator.swim.plugins.plugin_utils.events import spooling_sender
    from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_spool import Spool

    monkeypatch.setenv("SWIM_KAFKA_RUN_ID", "run-1")
    settings = bus_settings({"swim_kafka_bootstrap_servers": "127.0.0.1:9", "swim_kafka_spool_dir": str(tmp_path),
                             "swim_kafka_timeout": "1"}.get)

    def down_sender(s):
        sender = spooling_sender(s)
        sender._probe = lambda servers, timeout: False
        return sender

    warnings = []
    for task in ("Download", "Activate"):
        pub = StatusPublisher(lambda: down_sender(settings), "swim.image-status", EventStream("action", run_id="run-1"),
                              host="olt-1", task=task, module="m", device="olt-1", transport="dmi",
                              operation=task.lower())
        for n in range(3):
            pub(StatusEvent(state="COPYING_IMAGE", description=f"downloaded {n * 10}% via http://u:pw@h/x"))
        warnings.append(pub.close(2.0))
    assert len(warnings[0]) == 1 and warnings[1] == []
    assert "not reachable" in warnings[0][0] and str(tmp_path) in warnings[0][0] and "olt-1" in warnings[0][0]
    records = Spool(str(tmp_path), "127.0.0.1:9").read()
    assert [(r.topic, r.key, r.value["task"], r.value["seq"]) for r in records] == \
        [("swim.image-status", "olt-1", task, n) for task in ("Download", "Activate") for n in (1, 2, 3)]
    assert all("pw" not in r.value["image_status"]["description"] for r in records)
    monkeypatch.setenv("SWIM_KAFKA_RUN_ID", "run-2")  # the next run warns again
    pub = StatusPublisher(lambda: down_sender(settings), "t", EventStream("action"), host="olt-1", task="t",
                          module="m", device="olt-1", transport="dmi", operation="download_image")
    pub(StatusEvent(state="COPYING_IMAGE"))
    assert len(pub.close(2.0)) == 1


def test_each_operation_is_its_own_producer_even_inside_a_callback_run(monkeypatch):
    """seq counts per operation: two tasks of one run must not share producer_id (nor use the run id)."""
    monkeypatch.setenv("SWIM_KAFKA_RUN_ID", "run-1")
    sender = FakeSender()
    get = {"swim_kafka_bootstrap_servers": "127.0.0.1:9"}.get
    pubs = [status_publisher(get, host="olt-1", task=task, module="m", device="olt-1", transport="dmi",
                             operation="download_image", sender_factory=lambda s: sender)
            for task in ("Download", "Activate")]
    for pub in pubs:
        pub(StatusEvent(state="COPYING_IMAGE"))
    first, second = (value for _topic, _key, value in sender.records)
    assert first["run_id"] == second["run_id"] == "run-1"
    assert len({first["producer_id"], second["producer_id"], "run-1"}) == 3 and first["seq"] == second["seq"] == 1
