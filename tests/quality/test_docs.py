"""Docs generated from the code are current (`make docs`), plugin docs and changelog fragments pass their linters,
and the hand-written guides link only to files that exist."""
from __future__ import annotations

import filecmp
import re
import subprocess
import sys

import pytest

from quality_tools import BIN, ROOT, run, tool_env

GUIDES = [ROOT / "docs" / "user-guide.md", ROOT / "docs" / "awx" / "README.md", ROOT / "README.md"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    dest = tmp_path_factory.mktemp("docs")
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build_docs.py"), "--dest", str(dest)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


def test_reference_docs_are_current(generated):
    checked_in = ROOT / "docs" / "reference"
    names = sorted(p.name for p in (generated / "reference").iterdir())
    assert sorted(p.name for p in checked_in.iterdir()) == names, "docs/reference is stale: run `make docs`"
    assert {"index.rst", "sw_version_module.rst", "kafka_events_callback.rst", "upgrade_role.rst"} <= set(names)
    _, mismatch, errors = filecmp.cmpfiles(generated / "reference", checked_in, names, shallow=False)
    assert not mismatch and not errors, f"docs/reference is stale ({mismatch + errors}): run `make docs`"


def test_changelog_is_current(generated):
    assert (ROOT / "CHANGELOG.md").read_text() == (generated / "CHANGELOG.md").read_text(), \
        "CHANGELOG.md is stale: run `make docs`"


def test_changelog_fragments_lint(tmp_path):
    proc = run([BIN / "antsibull-changelog", "lint"], cwd=ROOT, env=tool_env())
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_plugin_docs_lint():
    """antsibull-docs' collection docs linter: schema of every DOCUMENTATION/EXAMPLES/RETURN, semantic markup and
    references (O(), RV(), M()) resolve, role argument specs."""
    collection = ROOT / ".collections" / "ansible_collections" / "escalator" / "swim"
    proc = run([BIN / "antsibull-docs", "lint-collection-docs", "--plugin-docs", "."], cwd=collection,
               env=tool_env(ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections")))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: str(p.relative_to(ROOT)))
def test_guides_link_to_existing_files(guide):
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", guide.read_text())
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert local
    missing = [link for link in local if not (guide.parent / link).exists()]
    assert not missing, missing
