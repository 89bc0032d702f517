"""``awx_job``: run a project playbook (awx/<name>.yml) through ansible-runner in a private data directory laid out
as AWX lays it out for a job:

    <pdd>/project/                      the project checkout: awx/ playbooks and ansible.cfg
    <pdd>/requirements_collections/     the collections of the job (escalator.swim = this checkout)
    <pdd>/inventory/hosts.yml           the job's inventory (or one slice of it)
    <pdd>/env/extravars, env/envvars, env/settings
    <pdd>/artifacts/<ident>/            written by ansible-runner: status, rc, stdout, job_events/, command
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DRIVER = Path(__file__).resolve().parent / "awx_job.py"


@dataclass
class JobResult:
    status: str
    rc: int
    events: list            # as streamed to the event handler
    statuses: list
    artifacts: Path
    stdout_text: str = field(repr=False, default="")

    def of(self, event_type: str, task: str | None = None) -> list[dict]:
        return [e for e in self.events if e["event"] == event_type
                and (task is None or e.get("event_data", {}).get("task") == task)]

    def hosts(self, event_type: str, task: str | None = None) -> set[str]:
        return {e["event_data"]["host"] for e in self.of(event_type, task)}

    @property
    def stats(self) -> dict:
        (stats,) = self.of("playbook_on_stats")
        return stats["event_data"]

    def artifact_events(self) -> list[dict]:
        events = [json.loads(p.read_text()) for p in (self.artifacts / "job_events").glob("*.json")]
        return sorted(events, key=lambda e: e["counter"])


class AwxJobFactory:
    def __init__(self, base: Path):
        self.base = base
        self.count = 0

    def __call__(self, name: str, inventory: Path | dict, extra_vars: dict | None = None,
                 envvars: dict | None = None, project_files: dict | None = None, job_type: str = "run",
                 timeout: float = 600) -> JobResult:
        """*project_files*: {path in the project: text}; "{project}" in an extra var's value is the project directory
        (/runner/project in AWX)."""
        self.count += 1
        ident = str(self.count)
        pdd = self.base / f"job-{self.count}"
        project = pdd / "project"
        (project / "awx").mkdir(parents=True)
        for playbook in (ROOT / "awx").glob("*.yml"):
            shutil.copy2(playbook, project / "awx" / playbook.name)
        shutil.copy2(ROOT / "ansible.cfg", project / "ansible.cfg")
        for relative, text in (project_files or {}).items():
            (project / relative).parent.mkdir(parents=True, exist_ok=True)
            (project / relative).write_text(text)
        extra_vars = {k: v.replace("{project}", str(project)) if isinstance(v, str) else v
                      for k, v in (extra_vars or {}).items()}
        collections = pdd / "requirements_collections" / "ansible_collections" / "escalator"
        collections.mkdir(parents=True)
        (collections / "swim").symlink_to(ROOT)
        (pdd / "inventory").mkdir()
        hosts = yaml.safe_load(inventory.read_text()) if isinstance(inventory, Path) else inventory
        (pdd / "inventory" / "hosts.yml").write_text(yaml.safe_dump(hosts))
        (pdd / "env").mkdir()
        (pdd / "env" / "extravars").write_text(yaml.safe_dump(extra_vars or {}))
        (pdd / "env" / "envvars").write_text(yaml.safe_dump({
            "ANSIBLE_COLLECTIONS_PATH": str(pdd / "requirements_collections"),
            "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_DEPRECATION_WARNINGS": "0",
            **(envvars or {})}))
        if job_type == "check":   # AWX's "Check" job type
            (pdd / "env" / "cmdline").write_text("--check")
        (pdd / "env" / "settings").write_text(yaml.safe_dump({"job_timeout": int(timeout), "idle_timeout": int(timeout)}))

        env = dict(os.environ)
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        env.pop("ANSIBLE_CONFIG", None)  # the project's ansible.cfg, as in AWX
        result_path = pdd / "result.json"
        proc = subprocess.run([sys.executable, str(DRIVER), str(pdd), f"awx/{name}.yml", ident, str(result_path)],
                              env=env, cwd=pdd, capture_output=True, text=True, timeout=timeout + 60, check=False)
        assert proc.returncode == 0 and result_path.exists(), proc.stdout + proc.stderr
        data = json.loads(result_path.read_text())
        artifacts = pdd / "artifacts" / ident
        stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else ""
        return JobResult(data["status"], data["rc"], data["events"], data["statuses"], artifacts, stdout)


@pytest.fixture
def awx_job(tmp_path):
    """Factory: ``awx_job(name, inventory, extra_vars=None, envvars=None, project_files=None, job_type="run")`` runs awx/<name>.yml through ansible-runner
    as an AWX job and returns a :class:`JobResult` (status, rc, events, statuses, artifacts)."""
    return AwxJobFactory(tmp_path / "awx")
