"""The chaos test's scenario (drawn from a seed) and its judges: what the simulated devices really run,
read from the simulator's own state files, reboot log and raw protocol reads (a DMI GetSoftwareVersion
over the grpc stubs, a NETCONF <get> over ncclient), never from the collection's status table."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import grpc
import yaml
from dmi import hw_pb2

from sim_dmi_client import Dmi
from swim_matrix import OLD, TARGET
from swim_sim.testing import HW_NS

# Documented simulator faults (docs/simulator.md) drawn for the faulty third of the fleet, and whether the
# device can possibly end on the target image. never_returns is left out: its device stays down until the
# simulator restarts, so after a run without a later restart nothing could read it (the fault matrix and
# tests/integration/test_campaign_crash_safety.py cover it). activation_not_applied is drawn for DMI devices only:
# the NETCONF simulator does not map it (its activation is applied), so it would be no fault there.
DMI_ONLY = {"activation_not_applied"}
FAULT_POOL = [
    ("checksum_corruption", False),
    ({"download_drop": {"drop_at": 0.5}}, False),
    ("invalid_image", False),
    ("activation_sanity_failure", False),
    ("busy", False),
    ("alarm_after_upgrade", False),
    ("activation_not_applied", False),
    ("unreachable", False),
    ("flapping", True),
    ({"slow": {"factor": 2}}, True),
    ("stream_drop_on_reboot", True),
]
KILL_STAGES = ("precheck", "backup", "download", "activate", "postcheck")   # (verify is recorded done, never running)
RESTART_PHASES = ("while-the-controller-is-dead", "during-the-resumed-run")
GROUPS = ("a", "b")
# Short timings like the other integration tests, long enough reboots for a kill to land during one.
TIMINGS = {"download_rate": 512 * 1024, "reboot_time": 1.2, "sanity_time": 0.3}
MAJOR = {hw_pb2.COMP_ALARM_STATE_MAJOR, hw_pb2.COMP_ALARM_STATE_CRITICAL}


def fault_name(fault) -> str:
    return fault if isinstance(fault, str) else next(iter(fault))


@dataclass
class Scenario:
    """Everything random about one chaos run, drawn from its seed."""
    seed: int
    names: list[str]
    transports: dict[str, str]
    faults: dict[str, object]                     # device -> fault spec (the faulty third)
    pairs: list[tuple[str, str]]
    kill_kind: str                                # "whole" (main process and every worker) or "main"
    kill_stage: str                               # crash once the kill_nth device's stage runs...
    kill_nth: int
    kill_delay: float                             # ... and this many seconds later
    restart_phase: str
    restart_delay: float                          # seconds into the resumed run (during-the-resumed-run)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def draw(cls, seed: int) -> "Scenario":
        rng = random.Random(seed)
        count = rng.randint(9, 12)
        names = [f"olt-{index:03d}" for index in range(1, count + 1)]
        # half DMI, half NETCONF, in random places (the fleet's "mixed" alternation would make group a all DMI)
        kinds = ["dmi", "netconf"] * (count // 2) + ["dmi"] * (count % 2)
        rng.shuffle(kinds)
        transports = dict(zip(names, kinds))
        faulty = rng.sample(names, round(count / 3))
        faults = {name: rng.choice([fault for fault, _ in FAULT_POOL
                                    if transports[name] == "dmi" or fault_name(fault) not in DMI_ONLY])
                  for name in sorted(faulty)}
        paired = rng.sample(names, 4 + 2 * rng.randint(0, 1))
        pairs = [(paired[i], paired[i + 1]) for i in range(0, len(paired), 2)]
        # the crash kind alternates per seed, the restart phase every two seeds: seeds 1-4 cover all four
        return cls(seed, names, transports, faults, pairs,
                   kill_kind="whole" if seed % 2 == 0 else "main",
                   kill_stage=rng.choice(KILL_STAGES), kill_nth=rng.randint(1, 3), kill_delay=round(rng.uniform(0.0, 1.5), 2),
                   restart_phase=RESTART_PHASES[(seed // 2) % 2], restart_delay=round(rng.uniform(4.0, 20.0), 1))

    def faults_yaml(self) -> dict:
        devices = {name: {"transport": self.transports[name]} for name in self.names}
        for name, fault in self.faults.items():
            devices[name]["faults"] = [fault]
        return {"devices": devices}

    def can_be_upgraded(self, name: str) -> bool:
        fault = self.faults.get(name)
        return fault is None or dict((fault_name(f), ok) for f, ok in FAULT_POOL)[fault_name(fault)]

    def describe(self) -> str:
        faults = ", ".join(f"{name}={fault_name(fault)}({self.transports[name]})" for name, fault in self.faults.items())
        return (f"seed {self.seed}: {len(self.names)} devices "
                f"({sum(t == 'netconf' for t in self.transports.values())} NETCONF), faults [{faults}], "
                f"pairs {self.pairs}, kill {self.kill_kind} at device #{self.kill_nth}'s {self.kill_stage}+{self.kill_delay}s, "
                f"simulator restart {self.restart_phase}"
                + (f" (+{self.restart_delay}s)" if self.restart_phase == "during-the-resumed-run" else ""))


def write_inventory(fleet, scenario: Scenario, path, dmi_password: str) -> None:
    """The fleet's inventory with the redundancy pairs and a planted DMI password (the NETCONF hosts carry the
    fleet's SSH password, --netconf-password): the campaign runs from this copy, which a simulator restart
    (it rewrites its own inventory) leaves alone."""
    inventory = yaml.safe_load(fleet.inventory.read_text())
    partner = {name: f"pair-{index}" for index, pair in enumerate(scenario.pairs, 1) for name in pair}
    for group in inventory["all"]["children"]["swim_fleet"]["children"].values():
        for name, host in group["hosts"].items():
            if name in partner:
                host["swim_redundancy_pair"] = partner[name]
            if "ansible_password" not in host:
                host["ansible_password"] = dmi_password
    path.write_text(yaml.safe_dump(inventory))


def plan_document(plan: dict) -> dict:
    """Two groups (b after a), batches of 3, the pairs as a redundancy group; short timeouts."""
    plan["campaign"]["groups"] = [
        {"name": "first", "group": "a", "batch": {"size": 3}},
        {"name": "second", "group": "b", "depends_on": ["first"], "batch": {"size": 3}},
    ]
    plan["campaign"]["redundancy_groups"] = [{"name": "pairs", "var": "swim_redundancy_pair"}]
    return plan


# ------------------------------------------------------------------------------------------ device truth
@dataclass
class DeviceTruth:
    name: str
    transport: str
    flash: dict                     # the state file's active partition
    answered: bool                  # the raw protocol read worked
    running: str | None             # version the raw read says is active
    committed: bool | None          # NETCONF is-committed of the active revision (DMI: the active image boots)
    alarms: list[str]               # components with a major/critical alarm (raw hardware read)
    error: str = ""


def read_device(fleet, name: str) -> DeviceTruth:
    device = fleet.device(name)
    flash = fleet.state(name)["partitions"]["active"]
    if device["transport"] == "dmi":
        return _read_dmi(device, flash)
    return _read_netconf(fleet, device, flash)


def _read_dmi(device: dict, flash: dict) -> DeviceTruth:
    with Dmi(device) as client:
        try:
            reply = client.get_versions(timeout=10)
            if reply.status != 1:
                return DeviceTruth(device["name"], "dmi", flash, False, None, None, [],
                                   f"GetSoftwareVersion status {reply.status} reason {reply.reason}")
            active = [v.version for v in reply.info.active_versions]
            components = client.inventory(timeout=10)[0].inventory.root.children
        except grpc.RpcError as exc:
            return DeviceTruth(device["name"], "dmi", flash, False, None, None, [], f"{exc.code()}: {exc.details()}")
    alarms = [c.name for c in components if c.state.alarm_state in MAJOR]
    return DeviceTruth(device["name"], "dmi", flash, True, active[0] if len(active) == 1 else repr(active),
                       True, alarms)


def _read_netconf(fleet, device: dict, flash: dict) -> DeviceTruth:
    name = device["name"]
    try:
        with fleet.netconf(name, timeout=10) as client:
            revisions = client.revisions()
            hardware = client.get(f'<hardware xmlns="{HW_NS}"/>').data_ele
    except Exception as exc:  # noqa: BLE001 -- refused (the unreachable fault) or dropped: recorded, judged later
        return DeviceTruth(name, "netconf", flash, False, None, None, [], f"{type(exc).__name__}: {exc}")
    active = [rev for rev in revisions.values() if rev.get("is-active") is True]
    alarms = [c.findtext(f"{{{HW_NS}}}name") for c in hardware.iter(f"{{{HW_NS}}}component")
              if c.findtext(f"{{{HW_NS}}}state/{{{HW_NS}}}alarm-state") in ("major", "critical")]
    if len(active) != 1:
        return DeviceTruth(name, "netconf", flash, True, repr(active), None, alarms)
    return DeviceTruth(name, "netconf", flash, True, str(active[0].get("version")),
                       active[0].get("is-committed") is True, alarms)


def known_good(truth: DeviceTruth) -> str:
    """Why the device is not on a committed known-good image, or '' when it is."""
    flash = truth.flash
    if not (flash.get("committed") and flash.get("valid") and flash.get("version") in (OLD, TARGET["version"])):
        return f"flash state: active partition {flash}"
    if truth.answered and truth.running != flash["version"]:
        return f"{truth.transport} read says {truth.running} runs, the flash state {flash['version']}"
    if truth.answered and truth.committed is not True:
        return f"{truth.transport} read: the running revision {truth.running} is not committed"
    return ""


def down_windows(reboots: list[dict], name: str, restarted_at: float) -> list[tuple[float, float]]:
    """When *name* was down, from the simulator's reboot log; a reboot the simulator restart cut short
    (``interrupted``) lasted until the restarted fleet was up."""
    windows = []
    for entry in reboots:
        if entry["device"] != name:
            continue
        end = entry.get("up_at") or (restarted_at if entry.get("interrupted") else float("inf"))
        windows.append((entry["down_at"], end))
    return windows


def overlapping(reboots: list[dict], a: str, b: str, restarted_at: float) -> list[tuple]:
    return [(wa, wb) for wa in down_windows(reboots, a, restarted_at) for wb in down_windows(reboots, b, restarted_at)
            if wa[0] < wb[1] and wb[0] < wa[1]]
