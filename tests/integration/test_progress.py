"""Live progress in the play output: a slow simulated download shows several progress lines for each device
while the task runs, in ansible-playbook's stdout (here) and in an ansible-runner job's stdout
(tests/runner/test_awx_jobs.py::test_progress_lines_in_job_stdout). One mixed fleet: DMI devices report
percentages, NETCONF devices (BBF TR-383 has no download percentage) say so."""

from __future__ import annotations

import re

from playbook_runner import run_playbook

# Progress every 20 % or every second, from the task's first second (the default stays quiet for 10 s).
PROGRESS_VARS = {"swim_progress_quiet_seconds": 0, "swim_progress_percent": 20, "swim_progress_seconds": 1}
SLOW = {"download_rate": 96 * 1024, "reboot_time": 0.5}      # 384 KiB: about 4 s per download
LINE = re.compile(r"^swim progress (?P<device>\S+): (?P<stage>\w+) (?P<state>[A-Z_]+)(?P<rest>.*)$", re.MULTILINE)


def progress_lines(stdout: str) -> dict:
    found: dict = {}
    for match in LINE.finditer(stdout):
        found.setdefault(match["device"], []).append(match.groupdict())
    return found


def test_slow_download_prints_progress_lines_per_device(sim_fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=384 * 1024)
    fleet = sim_fleet(4, transport="mixed", timings=SLOW)
    transports = {d["name"]: d["transport"] for d in fleet.devices}
    run = run_playbook("upgrade.yml", fleet.inventory, timeout=300,
                       extra_vars={"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url,
                                             "sha256": image.sha256}, **PROGRESS_VARS})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    lines = progress_lines(run.stdout)
    assert set(lines) == set(transports), run.stdout[-4000:]
    for device, transport in transports.items():
        downloads = [line for line in lines[device] if line["stage"] == "download"]
        assert len(downloads) >= 3, (device, lines[device])
        assert any(line["stage"] == "activate" for line in lines[device]), lines[device]
        assert all(re.search(r"\[\d+s\]$", line["rest"]) for line in lines[device])     # elapsed time
        if transport == "dmi":
            percents = [float(m) for line in downloads for m in re.findall(r" (\d+(?:\.\d+)?)% ", line["rest"])]
            assert len(percents) >= 2 and percents == sorted(percents), downloads
            assert any("KiB of 384.0 KiB" in line["rest"] for line in downloads)
        else:
            assert any("no progress reported by the device" in line["rest"] for line in downloads), downloads
    # Printed while the task ran, not after it: the lines come before the task's own result lines.
    download_task = run.stdout.index("TASK [Download the image into standby]")
    first_result = run.stdout.index("changed: [", download_task)
    assert run.stdout.index("swim progress", download_task) < first_result


def test_short_tasks_stay_quiet_by_default(sim_fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=64 * 1024)
    fleet = sim_fleet(1, timings={"reboot_time": 0.3})
    run = run_playbook("upgrade.yml", fleet.inventory, timeout=300,
                       extra_vars={"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url,
                                             "sha256": image.sha256}})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "swim progress" not in run.stdout
    assert "changed: [olt-001]" in run.stdout       # the tasks did run (the quiet is the throttle, not a skip)


def test_swim_progress_false_turns_it_off(sim_fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=192 * 1024)
    fleet = sim_fleet(1, timings=SLOW)
    run = run_playbook("upgrade.yml", fleet.inventory, timeout=300,
                       extra_vars={"image": {"name": "swim-olt", "version": "2.0.0", "url": image.url,
                                             "sha256": image.sha256}, **PROGRESS_VARS, "swim_progress": False})
    assert run.returncode == 0, run.stdout[-3000:]
    assert "swim progress" not in run.stdout
