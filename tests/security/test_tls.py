"""gRPC over TLS and mutual TLS: real ansible-playbook runs against a simulator fleet serving TLS,
with throw-away certificates this test generates (swim_sim.tls, on the ``cryptography`` package)."""

from __future__ import annotations

import pytest
import yaml

from playbook_runner import run_playbook
from swim_sim.tls import SERVER_NAME, make_ca, make_test_pki

TARGET = {"name": "swim-olt", "version": "2.0.0"}


@pytest.fixture
def pki(tmp_path):
    paths = make_test_pki(tmp_path / "pki")
    other_ca = make_ca(tmp_path / "other", "other-ca")
    paths["other_ca"] = other_ca[0]
    # a client certificate from a CA the device manager does not trust
    from swim_sim.tls import issue
    rogue = issue(tmp_path / "other", "rogue-client", other_ca, server=False)
    paths["rogue_cert"], paths["rogue_key"] = rogue
    return paths


@pytest.fixture
def target_image(image_server):
    image = image_server.make_image(TARGET["name"], TARGET["version"], size=64 * 1024)
    return {**TARGET, "url": image.url, "sha256": image.sha256}


def tls_args(pki, *, mutual: bool, server_name: str | None = None) -> list[str]:
    args = ["--tls-cert", str(pki["server_cert"]), "--tls-key", str(pki["server_key"]),
            "--tls-ca-cert", str(pki["ca_cert"])]
    if mutual:
        args += ["--tls-client-ca", str(pki["ca_cert"]), "--tls-client-cert", str(pki["client_cert"]),
                 "--tls-client-key", str(pki["client_key"])]
    if server_name:
        args += ["--tls-server-name", server_name]
    return args


def inventory_vars(fleet) -> dict:
    return yaml.safe_load(fleet.inventory.read_text())["all"]["vars"]


def sw_version(fleet, tmp_path, **extra_vars):
    playbook = tmp_path / "sw_version.yml"
    playbook.write_text(yaml.safe_dump([{"hosts": "swim_fleet", "gather_facts": False, "tasks": [
        {"name": "Read versions", "escalator.swim.sw_version": {}, "register": "versions"}]}]))
    return run_playbook(playbook, fleet.inventory, extra_vars={"swim_connect_timeout": 3, **extra_vars},
                        timeout=180)


def test_tls_upgrade_works_and_wrong_ca_is_refused(sim_fleet, pki, target_image, tmp_path):
    fleet = sim_fleet(2, extra_args=tls_args(pki, mutual=False, server_name=SERVER_NAME))
    written = inventory_vars(fleet)
    assert written["swim_tls"] is True
    assert written["swim_ca_cert"] == str(pki["ca_cert"].resolve())
    assert written["swim_tls_server_name"] == SERVER_NAME
    assert "swim_client_cert" not in written

    run = run_playbook("upgrade.yml", fleet.inventory, extra_vars={"image": target_image})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert {fleet.state(d["name"])["partitions"]["active"]["version"] for d in fleet.devices} == {"2.0.0"}

    # a CA that did not sign the server certificate: refused at the handshake, named as such
    wrong = sw_version(fleet, tmp_path, swim_ca_cert=str(pki["other_ca"]))
    assert wrong.returncode == 2, wrong.stdout[-3000:]
    assert wrong.hosts_with("failed") == {"olt-001", "olt-002"}
    assert "TLS_HANDSHAKE_FAILED" in wrong.stdout
    assert f"not trusted by ca_cert {pki['other_ca']}" in wrong.stdout
    assert "Traceback" not in wrong.stdout + wrong.stderr

    # the right CA but a name the certificate does not carry
    misnamed = sw_version(fleet, tmp_path, swim_tls_server_name="olt.wrong.example")
    assert misnamed.returncode == 2
    assert "TLS_HANDSHAKE_FAILED" in misnamed.stdout

    # plaintext gRPC against a TLS device manager
    plain = sw_version(fleet, tmp_path, swim_tls=False)
    # (the manager closes the plaintext channel in the handshake: reached, a failure, not unreachable)
    assert plain.returncode == 2 and plain.hosts_with("failed") == {"olt-001", "olt-002"}, plain.recap
    assert "serves TLS, set tls (swim_tls)" in plain.stdout

    # and the right settings still work (read-only, no state changed by the refused runs)
    good = sw_version(fleet, tmp_path)
    assert good.returncode == 0, good.stdout[-3000:]


def test_mutual_tls_requires_a_trusted_client_certificate(sim_fleet, pki, target_image, tmp_path):
    fleet = sim_fleet(1, extra_args=tls_args(pki, mutual=True))
    written = inventory_vars(fleet)
    assert written["swim_client_cert"] == str(pki["client_cert"].resolve())
    assert written["swim_client_key"] == str(pki["client_key"].resolve())

    # no client certificate: the device manager refuses, the msg says what to set
    anonymous = sw_version(fleet, tmp_path, swim_client_cert="", swim_client_key="")
    assert anonymous.returncode == 2, anonymous.stdout[-3000:]
    assert anonymous.hosts_with("failed") == {"olt-001"}
    assert "requires mutual TLS, set client_cert and client_key" in anonymous.stdout

    # a client certificate from a CA the device manager does not trust
    rogue = sw_version(fleet, tmp_path, swim_client_cert=str(pki["rogue_cert"]), swim_client_key=str(pki["rogue_key"]))
    assert rogue.returncode == 2
    assert rogue.hosts_with("failed") == {"olt-001"}

    # half a client identity is refused before any connection
    half = sw_version(fleet, tmp_path, swim_client_key="")
    assert half.returncode == 2
    assert "client_cert and client_key (swim_client_cert, swim_client_key) go together" in half.stdout

    # none of the refused runs reached the device
    assert fleet.state("olt-001")["partitions"]["standby"]["version"] == "0.9.0"

    # with the inventory's client certificate: the full download -> activate -> verify path
    run = run_playbook("upgrade.yml", fleet.inventory, extra_vars={"image": target_image})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert fleet.state("olt-001")["partitions"]["active"]["version"] == "2.0.0"
    assert len(fleet.reboots()) == 1


def test_generated_throwaway_pki_mode(sim_fleet, tmp_path):
    fleet = sim_fleet(1, extra_args=["--tls-generate", "mtls"])
    written = inventory_vars(fleet)
    assert {"swim_tls", "swim_ca_cert", "swim_client_cert", "swim_client_key"} <= set(written)
    assert (fleet.state_dir / "tls" / "server.key").stat().st_mode & 0o077 == 0, "keys are private to the owner"
    run = sw_version(fleet, tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
