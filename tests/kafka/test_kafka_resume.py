"""Kafka in step with the status table after a controller crash (issue 16, failure 5; docs/kafka.md "Campaign rows
after a crash").

A real rolling_upgrade campaign with the callback on a real Tansu broker, its main process SIGKILLed (the workers
left running finish their task as orphans and write rows no callback publishes), then resumed. Two moments: right
after a device's row says upgraded, with the broker away since the postcheck began (that row was only in the
killed callback's memory: without republishing, the resume leaves the finished device alone and the topic ends
with its verify row), and while a batch activates (the orphans record activate and verify ok). After the resume,
for every device, the last event on the topic that carries a row (a host_result's ``result.campaign`` or a
``campaign_row``), in partition order, must be the device's status-table row, reduced as the callback reduces
rows."""
from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

from controller_kill import kill_main_only, wait_for_exit
from playbook_runner import ansible_env
from kafka_testing import (ROOT, ProxiedTansu, by_partition, callback_env, campaign_command, read_messages, run_campaign,
                           status_table, unique, validator)
from test_campaign import plan_for
from test_campaign_resume import TIMINGS, activating

from ansible_collections.escalator.swim.plugins.module_utils.campaign_ledger import reduced_row, row_event_id
from ansible_collections.escalator.swim.plugins.plugin_utils.published_rows import rows_of_event

CAMPAIGN = "kafka-resume"


def last_rows(messages) -> dict[str, tuple[dict, dict]]:
    """``{device: (its last reduced row on the topic, the event carrying it)}`` in consumption order per partition."""
    found: dict[str, tuple[dict, dict]] = {}
    for _partition, group in sorted(by_partition(messages).items()):
        for message in group:
            for row in rows_of_event(message.value):
                found[row["device"]] = (row, message.value)
    return found


def table_rows(state) -> dict[str, dict]:
    """The status table by device (not the hidden temporary file of a row being written)."""
    return {row["device"]: row for name, row in status_table(state, CAMPAIGN).items() if not name.startswith(".")}


def upgraded_devices(state) -> list[str]:
    try:
        return [name for name, row in table_rows(state).items() if row.get("outcome") == "upgraded"]
    except (OSError, ValueError):  # a row being replaced right now
        return []


def spooled_rows(spool) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for path in sorted(spool.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                value = json.loads(line).get("value")
            except ValueError:
                continue
            for row in rows_of_event(value or {}):
                rows[row["device"]] = row
    return rows


def orphan_rows(state) -> list[str]:
    """Devices with a stage written by an orphaned worker (after its controller died)."""
    return sorted(name for name, row in table_rows(state).items()
                  if any(entry.get("orphan") for entry in row.get("stages", {}).values()))


@pytest.mark.parametrize("moment", ["upgraded", "activating"])
def test_resume_republishes_the_rows_the_topic_lacks_after_a_controller_kill(sim_fleet, image_server, tmp_path, moment):
    """*upgraded*: the broker goes away while the first batch is post-checked and the main process is killed as
    soon as a device's row says upgraded: that row was only in the callback's memory. *activating*: the main
    process is killed while the first batch activates: the orphaned workers record activate (and verify) ok."""
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(3, groups=["a", "b"], timings=TIMINGS)
    document = plan_for(image, CAMPAIGN)
    document["campaign"]["redundancy_groups"] = []
    plan = tmp_path / "plan.yml"
    plan.write_text(yaml.safe_dump(document))
    state, spool, topic = tmp_path / "state", tmp_path / "spool", unique("swim.events.resume")
    campaign = state / "campaigns" / CAMPAIGN

    with ProxiedTansu(tmp_path / "tansu.log") as broker:
        env = {"SWIM_STATE_DIR": str(state), **callback_env(broker.bootstrap, topic, spool)}
        command = campaign_command(fleet.inventory, plan)
        killed_at: list[str] = []
        with (tmp_path / "killed.log").open("w") as log:
            proc = subprocess.Popen(command, cwd=ROOT, env=ansible_env(env), stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            try:
                deadline = time.monotonic() + 240
                if moment == "upgraded":
                    while time.monotonic() < deadline and proc.poll() is None and not activating(campaign, "postcheck"):
                        time.sleep(0.02)
                    broker.proxy.down()          # what the callback now queues is lost with the controller
                while time.monotonic() < deadline and proc.poll() is None and not killed_at:
                    killed_at = upgraded_devices(state) if moment == "upgraded" else activating(campaign)
                    time.sleep(0.02)
            finally:
                if proc.poll() is None:
                    orphans = kill_main_only(proc)
                    assert not wait_for_exit(orphans, 120), "the orphaned workers did not finish their task"
                proc.wait(timeout=30)
        assert killed_at and proc.returncode == -9, \
            f"the campaign was not killed while {moment}: {(tmp_path / 'killed.log').read_text()[-3000:]}"
        if moment == "activating":
            assert set(killed_at) <= set(orphan_rows(state)), f"no orphan recorded {killed_at}: {table_rows(state)}"

        # The crash left the topic behind the table: those devices' rows are neither on the topic nor in the spool
        # (in the killed callback's memory, or written by an orphan after the callback died).
        if moment == "upgraded":
            broker.proxy.up()
        before = last_rows(read_messages(broker.bootstrap, [topic], timeout=30, idle=2.0))
        table = {name: reduced_row(row) for name, row in table_rows(state).items()}
        behind = [name for name in killed_at
                  if before.get(name, (None,))[0] != table[name] and spooled_rows(spool).get(name) != table[name]]
        assert behind, f"nothing to republish: the topic already ends with {before} for {killed_at}"

        resumed = run_campaign(fleet.inventory, plan, state, env=env, timeout=600)
        assert resumed.returncode == 0, resumed.stdout[-6000:] + resumed.stderr[-3000:]
        messages = read_messages(broker.bootstrap, [topic], timeout=60, idle=2.0, until=lambda ms: sum(
            m.value["event"] == "playbook_end" for m in ms) >= 1)

    table = {name: reduced_row(row) for name, row in table_rows(state).items()}
    assert sorted(table) == sorted(d["name"] for d in fleet.devices)
    assert {row["outcome"] for row in table.values()} == {"upgraded"}, table
    after = last_rows(messages)
    for name, row in table.items():
        published, carrier = after.get(name, (None, None))
        assert published == row, (f"{name}: the last row on the topic {published} (event {carrier and carrier['event']}) "
                                  f"is not its status-table row {row}")
    # The devices the crash left behind were republished, with their content-derived ids.
    republished = [m.value for m in messages if m.value["event"] == "campaign_row"]
    schema = validator()
    for message in messages:
        schema.validate(message.value)
    for name in behind:
        copies = [e for e in republished if e["host"] == name]
        assert copies, f"{name}: no campaign_row republished it ({[e['host'] for e in republished]})"
        assert all(e["republished"] is True and e["event_id"] == row_event_id(CAMPAIGN, name, e["row"])
                   for e in copies), copies
    ledger = json.loads((campaign / "events" / "published.json").read_text())["rows"]
    assert ledger == table, "the ledger ends with every device's row confirmed"
