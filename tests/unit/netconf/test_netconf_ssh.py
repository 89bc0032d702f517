"""The SSH leg: host-key algorithm order (RFC 8332 RSA aliases), ProxyJump parsing, ssh_config, auth-EOF."""

from __future__ import annotations

import paramiko
import pytest

from ansible_collections.escalator.swim.plugins.module_utils import netconf_ssh as S


def known_hosts(tmp_path, *keys, host="[127.0.0.1]:830"):
    path = tmp_path / "known_hosts"
    path.write_text("".join(f"{host} {k.get_name()} {k.get_base64()}\n" for k in keys))
    store = S.PreferringHostKeys()
    store.load(str(path))
    return store


def test_an_rsa_entry_offers_rsa_sha2_first_then_every_other_algorithm(tmp_path):
    rsa = paramiko.RSAKey.generate(1024)
    store = known_hosts(tmp_path, rsa)
    order = list(store.lookup("[127.0.0.1]:830"))
    assert order[:2] == ["rsa-sha2-512", "rsa-sha2-256"]
    assert "ssh-rsa" not in order, "no SHA-1 signatures"
    assert set(order[2:]) >= {"ssh-ed25519", "ecdsa-sha2-nistp256"}
    assert store.lookup("127.0.0.1") is None, "no entry: ncclient keeps paramiko's defaults"
    assert store.check("[127.0.0.1]:830", rsa)
    assert not store.check("[127.0.0.1]:830", paramiko.RSAKey.generate(1024))
    assert store.recorded("127.0.0.1", "[127.0.0.1]:830") == {"ssh-rsa": rsa}


def test_an_ed25519_entry_comes_first_and_rsa_stays_possible(tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    raw = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                                    serialization.NoEncryption())
    (tmp_path / "k").write_bytes(raw)
    key = paramiko.Ed25519Key(filename=str(tmp_path / "k"))
    order = list(known_hosts(tmp_path, key).lookup("[127.0.0.1]:830"))
    assert order[0] == "ssh-ed25519" and "rsa-sha2-512" in order


@pytest.mark.parametrize("spec, hops", [
    ("bastion", [(None, "bastion", 22)]),
    ("ops@bastion:2222", [("ops", "bastion", 2222)]),
    ("a@[::1]:2200,b", [("a", "::1", 2200), (None, "b", 22)]),
    ("ssh://u@h:23", [("u", "h", 23)]),
])
def test_proxy_jump_syntax(spec, hops):
    assert S.parse_jump(spec) == hops


def test_proxy_jump_syntax_errors_are_clear():
    with pytest.raises(S.ConnectFailure) as info:
        S.parse_jump("bastion:ssh")
    assert info.value.reason == "ERROR_IN_REQUEST" and "[user@]host[:port]" in info.value.detail


def test_ssh_config_fills_what_the_task_does_not_say(tmp_path):
    config = tmp_path / "config"
    config.write_text("Host olt-*\n  HostName 192.0.2.7\n  Port 2830\n  User netconf\n  IdentityFile ~/k\n"
                      "  ProxyJump ops@bastion\n  UserKnownHostsFile /etc/k\n")
    settings = S.SshSettings.from_params({"host": "olt-1", "ssh_config": str(config)})
    assert (settings.host, settings.port, settings.username) == ("192.0.2.7", 2830, "netconf")
    assert settings.proxy_jump == "ops@bastion" and settings.known_hosts_file == "/etc/k"
    assert settings.key_files and settings.key_files[0].endswith("/k")
    explicit = S.SshSettings.from_params({"host": "olt-1", "port": 830, "username": "me", "ssh_config": str(config),
                                          "proxy_jump": "other"})
    assert (explicit.port, explicit.username, explicit.proxy_jump) == (830, "me", "other")
    with pytest.raises(S.ConnectFailure, match="cannot be read"):
        S.SshSettings.from_params({"host": "x", "ssh_config": str(tmp_path / "missing")})


class _Transport:
    def __init__(self, active):
        self.active = active

    def is_active(self):
        return self.active


class _Session:
    def __init__(self, active):
        self._transport = _Transport(active)


@pytest.mark.parametrize("text, alive, reason", [
    ("AuthenticationException('Authentication failed: transport shut down or saw EOF')", False, "CONNECTION_LOST"),
    ("AuthenticationException('Authentication timeout.')", True, "CONNECTION_LOST"),
    ("SSHException('No existing session')", False, "CONNECTION_LOST"),
    ("AuthenticationException('Authentication failed.')", True, "AUTHENTICATION_FAILED"),
    ("AuthenticationException('Authentication failed.')", False, "AUTHENTICATION_FAILED"),
    ("BadAuthenticationType('Bad authentication type', ['publickey'])", True, "AUTHENTICATION_FAILED"),
])
def test_only_a_servers_rejection_is_authentication_failed(text, alive, reason):
    settings = S.SshSettings(host="127.0.0.1", username="u", password="p")
    failure = S._auth_failure(Exception(text), _Session(alive), settings)
    assert failure.reason == reason
    assert failure.retryable is (reason == "CONNECTION_LOST")
    assert failure.reached is (reason == "AUTHENTICATION_FAILED")


def test_library_loggers_never_reach_the_hosts_handlers():
    import logging
    for name in ("ncclient", "ncclient.transport.ssh", "paramiko", "paramiko.transport"):
        logger = logging.getLogger(name)
        while logger is not None and logger.propagate and logger.name not in ("ncclient", "paramiko"):
            logger = logger.parent
        assert logger is not None and logger.propagate is False, name
