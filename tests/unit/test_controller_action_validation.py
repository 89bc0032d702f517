"""Arguments ansible-core's validator cannot report on by itself (it raises instead)."""

from __future__ import annotations

import pytest

from ansible_collections.escalator.swim.plugins.module_utils.campaign_record import RECORD_ARGSPEC
from ansible_collections.escalator.swim.plugins.plugin_utils.controller_action import options_that_are_not_mappings

SPEC = {"device_name": {"type": "str"}, **RECORD_ARGSPEC}


@pytest.mark.parametrize("value", [712, 1.5, True, [1]])
def test_a_non_mapping_record_is_reported_by_name(value):
    assert options_that_are_not_mappings(SPEC, {"record": value}) == {
        "record": f"value of 'record' must be of type dict, got {type(value).__name__}"}


def test_other_options_are_left_to_ansible_s_validator():
    # (unknown options included: the action reports them beside these errors, see tests/property)
    assert options_that_are_not_mappings(SPEC, {"record": 712, "zz": 1, 3: "x", "device_name": 5}) == {
        "record": "value of 'record' must be of type dict, got int"}


@pytest.mark.parametrize("value", [None, {"stage": "download"}, "stage=download"])
def test_mappings_and_their_string_form_are_left_to_ansible(value):
    assert options_that_are_not_mappings(SPEC, {"record": value, "zz": 1}) == {}
