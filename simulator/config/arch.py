"""Architecture-file models (version 1): a Simba-like package of chiplets.

A package is a mesh of chiplets joined by a network-on-package (NoP); each
chiplet has a global buffer and a mesh NoC of PEs; each PE has vector MAC units
and weight, input and accumulation buffers. DRAM channels attach to chiplets.
The full reference with units and defaults is docs/architecture.md.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictStr

from simulator.config.operating import Signalling, SupplyVoltage
from simulator.config.tech import TechTable
from simulator.config.types import Frozen, NonNegInt, PosFloat, PosInt


class MeshSize(Frozen):
    rows: PosInt
    cols: PosInt

    @property
    def nodes(self) -> int:
        return self.rows * self.cols


class Link(Frozen):
    """A mesh network: per-direction link width, router and wire latency per hop."""

    link_width_bits: PosInt = Field(description="bits a link carries per cycle, per direction")
    router_latency_cycles: NonNegInt = 1
    link_latency_cycles: NonNegInt = 1

    @property
    def hop_cycles(self) -> int:
        return self.router_latency_cycles + self.link_latency_cycles


class NoP(Link, Signalling):
    """Network-on-package between chiplets (with the operating point of its links)."""


class NoC(Link, Signalling):
    """Network-on-chip between the PEs of one chiplet (with the operating point of its links)."""

    mesh: MeshSize
    gb_node: tuple[NonNegInt, NonNegInt] = Field(
        (0, 0), description="router [row, col] where the global buffer and the NoP port attach")


class Buffer(SupplyVoltage):
    """An SRAM buffer: capacity, banks and bank width (one access per bank per cycle), supply voltage."""

    size_bytes: PosInt
    banks: PosInt = 1
    bank_width_bits: PosInt = 64

    @property
    def bytes_per_cycle(self) -> int:
        return self.banks * self.bank_width_bits // 8


class AccumulationBuffer(Buffer):
    entry_bits: PosInt = 24

    @property
    def entries(self) -> int:
        return self.size_bytes * 8 // self.entry_bits


class BlockMac(Frozen):
    """Block-wise reconfigurable multipliers (Ax-BxP): each MAC lane has
    ``block_multipliers_per_lane`` multipliers of ``block_bits`` x ``block_bits`` bits."""

    block_bits: PosInt
    block_multipliers_per_lane: PosInt
    reconfig_cycles: NonNegInt = Field(0, description="cycles to switch the PE array to another configuration")
    lead_detect_cycles: NonNegInt = Field(
        1, description="pipeline stage per compute step that finds the leading non-zero block of activations "
                       "under dynamic block selection")


class PE(Frozen):
    vector_macs: PosInt = Field(description="vector MAC units per PE")
    lanes: PosInt = Field(description="MAC lanes per vector MAC unit")
    precision_bits: Literal[4, 8, 16] = 8
    double_buffering: StrictBool = True
    weight_buffer: Buffer
    input_buffer: Buffer
    accumulation_buffer: AccumulationBuffer
    mac: BlockMac | None = Field(None, description="block-wise MACs; absent: fixed-precision multipliers")

    @property
    def macs_per_cycle(self) -> int:
        return self.vector_macs * self.lanes


class Chiplet(Frozen):
    noc: NoC
    global_buffer: Buffer
    pe: PE

    @property
    def pes(self) -> int:
        return self.noc.mesh.nodes


#: (row, col) step from a chiplet to its neighbour across each edge (row 0 is the north edge)
EDGE_STEP = {"west": (0, -1), "east": (0, 1), "north": (-1, 0), "south": (1, 0)}


class Dram(Frozen):
    channels: PosInt = 1
    channel_bandwidth_bytes_per_cycle: PosInt
    latency_cycles: NonNegInt = 100
    attach: tuple[tuple[NonNegInt, NonNegInt], ...] | None = Field(
        None, description="chiplet [row, col] of each channel's port; default: west edge, row i for channel i")
    edges: tuple[Literal["west", "east", "north", "south"], ...] | None = Field(
        None, description="edge of its attach chiplet by which each channel enters the chiplet's NoP router; "
                          "an edge facing another chiplet shares that chiplet's NoP link. Default: a port of "
                          "its own (the west edge of the default west-edge chiplets)")


class Package(Frozen):
    mesh: MeshSize
    nop: NoP
    dram: Dram


class Arch(Frozen):
    version: Literal[1]
    name: StrictStr
    description: StrictStr = ""
    clock_ghz: PosFloat
    vdd_v: PosFloat | None = Field(None, description="chip (logic) supply in volts; absent: the technology's "
                                                     "nominal vdd_v. The clock must be reachable at this supply")
    tech: StrictStr = Field(description="technology/energy table, path relative to this file")
    package: Package
    chiplet: Chiplet
    max_cycles: PosInt = Field(10**12, description="watchdog: a run longer than this is an error")
    # Filled in by the loader (not read from the file):
    tech_table: TechTable | None = Field(None, exclude=True)
    source: StrictStr = Field("", exclude=True)

    @property
    def chiplets(self) -> int:
        return self.package.mesh.nodes

    @property
    def total_pes(self) -> int:
        return self.chiplets * self.chiplet.pes

    @property
    def peak_macs_per_cycle(self) -> int:
        return self.total_pes * self.chiplet.pe.macs_per_cycle

    def dram_entries(self) -> dict[tuple[int, int], tuple[int, int]]:
        """Attach chiplet -> the neighbouring chiplet whose NoP link its channels share, for the
        channels that enter through an edge facing another chiplet (``package.dram.edges``)."""
        edges = self.package.dram.edges
        if edges is None:
            return {}
        rows, cols = self.package.mesh.rows, self.package.mesh.cols
        out = {}
        for (r, c), edge in zip(self.dram_attach(), edges):
            dr, dc = EDGE_STEP[edge]
            if 0 <= r + dr < rows and 0 <= c + dc < cols:
                out[(r, c)] = (r + dr, c + dc)
        return out

    def dram_attach(self) -> list[tuple[int, int]]:
        """Chiplet coordinates of each DRAM channel's port."""
        if self.package.dram.attach is not None:
            return [tuple(a) for a in self.package.dram.attach]
        rows = self.package.mesh.rows
        return [(i % rows, 0) for i in range(self.package.dram.channels)]
