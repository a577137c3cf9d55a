"""Helpers for the sweep tests: write sweep files with absolute paths into a temporary folder."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "arch" / "tiny.yaml")
SMALL = str(ROOT / "examples" / "small.yaml")
MACS = str(ROOT / "examples" / "sweeps" / "macs.yaml")
BLOCK_MAC = {"block_bits": 2, "block_multipliers_per_lane": 16}


def sweep_data(**over) -> dict:
    """A small valid sweep on arch/tiny.yaml: NoC link width x MAC configuration of the conv."""
    data = {
        "version": 1, "name": "t", "arch": TINY, "workload": SMALL, "approx": MACS, "seed": 0,
        "knobs": [
            {"name": "pe_mac", "path": "chiplet.pe.mac", "values": [BLOCK_MAC]},
            {"name": "noc_bits", "path": "chiplet.noc.link_width_bits", "values": [32, 64], "family": "communication"},
            {"name": "conv_mac", "layers": "conv", "values": ["exact", "msb2"], "family": "compute"},
        ],
        "objectives": [{"name": "energy_pj"}, {"name": "latency_cycles"}],
        "search": {"kind": "grid"},
    }
    data.update(over)
    return data


def write_sweep(folder: Path, data: dict, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
