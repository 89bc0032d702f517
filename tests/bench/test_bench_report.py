"""The README table, bench.png and the profile tables of `make bench`, generated from results.json
(swim_bench.report, swim_bench.plot, swim_bench.cprofile_report). Invented results, no timing."""
from __future__ import annotations

import json

import pytest

from swim_bench import cprofile_report, plot, report


def _row(n, wall, ideal, cpu_per_device, **extra):
    return {"n": n, "batches": 4, "forks": 50, "wall_s": wall, "ideal_s": ideal, "ratio": round(wall / ideal, 3),
            "baseline_s": ideal + 1, "ratio_to_baseline": round(wall / (ideal + 1), 3), "cpu_s": cpu_per_device * n,
            "cpu_s_per_device": cpu_per_device, "main_process_cpu_s": 0.2 * n, "peak_pss_mb": 6.0 * n,
            "peak_pss_mb_per_device": 6.0, "peak_rss_mb": 20.0 * n, "sim_cpu_s": 0.05 * n, "fits": True,
            "phases": {"startup_s": 1.0, "precheck_s": 2.0, "batch_s": [41.0], "between_batches_s": [],
                       "tail_s": 0.5}, "host_tasks_per_device": 11.0, **extra}


@pytest.fixture
def results():
    fit = {"requested_n": 1000, "fits": False, "largest_fitting_n": 800,
           "ran_out": [{"resource": "memory MB", "needed": 8750, "available": 7000,
                        "setting": "MemAvailable", "text": "memory MB: needs 8750, 7000 available (MemAvailable)"}]}
    return {"started": "2026-12-03T13:00:00+00:00", "rows": [
        _row(10, 205.0, 200.0, 1.05), _row(200, 223.0, 160.0, 0.68),
        {"n": 1000, "fits": False, "fit": fit, "measured_instead": 800},
        _row(800, 520.0, 400.0, 0.60, instead_of=1000)],
        "settings": {"device_timings_s": {"download": 20.0, "install": 5.0, "reboot": 15.0, "sanity": 0.0},
                     "device_critical_path_s": 40.0, "forks": 50, "batch": "25% ...", "forks_rule": "max"},
        "machine": {"cpu": "EPYC", "cores": 2, "memory_gb": 23.5, "kernel": "6", "python": "3.11",
                    "load_avg": [0.5, 0, 0], "load_avg_after": [0.6, 0, 0], "note": "quiet"}}


def test_the_table_has_every_size_and_says_what_did_not_fit(results):
    lines = report.table(results).splitlines()
    assert lines[0].count("|") == lines[1].count("|") == lines[2].count("|")
    assert "peak controller PSS MB/device" in lines[0]
    body = [line for line in lines if line.startswith("| ") and not line.startswith("| N ")]
    assert [line.split("|")[1].strip() for line in body] == ["10", "200", "1000", "800 (for 1000)"]
    assert body[1].split("|")[6].strip() == "1.39"          # wall / ideal of N = 200
    assert body[1].split("|")[9].strip() == "0.68"          # CPU-s per device
    assert body[1].split("|")[10].strip() == "6.0"          # PSS MB per device
    assert "did not fit this machine: memory MB: needs 8750, 7000 available (MemAvailable)" in body[2]
    assert "measured N = 800 instead" in body[2]
    assert body[2].count("|") == lines[0].count("|")
    assert "load average 0.50 at the start" in lines[-1]


def test_the_phases_table_skips_the_size_that_did_not_fit(results):
    text = report.phases_table(results)
    assert "| 1000 |" not in text and "| 800 |" in text


def test_the_readme_table_is_replaced_between_its_markers(results, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{report.README_START}\nold table\n{report.README_END}\nafter\n")
    report.update_readme(readme, results)
    text = readme.read_text()
    assert "old table" not in text and "before\n" in text and text.endswith(f"{report.README_END}\nafter\n")
    assert report.table(results) in text
    report.update_readme(readme, results)          # idempotent
    assert readme.read_text() == text
    readme.write_text("no markers")
    with pytest.raises(SystemExit, match="markers"):
        report.update_readme(readme, results)


def test_report_command_writes_the_readme_from_results_json(results, tmp_path, capsys):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    readme = tmp_path / "README.md"
    readme.write_text(f"{report.README_START}\n{report.README_END}\n")
    assert report.main([str(path), "--readme", str(readme)]) == 0
    assert "| 800 (for 1000) |" in readme.read_text() and "| 800 (for 1000) |" in capsys.readouterr().out


def test_the_plot_series_are_the_measured_sizes_in_order(results):
    data = plot.series(results)
    assert data["n"] == [10, 200, 800]
    assert data["wall_over_ideal"] == [1.025, 1.394, 1.3]
    assert data["cpu_s_per_device"] == [1.05, 0.68, 0.60]
    assert data["main_cpu_s_per_device"] == pytest.approx([0.2, 0.2, 0.2])
    assert data["baseline_over_ideal"][0] == pytest.approx(201 / 200)


def test_the_plot_is_a_png(results, tmp_path):
    path = tmp_path / "bench.png"
    plot.plot(results, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_profile_component_is_its_largest_matching_cumulative_time():
    stats = {("/x/ansible/playbook/task.py", 380, "post_validate"): (1, 1, 0.01, 0.16, {}),
             ("/x/ansible/playbook/base.py", 528, "post_validate"): (4, 3, 0.02, 0.15, {}),
             ("/x/ansible/playbook/base.py", 600, "other"): (1, 1, 0.5, 0.5, {})}
    templating = next(c for c in cprofile_report.WORKER if "templating" in c.label)
    assert cprofile_report.cumulative(stats, templating) == 0.16
    assert cprofile_report.cumulative(stats, cprofile_report.IMPORTS) == 0.0
    assert cprofile_report._total(stats) == pytest.approx(0.53)


def test_the_profile_report_reads_real_cprofile_dumps(tmp_path):
    import cProfile
    import time

    for name in ("main", "worker-1-1"):
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        sum(range(10000))
        profiler.disable()
        profiler.dump_stats(str(tmp_path / f"{name}.prof"))
    (tmp_path / "main.json").write_text(json.dumps({"pid": 1, "cpu_s": 2.5}))
    (tmp_path / "worker-1-1.json").write_text(json.dumps({"pid": 1, "action": "escalator.swim.snapshot", "task": "t",
                                                          "host": "olt-1", "cpu_s": 0.3, "cpu_before_run_s": 0.01,
                                                          "wall_s": 1, "result_bytes": 9000}))
    (tmp_path / "worker-2-2.json").write_text("")        # a worker ended while writing: left out
    breakdown = cprofile_report.breakdown_of_work(tmp_path)
    assert breakdown["main"]["cpu_s"] == 2.5
    snapshot = breakdown["workers"]["escalator.swim.snapshot"]
    assert (snapshot["host_tasks"], snapshot["cpu_s"], snapshot["result_bytes"]) == (1, 0.3, 9000)
    text = cprofile_report.markdown(breakdown, {"n": 20})
    assert "| `snapshot` |" in text and "| **worker CPU since the fork (getrusage)** | 0.300 |" in text
