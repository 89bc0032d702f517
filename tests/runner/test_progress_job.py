"""Live progress lines reach an AWX job's stdout: ansible-runner (as AWX runs it) records the lines the device
task's worker printed while it ran, in artifacts/<ident>/stdout and as job events."""

from __future__ import annotations

import re

PLAYBOOK = """---
- name: Download slowly
  hosts: all
  gather_facts: false
  tasks:
    - name: Download the image into standby
      escalator.swim.download_image:
        name: swim-olt
        version: 2.0.0
        url: "{{ image_url }}"
        sha256: "{{ image_sha256 }}"
        timeout: 120
"""


def test_progress_lines_in_job_stdout(sim_fleet, image_server, awx_job):
    image = image_server.make_image("swim-olt", "2.0.0", size=384 * 1024)
    fleet = sim_fleet(2, transport="mixed", timings={"download_rate": 96 * 1024})
    job = awx_job("progress", fleet.inventory, project_files={"awx/progress.yml": PLAYBOOK},
                  extra_vars={"image_url": image.url, "image_sha256": image.sha256, "swim_progress_quiet_seconds": 0,
                              "swim_progress_percent": 25, "swim_progress_seconds": 1})
    assert job.status == "successful", job.stdout_text[-3000:]
    for device in ("olt-001", "olt-002"):
        lines = re.findall(rf"^swim progress {device}: download .*$", job.stdout_text, re.MULTILINE)
        assert len(lines) >= 3, (device, job.stdout_text[-3000:])
    # Each line is its own job event (AWX's job output view), between the task's start and its results.
    events = [e for e in job.events if "swim progress" in (e.get("stdout") or "")]
    assert len(events) >= 6
    start = next(e["counter"] for e in job.events if e["event"] == "playbook_on_task_start")
    first_result = min(e["counter"] for e in job.events if e["event"] == "runner_on_ok")
    assert any(start < e["counter"] < first_result for e in events)
