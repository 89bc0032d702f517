"""Fixtures of the Kafka tests (the Tansu broker itself comes from tests/conftest.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from kafka_testing import (SMOKE_EVENTS, SMOKE_HOSTS, Message, Run, callback_env, local_inventory, read_messages, run,
                           unique)



@dataclass
class SmokeRun:
    run: Run
    bootstrap: str
    topic: str
    campaign: str
    secret: str
    spool_dir: Path
    messages: list[Message]


@pytest.fixture(scope="session")
def smoke_run(tansu_broker, tmp_path_factory) -> SmokeRun:
    """One real ansible-playbook run of playbooks/events.yml with the callback, and what it published."""
    work = tmp_path_factory.mktemp("kafka-smoke")
    topic, campaign, secret = unique("swim.events.smoke"), unique("campaign"), unique("pw")
    inventory = local_inventory(work / "hosts.yml", SMOKE_HOSTS)
    result = run("events.yml", inventory, env=callback_env(tansu_broker, topic, work / "spool"),
                 extra_vars={"campaign": campaign, "planted_secret": secret})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    messages = read_messages(tansu_broker, [topic], count=SMOKE_EVENTS, timeout=20)
    return SmokeRun(result, tansu_broker, topic, campaign, secret, work / "spool", messages)
