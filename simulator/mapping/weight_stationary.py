"""Weight-stationary mapping of one layer onto a Simba-like package: the layer trace.

Data path: DRAM channel -> NoP -> chiplet global buffer (GB) -> NoC -> PE
buffers; results go back PE -> NoC -> GB -> NoP -> DRAM. Each PE keeps a
weight tile while the spatial tiles of the output stream through it. Inputs
are multicast to every PE that shares them; partial sums of a split input-
channel reduction are sent to the chiplet owning the first part and
accumulated in its GB. Dependencies encode the buffer slots: with double
buffering a load may overwrite the slot used two steps earlier, otherwise
the slot of the previous step.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from math import ceil

from simulator.config.arch import Arch
from simulator.mapping.onpackage import FusedAdd, OnPackage
from simulator.mapping.concat import concat_trace
from simulator.mapping.placement import free_room
from simulator.mapping.prefetch import Prefetch
from simulator.mapping.residency import Residency
from simulator.mapping.search import Where, choose, reprice
from simulator.mapping.slices import Geometry
from simulator.mapping.tiling import MappingError, Partition, Shape, Tiling
from simulator.mapping.trace import LayerTrace, Node
from simulator.workload.layer import Layer


#: Refuse layers whose trace would be absurdly large before generating it. The largest layer of
#: the bundled networks needs 3,136 compute transactions (VGG-16 features.14 on arch/simba.yaml);
#: a full trace has about 6-9 transactions per compute transaction.
MAX_COMPUTE_TXNS = 500_000


def _sizes(total: int, step: int) -> list[tuple[int, int]]:
    """(offset, size) of the tiles of ``total`` in steps of ``step``."""
    return [(i, min(step, total - i)) for i in range(0, total, step)]


def _steps(part: Partition, t: Tiling, q: int):
    """The PE loop nest, one tuple per step: (k offset, k tile, row offset, rows, col offset,
    cols, c offset, c tile, new weights?, first C tile?, last C tile?); offsets are relative
    to the PE's part (lock step: every PE runs the same nest).

    Spatial tiles inside the C loop when the partial sums of all spatial tiles
    fit the accumulation buffer (``t.c_outer``), so weights load once per
    (k, c) tile; otherwise the C loop is innermost and weights reload per step.
    """
    spatial = [(r, c) for r in _sizes(part.p_pe, t.rows) for c in _sizes(q, t.cols)]
    cs = _sizes(part.c_pe, t.c_tile)
    last = len(cs) - 1
    for ko, kt in _sizes(part.k_pe, t.k_tile):
        if t.c_tiles == 1 or t.c_outer:
            for ci, (co, ct) in enumerate(cs):
                for si, ((ro, rows), (xo, cols)) in enumerate(spatial):
                    yield ko, kt, ro, rows, xo, cols, co, ct, si == 0, ci == 0, ci == last
        else:
            for (ro, rows), (xo, cols) in spatial:
                for ci, (co, ct) in enumerate(cs):
                    yield ko, kt, ro, rows, xo, cols, co, ct, True, ci == 0, ci == last


class _Chiplet:
    """The parts of the layer that one chiplet holds."""

    def __init__(self, coord: Node, gb_node: Node):
        self.coord = coord
        self.gb = gb_node
        self.nodes: list[Node] = []                         # PE routers in use
        self.bases: list[tuple] = []                         # part geometry per PE (Geometry.base)
        self.groups: dict[tuple[int, int], list[Node]] = defaultdict(list)  # (p, c) -> PE nodes
        self.wgroups: dict[tuple[int, int], list[Node]] = defaultdict(list)  # (c, k) -> PE nodes
        self.owners: dict[Node, list[int]] = defaultdict(list)  # psum owner chiplet -> local PEs sending
        self.finals: list[int] = []                          # local PEs holding c == 0 parts
        self.compute: list[int] = []                         # compute txn per step
        self.gathers: list[int] = []                         # output gather txn per output tile
        self.weight_users: list[int] = []                    # last compute using each weight load
        self.work: list = []                                 # work slice per PE of the current step

    @property
    def final_pes(self) -> int:
        return len(self.finals)


class WeightStationaryMapper(OnPackage):
    def __init__(self, arch: Arch):
        self.arch = arch
        pkg, chip = arch.package, arch.chiplet
        self.chip_cols = pkg.mesh.cols
        self.noc_cols = chip.noc.mesh.cols
        self.pes_per_chiplet = chip.pes
        self.attach = arch.dram_attach()
        self.db = chip.pe.double_buffering
        self.entry_bytes = chip.pe.accumulation_buffer.entry_bits / 8
        self._rr = 0
        self._layouts: dict[str, tuple] = {}   # layer -> (partition, package PE of each PE index), for consumers
        self._sources: list = []      # per input tensor: the resident tensor it reads, or None (DRAM)
        self._keep = False            # outputs stay in the global buffers (residency)
        self._layer: Layer | None = None
        self._batch = 1
        self._word = 1.0
        self._fuse: FusedAdd | None = None  # a residual add fused into this layer's write-back
        self.prefetch: Prefetch | None = None  # weight prefetch across layers (on-package dataflow)

    # -- helpers ---------------------------------------------------------------
    def _channel_for(self, dst: Node | None) -> int:
        if dst is None:  # shared data: spread over the channels
            self._rr = (self._rr + 1) % len(self.attach)
            return self._rr
        dist = [abs(a[0] - dst[0]) + abs(a[1] - dst[1]) for a in self.attach]
        return dist.index(min(dist))

    def _slot_free(self, history: list[int]) -> list[int]:
        """Dependency for reusing a buffer slot, given the users of earlier slots."""
        back = 2 if self.db else 1
        return [history[-back]] if len(history) >= back else []

    def _load(self, trace: LayerTrace, ds: str, chips: list[_Chiplet], nbytes: int,
              nodes: list[list[Node]], after: list[int], data: list) -> dict[int, list[int]]:
        """DRAM -> NoP -> NoC of one tile of ``nbytes`` per PE; the NoC txn ids per chiplet index.

        ``data`` a slice: every PE of every chiplet gets the same tile (one read, multicast);
        a list (per chiplet, the slice of each PE): each PE gets its own tile (one read per
        chiplet, scattered to its PEs).
        """
        done: dict[int, list[int]] = {}
        if ds == "inputs" and any(self._sources):
            return self._load_resident(trace, chips, nbytes, nodes, after, data)
        if not isinstance(data, list):
            one = (data,)
            ch = self._channel_for(None)
            rd = trace.add("dram_read", after, ds=ds, channel=ch, bytes=nbytes, data=one)
            nop = trace.add("nop", [rd], ds=ds, bytes=nbytes, src=self.attach[ch],
                            dsts=tuple(c.coord for c in chips), mode="multicast", src_buf="dram", dst_buf="gb",
                            data=one)
            for i, chip in enumerate(chips):
                done[i] = [trace.add("noc", [nop], ds=ds, bytes=nbytes, chiplet=chip.coord, src=chip.gb,
                                     dsts=tuple(nodes[i]), mode="multicast", src_buf="gb", dst_buf="pe",
                                     data=one)]
            return done
        for i, chip in enumerate(chips):
            n = len(nodes[i])
            per_pe = tuple(data[i])
            ch = self._channel_for(chip.coord)
            rd = trace.add("dram_read", after, ds=ds, channel=ch, bytes=nbytes * n, data=per_pe)
            nop = trace.add("nop", [rd], ds=ds, bytes=nbytes * n, src=self.attach[ch], dsts=(chip.coord,),
                            mode="multicast", src_buf="dram", dst_buf="gb", data=per_pe)
            done[i] = [trace.add("noc", [nop], ds=ds, bytes=nbytes, chiplet=chip.coord, src=chip.gb,
                                 dsts=tuple(nodes[i]), mode="scatter", src_buf="gb", dst_buf="pe", data=per_pe)]
        return done

    def _shared_loads(self, trace: LayerTrace, ds: str, chips: list[_Chiplet],
                      groups: dict[tuple[int, int], list[int]], attr: str, nbytes: int,
                      after: list[int], slices: dict) -> dict[int, list[int]]:
        """One DRAM read per group of PEs that share a tile, multicast to the chiplets holding it."""
        out: dict[int, list[int]] = defaultdict(list)
        for g, members in groups.items():
            sub = [chips[i] for i in members]
            res = self._load(trace, ds, sub, nbytes, [getattr(ch, attr)[g] for ch in sub], after, slices[g])
            for j, tids in res.items():
                out[members[j]].extend(tids)
        return out

    # -- main ------------------------------------------------------------------
    def map(self, layer: Layer, mac: str = "exact", weight_bytes: float = 1.0,
            input_bytes: float = 1.0, batch: int = 1, residency: Residency | None = None,
            fuse: FusedAdd | None = None, mapping: str = "fixed", lane_factor: float = 1.0) -> LayerTrace:
        """Trace of ``layer``; ``weight_bytes``/``input_bytes``: stored bytes per value.

        ``residency`` (the on-package dataflow, :mod:`simulator.mapping.residency`): inputs come
        from the global buffers that hold them when resident, and the outputs stay in the global
        buffers if they fit. None: every input from DRAM and every output to DRAM. ``fuse``: a
        residual add that takes this layer's outputs, computed in the global buffers as the
        outputs are written back; the outputs are then the add's. ``mapping``: ``"fixed"`` (K, then
        P, then C) or ``"search"`` (:mod:`simulator.mapping.search`); ``lane_factor``: the MAC
        configuration's, for the cost model."""
        if layer.kind == "concat":  # a view of its operands (simulator/mapping/concat.py)
            trace = concat_trace(self, layer, batch, input_bytes, residency)
            if self.prefetch is not None and trace.txns:  # the next layer overlaps the concat's moves,
                self.prefetch.begin()                      # which use no PE weight buffer
                self.prefetch.end({})
            return trace
        arch = self.arch
        shape = Shape.of(layer, batch)
        sources = residency.sources(layer) if residency is not None else []
        try:
            priced = dict(wword=weight_bytes, word=input_bytes, lane_factor=lane_factor,
                          inputs_resident=any(s is not None for s in sources),
                          outputs_resident=residency is not None,
                          fused=None if fuse is None else "dram" if fuse.source is None else "nop")
            where = None
            if mapping == "search":
                room = free_room(residency, fuse.layer if fuse else layer) if residency is not None else None
                where = Where(layer, batch, tuple(sources), room,
                              tuple(self._layouts[s.layer] for s in sources if s is not None and s.layer in self._layouts))
            choice = choose(shape, arch, mapping, MAX_COMPUTE_TXNS, where, **priced)
        except MappingError as exc:
            raise MappingError(f"layer {layer.name!r} ({layer.kind}, {layer.in_channels}x{layer.in_h}x"
                               f"{layer.in_w} -> {layer.out_channels}x{layer.out_h}x{layer.out_w}, kernel "
                               f"{layer.kernel_h}x{layer.kernel_w}) cannot be mapped on {arch.name!r}: {exc}; "
                               "larger PE buffers (chiplet.pe.*_buffer.size_bytes) would fit it") from None
        part, tiling = choice.candidate.part, choice.candidate.tiling
        self._layouts[(fuse.layer if fuse else layer).name] = (part, self._slots(part, choice))
        compute_txns = tiling.steps * ceil(part.used_pes / self.pes_per_chiplet)
        if compute_txns > MAX_COMPUTE_TXNS:
            raise MappingError(f"layer {layer.name!r} ({layer.describe().partition(': ')[2]}, batch {batch}) "
                               f"would need {compute_txns:,} compute transactions ({tiling.steps:,} tile steps "
                               f"on each chiplet), and 6 to 9 times as many transactions in all; the limit "
                               f"is {MAX_COMPUTE_TXNS:,} compute transactions per layer (minutes of simulation "
                               "and gigabytes of trace); check the layer's dimensions")
        geo = Geometry(shape, part)
        chips = self._place(part, geo, choice.positions, choice.slots)
        trace = LayerTrace(layer.name, layer.kind, layer.macs * batch,
                           meta={"partition": asdict(part), "tiling": asdict(tiling), "mac": mac,
                                 "batch": batch, "used_pes": part.used_pes, "chiplets": len(chips),
                                 **choice.meta(mapping)})
        self._layer, self._batch, self._word = layer, batch, input_bytes
        self._sources, self._keep, self._fuse = [], False, fuse
        if fuse is not None:
            trace.meta["fused_add"] = fuse.layer.name
        if residency is not None:
            self._sources = sources
            out_pieces, per_chip = self._output_pieces(chips, shape, input_bytes)
            self._keep = residency.admit(fuse.layer if fuse else layer, out_pieces, per_chip)
            if not self._keep:  # spilled: the prediction with the outputs going to DRAM
                trace.meta.update(reprice(choice, shape, arch, **{**priced, "outputs_resident": False})
                                  .meta(mapping))
            trace.meta["dataflow"] = "resident"
            trace.meta["inputs_resident"] = [s is not None for s in self._sources]
            trace.meta["outputs_resident"] = self._keep
            trace.meta["spill_bytes"] = residency.spills.get((fuse.layer if fuse else layer).name, 0)
        if self.prefetch is not None:
            self.prefetch.begin()
        self._emit(trace, shape, part, tiling, chips, mac, weight_bytes, input_bytes, geo)
        if self.prefetch is not None:
            self.prefetch.end({ch.coord: ch.weight_users for ch in chips})
        return trace

    def _slots(self, part: Partition, choice) -> tuple[int, ...]:
        """The package PE (chiplet index x PEs per chiplet + PE) of each PE index of ``part``."""
        if choice.slots is not None:
            return choice.slots
        n, pos = self.pes_per_chiplet, choice.positions
        return tuple(i if pos is None else pos[i // n] * n + i % n for i in range(part.used_pes))

    def _place(self, part: Partition, geo: Geometry, positions: tuple[int, ...] | None = None,
               slots: tuple[int, ...] | None = None) -> list[_Chiplet]:
        """The chiplets of the layer; logical chiplet ``j`` (PEs ``j·n .. j·n + n - 1``) sits at
        ``positions[j]`` (row-major index; None: at ``j``, the fixed mapping's); ``slots``: PE ``i``
        runs on package PE ``slots[i]`` instead."""
        gb = self.arch.chiplet.noc.gb_node
        where = (lambda j: divmod(j if positions is None else positions[j], self.chip_cols))
        slot = (lambda i: i) if slots is None else slots.__getitem__
        chips: dict[int, _Chiplet] = {}
        for i in range(part.used_pes):
            ci, li = divmod(slot(i), self.pes_per_chiplet)
            chip = chips.get(ci)
            if chip is None:
                chip = chips[ci] = _Chiplet(where(ci), gb)
            node = divmod(li, self.noc_cols)
            p, c, k = part.part(i)
            chip.nodes.append(node)
            chip.bases.append(geo.base(i))
            chip.groups[(p, c)].append(node)
            chip.wgroups[(c, k)].append(node)
            if c == 0:
                chip.finals.append(len(chip.nodes) - 1)
            else:
                owner = slot(k + p * part.k_parts * part.c_parts) // self.pes_per_chiplet
                chip.owners[where(owner)].append(len(chip.nodes) - 1)
        return list(chips.values())

    def _emit(self, trace: LayerTrace, shape: Shape, part: Partition, t: Tiling,
              chips: list[_Chiplet], mac: str, wword: float, word: float, geo: Geometry) -> None:
        shared_inputs = shape.has_weights and shape.k_per_group >= shape.k
        by_group: dict[tuple[int, int], list[int]] = defaultdict(list)
        by_wgroup: dict[tuple[int, int], list[int]] = defaultdict(list)
        first_of_group: dict[tuple[int, int], tuple[int, int]] = {}  # group -> (chip, local PE)
        first_of_wgroup: dict[tuple[int, int], tuple[int, int]] = {}
        for i, chip in enumerate(chips):
            for g in chip.groups:
                by_group[g].append(i)
                first_of_group.setdefault(g, (i, chip.nodes.index(chip.groups[g][0])))
            for g in chip.wgroups:
                by_wgroup[g].append(i)
                first_of_wgroup.setdefault(g, (i, chip.nodes.index(chip.wgroups[g][0])))
        split_c = part.c_parts > 1
        compute = shape.has_weights
        work = geo.work
        out_tiles = 0
        for ko, kt, ro, rows, xo, cols, co, ct, new_weights, first_c, last_c in _steps(part, t, shape.q):
            pixels = rows * cols
            for chip in chips:
                chip.work = [work(b, ko, kt, ro, rows, xo, cols, co, ct, compute) for b in chip.bases]
            # weights: once per k tile (and C tile), or every step when the C loop is innermost
            wload: dict[int, list[int]] = {}
            if compute and new_weights:
                wbytes = ceil(kt * ct * shape.rs * wword)
                after = [d for ch in chips for d in self._slot_free(ch.weight_users)]
                first = len(trace.txns)
                if part.p_parts == 1:  # every PE holds different weights
                    wload = self._load(trace, "weights", chips, wbytes, [ch.nodes for ch in chips], after,
                                       [[geo.weights(w) for w in ch.work] for ch in chips])
                else:  # PEs with the same (c, k) part share weights: read once, multicast
                    slices = {g: geo.weights(chips[i].work[j]) for g, (i, j) in first_of_wgroup.items()}
                    wload = self._shared_loads(trace, "weights", chips, by_wgroup, "wgroups",
                                               wbytes, after, slices)
                if self.prefetch is not None and not after:
                    self.prefetch.mark(trace, first, {ch.coord: len(ch.weight_users) for ch in chips}, after)
            # inputs for this step
            ibytes = ceil(shape.in_tensors * shape.in_channels_for(kt, ct) * shape.in_rows(rows)
                          * shape.in_cols(cols) * word)
            after = [d for ch in chips for d in self._slot_free(ch.compute)]
            if shared_inputs:
                slices = {g: geo.inputs(chips[i].work[j]) for g, (i, j) in first_of_group.items()}
                iload = self._shared_loads(trace, "inputs", chips, by_group, "groups", ibytes, after, slices)
            else:
                iload = self._load(trace, "inputs", chips, ibytes, [ch.nodes for ch in chips], after,
                                   [[geo.inputs(w) for w in ch.work] for ch in chips])
            # compute
            for i, chip in enumerate(chips):
                deps = list(iload.get(i, ())) + list(wload.get(i, ()))
                if chip.compute:
                    deps.append(chip.compute[-1])
                if first_c:
                    deps += self._slot_free(chip.gathers)
                chip.compute.append(trace.add(
                    "compute", deps, chiplet=chip.coord, pes=len(chip.nodes),
                    k=kt, c=ct if compute else 0,
                    rs=shape.rs if compute else 0, pixels=pixels,
                    vector_ops=0 if compute else kt * pixels * shape.vector_ops_per_output,
                    mac=mac, data=tuple(chip.work)))
                if i in wload:
                    chip.weight_users.append(chip.compute[-1])
                elif chip.weight_users:
                    chip.weight_users[-1] = chip.compute[-1]
            if last_c:
                self._write_back(trace, chips, kt * pixels, split_c, word)
                out_tiles += 1
        trace.meta["output_tiles"] = out_tiles

    def _write_back(self, trace: LayerTrace, chips: list[_Chiplet], entries: int,
                    split_c: bool, word: float) -> None:
        """PE -> GB gather, partial-sum reduction across chiplets, GB -> DRAM."""
        psum_bytes = ceil(entries * self.entry_bytes)
        out_bytes = ceil(entries * word)
        by_coord = {chip.coord: i for i, chip in enumerate(chips)}
        gathers: dict[int, int] = {}
        outputs = Geometry.outputs
        for i, chip in enumerate(chips):
            per_pe = psum_bytes if split_c else out_bytes
            if split_c:
                data = tuple(Geometry.psums(b[0], w) for b, w in zip(chip.bases, chip.work))
            else:
                data = tuple(outputs(w) for w in chip.work)
            gathers[i] = trace.add("noc", [chip.compute[-1]], ds="psums" if split_c else "outputs",
                                   bytes=per_pe, chiplet=chip.coord, src=chip.gb, dsts=tuple(chip.nodes),
                                   mode="gather", src_buf="gb", dst_buf="pe", data=data)
            chip.gathers.append(gathers[i])
        ready: dict[int, list[int]] = defaultdict(list)  # owner chiplet -> accumulations it waits for
        if split_c:
            for i, chip in enumerate(chips):
                for owner, local in chip.owners.items():
                    j = by_coord[owner]
                    pes = len(local)
                    data = tuple(Geometry.psums(chip.bases[x][0], chip.work[x]) for x in local)
                    deps = [gathers[i]]
                    if owner != chip.coord:
                        deps = [trace.add("nop", deps, ds="psums", bytes=pes * psum_bytes, src=chip.coord,
                                          dsts=(owner,), mode="multicast", src_buf="gb", dst_buf="gb",
                                          data=data)]
                    ready[j].append(trace.add("sram", deps + [gathers[j]], ds="psums", chiplet=owner,
                                              read_bytes=pes * psum_bytes, write_bytes=pes * psum_bytes,
                                              vector_ops=pes * entries, data=data))
        for i, chip in enumerate(chips):
            if not chip.finals:
                continue
            nbytes = chip.final_pes * out_bytes
            data = tuple(outputs(chip.work[x]) for x in chip.finals)
            deps = [gathers[i]] + ready[i]
            if self._fuse is not None:
                deps = [self._fused_add(trace, chip.coord, data, nbytes, deps)]
            if self._keep:  # resident outputs stay in the global buffer
                continue
            ch = self._channel_for(chip.coord)
            nop = trace.add("nop", deps, ds="outputs", bytes=nbytes, src=chip.coord,
                            dsts=(self.attach[ch],), mode="multicast", src_buf="gb", dst_buf="dram", data=data)
            trace.add("dram_write", [nop], ds="outputs", channel=ch, bytes=nbytes, data=data)


def map_layer(layer: Layer, arch: Arch, mac: str = "exact", weight_bytes: float = 1.0,
              input_bytes: float = 1.0, batch: int = 1) -> LayerTrace:
    """The layer trace of ``layer`` on ``arch`` under the weight-stationary mapping."""
    return WeightStationaryMapper(arch).map(layer, mac, weight_bytes, input_bytes, batch)
