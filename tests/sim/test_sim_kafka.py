"""ImageStatus events published to a real Tansu broker, read back by a real kafka-python consumer."""
from __future__ import annotations

import re
import time
import uuid

from dmi import hw_management_service_pb2 as hwm
from google.protobuf import empty_pb2
from sim_dmi_client import Dmi

from swim_sim.broker import free_port, read_topic

SIZE = 256 * 1024
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def topic() -> str:
    return f"swim.test.{uuid.uuid4().hex[:8]}"


def test_every_image_status_is_published(sim_fleet, auth_image_server, tansu_broker):
    name = topic()
    fleet = sim_fleet(2, kafka=tansu_broker, kafka_topic=name)
    image = auth_image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    device = fleet.devices[0]
    with Dmi(device) as client:
        download = client.download(image.url, image.sha256)
        activate = client.activate()
        refused = client.revert()  # standby 1.0.0 is committed: allowed
    streamed = download.states + activate.states + refused.states
    assert streamed[-1] == "ACTIVATION_COMPLETE"

    messages = read_topic(tansu_broker, name, timeout=15,
                          until=lambda ms: len([m for m in ms if m["key"] == device["uuid"]]) >= len(streamed))
    mine = [m for m in messages if m["key"] == device["uuid"]]
    values = [m["value"] for m in mine]
    assert [v["state"] for v in values] == streamed
    assert [v["rpc"] for v in values] == (["DownloadImage"] * len(download.states) + ["ActivateImage"] * 3
                                          + ["RevertToStandbyImage"] * 2)
    for value in values:
        assert set(value) == {"schema", "source", "device", "device_uuid", "rpc", "state", "reason", "description",
                              "reason_detail", "time"}
        assert (value["schema"], value["source"], value["device"], value["device_uuid"]) == (
            1, "swim-sim", device["name"], device["uuid"])
        assert value["reason"] is None
        assert ISO.match(value["time"]), value["time"]
    assert "http://***@127.0.0.1" in values[0]["description"]
    assert not any("s3cret" in str(m) for m in messages)
    # The other device did nothing: nothing published for it.
    assert not [m for m in messages if m["key"] == fleet.devices[1]["uuid"]]


def test_failures_carry_reason_and_detail(sim_fleet, image_server, tansu_broker):
    name = topic()
    fleet = sim_fleet(1, kafka=tansu_broker, kafka_topic=name, faults={"devices": {"olt-001": {"faults": ["busy"]}}})
    with Dmi(fleet.devices[0]) as client:
        assert client.activate().states == ["ACTIVATION_FAILED"]
    (message,) = read_topic(tansu_broker, name, timeout=10, until=lambda ms: len(ms) >= 1)
    value = message["value"]
    assert (value["rpc"], value["state"], value["reason"]) == ("ActivateImage", "ACTIVATION_FAILED",
                                                              "OPERATION_ALREADY_IN_PROGRESS")
    assert "another operation is in progress" in value["reason_detail"]


def test_msgbus_endpoint_can_be_set_at_run_time(sim_fleet, image_server, tansu_broker):
    name = topic()
    fleet = sim_fleet(1, kafka_topic=name)  # no --kafka: nothing is published at first
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with Dmi(fleet.devices[0]) as client:
        assert client.hw.GetMsgBusEndpoint(empty_pb2.Empty(), timeout=5).msgbus_endpoint == ""
        assert client.download(image.url, image.sha256).states[-1] == "UPGRADE_COMPLETE"
        bad = client.hw.SetMsgBusEndpoint(hwm.SetMsgBusEndpointRequest(msgbus_endpoint="kafka.example:9092"), timeout=5)
        assert (bad.status, bad.reason) == (2, 5)  # MSGBUS_ENDPOINT_ERROR: loopback only
        ok = client.hw.SetMsgBusEndpoint(hwm.SetMsgBusEndpointRequest(msgbus_endpoint=tansu_broker), timeout=5)
        assert ok.status == 1
        assert client.hw.GetMsgBusEndpoint(empty_pb2.Empty(), timeout=5).msgbus_endpoint == tansu_broker
        assert client.activate().states[-1] == "ACTIVATION_COMPLETE"
    messages = read_topic(tansu_broker, name, timeout=10, until=lambda ms: len(ms) >= 3)
    assert [m["value"]["rpc"] for m in messages] == ["ActivateImage"] * 3  # nothing from the download before
    assert [m["value"]["state"] for m in messages] == ["REBOOTING_DEVICE", "COMMITTING_IMAGE", "ACTIVATION_COMPLETE"]


def test_broker_down_never_stalls_the_simulator(sim_fleet, image_server):
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    fleet = sim_fleet(1, kafka=dead)
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with Dmi(fleet.devices[0]) as client:
        for _ in range(3):
            started = time.monotonic()
            result = client.download(image.url, image.sha256)
            assert result.states[-1] == "UPGRADE_COMPLETE"
            assert time.monotonic() - started < 2.0  # 256 KiB at 8 MiB/s + 0.2 s install
            started = time.monotonic()
            client.versions()
            assert time.monotonic() - started < 0.5
    assert fleet.stop() == 0
    log = fleet.log_text()
    assert log.count(f"Kafka at {dead} is not available") == 1
