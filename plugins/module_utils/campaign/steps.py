# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""The ``groups`` section of a plan: ordered steps, their selectors, batch sizes and dependencies.

PRIVATE to the collection. Steps run one after another (never in parallel), in the order written
unless ``depends_on`` moves one later: see :func:`execution_order`.
"""

from __future__ import annotations

import difflib
import heapq
import typing as t
from collections.abc import Mapping

from . import schema as s
from .checks import Problems, check_timeouts, join, kind, mapping, size, string_list, text
from .patterns import pattern_problems

STEP_KEYS = ("name", "group", "selector", "depends_on", "batch", "canary", "image", "timeouts")


def check_selector(value: t.Any, path: str, problems: Problems) -> s.Selector | None:
    data = mapping(value, path, problems, ("limit", "var", "equals", "in"))
    if data is None:
        return None
    before = len(problems.items)
    limit = None
    if "limit" in data:
        limit = text(data["limit"], join(path, "limit"), problems, max_len=4096)
        for problem in pattern_problems(limit) if limit is not None else ():
            problems.add(join(path, "limit"), problem)
    var, values = None, ()
    if "var" in data:
        var = text(data["var"], join(path, "var"), problems)
        if var is not None and not s.VAR_NAME.match(var):
            problems.add(join(path, "var"), f"{var!r} is not a valid variable name")
        if ("equals" in data) == ("in" in data):
            problems.add(path, "with var, give exactly one of equals or in")
        elif "equals" in data:
            values = (data["equals"],)
        elif not isinstance(data["in"], list) or not data["in"]:
            problems.add(join(path, "in"), f"must be a non-empty list, got {kind(data['in'])}")
        else:
            values = tuple(data["in"])
        for index, item in enumerate(values):
            if not isinstance(item, (str, int, float, bool)):
                where = join(path, "equals") if "equals" in data else join(join(path, "in"), index)
                problems.add(where, f"must be a string, number or boolean, got {kind(item)}")
    elif "equals" in data or "in" in data:
        problems.add(join(path, "var"), "is required with equals or in")
    if not any(key in data for key in ("limit", "var", "equals", "in")):
        problems.add(path, "needs limit and/or var")
    if len(problems.items) > before:
        return None
    return s.Selector(limit=limit, var=var, values=values)


def _image_key(data: Mapping, path: str, problems: Problems, images: Mapping) -> str | None:
    """Which entry of ``images`` the step installs: its own ``image``, its group's, else ``default``."""
    if "image" in data:
        key = text(data["image"], join(path, "image"), problems)
        if key is not None and key not in images:
            problems.add(join(path, "image"), f"no image {key!r} in campaign.images")
            return None
        return key
    group = data.get("group")
    if isinstance(group, str) and group in images:
        return group
    if s.DEFAULT_IMAGE in images:
        return s.DEFAULT_IMAGE
    if isinstance(group, str) and images:
        problems.add(path, f"no image for group {group!r}: add campaign.images.{group} or campaign.images.default")
    return None


def _check_step(data: Mapping, path: str, problems: Problems, images: Mapping, timeouts: dict) -> s.Step | None:
    before = len(problems.items)
    group = text(data["group"], join(path, "group"), problems) if "group" in data else None
    name = group
    if "name" in data:
        name = text(data["name"], join(path, "name"), problems, max_len=128)
    if name is not None and not s.STEP_NAME.match(name):
        problems.add(join(path, "name" if "name" in data else "group"),
                     f"{name!r} cannot name a step: use letters, digits, _, . and - (or set name)")
    selector = check_selector(data["selector"], join(path, "selector"), problems) if "selector" in data else None
    batch = s.Size(count=1)
    if "batch" in data:
        batch_data = mapping(data["batch"], join(path, "batch"), problems, ("size",), ("size",))
        if batch_data and "size" in batch_data:
            batch = size(batch_data["size"], join(join(path, "batch"), "size"), problems, allow_zero=False) or batch
    canary = None
    if data.get("canary") is not None:
        canary = size(data["canary"], join(path, "canary"), problems, allow_zero=True)
        if canary is not None and canary.count == 0:
            canary = None
    step_timeouts = check_timeouts(data.get("timeouts"), join(path, "timeouts"), problems, timeouts)
    depends_on = string_list(data.get("depends_on"), join(path, "depends_on"), problems)
    image = _image_key(data, path, problems, images)
    if len(problems.items) > before or group is None or name is None or image is None:
        return None
    return s.Step(name=name, group=group, image=image, batch=batch, canary=canary, selector=selector,
                  depends_on=tuple(dict.fromkeys(depends_on)), timeouts=step_timeouts)


def check_steps(value: t.Any, path: str, problems: Problems, images: Mapping, timeouts: dict) -> tuple[s.Step, ...]:
    if not isinstance(value, list) or not value:
        problems.add(path, f"must be a non-empty list of steps, got {kind(value)}"
                     + (" without entries" if isinstance(value, list) else ""))
        return ()
    steps, names, used_images = [], {}, set()
    raw_deps: list[tuple[str, str, t.Any]] = []
    for index, item in enumerate(value):
        where = join(path, index)
        data = mapping(item, where, problems, STEP_KEYS, ("group",))
        if data is None:
            continue
        step = _check_step(data, where, problems, images, timeouts)
        name = data.get("name", data.get("group"))
        if isinstance(name, str):
            if name in names:
                problems.add(join(where, "name"), f"duplicate step name {name!r} (also {names[name]}); "
                                                  "steps of the same group need distinct names")
            else:
                names[name] = where
            raw_deps.append((where, name, data.get("depends_on")))
        if isinstance(data.get("image"), str):
            used_images.add(data["image"])
        elif isinstance(data.get("group"), str):
            used_images.add(data["group"])
        if step is not None:
            steps.append(step)
    for key in images:
        if key != s.DEFAULT_IMAGE and key not in used_images:
            problems.add(join("campaign.images", key), f"no step installs this image: no step of group {key!r} "
                                                       "and no step names it in image (misspelt group?)")
    _check_dependencies(raw_deps, path, problems, list(names))
    return tuple(steps)


def _check_dependencies(raw_deps: list, path: str, problems: Problems, names: list[str]) -> None:
    graph: dict[str, set[str]] = {name: set() for name in names}
    for where, name, deps in raw_deps:
        if isinstance(deps, str):
            deps = [deps]
        if not isinstance(deps, list):
            continue
        for index, dep in enumerate(deps):
            if not isinstance(dep, str):
                continue
            if dep == name:
                problems.add(join(join(where, "depends_on"), index), f"step {name!r} depends on itself")
            elif dep not in graph:
                close = difflib.get_close_matches(dep, names, n=1)
                problems.add(join(join(where, "depends_on"), index),
                             f"unknown step {dep!r}" + (f" (did you mean {close[0]}?)" if close else ""))
            else:
                graph[name].add(dep)
    for cycle in cycles(graph, names):
        problems.add(path, f"dependency cycle between steps {', '.join(cycle)}")


def _reachable(graph: Mapping[str, t.Iterable[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def cycles(graph: Mapping[str, t.Iterable[str]], order: list[str]) -> list[list[str]]:
    """Groups of steps that depend on each other (strongly connected, 2+ steps), in declaration order."""
    reach = {name: _reachable(graph, name) for name in order}
    found, placed = [], set()
    for name in order:
        if name in placed or name not in reach[name]:
            continue
        members = [other for other in order if other in reach[name] and name in reach[other]]
        placed.update(members)
        found.append(members)
    return found


def execution_order(steps: t.Sequence[s.Step]) -> list[s.Step]:
    """Steps in the order they run: as written, except that a step waits for every step it depends on.

    Kahn's algorithm taking, among the ready steps, the one written first: a plan without
    ``depends_on`` runs exactly as written, and the result is deterministic. Needs an acyclic plan.
    """
    position = {step.name: index for index, step in enumerate(steps)}
    waiting = {step.name: set(step.depends_on) for step in steps}
    ready = [position[name] for name, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    ordered = []
    while ready:
        step = steps[heapq.heappop(ready)]
        ordered.append(step)
        for name, deps in waiting.items():
            if step.name in deps:
                deps.discard(step.name)
                if not deps:
                    heapq.heappush(ready, position[name])
    if len(ordered) != len(steps):
        raise ValueError("dependency cycle between steps")     # validation reports it before this is reached
    return ordered
