"""Issue 16: committed is part of "done", rows of orphaned workers never finish a device, runs fence each other."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.escalator.swim.plugins.filter.campaign import campaign_finished
from ansible_collections.escalator.swim.plugins.module_utils import campaign_runs
from ansible_collections.escalator.swim.plugins.module_utils.campaign_record import outcome_of, read_row, record, render
from ansible_collections.escalator.swim.plugins.module_utils.device import Image
from ansible_collections.escalator.swim.plugins.module_utils.ops import activate_image, sw_version

from fake_device import FakeDevice
from test_operations import run


class UncommittedDevice(FakeDevice):
    """Runs the target 2.0.0 but its boot image is still the old one (a controller died before the commit)."""

    def __init__(self):
        super().__init__(active=("swim-olt", "2.0.0"), standby=("swim-olt", "1.0.0"))
        self.active = Image("swim-olt", "2.0.0", committed=False)

    def commit_running_image(self, budget, on_status):
        self.calls.append("commit")
        self.active = Image("swim-olt", "2.0.0", committed=True)
        return []


def test_sw_version_reports_whether_the_running_image_is_committed():
    assert run(sw_version, UncommittedDevice())["committed"] is False
    assert run(sw_version, FakeDevice())["committed"] is None        # the fake transport cannot tell


def test_activate_commits_a_target_that_runs_uncommitted_instead_of_calling_it_done():
    device = UncommittedDevice()
    result = run(activate_image, device, name="swim-olt", version="2.0.0")
    assert "failed" not in result, result
    assert result["changed"] is True and "commit" in device.calls and "activate" not in device.calls
    assert result["after"]["active"][0]["committed"] is True


def test_activate_of_a_committed_target_is_unchanged():
    device = UncommittedDevice()
    device.active = Image("swim-olt", "2.0.0", committed=True)
    result = run(activate_image, device, name="swim-olt", version="2.0.0")
    assert result["changed"] is False and "commit" not in device.calls


def row_with(stages: dict, details: dict | None = None) -> dict:
    return {"device": "olt-001", "stages": {name: {"state": state} for name, state in stages.items()},
            "details": details or {}}


def test_verify_ok_without_the_planned_postcheck_is_not_upgraded():
    stages = {"precheck": "ok", "backup": "ok", "download": "ok", "activate": "ok", "verify": "ok"}
    assert outcome_of(row_with(stages, {"postcheck": True})) == "pending"
    assert outcome_of(row_with(stages, {"postcheck": False})) == "upgraded"   # no postcheck in the plan
    assert outcome_of(row_with(stages)) == "upgraded"                         # rows of earlier versions


def test_a_row_written_by_an_orphaned_worker_is_never_finished():
    done = row_with({"precheck": "ok", "activate": "ok", "verify": "ok", "postcheck": "ok"})
    done["outcome"] = "upgraded"
    orphan = json.loads(json.dumps(done))
    orphan["device"] = "olt-002"
    orphan["stages"]["postcheck"]["orphan"] = True
    assert campaign_finished([done, orphan]) == ["olt-001"]
    assert "written by an orphaned worker" in render([orphan])


def test_records_carry_the_run_and_mark_an_orphan(tmp_path):
    campaign = str(tmp_path / "c")
    started = campaign_runs.begin_run(campaign, "run-1", lambda: [], 0)
    assert started["run"]["controller"] == os.getppid() and started["waited_for"] == []
    row = record(campaign, "c1", "olt-001", "activate", "running")
    assert row["stages"]["activate"]["run"] == "run-1" and "orphan" not in row["stages"]["activate"]
    # A worker whose parent is not the current run's main process (its controller died): an orphan.
    current = json.loads((tmp_path / "c" / "runs" / "current.json").read_text())
    (tmp_path / "c" / "runs" / "current.json").write_text(json.dumps({**current, "controller": 1}))
    row = record(campaign, "c1", "olt-001", "activate", "ok")
    assert row["stages"]["activate"]["orphan"] is True
    line = json.loads((tmp_path / "c" / "campaign.log").read_text().splitlines()[-1])
    assert line["orphan"] is True
    assert campaign_runs.end_run(campaign, "run-1")["ended"]


@pytest.fixture
def ansible_like_worker():
    """A live process whose command line says ansible, standing for an orphaned task worker."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "ansible-playbook-worker"])
    yield proc
    proc.kill()
    proc.wait(timeout=10)


def test_a_new_run_waits_bounded_for_live_workers_of_an_earlier_run_then_refuses(tmp_path, ansible_like_worker):
    campaign = str(tmp_path / "c")
    rows = [{"device": "olt-001", "stages": {"activate": {"state": "running", "pid": ansible_like_worker.pid}}}]
    with pytest.raises(campaign_runs.RunFenceError, match=r"after 1s: olt-001 activate \(pid \d+\)"):
        campaign_runs.begin_run(campaign, "run-2", lambda: rows, 1.0)
    assert not (tmp_path / "c" / "runs" / "current.json").exists()
    ansible_like_worker.kill()
    ansible_like_worker.wait(timeout=10)
    started = campaign_runs.begin_run(campaign, "run-2", lambda: rows, 1.0)
    assert started["waited_for"] == []


def test_a_new_run_refuses_while_the_main_process_of_an_earlier_run_still_runs(tmp_path, ansible_like_worker):
    campaign = str(tmp_path / "c")
    runs = tmp_path / "c" / "runs"
    runs.mkdir(parents=True)
    (runs / "current.json").write_text(json.dumps({"run": "run-1", "controller": ansible_like_worker.pid}))
    with pytest.raises(campaign_runs.RunFenceError, match="run-1 of this campaign is still running"):
        campaign_runs.begin_run(campaign, "run-2", lambda: [], 0)
    assert read_row(campaign, "olt-001") is None


def test_locks_are_listed_and_a_campaigns_stale_locks_released_with_a_log(tmp_path):
    from ansible_collections.escalator.swim.plugins.module_utils.campaign_record import acquire_lock
    from ansible_collections.escalator.swim.plugins.module_utils.ops import device_lock

    locks = str(tmp_path / "locks")
    acquire_lock(locks, "olt-001", "c1")
    acquire_lock(locks, "olt-002", "c1")
    acquire_lock(locks, "olt-003", "other")
    args = {"lock_dir": locks, "campaign_id": "c1"}
    listed = run(device_lock, None, state="query", **args)
    assert [lock["device"] for lock in listed["locks"]] == ["olt-001", "olt-002", "olt-003"]
    assert listed["own"] == ["olt-001", "olt-002"]
    released = run(device_lock, None, state="released", **args)
    assert [lock["device"] for lock in released["released"]] == ["olt-001", "olt-002"], released
    assert [lock["device"] for lock in released["locks"]] == ["olt-003"]      # another campaign's: kept
    refused = lock_task(device_lock, state="absent", device="olt-003", **args)
    assert refused["failed"] and "locked by campaign 'other'" in refused["msg"]
    forced = lock_task(device_lock, state="absent", device="olt-003", force=True, **args)
    assert forced["changed"] is True and forced["released"] == [{"device": "olt-003", "holder": "other"}]
    log = [json.loads(line) for line in (tmp_path / "locks" / "releases.log").read_text().splitlines()]
    assert [(e["device"], e["holder"], e["released_by"], e["forced"]) for e in log] == [
        ("olt-001", "c1", "c1", False), ("olt-002", "c1", "c1", False), ("olt-003", "other", "c1", True)]


def lock_task(operation, **params):
    """run() with a `device` option (run's own second argument is the fake device)."""
    from ansible_collections.escalator.swim.plugins.module_utils.ops.common import OperationContext, execute

    defaults = {key: spec.get("default") for key, spec in operation.ARGUMENT_SPEC.items()}
    return execute(operation, OperationContext({**defaults, **params}, device_factory=lambda _params: None))


def test_a_device_that_stopped_answering_holds_its_redundancy_partners():
    from ansible_collections.escalator.swim.plugins.filter.campaign import campaign_down, campaign_hold

    hung = {"device": "olt-001", "stages": {"activate": {"state": "failed", "error_code": "TIMEOUT"},
                                            "rollback": {"state": "failed", "error_code": "CONNECTION_REFUSED"}},
            "details": {"running_version": "unknown"}}
    reverted = {"device": "olt-003", "stages": {"activate": {"state": "failed", "error_code": "TIMEOUT"},
                                                "rollback": {"state": "ok"}}, "details": {"committed": True}}
    fine = {"device": "olt-004", "stages": {"precheck": {"state": "ok"}}}
    assert set(campaign_down([hung, reverted, fine])) == {"olt-001"}
    groups = {"olt-002": [{"group": "p1", "members": ["olt-001", "olt-002"], "max_down": 1}],
              "olt-004": [{"group": "p2", "members": ["olt-003", "olt-004"], "max_down": 1}]}
    reason = campaign_hold([hung, reverted, fine], "olt-002", groups)
    assert "olt-001 is down" in reason and "revert failed (CONNECTION_REFUSED)" in reason
    assert campaign_hold([hung, reverted, fine], "olt-004", groups) == ""
    rebooting = {"device": "olt-003", "stages": {"activate": {"state": "running"}}}
    assert "rebooting" in campaign_hold([rebooting], "olt-004", groups)
