"""Helpers of the quality gates: paths, the checkout's files, tools run from .venv."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
COLLECTION = f"{GALAXY['namespace']}.{GALAXY['name']}"


def tool_env(**extra: str) -> dict:
    """Environment for a tool run from .venv: .venv/bin first on PATH, no colours, no user ansible.cfg."""
    env = dict(os.environ)
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
                "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"})
    env.pop("ANSIBLE_CONFIG", None)
    env.update(extra)
    return env


def run(command: list[str], *, cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env or tool_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def source_files() -> list[str]:
    """The files of the checkout a commit would hold: tracked plus untracked-but-not-ignored (a fresh clone in CI)."""
    if not (ROOT / ".git").exists():
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    return sorted({name for name in listed if name and (ROOT / name).is_file() and not (ROOT / name).is_symlink()})


def copy_checkout(dest: Path) -> Path:
    """Copy the checkout's files (see source_files) to *dest*; returns dest."""
    for name in source_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return dest
