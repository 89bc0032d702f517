"""200 devices in one simulator process on 2 cores: starts quickly and every device answers."""
from __future__ import annotations

import asyncio
import re
import time

import grpc
from dmi import hw_pb2
from dmi import sw_management_service_pb2_grpc as swm_grpc

COUNT = 200


async def ask_all(devices):
    async def ask(device):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{device['port']}") as channel:
            stub = swm_grpc.NativeSoftwareManagementServiceStub(channel)
            resp = await stub.GetSoftwareVersion(hw_pb2.HardwareID(uuid=hw_pb2.Uuid(uuid=device["uuid"])), timeout=20)
            return resp.status, resp.info.active_versions[0].version

    return await asyncio.gather(*(ask(d) for d in devices))


def test_fleet_of_200(sim_fleet):
    started = time.monotonic()
    fleet = sim_fleet(COUNT)
    wall = time.monotonic() - started
    ready = re.search(r"start ([\d.]+)s, rss (\d+) MB", fleet.ready_message)
    print(f"\n200-device fleet: ready after {wall:.2f}s wall (in-process start {ready.group(1)}s, "
          f"RSS {ready.group(2)} MB)")
    assert len(fleet.devices) == COUNT and len({d["port"] for d in fleet.devices}) == COUNT
    assert wall < 30
    answers = asyncio.run(ask_all(fleet.devices))
    assert answers == [(1, "1.0.0")] * COUNT
    assert len(list(fleet.state_dir.glob("olt-*.json"))) == COUNT
