"""Run real ansible-playbook from the repository root, as an operator would, and read what happened."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
BIN = Path(sys.executable).parent
RECAP = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)"
                   r"\s+ignored=(?P<ignored>\d+)", re.MULTILINE)


@dataclass
class PlaybookRun:
    returncode: int
    stdout: str
    stderr: str
    recap: dict
    results_dir: Path | None

    def results(self, host: str) -> dict:
        """Registered results a test playbook saved for *host* (see playbooks/record_upgrade.yml)."""
        return json.loads((self.results_dir / f"{host}.json").read_text())

    def hosts_with(self, key: str, minimum: int = 1) -> set[str]:
        return {host for host, counts in self.recap.items() if counts[key] >= minimum}


def ansible_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra or {})
    return env


def run_playbook(playbook: str | Path, inventory: str | Path, *, extra_vars: dict | None = None,
                 check: bool = False, diff: bool = False, results_dir: Path | None = None,
                 env: dict | None = None, timeout: float = 600, args: list[str] | None = None) -> PlaybookRun:
    path = Path(playbook)
    if not path.is_absolute() and (PLAYBOOKS / path).exists():
        path = PLAYBOOKS / path
    variables = dict(extra_vars or {})
    if results_dir is not None:
        results_dir.mkdir(parents=True, exist_ok=True)
        variables["results_dir"] = str(results_dir)
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(path) if path.exists() else str(playbook),
               "-e", json.dumps(variables)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    command += args or []
    proc = subprocess.run(command, cwd=ROOT, env=ansible_env(env), capture_output=True, text=True, timeout=timeout)
    recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
             for m in RECAP.finditer(proc.stdout)}
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, recap, results_dir)
