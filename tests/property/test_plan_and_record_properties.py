"""Property tests over the campaign plan and the campaign bookkeeping modules, through their real action
plugins in-process: hostile plans (any structure, hostile values at any place of a valid plan) for
validate_plan / resolve_plan, and hostile device and campaign names for device_lock / campaign_status.

Every case ends in a JSON result with a clear msg on failure, never a traceback; no credential of the plan
shows in a problem; no lock or status file is ever written outside its directory.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from action_harness import run_action

SETTINGS = settings(max_examples=int(os.environ.get("SWIM_PROPERTY_EXAMPLES", "20")), deadline=None,
                    # make test replays the same examples every run; SWIM_PROPERTY_RANDOM=1 explores new ones
                    derandomize=os.environ.get("SWIM_PROPERTY_RANDOM") != "1",
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ROOT = Path(__file__).resolve().parents[2]
SECRET = "plan-s3cret"
EXAMPLE = yaml.safe_load((ROOT / "docs" / "examples" / "campaign-plan.yml").read_text())
EXAMPLE["campaign"]["images"]["default"]["url"] = f"https://deploy:{SECRET}@images.example.net/swim-olt.img"
HOSTS = [f"olt-{i:03d}" for i in range(1, 9)]
GROUPS = {"all": HOSTS, "olts_lab": HOSTS[:2], "olts": HOSTS[2:], "olts_core": HOSTS[6:]}
HOSTVARS = {h: {"swim_region": "north" if i < 5 else "south", "swim_redundancy_pair": f"p{i // 2}"}
            for i, h in enumerate(HOSTS)}

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 65), 2 ** 65), st.floats(allow_nan=True),
                    st.text(max_size=30), st.sampled_from(["", "0", "-1", "100%", "101%", "1e400", "30m", "olt-*",
                                                           "!olt-001", "../x", "a" * 5000, "{{ 1 }}"]))
structures = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                          max_leaves=20)


def paths(node, prefix=()):
    """Every path into *node* (dict keys, list indexes)."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, prefix + (index,))


ALL_PATHS = [p for p in paths(EXAMPLE) if p]


def test_the_example_plan_resolves():
    result, _ = run_action("resolve_plan", {"plan": EXAMPLE, "groups": GROUPS, "hostvars": HOSTVARS},
                           {"inventory_hostname": "localhost"})
    assert not result.get("failed"), result.get("msg")
    assert result["hosts_in_order"], result


def replaced(document, path, value):
    document = copy.deepcopy(document)
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


def check_plan_result(result: dict) -> None:
    assert isinstance(result, dict)
    text = json.dumps(result)
    assert "Traceback" not in text
    if result.get("failed"):
        assert isinstance(result.get("msg"), str) and result["msg"].strip(), result
    for problem in result.get("problems", []):
        assert SECRET not in problem
    assert SECRET not in result.get("msg", "")


@SETTINGS
@given(document=structures)
def test_any_document_is_judged_cleanly(document):
    for module, args in (("validate_plan", {"plan": document}),
                         ("resolve_plan", {"plan": document, "groups": GROUPS, "hostvars": HOSTVARS})):
        result, recorder = run_action(module, args, {"inventory_hostname": "localhost"})
        check_plan_result(result)
        assert not recorder.opened, "planning never connects to a device"
        if module == "validate_plan" and not isinstance(document, dict):
            assert result.get("valid") is False or result.get("failed") is True


@SETTINGS
@given(path=st.sampled_from(ALL_PATHS), value=structures)
def test_a_hostile_value_anywhere_in_a_valid_plan(path, value):
    document = replaced(EXAMPLE, path, value)
    for module, args in (("validate_plan", {"plan": document}),
                         ("resolve_plan", {"plan": document, "groups": GROUPS, "hostvars": HOSTVARS})):
        result, _ = run_action(module, args, {"inventory_hostname": "localhost"})
        check_plan_result(result)


names = st.one_of(st.text(max_size=40), st.sampled_from([
    "../../escape", "..", ".", "/etc/passwd", "olt-001/../../x", "olt\x00001", "", " ", "a" * 300, "-rf", ".hidden",
    "olt-001\n", "C:\\x", "~root"]))


@SETTINGS
@given(device=names, campaign=names, state=st.sampled_from(["present", "absent"]))
def test_locks_stay_in_their_directory(tmp_path_factory, device, campaign, state):
    base = tmp_path_factory.mktemp("locks")
    lock_dir = base / "state" / "locks"
    result, _ = run_action("device_lock", {"lock_dir": str(lock_dir), "campaign_id": campaign, "device": device,
                                           "state": state}, {"inventory_hostname": "olt-001"})
    check_plan_result(result)
    written = [p for p in base.rglob("*") if p.is_file()]
    assert all(p.parent == lock_dir for p in written), written
    if result.get("failed"):
        assert not written


@SETTINGS
@given(device=names, campaign=names, error=st.text(max_size=200), batch=st.one_of(st.none(), st.integers(-5, 5)))
def test_status_rows_stay_in_their_directory(tmp_path_factory, device, campaign, error, batch):
    base = tmp_path_factory.mktemp("campaign")
    campaign_dir = base / "campaigns" / "c1"
    args = {"campaign_dir": str(campaign_dir), "campaign_id": campaign, "device": device, "stage": "download",
            "state": "failed", "error": error + f" http://u:{SECRET}@h/x", "error_code": "X"}
    if batch is not None:
        args["batch"] = batch
    result, _ = run_action("campaign_status", args, {"inventory_hostname": "olt-001"})
    check_plan_result(result)
    written = [p for p in base.rglob("*") if p.is_file()]
    assert all(campaign_dir in p.parents for p in written), written
    for path in written:
        assert SECRET not in path.read_text(errors="replace"), path
