"""Execution environment: `ansible-builder create` on awx/execution-environment.yml gives a build context that installs
the collection tarball, ansible-core/ansible-runner and the collection's Python and system dependencies.

No container engine here, so no image is built: the test runs the same dependency introspection the Containerfile
runs (builder's introspect.py from the generated context) on the collection installed from the tarball.
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import yaml
from ansible_builder._target_scripts.introspect import EXCLUDE_REQUIREMENTS
from ansible_builder.ee_schema import validate_schema

from quality_tools import BIN, GALAXY, ROOT, run, tool_env


def requirement_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_collection_ee_metadata_names_the_dependency_files():
    meta = yaml.safe_load((ROOT / "meta/execution-environment.yml").read_text())
    validate_schema(meta)
    assert meta["version"] == 3
    # ansible-builder resolves a collection's files relative to the collection root; both must ship in the tarball.
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    assert not any(d in GALAXY["build_ignore"] for d in ("meta", "requirements.txt", "bindep.txt"))


def test_ansible_builder_create_context(checkout_copy, collection_tarball, tmp_path):
    (checkout_copy / "dist").mkdir(exist_ok=True)
    shutil.copy2(collection_tarball, checkout_copy / "dist")
    context = tmp_path / "context"
    proc = run([BIN / "ansible-builder", "create", "-f", "awx/execution-environment.yml", "-c", context,
                "--output-filename", "Containerfile"], cwd=checkout_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    build = context / "_build"
    containerfile = (context / "Containerfile").read_text()
    definition = yaml.safe_load((ROOT / "awx/execution-environment.yml").read_text())
    assert definition["version"] == 3
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in containerfile
    core = definition["dependencies"]["ansible_core"]["package_pip"]
    runner = definition["dependencies"]["ansible_runner"]["package_pip"]
    assert f'ARG ANSIBLE_INSTALL_REFS="{core} {runner}"' in containerfile
    # ansible-core and ansible-runner in the image are the versions make test runs with.
    pins = dict(line.split("==") for line in requirement_lines(ROOT / "constraints.txt"))
    assert core == f"ansible-core=={pins['ansible-core']}" and runner == f"ansible-runner=={pins['ansible-runner']}"
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "introspect.py introspect --user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile
    assert "COPY _build/collections/ /tmp/swim-collections/" in containerfile
    assert "LABEL ansible-execution-environment=true" in containerfile

    # The context carries the collection's own requirement files and the tarball the galaxy stage installs.
    assert requirement_lines(build / "requirements.txt") == requirement_lines(ROOT / "requirements.txt")
    assert requirement_lines(build / "bindep.txt") == requirement_lines(ROOT / "bindep.txt")
    assert (build / "collections" / collection_tarball.name).read_bytes() == collection_tarball.read_bytes()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": f"/tmp/swim-collections/{collection_tarball.name}", "type": "file"}]

    # What the builder stage will compute: install the tarball where the galaxy stage does, run introspect.py.
    collections = tmp_path / "usr-share-ansible-collections"
    proc = run([BIN / "ansible-galaxy", "collection", "install", collection_tarball, "-p", collections], cwd=tmp_path,
               env=tool_env(ANSIBLE_COLLECTIONS_PATH=str(collections)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pip_out, bindep_out = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    proc = run([sys.executable, build / "scripts" / "introspect.py", "introspect", collections,
                f"--write-pip={pip_out}", f"--write-bindep={bindep_out}"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    python_deps = {re.split(r"[<>=!~ ]", line)[0].lower() for line in requirement_lines(pip_out)}
    wanted = {re.split(r"[<>=!~ ]", line)[0].lower() for line in requirement_lines(ROOT / "requirements.txt")}
    assert python_deps == wanted - EXCLUDE_REQUIREMENTS  # builder leaves out what every EE has (PyYAML)
    system_deps = {line.split("#")[0].strip() for line in requirement_lines(bindep_out)}
    assert system_deps == set(requirement_lines(ROOT / "bindep.txt"))
    assert all(line.endswith(f"# from collection {GALAXY['namespace']}.{GALAXY['name']}")
               for line in requirement_lines(pip_out) + requirement_lines(bindep_out))
