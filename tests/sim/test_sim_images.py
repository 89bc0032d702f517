"""Image format, make-image, the HTTP image server (auth) and the serve-images/broker commands."""
from __future__ import annotations

import base64
import hashlib
import subprocess
import urllib.error
import urllib.request

import pytest

from swim_sim.broker import read_topic
from swim_sim.images import ImageFormatError, make_image, parse_header
from swim_sim.redact import redact
from swim_sim.testing import swim_sim_command


def run(*args, timeout=60):
    return subprocess.run(swim_sim_command(*args), capture_output=True, text=True, timeout=timeout)


def test_image_format_is_deterministic(tmp_path):
    path, sha = make_image(tmp_path / "a.img", "swim-olt", "2.0.0", size=1000)
    data = path.read_bytes()
    assert data.startswith(b'SWIMIMG1 {"name": "swim-olt", "version": "2.0.0"}\n')
    assert len(data) == len(data.split(b"\n", 1)[0]) + 1 + 1000
    assert sha == hashlib.sha256(data).hexdigest()
    assert make_image(tmp_path / "b.img", "swim-olt", "2.0.0", size=1000)[1] == sha
    assert make_image(tmp_path / "c.img", "swim-olt", "2.0.1", size=1000)[1] != sha
    assert parse_header(data[:4096]) == {"name": "swim-olt", "version": "2.0.0"}
    for bad in (b"SWIMIMG2 {}\n", b"SWIMIMG1 not json\n", b"SWIMIMG1 {\"name\": 1}\n", b"no newline"):
        with pytest.raises(ImageFormatError):
            parse_header(bad)


def test_make_image_command_prints_sha256(tmp_path):
    result = run("make-image", "--name", "swim-olt", "--version", "3.1.4", "--size", "4096", "--out", f"{tmp_path}/")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "swim-olt-3.1.4.img"
    assert result.stdout.strip() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_image_server_enforces_basic_auth(auth_image_server):
    image = auth_image_server.make_image("swim-olt", "2.0.0", size=2048)
    plain = auth_image_server.url_for(image.filename, credentials=False)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(plain, timeout=5)
    assert err.value.code == 401
    request = urllib.request.Request(plain, headers={
        "Authorization": "Basic " + base64.b64encode(b"swim:s3cret").decode()})
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert hashlib.sha256(resp.read()).hexdigest() == image.sha256
    assert image.url == plain.replace("http://", "http://swim:s3cret@")


def test_serve_images_command_detached(tmp_path):
    make_image(tmp_path / "www" / "x.img", "swim-olt", "2.0.0", size=100)
    pidfile = tmp_path / "img.pid"
    result = run("serve-images", "--dir", str(tmp_path / "www"), "--auth", "u:p", "--detach", "--pidfile", str(pidfile))
    try:
        assert result.returncode == 0, result.stderr
        url = result.stdout.split(" at ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:") and pidfile.exists()
        request = urllib.request.Request(url + "x.img", headers={"Authorization": "Basic " + base64.b64encode(b"u:p").decode()})
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert resp.read().startswith(b"SWIMIMG1 ")
    finally:
        assert run("stop", "--pidfile", str(pidfile)).returncode == 0
    assert not pidfile.exists()


def test_broker_command_detached(tmp_path):
    pidfile = tmp_path / "broker.pid"
    result = run("broker", "--detach", "--pidfile", str(pidfile))
    try:
        assert result.returncode == 0, result.stderr
        bootstrap = result.stdout.split(" at ", 1)[1].split()[0]
        assert bootstrap.startswith("127.0.0.1:")
        from kafka import KafkaProducer

        producer = KafkaProducer(bootstrap_servers=bootstrap, bootstrap_timeout_ms=5000)
        producer.send("swim.cli", key=b"k", value=b'{"ok": true}').get(timeout=10)
        producer.close(5)
        assert read_topic(bootstrap, "swim.cli", timeout=10, until=lambda m: m)[0]["value"] == {"ok": True}
    finally:
        assert run("stop", "--pidfile", str(pidfile)).returncode == 0


@pytest.mark.parametrize("text, expected", [
    ("get http://user:pass@127.0.0.1:8080/x.img now", "get http://***@127.0.0.1:8080/x.img now"),
    ("sftp://a:b@h/p and file:///tmp/x", "sftp://***@h/p and file:///tmp/x"),
    ("http://token@host/p", "http://***@host/p"),
    ("no url here user:pass@host", "no url here user:pass@host"),
])
def test_redaction(text, expected):
    assert redact(text) == expected
