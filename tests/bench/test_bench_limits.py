"""The fit check of `make bench` (swim_bench.limits): which fleet sizes a machine can run, what runs out
first and which size is measured instead. Invented machines, no processes started, no timing."""
from __future__ import annotations

import resource

import pytest

from swim_bench import limits
from swim_bench.runner import FULL

ROOMY = limits.Machine(mem_available_mb=64_000, nofile_soft=65_536, nofile_hard=65_536, ephemeral_ports=28_232,
                       nproc_soft=resource.RLIM_INFINITY)
MEASURED = [{"n": 50, "peak_pss_mb": 300.0, "sim_peak_rss_mb": 100.0},   # 8 MB per device
            {"n": 200, "peak_pss_mb": 1200.0, "sim_peak_rss_mb": 200.0}]  # 7 MB per device


def test_large_fleets_use_batches_of_10_percent_and_forks_sized_to_the_batch():
    assert FULL.sizes == (10, 50, 100, 200, 500, 1000)
    assert (FULL.percent(200), FULL.percent(500), FULL.percent(1000)) == (25, 10, 10)
    assert (FULL.batch_size(500), FULL.batches(500), FULL.forks_of(500)) == (50, 10, 50)
    assert (FULL.batch_size(1000), FULL.batches(1000), FULL.forks_of(1000)) == (100, 10, 100)
    assert FULL.forks_of(10) == FULL.forks == 50


def test_the_per_device_memory_comes_from_the_largest_smaller_measured_size():
    assert limits.mb_per_device(MEASURED, 500) == (7.0, "measured at N = 200")
    assert limits.mb_per_device(MEASURED, 100) == (8.0, "measured at N = 50")
    per_device, source = limits.mb_per_device([], 10)
    assert per_device == limits.ASSUMED_MB_PER_DEVICE and source.startswith("assumed")
    # a size that did not fit measured nothing
    assert limits.mb_per_device([{"n": 300, "fits": False}], 500)[1].startswith("assumed")


def test_a_roomy_machine_fits_1000_devices():
    record = limits.fit(1000, FULL.forks_of, MEASURED, ROOMY)
    assert record["fits"] is True and record["ran_out"] == []
    assert record["needs"]["memory_mb"] == pytest.approx(1000 * 7.0 * limits.MEMORY_HEADROOM)
    assert "largest_fitting_n" not in record


def test_too_little_memory_names_memory_and_measures_the_largest_size_that_fits():
    machine = limits.Machine(**{**ROOMY.__dict__, "mem_available_mb": 5_000})
    record = limits.fit(1000, FULL.forks_of, MEASURED, machine)
    assert record["fits"] is False
    assert [s["resource"] for s in record["ran_out"]] == ["memory MB"]
    assert "MemAvailable" in record["ran_out"][0]["setting"]
    largest = record["largest_fitting_n"]
    assert largest % 10 == 0
    assert not limits.shortfalls(largest, FULL.forks_of(largest), 7.0, machine)
    assert limits.shortfalls(largest + 10, FULL.forks_of(largest + 10), 7.0, machine)


def test_file_descriptors_and_ports_are_checked_with_the_setting_that_moves_them():
    machine = limits.Machine(mem_available_mb=64_000, nofile_soft=1024, nofile_hard=4096, ephemeral_ports=3000,
                             nproc_soft=80)
    found = {s.resource: s for s in limits.shortfalls(1000, FULL.forks_of(1000), 7.0, machine)}
    assert set(found) == {"file descriptors per process", "loopback ports", "processes"}
    assert "RLIMIT_NOFILE" in found["file descriptors per process"].setting
    assert "4096" in found["file descriptors per process"].setting
    assert "ip_local_port_range" in found["loopback ports"].setting
    assert found["loopback ports"].needed == 1000 * (1 + limits.CONNECTIONS_PER_DEVICE)
    assert "1024 available" in found["file descriptors per process"].text()
    # 1024 descriptors: the simulator's per-device descriptors decide the largest size
    largest = limits.largest_fitting(1000, FULL.forks_of, 7.0, machine)
    assert 0 < largest < 1000 and not limits.shortfalls(largest, FULL.forks_of(largest), 7.0, machine)


def test_nothing_fits_gives_zero():
    machine = limits.Machine(mem_available_mb=1, nofile_soft=65_536, nofile_hard=65_536, ephemeral_ports=28_232,
                             nproc_soft=resource.RLIM_INFINITY)
    assert limits.largest_fitting(1000, FULL.forks_of, 7.0, machine) == 0


def test_this_machine_is_read_from_proc_and_getrlimit():
    machine = limits.Machine.current()
    assert machine.mem_available_mb > 0 and machine.ephemeral_ports > 0
    assert machine.nofile_soft <= machine.nofile_hard or machine.nofile_hard == resource.RLIM_INFINITY
