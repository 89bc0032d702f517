"""``python -m swim_bench.baseline``: the same campaign in plain asyncio Python, no Ansible.

The reference for "how close to the limit": it drives the same DMI RPCs, in the same order, as the
``rolling_upgrade`` playbook does per device (precheck and backup of every device first, then the
batches one after the other) with the same concurrency limit as Ansible's forks, using the real
``dmi`` stubs over gRPC aio. It keeps no campaign directory, status table or locks beyond writing
the snapshots, so it is a lower bound of what any controller can do.

Per device (RPCs of the collection's tasks, see plugins/module_utils/dmi.py):
  precheck   GetSoftwareVersion; snapshot = GetSoftwareVersion + GetStartupConfigurationInfo +
             GetPhysicalInventory
  backup     snapshot, written to a JSON file
  upgrade    GetSoftwareVersion, DownloadImage (stream to UPGRADE_COMPLETE), GetSoftwareVersion,
             GetSoftwareVersion, ActivateImage (stream to ACTIVATION_COMPLETE or lost in the reboot),
             GetSoftwareVersion polled until the device answers, GetSoftwareVersion (verify)
  postcheck  snapshot, written to a JSON file, compared on the active version

Prints one JSON document: wall time, per-phase times, outcome per device.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import grpc
from dmi import hw_management_service_pb2 as hw_msgs
from dmi import hw_management_service_pb2_grpc as hw_rpc
from dmi import hw_pb2, sw_image_pb2
from dmi import sw_management_service_pb2 as sw_msgs
from dmi import sw_management_service_pb2_grpc as sw_rpc
from google.protobuf.json_format import MessageToDict

# The collection's own channel options (plugins/module_utils/dmi.py): quick reconnect after a reboot.
CHANNEL_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.min_reconnect_backoff_ms", 200),
                   ("grpc.max_reconnect_backoff_ms", 2000), ("grpc.enable_retries", 0)]
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
State = sw_image_pb2.ImageStatus.ImageState


class Dev:
    def __init__(self, record: dict):
        self.name = record["name"]
        self.uuid = hw_pb2.Uuid(uuid=record["uuid"])
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{record['port']}", options=CHANNEL_OPTIONS)
        self.sw = sw_rpc.NativeSoftwareManagementServiceStub(self.channel)
        self.hw = hw_rpc.NativeHWManagementServiceStub(self.channel)

    def hwid(self):
        return hw_pb2.HardwareID(uuid=self.uuid)

    async def versions(self) -> tuple[list, list]:
        reply = await self.sw.GetSoftwareVersion(self.hwid(), timeout=30)
        if reply.status != 1:
            raise RuntimeError(f"{self.name}: GetSoftwareVersion: reason {reply.reason}")
        info = reply.info
        return ([(v.image_name, v.version) for v in info.active_versions],
                [(v.image_name, v.version) for v in info.standby_versions])

    async def snapshot(self) -> dict:
        active, standby = await self.versions()
        config = await self.sw.GetStartupConfigurationInfo(
            sw_msgs.StartupConfigInfoRequest(device_uuid=self.uuid), timeout=30)
        inventory = None
        async for reply in self.hw.GetPhysicalInventory(hw_msgs.PhysicalInventoryRequest(device_uuid=self.uuid),
                                                        timeout=30):
            inventory = reply.inventory
            break
        return {"device": self.name, "active": active, "standby": standby,
                "startup_config": {"config_url": config.config_url, "version": config.version},
                "inventory": MessageToDict(inventory) if inventory is not None else {}}

    async def follow(self, call, success: int, reboots: bool) -> None:
        rebooting = False
        try:
            async for status in call:
                if status.state == State.REBOOTING_DEVICE:
                    rebooting = True
                if status.state == success and status.status != 2:
                    return
                if status.status == 2 or status.state in (State.UPGRADE_FAILED, State.ACTIVATION_FAILED):
                    raise RuntimeError(f"{self.name}: {State.Name(status.state)} {status.reason_detail}")
        except grpc.aio.AioRpcError as exc:
            if not (reboots and rebooting and exc.code() in RETRYABLE):
                raise
        if not (reboots and rebooting):
            raise RuntimeError(f"{self.name}: stream ended without a terminal state")

    async def wait_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.2
        while True:
            try:
                await self.versions()
                return
            except (grpc.aio.AioRpcError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 1.6, 2.0)


async def precheck(dev: Dev, snapshots: Path) -> None:
    await dev.versions()
    await dev.snapshot()
    snap = await dev.snapshot()
    (snapshots / f"{dev.name}.pre.json").write_text(json.dumps(snap))


async def upgrade(dev: Dev, image: dict, snapshots: Path) -> str:
    await dev.versions()
    request = sw_msgs.DownloadImageRequest(device_uuid=dev.uuid, image_info=sw_image_pb2.ImageInformation(
        image=sw_image_pb2.ImageVersion(image_name=image["name"], version=image["version"]),
        image_url=image["url"], sha256sum=image["sha256"]))
    await dev.follow(dev.sw.DownloadImage(request, timeout=1800), State.UPGRADE_COMPLETE, reboots=False)
    await dev.versions()
    await dev.versions()
    await dev.follow(dev.sw.ActivateImage(dev.hwid(), timeout=900), State.ACTIVATION_COMPLETE, reboots=True)
    await dev.wait_answering(900)
    active, _ = await dev.versions()
    snap = await dev.snapshot()
    (snapshots / f"{dev.name}.post.json").write_text(json.dumps(snap))
    version = active[0][1] if active else ""
    return "upgraded" if version == image["version"] and snap["active"][0][1] == version else f"runs {version}"


async def campaign(devices: list[dict], image: dict, batch_size: int, forks: int, snapshots: Path) -> dict:
    limit = asyncio.Semaphore(forks)
    devs = [Dev(record) for record in devices]

    async def bounded(coro):
        async with limit:
            return await coro

    started = time.monotonic()
    outcomes: dict[str, str] = {}
    try:
        await asyncio.gather(*(bounded(precheck(d, snapshots)) for d in devs))
        prechecked = time.monotonic()
        batch_times = []
        for first in range(0, len(devs), batch_size):
            t0 = time.monotonic()
            batch = devs[first:first + batch_size]
            results = await asyncio.gather(*(bounded(upgrade(d, image, snapshots)) for d in batch),
                                           return_exceptions=True)
            for dev, result in zip(batch, results):
                outcomes[dev.name] = result if isinstance(result, str) else f"failed: {result}"
            batch_times.append(round(time.monotonic() - t0, 2))
    finally:
        await asyncio.gather(*(d.channel.close() for d in devs), return_exceptions=True)
    return {"wall_s": round(time.monotonic() - started, 2), "precheck_s": round(prechecked - started, 2),
            "batch_s": batch_times, "outcomes": {o: list(outcomes.values()).count(o) for o in set(outcomes.values())}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m swim_bench.baseline", description=__doc__.split("\n")[0])
    parser.add_argument("--fleet-json", type=Path, required=True, help="fleet.json written by swim-sim fleet")
    parser.add_argument("--image", required=True, help="JSON: {name, version, url, sha256}")
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--snapshots", type=Path, required=True)
    args = parser.parse_args(argv)
    devices = json.loads(args.fleet_json.read_text())["devices"]
    args.snapshots.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(campaign(devices, json.loads(args.image), args.batch_size, args.forks, args.snapshots))
    print(json.dumps(result))
    return 0 if set(result["outcomes"]) == {"upgraded"} else 1


if __name__ == "__main__":
    sys.exit(main())
