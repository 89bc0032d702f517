"""The AWX project (awx/ playbooks) and docs/awx (job templates, surveys) agree with the collection's playbooks:
one thin playbook per collection playbook, and survey variables exactly the variables each playbook documents."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from playbook_variables import documented_variables
from quality_tools import ROOT

PLAYBOOKS = sorted(p.stem for p in (ROOT / "playbooks").glob("*.yml"))
AWX = ROOT / "docs" / "awx"
TEMPLATES = json.loads((AWX / "job_templates.json").read_text())["job_templates"]
NOT_PLAYBOOKS = {"execution-environment.yml", "requirements.yml"}
# Survey defaults that differ from the playbook's own default, because an AWX job runs in a throw-away container
# without a terminal. Each is explained in docs/awx/README.md.
AWX_DEFAULTS = {"swim_state_root": "/var/lib/swim"}
# Playbooks whose job template may use job slicing (docs/awx/README.md, "Job slicing").
SLICE_SAFE = {"version_report"}


def survey(name: str) -> dict:
    return json.loads((AWX / "surveys" / f"{name}.json").read_text())


def test_every_collection_playbook_has_a_project_playbook_a_survey_and_a_template():
    project = sorted(p.stem for p in (ROOT / "awx").glob("*.yml") if p.name not in NOT_PLAYBOOKS)
    assert project == PLAYBOOKS
    assert sorted(p.stem for p in (AWX / "surveys").glob("*.json")) == PLAYBOOKS
    assert {t["playbook"] for t in TEMPLATES} == {f"awx/{name}.yml" for name in PLAYBOOKS}


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_project_playbook_imports_the_collection_playbook(name):
    plays = yaml.safe_load((ROOT / "awx" / f"{name}.yml").read_text())
    assert plays == [{"name": plays[0]["name"], "ansible.builtin.import_playbook": f"escalator.swim.{name}"}]


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_survey_offers_exactly_the_documented_variables(name):
    documented = documented_variables(ROOT / "playbooks" / f"{name}.yml")
    assert documented, f"playbooks/{name}.yml documents no variables ('# Variables' block)"
    spec = survey(name)["spec"]
    assert [q["variable"] for q in spec] == list(documented)
    for question in spec:
        variable = documented[question["variable"]]
        assert question["required"] == variable.required, variable.name
        assert question["question_name"] and question["question_description"].startswith(variable.description)
        if variable.type == "bool":
            assert question["type"] == "multiplechoice" and question["choices"] == ["false", "true"]
            expected = "false" if variable.default is None else str(variable.default).lower()
        elif variable.type == "choice":
            assert question["type"] == "multiplechoice" and question["choices"] == variable.choices
            expected = variable.default
        elif variable.type == "int":
            assert question["type"] == "integer"
            expected = variable.default if variable.default is not None else ""
        else:
            assert variable.type in ("str", "path") and question["type"] == "text", variable
            expected = variable.default if variable.default is not None else ""
        assert question["default"] == AWX_DEFAULTS.get(variable.name, expected), variable.name


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_boolean_survey_answers_are_read_with_the_bool_filter(name):
    """A survey answers "false" as a string: every use of a documented bool variable goes through | bool."""
    bools = [v.name for v in documented_variables(ROOT / "playbooks" / f"{name}.yml").values() if v.type == "bool"]
    texts = [p.read_text() for p in [ROOT / "playbooks" / f"{name}.yml", *(ROOT / "playbooks" / "tasks").glob("*.yml"),
                                     *(ROOT / "roles").rglob("*.yml")]]
    for variable in bools:
        uses = [m.group(0) for text in texts for m in re.finditer(rf"{variable}\b[^\n]*", text)
                if not text[:m.start()].rsplit("\n", 1)[-1].lstrip().startswith("#")]
        assert uses, f"{variable} is documented but never used"
        for use in uses:
            assert re.match(rf"{variable}(\s*\|\s*default\([^)]*\))?\s*\|\s*bool", use), use


def test_job_templates():
    assert len({t["name"] for t in TEMPLATES}) == len(TEMPLATES)
    for template in TEMPLATES:
        name = Path(template["playbook"]).stem
        assert template["survey_enabled"] and template["survey_spec"] == f"surveys/{name}.json"
        assert template["job_type"] in ("run", "check")
        if name not in SLICE_SAFE:
            assert template["job_slice_count"] == 1, f"{name} is not slice-safe"
        # Only jobs that change nothing may run twice at once.
        if template["job_type"] == "run" and name in ("rolling_upgrade", "rollback"):
            assert not template["allow_simultaneous"]


def test_readme_explains_the_awx_defaults_and_slicing():
    text = (AWX / "README.md").read_text()
    for variable, value in AWX_DEFAULTS.items():
        assert variable in text and str(value) in text
    assert "## Job slicing" in text
    for name in PLAYBOOKS:
        assert f"`{name}`" in text
