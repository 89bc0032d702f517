"""Run one job the way AWX does: ``ansible_runner.run()`` on a private data directory, every job event
handed to an event handler (AWX's callback receiver stores them), status changes to a status handler.

    python awx_job.py <private_data_dir> <playbook relative to project/> <ident> <result.json>

Writes ``{"status", "rc", "events": [...], "statuses": [...]}`` to result.json. Run as its own process: the
job runs in a clean interpreter, as AWX runs ansible-runner in its own process.
"""
from __future__ import annotations

import json
import sys

import ansible_runner


def main() -> int:
    private_data_dir, playbook, ident, result_path = sys.argv[1:5]
    events: list[dict] = []
    statuses: list[str] = []

    def event_handler(event: dict) -> bool:
        events.append(event)
        return True  # keep the event in artifacts/<ident>/job_events too

    def status_handler(status: dict, runner_config) -> None:
        statuses.append(status["status"])

    runner = ansible_runner.run(private_data_dir=private_data_dir, playbook=playbook, ident=ident, quiet=True,
                                event_handler=event_handler, status_handler=status_handler)
    with open(result_path, "w", encoding="utf-8") as out:
        json.dump({"status": runner.status, "rc": runner.rc, "events": events, "statuses": statuses}, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
