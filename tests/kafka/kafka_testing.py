"""Helpers of the Kafka tests: run real ansible-playbook with the callback, read topics back.

Every wait here is bounded in time; the topics are read with assign() + seek_to_beginning
(consumer-group joins were seen to stall against Tansu).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLAYBOOKS = HERE / "playbooks"
SCHEMA = ROOT / "docs" / "events.schema.json"
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from ansible_runner import BIN, ansible_env  # noqa: E402  (the shared runner of the integration tests)


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
                  idle: float = 1.5, until=None) -> list[Message]:
    """Every message of *topics*, in partition order: until *count* arrived (or ``until(messages)``),
    else *idle* s of silence once reading; never longer than *timeout*."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             request_timeout_ms=5000, bootstrap_timeout_ms=3000)
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


def run_campaign(inventory: Path, plan: Path, state_dir: Path, *, env: dict | None = None,
                 extra_vars: dict | None = None, args: list[str] | None = None, timeout: float = 600) -> Run:
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), "escalator.swim.rolling_upgrade",
               "-e", json.dumps({"swim_plan": str(plan), "swim_auto_approve": True, **(extra_vars or {})}),
               *(args or [])]
    started = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, env=ansible_env({"SWIM_STATE_DIR": str(state_dir), **(env or {})}),
                          capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def status_table(state_dir: Path, campaign_id: str) -> dict[str, dict]:
    """The campaign's status table (one JSON row per device), by device."""
    directory = state_dir / "campaigns" / campaign_id / "status"
    return {p.stem: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}
