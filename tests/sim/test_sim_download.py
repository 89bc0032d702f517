"""DownloadImage over real gRPC: progress, verification, refusals, flash semantics, redaction."""
from __future__ import annotations

import threading
import time

import pytest
from dmi import hw_pb2, sw_image_pb2
from dmi import sw_management_service_pb2 as swm
from sim_dmi_client import Dmi, reason_name

SIZE = 512 * 1024


SLOW = 256 * 1024  # bytes/s of olt-008 and olt-009 (per-device timing override in the faults YAML)


@pytest.fixture(scope="module")
def fleet(sim_fleet_module):
    slow = {"timings": {"download_rate": SLOW}}
    return sim_fleet_module(12, faults={"devices": {"olt-008": slow, "olt-009": slow}})


def dmi(fleet, index):
    return Dmi(fleet.devices[index])


def test_download_over_http_with_basic_auth_streams_progress_and_redacts(fleet, auth_image_server):
    image = auth_image_server.make_image("swim-olt", "2.0.0", size=1024 * 1024)
    assert "swim:s3cret@" in image.url
    with dmi(fleet, 0) as client:
        started = time.monotonic()
        result = client.download(image.url, image.sha256, script="install.sh")
        elapsed = time.monotonic() - started
        assert result.error is None
        assert result.compact_states == ["COPYING_IMAGE", "INSTALLING_IMAGE", "UPGRADE_COMPLETE"]
        assert all(s.status == 1 for s in result.statuses)  # OK_STATUS all along
        final = [s.description for s in result.statuses if s.description.startswith("downloaded 100%")]
        assert final == [f"downloaded 100% ({image.size}/{image.size} bytes)"]
        assert "install script install.sh" in result.statuses[-2].description
        assert elapsed >= 0.2  # INSTALLING_IMAGE lasts install_time
        # Credentials never leave the simulator: not in events, state files or logs.
        for text in result.texts:
            assert "s3cret" not in text
        assert "http://***@127.0.0.1" in result.statuses[0].description
        assert client.versions() == ([("swim-olt", "1.0.0")], [("swim-olt", "2.0.0")])
    standby = fleet.state(fleet.devices[0]["name"])["partitions"]["standby"]
    assert standby == {"image_name": "swim-olt", "version": "2.0.0", "committed": False, "valid": True,
                       "sha256": image.sha256}
    assert "s3cret" not in fleet.log_text()
    assert "***@127.0.0.1" in fleet.log_text()


def test_progress_events_are_throttled_and_monotonic(sim_fleet, image_server):
    fleet = sim_fleet(1, timings={"download_rate": 1024 * 1024})
    image = image_server.make_image("swim-olt", "2.0.0", size=1024 * 1024)
    with Dmi(fleet.devices[0]) as client:
        result = client.download(image.url, image.sha256)
    assert result.last.state == 5, result.states  # UPGRADE_COMPLETE
    progress = [s for s in result.statuses if s.description.startswith("downloaded ")]
    assert 3 <= len(progress) <= 12, [s.description for s in progress]
    percents = [int(s.description.split()[1].rstrip("%")) for s in progress]
    assert percents == sorted(percents) and percents[-1] == 100
    for s in progress[:-1]:
        assert s.description.endswith(f"/{image.size} bytes)")


def test_download_from_file_url(fleet, image_server):
    image = image_server.make_image("swim-olt", "2.1.0", size=SIZE)
    with dmi(fleet, 1) as client:
        result = client.download(f"file://{image.path}", image.sha256, version="2.1.0")
        assert result.states[-1] == "UPGRADE_COMPLETE"
        assert client.versions()[1] == [("swim-olt", "2.1.0")]


@pytest.mark.parametrize("url, detail", [
    ("ftp://127.0.0.1/x.img", "unsupported URL scheme 'ftp'"),
    ("sftp://user:pw@127.0.0.1/x.img", "unsupported URL scheme 'sftp'"),
    ("http://192.0.2.1/x.img", "not a loopback address"),
])
def test_unsupported_urls_are_errors_in_request(fleet, url, detail):
    with dmi(fleet, 2) as client:
        before = client.versions()
        result = client.download(url, "a" * 64)
        assert result.states == ["UPGRADE_FAILED"]
        assert reason_name(result.last) == "ERROR_IN_REQUEST"
        assert result.last.status == 2  # ERROR_STATUS
        assert detail in result.last.reason_detail
        assert "pw@" not in result.last.reason_detail
        assert client.versions() == before  # a refused request does not touch flash


@pytest.mark.parametrize("kwargs, missing", [
    ({"name": ""}, "image name"),
    ({"version": ""}, "version"),
    ({"url": ""}, "image_url"),
    ({"sha256": ""}, "sha256sum"),
    ({"sha256": "abc"}, "64 hexadecimal"),
])
def test_missing_fields_are_errors_in_request(fleet, image_server, kwargs, missing):
    args = {"url": image_server.url_for("x.img"), "sha256": "b" * 64, "name": "swim-olt", "version": "2.0.0", **kwargs}
    with dmi(fleet, 2) as client:
        result = client.download(args.pop("url"), args.pop("sha256"), **args)
    assert (result.states, reason_name(result.last)) == (["UPGRADE_FAILED"], "ERROR_IN_REQUEST")
    assert missing in result.last.reason_detail


def test_unknown_and_missing_device_uuid(fleet):
    with dmi(fleet, 2) as client:
        result = client.download("http://127.0.0.1:1/x.img", "c" * 64, uuid="00000000-0000-0000-0000-000000000000")
        assert (result.states, reason_name(result.last)) == (["UPGRADE_FAILED"], "UNKNOWN_DEVICE")
        result = client.download("http://127.0.0.1:1/x.img", "c" * 64, uuid="")
        assert (result.states, reason_name(result.last)) == (["UPGRADE_FAILED"], "ERROR_IN_REQUEST")
        resp = client.sw.GetSoftwareVersion(client.hid("nope"), timeout=5)
        assert resp.status == 2 and resp.reason == 1  # UNKNOWN_DEVICE
        # a uuid of a device behind ANOTHER manager is unknown here too
        other = fleet.devices[3]["uuid"]
        assert client.sw.GetSoftwareVersion(client.hid(other), timeout=5).reason == 1


def test_wrong_checksum_leaves_standby_invalid(fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    name = fleet.devices[4]["name"]
    with dmi(fleet, 4) as client:
        result = client.download(image.url, "0" * 64)
        assert result.compact_states == ["COPYING_IMAGE", "UPGRADE_FAILED"]
        assert reason_name(result.last) == "WRONG_IMAGE_CHECKSUM"
        assert image.sha256 in result.last.reason_detail
        active, standby = client.versions()
        assert active == [("swim-olt", "1.0.0")] and standby == []  # no valid standby image any more
    part = fleet.state(name)["partitions"]["standby"]
    assert part["valid"] is False and part["committed"] is False


def test_bad_magic_and_header_mismatch_are_invalid_images(fleet, image_server):
    import hashlib

    junk = b"NOTANIMG garbage\n" + bytes(1000)
    (image_server.dir / "junk.img").write_bytes(junk)
    other = image_server.make_image("other-os", "2.0.0", size=SIZE)
    with dmi(fleet, 5) as client:
        result = client.download(image_server.url_for("junk.img"), hashlib.sha256(junk).hexdigest())
        assert result.compact_states == ["COPYING_IMAGE", "UPGRADE_FAILED"]
        assert reason_name(result.last) == "INVALID_IMAGE" and "bad magic" in result.last.reason_detail
        result = client.download(other.url, other.sha256)  # header says other-os, request says swim-olt
        assert reason_name(result.last) == "INVALID_IMAGE"
        assert "header says other-os 2.0.0, request says swim-olt 2.0.0" in result.last.reason_detail


def test_http_errors(fleet, auth_image_server):
    auth_image_server.make_image("swim-olt", "2.0.0", size=SIZE)
    with dmi(fleet, 6) as client:
        result = client.download(auth_image_server.url_for("missing.img"), "d" * 64)
        assert reason_name(result.last) == "ERROR_IN_REQUEST" and "HTTP 404" in result.last.reason_detail
        no_creds = auth_image_server.url_for("swim-olt-2.0.0.img", credentials=False)
        result = client.download(no_creds, "d" * 64)
        assert reason_name(result.last) == "ERROR_IN_REQUEST" and "HTTP 401" in result.last.reason_detail
        result = client.download("http://127.0.0.1:1/x.img", "d" * 64)  # nothing listens on port 1
        assert reason_name(result.last) == "INTERNAL_ERROR" and "cannot connect" in result.last.reason_detail


def test_second_operation_is_refused_while_one_runs(fleet, image_server):
    image = image_server.make_image("swim-olt", "2.0.0", size=SIZE)  # ~2 s at SLOW
    results = {}
    with dmi(fleet, 8) as client:  # olt-009: slow download
        worker = threading.Thread(target=lambda: results.setdefault("first", client.download(image.url, image.sha256)))
        worker.start()
        time.sleep(0.5)
        second = client.download(image.url, image.sha256)
        activate = client.activate()
        worker.join(20)
    assert (second.states, reason_name(second.last)) == (["UPGRADE_FAILED"], "OPERATION_ALREADY_IN_PROGRESS")
    assert "DownloadImage is already in progress" in second.last.reason_detail
    assert (activate.states, reason_name(activate.last)) == (["ACTIVATION_FAILED"], "OPERATION_ALREADY_IN_PROGRESS")
    assert results["first"].states[-1] == "UPGRADE_COMPLETE"


def test_cancelled_stream_does_not_stop_the_download(fleet, image_server):
    """The device manager runs the procedure; a client that goes away does not abort it."""
    image = image_server.make_image("swim-olt", "3.0.0", size=SIZE)
    with dmi(fleet, 7) as client:  # olt-008: slow download
        request = swm.DownloadImageRequest(
            device_uuid=hw_pb2.Uuid(uuid=client.uuid),
            image_info=sw_image_pb2.ImageInformation(
                image=sw_image_pb2.ImageVersion(image_name="swim-olt", version="3.0.0"),
                image_url=image.url, sha256sum=image.sha256))
        request_stream = client.sw.DownloadImage(request, timeout=30)
        first = next(request_stream)
        assert first.state == 1  # COPYING_IMAGE
        request_stream.cancel()
        time.sleep(0.3)
        assert client.versions()[1] == []  # still downloading: standby invalid meanwhile
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and client.versions()[1] != [("swim-olt", "3.0.0")]:
            time.sleep(0.05)
        assert client.versions()[1] == [("swim-olt", "3.0.0")]
