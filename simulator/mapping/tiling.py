"""Partitioning a layer across PEs and sizing tiles to fit the PE buffers.

Weight-stationary, in the spirit of Simba (Shao et al., MICRO 2019):

1. **Partition.** The layer's work is split over all PEs of the package:
   output channels K first (``k_parts``, at least ``vector_macs`` channels
   per PE so that every vector MAC unit has work), then output rows P (``p_parts``,
   inputs with a halo, no partial sums), then input channels C (``c_parts``,
   only when every part keeps at least one full vector of ``lanes`` channels;
   partial sums are reduced afterwards).
2. **Tiles.** Within a PE, a weight tile (``k_tile`` x ``c_tile`` x R x S)
   must fit the weight buffer, an input tile (its channels x the input window
   of ``rows`` x ``cols`` outputs) the input buffer, and an output tile
   (``k_tile`` x ``rows`` x ``cols`` partial sums) the accumulation buffer;
   with double buffering each gets half of its buffer.

Pooling and element-wise additions are mapped like depthwise layers without
weights: channel c of the output needs channel c of the input only.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from simulator.config.arch import Arch
from simulator.errors import AxsimError
from simulator.workload.layer import Layer


class MappingError(AxsimError):
    """A layer that cannot be mapped on the architecture."""


@dataclass(frozen=True, slots=True)
class Shape:
    """The numbers a mapper needs from a layer."""

    k: int                 # output channels
    c_red: int             # reduction channels per output channel (C/groups; 1 for pool/add)
    k_per_group: int       # output channels sharing the same inputs (K/groups; 1 for pool/add)
    groups: int            # groups (pool/add: K, channel by channel)
    rs: int                # kernel window R*S
    r: int
    s: int
    stride_h: int
    stride_w: int
    h: int
    w: int
    p: int
    q: int
    in_tensors: int        # 2 for element-wise add, else 1
    has_weights: bool
    vector_ops_per_output: int  # pool: R*S, add: 1, conv/fc: 0

    @classmethod
    def of(cls, layer: Layer, batch: int = 1) -> "Shape":
        """The layer's shape; a batch stacks its samples along the output rows (P x batch),
        so weights stay stationary across the samples (halos at sample boundaries are ignored)."""
        compute = layer.kind in ("conv", "fc")
        return cls(
            k=layer.out_channels,
            c_red=layer.channels_per_group if compute else 1,
            k_per_group=layer.out_channels_per_group if compute else 1,
            groups=layer.groups if compute else layer.out_channels,
            rs=layer.kernel_h * layer.kernel_w, r=layer.kernel_h, s=layer.kernel_w,
            stride_h=layer.stride_h, stride_w=layer.stride_w,
            h=(layer.in_h + 2 * layer.pad_h) * batch, w=layer.in_w + 2 * layer.pad_w,
            p=layer.out_h * batch, q=layer.out_w,
            in_tensors=2 if layer.kind == "add" else 1,
            has_weights=compute,
            vector_ops_per_output=(layer.kernel_h * layer.kernel_w if layer.kind == "pool"
                                   else 1 if layer.kind == "add" else 0),
        )

    def in_rows(self, rows: int) -> int:
        return min(self.h, (rows - 1) * self.stride_h + self.r)

    def in_cols(self, cols: int) -> int:
        return min(self.w, (cols - 1) * self.stride_w + self.s)

    def in_channels_for(self, k: int, c: int) -> int:
        """Input channels a PE needs for ``k`` consecutive output channels and ``c`` reduction channels.

        A range of k channels that does not start on a group boundary can touch
        ``ceil((k - 1) / (K/g)) + 1`` groups; the tile is sized for that worst case.
        """
        if self.groups == 1 or k == 1:
            return c
        return min(self.groups, ceil((k - 1) / self.k_per_group) + 1) * c


@dataclass(frozen=True, slots=True)
class Partition:
    k_parts: int
    p_parts: int
    c_parts: int
    k_pe: int
    p_pe: int
    c_pe: int

    @property
    def used_pes(self) -> int:
        return self.k_parts * self.p_parts * self.c_parts

    def part(self, index: int) -> tuple[int, int, int]:
        """(p, c, k) part of PE ``index``: k varies fastest, so neighbours share inputs."""
        k = index % self.k_parts
        c = (index // self.k_parts) % self.c_parts
        p = index // (self.k_parts * self.c_parts)
        return p, c, k


def _split(total: int, parts: int) -> tuple[int, int]:
    """Even split: (size of a part, number of non-empty parts)."""
    size = ceil(total / max(1, parts))
    return size, ceil(total / size)


def partition(shape: Shape, pes: int, lanes: int, vector_macs: int = 1) -> Partition:
    """Split K (keeping ``vector_macs`` output channels per PE where K allows), then P, then C."""
    k_pe, k_parts = _split(shape.k, min(ceil(shape.k / vector_macs), pes))
    p_pe, p_parts = _split(shape.p, min(shape.p, pes // k_parts))
    c_parts = 1
    if shape.has_weights and shape.c_red >= 2 * lanes:
        c_parts = min(pes // (k_parts * p_parts), shape.c_red // lanes)
    c_pe, c_parts = _split(shape.c_red, max(1, c_parts))
    return Partition(k_parts, p_parts, c_parts, k_pe, p_pe, c_pe)


@dataclass(frozen=True, slots=True)
class Tiling:
    k_tile: int
    c_tile: int
    rows: int
    cols: int
    k_tiles: int
    c_tiles: int
    row_tiles: int
    col_tiles: int
    c_outer: bool = False   # C tiles outside the spatial tiles (partial sums of all of them fit)

    @property
    def steps(self) -> int:
        return self.k_tiles * self.c_tiles * self.row_tiles * self.col_tiles

    @property
    def loop_order(self) -> str:
        """The PE loop nest, outermost first: ``ks`` (one C tile), ``kcs`` (C tiles outside the
        spatial tiles), ``ksc`` (C innermost)."""
        return "ks" if self.c_tiles == 1 else "kcs" if self.c_outer else "ksc"


def tile(shape: Shape, part: Partition, arch: Arch, word_bytes: float = 1.0) -> Tiling:
    """Largest tiles that fit the PE buffers (halved when double-buffered)."""
    pe = arch.chiplet.pe
    share = 2 if pe.double_buffering else 1
    w_cap = pe.weight_buffer.size_bytes // share
    i_cap = pe.input_buffer.size_bytes // share
    a_cap = pe.accumulation_buffer.entries // share

    def weight_bytes(k: int, c: int) -> float:
        return k * c * shape.rs * word_bytes if shape.has_weights else 0

    def input_bytes(k: int, c: int, rows: int, cols: int) -> float:
        return (shape.in_tensors * shape.in_channels_for(k, c)
                * shape.in_rows(rows) * shape.in_cols(cols) * word_bytes)

    c_tile = part.c_pe
    while c_tile > 1 and (weight_bytes(1, c_tile) > w_cap or input_bytes(1, c_tile, 1, 1) > i_cap):
        c_tile = ceil(c_tile / 2)
    k_tile = part.k_pe
    while k_tile > 1 and (weight_bytes(k_tile, c_tile) > w_cap or k_tile > a_cap
                          or input_bytes(k_tile, c_tile, 1, 1) > i_cap):
        k_tile = ceil(k_tile / 2)
    if weight_bytes(k_tile, c_tile) > w_cap or input_bytes(k_tile, c_tile, 1, 1) > i_cap or k_tile > a_cap:
        raise MappingError(
            f"no tile fits: one output needs {weight_bytes(1, 1):.0f} B of weights and "
            f"{input_bytes(1, 1, 1, 1):.0f} B of inputs; per-PE buffer shares are "
            f"{w_cap} B (weights) and {i_cap} B (inputs)")
    cols = shape.q
    while cols > 1 and (input_bytes(k_tile, c_tile, 1, cols) > i_cap or k_tile * cols > a_cap):
        cols = ceil(cols / 2)
    rows = part.p_pe
    while rows > 1 and (input_bytes(k_tile, c_tile, rows, cols) > i_cap or k_tile * rows * cols > a_cap):
        rows = ceil(rows / 2) if rows > 8 else rows - 1
    c_tiles = ceil(part.c_pe / c_tile)
    c_outer = c_tiles > 1 and k_tile * part.p_pe * shape.q <= pe.accumulation_buffer.entries
    return Tiling(k_tile, c_tile, rows, cols,
                  k_tiles=ceil(part.k_pe / k_tile), c_tiles=c_tiles,
                  row_tiles=ceil(part.p_pe / rows), col_tiles=ceil(shape.q / cols), c_outer=c_outer)
