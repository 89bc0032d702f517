"""Credentials in URLs never leave a result."""

from ansible_collections.escalator.swim.plugins.module_utils.device import DeviceError
from ansible_collections.escalator.swim.plugins.module_utils.redaction import redact, redact_url


def test_redact_url_variants():
    assert redact_url("sftp://u:p@192.0.2.1:22/x") == "sftp://********@192.0.2.1:22/x"
    assert redact_url("http://token@h/x and ftp://a:b@c/d") == "http://********@h/x and ftp://********@c/d"
    assert redact_url("http://h/x?user=a@b") == "http://h/x?user=a@b"
    assert redact_url(None) is None


def test_redact_nested():
    value = {"a": ["http://u:p@h/x", {"b": "tftp://u:p@h/y"}], "n": 1}
    assert redact(value) == {"a": ["http://********@h/x", {"b": "tftp://********@h/y"}], "n": 1}


def test_device_error_detail_is_redacted():
    error = DeviceError("olt-1", "DownloadImage", "ERROR_IN_REQUEST", "cannot fetch http://u:pw@h/i")
    assert "pw" not in error.msg and error.msg.startswith("olt-1: DownloadImage failed: ERROR_IN_REQUEST")
