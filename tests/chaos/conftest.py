"""Make the shared helpers importable: tests/integration (playbook_runner, controller_kill), tests/faults
(swim_matrix), tests/kafka (kafka_testing) and tests/sim (sim_dmi_client, the raw DMI client)."""
from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for helper_dir in (TESTS / "integration", TESTS / "faults", TESTS / "kafka", TESTS / "sim"):
    if str(helper_dir) not in sys.path:
        sys.path.insert(0, str(helper_dir))
