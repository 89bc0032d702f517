"""The throttle of the live progress lines (plugins/plugin_utils/progress.py), on a controlled clock."""

from __future__ import annotations

from ansible_collections.escalator.swim.plugins.module_utils.device import StatusEvent
from ansible_collections.escalator.swim.plugins.plugin_utils.progress import ProgressLines, measure, settings_from


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def lines_for(events, settings=None, transport="dmi"):
    shown, clock = [], Clock()
    reporter = ProgressLines(shown.append, "olt-1", "download", transport,
                             {**settings_from(lambda name: None), **(settings or {})}, clock=clock)
    for at, state, description in events:
        clock.now = 100.0 + at
        reporter(StatusEvent(state=state, description=description))
    reporter.close()
    return shown


def test_every_ten_percent_and_each_state_change():
    events = [(11 + i, "COPYING_IMAGE", f"downloaded {p}% ({p * 10}/1000 bytes)") for i, p in enumerate(range(0, 101, 5))]
    events.append((40, "UPGRADE_COMPLETE", "done"))
    shown = lines_for(events, {"seconds": 0})
    assert [line.split()[5] for line in shown[:-1]] == ["0%", "10%", "20%", "30%", "40%", "50%", "60%", "70%",
                                                         "80%", "90%", "100%"]
    assert shown[-1].startswith("swim progress olt-1: download UPGRADE_COMPLETE 100%") and shown[-1].endswith("[40s]")


def test_a_task_shorter_than_the_quiet_time_prints_nothing():
    assert lines_for([(1, "COPYING_IMAGE", "downloaded 50% (5/10 bytes)"), (2, "UPGRADE_COMPLETE", "")]) == []


def test_netconf_says_it_reports_no_progress():
    shown = lines_for([(12, "COPYING_IMAGE", "revision 2 downloading")], transport="netconf")
    assert shown == ["swim progress olt-1: download COPYING_IMAGE (netconf: no progress reported by the device) [12s]"]


def test_settings_from_variables_with_bad_values_keeping_defaults():
    values = {"swim_progress": "no", "swim_progress_percent": "25", "swim_progress_seconds": "soon"}
    settings = settings_from(values.get)
    assert settings == {"enabled": False, "percent": 25.0, "seconds": 30.0, "quiet": 10.0}
    assert measure("downloaded 40% (838860/2097152 bytes)") == (40.0, "819.2 KiB of 2.0 MiB")
    assert measure("downloaded 4096 bytes") == (None, "4.0 KiB")


def test_an_orphaned_worker_prints_no_more_lines():
    """Once the controller died (the worker's parent pid changed), Display's pipe has no reader: a line written
    to it would, once the pipe is full, block the orphan in the middle of its stage for ever."""
    shown, clock, parent = [], Clock(), [4242]
    reporter = ProgressLines(shown.append, "olt-1", "download", "dmi", {**settings_from(lambda name: None),
                             "seconds": 0}, clock=clock, parent=lambda: parent[0])
    clock.now = 111.0
    reporter(StatusEvent(state="COPYING_IMAGE", description="downloaded 10% (100/1000 bytes)"))
    parent[0] = 1                                   # the main process died: re-parented to init
    clock.now = 112.0
    reporter(StatusEvent(state="COPYING_IMAGE", description="downloaded 50% (500/1000 bytes)"))
    reporter(StatusEvent(state="UPGRADE_COMPLETE", description="done"))
    reporter.close()
    assert [line.split()[5] for line in shown] == ["10%"], shown
