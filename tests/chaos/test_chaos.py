"""The chaos test (issue 16): a mixed DMI + NETCONF simulated fleet with random documented faults on a third
of the devices and two or three redundancy pairs; a real ``escalator.swim.rolling_upgrade`` campaign whose
controller is crashed at a random point (seeds alternate: the whole controller, main process and every
worker found by pid; or the main process only, its workers finishing as orphans), one simulator restart
(while the controller is dead, or during the resumed run), and the campaign re-run to its end as an operator
would (``swim_run_wait`` waits for the orphans). The Kafka callback publishes to a real Tansu broker.

Judged from the simulator's own state files, reboot log and raw protocol reads, never from the status table:
every device on a committed known-good image, no redundancy pair down together, the table equal to the
devices, every upgraded device post-checked (and no alarm on it), every lock released, no traceback, no
planted secret in any artifact, and Kafka's last event per device equal to its row.

`make test` runs seeds 1, 2 and 3; ``SWIM_CHAOS_SEEDS=1-20`` (or ``4,7,9``) runs others (docs/fault-matrix.md).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from chaos_scenario import (TIMINGS, Scenario, fault_name, known_good, overlapping, plan_document, read_device,
                            write_inventory)
from controller_kill import kill_main_only, kill_whole_controller, wait_for_exit
from kafka_testing import callback_env, read_messages, unique
from playbook_runner import run_playbook
from swim_matrix import OLD, TARGET, Campaign, finish, plan, wait_for
from ansible_collections.escalator.swim.plugins.plugin_utils.task_events import campaign_rows
from swim_sim.images import ImageServer

HERE = Path(__file__).resolve().parent
FINAL = ("upgraded", "rolled_back", "failed", "skipped")


def chaos_seeds() -> list[int]:
    text = os.environ.get("SWIM_CHAOS_SEEDS", "").strip()
    if not text:
        return [1, 2, 3]
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        seeds += list(range(int(low), int(high or low) + 1))
    return seeds


def running_stage(campaign: Campaign, stage: str, seen: list[str], nth: int) -> str | None:
    """The *nth* device seen with *stage* running (*seen* collects them across polls), or None yet."""
    for name, row in campaign.rows().items():
        if row.get("stages", {}).get(stage, {}).get("state") == "running" and name not in seen:
            seen.append(name)
    return seen[nth - 1] if len(seen) >= nth else None


@pytest.mark.slow
@pytest.mark.parametrize("seed", chaos_seeds())
def test_chaos_campaign_crash_restart_resume(seed, sim_fleet, tansu_broker, tmp_path):
    scenario = Scenario.draw(seed)
    print(scenario.describe())
    started = time.monotonic()
    url_password, dmi_password, netconf_password = (f"{kind}-{uuid.uuid4().hex[:12]}" for kind in ("Url", "Dmi", "Nc"))
    secrets = {url_password, dmi_password, netconf_password,
               base64.b64encode(f"swim:{url_password}".encode()).decode()}
    topic = unique("swim.events.chaos")
    with ImageServer(tmp_path / "images", auth=f"swim:{url_password}") as images:
        image = images.make_image(TARGET["name"], TARGET["version"], size=192 * 1024)
        fleet = sim_fleet(len(scenario.names), transport="mixed", groups=["a", "b"], timings=TIMINGS,
                          faults=scenario.faults_yaml(), extra_args=["--netconf-password", netconf_password])
        inventory = tmp_path / "inventory.yml"
        write_inventory(fleet, scenario, inventory, dmi_password)
        campaign = Campaign(tmp_path / "campaign", plan_document(plan(
            {"url": images.url_for(image.filename), "sha256": image.sha256}, campaign_id=f"chaos-{seed}",
            timeouts={"precheck": 30, "activate": 30, "revert": 30, "postcheck": 30})),
            extra_env={**callback_env(tansu_broker, topic, tmp_path / "spool"),
                       "ANSIBLE_LOG_PATH": str(tmp_path / "ansible.log")})
        extra = {"swim_connect_timeout": 5, "swim_download_busy_retries": 1}

        # 1. The campaign, crashed at a random point.
        proc = campaign.start(inventory, extra_vars=extra, log_path=tmp_path / "crashed-run.log")
        try:
            seen: list[str] = []
            victim = wait_for(lambda: running_stage(campaign, scenario.kill_stage, seen, scenario.kill_nth)
                              or (proc.poll() is not None and "ended"), 300,
                              f"device #{scenario.kill_nth}'s {scenario.kill_stage} to start")
            assert victim != "ended", (f"seed {seed}: the campaign ended before device #{scenario.kill_nth}'s "
                                       f"{scenario.kill_stage} ran (seen: {seen})",
                                       (tmp_path / "crashed-run.log").read_text()[-3000:])
            time.sleep(scenario.kill_delay)
            assert proc.poll() is None, f"seed {seed}: the campaign ended before the crash"
            if scenario.kill_kind == "whole":
                workers = kill_whole_controller(proc)
                assert not wait_for_exit(workers, 5), f"seed {seed}: a worker survived the whole-controller kill"
                orphans: set[int] = set()
            else:
                orphans = kill_main_only(proc)
        finally:
            crashed = finish(proc, timeout=60)
        scenario.notes.append(f"crashed while {victim}'s {scenario.kill_stage} ran; "
                              f"{len(orphans)} orphaned worker(s)")
        restarted_at = 0.0
        if scenario.restart_phase == "while-the-controller-is-dead":
            fleet.restart()
            restarted_at = time.time()

        # 2. The operator re-runs the campaign (it waits for the orphans, swim_run_wait) to its end.
        resume_log = tmp_path / "resumed-run.log"
        proc = campaign.start(inventory, extra_vars=extra, log_path=resume_log)
        try:
            if scenario.restart_phase == "during-the-resumed-run":
                deadline = time.monotonic() + scenario.restart_delay
                while time.monotonic() < deadline and proc.poll() is None:
                    time.sleep(0.1)
                fleet.restart()
                restarted_at = time.time()
                scenario.notes.append("simulator restarted " + ("during" if proc.poll() is None else "after")
                                      + " the resumed run")
        finally:
            resumed = finish(proc, timeout=900)
        # An orphan has finished its task once its stage is recorded; it may then never exit: ansible-core's
        # worker sends its result (and display lines) through a pipe to the dead main process, and once that
        # pipe is full it blocks forever (its siblings hold the read end). Such a process touches no device
        # any more; one still inside a device stage would.
        left = wait_for_exit(orphans, 5)
        lingering = processes(left)
        in_stage = [f"{row['device']} {stage} (pid {entry['pid']})" for row in campaign.rows().values()
                    for stage, entry in row["stages"].items()
                    if entry.get("state") == "running" and entry.get("pid") in left]
        for pid in left:                 # (ours: never leave them behind, whatever the verdict)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert not in_stage, f"seed {seed}: orphaned workers still in a device stage after the resume: {in_stage}"
        if left:
            scenario.notes.append(f"{len(left)} orphan(s) never exited, each blocked in "
                                  + ", ".join(sorted({line.split('waiting in ')[1].split()[0] for line in lingering})))

        # What the devices run, read from the simulator itself, before anything else touches them.
        truth = {name: read_device(fleet, name) for name in scenario.names}
        reboots = fleet.reboots()
        locks = run_playbook(HERE / "playbooks" / "locks.yml", inventory, results_dir=tmp_path / "locks",
                             extra_vars={"lock_dir": str(campaign.state / "locks"), "campaign_id": campaign.id})
    wall = time.monotonic() - started
    rows = campaign.rows()
    print(f"seed {seed}: {'; '.join(scenario.notes)}; crashed run exit {crashed.returncode}, resumed run exit "
          f"{resumed.returncode}, {wall:.0f}s; outcomes "
          + ", ".join(f"{name}={rows.get(name, {}).get('outcome')}:{truth[name].flash.get('version')}"
                      for name in scenario.names))
    context = f"{scenario.describe()}; {'; '.join(scenario.notes)}"

    # The resumed run ended the campaign (0 complete, 2 partially failed, 4 with an unreachable device).
    assert resumed.returncode in (0, 2, 4), (context, resumed.stdout[-6000:])
    assert f"campaign {campaign.id}: " in resumed.stdout, (context, resumed.stdout[-3000:])

    # Every device on a committed known-good image (the target, or the old image after a failure/revert).
    for name, device in truth.items():
        why = known_good(device)
        assert not why, f"seed {seed}: {name} ({device.transport}) is not on a committed known-good image: {why}"
        unreachable = fault_name(scenario.faults.get(name, "")) == "unreachable"
        assert device.answered != unreachable, (
            f"seed {seed}: {name} ({device.transport}) raw read: answered={device.answered} {device.error}")
        if not scenario.can_be_upgraded(name):
            assert device.flash["version"] == OLD, (
                f"seed {seed}: {name} has fault {fault_name(scenario.faults[name])} yet runs {device.flash}")

    # No redundancy pair ever down together (the simulator's reboot log).
    for a, b in scenario.pairs:
        both = overlapping(reboots, a, b, restarted_at)
        assert not both, f"seed {seed}: redundancy pair {a}/{b} was down together: {both}"

    # The status table equals the devices; each failure names its device; the printed table agrees.
    assert set(rows) == set(scenario.names), (context, sorted(rows))
    for name, row in rows.items():
        device, outcome = truth[name], row["outcome"]
        assert outcome in FINAL, f"seed {seed}: {name}'s row is {outcome!r} after the resumed run: {row}"
        assert not [stage for stage, entry in row["stages"].items() if entry.get("state") == "running"], (
            f"seed {seed}: {name}'s row still has a stage running after the resumed run", row)
        runs_target = device.flash["version"] == TARGET["version"]
        assert (outcome == "upgraded") == runs_target, (
            f"seed {seed}: {name} runs {device.flash['version']} (simulator) but its row says {outcome}", row)
        if outcome in ("failed", "rolled_back"):
            failed = [stage for stage in row["stages"].values() if stage.get("state") == "failed"]
            assert failed and all(stage["error"].startswith(f"{name}: ") for stage in failed), (seed, name, row)
        line = next((line for line in resumed.stdout.splitlines()
                     if line.strip().strip('",').startswith(name + " ")), "")
        assert outcome in line, f"seed {seed}: {name}'s printed status line {line!r} lacks {outcome!r}"

    # Every upgraded device passed its postcheck after its last boot, by a live run, and shows no alarm.
    for name, row in rows.items():
        if row["outcome"] != "upgraded":
            continue
        postcheck = row["stages"].get("postcheck", {})
        assert postcheck.get("state") == "ok" and not postcheck.get("orphan"), (
            f"seed {seed}: {name} is upgraded without a postcheck of a live run", row)
        booted = max((r["up_at"] or 0 for r in reboots if r["device"] == name), default=0)
        assert booted and _epoch(postcheck["end"]) >= booted, (
            f"seed {seed}: {name}'s postcheck ended {postcheck['end']}, before its last boot at {booted}")
        assert not truth[name].alarms, f"seed {seed}: {name} is upgraded with alarms {truth[name].alarms}"

    # The resumed run fenced off the orphans: on no device did an orphaned worker act once the resumed run had.
    resumed_run = json.loads((campaign.dir / "runs" / "current.json").read_text())["run"]
    log = campaign.log()
    for name in scenario.names:
        orphan_times = [e["time"] for e in log if e["device"] == name and e.get("orphan")]
        resumed_times = [e["time"] for e in log if e["device"] == name and e.get("run") == resumed_run]
        assert not (orphan_times and resumed_times and max(orphan_times) >= min(resumed_times)), (
            f"seed {seed}: an orphaned worker wrote {name}'s log at {max(orphan_times)}, after the resumed run "
            f"{resumed_run} acted on it at {min(resumed_times)}")

    # Every lock released: the lock files and device_lock's own query.
    assert not campaign.locks(), f"seed {seed}: locks left: {campaign.locks()}"
    assert locks.returncode == 0, locks.stdout[-3000:]
    assert json.loads((tmp_path / "locks" / "locks.json").read_text())["locks"] == []

    # Kafka's last event per device equals its row.
    events = [m.value for m in read_messages(tansu_broker, [topic], timeout=60,
                                             until=_ended)]
    last = _last_rows(events)
    for name, row in rows.items():
        (expected,) = campaign_rows({"row": row})
        assert last.get(name) == expected, (
            f"seed {seed}: Kafka's last row event for {name} is {last.get(name)}, its row reduces to {expected}")

    # No traceback, no planted secret, in any output or artifact.
    artifacts = {"crashed run output": crashed.stdout, "resumed run output": resumed.stdout,
                 "kafka topic": "\n".join(json.dumps(e) for e in events)}
    for root in (campaign.dir, campaign.state / "locks", tmp_path / "spool", tmp_path / "ansible.log", fleet.state_dir):
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
        for path in paths:
            if path.name not in ("fleet.json", "inventory.yml"):       # the simulator's provisioning record
                artifacts[str(path)] = path.read_text(errors="replace")
    assert any(key.endswith("campaign.log") for key in artifacts) and any(k.endswith("swim-sim.log") for k in artifacts)
    tracebacks = [key for key, text in artifacts.items() if "Traceback (most recent call last)" in text]
    assert not tracebacks, f"seed {seed}: traceback in {tracebacks}"
    leaks = sorted({(key, secret[:4]) for key, text in artifacts.items() for secret in secrets if secret in text})
    assert not leaks, f"seed {seed}: planted secret found in {leaks}"


def processes(pids) -> list[str]:
    """pid, parent pid and command line of each of *pids* (Linux /proc), for a failure message."""
    described = []
    for pid in sorted(pids):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        try:
            waiting = Path(f"/proc/{pid}/wchan").read_text() + " " + " | ".join(
                line.split()[-1] for line in Path(f"/proc/{pid}/stack").read_text().splitlines()[:6])
        except OSError:
            waiting = "?"
        described.append(f"{pid} (parent {parent}, waiting in {waiting}): {command[:300]}")
    return described


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _ended(messages) -> bool:
    """The resumed run's playbook_end arrived (the crashed run never sent one)."""
    return any(m.value["event"] == "playbook_end" for m in messages)


def _last_rows(events: list[dict]) -> dict[str, dict]:
    """Device -> the reduced row of the last event that carries one: a host_result's result.campaign entry, or a
    campaign_row event's row. Runs in the order they started, events of a run by their sequence number."""
    first_seen: dict[str, str] = {}
    for event in events:
        first_seen[event["run_id"]] = min(first_seen.get(event["run_id"], event["time"]), event["time"])
    ordered = sorted(events, key=lambda e: (first_seen[e["run_id"]], e["run_id"], e["seq"]))
    last: dict[str, dict] = {}
    for event in ordered:
        if event["event"] == "host_result":
            for row in (event.get("result") or {}).get("campaign") or []:
                last[row["device"]] = row
        elif event["event"] == "campaign_row" and isinstance(event.get("row"), dict):
            row = event["row"]
            reduced = campaign_rows({"row": row}) if "stages" in row else [row]
            for entry in reduced:
                last[entry["device"]] = entry
    return last
