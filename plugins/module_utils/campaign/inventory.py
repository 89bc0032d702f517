# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""A plan meets an inventory: which hosts each step selects, which hosts are redundant with which.

PRIVATE to the collection. The inventory is plain data (Ansible's ``groups`` and a subset of
``hostvars``), so this works on the controller, in a module and in tests alike.
"""

from __future__ import annotations

import difflib
import json
import re
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

from . import schema as s
from .patterns import match


def natural_key(name: str) -> tuple:
    """Sort key: ``olt-2`` before ``olt-10``; ties (``olt-01``/``olt-1``) broken by the plain name."""
    parts = re.split(r"(\d+)", name)
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts)), name


def natural_sorted(names: t.Iterable[str]) -> list[str]:
    return sorted(names, key=natural_key)


def _label(value: t.Any) -> str:
    """A hashable, printable form of a host var value (lists and dicts compare by content)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class RedundancySet:
    """Hosts of one redundancy group (for a ``var`` group: those sharing one value)."""

    label: str
    members: frozenset
    max_down: int
    where: str          # path of the redundancy group in the plan


class Inventory:
    def __init__(self, groups: dict[str, list[str]], hostvars: dict[str, Mapping] | None):
        self.groups = groups
        self.hostvars = hostvars
        self.hosts = natural_sorted({host for members in groups.values() for host in members})
        self._groups_of: dict[str, list[str]] = {}
        for group, members in groups.items():
            for host in members:
                self._groups_of.setdefault(host, []).append(group)

    @classmethod
    def build(cls, groups: t.Any, hostvars: t.Any = None, *, label: str = "inventory_groups",
              hostvars_label: str = "hostvars") -> tuple[Inventory | None, list[str]]:
        """An inventory from ``{group: [hosts]}`` and ``{host: {var: value}}``, or None and why not."""
        problems = []
        clean: dict[str, list[str]] = {}
        if not isinstance(groups, Mapping):
            return None, [f"{label}: must be a mapping of inventory group to list of hosts"]
        for group, members in groups.items():
            if not isinstance(group, str) or not isinstance(members, (list, tuple)) \
                    or not all(isinstance(host, str) and host for host in members):
                problems.append(f"{label}[{group!r}]: must be a list of host names")
                continue
            clean[group] = list(dict.fromkeys(members))
        clean_vars = None
        if hostvars is not None:
            if not isinstance(hostvars, Mapping):
                problems.append(f"{hostvars_label}: must be a mapping of host to its variables")
            else:
                clean_vars = {}
                for host, variables in hostvars.items():
                    if not isinstance(variables, Mapping):
                        problems.append(f"{hostvars_label}[{host!r}]: must be a mapping of variables")
                    else:
                        clean_vars[host] = variables
        return (None if problems else cls(clean, clean_vars)), problems

    def groups_of(self, host: str) -> list[str]:
        return self._groups_of.get(host, [])

    def var(self, host: str, name: str) -> t.Any:
        return (self.hostvars or {}).get(host, {}).get(name)

    def select(self, step: s.Step) -> list[str]:
        """Hosts of the step's group that its selector keeps, sorted."""
        hosts = self.groups.get(step.group, [])
        selector = step.selector
        if selector is not None and selector.limit is not None:
            chosen = match(selector.limit, hosts, self.groups_of)
            hosts = [host for host in hosts if host in chosen]
        if selector is not None and selector.var is not None:
            hosts = [host for host in hosts if any(self._equal(self.var(host, selector.var), value)
                                                   for value in selector.values)]
        return natural_sorted(hosts)

    @staticmethod
    def _equal(actual: t.Any, wanted: t.Any) -> bool:
        # True == 1 in Python: `equals: true` must not select a host whose variable is 1, nor the reverse.
        if isinstance(actual, bool) or isinstance(wanted, bool):
            return isinstance(actual, bool) and isinstance(wanted, bool) and actual == wanted
        return actual == wanted

    def redundancy_sets(self, plan: s.Plan) -> list[RedundancySet]:
        sets = []
        for index, group in enumerate(plan.redundancy_groups):
            where = f"campaign.redundancy_groups[{index}]"
            if group.var is not None:
                by_value: dict[str, set[str]] = {}
                for host in self.hosts:
                    value = self.var(host, group.var)
                    if value is not None and value != "":
                        by_value.setdefault(_label(value), set()).add(host)
                for value in sorted(by_value):
                    sets.append(RedundancySet(f"{group.name} ({group.var}={value})", frozenset(by_value[value]),
                                              group.max_down, where))
            else:
                members = {host for name in group.groups for host in self.groups.get(name, [])}
                sets.append(RedundancySet(group.name, frozenset(members), group.max_down, where))
        return sets


def _unknown_group(name: str, inventory: Inventory) -> str:
    close = difflib.get_close_matches(name, list(inventory.groups), n=1)
    return f"unknown inventory group {name!r}" + (f" (did you mean {close[0]}?)" if close else "")


def check_inventory(plan: s.Plan, inventory: Inventory) -> list[str]:
    """Problems of a valid *plan* on *inventory*; redundancy checks need the host variables."""
    problems = []
    for index, step in enumerate(plan.steps):
        if step.group not in inventory.groups:
            problems.append(f"campaign.groups[{index}].group: {_unknown_group(step.group, inventory)}")
    for index, group in enumerate(plan.redundancy_groups):
        for position, name in enumerate(group.groups):
            if name not in inventory.groups:
                problems.append(f"campaign.redundancy_groups[{index}].groups[{position}]: "
                                f"{_unknown_group(name, inventory)}")
    needed = plan.host_vars()
    if needed and inventory.hostvars is None:
        problems.append(f"hostvars: needed to apply the plan's selectors and redundancy groups "
                        f"(host variables {', '.join(needed)})")
        return problems
    in_campaign = {host for step in plan.steps for host in inventory.select(step)}
    for index, group in enumerate(plan.redundancy_groups):
        if group.var is not None and not any(inventory.var(host, group.var) not in (None, "")
                                             for host in inventory.hosts):
            problems.append(f"campaign.redundancy_groups[{index}].var: no host of the inventory sets {group.var} "
                            "(misspelt? without it no host is protected)")
    for rset in inventory.redundancy_sets(plan):
        upgraded = rset.members & in_campaign
        if upgraded and len(rset.members) <= rset.max_down:
            problems.append(f"{rset.where}: redundancy group {rset.label} has {len(rset.members)} member(s) "
                            f"({', '.join(natural_sorted(rset.members))}) and max_down {rset.max_down}: any batch "
                            "holding them takes the whole group down (add its partner, or drop the host var)")
    return problems
