"""A small, plausible, transport-neutral hardware inventory of a simulated OLT
(RFC 8348 style component tree; DMI's hw.proto and ietf-hardware both follow it)."""
from __future__ import annotations

import random
import uuid as uuidlib
from dataclasses import dataclass, field

MFG_NAME = "Escalator Networks (simulated)"
MODEL_NAME = "SWIM-OLT-16"
HARDWARE_REV = "A1"
FIRMWARE_REV = "uboot-2024.04-swim"
PON_PORTS = 16
NNI_PORTS = 4


@dataclass
class Component:
    name: str
    cls: str  # chassis, cpu, fan, power-supply, port, transceiver, sensor, storage
    description: str = ""
    rel_pos: int = 0
    uuid: str = ""
    serial_num: str = ""
    hardware_rev: str = ""
    firmware_rev: str = ""
    software_rev: str = ""
    mfg_name: str = ""
    model_name: str = ""
    is_fru: bool = False
    oper_state: str = "enabled"  # enabled | disabled
    alarm_state: str = "none"  # none | warning | minor | major | critical
    sensor: dict | None = None  # {"value": int, "type": "celsius", "units": "C"}
    port: dict | None = None  # {"protocol": "xgspon"|"ethernet", "speed": "10G"|"100G", "label": str}
    transceiver: dict | None = None  # {"type": ..., "form_factor": ...}
    children: list["Component"] = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def serial_number(device_uuid: str) -> str:
    return "SWIM" + device_uuid.replace("-", "")[:10].upper()


def build_inventory(name: str, device_uuid: str, software_rev: str) -> Component:
    """Component tree of one device; uuids are stable (uuid5 of the device uuid + component name)."""
    base = uuidlib.UUID(device_uuid)

    def comp(cname: str, cls: str, **kw) -> Component:
        return Component(name=cname, cls=cls, uuid=str(uuidlib.uuid5(base, cname)), mfg_name=MFG_NAME, **kw)

    serial = serial_number(device_uuid)
    root = comp(name, "chassis", description=f"simulated {MODEL_NAME} OLT", serial_num=serial,
                hardware_rev=HARDWARE_REV, firmware_rev=FIRMWARE_REV, software_rev=software_rev,
                model_name=MODEL_NAME)
    pos = 0

    def add(child: Component) -> Component:
        nonlocal pos
        pos += 1
        child.rel_pos = pos
        root.children.append(child)
        return child

    add(comp("cpu", "cpu", description="ARMv8 quad-core control CPU", model_name="SWIM-CPU-4"))
    for i in (1, 2):
        add(comp(f"fan-{i}", "fan", description=f"fan tray {i}", is_fru=True, serial_num=f"{serial}F{i}",
                 model_name="SWIM-FAN"))
    for i in (1, 2):
        add(comp(f"psu-{i}", "power-supply", description=f"power supply {i} (48 V DC)", is_fru=True,
                 serial_num=f"{serial}P{i}", model_name="SWIM-PSU-48"))
    for i in range(PON_PORTS):
        add(comp(f"pon-{i}", "port", description=f"XGS-PON port {i}",
                 port={"protocol": "xgspon", "speed": "10G", "label": f"pon-{i}"}))
    for i in range(NNI_PORTS):
        port = add(comp(f"nni-{i}", "port", description=f"100G NNI port {i}",
                        port={"protocol": "ethernet", "speed": "100G", "label": f"nni-{i}"}))
        xcvr = comp(f"nni-{i}-transceiver", "transceiver", description=f"QSFP28 transceiver in nni-{i}",
                    is_fru=True, serial_num=f"{serial}X{i}", model_name="SWIM-QSFP28-LR4",
                    transceiver={"type": "ethernet", "form_factor": "qsfp28"})
        xcvr.rel_pos = 1
        port.children.append(xcvr)
    add(comp("temperature-1", "sensor", description="board temperature",
             sensor={"value": 45 + random.randint(-1, 1), "type": "celsius", "units": "C"}))
    return root
