"""No artifact of a campaign run contains a planted secret.

A password is planted in the image URL (``user:password@``, served by an image server enforcing basic
auth) and in the inventory's ``ansible_password`` (for NETCONF also the fleet's own SSH password), then a
real campaign runs at -vvv with the Kafka callback, the modules' image-status events and the simulator's
own Kafka events on, with faults whose error messages quote the URL. Then every artifact is searched:
stdout/stderr, the Ansible log file, the campaign directory (status rows, campaign.log, snapshots), every
Kafka topic, the spool directory, the simulator's logs and state files.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
import yaml

from kafka_testing import callback_env, read_messages, unique
from swim_matrix import TARGET, TRANSPORTS, Campaign, fleet_kwargs, plan
from swim_sim.images import ImageServer

FAULTS = {"olt-002": {"faults": [{"download_drop": {"drop_at": 0.5}}]},
          "olt-003": {"faults": ["activation_sanity_failure"]}}


def files_under(*roots: Path):
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from (p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_artifact_contains_a_planted_secret(transport, sim_fleet, tansu_broker, tmp_path):
    url_password = f"Url-{uuid.uuid4().hex[:12]}"
    inventory_password = f"Inv-{uuid.uuid4().hex[:12]}"
    with ImageServer(tmp_path / "images", auth=f"swim:{url_password}") as images:
        image = images.make_image(TARGET["name"], TARGET["version"], size=128 * 1024)
        url = images.url_for(image.filename)
        assert url_password in url
        sim_topic = unique("swim.sim.secret")
        fleet = sim_fleet(3, faults={"devices": FAULTS}, kafka=tansu_broker, kafka_topic=sim_topic,
                          **fleet_kwargs(transport))
        inventory = yaml.safe_load(fleet.inventory.read_text())
        hosts = inventory["all"]["children"]["swim_fleet"]["hosts"]
        secrets = {url_password, inventory_password}
        for host in hosts.values():
            if "ansible_password" in host:                 # NETCONF: the fleet's SSH password is a secret too
                secrets.add(host["ansible_password"])
            else:
                host["ansible_password"] = inventory_password
        fleet.inventory.write_text(yaml.safe_dump(inventory))
        secrets.add(base64.b64encode(f"swim:{url_password}".encode()).decode())  # the basic-auth header value

        topic, status_topic = unique("swim.events.secret"), unique("swim.image-status.secret")
        campaign = Campaign(tmp_path / "campaign",
                            plan({"url": url, "sha256": image.sha256}, campaign_id=f"secret-{transport}",
                                 batch_size=3))
        ansible_log = tmp_path / "ansible.log"
        env = {**callback_env(tansu_broker, topic, tmp_path / "spool"), "ANSIBLE_LOG_PATH": str(ansible_log)}
        run = campaign.run(fleet.inventory, env=env, args=["-vvv"], extra_vars={
            "swim_kafka_bootstrap_servers": tansu_broker, "swim_kafka_topic": status_topic,
            "swim_connect_timeout": 3})

    assert run.returncode == 2, run.stdout[-4000:]            # two faulty devices: partially failed
    rows = campaign.rows()
    assert rows["olt-001"]["outcome"] == "upgraded", "the authenticated download must have worked"
    assert rows["olt-002"]["stages"]["download"]["state"] == "failed"
    assert "********@" in rows["olt-002"]["stages"]["download"]["error"] or "dropped" in \
        rows["olt-002"]["stages"]["download"]["error"]

    artifacts: dict[str, str] = {"stdout": run.stdout, "stderr": run.stderr}
    for path in files_under(ansible_log, campaign.dir, campaign.state / "locks", tmp_path / "spool",
                            fleet.state_dir):
        if path.name == "fleet.json":
            continue    # the simulator's provisioning record (like the inventory it writes): where secrets come from
        artifacts[str(path)] = path.read_text(errors="replace")
    for name, topic_name in (("callback topic", topic), ("image-status topic", status_topic),
                             ("simulator topic", sim_topic)):
        messages = read_messages(tansu_broker, [topic_name], timeout=20, idle=2.0)
        # (the NETCONF simulator publishes no ImageStatus events of its own: notifications go to the client)
        assert messages or (transport != "dmi" and name == "simulator topic"), f"nothing on the {name}"
        artifacts[name] = "\n".join(m.raw.decode(errors="replace") for m in messages)

    assert any("campaign.log" in key for key in artifacts) and any("/snapshots/" in key for key in artifacts)
    assert any(key.endswith("swim-sim.log") for key in artifacts)
    assert ansible_log.stat().st_size > 0
    assert "http://********@127.0.0.1" in run.stdout, "the URL shows, redacted"
    leaks = sorted({(key, secret) for key, text in artifacts.items() for secret in secrets if secret in text})
    assert not leaks, f"planted secret found in: {leaks}"
