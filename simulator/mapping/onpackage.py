"""The on-package dataflow's transactions: inputs from resident tensors, fused residual adds.

Mixed into :class:`~simulator.mapping.weight_stationary.WeightStationaryMapper`; which tensors are
resident is decided by :class:`~simulator.mapping.residency.Residency`.

- **Inputs from the package.** Per input tensor of a layer, a tile's input window is read from
  DRAM (a DRAM read multicast over the NoP, as in the DRAM dataflow) or, when the tensor is
  resident, moved by one NoP transfer per chiplet that holds a part of it (global buffer to global
  buffer); parts already in the destination's buffer move nothing.
- **Fused residual add.** ``y = a + b`` where ``a`` is the output of the layer being mapped: as
  each output tile reaches the global buffer (after its partial sums are reduced), the matching
  tile of ``b`` is brought to the same chiplet (from where ``b`` is resident, or from DRAM) and an
  ``sram`` transaction reads both and writes the sum (``vector_ops`` = one addition per element).
  The add layer itself then has no transactions of its own (an empty trace recording where it
  went); its work and traffic are in the producer's trace.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from math import ceil

from simulator.mapping.identity import size
from simulator.mapping.residency import Resident, pieces
from simulator.mapping.trace import LayerTrace, Node
from simulator.workload.layer import Layer


@dataclass(frozen=True, slots=True)
class FusedAdd:
    """A residual add fused into the layer that produces its operand ``1 - other``."""

    layer: Layer                 # the add
    other: int                   # index (0/1) of the operand that is not the fused layer's output
    source: Resident | None      # where that operand is resident (None: DRAM)


class OnPackage:
    """Transactions of the on-package dataflow (a mixin of the weight-stationary mapper)."""

    def _fetch(self, trace: LayerTrace, layer: Layer, src: Resident | None, subs: list, dsts: tuple[Node, ...],
               nbytes: int, after: list[int]) -> list[int]:
        """Bring input slices ``subs`` (one tensor) of ``layer`` to the global buffers of ``dsts``."""
        if src is None:
            ch = self._channel_for(dsts[0] if len(dsts) == 1 else None)
            rd = trace.add("dram_read", after, ds="inputs", channel=ch, bytes=nbytes, data=tuple(subs))
            return [trace.add("nop", [rd], ds="inputs", bytes=nbytes, src=self.attach[ch], dsts=dsts,
                              mode="multicast", src_buf="dram", dst_buf="gb", data=tuple(subs))]
        by_chip: dict[Node, list] = defaultdict(list)
        for s in subs:
            for chip, piece in pieces(src, layer, self._batch, s):
                by_chip[chip].append(piece)
        ids = []
        for chip, parts in by_chip.items():
            to = tuple(d for d in dsts if d != chip)
            if to:
                nb = ceil(sum(size("inputs", p) for p in parts) * self._word)
                ids.append(trace.add("nop", after, ds="inputs", bytes=nb, src=chip, dsts=to, mode="multicast",
                                     src_buf="gb", dst_buf="gb", data=tuple(parts)))
        return ids

    def _from_sources(self, trace: LayerTrace, slices: list, dsts: tuple[Node, ...], nbytes: int,
                      after: list[int]) -> list[int]:
        """Every input tensor's part of ``slices``, from DRAM or from where it is resident."""
        ids: list[int] = []
        n_t = len(self._sources)
        for t, src in enumerate(self._sources):
            subs = [(t, t + 1) + s[2:] for s in slices] if n_t > 1 else list(slices)
            ids += self._fetch(trace, self._layer, src, subs, dsts, ceil(nbytes / n_t), after)
        return ids

    def _load_resident(self, trace: LayerTrace, chips: list, nbytes: int,
                       nodes: list[list[Node]], after: list[int], data) -> dict[int, list[int]]:
        """As ``_load`` for inputs of which at least one tensor is resident on the package."""
        done: dict[int, list[int]] = {}
        if not isinstance(data, list):
            nops = self._from_sources(trace, [data], tuple(c.coord for c in chips), nbytes, after)
            for i, chip in enumerate(chips):
                done[i] = [trace.add("noc", nops or after, ds="inputs", bytes=nbytes, chiplet=chip.coord,
                                     src=chip.gb, dsts=tuple(nodes[i]), mode="multicast", src_buf="gb",
                                     dst_buf="pe", data=(data,))]
            return done
        for i, chip in enumerate(chips):
            per_pe = tuple(data[i])
            nops = self._from_sources(trace, list(per_pe), (chip.coord,), nbytes * len(nodes[i]), after)
            done[i] = [trace.add("noc", nops or after, ds="inputs", bytes=nbytes, chiplet=chip.coord,
                                 src=chip.gb, dsts=tuple(nodes[i]), mode="scatter", src_buf="gb", dst_buf="pe",
                                 data=per_pe)]
        return done

    @staticmethod
    def _output_pieces(chips: list, shape, word: float):
        """The output slices each chiplet holds after the layer, and their bytes per chiplet."""
        out, per_chip = [], {}
        for chip in chips:
            nbytes = 0
            for x in chip.finals:
                _, r0, r1, _, _, k0, k1 = chip.bases[x]
                if k1 > k0 and r1 > r0:
                    out.append((chip.coord, (k0, k1, r0, r1, 0, shape.q)))
                    nbytes += ceil((k1 - k0) * (r1 - r0) * shape.q * word)
            if nbytes:
                per_chip[chip.coord] = nbytes
        return out, per_chip

    def _fused_add(self, trace: LayerTrace, coord: Node, data: tuple, nbytes: int, deps: list[int]) -> int:
        """The add of the other operand into output tiles ``data`` in the global buffer of ``coord``."""
        f = self._fuse
        t = f.other
        subs = [(t, t + 1, s[0], s[1], 0, 1, s[2], s[3], s[4], s[5], 0, 0)
                for s in data if s[1] > s[0] and s[3] > s[2] and s[5] > s[4]]
        elements = sum(size("outputs", s) for s in data)
        loads = self._fetch(trace, f.layer, f.source, subs, (coord,), nbytes, deps) if subs else []
        return trace.add("sram", deps + loads, ds="outputs", chiplet=coord, read_bytes=2 * nbytes,
                         write_bytes=nbytes, vector_ops=elements, data=data)
