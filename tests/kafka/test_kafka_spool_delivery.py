"""A broker that is down: the playbook is unaffected, events spool, and arrive in order later."""
from __future__ import annotations

import json
import subprocess
import time

from swim_sim.broker import TansuBroker, free_port

from kafka_testing import (ROOT, SMOKE_EVENTS, SMOKE_HOSTS, ansible_env, by_partition, callback_env, local_inventory,
                           playbook_command, read_messages, run, unique, warnings_of)


def spool_lines(spool_dir) -> list[dict]:
    lines = []
    for path in sorted(spool_dir.glob("*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return lines


def spool_text(spool_dir) -> str:
    return "".join(p.read_text() for p in spool_dir.glob("*.jsonl*"))


def assert_ordered_runs(messages, run_order: list[str]) -> None:
    """Per partition (one per key): events ordered by run (oldest first), then by seq."""
    rank = {run_id: index for index, run_id in enumerate(run_order)}
    for group in by_partition(messages).values():
        for key in {m.key for m in group}:
            order = [(rank[m.value["run_id"]], m.value["seq"]) for m in group if m.key == key]
            assert order == sorted(order) and len(set(order)) == len(order), (key, order)


def test_broker_down_spools_then_next_run_delivers_everything_in_order(tmp_path):
    port = free_port()  # nothing listens here until the broker starts below
    bootstrap = f"127.0.0.1:{port}"
    topic, secret = unique("swim.events.down"), unique("pw")
    spool = tmp_path / "spool"
    inventory = local_inventory(tmp_path / "hosts.yml", SMOKE_HOSTS)
    extra = {"campaign": "down-test", "planted_secret": secret}

    baseline = [run("events.yml", inventory, extra_vars=extra) for _ in range(2)]
    down = [run("events.yml", inventory, env=callback_env(bootstrap, topic, spool), extra_vars=extra)
            for _ in range(2)]
    for result in baseline + down:
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for result in down:
        assert len(warnings_of(result.stdout + result.stderr)) == 1, result.stdout + result.stderr
    ratio = min(r.wall for r in down) / min(r.wall for r in baseline)
    print(f"wall time, broker down vs no callback: {[round(r.wall, 2) for r in down]} vs "
          f"{[round(r.wall, 2) for r in baseline]} (ratio {ratio:.2f})")
    assert ratio < 2.0, ratio

    spooled = spool_lines(spool)
    assert len(spooled) == 2 * SMOKE_EVENTS
    run_order = list(dict.fromkeys(line["value"]["run_id"] for line in spooled))
    assert len(run_order) == 2
    text = spool_text(spool)
    assert secret not in text and "literal-pw-7Qx2" not in text and "********@" in text
    assert all(p.stat().st_mode & 0o077 == 0 for p in spool.glob("*.jsonl"))

    with TansuBroker(port=port, log_path=tmp_path / "tansu.log"):
        up = run("events.yml", inventory, env=callback_env(bootstrap, topic, spool), extra_vars=extra)
        assert up.returncode == 0
        assert not warnings_of(up.stdout + up.stderr), up.stdout
        messages = read_messages(bootstrap, [topic], count=3 * SMOKE_EVENTS, timeout=30)
    assert len(messages) == 3 * SMOKE_EVENTS
    assert len({m.value["event_id"] for m in messages}) == 3 * SMOKE_EVENTS  # nothing lost, nothing twice
    run_order += [r for r in dict.fromkeys(m.value["run_id"] for m in messages) if r not in run_order]
    assert len(run_order) == 3
    assert_ordered_runs(messages, run_order)
    for run_id in run_order:
        assert sorted(m.value["seq"] for m in messages if m.value["run_id"] == run_id) == \
            list(range(1, SMOKE_EVENTS + 1))
    assert spool_lines(spool) == []
    assert all(secret not in m.raw.decode() for m in messages)


def test_broker_back_during_the_run_gets_the_backlog_before_the_run_ends(tmp_path):
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    topic = unique("swim.events.back")
    spool, marker = tmp_path / "spool", tmp_path / "marker"
    inventory = local_inventory(tmp_path / "hosts.yml", ["olt-w"])
    command = playbook_command("wait_marker.yml", inventory, {"marker": str(marker)})
    proc = subprocess.Popen(command, cwd=ROOT, env=ansible_env(callback_env(bootstrap, topic, spool)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    broker = TansuBroker(port=port, log_path=tmp_path / "tansu.log")
    try:
        deadline = time.monotonic() + 60
        while not spool_lines(spool) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert spool_lines(spool), "the run never spooled an event while the broker was down"
        broker.start()
        marker.touch()
        output, _ = proc.communicate(timeout=90)
        assert proc.returncode == 0, output
        assert len(warnings_of(output)) == 1, output
        expected = 2 + 3 + 3 + 2  # playbook/play start, 3 task starts, 3 results, stats, playbook end
        messages = read_messages(bootstrap, [topic], count=expected, timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        broker.stop()
    assert len(messages) == expected, [m.value["event"] for m in messages]
    assert sorted(m.value["seq"] for m in messages) == list(range(1, expected + 1))
    assert_ordered_runs(messages, [messages[0].value["run_id"]])
    assert spool_lines(spool) == []  # drained by the end of the same run
