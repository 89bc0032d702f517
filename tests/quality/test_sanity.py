"""`ansible-test sanity` on the collection as it ships (the built tarball, unpacked at ansible_collections/escalator/swim).

Every sanity test runs, on Python 3.11 with the local interpreter (`--local`, no containers). ansible-test puts each
test's pinned requirements into its own virtual environment (~/.ansible/test/venv, cached) with pip from PyPI, and
bootstraps pip into those environments with a get-pip script it downloads from a host that is not reachable here; the
fixture below provides the same bootstrap from the pip wheel on PyPI instead (see docs/user-guide.md, "Quality gates").
Ignore entries: tests/sanity/ignore-2.19.txt, each with its reason.
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from quality_tools import BIN, ROOT, run, tool_env

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
BOOTSTRAP = '''"""Stand-in for get-pip.py written by escalator.swim tests/quality: runs pip from the wheel beside it."""
import os
import runpy
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), {wheel!r}))
sys.argv = ["pip", "install"] + [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
'''


def ansible_test_pip_version() -> str:
    from ansible_test._internal.python_requirements import get_venv_packages

    class _Python:  # get_venv_packages reads only .version
        version = PYTHON

    return get_venv_packages(_Python())["pip"]


def ensure_pip_bootstrap() -> Path:
    """Where ansible-test looks for its cached get-pip script; written from PyPI's pip wheel when missing."""
    version = ansible_test_pip_version()
    cache = Path("~/.ansible/test/cache").expanduser()
    script = cache / f"get_pip_{version.replace('.', '_')}.py"
    if script.exists():
        return script
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / f"pip-{version}-py3-none-any.whl"
    if not wheel.exists():
        proc = run([sys.executable, "-m", "pip", "download", f"pip=={version}", "--no-deps", "--only-binary", ":all:",
                    "-d", cache], cwd=cache)
        assert proc.returncode == 0 and wheel.exists(), proc.stdout + proc.stderr
    partial = script.with_suffix(".tmp")
    partial.write_text(BOOTSTRAP.format(wheel=wheel.name))
    partial.replace(script)
    return script


def test_ignore_entries_carry_a_reason():
    for number, line in enumerate((ROOT / "tests/sanity/ignore-2.19.txt").read_text().splitlines(), 1):
        entry, _, reason = line.partition(" # ")
        assert len(entry.split()) == 2 and len(reason.strip()) > 10, f"ignore-2.19.txt:{number} needs '<path> <test> # <reason>'"


@pytest.mark.slow
def test_ansible_test_sanity(shipped_collection):
    ensure_pip_bootstrap()
    started = time.monotonic()
    proc = run([BIN / "ansible-test", "sanity", "--python", PYTHON, "--local", "--color", "no"], cwd=shipped_collection,
               env=tool_env(), timeout=1500)
    elapsed = time.monotonic() - started
    output = proc.stdout + proc.stderr
    errors = [line for line in output.splitlines() if re.match(r"(ERROR|FATAL): ", line)]
    print(f"ansible-test sanity took {elapsed:.0f}s")
    assert proc.returncode == 0, "\n".join(errors) or output[-5000:]
    ran = re.findall(r'Running sanity test "([^"]+)"', output)
    assert {"validate-modules", "pylint", "pep8", "import", "yamllint", "ansible-doc", "runtime-metadata"} <= set(ran), ran
