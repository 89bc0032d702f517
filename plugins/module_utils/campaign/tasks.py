# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The validate_plan and resolve_plan tasks: argument specs and result shaping, for both runners.

PRIVATE to the collection. The controller-side action plugins (``plugins/action/*_plan.py``) and
the modules' own ``main()`` share this, so a task gives the same result whichever runs it. Only
``msg`` and ``problems`` are meant for humans: they never hold URL credentials. The resolved
images keep their real ``url`` (the device needs it) next to ``url_redacted``.
"""

from __future__ import annotations

import typing as t

from .preflight import verify_images as preflight_images
from .resolve import PlanError, resolve
from .validate import check, validate

PLAN_SPEC = {"plan": {"type": "dict"}, "path": {"type": "path"}}
PLAN_RULES = {"mutually_exclusive": [["plan", "path"]], "required_one_of": [["plan", "path"]]}
VALIDATE_SPEC = {**PLAN_SPEC, "inventory_groups": {"type": "dict"}, "hostvars": {"type": "dict"},
                 "verify_images": {"type": "bool", "default": False}}
RESOLVE_SPEC = {**PLAN_SPEC, "groups": {"type": "dict"}, "hostvars": {"type": "dict"},
                "current_versions": {"type": "dict"}, "unavailable": {"type": "list", "elements": "str"},
                "finished": {"type": "list", "elements": "str"}}
# How many problems `msg` spells out; `problems` always has them all.
MSG_PROBLEMS = 20


def read_plan(path: str) -> t.Any:
    """The plan document in the YAML file *path* (module runner; the action plugin uses Ansible's loader)."""
    try:
        import yaml
    except ImportError:       # pragma: no cover - PyYAML comes with ansible-core on the controller
        raise PlanError(["path: reading a plan file needs PyYAML on the host running the module"])
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError([f"path: cannot read the plan {path}: {exc}"])


def plan_host_vars(document: t.Any) -> list[str]:
    """Host variables a (valid) plan reads: what the action plugin collects from the inventory."""
    plan = check(document)[0]
    return plan.host_vars() if plan is not None else []


def _failure(problems: list[str], source: str) -> dict:
    # One problem per line: `msg` reads as a list in a terminal or an AWX job log (the collection's
    # playbooks also print `problems` as a list).
    shown = "".join(f"\n- {problem}" for problem in problems[:MSG_PROBLEMS])
    more = f"\n(and {len(problems) - MSG_PROBLEMS} more, see problems)" if len(problems) > MSG_PROBLEMS else ""
    return {"failed": True, "changed": False, "valid": False, "problems": problems,
            "msg": f"{source} has {len(problems)} problem(s):{shown}{more}"}


def _preflight_summary(plan, checks: list) -> str:
    if not plan.preflight.images:
        return "; image preflight off (campaign.preflight.images: false): the devices check the images"
    verified = [check["image"] for check in checks if check["verified"]]
    left = [f"{check['image']} ({check['note']})" for check in checks if check["note"]]
    return f"; {len(verified)} image(s) verified on the controller (size, sha256)" + \
        (f", left to the devices: {', '.join(left)}" if left else "")


def validate_task(document: t.Any, inventory_groups: t.Any = None, hostvars: t.Any = None,
                  source: str = "campaign plan", verify_images: bool = False, opener: t.Any = None) -> dict:
    """*verify_images*: also run the image preflight (only on a plan with no other problem: its images are
    then known to be well formed). *opener*: ``open_url`` replacement for the unit tests."""
    problems = validate(document, inventory_groups, hostvars)
    if problems:
        return _failure(problems, source)
    plan = check(document)[0]
    scope = "on the inventory" if inventory_groups is not None else "offline (no inventory given)"
    result = {"changed": False, "valid": True, "problems": [], "campaign_id": plan.id,
              "steps": [step.name for step in plan.steps], "host_vars": plan.host_vars(),
              "msg": f"{source}: campaign {plan.id} is valid {scope}"}
    if verify_images:
        checks = [check.as_dict() for check in (preflight_images(plan, opener) if opener else preflight_images(plan))]
        failed = [check["problem"] for check in checks if check["problem"]]
        if failed:
            return dict(_failure(failed, source), images=checks)
        result.update(images=checks, msg=result["msg"] + _preflight_summary(plan, checks))
    return result


def resolve_task(document: t.Any, groups: t.Any, hostvars: t.Any = None, current_versions: t.Any = None,
                 unavailable: t.Any = None, source: str = "campaign plan", finished: t.Any = None) -> dict:
    try:
        result = resolve(document, groups, hostvars, current_versions, unavailable, finished)
    except PlanError as error:
        return _failure(error.problems, source)
    hosts = len(result["host_batch"])
    steps = sum(1 for step in result["steps"] if step["batches"])
    result.update(changed=False, valid=True, problems=[],
                  msg=f"campaign {result['campaign']['id']}: {hosts} host(s) in {len(result['batches'])} batch(es) "
                      f"over {steps} step(s), {len(result['skipped_hosts'])} skipped")
    return result
