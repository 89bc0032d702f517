"""Fixtures of the quality gates: the collection as it ships (built tarball, unpacked)."""
from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from quality_tools import BIN, GALAXY, copy_checkout, run


@pytest.fixture(scope="session")
def checkout_copy(tmp_path_factory) -> Path:
    """A copy of the checkout (never the live tree other work is changing)."""
    return copy_checkout(tmp_path_factory.mktemp("checkout") / "swim")


@pytest.fixture(scope="session")
def collection_tarball(checkout_copy, tmp_path_factory) -> Path:
    """`ansible-galaxy collection build` of the checkout: the artifact users install."""
    out = tmp_path_factory.mktemp("dist")
    proc = run([BIN / "ansible-galaxy", "collection", "build", checkout_copy, "--output-path", out], cwd=checkout_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarballs = list(out.glob("*.tar.gz"))
    assert [t.name for t in tarballs] == [f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"]
    return tarballs[0]


@pytest.fixture(scope="session")
def shipped_collection(collection_tarball, tmp_path_factory) -> Path:
    """The tarball unpacked at <tmp>/ansible_collections/<ns>/<name> (the layout ansible-test needs)."""
    dest = tmp_path_factory.mktemp("shipped") / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    dest.mkdir(parents=True)
    with tarfile.open(collection_tarball) as tar:
        tar.extractall(dest, filter="data")
    return dest
