"""`make bench` harness, quick mode: a real swim-sim fleet, real ansible-playbook rolling_upgrade, the
plain-Python baseline and a real Tansu broker for the Kafka variants. Proves the harness runs and writes
results of the documented shape; the numbers themselves are for `make bench` (docs/performance.md)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".collections"))

from swim_bench.runner import FULL, QUICK  # noqa: E402

ROW_KEYS = {"n", "wall_s", "ideal_s", "ratio", "baseline_s", "cpu_s_per_device", "peak_rss_mb", "batches",
            "ratio_to_baseline", "peak_pss_mb", "sim_cpu_s", "kafka_up_wall_s", "kafka_up_overhead_pct",
            "kafka_down_wall_s", "kafka_down_overhead_pct"}


@pytest.mark.parametrize("n", [1, 3, 4, 7, 10, 50, 99, 100, 200])
def test_batches_follow_the_plan_rule_of_the_collection(n):
    from ansible_collections.escalator.swim.plugins.module_utils.campaign.schema import Size

    assert FULL.batch_size(n) == Size(percent=25).of(n)
    assert FULL.batches(n) * FULL.batch_size(n) >= n > (FULL.batches(n) - 1) * FULL.batch_size(n)


def test_full_profile_uses_the_documented_device_timings():
    assert (FULL.download_s, FULL.install_s, FULL.reboot_s) == (20.0, 5.0, 15.0)
    assert FULL.sizes == (10, 50, 100, 200, 500, 1000)
    timings = FULL.timings(64 * 1024)
    assert timings["download_rate"] * FULL.download_s == 64 * 1024


@pytest.mark.slow
def test_quick_bench_runs_and_writes_results(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "swim_bench", "--quick", "--out", str(out),
                           "--work", str(tmp_path / "work")],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["mode"] == "quick"
    assert results["settings"]["device_critical_path_s"] == QUICK.device_s
    assert [row["n"] for row in results["rows"]] == list(QUICK.sizes)
    for row in results["rows"]:
        assert ROW_KEYS <= set(row), ROW_KEYS - set(row)
        n = row["n"]
        assert row["ok"] is True
        # every device really upgraded, as the simulator's own state files say, in every variant
        assert row["campaign"]["upgraded"] == row["baseline"]["upgraded"] == n
        assert row["kafka"]["up"]["upgraded"] == row["kafka"]["down"]["upgraded"] == n
        assert row["campaign"]["batches_recorded"] == row["batches"] == QUICK.batches(n)
        assert row["ideal_s"] == pytest.approx(QUICK.batches(n) * QUICK.device_s)
        # nothing beats the devices' own time (the ideal is a true lower bound)
        assert row["wall_s"] >= 0.95 * row["ideal_s"]
        assert row["baseline_s"] >= 0.95 * row["ideal_s"]
        assert row["ratio"] == pytest.approx(row["wall_s"] / row["ideal_s"], rel=0.01)
        assert row["cpu_s_per_device"] > 0 and row["peak_rss_mb"] >= row["peak_pss_mb"] > 0
        assert row["sim_cpu_s"] > 0 and row["baseline_cpu_s"] > 0
        # from the play recap: every device went through the precheck, backup and upgrade tasks
        assert 8 <= row["host_tasks_per_device"] <= 40, row["host_tasks_per_device"]
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| N | batches |" in proc.stdout


def test_host_tasks_are_counted_from_the_play_recap():
    from swim_bench.runner import host_tasks_per_device
    recap = """PLAY RECAP *********
localhost                  : ok=30   changed=0    unreachable=0    failed=1    skipped=2    rescued=0    ignored=0
olt-001                    : ok=14   changed=3    unreachable=0    failed=0    skipped=3    rescued=0    ignored=0
olt-002                    : ok=12   changed=2    unreachable=0    failed=1    skipped=2    rescued=1    ignored=0
"""
    assert host_tasks_per_device(recap) == 16.0      # (14 + 3 + 12 + 1 + 2) / 2; localhost left out
    assert host_tasks_per_device("no recap") is None
