"""Pid files, detaching a command into the background, and stopping it again."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .persist import write_json_atomic


def write_pidfile(path: str | Path, pid: int | None = None) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{pid or os.getpid()}\n")
    os.replace(tmp, path)


def read_pid(path: str | Path) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def remove_own_pidfile(path: str | Path | None) -> None:
    """Remove the pid file only if it still names this process."""
    if path and read_pid(path) == os.getpid():
        try:
            Path(path).unlink()
        except FileNotFoundError:
            pass


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie nobody reaped yet is as good as gone
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def is_swim_sim(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return True  # cannot tell (no /proc): trust the pid file
    return b"swim_sim" in cmdline or b"swim-sim" in cmdline


def signal_ready(ready_file: str | Path | None, info: dict) -> None:
    if ready_file:
        write_json_atomic(Path(ready_file), {"pid": os.getpid(), **info})


def detach(argv: list[str], pidfile: Path, log_path: Path, timeout: float) -> int:
    """Run ``swim-sim <argv>`` (without --detach) in a new session; return 0 once it reported
    ready (it writes the pid file itself), non-zero with a message if it failed to start."""
    pidfile = Path(pidfile)
    running = read_pid(pidfile)
    if running is not None and running != os.getpid() and alive(running) and is_swim_sim(running):
        print(f"swim-sim: already running as pid {running} (pid file {pidfile}); stop it first", file=sys.stderr)
        return 1
    ready = pidfile.with_name(pidfile.name + ".ready")
    ready.unlink(missing_ok=True)
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "swim_sim.cli", *argv, "--ready-file", str(ready)]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)
    deadline = time.monotonic() + timeout
    while True:
        if ready.exists():
            info = json.loads(ready.read_text())
            ready.unlink(missing_ok=True)
            print(info.get("message", f"started (pid {proc.pid})"), flush=True)
            return 0
        rc = proc.poll()
        if rc is not None:
            print(f"swim-sim: start-up failed (exit code {rc}); last log lines from {log_path}:", file=sys.stderr)
            print(_tail(log_path), file=sys.stderr)
            return rc or 1
        if time.monotonic() > deadline:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            print(f"swim-sim: not ready after {timeout:.0f}s; stopped it. Log: {log_path}", file=sys.stderr)
            print(_tail(log_path), file=sys.stderr)
            return 1
        time.sleep(0.05)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(pidfile: str | Path, timeout: float = 30.0) -> int:
    """SIGTERM the process named in ``pidfile``, wait (bounded), remove the pid file."""
    pidfile = Path(pidfile)
    pid = read_pid(pidfile)
    if pid is None:
        print(f"swim-sim stop: no pid file at {pidfile}: nothing to stop")
        return 0
    if not alive(pid):
        pidfile.unlink(missing_ok=True)
        print(f"swim-sim stop: process {pid} is not running; removed stale {pidfile}")
        return 0
    if not is_swim_sim(pid):
        print(f"swim-sim stop: pid {pid} from {pidfile} is not a swim-sim process; not signalling it",
              file=sys.stderr)
        return 1
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    rc = 0
    if alive(pid):
        print(f"swim-sim stop: {pid} did not exit within {timeout:.0f}s of SIGTERM; killing it", file=sys.stderr)
        os.kill(pid, signal.SIGKILL)
        kill_deadline = time.monotonic() + 5
        while alive(pid) and time.monotonic() < kill_deadline:
            time.sleep(0.05)
        rc = 1
    pidfile.unlink(missing_ok=True)
    print(f"swim-sim stop: stopped {pid}")
    return rc
