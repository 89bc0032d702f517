"""Property tests: the guarantees of validation and resolution, on generated plans and inventories."""

from __future__ import annotations

import copy

from campaign_plans import SHA_A, example
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.escalator.swim.plugins.module_utils.campaign.inventory import Inventory
from ansible_collections.escalator.swim.plugins.module_utils.campaign.resolve import PlanError, resolve, resolve_plan
from ansible_collections.escalator.swim.plugins.module_utils.campaign.validate import check, validate

GROUPS = ["g0", "g1", "g2", "g3"]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def inventories(draw):
    hosts = [f"h{i}" for i in range(draw(st.integers(0, 25)))]
    groups = {group: sorted(draw(st.sets(st.sampled_from(hosts)))) if hosts else [] for group in GROUPS}
    hostvars = {}
    for host in hosts:
        variables = {}
        if draw(st.booleans()):
            variables["pair"] = draw(st.sampled_from(["p0", "p1", "p2", "p3", 4, ["x"]]))
        if draw(st.booleans()):
            variables["region"] = draw(st.sampled_from(["north", "south"]))
        hostvars[host] = variables
    versions = {host: draw(st.sampled_from(["1.0", "2.0"])) for host in hosts if draw(st.booleans())}
    unavailable = sorted(draw(st.sets(st.sampled_from(hosts), max_size=3))) if hosts else []
    return {"all": hosts, **groups}, hostvars, versions, unavailable


sizes = st.one_of(st.integers(1, 6), st.integers(1, 100).map(lambda p: f"{p}%"))


@st.composite
def plans(draw):
    count = draw(st.integers(1, 5))
    steps = []
    for index in range(count):
        step = {"name": f"s{index}", "group": draw(st.sampled_from(GROUPS)), "batch": {"size": draw(sizes)}}
        earlier = [f"s{i}" for i in range(index)]
        if earlier:
            step["depends_on"] = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2))
        if draw(st.booleans()):
            step["canary"] = draw(st.one_of(st.integers(0, 3), st.integers(1, 50).map(lambda p: f"{p}%")))
        selector = draw(st.sampled_from([None, {"var": "region", "equals": "north"}, {"limit": "h1*,!h12"},
                                         {"limit": "~h[0-9]$"}]))
        if selector:
            step["selector"] = selector
        steps.append(step)
    # Steps written in any order: depends_on (on "earlier" names) then decides the real order.
    steps = draw(st.permutations(steps))
    redundancy = []
    if draw(st.booleans()):
        redundancy.append({"name": "pairs", "var": "pair", "max_down": draw(st.integers(1, 2))})
    if draw(st.booleans()):
        redundancy.append({"name": "core", "groups": draw(st.lists(st.sampled_from(GROUPS), min_size=1,
                                                                   max_size=2, unique=True)),
                           "max_down": draw(st.integers(1, 3))})
    return {"campaign": {"id": "prop", "images": {"default": {"name": "n", "version": "2.0", "url": "http://h/i",
                                                              "sha256": SHA_A}},
                         "groups": list(steps), "redundancy_groups": redundancy,
                         "recovery": {"failure_threshold": draw(st.one_of(st.integers(0, 3), sizes))}}}


def resolved(document, inventory_data):
    groups, hostvars, versions, unavailable = inventory_data
    plan, problems = check(document)
    assert problems == []
    inventory, problems = Inventory.build(groups, hostvars)
    assert problems == []
    return plan, inventory, resolve_plan(plan, inventory, versions, unavailable)


@SETTINGS
@given(plans(), inventories())
def test_no_batch_holds_more_than_max_down_of_a_redundancy_group(document, inventory_data):
    plan, inventory, result = resolved(document, inventory_data)
    unavailable = set(inventory_data[3])
    for rset in inventory.redundancy_sets(plan):
        for batch in result["batches"]:
            # Members already down (unavailable) count against max_down in every batch.
            down = rset.members & (set(batch["hosts"]) | unavailable)
            assert len(down) <= rset.max_down or not rset.members & set(batch["hosts"]), (rset, batch)


@SETTINGS
@given(plans(), inventories())
def test_every_eligible_host_is_in_exactly_one_batch(document, inventory_data):
    plan, inventory, result = resolved(document, inventory_data)
    versions, unavailable = inventory_data[2], set(inventory_data[3])
    selected = {host for step in plan.steps for host in inventory.select(step)}
    in_batches = [host for batch in result["batches"] for host in batch["hosts"]]
    skipped = {item["host"]: item["cause"] for item in result["skipped_hosts"]}
    assert len(in_batches) == len(set(in_batches)) and len(skipped) == len(result["skipped_hosts"])
    assert set(in_batches) | set(skipped) == selected and not set(in_batches) & set(skipped)
    assert {h for h, cause in skipped.items() if cause == "unavailable"} == selected & unavailable
    assert all(versions.get(h) == "2.0" for h, cause in skipped.items() if cause == "on_target")
    assert all(versions.get(host) != "2.0" and host not in unavailable for host in in_batches)
    # A host is held back for redundancy only when its group has no room left at all.
    sets = inventory.redundancy_sets(plan)
    for host in (h for h, cause in skipped.items() if cause == "redundancy"):
        assert any(host in r.members and len(r.members & unavailable) >= r.max_down for r in sets)
    assert result["hosts_in_order"] == in_batches
    assert result["serial"] == [len(batch["hosts"]) for batch in result["batches"]]
    assert result["host_batch"] == {host: b["index"] for b in result["batches"] for host in b["hosts"]}
    assert all(batch["hosts"] for batch in result["batches"])


@SETTINGS
@given(plans(), inventories())
def test_batches_respect_dependencies_and_sizes(document, inventory_data):
    plan, inventory, result = resolved(document, inventory_data)
    indices = {step["name"]: step["batches"] for step in result["steps"]}
    for step in plan.steps:
        for dependency in step.depends_on:
            if indices[step.name] and indices[dependency]:
                assert max(indices[dependency]) < min(indices[step.name])
        # A step's batches are consecutive, and only its first can be a canary.
        assert indices[step.name] == list(range(indices[step.name][0], indices[step.name][-1] + 1)) \
            if indices[step.name] else True
        total = len(next(s for s in result["steps"] if s["name"] == step.name)["hosts"])
        for position, index in enumerate(indices[step.name]):
            batch = result["batches"][index]
            assert batch["canary"] == (position == 0 and step.canary is not None and step.canary.of(total) > 0)
            limit = step.canary.of(total) if batch["canary"] else step.batch.of(total)
            assert len(batch["hosts"]) <= limit


@SETTINGS
@given(plans(), inventories())
def test_resolution_is_deterministic(document, inventory_data):
    assert resolved(document, inventory_data)[2] == resolved(copy.deepcopy(document), inventory_data)[2]


@SETTINGS
@given(plans(), inventories())
def test_resolve_either_returns_or_lists_problems(document, inventory_data):
    groups, hostvars, versions, unavailable = inventory_data
    try:
        result = resolve(document, groups, hostvars, versions, unavailable)
    except PlanError as error:
        assert error.problems and validate(document, groups, hostvars) == error.problems
    else:
        assert validate(document, groups, hostvars) == [] and isinstance(result["batches"], list)


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8) | st.integers(), children,
                                                                      max_size=4),
    max_leaves=20)


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, prefix + (index,))


EXAMPLE_PATHS = list(paths(example()))


# Values a careless edit could leave in a plan: often still valid there, or nearly so.
plausible = st.sampled_from([0, 1, 2, 5, -1, 2.5, "50%", "0%", "100%", "olts", "olts_lab", "north", "lab", True, False,
                             None, [], {}, "15m", ["lab"], ["north"], ["south"], "x", {"size": 3}, {"limit": "olt*"}])


@st.composite
def damaged_plans(draw, values=junk, edits=4):
    """The example plan with a few values (anywhere, the whole plan included) replaced by *values*."""
    document = example()
    for path in draw(st.lists(st.sampled_from(EXAMPLE_PATHS), min_size=1, max_size=edits)):
        if not path:
            return draw(values)
        parent = document
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = draw(values)
        except (KeyError, IndexError, TypeError):
            pass            # an earlier replacement removed this path
    return document


@SETTINGS
@given(st.one_of(junk, damaged_plans()), st.one_of(st.none(), junk, st.just({"olts": ["a"]})),
       st.one_of(st.none(), junk))
def test_validation_never_raises_and_always_explains(document, groups, hostvars):
    problems = validate(document, groups, hostvars)
    assert isinstance(problems, list) and all(isinstance(p, str) and ": " in p for p in problems)
    plan, offline = check(document)
    assert (plan is None) == bool(offline)
    assert problems[:len(offline)] == offline


@settings(SETTINGS, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(damaged_plans(plausible, edits=1))
def test_whatever_validation_accepts_resolves(document):
    plan, problems = check(document)
    assume(plan is not None)
    names = {step.group for step in plan.steps} | {g for r in plan.redundancy_groups for g in r.groups}
    groups = {name: [f"{name}-1", f"{name}-2", f"{name}-3"] for name in names}
    hostvars = {host: {var: "v" for var in plan.host_vars()} for hosts in groups.values() for host in hosts}
    inventory, problems = Inventory.build(groups, hostvars)
    result = resolve_plan(plan, inventory, {})
    assert {h for b in result["batches"] for h in b["hosts"]} <= {h for hosts in groups.values() for h in hosts}


@SETTINGS
@given(st.one_of(junk, damaged_plans()), st.one_of(junk, inventories().map(lambda data: data[0])),
       st.one_of(st.none(), junk), st.one_of(st.none(), junk), st.one_of(st.none(), junk))
def test_resolve_only_ever_raises_plan_errors(document, groups, hostvars, versions, unavailable):
    try:
        result = resolve(document, groups, hostvars, versions, unavailable)
    except PlanError as error:
        assert error.problems and all(isinstance(p, str) for p in error.problems)
    else:
        assert isinstance(result["batches"], list)

