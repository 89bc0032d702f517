"""Resolution of a plan on an inventory into ordered batches."""

from __future__ import annotations

import pytest
from campaign_plans import example, fleet, image, plan

from ansible_collections.escalator.swim.plugins.module_utils.campaign import schema
from ansible_collections.escalator.swim.plugins.module_utils.campaign.resolve import (
    PlanError, fail_percentage, resolve,
)


def hosts_of(result):
    return [batch["hosts"] for batch in result["batches"]]


def test_batches_by_count_in_natural_host_order():
    groups = {"olts": ["olt-10", "olt-2", "olt-1", "olt-3", "olt-9"]}
    result = resolve(plan({"group": "olts", "batch": {"size": 2}}), groups)
    assert hosts_of(result) == [["olt-1", "olt-2"], ["olt-3", "olt-9"], ["olt-10"]]
    assert [b["index"] for b in result["batches"]] == [0, 1, 2]
    assert result["serial"] == [2, 2, 1]
    assert result["hosts_in_order"] == ["olt-1", "olt-2", "olt-3", "olt-9", "olt-10"]
    assert result["host_batch"] == {"olt-1": 0, "olt-2": 0, "olt-3": 1, "olt-9": 1, "olt-10": 2}


@pytest.mark.parametrize("size, total, expected", [("25%", 8, [2, 2, 2, 2]), ("25%", 3, [1, 1, 1]),
                                                    ("50%", 5, [2, 2, 1]), ("100%", 4, [4]), (10, 3, [3])])
def test_percent_batches_follow_ansible_serial_rounding(size, total, expected):
    result = resolve(plan({"group": "olts", "batch": {"size": size}}), fleet(total))
    assert result["serial"] == expected


def test_canary_batch_first_then_regular_batches():
    result = resolve(plan({"group": "olts", "canary": 1, "batch": {"size": 3}}), fleet(6))
    assert hosts_of(result) == [["olt-1"], ["olt-2", "olt-3", "olt-4"], ["olt-5", "olt-6"]]
    assert [b["canary"] for b in result["batches"]] == [True, False, False]
    percent = resolve(plan({"group": "olts", "canary": "10%", "batch": {"size": "50%"}}), fleet(6))
    assert percent["serial"] == [1, 3, 2]         # 10% of 6 rounds to 0: a canary is at least one host


def test_steps_run_as_written_unless_dependencies_say_otherwise():
    document = plan({"name": "c", "group": "c", "depends_on": ["a"]}, {"name": "b", "group": "b"},
                    {"name": "a", "group": "a"})
    groups = {"a": ["a1"], "b": ["b1"], "c": ["c1"]}
    result = resolve(document, groups)
    assert [b["step"] for b in result["batches"]] == ["b", "a", "c"]
    assert [s["name"] for s in result["steps"]] == ["b", "a", "c"]
    assert resolve(plan({"name": "x", "group": "a"}, {"name": "y", "group": "b"}), groups)["steps"][0]["name"] == "x"


def test_a_host_belongs_to_the_first_step_that_selects_it():
    document = plan({"name": "north", "group": "olts", "selector": {"var": "region", "equals": "north"}},
                    {"name": "rest", "group": "olts", "batch": {"size": 10}})
    hostvars = {"olt-1": {"region": "north"}, "olt-4": {"region": "north"}}
    result = resolve(document, fleet(5), hostvars)
    assert hosts_of(result) == [["olt-1"], ["olt-4"], ["olt-2", "olt-3", "olt-5"]]
    assert [s["hosts"] for s in result["steps"]] == [["olt-1", "olt-4"], ["olt-2", "olt-3", "olt-5"]]


def test_selector_var_comparison_is_type_strict_for_booleans():
    document = plan({"group": "olts", "selector": {"var": "enabled", "equals": True}, "batch": {"size": 9}})
    result = resolve(document, fleet(3), {"olt-1": {"enabled": True}, "olt-2": {"enabled": 1},
                                          "olt-3": {"enabled": "true"}})
    assert hosts_of(result) == [["olt-1"]]


def test_limit_patterns_match_host_and_group_names():
    groups = {**fleet(6), "spares": ["olt-5", "olt-6"]}
    document = plan({"group": "olts", "selector": {"limit": "olt-[1-4],spares,!olt-6,!~olt-1$"},
                     "batch": {"size": 9}})
    assert hosts_of(resolve(document, groups)) == [["olt-2", "olt-3", "olt-4", "olt-5"]]
    intersect = plan({"group": "olts", "selector": {"limit": "olt-*,&spares"}, "batch": {"size": 9}})
    assert hosts_of(resolve(intersect, groups)) == [["olt-5", "olt-6"]]


def test_hosts_already_on_target_are_skipped_with_a_reason():
    versions = {"olt-2": "2.0.0", "olt-3": {"active_version": "2.0.0"}, "olt-4": "1.0.0", "olt-9": "2.0.0"}
    result = resolve(plan({"group": "olts", "batch": {"size": "50%"}}), fleet(4), current_versions=versions)
    assert hosts_of(result) == [["olt-1", "olt-4"]]
    assert result["skipped_hosts"] == [
        {"host": "olt-2", "step": "olts", "version": "2.0.0", "cause": "on_target",
         "reason": "already runs the target version 2.0.0"},
        {"host": "olt-3", "step": "olts", "version": "2.0.0", "cause": "on_target",
         "reason": "already runs the target version 2.0.0"}]
    assert "olt-2" not in result["host_batch"] and "olt-2" not in result["image_for"]


def test_redundancy_pairs_are_spread_over_batches():
    hostvars = {"olt-1": {"pair": "a"}, "olt-2": {"pair": "a"}, "olt-3": {"pair": "b"}, "olt-4": {"pair": "b"}}
    document = plan({"group": "olts", "batch": {"size": 2}}, redundancy_groups=[{"name": "p", "var": "pair"}])
    result = resolve(document, fleet(4), hostvars)
    assert hosts_of(result) == [["olt-1", "olt-3"], ["olt-2", "olt-4"]]
    trio = plan({"group": "olts", "batch": {"size": 10}},
                redundancy_groups=[{"name": "core", "groups": ["core"], "max_down": 2}])
    result = resolve(trio, {**fleet(5), "core": ["olt-1", "olt-2", "olt-3"]})
    assert hosts_of(result) == [["olt-1", "olt-2", "olt-4", "olt-5"], ["olt-3"]]


def test_unavailable_hosts_use_up_their_redundancy_group():
    hostvars = {"olt-1": {"pair": "a"}, "olt-2": {"pair": "a"}, "olt-7": {"pair": "a"},
                "olt-3": {"pair": "b"}, "olt-4": {"pair": "b"}, "olt-5": {"pair": "b"}}
    document = plan({"group": "olts", "batch": {"size": 9}},
                    redundancy_groups=[{"name": "p", "var": "pair", "max_down": 2}])
    # olt-4 and olt-5 failed their precheck: trio b (max_down 2) cannot lose olt-3 as well.
    result = resolve(document, fleet(7), hostvars, unavailable=["olt-4", "olt-5"])
    assert hosts_of(result) == [["olt-1", "olt-2", "olt-6"], ["olt-7"]]
    assert [(s["host"], s["cause"]) for s in result["skipped_hosts"]] == [
        ("olt-3", "redundancy"), ("olt-4", "unavailable"), ("olt-5", "unavailable")]
    assert result["skipped_hosts"][0]["reason"] == "redundancy group p (pair=b) already has 2 member(s) down " \
                                                   "(olt-4, olt-5) and allows 2"
    # olt-2 down: trio a may lose only one more per batch.
    partial = resolve(document, fleet(7), hostvars, unavailable=["olt-2"])
    assert hosts_of(partial) == [["olt-1", "olt-3", "olt-4", "olt-6"], ["olt-5", "olt-7"]]
    with pytest.raises(PlanError, match="unavailable: must be a list of host names"):
        resolve(document, fleet(7), hostvars, unavailable="olt-2")


def test_pause_points():
    document = plan({"name": "a", "group": "olts", "canary": 1, "batch": {"size": 2}},
                    {"name": "b", "group": "more", "batch": {"size": 1}},
                    coordination={"pause_after_canary": True, "pause_before_steps": ["b"],
                                  "pause_before_batches": [0, 9], "message": "go {index} {step} {count}: {hosts}?"})
    result = resolve(document, {"olts": ["o1", "o2", "o3"], "more": ["m1", "m2"]})
    assert [(b["pause_before"], b["pause_message"]) for b in result["batches"]] == [
        (True, "go 0 a 1: o1?"), (True, "go 1 a 2: o2, o3?"), (True, "go 2 b 1: m1?"), (False, "")]
    assert result["warnings"] == ["coordination.pause_before_batches: there is no batch 9 (batches are numbered "
                                  "0 to 3)"]
    each = resolve(plan(coordination={"pause_before_each_batch": True}), fleet(2))
    assert [b["pause_before"] for b in each["batches"]] == [True, True]


def test_empty_steps_are_warned_about():
    document = plan({"name": "a", "group": "olts", "selector": {"limit": "nothing*"}}, {"name": "b", "group": "olts"},
                    {"name": "c", "group": "olts"})
    result = resolve(document, fleet(1))
    assert result["warnings"] == ["step a selects no host of group olts",
                                  "step c: all its hosts belong to earlier steps"]


@pytest.mark.parametrize("threshold, size, expected", [(0, 5, 0), (1, 1, 100), (1, 4, 37.5), (2, 3, 83.3333),
                                                       (5, 3, 100)])
def test_fail_percentage_from_a_count(threshold, size, expected):
    value = fail_percentage(schema.Size(count=threshold), size)
    assert value == expected
    # Ansible stops when failed / size > value / 100: exactly when more than `threshold` hosts failed.
    for failed in range(size + 1):
        assert (failed / size > value / 100.0) is (failed > threshold)


def test_max_fail_percentage_is_the_strictest_batch_value():
    document = plan({"group": "olts", "canary": 1, "batch": {"size": 4}}, recovery={"failure_threshold": 1})
    result = resolve(document, fleet(5))
    assert [b["max_fail_percentage"] for b in result["batches"]] == [100, 37.5]
    assert result["max_fail_percentage"] == 37.5
    percent = resolve(plan(recovery={"failure_threshold": "20%", "policy": "rollback_campaign"}), fleet(2))
    assert percent["max_fail_percentage"] == 20
    assert percent["recovery"] == {"policy": "rollback_campaign", "failure_threshold": "20%",
                                   "continue_after_failure": False, "rollback_campaign": True}


def test_images_timeouts_and_urls_reach_the_tasks():
    url = "sftp://user:pw@images.example.net/olt.img"
    document = plan({"group": "olts"}, {"group": "lab"}, images={"default": image(url=url), "lab": image("3.0")},
                    timeouts={"download": "1h"})
    result = resolve(document, {"olts": ["o1"], "lab": ["l1"]})
    assert result["image_for"]["o1"]["url"] == url
    assert result["image_for"]["o1"]["url_redacted"] == "sftp://********@images.example.net/olt.img"
    assert result["image_for"]["l1"]["version"] == "3.0"
    assert result["timeouts"]["olts"]["download"] == 3600
    assert result["batches"][0]["timeouts"] == result["timeouts"]["olts"]


def test_example_plan_resolves():
    groups = {"olts_lab": ["lab-1", "lab-2"], "olts": ["olt-n1", "olt-n2", "olt-s1", "olt-s2", "olt-s91"],
              "olts_core": ["olt-n1", "olt-n2"]}
    hostvars = {"olt-n1": {"swim_region": "north"}, "olt-n2": {"swim_region": "north"},
                "olt-s1": {"swim_region": "south", "swim_redundancy_pair": "p"},
                "olt-s2": {"swim_region": "south", "swim_redundancy_pair": "p"}, "olt-s91": {"swim_region": "south"}}
    result = resolve(example(), groups, hostvars)
    assert [(b["step"], b["hosts"], b["canary"], b["pause_before"]) for b in result["batches"]] == [
        ("lab", ["lab-1"], False, False), ("lab", ["lab-2"], False, False),
        ("north", ["olt-n1"], True, False), ("north", ["olt-n2"], False, True),
        ("south", ["olt-s1"], False, True), ("south", ["olt-s2"], False, False)]


def test_invalid_plan_or_inventory_raises_every_problem():
    with pytest.raises(PlanError) as error:
        resolve(plan({"group": "olt", "batch": {"size": 0}}), fleet(), current_versions=["x"])
    assert error.value.problems == [
        "campaign.groups[0].batch.size: must be a count (integer >= 1) or a percentage between 1% and 100% written "
        "like \"25%\", got 0",
        "current_versions: must be a mapping of host to its active version"]
    with pytest.raises(PlanError) as error:
        resolve(plan({"group": "olt"}), fleet())
    assert error.value.problems == ["campaign.groups[0].group: unknown inventory group 'olt' (did you mean olts?)"]
    with pytest.raises(PlanError, match="groups: must be a mapping"):
        resolve(plan(), None)


def test_resolution_is_deterministic_whatever_the_input_order():
    hostvars = {f"olt-{i}": {"pair": str(i % 3)} for i in range(1, 10)}
    document = plan({"group": "olts", "batch": {"size": 2}, "canary": 1},
                    redundancy_groups=[{"name": "p", "var": "pair"}])
    forward = resolve(document, fleet(9), hostvars)
    backward = resolve(document, {"olts": list(reversed(fleet(9)["olts"]))}, dict(reversed(hostvars.items())))
    assert forward["batches"] == backward["batches"] and forward["host_batch"] == backward["host_batch"]


def test_finished_hosts_are_skipped_but_not_down():
    """Hosts finished in an earlier run are in no batch, and unlike unavailable ones keep their partners going."""
    from ansible_collections.escalator.swim.plugins.module_utils.campaign.resolve import resolve

    plan = {"campaign": {
        "id": "c1",
        "images": {"default": {"name": "n", "version": "2", "url": "http://h/i", "sha256": "a" * 64}},
        "groups": [{"group": "g", "batch": {"size": 2}}],
        "redundancy_groups": [{"name": "pairs", "var": "pair"}],
    }}
    groups = {"g": ["h1", "h2", "h3"]}
    hostvars = {"h1": {"pair": "p"}, "h2": {"pair": "p"}, "h3": {}}
    done = resolve(plan, groups, hostvars, finished=["h1"])
    assert done["hosts_in_order"] == ["h2", "h3"]
    assert [(s["host"], s["cause"]) for s in done["skipped_hosts"]] == [("h1", "finished")]
    down = resolve(plan, groups, hostvars, unavailable=["h1"])
    assert down["hosts_in_order"] == ["h3"]
    assert {(s["host"], s["cause"]) for s in down["skipped_hosts"]} == {("h1", "unavailable"), ("h2", "redundancy")}
    # unavailable wins over finished
    both = resolve(plan, groups, hostvars, unavailable=["h1"], finished=["h1"])
    assert both["hosts_in_order"] == ["h3"]


def notes_of(result):
    return [batch["notes"] for batch in result["batches"]]


def test_split_notes_say_why_a_redundancy_group_is_in_several_batches():
    # its own max_down: the pair cannot share a batch that would hold both
    pairs = {"olt-1": {"pair": "p1"}, "olt-2": {"pair": "p1"}}
    result = resolve(plan({"group": "olts", "batch": {"size": 4}}, redundancy_groups=[{"name": "p", "var": "pair"}]),
                     fleet(4), pairs)
    assert hosts_of(result) == [["olt-1", "olt-3", "olt-4"], ["olt-2"]]
    why = "redundancy group p (pair=p1): olt-1, olt-2 are split over batches 0, 1 because it allows 1 member(s) down at a time"
    assert notes_of(result) == [[why], [why]]
    # the canary: a group allowed 2 down is split because the canary batch holds one host
    groups = {**fleet(6), "core": ["olt-1", "olt-2", "olt-3"]}
    core = [{"name": "core", "groups": ["core"], "max_down": 2}]
    result = resolve(plan({"group": "olts", "canary": 1, "batch": {"size": 10}}, redundancy_groups=core), groups)
    assert notes_of(result)[0] == ["redundancy group core: olt-1, olt-2, olt-3 are split over batches 0, 1 because "
                                   "the canary batch 0 holds 1 host(s)"]
    # another group of a member: olt-2 is kept out of batch 0 by its pair, not by core (2 down allowed)
    result = resolve(plan({"group": "olts", "batch": {"size": 10}}, redundancy_groups=core + [{"name": "p", "var": "pair"}]),
                     groups, pairs)
    assert hosts_of(result) == [["olt-1", "olt-3", "olt-4", "olt-5", "olt-6"], ["olt-2"]]
    assert notes_of(result)[1] == [
        "redundancy group core: olt-1, olt-2, olt-3 are split over batches 0, 1 because olt-2 is also in redundancy "
        "group p (pair=p1), which allows 1 member(s) down at a time and has as many in batch 0",
        "redundancy group p (pair=p1): olt-1, olt-2 are split over batches 0, 1 because it allows 1 member(s) down "
        "at a time"]
    # batches of one host split every group: that is the batch size, nothing to explain
    result = resolve(plan({"group": "olts", "batch": {"size": 1}}, redundancy_groups=[{"name": "p", "var": "pair"}]),
                     fleet(4), pairs)
    assert notes_of(result) == [[], [], [], []]


def test_the_listing_prints_each_split_note_once_under_the_last_batch_it_concerns():
    from ansible_collections.escalator.swim.plugins.module_utils.campaign.listing import batch_listing
    pairs = {"olt-1": {"pair": "p1"}, "olt-2": {"pair": "p1"}}
    result = resolve(plan({"group": "olts", "batch": {"size": 4}}, redundancy_groups=[{"name": "p", "var": "pair"}]),
                     fleet(4), pairs, current_versions={"olt-4": "2.0.0"})
    assert batch_listing(result) == [
        "batch 0 olts: olt-1, olt-3",
        "batch 1 olts: olt-2",
        "  why: redundancy group p (pair=p1): olt-1, olt-2 are split over batches 0, 1 because it allows 1 member(s) "
        "down at a time",
        "skipped olt-4: already runs the target version 2.0.0"]
    assert batch_listing(result, detail=True)[0] == "batch 0 olts: olt-1, olt-3 -> swim-olt 2.0.0"
