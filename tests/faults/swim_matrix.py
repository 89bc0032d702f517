"""Shared helpers of the fault-matrix, security and load tests: campaign plans, campaign runs through
the real ``escalator.swim.rolling_upgrade`` playbook, and what a run left behind (status table, log,
the devices' flash state)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from playbook_runner import BIN, RECAP, ROOT, PlaybookRun, ansible_env, run_playbook

TARGET = {"name": "swim-olt", "version": "2.0.0"}
OLD = "1.0.0"

# Transports of the matrix. NETCONF cells are added when the NETCONF simulator and client land
# (see NETCONF_READY); until then they are skipped with the reason below.
NETCONF_PENDING = ("NETCONF transport not available in this tree yet: the simulator fleet and the "
                   "netconf.py client are being written (issue 4); the DMI cells run")


def _netconf_ready() -> bool:
    if not (ROOT / "plugins" / "module_utils" / "netconf.py").is_file():
        return False
    try:
        from swim_sim import fleet
    except ImportError:
        return False
    return "netconf" in getattr(fleet, "TRANSPORTS", ())


NETCONF_READY = _netconf_ready()
TRANSPORTS = [
    pytest.param("dmi", id="dmi"),
    pytest.param("netconf", id="netconf",
                 marks=pytest.mark.skipif(not NETCONF_READY, reason=NETCONF_PENDING)),
]


def fleet_kwargs(transport: str) -> dict:
    return {} if transport == "dmi" else {"transport": transport}


def plan(image, *, campaign_id: str, group: str = "swim_fleet", batch_size=4, timeouts: dict | None = None,
         policy: str = "revert_device", threshold: str = "100%", verification: dict | None = None) -> dict:
    image_doc = {**TARGET, "url": image.url if hasattr(image, "url") else image["url"],
                 "sha256": image.sha256 if hasattr(image, "sha256") else image["sha256"]}
    return {"campaign": {
        "id": campaign_id,
        "images": {"default": image_doc},
        "groups": [{"name": "all", "group": group, "batch": {"size": batch_size}}],
        "timeouts": {"precheck": 20, "backup": 20, "download": 60, "activate": 60, "revert": 60, "postcheck": 20,
                     **(timeouts or {})},
        "verification": verification or {"sensor_tolerance": {"temperature*": 10}},
        "recovery": {"policy": policy, "failure_threshold": threshold},
    }}


@dataclass
class Campaign:
    """One campaign's files: plan, state root, and readers of what runs left behind."""
    workdir: Path
    document: dict
    extra_env: dict = field(default_factory=dict)

    def __post_init__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.plan_path = self.workdir / "plan.yml"
        self.plan_path.write_text(yaml.safe_dump(self.document))
        self.state = self.workdir / "state"

    @property
    def id(self) -> str:
        return self.document["campaign"]["id"]

    @property
    def dir(self) -> Path:
        return self.state / "campaigns" / self.id

    @property
    def env(self) -> dict:
        return {"SWIM_STATE_DIR": str(self.state), **self.extra_env}

    def extra_vars(self, **more) -> dict:
        return {"swim_plan": str(self.plan_path), "swim_auto_approve": True, **more}

    def run(self, inventory, *, timeout: float = 900, extra_vars: dict | None = None, env: dict | None = None,
            args: list[str] | None = None) -> PlaybookRun:
        return run_playbook("escalator.swim.rolling_upgrade", inventory, env={**self.env, **(env or {})},
                            extra_vars=self.extra_vars(**(extra_vars or {})), timeout=timeout, args=args)

    def start(self, inventory, *, extra_vars: dict | None = None, env: dict | None = None,
              log_path: Path | None = None) -> subprocess.Popen:
        """The same run in the background (stdout to *log_path*); see :func:`finish`."""
        log_path = log_path or self.workdir / "run.log"
        command = [str(BIN / "ansible-playbook"), "-i", str(inventory), "escalator.swim.rolling_upgrade",
                   "-e", json.dumps(self.extra_vars(**(extra_vars or {})))]
        handle = open(log_path, "w")
        proc = subprocess.Popen(command, cwd=ROOT, env=ansible_env({**self.env, **(env or {})}), stdout=handle,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        proc.log_path = log_path  # type: ignore[attr-defined]
        proc.log_handle = handle  # type: ignore[attr-defined]
        return proc

    def rows(self) -> dict[str, dict]:
        # rows are replaced atomically through hidden temporary files (.tmp-*.json): never read those
        return {p.stem: json.loads(p.read_text()) for p in sorted((self.dir / "status").glob("[!.]*.json"))}

    def log(self) -> list[dict]:
        path = self.dir / "campaign.log"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []

    def locks(self) -> list[Path]:
        return sorted((self.state / "locks").glob("*.lock")) if (self.state / "locks").exists() else []


def finish(proc: subprocess.Popen, timeout: float = 900) -> PlaybookRun:
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait(10)
        proc.log_handle.close()
    stdout = Path(proc.log_path).read_text(errors="replace")
    recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"} for m in RECAP.finditer(stdout)}
    return PlaybookRun(proc.returncode, stdout, "", recap, None)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll *predicate* until it returns a truthy value; bounded by *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def active_versions(fleet) -> dict[str, str]:
    return {d["name"]: fleet.state(d["name"])["partitions"]["active"]["version"] for d in fleet.devices}


def known_good(fleet, name: str) -> bool:
    """The device runs a committed, valid image (the old or the target one)."""
    active = fleet.state(name)["partitions"]["active"]
    return bool(active["committed"] and active["valid"] and active["version"] in (OLD, TARGET["version"]))


def stage_seconds(stage: dict) -> float:
    from datetime import datetime

    def parse(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parse(stage["end"]) - parse(stage["start"])).total_seconds()


def failed_stage(row: dict) -> tuple[str, dict] | None:
    for name, stage in row["stages"].items():
        if stage.get("state") == "failed":
            return name, stage
    return None
