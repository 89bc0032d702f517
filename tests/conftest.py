"""Shared pytest fixtures: real simulator processes, a real Tansu broker, a real image server.

Everything here runs real processes on 127.0.0.1 (no mocks). Keep fixtures grouped by
topic; add new ones at the end of a section with a one-line docstring.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from ansible.plugins.loader import init_plugin_loader

# Install ansible-core's collection finder (with .collections/, where `make setup` links this checkout)
# before any test imports ansible_collections.escalator.swim: tests that load plugins through Ansible's
# own loaders (the connection plugins, tests/property/action_harness.py) then see the same modules.
init_plugin_loader([str(Path(__file__).resolve().parents[1] / ".collections")])

from swim_sim.broker import TansuBroker
from swim_sim.images import ImageServer
from swim_sim.testing import FleetFactory



def pytest_configure(config):
    # kafka-python 3.0 loads its protocol schemas with deprecated importlib.resources calls.
    config.addinivalue_line("filterwarnings", "ignore:read_text is deprecated:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:open_text is deprecated:DeprecationWarning")


# --------------------------------------------------------------------------- Kafka


@pytest.fixture(scope="session")
def tansu_broker(tmp_path_factory):
    """A Tansu Kafka broker for the whole session; yields its bootstrap address "127.0.0.1:PORT"."""
    log_dir = tmp_path_factory.mktemp("tansu")
    with TansuBroker(log_path=log_dir / "tansu.log") as broker:
        yield broker.bootstrap


# --------------------------------------------------------------------------- images


@pytest.fixture
def image_server(tmp_path):
    """HTTP image server on 127.0.0.1 (no auth) serving ``.dir``.

    ``.url_for(filename)``, ``.make_image(name, version, size=1 MiB, filename=None)`` -> ImageFile
    (``.url``, ``.sha256``, ``.path``, ``.filename``, ``.size``), ``.dir``, ``.port``, ``.base_url``.
    """
    with ImageServer(tmp_path / "images") as server:
        yield server


@pytest.fixture
def auth_image_server(tmp_path):
    """Like ``image_server`` but enforcing HTTP basic auth ``swim:s3cret`` (``.auth``);
    ``.url_for(f)`` embeds the credentials, ``.url_for(f, credentials=False)`` does not."""
    with ImageServer(tmp_path / "auth-images", auth="swim:s3cret") as server:
        yield server


# --------------------------------------------------------------------------- simulator fleets


@pytest.fixture
def sim_fleet(tmp_path_factory):
    """Factory: ``sim_fleet(count=1, faults=None, timings=None, per_manager=1, groups=None, kafka=None,
    kafka_topic=None, name_prefix=None, base_port=None, state_dir=None, extra_args=())`` starts
    ``swim-sim fleet --detach`` and returns a ready :class:`swim_sim.testing.SimFleet`
    (``.inventory``, ``.state_dir``, ``.devices``, ``.device(name)``, ``.address(name)``, ``.state(name)``,
    ``.reboots()``, ``.restart()``, ``.stop()``). Every fleet is stopped at teardown."""
    factory = FleetFactory(lambda: tmp_path_factory.mktemp("fleet"))
    yield factory
    factory.close()


@pytest.fixture(params=["dmi", "netconf"])
def transport(request):
    """Device protocol of a test parametrized over both transports: "dmi" (gRPC) or "netconf" (SSH, BBF TR-383)."""
    return request.param


@pytest.fixture(scope="module")
def sim_fleet_module(tmp_path_factory):
    """Module-scoped variant of ``sim_fleet`` (one fleet shared by the tests of a module)."""
    factory = FleetFactory(lambda: tmp_path_factory.mktemp("fleet"))
    yield factory
    factory.close()
