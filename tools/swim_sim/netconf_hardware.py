"""The ietf-hardware (RFC 8348) view of a simulated device: its component list, split by what is
configuration and what is state.

The components are *system-learned*: a real NMDA server (RFC 8342) has them in ``<operational>`` only,
with their config-true leaves (class, parent, parent-rel-pos, state/admin-state, ...) set by the system;
running holds none of them. A classic ``<get>`` (running + config-false nodes) therefore shows each
component's key and config-false leaves only, and ``<get-data>`` on ``ds:operational`` shows everything.
"""
from __future__ import annotations

import time

from lxml import etree

from .device import Device
from .hardware import build_inventory
from .netconf_library import HW_NS, IANA_HW_NS
from .netconf_xml import date_time, identity_leaf, leaf, q

COMPONENT = "olt-board"

# hardware.py component classes -> iana-hardware identities
_IANA_CLASS = {"chassis": "chassis", "cpu": "cpu", "fan": "fan", "power-supply": "power-supply", "port": "port",
               "transceiver": "module", "sensor": "sensor", "storage": "storage"}

# What a view shows: ALL (operational; the legacy non-NMDA <get>), STATE (config false only: the NMDA
# <get> of system-learned components), CONFIG (config true only: the legacy <get-config> of running).
ALL, STATE, CONFIG = "all", "state", "config"


def hardware_tree(device: Device):
    """The device's component tree (hardware.py, shared with the DMI view); the root chassis is the
    component named ``olt-board`` that carries the software."""
    running = device.slot_partition(device.running_slot)
    root = build_inventory(device.name, device.uuid, running.version)
    root.name = COMPONENT
    alarms = device.alarms(running.version)
    for comp in root.walk():
        severity = alarms.get(comp.name) or (alarms.get(device.name) if comp is root else None)
        if severity:
            comp.alarm_state = severity
    return root


def _components(root):
    """(component, parent name) in document order (ietf-hardware's component list is flat)."""
    def walk(comp, parent):
        yield comp, parent
        for child in comp.children:
            yield from walk(child, comp.name)

    return walk(root, "")


def render_hardware(parent: etree._Element, device: Device, view: str = ALL,
                    canonical: bool = False) -> tuple[etree._Element, etree._Element | None]:
    """Append ``<hardware>`` to ``parent``; returns it and the ``olt-board`` component element."""
    nsmap = {None: HW_NS} if canonical else {None: HW_NS, "ianahw": IANA_HW_NS}
    hardware = etree.SubElement(parent, q(HW_NS, "hardware"), nsmap=nsmap)
    if view != CONFIG:
        leaf(hardware, HW_NS, "last-change", date_time(device.last_booted, canonical))
    board = None
    for comp, parent_name in _components(hardware_tree(device)):
        elem = _component(hardware, comp, parent_name, device.last_booted, view, canonical)
        if comp.name == COMPONENT:
            board = elem
    return hardware, board


def _component(hardware, comp, parent: str, stamp: float, view: str, canonical: bool) -> etree._Element:
    elem = etree.SubElement(hardware, q(HW_NS, "component"))
    leaf(elem, HW_NS, "name", comp.name)
    config, state = view != STATE, view != CONFIG
    if config:
        identity_leaf(elem, HW_NS, "class", "ianahw", IANA_HW_NS, _IANA_CLASS.get(comp.cls, "unknown"), canonical)
    if state and comp.description:
        leaf(elem, HW_NS, "description", comp.description)
    if config and parent:
        leaf(elem, HW_NS, "parent", parent)
        leaf(elem, HW_NS, "parent-rel-pos", comp.rel_pos)
    if state:
        for child in comp.children:
            leaf(elem, HW_NS, "contains-child", child.name)
        for name, value in (("hardware-rev", comp.hardware_rev), ("firmware-rev", comp.firmware_rev),
                            ("software-rev", comp.software_rev), ("serial-num", comp.serial_num),
                            ("mfg-name", comp.mfg_name), ("model-name", comp.model_name)):
            if value:
                leaf(elem, HW_NS, name, value)
        leaf(elem, HW_NS, "is-fru", bool(comp.is_fru))
        if comp.uuid:
            leaf(elem, HW_NS, "uuid", comp.uuid)
    state_elem = etree.SubElement(elem, q(HW_NS, "state"))
    if state:
        leaf(state_elem, HW_NS, "state-last-changed", date_time(stamp, canonical))
    if config:
        leaf(state_elem, HW_NS, "admin-state", "unlocked")
    if state:
        leaf(state_elem, HW_NS, "oper-state", comp.oper_state)
        leaf(state_elem, HW_NS, "usage-state", "active")
        leaf(state_elem, HW_NS, "alarm-state", "" if comp.alarm_state in ("", "none") else comp.alarm_state)
        if comp.sensor is not None:
            _sensor(elem, comp.sensor, canonical)
    return elem


def _sensor(elem, sensor: dict, canonical: bool) -> None:
    data = etree.SubElement(elem, q(HW_NS, "sensor-data"))
    leaf(data, HW_NS, "value", int(sensor["value"]))
    leaf(data, HW_NS, "value-type", sensor.get("type", "celsius"))
    leaf(data, HW_NS, "value-scale", "units")
    leaf(data, HW_NS, "value-precision", 0)
    leaf(data, HW_NS, "oper-status", "ok")
    leaf(data, HW_NS, "units-display", sensor.get("units", "C"))
    leaf(data, HW_NS, "value-timestamp", date_time(time.time(), canonical))
    leaf(data, HW_NS, "value-update-rate", 10)
