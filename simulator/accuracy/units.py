"""Per-PE work units of a layer under the weight-stationary mapping.

The mapper (:func:`simulator.mapping.tiling.partition`) splits a conv / fc layer over
the package's PEs into ``k_parts × p_parts × c_parts`` parts: output channels,
output rows and reduction channels. PE ``i`` holds part ``partition.part(i)`` and
sits on chiplet ``i // pes_per_chiplet`` (row-major on the package mesh), at NoC
node ``i % pes_per_chiplet`` (row-major on the chiplet mesh), as in
:class:`simulator.mapping.weight_stationary.WeightStationaryMapper`. Each part becomes
one :class:`~simulator.accuracy.engine.Unit` named ``chiplet[r,c].pe[x,y]``: the
inference engine computes it from that PE's own weight and input copies.
Batches are mapped per sample (batch 1).
"""
from __future__ import annotations

from simulator.accuracy.engine import Unit
from simulator.config.arch import Arch
from simulator.mapping.tiling import Shape, partition
from simulator.workload import Layer


def units_for(layer: Layer, arch: Arch) -> list[Unit]:
    """The work units of a conv or fc layer, one per PE the mapping uses."""
    if layer.kind not in ("conv", "fc"):
        return []
    pe = arch.chiplet.pe
    part = partition(Shape.of(layer), arch.total_pes, pe.lanes, pe.vector_macs)
    per_chip, chip_cols, noc_cols = arch.chiplet.pes, arch.package.mesh.cols, arch.chiplet.noc.mesh.cols
    cg = layer.channels_per_group
    out = []
    for i in range(part.used_pes):
        p, c, k = part.part(i)
        k0, p0, c0 = k * part.k_pe, p * part.p_pe, c * part.c_pe
        k1, p1, c1 = min(k0 + part.k_pe, layer.out_channels), min(p0 + part.p_pe, layer.out_h), min(c0 + part.c_pe, cg)
        if k0 >= k1 or p0 >= p1 or c0 >= c1:
            continue
        chip, node = divmod(i, per_chip)
        name = "chiplet[{},{}].pe[{},{}]".format(*divmod(chip, chip_cols), *divmod(node, noc_cols))
        out.append(Unit(k0, k1, p0, p1, 0, layer.out_w, name, c0, c1))
    return out
