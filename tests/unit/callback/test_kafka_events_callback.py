"""The callback's event methods with fake Ansible objects and a fake sender (no broker)."""
from __future__ import annotations

import json

import pytest

from ansible_collections.escalator.swim.plugins.callback import kafka_events
from ansible_collections.escalator.swim.plugins.plugin_utils.task_events import CENSORED

DEFAULTS = {"bootstrap_servers": ["127.0.0.1:9"], "topic": "swim.events", "client_id": None, "acks": "1",
            "security_protocol": "PLAINTEXT", "ssl_cafile": None, "ssl_certfile": None, "ssl_keyfile": None,
            "sasl_mechanism": None, "sasl_plain_username": None, "sasl_plain_password": None,
            "spool_max_mb": 64, "campaign_id": "opt-campaign", "hide_task_arguments": False,
            "timeout": 5.0, "flush_timeout": 1.0}


class Display:
    verbosity = 0

    def __init__(self):
        self.warnings, self.lines = [], []

    def warning(self, msg, *args, **kwargs):
        self.warnings.append(msg)

    def display(self, msg, *args, **kwargs):
        self.lines.append(msg)

    def vvv(self, msg, *args, **kwargs):
        self.lines.append(msg)

    def v(self, msg, *args, **kwargs):
        self.lines.append(msg)


class Sender:
    instances: list = []

    def __init__(self, settings, spool=None, **kwargs):
        self.settings, self.spool, self.records, self.problem, self.closed = settings, spool, [], None, False
        self.counters = {"sent": 0, "spooled": 0, "drained": 0, "dropped": 0}
        self.thread_cpu = 0.0
        Sender.instances.append(self)

    def submit(self, topic, key, value):
        self.records.append((topic, key, value))
        return True

    def take_warning(self):
        problem, self.problem = self.problem, None
        return problem

    def close(self, timeout):
        self.closed = True
        return {"sent": len(self.records), "spooled": 0, "drained": 0, "dropped": 0}


class Task:
    def __init__(self, name, action="ansible.builtin.debug", args=None, no_log=False, uuid="u1"):
        self.name, self.action, self.args, self.no_log, self._uuid = name, action, args or {}, no_log, uuid
        self._resolved_action = action

    def get_name(self):
        return self.name


class Host:
    def __init__(self, name):
        self.name = name


class Result:
    def __init__(self, host, task, result):
        self.host, self.task, self.result, self.task_name = Host(host), task, result, task.name


class VariableManager:
    extra_vars: dict = {}


class Play:
    def __init__(self, name="p", vars=None, extra=None):
        self.name, self._vars, self.hosts = name, vars or {}, ["all"]
        self._vm = VariableManager()
        self._vm.extra_vars = extra or {}

    def get_name(self):
        return self.name

    def get_vars(self):
        return self._vars

    def get_variable_manager(self):
        return self._vm


class Playbook:
    _file_name = "/x/site.yml"

    def __init__(self, plays):
        self._plays = plays

    def get_plays(self):
        return self._plays


@pytest.fixture
def callback(monkeypatch, tmp_path):
    monkeypatch.setattr(kafka_events.CallbackBase, "set_options", lambda self, **kw: None)
    monkeypatch.setattr(kafka_events, "KafkaSender", Sender)
    monkeypatch.setattr(kafka_events, "preload", lambda: None)
    # The callback exports its settings to the environment (for the worker processes): a private copy,
    # without any SWIM_KAFKA_* / ANSIBLE_KAFKA_EVENTS_* of the machine running the tests.
    monkeypatch.setattr(kafka_events.os, "environ", {key: value for key, value in kafka_events.os.environ.items()
                                                      if not key.startswith(("SWIM_KAFKA_", "ANSIBLE_KAFKA_EVENTS_"))})

    def make(**options):
        values = {**DEFAULTS, "spool_dir": str(tmp_path / "spool"), **options}
        module = kafka_events.CallbackModule(display=Display())
        module.get_option = values.get
        module.set_options()
        return module

    return make


def records(cb):
    return [value for _topic, _key, value in cb.sender.records]


def test_disabled_with_one_warning_when_no_servers(callback):
    cb = callback(bootstrap_servers=None)
    assert not cb._display.warnings and cb.sender is None     # extra vars may still configure it
    cb.v2_playbook_on_start(Playbook([Play()]))
    assert cb.disabled and len(cb._display.warnings) == 1 and "bootstrap_servers" in cb._display.warnings[0]
    cb.v2_playbook_on_play_start(Play())  # a disabled callback does nothing, raises nothing


def test_extra_vars_configure_the_callback_and_the_device_modules(callback):
    """`-e swim_kafka_bootstrap_servers=...` as the user guide says: the callback publishes, and the worker
    processes (device modules) inherit the same settings."""
    cb = callback(bootstrap_servers=None, security_protocol="SSL", ssl_cafile="/ca.pem")
    cb.v2_playbook_on_start(Playbook([Play(extra={"swim_kafka_bootstrap_servers": "127.0.0.1:7"})]))
    assert not cb.disabled and not cb._display.warnings
    assert cb.sender.settings["bootstrap_servers"] == ["127.0.0.1:7"]
    assert cb.sender.settings["security_protocol"] == "SSL"                    # ini options still apply
    assert [r["event"] for r in records(cb)] == ["playbook_start"]
    assert kafka_events.os.environ["SWIM_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:7"
    assert kafka_events.os.environ["SWIM_KAFKA_SSL_CAFILE"] == "/ca.pem"


def test_disabled_when_kafka_is_missing(callback, monkeypatch):
    def missing():
        raise ImportError("No module named 'kafka'")

    monkeypatch.setattr(kafka_events, "preload", missing)
    cb = callback()
    assert cb.disabled and "kafka-python" in cb._display.warnings[0]


def test_run_events_keys_and_campaign_precedence(callback):
    cb = callback()
    play = Play(vars={"swim_campaign_id": "play-campaign"})
    cb.v2_playbook_on_start(Playbook([play]))
    cb.v2_playbook_on_play_start(play)
    task = Task("Say hi", args={"msg": "https://a:b@h/x"})
    cb.v2_playbook_on_task_start(task, False)
    cb.v2_runner_on_start(Host("olt-1"), task)
    cb.v2_runner_on_ok(Result("olt-1", task, {"changed": True, "msg": "ok"}))
    cb.v2_runner_on_failed(Result("olt-2", task, {"msg": "nope"}), ignore_errors=True)
    cb.v2_runner_on_unreachable(Result("olt-3", task, {"msg": "ssh"}))
    cb.v2_runner_on_skipped(Result("olt-4", task, {"skip_reason": "Conditional result was False"}))
    events = records(cb)
    assert [e["event"] for e in events] == ["playbook_start", "play_start", "task_start"] + ["host_result"] * 4
    assert {e["campaign_id"] for e in events} == {"play-campaign"}
    keys = [key for _t, key, _v in cb.sender.records]
    run_id = events[0]["run_id"]
    assert keys == [run_id] * 3 + ["olt-1", "olt-2", "olt-3", "olt-4"]
    assert [e["result"]["status"] for e in events[3:]] == ["changed", "failed", "unreachable", "skipped"]
    assert events[4]["result"]["ignored"] is True and events[3]["duration"] is not None
    assert events[2]["args"] == {"msg": "https://********@h/x"}
    assert [e["seq"] for e in events] == list(range(1, 8))


def test_extra_var_campaign_beats_play_var_and_option(callback):
    cb = callback()
    play = Play(vars={"swim_campaign_id": "play"}, extra={"swim_campaign_id": "extra"})
    cb.v2_playbook_on_start(Playbook([play]))
    cb.v2_playbook_on_play_start(play)
    assert {e["campaign_id"] for e in records(cb)} == {"extra"}
    cb2 = callback()
    cb2.v2_playbook_on_play_start(Play())
    assert records(cb2)[0]["campaign_id"] == "opt-campaign"


def test_no_log_task_is_censored_and_its_args_dropped(callback):
    cb = callback()
    task = Task("secret", args={"msg": "hunter2"}, no_log=True)
    cb.v2_playbook_on_task_start(task, False)
    cb.v2_runner_on_ok(Result("olt-1", task, {"censored": CENSORED, "changed": False}))
    start, result = records(cb)
    assert start["args"] is None and result["result"]["censored"] == CENSORED
    assert "hunter2" not in repr(records(cb))


def test_hide_task_arguments(callback):
    cb = callback(hide_task_arguments=True)
    cb.v2_playbook_on_task_start(Task("t", args={"msg": "x"}), False)
    assert records(cb)[0]["args"] is None


def test_stats_ends_the_run_and_flushes(callback):
    cb = callback()

    class Stats:
        processed = {"olt-1": 1, "olt-2": 1}

        def summarize(self, host):
            failures = 1 if host == "olt-2" else 0
            return {"ok": 1, "changed": 0, "failures": failures, "unreachable": 0, "skipped": 0, "rescued": 0,
                    "ignored": 0}

    cb.v2_playbook_on_stats(Stats())
    stats, end = records(cb)
    assert stats["event"] == "stats" and set(stats["stats"]) == {"olt-1", "olt-2"}
    assert end["status"] == "failed" and end["failed_hosts"] == ["olt-2"]
    assert cb.sender.closed


def test_one_warning_however_many_problems(callback):
    cb = callback()
    for n in range(5):
        cb.sender.problem = f"broker down {n}"
        cb.v2_playbook_on_task_start(Task(f"t{n}"), False)
    assert len(cb._display.warnings) == 1 and "broker down 0" in cb._display.warnings[0]


def test_internal_errors_never_escape(callback):
    cb = callback()
    cb.v2_runner_on_ok(object())  # not a result at all
    cb.v2_runner_on_failed(None)
    assert len(cb._display.warnings) == 1 and "internal error" in cb._display.warnings[0]


def test_run_id_is_shared_with_forked_workers(callback):
    import os

    cb = callback()
    assert os.environ[kafka_events.RUN_ID_ENV] == cb.stream.run_id
    assert os.environ[kafka_events.CAMPAIGN_ENV] == "opt-campaign"


# -- campaign rows after a crash (docs/kafka.md "Campaign rows after a crash") ----------------------------------
def reduced(device, stage="postcheck", state="ok", outcome="upgraded"):
    return {"device": device, "batch": 1, "stage": stage, "state": state, "error_code": None, "outcome": outcome}


def run_fence_result(campaign_dir, table_rows, state="begin_run"):
    task = Task("Start this run", action="escalator.swim.campaign_status", uuid=state)
    data = {"changed": False, "campaign_dir": str(campaign_dir), "campaign_id": "wave1", "table_rows": table_rows,
            "msg": state}
    return Result("localhost", task, data)


def test_a_run_republishes_the_rows_the_broker_never_confirmed_with_content_ids(callback, tmp_path):
    from ansible_collections.escalator.swim.plugins.module_utils.campaign_ledger import row_event_id, write_ledger
    from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_spool import Record

    campaign_dir = tmp_path / "wave1"
    # The earlier run got olt-1's final row confirmed; olt-2's confirmed row is older than its table row (written
    # by an orphaned worker), and olt-3 was never confirmed at all.
    write_ledger(str(campaign_dir), {"olt-1": reduced("olt-1"), "olt-2": reduced("olt-2", "activate", "running",
                                                                              "in_progress")})
    table = {name: reduced(name) for name in ("olt-1", "olt-2", "olt-3")}
    cb = callback()
    cb.v2_playbook_on_start(Playbook([Play()]))
    cb.v2_runner_on_ok(run_fence_result(campaign_dir, table))
    rows = [r for r in records(cb) if r["event"] == "campaign_row"]
    assert [r["host"] for r in rows] == ["olt-2", "olt-3"], rows
    assert all(r["row"] == table[r["host"]] and r["republished"] is True for r in rows)
    assert [r["event_id"] for r in rows] == [row_event_id("wave1", name, table[name]) for name in ("olt-2", "olt-3")]
    assert [key for _topic, key, value in cb.sender.records if value["event"] == "campaign_row"] == ["olt-2", "olt-3"]

    # The broker confirms them: the ledger says so, and the end of the run republishes nothing more.
    cb.rows.delivered([Record("swim.events", r["host"], r) for r in rows])
    ledger = json.loads((campaign_dir / "events" / "published.json").read_text())["rows"]
    assert ledger == table
    cb.v2_runner_on_ok(run_fence_result(campaign_dir, table, "end_run"))
    assert len([r for r in records(cb) if r["event"] == "campaign_row"]) == 2


def test_the_end_of_a_run_republishes_a_row_no_result_carried(callback, tmp_path):
    """A row this run queued counts as published (it is ahead on the topic); a table row that differs from it
    (written without a result reaching the callback) is republished when the run ends."""
    campaign_dir = tmp_path / "wave1"
    cb = callback()
    cb.v2_playbook_on_start(Playbook([Play()]))
    cb.v2_runner_on_ok(run_fence_result(campaign_dir, {}))
    task = Task("Postcheck", action="escalator.swim.campaign_status", uuid="u9")
    cb.v2_runner_on_ok(Result("olt-1", task, {"changed": False, "row": {
        "device": "olt-1", "batch": 1, "outcome": "in_progress",
        "stages": {"verify": {"state": "ok", "start": "2025-01-01T00:00:01Z", "end": "2025-01-01T00:00:02Z"}}}}))
    same = {"olt-1": reduced("olt-1", "verify", "ok", "in_progress")}
    cb.v2_runner_on_ok(run_fence_result(campaign_dir, same, "end_run"))
    assert not [r for r in records(cb) if r["event"] == "campaign_row"]
    cb.v2_runner_on_ok(run_fence_result(campaign_dir, {"olt-1": reduced("olt-1")}, "end_run"))
    assert [r["row"] for r in records(cb) if r["event"] == "campaign_row"] == [reduced("olt-1")]
    assert not (campaign_dir / "events" / "published.json").exists(), "nothing was confirmed"
