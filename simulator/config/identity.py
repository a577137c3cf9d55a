"""The identity of the hardware an architecture describes, without its operating points.

Two architecture files describe the same hardware (same meshes, buffer sizes,
clock, so the same mapping and the same action counts) when they differ only in
name, description, technology-table path and operating points (link swings, SRAM
supplies). Such files can re-price each other's runs.
"""
from __future__ import annotations

import hashlib
import json

#: keys that are operating points or labels, not hardware
OPERATING_KEYS = frozenset({"swing_v", "bit_groups", "links", "vdd_v", "vdd_v_per_ds"})
LABEL_KEYS = frozenset({"name", "description", "tech", "max_cycles"})


def _strip(value, top: bool = True):
    if isinstance(value, dict):
        return {k: _strip(v, False) for k, v in value.items()
                if k not in OPERATING_KEYS and not (top and k in LABEL_KEYS)}
    if isinstance(value, list):
        return [_strip(v, False) for v in value]
    return value


def hardware_dict(arch) -> dict:
    """The architecture as plain data, operating points and labels removed."""
    return _strip(arch.model_dump(mode="json"))


def hardware_hash(arch) -> str:
    return hashlib.sha256(json.dumps(hardware_dict(arch), sort_keys=True).encode()).hexdigest()[:16]


def differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    """Key paths where two hardware dicts differ, with both values."""
    out = []
    for k in sorted(set(a) | set(b), key=str):
        path = f"{prefix}.{k}" if prefix else str(k)
        x, y = a.get(k), b.get(k)
        if isinstance(x, dict) and isinstance(y, dict):
            out += differences(x, y, path)
        elif x != y:
            out.append(f"{path}: {x} -> {y}")
    return out
