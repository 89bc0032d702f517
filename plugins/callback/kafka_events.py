# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: kafka_events
type: notification
short_description: Publish playbook, task and per-host events to Kafka
version_added: 0.1.0
description:
  - Publishes one JSON event to a Kafka topic for the playbook start and end, each play start, each task
    start, each host's result (ok, changed, failed, unreachable, skipped) and the final stats. The event
    schema is versioned and documented in C(docs/events.schema.json) and C(docs/kafka.md).
  - Events of one host are keyed by the host name, playbook-level events by the run id, so each key lands in
    one partition and keeps its order. Every event carries the run id and a per-run sequence number.
  - The callback never fails nor stalls the playbook. Events go to a bounded in-memory queue that a
    background thread delivers with short timeouts. While the broker is unreachable, events are appended to a
    local spool file (JSON lines) and delivered, in order, when it is back, later in the same run or by the
    next run, which drains the spool before sending its own events. One warning is shown, not one per event.
  - Only a summary of each result is published (status, changed, failed, msg, reason). Results of C(no_log)
    tasks are reduced to a censored summary, and credentials in URLs (C(user:password@)) are redacted before
    an event leaves the controller or reaches the spool file.
  - Enable it with C(ANSIBLE_CALLBACKS_ENABLED=escalator.swim.kafka_events) (or C(callbacks_enabled) in
    C(ansible.cfg)) and set O(bootstrap_servers). Without O(bootstrap_servers) it disables itself with a warning.
  - Every option except O(topic), O(campaign_id), O(hide_task_arguments) and O(flush_timeout) is also read from
    the variable C(swim_kafka_<option>) (extra vars, then the first play's vars), which takes precedence over the
    environment and C(ansible.cfg); the device modules read the same settings in the same order, and the
    callback exports what it resolved to the worker processes (C(docs/kafka.md), "Configuring Kafka once").
author:
  - escalator.swim maintainers (@escalator-swim)
requirements:
  - kafka-python >= 2.0.2 on the controller
seealso:
  - name: Event schema and operations guide
    description: docs/kafka.md in the collection.
    link: https://example.invalid/escalator/swim/docs/kafka.md
options:
  bootstrap_servers:
    description: Kafka bootstrap servers, C(host:port), comma separated.
    type: list
    elements: str
    env:
      - name: ANSIBLE_KAFKA_EVENTS_BOOTSTRAP_SERVERS
        version_added: 0.1.0
      - name: SWIM_KAFKA_BOOTSTRAP_SERVERS
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: bootstrap_servers
        version_added: 0.1.0
    version_added: 0.1.0
  topic:
    description: Topic the events are published to.
    type: str
    default: swim.events
    env:
      - name: ANSIBLE_KAFKA_EVENTS_TOPIC
        version_added: 0.1.0
      - name: SWIM_KAFKA_TOPIC
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: topic
        version_added: 0.1.0
    version_added: 0.1.0
  client_id:
    description: Kafka client id of the producer.
    type: str
    default: escalator.swim-callback
    env:
      - name: ANSIBLE_KAFKA_EVENTS_CLIENT_ID
        version_added: 0.1.0
      - name: SWIM_KAFKA_CLIENT_ID
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: client_id
        version_added: 0.1.0
    version_added: 0.1.0
  acks:
    description: Acknowledgements the producer waits for.
    type: str
    default: "1"
    choices: ["0", "1", "all"]
    env:
      - name: ANSIBLE_KAFKA_EVENTS_ACKS
        version_added: 0.1.0
      - name: SWIM_KAFKA_ACKS
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: acks
        version_added: 0.1.0
    version_added: 0.1.0
  security_protocol:
    description: How the producer talks to the brokers.
    type: str
    default: PLAINTEXT
    choices: [PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL]
    env:
      - name: ANSIBLE_KAFKA_EVENTS_SECURITY_PROTOCOL
        version_added: 0.1.0
      - name: SWIM_KAFKA_SECURITY_PROTOCOL
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: security_protocol
        version_added: 0.1.0
    version_added: 0.1.0
  ssl_cafile:
    description: CA bundle that verifies the brokers' certificates (C(SSL), C(SASL_SSL)).
    type: path
    env:
      - name: ANSIBLE_KAFKA_EVENTS_SSL_CAFILE
        version_added: 0.1.0
      - name: SWIM_KAFKA_SSL_CAFILE
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: ssl_cafile
        version_added: 0.1.0
    version_added: 0.1.0
  ssl_certfile:
    description: Client certificate (PEM) for mutual TLS.
    type: path
    env:
      - name: ANSIBLE_KAFKA_EVENTS_SSL_CERTFILE
        version_added: 0.1.0
      - name: SWIM_KAFKA_SSL_CERTFILE
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: ssl_certfile
        version_added: 0.1.0
    version_added: 0.1.0
  ssl_keyfile:
    description: Private key (PEM) of O(ssl_certfile).
    type: path
    env:
      - name: ANSIBLE_KAFKA_EVENTS_SSL_KEYFILE
        version_added: 0.1.0
      - name: SWIM_KAFKA_SSL_KEYFILE
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: ssl_keyfile
        version_added: 0.1.0
    version_added: 0.1.0
  sasl_mechanism:
    description: SASL mechanism (C(SASL_PLAINTEXT), C(SASL_SSL)).
    type: str
    choices: [PLAIN, SCRAM-SHA-256, SCRAM-SHA-512]
    env:
      - name: ANSIBLE_KAFKA_EVENTS_SASL_MECHANISM
        version_added: 0.1.0
      - name: SWIM_KAFKA_SASL_MECHANISM
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: sasl_mechanism
        version_added: 0.1.0
    version_added: 0.1.0
  sasl_plain_username:
    description: SASL user name.
    type: str
    env:
      - name: ANSIBLE_KAFKA_EVENTS_SASL_PLAIN_USERNAME
        version_added: 0.1.0
      - name: SWIM_KAFKA_SASL_PLAIN_USERNAME
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: sasl_plain_username
        version_added: 0.1.0
    version_added: 0.1.0
  sasl_plain_password:
    description:
      - SASL password, a secret. Under AWX, inject it as an environment variable from a custom credential type
        (a vaulted C(swim_kafka_sasl_plain_password) variable is read too).
    type: str
    env:
      - name: ANSIBLE_KAFKA_EVENTS_SASL_PLAIN_PASSWORD
        version_added: 0.1.0
      - name: SWIM_KAFKA_SASL_PLAIN_PASSWORD
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: sasl_plain_password
        version_added: 0.1.0
    version_added: 0.1.0
  spool_dir:
    description:
      - Directory of the spool files holding events the broker has not taken yet (one file per set of bootstrap
        servers, mode 0600). The next run sends them before its own events.
      - The device modules' image-status events of the same run spool to the same directory (unless
        C(swim_kafka_spool_dir) says otherwise), and the callback delivers what they spooled too.
    type: path
    default: ~/.ansible/swim-kafka-spool
    env:
      - name: ANSIBLE_KAFKA_EVENTS_SPOOL_DIR
        version_added: 0.1.0
      - name: SWIM_KAFKA_SPOOL_DIR
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: spool_dir
        version_added: 0.1.0
    version_added: 0.1.0
  spool_max_mb:
    description: Size limit of a spool file in MiB; events beyond it are dropped (and counted in the warning).
    type: int
    default: 64
    env:
      - name: ANSIBLE_KAFKA_EVENTS_SPOOL_MAX_MB
        version_added: 0.1.0
      - name: SWIM_KAFKA_SPOOL_MAX_MB
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: spool_max_mb
        version_added: 0.1.0
    version_added: 0.1.0
  campaign_id:
    description:
      - Campaign id stamped on every event, so a monitor can follow one upgrade campaign.
      - The variable C(swim_campaign_id), given as an extra variable or a play variable, takes precedence.
    type: str
    env:
      - name: ANSIBLE_KAFKA_EVENTS_CAMPAIGN_ID
        version_added: 0.1.0
      - name: SWIM_KAFKA_CAMPAIGN_ID
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: campaign_id
        version_added: 0.1.0
    version_added: 0.1.0
  hide_task_arguments:
    description: Leave the task arguments out of C(task_start) events (they are always left out for C(no_log) tasks).
    type: bool
    default: false
    env:
      - name: ANSIBLE_KAFKA_EVENTS_HIDE_TASK_ARGUMENTS
        version_added: 0.1.0
      - name: SWIM_KAFKA_HIDE_TASK_ARGUMENTS
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: hide_task_arguments
        version_added: 0.1.0
    version_added: 0.1.0
  timeout:
    description: Seconds one produce request may take before the broker is considered away (events then spool).
    type: float
    default: 5.0
    env:
      - name: ANSIBLE_KAFKA_EVENTS_TIMEOUT
        version_added: 0.1.0
      - name: SWIM_KAFKA_TIMEOUT
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: timeout
        version_added: 0.1.0
    version_added: 0.1.0
  flush_timeout:
    description:
      - Seconds the end of the playbook waits for queued events to be delivered; what is left goes to the spool.
    type: float
    default: 10.0
    env:
      - name: ANSIBLE_KAFKA_EVENTS_FLUSH_TIMEOUT
        version_added: 0.1.0
      - name: SWIM_KAFKA_FLUSH_TIMEOUT
        version_added: 0.1.0
    ini:
      - section: callback_kafka_events
        key: flush_timeout
        version_added: 0.1.0
    version_added: 0.1.0
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = escalator.swim.kafka_events
#
# [callback_kafka_events]
# bootstrap_servers = kafka-1.example.net:9092,kafka-2.example.net:9092
# topic = swim.events
# campaign_id = olt-2.0.0-wave1

# Or from the environment:
#   ANSIBLE_CALLBACKS_ENABLED=escalator.swim.kafka_events SWIM_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 \
#   ansible-playbook -e swim_campaign_id=wave1 upgrade.yml
"""

import collections
import functools
import os
import time
import uuid
from collections.abc import Mapping

from ansible.plugins.callback import CallbackBase

from ansible_collections.escalator.swim.plugins.plugin_utils.events import (
    CAMPAIGN_ENV, RUN_ID_ENV, SPOOL_ENV, EventStream)
from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_sender import KafkaSender, preload, split_servers
from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_settings import export as export_kafka
from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_settings import producer_settings
from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_settings import resolve as resolve_kafka
from ansible_collections.escalator.swim.plugins.module_utils.campaign_ledger import row_event_id
from ansible_collections.escalator.swim.plugins.plugin_utils.kafka_spool import Spool
from ansible_collections.escalator.swim.plugins.plugin_utils.published_rows import PublishedRows
from ansible_collections.escalator.swim.plugins.plugin_utils.task_events import (
    is_no_log, module_name, ok_status, result_summary, stats_summary, task_args)

CAMPAIGN_VAR = "swim_campaign_id"
# The campaign_status results (begin_run, end_run) after which rows the topic lacks are republished.
RUN_FENCE_MODULES = {"escalator.swim.campaign_status", "campaign_status"}


def guarded(method):
    """Event methods never raise: ansible-core would print one warning per failing event."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if self.disabled or self.sender is None:
            return None
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            self._note(f"internal error in {method.__name__}: {type(exc).__name__}: {exc}")
            return None
        finally:
            # What the playbook waits for: the main thread's time inside this callback.
            # What the playbook waits for: the main thread's time inside this callback. Wall time
            # includes waiting for the GIL held by ansible-core's own threads; CPU time does not.
            spent = time.perf_counter() - started
            self.busy += spent
            self.busy_cpu += time.thread_time() - cpu
            self.calls += 1
            self.busy_by[method.__name__] += spent
    return wrapper


def result_data(result):
    """The host's result as callbacks get it (internal keys stripped, censored when no_log).

    ansible-core 2.19's ``result`` property deep-converts the whole result to native types on first
    access (about 1 ms per result in the controller's main thread, paid by every host of every task);
    the summary only picks a few scalars, so read the same callback-shaped mapping directly.
    """
    data = getattr(result, "_return_data", None)
    return data if isinstance(data, Mapping) else result.result


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "escalator.swim.kafka_events"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self.sender: KafkaSender | None = None
        self.spool: Spool | None = None
        self.stream: EventStream | None = None
        self.rows: PublishedRows | None = None
        self.topic = "swim.events"
        self.hide_task_arguments = False
        self.flush_timeout = 10.0
        self.default_campaign = None
        self.playbook = None
        self.play = None
        self._started: dict[tuple[str, str], float] = {}
        self._internal_errors: list[str] = []
        self._warned = False
        self._pending = False
        self.busy = 0.0
        self.busy_cpu = 0.0
        self.calls = 0
        self.busy_by: collections.Counter = collections.Counter()

    # -- configuration ------------------------------------------------------------------------
    def set_options(self, task_keys=None, var_options=None, direct=None):
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        # Environment and ansible.cfg now; `-e swim_kafka_*` (and play vars) are read at the playbook's start.
        self._pending = not self._configure(None)

    def _configure(self, get_var) -> bool:
        """Start publishing with the settings of plugin_utils/kafka_settings.py; False when no servers are set."""
        resolved = resolve_kafka(get_var, get_ini=self.get_option)
        servers = split_servers(resolved["bootstrap_servers"])
        if not servers:
            return False
        try:
            preload()  # in the main thread, before workers fork: see kafka_sender.preload()
        except ImportError as exc:
            self.disabled = True
            self._display.warning(f"{self.CALLBACK_NAME}: disabled, the Python library kafka-python is not "
                                  f"usable on the controller: {exc}")
            return True
        self.topic = self.get_option("topic") or "swim.events"
        self.hide_task_arguments = bool(self.get_option("hide_task_arguments"))
        self.flush_timeout = float(self.get_option("flush_timeout"))
        self.default_campaign = self.get_option("campaign_id") or None
        run_id = uuid.uuid4().hex
        # Forked workers inherit these: image-status events of the device modules join this run, with the
        # same Kafka settings (ini options and extra vars included) and the same spool.
        os.environ[RUN_ID_ENV] = run_id
        if self.default_campaign:
            os.environ[CAMPAIGN_ENV] = self.default_campaign
        self.stream = EventStream("callback", run_id=run_id, campaign_id=self.default_campaign)
        self.rows = PublishedRows(run_id)
        resolved["spool_dir"] = os.path.expanduser(resolved["spool_dir"])
        export_kafka({key: value for key, value in resolved.items() if key != "client_id"})  # (each its own id)
        os.environ[SPOOL_ENV] = resolved["spool_dir"]
        try:
            self.spool = Spool(resolved["spool_dir"], ",".join(servers),
                               max_bytes=int(resolved["spool_max_mb"]) * 1024 * 1024)
            self.sender = KafkaSender({**producer_settings(resolved), "bootstrap_servers": servers}, spool=self.spool,
                                      on_delivered=self.rows.delivered)
        except Exception as exc:
            self.disabled = True
            self._display.warning(f"{self.CALLBACK_NAME}: disabled: {type(exc).__name__}: {exc}")
        return True

    def _play_variables(self, play):
        """``get_var(name)`` over the extra vars, then the play's vars (templated)."""
        manager = play.get_variable_manager()

        def get_var(name):
            for source in (getattr(manager, "extra_vars", None) or {}, play.get_vars() or {}):
                value = source.get(name)
                if value not in (None, ""):
                    return self._templated(play, value)
            return None
        return get_var

    # -- plumbing -----------------------------------------------------------------------------
    def _emit(self, event: str, key: str | None = None, **fields) -> None:
        record = self.stream.make(event, **fields)
        self.sender.submit(self.topic, key or self.stream.run_id, record)
        self._warn_once()

    def _note(self, text: str) -> None:
        if len(self._internal_errors) < 20:
            self._internal_errors.append(text)
        self._warn_once()

    def _warn_once(self) -> None:
        """At most one warning per run, whatever goes wrong and however often."""
        if self._warned:
            return
        problem = self.sender.take_warning() if self.sender is not None else None
        if problem and self.spool is not None and not self.sender.counters["dropped"] \
                and not self.spool.claim_notice(self.stream.run_id):
            self._warned = True  # a device module of this run already said that the broker is away
            return
        problem = problem or (self._internal_errors[0] if self._internal_errors else None)
        if not problem:
            return
        self._warned = True
        where = f" Undelivered events are kept in {self.spool.path} and sent, in order, when the broker is " \
                "back (later in this run or by the next run)." if self.spool is not None else ""
        self._display.warning(f"{self.CALLBACK_NAME}: {problem}.{where} The playbook is not affected.")

    def _campaign(self, play=None) -> str | None:
        """``swim_campaign_id``: extra vars, then play vars, then the campaign_id option."""
        if play is None:
            return self.default_campaign
        manager = play.get_variable_manager()
        for source in (getattr(manager, "extra_vars", None) or {}, play.get_vars() or {}):
            value = source.get(CAMPAIGN_VAR)
            if value not in (None, ""):
                return self._templated(play, value)
        return self.default_campaign

    def _templated(self, play, value) -> str | None:
        text = str(value)
        if "{{" not in text and "{%" not in text:
            return text
        try:
            from ansible.template import Templar

            variables = play.get_variable_manager().get_vars(play=play)
            return str(Templar(loader=play._loader, variables=variables).template(value))
        except Exception as exc:
            self._note(f"cannot template {CAMPAIGN_VAR}: {exc}")
            return self.default_campaign

    def _context(self) -> dict:
        return {"playbook": self.playbook, "play": self.play}

    # -- playbook level (keyed by run id) -------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        if self._pending and not self.disabled:
            self._pending = False
            plays = playbook.get_plays() if hasattr(playbook, "get_plays") else []
            try:
                configured = bool(plays) and self._configure(self._play_variables(plays[0]))
            except Exception as exc:  # never fail the playbook: say why and stay off
                self._display.warning(f"{self.CALLBACK_NAME}: disabled: {type(exc).__name__}: {exc}")
                self.disabled = True
                return
            if not configured:
                self.disabled = True
                self._display.warning(f"{self.CALLBACK_NAME}: disabled, no bootstrap_servers configured "
                                      "(-e swim_kafka_bootstrap_servers=..., SWIM_KAFKA_BOOTSTRAP_SERVERS or "
                                      "[callback_kafka_events] bootstrap_servers)")
                return
        self._playbook_start(playbook)

    @guarded
    def _playbook_start(self, playbook):
        self.playbook = os.path.basename(getattr(playbook, "_file_name", "") or "") or None
        plays = playbook.get_plays() if hasattr(playbook, "get_plays") else []
        if plays:  # the first play's campaign, so that even playbook_start carries it
            self.stream.campaign_id = self._campaign(plays[0])
        self._emit("playbook_start", **self._context())

    @guarded
    def v2_playbook_on_play_start(self, play):
        self.play = play.get_name()
        self.stream.campaign_id = self._campaign(play)
        hosts = play.hosts if isinstance(play.hosts, list) else [play.hosts]
        self._emit("play_start", **self._context(), hosts=[str(h) for h in hosts if h is not None])

    @guarded
    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task, handler=False)

    @guarded
    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task, handler=True)

    def _task_start(self, task, handler: bool) -> None:
        self._emit("task_start", task=task.get_name(), module=module_name(task), **self._context(),
                   task_uuid=str(task._uuid), handler=handler,
                   args=task_args(task, hide=self.hide_task_arguments))

    @guarded
    def v2_playbook_on_stats(self, stats):
        try:
            summary = stats_summary(stats)
            failed = sorted(h for h, c in summary.items() if c["failures"] or c["unreachable"])
            self._emit("stats", **self._context(), stats=summary)
            self._emit("playbook_end", **self._context(), status="failed" if failed else "successful",
                       failed_hosts=failed)
        finally:
            self._finish()

    def _finish(self) -> None:
        started = time.monotonic()
        counters = self.sender.close(self.flush_timeout)
        self._warn_once()
        if self.spool is not None and self.spool.pending():
            # Not a second warning: the one warning of the run already said why.
            self._display.display(
                f"{self.CALLBACK_NAME}: {counters['sent'] + counters['drained']} event(s) delivered, "
                f"events waiting in {self.spool.path} for the broker (sent by the next run)", stderr=True)
        self._display.v(f"{self.CALLBACK_NAME}: {self.stream.seq} event(s), {self.busy:.3f}s in {self.calls} "
                        f"callback call(s) ({self.busy_cpu:.3f}s CPU), sender thread {self.sender.thread_cpu:.3f}s "
                        f"CPU, closed in {time.monotonic() - started:.3f}s; delivery {counters} "
                        "(drained counts other tasks' and earlier runs' events too)")
        self._display.vvv(f"{self.CALLBACK_NAME}: seconds per event method: " + ", ".join(
            f"{name} {spent:.3f}" for name, spent in self.busy_by.most_common()))

    # -- per host (keyed by host) ---------------------------------------------------------------
    @guarded
    def v2_runner_on_start(self, host, task):
        self._started[(str(getattr(host, "name", host)), str(task._uuid))] = time.monotonic()

    def _host_result(self, result, status: str, ignored: bool = False) -> None:
        task, host = result.task, str(result.host.name)
        data = result_data(result)
        started = self._started.pop((host, str(task._uuid)), None)
        summary = result_summary(status, data, no_log=is_no_log(task, data), ignored=ignored)
        module = module_name(task)
        self._emit("host_result", key=host, host=host, task=result.task_name, module=module,
                   **self._context(), task_uuid=str(task._uuid),
                   duration=round(time.monotonic() - started, 3) if started is not None else None,
                   result=summary)
        self.rows.queue(summary.get("campaign") or [])
        if module in RUN_FENCE_MODULES and status in ("ok", "changed"):
            self._republish(data)

    def _republish(self, data: Mapping) -> None:
        """A run of the campaign began or ended: publish each table row the topic does not end with
        (docs/kafka.md "Campaign rows after a crash"), keyed by its device, after everything queued before."""
        table_rows, campaign_dir, campaign = data.get("table_rows"), data.get("campaign_dir"), data.get("campaign_id")
        if not (isinstance(table_rows, Mapping) and campaign_dir and campaign):
            return
        self.rows.bind(str(campaign_dir), str(campaign))
        republish = self.rows.to_republish(table_rows)
        for row in republish:
            device = str(row["device"])
            self._emit("campaign_row", key=device, host=device, **self._context(), row=row, republished=True,
                       event_id=row_event_id(campaign, device, row), campaign_id=self.stream.campaign_id or campaign)
        self.rows.queue(republish)

    @guarded
    def v2_runner_on_ok(self, result):
        self._host_result(result, ok_status(result_data(result)))

    @guarded
    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._host_result(result, "failed", ignored=bool(ignore_errors))

    @guarded
    def v2_runner_on_skipped(self, result):
        self._host_result(result, "skipped")

    @guarded
    def v2_runner_on_unreachable(self, result):
        self._host_result(result, "unreachable")

    @guarded
    def v2_runner_on_async_failed(self, result):
        self._host_result(result, "failed")
