"""A deliberately asymmetric 2x2-chiplet package for exact tests.

Every pair of parameters that code could swap has different values: 2 DRAM
channels (west edge: chiplets (0,0) and (1,0)), NoP hop 3 + 2 cycles, NoC mesh
of 2 rows x 3 columns with the global buffer at (0, 1), PEs with 4 vector MAC
units of 2 lanes, global buffer 2 banks x 32 bits = 8 B/cycle, DRAM 4 B/cycle.
"""
from __future__ import annotations

from conftest import arch_data
from simulator.config import load_arch

QUAD_EDITS = {
    "package": {"mesh": {"rows": 2, "cols": 2},
                "nop": {"link_width_bits": 32, "router_latency_cycles": 3, "link_latency_cycles": 2},
                "dram": {"channels": 2, "channel_bandwidth_bytes_per_cycle": 4, "latency_cycles": 7}},
    "noc": {"mesh": {"rows": 2, "cols": 3}, "link_width_bits": 16, "router_latency_cycles": 1,
            "link_latency_cycles": 1, "gb_node": [0, 1]},
    "global_buffer": {"size_bytes": 16384, "banks": 2, "bank_width_bits": 32},
    "pe": {"vector_macs": 4, "lanes": 2},
}
NOP_HOP = 5          # 3 + 2
NOC_HOP = 2          # 1 + 1
NOP_WIDTH, NOC_WIDTH = 32, 16
DRAM_BW, DRAM_LAT = 4, 7
GB_BW = 8
VM, LANES = 4, 2
ENTRY_BITS = 24
GB = (0, 1)
PE_NODES = ((0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2))   # row-major, 3 columns
ATTACH = ((0, 0), (1, 0))


def quad_variant(tmp_path, name: str = "quad", package: dict | None = None, edit=None):
    """The 2x2 package's chiplet (NoC, global buffer, PEs of ``QUAD_EDITS``) in ``package`` (default:
    the 2x2 package); ``edit(data)`` may change the architecture data further before it is loaded."""
    import yaml

    data = arch_data("tiny")
    data["name"] = name
    data["package"] = QUAD_EDITS["package"] if package is None else package
    data["chiplet"]["noc"] = QUAD_EDITS["noc"]
    data["chiplet"]["global_buffer"] = QUAD_EDITS["global_buffer"]
    data["chiplet"]["pe"].update(QUAD_EDITS["pe"])
    if edit is not None:
        edit(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_arch(path)


def quad_arch(tmp_path):
    return quad_variant(tmp_path)


def quad_pes(tmp_path):
    """The PE array of the quad package (4 vector MACs x 2 lanes, 24-bit accumulation entries)
    under the name ``chip.pes``, with the counters it counts into."""
    from simulator.hw.pe import PEArray
    from simulator.stats.counters import Counters
    pe = quad_arch(tmp_path).chiplet.pe
    assert (pe.vector_macs, pe.lanes, pe.accumulation_buffer.entry_bits) == (4, 2, 24)
    counters = Counters()
    return PEArray("chip.pes", pe, counters), counters
