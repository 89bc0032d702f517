"""An orphaned worker (its controller's main process killed) must not freeze in the middle of its stage.

ansible-core's ``Display`` in a worker writes to a pipe the main process reads. Once the main process is dead
nobody reads it; with progress lines on (plugins/plugin_utils/progress.py) the pipe fills and the orphans
blocked in ``write()`` for ever while their devices went on downloading: every row said ``download running``
long after the devices had finished, so a re-run would wait ``swim_run_wait`` for them, then refuse to start
(campaign_runs.begin_run). The chaos test (tests/chaos) found orphans blocked in that write. The orphans must
record the end of their stage; the re-run then finishes the job.
"""

from __future__ import annotations

import os
import signal
import time

from controller_kill import kill_main_only, wait_for_exit
from swim_matrix import TARGET, Campaign, finish, plan, wait_for

# Progress lines as often as they go, so that the dead controller's pipe fills within the downloads.
CHATTY = {"swim_progress_seconds": 0.2, "swim_progress_percent": 1, "swim_progress_quiet_seconds": 0}


def downloads(campaign: Campaign) -> dict[str, str]:
    return {name: row.get("stages", {}).get("download", {}).get("state") for name, row in campaign.rows().items()}


def test_orphans_record_the_end_of_their_download(sim_fleet, image_server, tmp_path):
    image = image_server.make_image(TARGET["name"], TARGET["version"], size=1024 * 1024)
    fleet = sim_fleet(4, timings={"download_rate": 40 * 1024})                 # ~26 s per download
    campaign = Campaign(tmp_path / "campaign", plan(image, campaign_id="orphan-progress", batch_size=4,
                                                    timeouts={"download": 120}))
    proc = campaign.start(fleet.inventory, extra_vars=CHATTY)
    try:
        wait_for(lambda: list(downloads(campaign).values()).count("running") == 4 or proc.poll() is not None, 120,
                 "the four downloads to start")
        assert proc.poll() is None, "the campaign ended before its downloads ran"
        time.sleep(1)
        orphans = kill_main_only(proc)
    finally:
        finish(proc, timeout=30)
    assert orphans, "killing the main process left no worker running: nothing to test"
    try:
        # The devices finish in ~26 s; their orphaned workers must say so (bounded generously: shared machine).
        wait_for(lambda: "running" not in downloads(campaign).values(), 90,
                 "the orphaned workers to record the end of their downloads")
    finally:
        # (an orphan may still block sending its final result to the dead controller: that touches no device)
        for pid in wait_for_exit(orphans, 2):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert set(downloads(campaign).values()) == {"ok"}, downloads(campaign)
    assert all(fleet.state(d["name"])["partitions"]["standby"]["version"] == TARGET["version"] for d in fleet.devices)

    started = time.monotonic()
    rerun = campaign.run(fleet.inventory, extra_vars=CHATTY)
    assert rerun.returncode == 0, rerun.stdout[-5000:]
    assert {row["outcome"] for row in campaign.rows().values()} == {"upgraded"}, campaign.rows()
    assert time.monotonic() - started < 120, "the re-run waited for workers that had finished"
    assert "Traceback" not in rerun.stdout + rerun.stderr
