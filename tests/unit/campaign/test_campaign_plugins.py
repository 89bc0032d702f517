"""The campaign plan through Ansible: action plugins, the modules' own main(), filters and their docs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from campaign_plans import EXAMPLE, ROOT, image, plan

from ansible_collections.escalator.swim.plugins.filter.campaign import FilterModule
from ansible_collections.escalator.swim.plugins.module_utils.campaign.tasks import RESOLVE_SPEC, VALIDATE_SPEC

FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")
BIN = os.path.dirname(sys.executable)


def ansible_env() -> dict:
    return {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
            "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".collections"), "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_STDOUT_CALLBACK": "default"}


def run_module(name: str, args: dict, tmp_path) -> dict:
    """Run plugins/modules/<name>.py as a plain module (AnsibleModule, no action plugin)."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, ".collections")}
    done = subprocess.run([sys.executable, "-m", f"ansible_collections.escalator.swim.plugins.modules.{name}",
                           str(args_file)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    return json.loads(done.stdout)


def test_playbook_validates_resolves_and_serial_reproduces_the_batches():
    done = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "inventory.yml", "campaign.yml"],
                          capture_output=True, text=True, env=ansible_env(), cwd=FILES, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    batches = [line.split('"BATCH ', 1)[1].rstrip('"') for line in done.stdout.splitlines() if '"BATCH ' in line]
    assert batches == ["0 lab-1", "1 olt-1", "2 olt-2,olt-3,olt-5", "3 olt-10"]
    assert "s3cret" not in done.stdout.split("TASK [Resolve with")[0]      # the failing validation shows no secret


def test_validate_plan_module_main(tmp_path):
    ok = run_module("validate_plan", {"path": EXAMPLE}, tmp_path)
    assert ok["valid"] is True and ok["problems"] == [] and ok["campaign_id"] == "olt-2-0-rollout"
    assert ok["msg"].endswith("campaign olt-2-0-rollout is valid offline (no inventory given)")
    bad = plan(images={"default": image(url="u:pw@images.example.net/x.img", sha="x")})  # scheme forgotten
    failed = run_module("validate_plan", {"plan": bad}, tmp_path)
    assert failed["failed"] is True and failed["valid"] is False and len(failed["problems"]) == 2
    assert "pw" not in failed["msg"] and failed["msg"].startswith("campaign plan has 2 problem(s):\n- ")
    missing = run_module("validate_plan", {"path": str(tmp_path / "nope.yml")}, tmp_path)
    assert missing["failed"] and missing["problems"][0].startswith("path: cannot read the plan")
    both = run_module("validate_plan", {"path": EXAMPLE, "plan": {}}, tmp_path)
    assert both["failed"] and "mutually exclusive" in both["msg"]


def test_resolve_plan_module_main(tmp_path):
    groups = {"olts": ["olt-1", "olt-2", "olt-3"]}
    result = run_module("resolve_plan", {"plan": plan({"group": "olts", "batch": {"size": 2}}), "groups": groups,
                                         "current_versions": {"olt-3": "2.0.0"}}, tmp_path)
    assert result["changed"] is False and result["serial"] == [2]
    assert result["skipped_hosts"][0]["host"] == "olt-3" and "skipped" not in result
    assert result["msg"] == "campaign test-campaign: 2 host(s) in 1 batch(es) over 1 step(s), 1 skipped"
    down = run_module("resolve_plan", {"plan": plan({"group": "olts", "batch": {"size": 2}}), "groups": groups,
                                       "unavailable": ["olt-1"]}, tmp_path)
    assert down["batches"][0]["hosts"] == ["olt-2", "olt-3"] and down["skipped_hosts"][0]["cause"] == "unavailable"
    no_groups = run_module("resolve_plan", {"plan": plan()}, tmp_path)
    assert no_groups["failed"] and "groups is required" in no_groups["msg"]


def test_filters():
    filters = FilterModule().filters()
    document = plan({"group": "olts", "batch": {"size": 2}})
    assert filters["campaign_problems"](document) == []
    assert filters["campaign_problems"](document, {"x": []}) == [
        "campaign.groups[0].group: unknown inventory group 'olts'"]
    batches = filters["campaign_batches"](document, {"olts": ["a", "b", "c"]})
    assert [b["hosts"] for b in batches] == [["a", "b"], ["c"]]
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match="1 problem"):
        filters["campaign_resolve"](document, {"x": []})


def test_status_row_filters():
    filters = FilterModule().filters()

    def row(device, outcome, batch=None, **stages):
        return {"device": device, "outcome": outcome, "batch": batch,
                "stages": {name: {"state": state} for name, state in stages.items()}}

    rows = [row("up", "upgraded", 0, precheck="ok", activate="ok", postcheck="ok"),
            row("failed", "failed", 1, precheck="ok", activate="failed", rollback="skipped"),
            row("pre", "failed", None, precheck="failed"),
            row("half", "in_progress", 1, precheck="ok", activate="running"),
            row("held", "skipped", None, precheck="ok", verify="skipped"),
            row("back", "rolled_back", 0, precheck="ok", activate="ok", rollback="ok"),
            row("late", "upgraded", 2, precheck="ok", activate="ok", postcheck="ok"),
            row("late2", "upgraded", 2, precheck="ok", activate="ok", postcheck="ok"),
            # the controller stopped while this device was being reverted
            row("reverting", "in_progress", 1, precheck="ok", activate="ok", postcheck="failed", rollback="running")]
    assert filters["campaign_finished"](rows) == ["up", "failed", "back", "late", "late2"]
    assert filters["campaign_finished"](rows, True) == ["up", "back", "late", "late2"]
    # activated and not rolled back, last batch first (an interrupted revert is finished by the rollback)
    assert filters["campaign_rollback_order"](rows) == [["late", "late2"], ["half", "reverting"], ["up"]]
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError):
        filters["campaign_finished"]("nope")


@pytest.mark.parametrize("kind, name", [("module", "validate_plan"), ("module", "resolve_plan"),
                                        ("filter", "campaign_problems"), ("filter", "campaign_resolve"),
                                        ("filter", "campaign_batches"), ("filter", "campaign_finished"),
                                        ("filter", "campaign_rollback_order")])
def test_documentation_renders(kind, name):
    done = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", kind, f"escalator.swim.{name}"],
                          capture_output=True, text=True, env=ansible_env(), cwd=ROOT, timeout=120)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    assert f"escalator.swim.{name}" in done.stdout and "EXAMPLES" in done.stdout


@pytest.mark.parametrize("name, spec", [("validate_plan", VALIDATE_SPEC), ("resolve_plan", RESOLVE_SPEC)])
def test_documented_options_match_the_argument_spec(name, spec):
    with open(os.path.join(ROOT, "plugins", "modules", f"{name}.py"), encoding="utf-8") as handle:
        source = handle.read()
    options = yaml.safe_load(source.split('DOCUMENTATION = r"""')[1].split('"""')[0])["options"]
    assert set(options) == set(spec)
    for option, rules in spec.items():
        assert (options[option].get("type"), options[option].get("elements")) == (rules["type"], rules.get("elements"))
