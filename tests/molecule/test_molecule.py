"""`molecule test` for every scenario of the collection (extensions/molecule/<scenario>/), without Docker:
the default driver's create/destroy playbooks start and stop a swim-sim fleet on 127.0.0.1, and the
scenario's converge, idempotence and verify stages run against it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(path.parent.name for path in (ROOT / "extensions" / "molecule").glob("*/molecule.yml"))
BIN = Path(sys.executable).parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")
STAGES = ("destroy", "syntax", "create", "prepare", "converge", "idempotence", "verify")


def test_every_role_has_a_scenario():
    roles = {path.parent.parent.name for path in (ROOT / "roles").glob("*/tasks/main.yml")}
    assert roles <= set(SCENARIOS), f"roles without a molecule scenario: {roles - set(SCENARIOS)}"
    assert "rolling_upgrade" in SCENARIOS


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario, tmp_path):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "ephemeral"), "NO_COLOR": "1", "ANSIBLE_NOCOLOR": "1",
           "SWIM_STATE_DIR": str(tmp_path / "state")}
    env.pop("ANSIBLE_CONFIG", None)          # molecule writes its own
    proc = subprocess.run([str(BIN / "molecule"), "test", "-s", scenario], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    output = ANSI.sub("", proc.stdout + proc.stderr)
    assert proc.returncode == 0, output[-8000:]
    for stage in STAGES:
        assert re.search(rf"(?:{scenario} ➜ {stage}|\[{scenario} > {stage}\]):? Executed: Successful", output), \
            (stage, output[-6000:])
    recap = re.search(rf"^{scenario}\s*: actions=(\d+)\s+successful=(\d+)\s+disabled=0\s+skipped=0\s+missing=0"
                      rf"\s+failed=0", output, re.MULTILINE)
    assert recap and recap[1] == recap[2], output[-3000:]
    # destroy stopped the simulator: nothing of the scenario's fleet is left running.
    assert not (tmp_path / "ephemeral" / "swim" / "fleet.pid").exists()
