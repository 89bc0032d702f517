# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Resolution: a valid plan plus the inventory of the day (and device versions) give ordered batches.

PRIVATE to the collection. Deterministic: the same inputs always give the same batches, hosts
sorted by name. Guarantees (property-tested): every eligible host is in exactly one batch; no
batch holds more than ``max_down`` members of a redundancy group; a step's batches come after
those of every step it depends on.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from . import schema as s
from .inventory import Inventory, RedundancySet, check_inventory, natural_key, natural_sorted
from .split_notes import split_notes
from .steps import execution_order
from .validate import check


class PlanError(Exception):
    """The plan (or the inventory given with it) has problems; ``problems`` lists every one."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def active_version(value: t.Any) -> str | None:
    """A host's version from ``current_versions``: a string, or sw_version's result/facts (``active_version``)."""
    if isinstance(value, Mapping):
        value = value.get("active_version")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and value else None


def spread(hosts: list[str], first: int, size: int, limits: list[tuple[frozenset, int]],
           why: dict | None = None) -> list[list[str]]:
    """Hosts into batches of *size* (the first of *first*), each batch holding at most ``allowed`` of the
    ``members`` of every ``(members, allowed)`` in *limits* (a redundancy group and how many may go down).

    Greedy first fit, most constrained hosts first (those in the largest redundancy groups relative to
    what may be down), then by name: a host goes to the earliest batch with room for it, or opens a
    new one. An empty batch always has room (``allowed`` >= 1), so this always succeeds.
    *why*, when given, gets ``(host, batch index) -> "full" or the limit number`` for every batch a host was
    kept out of, as it was placed (split_notes.py explains the splits from it).
    """
    limits_of: dict[str, list[int]] = {host: [] for host in hosts}
    for number, (members, _limit) in enumerate(limits):
        for host in members:
            if host in limits_of:
                limits_of[host].append(number)
    pressure = {host: max((len(limits[n][0]) / limits[n][1] for n in limits_of[host]), default=0.0)
                for host in hosts}
    batches: list[list[str]] = []
    down: list[dict[int, int]] = []          # per batch: limit number -> members in the batch
    for host in sorted(hosts, key=lambda h: (-pressure[h], natural_key(h))):
        for index, batch in enumerate(batches):
            capacity = first if index == 0 and first else size
            reached = [n for n in limits_of[host] if down[index].get(n, 0) >= limits[n][1]]
            if len(batch) < capacity and not reached:
                break
            if why is not None:
                why[(host, index)] = "full" if len(batch) >= capacity else reached[0]
        else:
            batches.append([])
            down.append({})
            index = len(batches) - 1
        batches[index].append(host)
        for n in limits_of[host]:
            down[index][n] = down[index].get(n, 0) + 1
    return [natural_sorted(batch) for batch in batches]


def redundancy_limits(sets: list[RedundancySet], unavailable: set[str]) -> tuple[list[tuple[frozenset, int]], dict]:
    """How many members of each redundancy group a batch may take, given the members already down.

    A group whose *unavailable* members (failed precheck, unreachable) already use up its ``max_down``
    cannot lose another one: its other members are held back, ``{host: reason}``.
    """
    limits, held = [], {}
    for rset in sets:
        already = natural_sorted(rset.members & unavailable)
        allowed = rset.max_down - len(already)
        if allowed > 0:
            limits.append((rset.members, allowed))
            continue
        for host in rset.members - unavailable:
            held.setdefault(host, f"redundancy group {rset.label} already has {len(already)} member(s) down "
                                  f"({', '.join(already)}) and allows {rset.max_down}")
    return limits, held


def fail_percentage(threshold: s.Size, batch_size: int) -> float:
    """Ansible's ``max_fail_percentage`` giving up exactly when more than *threshold* hosts of a batch fail.

    Ansible stops when ``failed / batch_size > max_fail_percentage / 100``. A count c maps to the
    midpoint between c and c + 1 failures, safe from float rounding either way.
    """
    if threshold.percent is not None:
        return threshold.percent
    count = threshold.count or 0
    if count == 0:
        return 0
    if count >= batch_size:
        return 100
    return round((count + 0.5) * 100 / batch_size, 4)


def _pause_message(plan: s.Plan, index: int, step: s.Step, hosts: list[str]) -> str:
    return plan.coordination.message.format(index=index, step=step.name, group=step.group,
                                            hosts=", ".join(hosts), count=len(hosts))


def resolve_plan(plan: s.Plan, inventory: Inventory, current_versions: Mapping | None = None,
                 unavailable: t.Iterable[str] = (), finished: t.Iterable[str] = ()) -> dict:
    """The batches of a valid *plan* on *inventory* (see docs/campaign-plan.md, "Resolution")."""
    versions = current_versions or {}
    down = set(unavailable)
    done = set(finished) - down
    redundancy_sets = inventory.redundancy_sets(plan)
    limits, held = redundancy_limits(redundancy_sets, down)
    coordination = plan.coordination
    claimed: set[str] = set()
    batches, skipped, warnings, steps = [], [], [], []
    for step in execution_order(plan.steps):
        selected = inventory.select(step)
        mine = [host for host in selected if host not in claimed]
        claimed.update(mine)
        if not selected:
            warnings.append(f"step {step.name} selects no host of group {step.group}")
        elif not mine:
            warnings.append(f"step {step.name}: all its hosts belong to earlier steps")
        image = plan.images[step.image]
        eligible = []
        for host in mine:
            current = active_version(versions.get(host))
            if host in down:
                cause, reason = "unavailable", "unavailable (given in unavailable: failed precheck or unreachable)"
            elif host in done:
                cause, reason = "finished", "finished in an earlier run of this campaign (given in finished)"
            elif current == image.version:
                cause, reason = "on_target", f"already runs the target version {current}"
            elif host in held:
                cause, reason = "redundancy", held[host]
            else:
                eligible.append(host)
                continue
            skipped.append({"host": host, "step": step.name, "version": current, "cause": cause, "reason": reason})
        # Percentages are of the hosts the step selects, done or not, so resuming keeps the sizes.
        canary = step.canary.of(len(mine)) if step.canary is not None else 0
        first_index = len(batches)
        size = step.batch.of(len(mine))
        why: dict = {}
        for position, hosts in enumerate(spread(eligible, canary, size, limits, why)):
            index = len(batches)
            is_canary = position == 0 and canary > 0
            pause = (coordination.pause_before_each_batch or index in coordination.pause_before_batches
                     or (position == 0 and step.name in coordination.pause_before_steps)
                     or (position == 1 and canary > 0 and coordination.pause_after_canary))
            batches.append({
                "index": index, "step": step.name, "group": step.group, "hosts": hosts, "canary": is_canary,
                "pause_before": pause, "pause_message": _pause_message(plan, index, step, hosts) if pause else "",
                "image": image.as_dict(), "timeouts": dict(step.timeouts),
                "max_fail_percentage": fail_percentage(plan.recovery.threshold, len(hosts)),
                "notes": [],
            })
        split_notes(redundancy_sets, limits, why, batches[first_index:], size, canary)
        steps.append({"name": step.name, "group": step.group, "depends_on": list(step.depends_on),
                      "hosts": mine, "batches": list(range(first_index, len(batches)))})
    for index in coordination.pause_before_batches:
        if index >= len(batches):
            warnings.append(f"coordination.pause_before_batches: there is no batch {index} "
                            f"(batches are numbered 0 to {len(batches) - 1})")
    host_batch = {host: batch["index"] for batch in batches for host in batch["hosts"]}
    return {
        "campaign": {"id": plan.id, "description": plan.description, "expected_duration": plan.expected_duration},
        "batches": batches,
        "skipped_hosts": sorted(skipped, key=lambda item: natural_key(item["host"])),
        "steps": steps,
        "host_batch": host_batch,
        "hosts_in_order": [host for batch in batches for host in batch["hosts"]],
        "image_for": {host: batches[index]["image"] for host, index in host_batch.items()},
        "serial": [len(batch["hosts"]) for batch in batches],
        "max_fail_percentage": min((batch["max_fail_percentage"] for batch in batches),
                                   default=fail_percentage(plan.recovery.threshold, 1)),
        "timeouts": {step.name: dict(step.timeouts) for step in plan.steps},
        "expected_duration": plan.expected_duration,
        "verification": dict(plan.verification),
        "recovery": {"policy": plan.recovery.policy, "failure_threshold": plan.recovery.threshold.as_data(),
                     "continue_after_failure": plan.recovery.policy == "revert_device",
                     "rollback_campaign": plan.recovery.policy == "rollback_campaign"},
        "warnings": warnings,
        # Per host, its redundancy groups: the campaign holds a host back while partners are down (facts).
        "redundancy": {host: [{"group": rset.label, "members": natural_sorted(rset.members), "max_down": rset.max_down}
                              for rset in redundancy_sets if host in rset.members]
                       for host in sorted(set().union(*(rset.members for rset in redundancy_sets)))},
    }


def resolve(document: t.Any, groups: t.Any, hostvars: t.Any = None, current_versions: t.Any = None,
            unavailable: t.Any = None, finished: t.Any = None, *, groups_label: str = "groups") -> dict:
    """Validate *document* against the inventory, then resolve it; raises :class:`PlanError` listing
    every problem of the plan, of the inventory data and of the plan on that inventory."""
    plan, problems = check(document)
    inventory, inventory_problems = Inventory.build(groups, hostvars, label=groups_label)
    problems = problems + inventory_problems
    if current_versions is not None and not isinstance(current_versions, Mapping):
        problems.append("current_versions: must be a mapping of host to its active version")
    for name, hosts in (("unavailable", unavailable), ("finished", finished)):
        if hosts is not None and (not isinstance(hosts, (list, tuple, set, frozenset))
                                  or not all(isinstance(host, str) for host in hosts)):
            problems.append(f"{name}: must be a list of host names")
    if plan is not None and inventory is not None:
        problems += check_inventory(plan, inventory)
    if problems:
        raise PlanError(problems)
    return resolve_plan(plan, inventory, current_versions, unavailable or (), finished or ())
