"""Helpers of the Kafka tests: run real ansible-playbook with the callback, read topics back.

Every wait here is bounded in time; the topics are read with assign() + seek_to_beginning
(consumer-group joins were seen to stall against Tansu).
"""
from __future__ import annotations

import contextlib
import json
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLAYBOOKS = HERE / "playbooks"
SCHEMA = ROOT / "docs" / "events.schema.json"
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from playbook_runner import BIN, ansible_env  # noqa: E402  (the shared runner of the integration tests)


# The smoke playbook (playbooks/events.yml) and what one run of it publishes.
SMOKE_HOSTS = ["olt-a", "olt-b"]
SMOKE_TASKS = ["Say hello", "Check arithmetic", "Pretend to change something", "Skipped on purpose",
               "Handle a secret", "Fail but carry on"]
# playbook_start, play_start, one task_start per task, one host_result per host and task, stats, playbook_end
SMOKE_EVENTS = 2 + len(SMOKE_TASKS) + len(SMOKE_TASKS) * len(SMOKE_HOSTS) + 2


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def local_inventory(path: Path, hosts: list[str], **host_vars) -> Path:
    lines = ["all:", "  hosts:"]
    for host in hosts:
        lines.append(f"    {host}:")
        lines.append("      ansible_connection: local")
        lines.append(f"      ansible_python_interpreter: {sys.executable}")
        for key, value in host_vars.items():
            lines.append(f"      {key}: {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def callback_env(bootstrap: str | None, topic: str, spool_dir: Path, **extra: str) -> dict:
    env = {"ANSIBLE_CALLBACKS_ENABLED": "escalator.swim.kafka_events", "SWIM_KAFKA_TOPIC": topic,
           "SWIM_KAFKA_SPOOL_DIR": str(spool_dir), "SWIM_KAFKA_FLUSH_TIMEOUT": "10"}
    if bootstrap:
        env["SWIM_KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    env.update(extra)
    return env


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    wall: float


def playbook_command(playbook: str, inventory: Path, extra_vars: dict | None = None) -> list[str]:
    return [str(BIN / "ansible-playbook"), "-i", str(inventory), str(PLAYBOOKS / playbook),
            "-e", json.dumps(extra_vars or {})]


@contextlib.contextmanager
def running_playbook(command: list[str], env: dict | None = None):
    """ansible-playbook started in the background (output in ``proc.stdout``); killed if still running at the end."""
    proc = subprocess.Popen(command, cwd=ROOT, env=ansible_env(env), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)


def run(playbook: str, inventory: Path, *, env: dict | None = None, extra_vars: dict | None = None,
        timeout: float = 120) -> Run:
    started = time.monotonic()
    proc = subprocess.run(playbook_command(playbook, inventory, extra_vars), cwd=ROOT, env=ansible_env(env),
                          capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: str | None
    raw: bytes
    value: dict


def read_messages(bootstrap: str, topics: list[str], *, count: int | None = None, timeout: float = 20.0,
                  idle: float = 1.5, until=None, **consumer_options) -> list[Message]:
    """Every message of *topics*, in partition order: until *count* arrived (or ``until(messages)``),
    else *idle* s of silence once reading; never longer than *timeout*. *consumer_options* (e.g. TLS
    settings) go to the KafkaConsumer."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             request_timeout_ms=5000, bootstrap_timeout_ms=3000, **consumer_options)
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    assigned: set = set()
    quiet_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            found = {TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()}
            if found - assigned:
                new = found - assigned
                assigned |= found
                consumer.assign(sorted(assigned))
                consumer.seek_to_beginning(*sorted(new))
            if not assigned:
                time.sleep(0.2)
                quiet_since = time.monotonic()
                continue
            got = consumer.poll(timeout_ms=200)
            for tp, records in sorted(got.items()):
                for r in records:
                    messages.append(Message(tp.topic, tp.partition, r.offset, r.key.decode() if r.key else None,
                                            r.value, json.loads(r.value)))
            if got:
                quiet_since = time.monotonic()
            if count is not None and len(messages) >= count and time.monotonic() - quiet_since >= 0.3:
                break
            if until is not None and until(messages):
                break
            if count is None and until is None and time.monotonic() - quiet_since >= idle:
                break
    finally:
        consumer.close()
    return messages


def first_of_each(messages: list[Message]) -> list[Message]:
    """At-least-once: keep the first copy of each event (a request cut mid-flight may be sent again)."""
    seen, kept = set(), []
    for message in messages:
        if message.value["event_id"] not in seen:
            seen.add(message.value["event_id"])
            kept.append(message)
    return kept


def by_partition(messages: list[Message]) -> dict[tuple[str, int], list[Message]]:
    groups: dict[tuple[str, int], list[Message]] = {}
    for message in messages:
        groups.setdefault((message.topic, message.partition), []).append(message)
    for group in groups.values():
        group.sort(key=lambda m: m.offset)
    return groups


def validator():
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def warnings_of(output: str, needle: str = "escalator.swim.kafka_events") -> list[str]:
    return [line for line in output.splitlines() if "[WARNING]" in line and needle in line]


# --------------------------------------------------------------------------- campaign scale
# A rolling_upgrade campaign over a simulated fleet, as `make demo` runs it, reduced in size and time.
CAMPAIGN_GROUPS = ["lab", "north", "south"]
CAMPAIGN_TIMINGS = {"download_rate": 1024 * 1024, "install_time": 0.3, "reboot_time": 0.5, "sanity_time": 0.2}


def campaign_plan(path: Path, image, campaign_id: str) -> Path:
    import yaml

    plan = {"campaign": {
        "id": campaign_id,
        "images": {"default": {"name": "swim-olt", "version": "2.0.0", "url": image.url, "sha256": image.sha256}},
        "groups": [
            {"name": "lab", "group": "lab", "batch": {"size": 2}},
            {"name": "north", "group": "north", "depends_on": ["lab"], "batch": {"size": "50%"}},
            {"name": "south", "group": "south", "depends_on": ["north"], "batch": {"size": "50%"}},
        ],
        "timeouts": {"precheck": 30, "backup": 30, "download": 60, "activate": 60, "revert": 60, "postcheck": 30},
        "verification": {"sensor_tolerance": {"temperature*": 10}},
        "recovery": {"policy": "revert_device", "failure_threshold": "100%"},
    }}
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def campaign_fleet(sim_fleet, count: int, failing: str | None = None):
    faults = {"devices": {failing: {"faults": ["activation_sanity_failure"]}}} if failing else None
    return sim_fleet(count, groups=CAMPAIGN_GROUPS, faults=faults, timings=CAMPAIGN_TIMINGS)


def campaign_command(inventory: Path, plan: Path, extra_vars: dict | None = None,
                     args: list[str] | None = None) -> list[str]:
    return [str(BIN / "ansible-playbook"), "-i", str(inventory), "escalator.swim.rolling_upgrade",
            "-e", json.dumps({"swim_plan": str(plan), "swim_auto_approve": True, **(extra_vars or {})}), *(args or [])]


def run_campaign(inventory: Path, plan: Path, state_dir: Path, *, env: dict | None = None,
                 extra_vars: dict | None = None, args: list[str] | None = None, timeout: float = 600) -> Run:
    started = time.monotonic()
    proc = subprocess.run(campaign_command(inventory, plan, extra_vars, args), cwd=ROOT,
                          env=ansible_env({"SWIM_STATE_DIR": str(state_dir), **(env or {})}),
                          capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def status_table(state_dir: Path, campaign_id: str) -> dict[str, dict]:
    """The campaign's status table (one JSON row per device), by device."""
    directory = state_dir / "campaigns" / campaign_id / "status"
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


# --------------------------------------------------------------------------- broker outages
class OutageProxy:
    """A TCP forwarder 127.0.0.1:port -> 127.0.0.1:target that can take the broker off the network.

    ``down()`` stops listening and resets every open connection: clients see a broker that is not
    reachable (connection refused), exactly as with a stopped broker, but the real broker behind
    keeps what it stored (Tansu's memory storage would lose it on a restart). ``up()`` listens again.
    Every thread is a daemon and every wait is bounded.
    """

    def __init__(self, target: int, port: int = 0):
        from swim_sim.broker import free_port

        self.target = target
        self.port = port or free_port()
        self._listener = None
        self._conns: set = set()
        self._lock = threading.Lock()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def up(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        sock.settimeout(0.2)
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            self._reset(conn)

    def _accept(self, listener) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                self._reset(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # went down meanwhile
                    self._reset(client)
                    self._reset(upstream)
                    return
                self._conns |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._conns.discard(source)
                self._conns.discard(sink)
            self._reset(source)
            self._reset(sink)

    @staticmethod
    def _reset(sock) -> None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass


class ProxiedTansu:
    """A real Tansu broker reachable only through an :class:`OutageProxy` (it advertises the proxy).
    Subclasses may put another proxy (``up()``/``down()``/``bootstrap``) in ``self.proxy`` and set
    ``client_options`` (the readiness check's KafkaConsumer options)."""

    client_options: dict = {}

    def __init__(self, log_path: Path):
        from swim_sim.broker import free_port

        self.listen_port = free_port()
        self.proxy = OutageProxy(self.listen_port)
        self.log_path = log_path
        self.proc = None

    @property
    def bootstrap(self) -> str:
        return self.proxy.bootstrap

    def __enter__(self) -> "ProxiedTansu":
        from swim_sim.broker import broker_binary

        cmd = [broker_binary(), "broker", "--listener-url", f"tcp://127.0.0.1:{self.listen_port}",
               "--advertised-listener-url", f"tcp://{self.proxy.bootstrap}", "--storage-engine", "memory://tansu/"]
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.proxy.up()
        deadline = time.monotonic() + 30
        while True:
            try:
                from kafka import KafkaConsumer

                consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, request_timeout_ms=3000,
                                         bootstrap_timeout_ms=2000, **self.client_options)
                consumer.topics()
                consumer.close()
                return self
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.__exit__()
                    raise
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        self.proxy.down()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
