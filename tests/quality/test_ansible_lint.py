"""ansible-lint, production profile (.ansible-lint), on the checkout: roles, playbooks, the AWX project, meta/,
changelog fragments, plugin EXAMPLES. Exceptions: .ansible-lint-ignore, one line per file and rule, with a reason."""
from __future__ import annotations

import re

import pytest

from quality_tools import BIN, ROOT, run, tool_env


def test_ansible_lint_config():
    config = (ROOT / ".ansible-lint").read_text()
    assert re.search(r"^profile: production$", config, re.M)
    assert "skip_list" not in config and "warn_list" not in config


def test_ansible_lint_ignore_entries_carry_a_reason():
    path = ROOT / ".ansible-lint-ignore"
    for number, line in enumerate(path.read_text().splitlines() if path.exists() else [], 1):
        if line.strip():
            entry, _, reason = line.partition("#")
            assert len(entry.split()) in (2, 3) and len(reason.strip()) > 10, f".ansible-lint-ignore:{number}: {line}"


@pytest.mark.slow
def test_ansible_lint_production_profile(checkout_copy):
    # The collection where ansible.cfg looks for it, as `make collection` links it.
    link = checkout_copy / ".collections" / "ansible_collections" / "escalator" / "swim"
    if not link.exists():
        link.parent.mkdir(parents=True)
        link.symlink_to("../../..")
    proc = run([BIN / "ansible-lint", "--offline", "--nocolor", "-f", "pep8"], cwd=checkout_copy,
               env=tool_env(NO_COLOR="1"), timeout=900)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-4000:]
    assert "production" in proc.stderr, proc.stderr[-2000:]
