"""Plan and inventory builders shared by the campaign tests."""

from __future__ import annotations

import copy
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EXAMPLE = os.path.join(ROOT, "docs", "examples", "campaign-plan.yml")
_EXAMPLE: list = []
SHA_A = "a" * 64
SHA_B = "0123456789abcdef" * 4


def example() -> dict:
    """A fresh copy of docs/examples/campaign-plan.yml (parsed once)."""
    if not _EXAMPLE:
        with open(EXAMPLE, encoding="utf-8") as handle:
            _EXAMPLE.append(yaml.safe_load(handle))
    return copy.deepcopy(_EXAMPLE[0])


def image(version="2.0.0", sha=SHA_A, url="http://images.example.net/swim-olt.img", **extra) -> dict:
    return {"name": "swim-olt", "version": version, "url": url, "sha256": sha, **extra}


def plan(*steps, images=None, **campaign) -> dict:
    """A minimal valid plan; *steps* are step mappings (default: one step over group olts)."""
    body = {"id": "test-campaign", "images": images or {"default": image()},
            "groups": list(steps) or [{"group": "olts"}]}
    body.update(campaign)
    return {"campaign": copy.deepcopy(body)}


def fleet(count=6, group="olts") -> dict:
    hosts = [f"olt-{i}" for i in range(1, count + 1)]
    return {"all": hosts, "ungrouped": [], group: hosts}
