"""The collection as users get it: `ansible-galaxy collection build`, install of the tarball into an empty path, and a
module run from that install (nothing from the checkout: no ansible.cfg, ANSIBLE_COLLECTIONS_PATH = the fresh path)."""
from __future__ import annotations

import json
import tarfile

from quality_tools import BIN, GALAXY, run, tool_env


def test_tarball_holds_the_collection_and_not_the_dev_tree(collection_tarball):
    with tarfile.open(collection_tarball) as tar:
        names = set(tar.getnames())
    manifest = json.loads(tar_member(collection_tarball, "MANIFEST.json"))
    assert manifest["collection_info"]["version"] == GALAXY["version"]
    for wanted in ("plugins/modules/sw_version.py", "plugins/action/sw_version.py", "meta/runtime.yml",
                   "meta/execution-environment.yml", "requirements.txt", "bindep.txt", "playbooks/rolling_upgrade.yml",
                   "roles/upgrade/tasks/main.yml", "tests/sanity/ignore-2.19.txt", "README.md"):
        assert wanted in names, wanted
    unwanted = [n for n in names if n.split("/")[0] in ("tools", "awx", ".venv", ".collections", "dist")
                or (n.startswith("tests/") and not n.startswith("tests/sanity"))]
    assert not unwanted, unwanted[:20]


def tar_member(path, name) -> str:
    with tarfile.open(path) as tar:
        return tar.extractfile(name).read().decode()


def test_install_from_tarball_and_run_a_module(collection_tarball, sim_fleet, tmp_path):
    fresh = tmp_path / "collections"
    workdir = tmp_path / "elsewhere"            # no ansible.cfg here
    workdir.mkdir()
    env = tool_env(ANSIBLE_COLLECTIONS_PATH=str(fresh), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                   ANSIBLE_HOST_KEY_CHECKING="false")
    proc = run([BIN / "ansible-galaxy", "collection", "install", collection_tarball, "-p", fresh], cwd=workdir, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = fresh / "ansible_collections" / "escalator" / "swim"
    assert (installed / "MANIFEST.json").is_file() and not installed.is_symlink()

    proc = run([BIN / "ansible-galaxy", "collection", "list", "escalator.swim", "--format", "json"], cwd=workdir, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = json.loads(proc.stdout)
    assert list(listed) == [str(fresh / "ansible_collections")]
    assert listed[str(fresh / "ansible_collections")]["escalator.swim"]["version"] == GALAXY["version"]

    fleet = sim_fleet(1)
    proc = run([BIN / "ansible", "-i", fleet.inventory, "all", "-m", "escalator.swim.sw_version", "-o"], cwd=workdir,
               env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (device,) = fleet.devices
    assert proc.stdout.startswith(f"{device['name']} | SUCCESS =>")
    result = json.loads(proc.stdout.split("=>", 1)[1])
    assert result["active_version"] == "1.0.0" and result["transport"] == "dmi" and result["changed"] is False
