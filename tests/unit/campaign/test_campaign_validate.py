"""Offline validation of campaign plans: every problem, each with its path in the plan."""

from __future__ import annotations

import os

import pytest
from campaign_plans import EXAMPLE, ROOT, SHA_A, example, fleet, image, plan

from ansible_collections.escalator.swim.plugins.module_utils.campaign.validate import check, validate


def test_example_plan_is_valid_offline_and_on_an_inventory():
    assert validate(example()) == []
    groups = {"olts_lab": ["lab-1"], "olts": ["olt-n1", "olt-s1"], "olts_core": ["olt-n1", "olt-n2"]}
    hostvars = {"olt-n1": {"swim_region": "north", "swim_redundancy_pair": "p1"},
                "olt-s1": {"swim_region": "south", "swim_redundancy_pair": "p1"}}
    assert validate(example(), groups, hostvars) == []


def test_minimal_plan_gets_safe_defaults():
    built, problems = check(plan())
    assert problems == []
    step = built.steps[0]
    assert (step.name, step.group, step.image, step.batch.count, step.canary) == ("olts", "olts", "default", 1, None)
    assert built.recovery.policy == "stop_campaign" and built.recovery.threshold.count == 0
    assert built.verification == {"expect_active_version": True, "compare_inventory": True,
                                  "compare_startup_config": True, "sensor_tolerance": {}, "max_new_alarms": 0}
    assert step.timeouts["download"] == 1800 and built.timeouts == step.timeouts
    assert step.timeouts["stall"] == 300


def test_stall_timeout_is_a_plan_key_a_step_may_override():
    built, problems = check(plan({"group": "olts", "timeouts": {"stall": "2m"}}, {"name": "b", "group": "olts"},
                                 timeouts={"stall": 90}))
    assert problems == []
    assert [step.timeouts["stall"] for step in built.steps] == [120, 90]
    assert "campaign.timeouts.stall: must be a positive number of seconds (or 30s, 15m, 2h) below 10^7 s, " \
           "got 0" in validate(plan(timeouts={"stall": 0}))


def test_every_problem_is_listed_with_its_path():
    bad = plan({"group": "olts", "batch": {"size": "0%"}, "canary": "150%", "depends_on": ["nowhere"]},
               {"group": "olts"},
               images={"olts": {"name": "swim-olt", "version": "2.0.0", "url": "images.example.net/x.img",
                                "sha256": "abc"}},
               timeouts={"download": -5}, recovery={"policy": "pray"})
    problems = validate(bad)
    assert problems == [
        "campaign.images.olts.url: 'images.example.net/x.img' is not a URL the device can fetch (expected "
        "scheme://host/path with http, https, sftp, ftp, ftps, scp, tftp or file)",
        "campaign.images.olts.sha256: must be 64 hexadecimal characters (the output of sha256sum)",
        "campaign.timeouts.download: must be a positive number of seconds (or 30s, 15m, 2h) below 10^7 s, got -5",
        "campaign.groups[0].batch.size: must be a count (integer >= 1) or a percentage between 1% and 100% "
        "written like \"25%\", got '0%'",
        "campaign.groups[0].canary: must be a count (integer >= 0) or a percentage between 0% and 100% "
        "written like \"25%\", got '150%'",
        "campaign.groups[1].name: duplicate step name 'olts' (also campaign.groups[0]); steps of the same group "
        "need distinct names",
        "campaign.groups[0].depends_on[0]: unknown step 'nowhere'",
        "campaign.recovery.policy: must be one of revert_device, stop_campaign, rollback_campaign, got 'pray'",
    ]


def test_problem_paths_for_types_and_unknown_keys():
    problems = validate({"campaign": {"id": "Bad Id", "images": {"default": {**image(), "sha": SHA_A}},
                                      "groups": [{"group": "olts", "batch": {"sise": 2}}], "timeout": {}}})
    assert "campaign.timeout: unknown key (did you mean timeouts?)" in problems
    assert "campaign.id: must be 1-64 characters among a-z, 0-9, - and _, starting with a letter or digit " \
           "(it names the campaign directory and locks)" in problems
    assert "campaign.images.default.sha: unknown key (did you mean sha256?)" in problems
    assert "campaign.groups[0].batch.sise: unknown key (did you mean size?)" in problems
    assert "campaign.groups[0].batch.size: is required" in problems


@pytest.mark.parametrize("document, expected", [
    (None, "campaign: is required: the plan is a mapping with one key, campaign (got null)"),
    ([], "campaign: is required: the plan is a mapping with one key, campaign (got a list)"),
    ({"campaign": "x"}, "campaign: must be a mapping, got a string"),
    ({"campaign": {}}, "campaign.id: is required"),
    ({"campaign": {"id": "x", "images": {}, "groups": []}},
     "campaign.images: must be a mapping of inventory group (or default) to image, got a mapping without entries"),
    ({"campaign": {"id": "x", "images": {}, "groups": []}},
     "campaign.groups: must be a non-empty list of steps, got a list without entries"),
])
def test_shapes(document, expected):
    assert expected in validate(document)


def test_unknown_top_level_key_next_to_campaign():
    assert validate({**plan(), "campagne": {}}) == ["campagne: unknown key (did you mean campaign?)"]


def test_version_read_as_a_number_is_explained():
    problems = validate(plan(images={"default": image(version=2.0)}))
    assert problems == ["campaign.images.default.version: must be a string (quote it: 2.0 was read as a number)"]


def test_a_checksum_of_digits_left_unquoted_is_told_to_be_quoted():
    import yaml
    document = yaml.safe_load("campaign:\n  images:\n    default:\n      sha256: " + "1234567890" * 6 + "1234\n")
    sha = document["campaign"]["images"]["default"]["sha256"]
    assert isinstance(sha, int)                                   # what YAML does to it
    problems = validate(plan(images={"default": image(sha=sha)}))
    assert problems == ['campaign.images.default.sha256: must be a string: YAML read this unquoted checksum as a '
                        'number, quote it (sha256: "...")']


def test_image_size_must_be_a_positive_integer():
    assert validate(plan(images={"default": image(size=1024)})) == []
    for bad in (0, -1, "1k", True, 1.5):
        assert validate(plan(images={"default": image(size=bad)})) == [
            f"campaign.images.default.size: must be the image size in bytes (an integer >= 1), got {bad!r}"]


def test_preflight_section():
    assert validate(plan(preflight={"images": False, "timeout": "2m", "validate_certs": False})) == []
    assert validate(plan(preflight={"images": "no", "timout": 3})) == [
        "campaign.preflight.timout: unknown key (did you mean timeout?)",
        "campaign.preflight.images: must be true or false, got a string"]


@pytest.mark.parametrize("sha", [None, "", "g" * 64, "a" * 63, "a" * 65, "a" * 64 + "\n"])
def test_checksum_is_mandatory_and_well_formed(sha):
    problems = validate(plan(images={"default": image(sha=sha)}))
    assert problems == ["campaign.images.default.sha256: must be 64 hexadecimal characters (the output of sha256sum)"]


def test_missing_checksum():
    entry = image()
    del entry["sha256"]
    assert validate(plan(images={"default": entry})) == ["campaign.images.default.sha256: is required"]


def test_uppercase_checksum_is_normalised():
    built, problems = check(plan(images={"default": image(sha="A" * 64)}))
    assert problems == [] and built.images["default"].sha256 == "a" * 64


def test_url_credentials_never_appear_in_problems():
    secret = "ftp://admin:s3cret@images.example.net"     # no path, and a bad checksum
    problems = validate(plan(images={"default": image(url=secret + " x", sha="nope")}))
    assert problems and all("s3cret" not in p and "admin" not in p for p in problems)
    assert "campaign.images.default.url: 'ftp://********@images.example.net x' is not a URL" in problems[0]


@pytest.mark.parametrize("value, ok", [
    (1, True), (3, True), ("2", True), ("25%", True), ("100%", True), ("12.5%", True),
    (0, False), (-1, False), ("0%", False), ("101%", False), ("-5%", False), ("lots", False), (True, False),
    (2.5, False), (None, False), ([], False),
])
def test_batch_sizes(value, ok):
    problems = validate(plan({"group": "olts", "batch": {"size": value}}))
    assert (problems == []) is ok, problems


@pytest.mark.parametrize("value, seconds", [(90, 90), (1.5, 1.5), ("90s", 90), ("15m", 900), ("2h", 7200),
                                            ("45", 45), (-1, None), (0, None), ("1d", None), (True, None),
                                            (10 ** 8, None)])
def test_durations(value, seconds):
    built, problems = check(plan(timeouts={"activate": value}, expected_duration=value))
    if seconds is None:
        assert [p.split(":")[0] for p in problems] == ["campaign.timeouts.activate", "campaign.expected_duration"]
    else:
        assert problems == [] and built.timeouts["activate"] == seconds and built.expected_duration == seconds


def test_step_timeouts_override_campaign_timeouts():
    built, _ = check(plan({"group": "olts", "timeouts": {"download": "1h"}}, timeouts={"download": 60, "revert": 30}))
    assert built.steps[0].timeouts["download"] == 3600 and built.steps[0].timeouts["revert"] == 30


def test_failure_threshold():
    assert check(plan(recovery={"failure_threshold": "10%"}))[0].recovery.threshold.percent == 10
    assert check(plan(recovery={"failure_threshold": 0}))[0].recovery.threshold.count == 0
    assert validate(plan(recovery={"failure_threshold": "110%"})) == [
        "campaign.recovery.failure_threshold: must be a count (integer >= 0) or a percentage between 0% and 100% "
        "written like \"25%\", got '110%'"]


def test_dependency_cycles_and_self_dependency():
    problems = validate(plan({"name": "a", "group": "olts", "depends_on": ["c"]},
                             {"name": "b", "group": "olts", "depends_on": ["a"]},
                             {"name": "c", "group": "olts", "depends_on": "b"},
                             {"name": "d", "group": "olts", "depends_on": ["d", "e"]},
                             {"name": "e", "group": "olts", "depends_on": ["d"]}))
    assert problems == ["campaign.groups[3].depends_on[0]: step 'd' depends on itself",
                        "campaign.groups: dependency cycle between steps a, b, c",
                        "campaign.groups: dependency cycle between steps d, e"]


def test_unknown_dependency_gets_a_suggestion():
    problems = validate(plan({"name": "north", "group": "olts"}, {"name": "south", "group": "olts",
                                                                 "depends_on": ["nort"]}))
    assert problems == ["campaign.groups[1].depends_on[0]: unknown step 'nort' (did you mean north?)"]


def test_image_selection_and_unused_images():
    problems = validate(plan({"group": "olts"}, {"group": "spares", "image": "olts_old"},
                             images={"olts": image(), "olt_lab": image()}))
    assert problems == ["campaign.groups[1].image: no image 'olts_old' in campaign.images",
                        "campaign.images.olt_lab: no step installs this image: no step of group 'olt_lab' and no "
                        "step names it in image (misspelt group?)"]
    assert validate(plan({"group": "spares"}, images={"olts": image()})) == [
        "campaign.groups[0]: no image for group 'spares': add campaign.images.spares or campaign.images.default",
        "campaign.images.olts: no step installs this image: no step of group 'olts' and no step names it in "
        "image (misspelt group?)"]


def test_selectors():
    good = plan({"group": "olts", "selector": {"limit": "olt-n*,&~olt-n[0-9]+,!olt-n9"}},
                {"name": "s", "group": "olts", "selector": {"var": "swim_region", "in": ["south", "east"]}})
    assert validate(good) == []
    problems = validate(plan({"group": "olts", "selector": {"var": "swim region", "equals": {"a": 1}}},
                             {"name": "b", "group": "olts", "selector": {"limit": "a,,~("}},
                             {"name": "c", "group": "olts", "selector": {"equals": 1}},
                             {"name": "d", "group": "olts", "selector": {}}))
    assert problems[:2] == ["campaign.groups[0].selector.var: 'swim region' is not a valid variable name",
                            "campaign.groups[0].selector.equals: must be a string, number or boolean, got a mapping"]
    assert problems[2] == "campaign.groups[1].selector.limit: empty term in host pattern 'a,,~('"
    assert problems[3].startswith("campaign.groups[1].selector.limit: invalid regular expression '(':")
    assert problems[4:] == ["campaign.groups[2].selector.var: is required with equals or in",
                            "campaign.groups[3].selector: needs limit and/or var"]


def test_redundancy_group_definitions():
    problems = validate(plan(redundancy_groups=[{"name": "pairs", "var": "swim_pair", "groups": ["a"]},
                                                {"name": "pairs", "groups": []},
                                                {"name": "x", "var": "p", "max_down": 0}, "y"]))
    assert problems == [
        "campaign.redundancy_groups[0]: give exactly one of var (hosts sharing a value of this host variable) or "
        "groups (the hosts of these inventory groups)",
        "campaign.redundancy_groups[1].name: duplicate redundancy group name 'pairs' (also "
        "campaign.redundancy_groups[0])",
        "campaign.redundancy_groups[1].groups: must name at least one inventory group",
        "campaign.redundancy_groups[2].max_down: must be at least 1 (0 would forbid upgrading any member)",
        "campaign.redundancy_groups[3]: must be a mapping, got a string"]


def test_verification_and_coordination():
    problems = validate(plan(verification={"sensor_tolerance": {"temp*": -1, "fan": "x"}, "max_new_alarms": 1.5,
                                           "expect_active_version": "yes"},
                             coordination={"pause_before_batches": [0, -1], "pause_before_steps": ["nope"],
                                           "message": "batch {idx}"}))
    assert problems == [
        "campaign.verification.expect_active_version: must be true or false, got a string",
        "campaign.verification.sensor_tolerance['temp*']: must be a non-negative number, got -1",
        "campaign.verification.sensor_tolerance.fan: must be a non-negative number, got 'x'",
        "campaign.verification.max_new_alarms: must be a non-negative integer, got 1.5",
        "campaign.coordination.pause_before_batches[1]: must be a non-negative integer, got -1",
        "campaign.coordination.pause_before_steps[0]: unknown step 'nope'",
        "campaign.coordination.message: placeholders can be {index}, {step}, {group}, {hosts} and {count} "
        "(KeyError: 'idx')"]


# --- with an inventory -------------------------------------------------------------------------------

def test_unknown_inventory_groups():
    document = plan({"group": "olt"}, redundancy_groups=[{"name": "core", "groups": ["core", "olts"]}])
    assert validate(document) == []
    assert validate(document, fleet()) == [
        "campaign.groups[0].group: unknown inventory group 'olt' (did you mean olts?)",
        "campaign.redundancy_groups[0].groups[0]: unknown inventory group 'core'"]


def test_hostvars_required_for_host_var_checks():
    document = plan(redundancy_groups=[{"name": "pairs", "var": "swim_pair"}])
    assert validate(document, fleet()) == [
        "hostvars: needed to apply the plan's selectors and redundancy groups (host variables swim_pair)"]


def test_redundancy_var_nobody_sets_is_reported():
    document = plan(redundancy_groups=[{"name": "pairs", "var": "swim_pair"}])
    assert validate(document, fleet(), {"olt-1": {"swim_paire": "p1"}}) == [
        "campaign.redundancy_groups[0].var: no host of the inventory sets swim_pair (misspelt? without it no host "
        "is protected)"]


def test_redundancy_group_that_any_batch_takes_down_whole():
    document = plan(redundancy_groups=[{"name": "pairs", "var": "swim_pair"},
                                       {"name": "trio", "groups": ["core"], "max_down": 3}])
    groups = {**fleet(), "core": ["olt-4", "olt-5", "olt-6"]}
    hostvars = {"olt-1": {"swim_pair": "p1"}, "olt-2": {"swim_pair": "p1"}, "olt-3": {"swim_pair": "p2"}}
    assert validate(document, groups, hostvars) == [
        "campaign.redundancy_groups[0]: redundancy group pairs (swim_pair=p2) has 1 member(s) (olt-3) and max_down "
        "1: any batch holding them takes the whole group down (add its partner, or drop the host var)",
        "campaign.redundancy_groups[1]: redundancy group trio has 3 member(s) (olt-4, olt-5, olt-6) and max_down 3: "
        "any batch holding them takes the whole group down (add its partner, or drop the host var)"]


def test_lone_redundancy_member_outside_the_campaign_is_fine():
    document = plan({"group": "olts", "selector": {"limit": "olt-1,olt-2"}},
                    redundancy_groups=[{"name": "pairs", "var": "swim_pair"}])
    hostvars = {"olt-1": {"swim_pair": "p1"}, "olt-2": {"swim_pair": "p1"}, "olt-3": {"swim_pair": "p2"}}
    assert validate(document, fleet(), hostvars) == []


def test_bad_inventory_data_is_reported_not_raised():
    assert validate(plan(), {"olts": "olt-1"}) == ["inventory_groups['olts']: must be a list of host names"]
    assert validate(plan(), fleet(), ["olt-1"]) == ["hostvars: must be a mapping of host to its variables"]
    assert validate(plan(), "all") == ["inventory_groups: must be a mapping of inventory group to list of hosts"]


@pytest.mark.parametrize("url, shown", [("u:pw@images.example.net/x.img", "'********@images.example.net/x.img'"),
                                        ("ftp://u:pw@h x", "'ftp://********@h x'"),
                                        ("images.example.net/u:pw@x", "'********@x'"),
                                        ("http://h/x.img\n", "'http://h/x.img\\n'")])
def test_malformed_urls_hide_anything_like_credentials(url, shown):
    problems = validate(plan(images={"default": image(url=url)}))
    assert problems == [f"campaign.images.default.url: {shown} is not a URL the device can fetch (expected "
                        "scheme://host/path with http, https, sftp, ftp, ftps, scp, tftp or file)"]


def test_the_reference_shows_the_example_plan_verbatim():
    with open(os.path.join(ROOT, "docs", "campaign-plan.md"), encoding="utf-8") as handle:
        reference = handle.read()
    block = reference.split("## Full example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    with open(EXAMPLE, encoding="utf-8") as handle:
        assert block == handle.read()


@pytest.mark.parametrize("message", ["{index[0]}", "{", "{0}", "{hosts.nope}", "{step!x}", "{count:q}"])
def test_any_bad_pause_message_is_a_problem(message):
    document = example()
    document["campaign"]["coordination"]["message"] = message
    problems = validate(document)
    assert len(problems) == 1 and problems[0].startswith("campaign.coordination.message: placeholders can be")
