"""The snapshot comparison rules (pure functions)."""

from ansible_collections.escalator.swim.plugins.module_utils.snapshot_compare import compare


def snap(version="1.0.0", components=None, temperature=45.0, alarms=(), config_version="1"):
    return {
        "schema": 1, "device": "olt-001",
        "versions": {"active": [{"name": "swim-olt", "version": version}], "standby": []},
        "startup_config": {"config_url": "", "version": config_version},
        "inventory": {"components": components if components is not None else
                      [{"name": "chassis", "class": "CHASSIS", "serial_num": "SN1", "software_rev": version}]},
        "health": {"alarms": list(alarms), "sensors": {"temperature": {"value": temperature, "units": "C"}}},
    }


def test_identical_snapshots_pass():
    diff, violations = compare(snap(), snap())
    assert violations == [] and diff["inventory"] == {"added": [], "removed": []}


def test_software_revision_change_is_not_an_inventory_change():
    _, violations = compare(snap("1.0.0"), snap("2.0.0"), expect_active_version="2.0.0")
    assert violations == []


def test_inventory_change_and_version_mismatch_are_violations():
    after = snap(components=[{"name": "chassis", "class": "CHASSIS", "serial_num": "SN2"}])
    diff, violations = compare(snap(), after, expect_active_version="2.0.0")
    assert diff["inventory"] == {"added": ["chassis"], "removed": ["chassis"]}
    assert len(violations) == 2


def test_sensor_tolerance_by_pattern():
    _, ok = compare(snap(temperature=45), snap(temperature=47), sensor_tolerance={"temp*": 5})
    _, bad = compare(snap(temperature=45), snap(temperature=55), sensor_tolerance={"temp*": 5})
    assert ok == [] and bad == ["sensor temperature changed by +10, tolerance 5"]


def test_new_alarms_counted():
    alarm = {"component": "fan-1", "severity": "major"}
    diff, violations = compare(snap(), snap(alarms=[alarm]))
    assert diff["alarms"]["new"] == [alarm] and "1 new alarm(s)" in violations[0]
    _, allowed = compare(snap(), snap(alarms=[alarm]), max_new_alarms=1)
    assert allowed == []


def test_fails_closed_on_empty_or_foreign_schema():
    assert compare({}, snap())[1] == ["before snapshot is missing or empty"]
    assert "lacks" in compare(snap(), {"schema": 1, "device": "x"})[1][0]
    assert "schema" in compare(snap(), {**snap(), "schema": 9})[1][0]


def test_startup_config_change():
    _, violations = compare(snap(), snap(config_version="2"))
    assert violations == ["startup configuration changed"]
    assert compare(snap(), snap(config_version="2"), compare_startup_config=False)[1] == []
