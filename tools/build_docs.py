"""Generate the docs that come from the code: `make docs` (tests/quality/test_docs.py checks they are current).

* docs/reference/  module, plugin and role pages rendered by antsibull-docs from DOCUMENTATION / argument specs
                   (simplified RST: readable on the forge's file view without Sphinx).
* CHANGELOG.md     the release notes of the version in galaxy.yml, from changelogs/fragments (antsibull-changelog
                   `release` on a throw-away copy: the fragments stay until a release is really cut).

    python tools/build_docs.py [--dest DIR]    # DIR gets reference/ and CHANGELOG.md (default: the checkout)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
# What antsibull-docs and antsibull-changelog read of the collection.
COLLECTION_PARTS = ("galaxy.yml", "meta", "plugins", "roles", "playbooks", "README.md")


def tool_env(collections: Path) -> dict:
    env = dict(os.environ)
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}", "ANSIBLE_COLLECTIONS_PATH": str(collections),
                "ANSIBLE_NOCOLOR": "1"})
    env.pop("ANSIBLE_CONFIG", None)
    return env


def run(command: list, cwd: Path, env: dict) -> None:
    proc = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def collection_copy(work: Path, with_changelogs: bool) -> Path:
    """<work>/ansible_collections/<ns>/<name>: a copy of the collection's parts (a symlinked plugins/ is not found by
    antsibull-changelog's plugin discovery), changelogs/ too when asked (release rewrites it)."""
    root = work / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    root.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in COLLECTION_PARTS:
        if (ROOT / part).is_dir():
            shutil.copytree(ROOT / part, root / part, ignore=skip)
        elif (ROOT / part).exists():
            shutil.copy2(ROOT / part, root / part)
    if with_changelogs:
        shutil.copytree(ROOT / "changelogs", root / "changelogs", ignore=shutil.ignore_patterns(".plugin-cache.yaml"))
    return root


def build_reference(dest: Path) -> None:
    with tempfile.TemporaryDirectory() as work:
        collection_copy(Path(work), with_changelogs=False)
        out = Path(work) / "out"
        out.mkdir(mode=0o755)
        run([BIN / "antsibull-docs", "collection", "--use-current", "--dest-dir", out, "--output-format",
             "simplified-rst", "--squash-hierarchy", "--no-add-antsibull-docs-version", "--fail-on-error",
             f"{GALAXY['namespace']}.{GALAXY['name']}"], cwd=Path(work), env=tool_env(Path(work)))
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(out, dest)


def build_changelog(dest: Path) -> None:
    with tempfile.TemporaryDirectory() as work:
        root = collection_copy(Path(work), with_changelogs=True)
        run([BIN / "antsibull-changelog", "release", "--version", GALAXY["version"]], cwd=root,
            env=tool_env(Path(work)))
        shutil.copy2(root / "CHANGELOG.md", dest)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--dest", type=Path, default=None, help="write reference/ and CHANGELOG.md here instead")
    args = parser.parse_args()
    reference = args.dest / "reference" if args.dest else ROOT / "docs" / "reference"
    changelog = args.dest / "CHANGELOG.md" if args.dest else ROOT / "CHANGELOG.md"
    build_reference(reference)
    build_changelog(changelog)
    print(f"wrote {reference} and {changelog}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
