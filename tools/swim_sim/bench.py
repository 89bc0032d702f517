"""``python -m swim_sim.bench``: measure a simulator fleet on this machine.

Starts ``swim-sim fleet`` (real subprocess) with N devices, reports start time and RSS,
checks every device answers, then upgrades ALL devices at once (download + activate over
DMI) and reports the wall time and the simulator's CPU and peak RSS. Loopback only.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import grpc
from dmi import hw_pb2, sw_image_pb2
from dmi import sw_management_service_pb2 as swm
from dmi import sw_management_service_pb2_grpc as swm_grpc

from .images import ImageServer
from .testing import SimFleet


def _proc_stats(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "peak_rss_mb": int(fields["VmHWM"].split()[0]) / 1024,
            "cpu_s": (int(stat[11]) + int(stat[12])) / ticks, "threads": int(fields["Threads"])}


async def _upgrade_all(devices, image) -> list[str]:
    async def one(device) -> str:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{device['port']}") as channel:
            stub = swm_grpc.NativeSoftwareManagementServiceStub(channel)
            uuid = hw_pb2.Uuid(uuid=device["uuid"])
            request = swm.DownloadImageRequest(device_uuid=uuid, image_info=sw_image_pb2.ImageInformation(
                image=sw_image_pb2.ImageVersion(image_name=image.name, version=image.version),
                image_url=image.url, sha256sum=image.sha256))
            last = None
            async for status in stub.DownloadImage(request, timeout=600):
                last = status
            if last is None or last.state != sw_image_pb2.ImageStatus.UPGRADE_COMPLETE:
                return "download failed"
            async for status in stub.ActivateImage(hw_pb2.HardwareID(uuid=uuid), timeout=600):
                last = status
            return sw_image_pb2.ImageStatus.ImageState.Name(last.state)

    return await asyncio.gather(*(one(d) for d in devices))


async def _ask_all(devices) -> int:
    async def ask(device) -> bool:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{device['port']}") as channel:
            resp = await swm_grpc.NativeSoftwareManagementServiceStub(channel).GetSoftwareVersion(
                hw_pb2.HardwareID(uuid=hw_pb2.Uuid(uuid=device["uuid"])), timeout=30)
            return resp.status == 1

    return sum(await asyncio.gather(*(ask(d) for d in devices)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m swim_sim.bench")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--per-manager", type=int, default=1)
    parser.add_argument("--image-size", type=int, default=1024 * 1024)
    parser.add_argument("--no-upgrade", action="store_true", help="only measure start-up")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results: dict = {"count": args.count, "per_manager": args.per_manager}
    with tempfile.TemporaryDirectory(prefix="swim-bench-") as tmp:
        fleet = SimFleet(Path(tmp) / "fleet", args.count, per_manager=args.per_manager,
                         timings={"download_rate": 8 * 1024 * 1024, "install_time": 1, "reboot_time": 2,
                                  "sanity_time": 1})
        started = time.monotonic()
        fleet.start()
        results["start_wall_s"] = round(time.monotonic() - started, 2)
        try:
            results["after_start"] = _proc_stats(fleet.pid)
            results["answering"] = asyncio.run(_ask_all(fleet.devices))
            if not args.no_upgrade:
                with ImageServer(Path(tmp) / "images") as server:
                    image = server.make_image("swim-olt", "2.0.0", size=args.image_size)
                    cpu0 = _proc_stats(fleet.pid)["cpu_s"]
                    started = time.monotonic()
                    outcomes = asyncio.run(_upgrade_all(fleet.devices, image))
                    results["upgrade_all_wall_s"] = round(time.monotonic() - started, 2)
                    after = _proc_stats(fleet.pid)
                    results["upgrade_all_sim_cpu_s"] = round(after["cpu_s"] - cpu0, 2)
                    results["after_upgrade"] = after
                    results["upgrade_outcomes"] = {o: outcomes.count(o) for o in set(outcomes)}
        finally:
            fleet.stop()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    ok = results["answering"] == args.count and results.get("upgrade_outcomes", {}).get(
        "ACTIVATION_COMPLETE", args.count) == args.count
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
