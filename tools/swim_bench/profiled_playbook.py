"""``python -m swim_bench.profiled_playbook --dump-dir DIR ARGS...``: ansible-playbook ARGS under cProfile.

What ``python -m swim_bench --profile`` runs instead of ``ansible-playbook``. Nothing of it is in the
collection: a normal run (and every user's) pays nothing for it.

- the main process (strategy, variable manager, result handling, callbacks) runs under one
  cProfile, dumped to ``DIR/main.prof`` with ``DIR/main.json`` (its own CPU from getrusage);
- every forked worker (one host-task each) profiles its ``WorkerProcess._run`` (task templating,
  argument validation, the action plugin, the device I/O and sending the result back), dumped to
  ``DIR/worker-<pid>-<ns>.prof`` with ``.json``: task action, host, the worker's whole CPU since
  the fork (getrusage RUSAGE_SELF, which a fork starts at zero) and the CPU spent before ``_run`` began
  (the fork's copy-on-write faults, multiprocessing's bootstrap, detaching stdio), the size of the
  result it sent.

The inherited profiler of the main process is replaced in the child, so the parent's profile only has
the parent's work. cProfile slows pure-Python code (typically 1.3-2x), so the breakdown is read as shares
of the profiled CPU; the plain run's CPU stays the figure of record.
"""
from __future__ import annotations

import cProfile
import json
import os
import pickle
import resource
import sys
import time
from pathlib import Path


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def install_worker_profiler(dump_dir: Path) -> None:
    """Wrap WorkerProcess._run (runs in the forked worker) and FinalQueue.send_task_result (result size)."""
    from ansible.executor import task_queue_manager
    from ansible.executor.process import worker

    original_run = worker.WorkerProcess._run
    original_send = task_queue_manager.FinalQueue.send_task_result
    sent: dict = {}

    def send_task_result(self, task_result):
        if os.environ.get("SWIM_BENCH_IN_WORKER") == str(os.getpid()):
            started = time.process_time()
            wire = task_result.as_wire_task_result()
            sent["result_bytes"] = len(pickle.dumps(wire))
            sent["measure_s"] = time.process_time() - started
        return original_send(self, task_result)

    def profiled_run(self):
        cpu_before_run = _cpu_self()
        os.environ["SWIM_BENCH_IN_WORKER"] = str(os.getpid())
        profiler = cProfile.Profile(time.process_time)  # CPU, not wall: a worker mostly waits on its device
        started = time.monotonic()
        profiler.enable()
        try:
            return original_run(self)
        finally:
            profiler.disable()
            pid = os.getpid()
            name = f"worker-{pid}-{time.monotonic_ns()}"  # pids are reused over a long run
            profiler.dump_stats(str(dump_dir / f"{name}.prof"))
            info = {"pid": pid, "action": self._task._resolved_action or self._task.action,
                    "task": self._task.get_name(), "host": self._host.get_name(),
                    "cpu_s": round(_cpu_self(), 4), "cpu_before_run_s": round(cpu_before_run, 4),
                    "wall_s": round(time.monotonic() - started, 4), **sent}
            # Written whole or not at all: the main process may end a worker that has sent its result.
            (dump_dir / f"{name}.tmp").write_text(json.dumps(info))
            os.replace(dump_dir / f"{name}.tmp", dump_dir / f"{name}.json")

    worker.WorkerProcess._run = profiled_run
    task_queue_manager.FinalQueue.send_task_result = send_task_result


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] != "--dump-dir":
        print("usage: python -m swim_bench.profiled_playbook --dump-dir DIR ANSIBLE_PLAYBOOK_ARGS...", file=sys.stderr)
        return 2
    dump_dir = Path(argv[1])
    dump_dir.mkdir(parents=True, exist_ok=True)
    install_worker_profiler(dump_dir)
    from ansible.cli.playbook import main as playbook_main

    profiler = cProfile.Profile(time.thread_time)  # the main thread's CPU (the results thread only reads the queue)
    code = 0
    profiler.enable()
    try:
        playbook_main(["ansible-playbook", *argv[2:]])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        profiler.disable()
        profiler.dump_stats(str(dump_dir / "main.prof"))
        (dump_dir / "main.json").write_text(json.dumps({"pid": os.getpid(), "cpu_s": round(_cpu_self(), 4)}))
    return code


if __name__ == "__main__":
    sys.exit(main())
