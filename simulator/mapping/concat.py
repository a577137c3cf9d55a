"""Concatenation layers in the traces: a view of their operands, moved only when it must be.

A concat joins its operands along the channels; it multiplies nothing and adds nothing.

- **DRAM dataflow.** Every producer writes its output to DRAM; the concatenated tensor is
  the producers' outputs side by side, each at its channel offset (the producer writes
  there), so the concat moves nothing: an empty trace (``meta["view"] = "dram"``).
  Its consumers read their input windows of the concatenated tensor from DRAM as usual.
- **On-package dataflow** (:mod:`simulator.mapping.residency`). When every operand is
  resident and every consumer can read from the package, the concat is a *view*: a
  :class:`~simulator.mapping.residency.Resident` whose pieces are the operands' pieces with
  the channel ranges shifted by each operand's offset (``meta["view"] = "package"``, empty
  trace). Consumers read the slices where they live (:func:`~simulator.mapping.residency.pieces`),
  as from any resident tensor. The view holds no bytes of its own: its operands stay
  resident (and count against the budget) until the view's last consumer has been mapped.
- Otherwise (an operand spilled to DRAM, no consumer, or a consumer that cannot read from the
  package, such as a fully connected layer after a spatial tensor) the concatenated tensor is
  made in DRAM: operands already there stay; each resident operand moves from the global
  buffers that hold it to DRAM (a NoP transfer to the DRAM attach point and a DRAM write per
  chiplet and operand, at the operand's channel offset: ``meta["moved_bytes"]``), which costs
  what moving it costs; then its consumers read it from DRAM.
"""
from __future__ import annotations

from collections import defaultdict
from math import ceil

from simulator.mapping.identity import size
from simulator.mapping.residency import Resident, Residency
from simulator.mapping.trace import LayerTrace, Node
from simulator.workload.layer import Layer


def channel_offsets(residency_or_layers, layer: Layer) -> list[tuple[str, int]]:
    """(operand, first channel in the concatenated tensor) for each operand, in order."""
    layers = residency_or_layers.layers if isinstance(residency_or_layers, Residency) else residency_or_layers
    out, off = [], 0
    for name in layer.inputs:
        out.append((name, off))
        off += layers[name].out_channels
    return out


def _shifted(res: Resident, off: int) -> list[tuple[Node, tuple]]:
    return [(chip, (b[0] + off, b[1] + off) + tuple(b[2:])) for chip, b in res.pieces]


def concat_trace(mapper, layer: Layer, batch: int, word: float, residency: Residency | None) -> LayerTrace:
    """The trace of concat ``layer`` (``word``: stored bytes per activation); registers the view with
    ``residency`` when its operands are resident."""
    meta = {"mac": "none", "batch": batch, "dataflow": "dram" if residency is None else "resident",
            "operands": list(layer.inputs)}
    trace = LayerTrace(layer.name, layer.kind, 0, meta=meta)
    if residency is None:
        meta["view"] = "dram"
        return trace
    offsets = channel_offsets(residency, layer)
    sources = [residency.live.get(name) for name, _ in offsets]
    users = residency.consumers.get(layer.name, [])
    if all(sources) and users and all(residency._compatible(layer, residency.layers[u]) for u in users):
        pieces = [p for src, (_, off) in zip(sources, offsets) for p in _shifted(src, off)]
        for src in sources:
            src.uses_left += 1  # the view holds a use of each operand until it is released
        residency.live[layer.name] = Resident(layer.name, pieces, {}, len(users), views=tuple(layer.inputs))
        meta["view"] = "package"
        meta["outputs_resident"] = True
        return trace
    moved = 0
    for src, (_, off) in zip(sources, offsets):
        if src is None:  # already in DRAM at its offset
            continue
        by_chip: dict[Node, list] = defaultdict(list)
        for chip, box in _shifted(src, off):
            by_chip[chip].append(box)
        for chip, boxes in by_chip.items():
            data = tuple(boxes)
            nbytes = ceil(sum(size("outputs", b) for b in data) * word)
            ch = mapper._channel_for(chip)
            nop = trace.add("nop", [], ds="outputs", bytes=nbytes, src=chip, dsts=(mapper.attach[ch],),
                            mode="multicast", src_buf="gb", dst_buf="dram", data=data)
            trace.add("dram_write", [nop], ds="outputs", channel=ch, bytes=nbytes, data=data)
            moved += nbytes
    meta["view"] = "dram"
    meta["outputs_resident"] = False
    meta["moved_bytes"] = moved
    return trace
