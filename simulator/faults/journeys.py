"""Journeys of tensor elements, derived from a layer trace with data identity.

An *element group* is one copy of one tensor slice that travels as a whole:
the same links, the same buffers, the same number of reads. Walking the
transactions of a layer in id order gives each group's journey:

- ``weights``/``inputs``: DRAM channel -> NoP route (attach chiplet -> chiplet)
  -> global buffer (one read by the NoC transfer) -> NoC route (global-buffer
  router -> PE) -> PE buffer (reads implied by the compute steps that use the
  copy). One group per destination PE: a multicast gives every destination its
  own copy with its own route.
- ``outputs``: accumulation buffer (one read per compute step that accumulated
  into it) -> NoC route PE -> global buffer -> one read -> NoP route -> DRAM.
- On the package (the resident dataflow): an input part read from the global buffer of the
  chiplet that produced it starts there (one read, NoP route, destination global buffer) and
  ends in the destination buffer; the NoC load that follows starts at that buffer's read. An
  output that stays resident ends its group in its global buffer.
- ``psums`` (an input-channel reduction split over PEs): accumulation buffer ->
  NoC -> global buffer -> (one read, NoP, owner's global buffer) -> one read by
  the accumulation at the owner, where the group ends. The partial sums of part 0
  stay in their global buffer and become the output: their journey is the output's
  accumulator stage.

Read counts (the assumptions of docs/models.md, "Error exposure"): a weight in
the PE weight buffer is read once per output pixel of every step that uses it;
an input in the PE input buffer once per step that uses it (one broadcast read
serves the output channels of the step); an accumulator once per step that
accumulates into it (the last read is the drain to the NoC); a global-buffer
copy once per transfer that reads it. A compute step uses the latest copy of
weights and inputs delivered to its PE (transaction id order).

Nothing here depends on probabilities: events are recorded as ids of routes and
of buffer reads with counts, in flat columns; :mod:`simulator.faults.flips` prices them.
"""
from __future__ import annotations

from array import array
from collections import defaultdict

from simulator.config.arch import Arch
from simulator.errors import AxsimError
from simulator.hw.mesh import Mesh
from simulator.mapping.trace import LayerTrace
from simulator.stats.counters import Counters

PE_BUFFER = {"weights": "weight_buffer", "inputs": "input_buffer",
             "outputs": "accumulation_buffer", "psums": "accumulation_buffer"}
DS = ("weights", "inputs", "outputs", "psums")
VALUE, ACC = 0, 1
NO_IDENTITY = "the trace has no data identity (a version-1 or hand-written trace)"


class NoIdentity(AxsimError):
    """A transaction names no tensor slices, so its elements' exposure is unknown."""  # stages: the value as moved; the accumulator before requantization (outputs only)


def _size(s: tuple, dims: int) -> int:
    n = 1
    for i in range(0, 2 * dims, 2):
        d = s[i + 1] - s[i]
        if d <= 0:
            return 0
        n *= d
    return n


_DIMS = {"weights": 4, "inputs": 5, "outputs": 3, "psums": 4}


class Journeys:
    """Element groups, compute records and physical traffic of the layers walked so far (columns)."""

    def __init__(self, arch: Arch):
        self.arch = arch
        pkg, chip = arch.package, arch.chiplet
        self.nop = Mesh("nop", pkg.mesh.rows, pkg.mesh.cols, pkg.nop, "", "", Counters())
        self.noc = Mesh("noc", chip.noc.mesh.rows, chip.noc.mesh.cols, chip.noc, "", "", Counters())
        self.noc_cols = chip.noc.mesh.cols
        self.db = chip.pe.double_buffering
        self.acc_bytes = max(1, chip.pe.accumulation_buffer.entry_bits // 8)
        self.sizes = {"global_buffer": chip.global_buffer.size_bytes,
                      "weight_buffer": chip.pe.weight_buffer.size_bytes,
                      "input_buffer": chip.pe.input_buffer.size_bytes,
                      "accumulation_buffer": chip.pe.accumulation_buffer.size_bytes}
        self.events: list[tuple] = []          # ("route", network, src, dst) | ("read", buffer, ds)
        self._event_ids: dict[tuple, int] = {}
        self.instances: list[tuple[str, str]] = []  # (instance path, buffer class)
        self._inst_ids: dict[tuple, int] = {}
        # groups (one entry per group; typed arrays: a ResNet-50 run has ~0.4 M groups)
        self.g_layer = array("i")
        self.g_ds = array("b")
        self.g_slice: list[tuple] = []
        self.g_chiplet: list[tuple] = []
        self.g_pe: list[tuple | None] = []
        self.g_txn = array("i")
        self.g_elements = array("q")
        self.g_elem_bytes = array("b")
        self.g_reads = array("q")              # PE-buffer reads (weights, inputs)
        self.g_journey = array("i")
        # distinct journeys: tuples of events (event id, count, stage)
        self.journeys: list[tuple] = []
        self._journey_ids: dict[tuple, int] = {}
        # placements (one entry per buffer a group is stored in): instance id, base byte,
        # element bytes, stage, data structure stored (index into DS)
        self.p_group = array("i")
        self.p_inst = array("i")
        self.p_base = array("q")
        self.p_eb = array("b")
        self.p_stage = array("b")
        self.p_ds = array("b")
        self.compute: list[tuple] = []         # (layer, txn, chiplet, pe, work slice, weights gid, inputs gid)
        self.link_bits: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))  # (layer, ds, net) -> link -> bits
        self.read_bits: dict[tuple, int] = defaultdict(int)  # (layer, ds, buffer, instance) -> bits read
        self.layers: list[str] = []
        self._gb_cursor: dict = defaultdict(int)
        self._slots: dict = defaultdict(int)
        self._links: dict = {}
        self._names: dict = {}
        self._arrival: dict = {}               # (chiplet, ds, slice) -> txn that put it in the global buffer

    # -- interning ------------------------------------------------------------------------
    def event(self, key: tuple) -> int:
        eid = self._event_ids.get(key)
        if eid is None:
            eid = self._event_ids[key] = len(self.events)
            self.events.append(key)
        return eid

    def instance(self, path: str, buffer: str) -> int:
        key = (path, buffer)
        iid = self._inst_ids.get(key)
        if iid is None:
            iid = self._inst_ids[key] = len(self.instances)
            self.instances.append(key)
        return iid

    def route_links(self, network: str, src, dst) -> list[tuple]:
        """The links (from, to) of the XY route ``src -> dst`` of the NoP or of a NoC."""
        key = (network == "nop", src, dst)
        hit = self._links.get(key)
        if hit is None:
            mesh = self.nop if network == "nop" else self.noc
            hit = self._links[key] = [mesh.links[lid] for lid in mesh.route(src, dst)]
        return hit

    def _name(self, chip, pe=None, buffer=None) -> str:
        key = (chip, pe, buffer)
        name = self._names.get(key)
        if name is None:
            base = "chiplet[{},{}]".format(*chip)
            name = self._names[key] = (f"{base}.noc" if buffer == "noc" else f"{base}.gb" if pe is None
                                       else "{}.pe[{},{}].{}".format(base, *pe, buffer))
        return name

    # -- placement ------------------------------------------------------------------------
    def _gb_place(self, chip, nbytes: int) -> int:
        """Global buffer: a streaming ring; each arriving copy takes the next bytes."""
        base = self._gb_cursor[chip]
        self._gb_cursor[chip] = (base + nbytes) % self.sizes["global_buffer"]
        return base

    def _slot(self, chip, pe, buffer: str) -> int:
        """PE buffers: a load takes the next slot (two with double buffering), at its start."""
        key = (chip, pe, buffer)
        n = self._slots[key]
        self._slots[key] = n + 1
        return (n % 2) * (self.sizes[buffer] // 2) if self.db else 0

    def _group(self, li, ds, s, chip, pe, txn, n, eb, events, places) -> int:
        gid = len(self.g_layer)
        self.g_layer.append(li)
        self.g_ds.append(DS.index(ds))
        self.g_slice.append(s)
        self.g_chiplet.append(chip)
        self.g_pe.append(pe)
        self.g_txn.append(txn)
        self.g_elements.append(n)
        self.g_elem_bytes.append(eb)
        self.g_reads.append(0)
        key = tuple(events)
        jid = self._journey_ids.get(key)
        if jid is None:
            jid = self._journey_ids[key] = len(self.journeys)
            self.journeys.append(key)
        self.g_journey.append(jid)
        for inst, base, eb_, stage, stored in places:
            self.p_group.append(gid)
            self.p_inst.append(inst)
            self.p_base.append(base)
            self.p_eb.append(eb_)
            self.p_stage.append(stage)
            self.p_ds.append(DS.index(stored))
        return gid

    # -- the walk ---------------------------------------------------------------------------
    def add_layer(self, trace: LayerTrace) -> None:
        li = len(self.layers)
        self.layers.append(trace.layer)
        gb: dict[tuple, tuple[list, list]] = {}       # (chiplet, ds, slice) -> (events, placements)
        latest: dict[tuple, int] = {}                 # (chiplet, pe, ds) -> group id
        acc_steps: dict[tuple, int] = defaultdict(int)  # (chiplet, pe) -> steps accumulated
        self._gb_read = {ds: self.event(("read", "global_buffer", ds)) for ds in DS}
        self._acc_read = {ds: self.event(("read", "accumulation_buffer", ds)) for ds in ("outputs", "psums")}
        reads = self.g_reads
        noc_cols = self.noc_cols
        for t in trace.txns:
            op = t.op
            if not t.data:
                self._no_identity(trace, t)
            if op in ("dram_read", "dram_write"):
                continue
            if op == "compute":
                chip = t.chiplet
                for i, w in enumerate(t.data):
                    pe = divmod(i, noc_cols)
                    wg = latest.get((chip, pe, "weights"), -1)
                    ig = latest.get((chip, pe, "inputs"), -1)
                    self.compute.append((li, t.id, chip, pe, w, wg, ig))
                    if w[1] <= w[0] or w[5] <= w[4]:
                        continue  # an idle PE of an uneven split
                    acc_steps[(chip, pe)] += 1
                    if wg >= 0:
                        reads[wg] += (w[5] - w[4]) * (w[7] - w[6])
                    if ig >= 0:
                        reads[ig] += 1
                continue
            ds = t.ds
            eb = self.acc_bytes if ds == "psums" else 1
            if op == "nop":
                self._nop(li, t, ds, eb, gb)
            elif op == "noc" and t.mode != "gather":
                self._noc_load(li, t, ds, gb, latest)
            elif op == "noc":
                self._gather(li, t, ds, eb, gb, acc_steps)
            else:  # sram: the accumulation of partial sums at their owner, where the psum groups end
                chip = t.chiplet
                dims = _DIMS[ds]
                for s in t.data:
                    events, places = gb.pop((chip, ds, s), ([], []))
                    n = _size(s, dims)
                    self.read_bits[(li, ds, "global_buffer", self._name(chip))] += n * eb * 8
                    self._group(li, ds, s, chip, None, t.id, n, eb, events + [(self._gb_read[ds], 1, VALUE)],
                                places)
        # copies still in a global buffer at the end of the layer (the on-package dataflow: outputs
        # that stay resident for the next layers, input parts delivered from a producer's buffer):
        # their groups end in that buffer
        for (chip, ds, s), (events, places) in gb.items():
            eb = self.acc_bytes if ds == "psums" else 1
            self._group(li, ds, s, chip, None, self._arrival.get((chip, ds, s), -1), _size(s, _DIMS[ds]), eb,
                        events, places)
        self._arrival.clear()

    @staticmethod
    def _no_identity(trace: LayerTrace, t) -> None:
        raise NoIdentity(f"layer {trace.layer!r}: transaction {t.id} ({t.op}) carries no tensor slices "
                         "(a version-1 trace?), so its error exposure is unknown; regenerate the trace with: "
                         "axsim trace --arch ARCH --workload WORKLOAD --out FILE")

    def _nop(self, li, t, ds, eb, gb) -> None:
        dims = _DIMS[ds]
        sizes = [_size(s, dims) for s in t.data]
        bits = sum(sizes) * eb * 8
        src = t.src
        prior = {}
        if t.src_buf == "gb":
            self.read_bits[(li, ds, "global_buffer", self._name(src))] += bits
            read = (self._gb_read[ds], 1, VALUE)
            for s in t.data:
                hit = gb.pop((src, ds, s), None)
                ev, pl = hit if hit is not None else self._from_psum(gb, src, ds, s)
                prior[s] = (ev + [read], pl)
        seen: set = set()
        link_bits = self.link_bits[(li, ds, "nop")]
        for d in t.dsts:
            for link in self.route_links("nop", src, d):  # a multicast tree carries the data once per link
                if link not in seen:
                    seen.add(link)
                    link_bits[link] += bits
            route = (self.event(("route", "nop", src, d)), 1, VALUE)
            if t.dst_buf == "gb":
                base = self._gb_place(d, bits // 8)
                inst = self.instance(self._name(d), "global_buffer")
                for s, n in zip(t.data, sizes):
                    ev, pl = prior.get(s, ([], []))
                    gb[(d, ds, s)] = (ev + [route], pl + [(inst, base, eb, VALUE, ds)])
                    self._arrival[(d, ds, s)] = t.id
                    base += n * eb
            else:  # to DRAM: the group ends here
                for s, n in zip(t.data, sizes):
                    ev, pl = prior.get(s, ([], []))
                    self._group(li, ds, s, src, None, t.id, n, eb, ev + [route], pl)

    @staticmethod
    def _from_psum(gb, chip, ds, s) -> tuple[list, list]:
        """An output accumulated in the global buffer from the partial sums of part 0 (split C):
        everything that happened to those partial sums happened to the accumulator."""
        if ds != "outputs":
            return [], []
        ev, pl = gb.pop((chip, "psums", (0, 1) + s), ([], []))
        return [(e, n, ACC) for e, n, _ in ev], [p[:3] + (ACC, p[4]) for p in pl]

    def _noc_load(self, li, t, ds, gb, latest) -> None:
        chip = t.chiplet
        scatter = t.mode == "scatter"
        net = self._name(chip, buffer="noc")
        buffer = PE_BUFFER[ds]
        dims = _DIMS[ds]
        read = (self._gb_read[ds], 1, VALUE)
        gb_name = self._name(chip)
        sources = {}
        for s in t.data:  # one global-buffer read per slice (once for a multicast)
            n = _size(s, dims)
            ev, pl = gb.pop((chip, ds, s), ([], []))
            sources[s] = (ev + [read], pl, n)
            self.read_bits[(li, ds, "global_buffer", gb_name)] += n * 8
        link_bits = self.link_bits[(li, ds, net)]
        seen: set = set()
        for j, pe in enumerate(t.dsts):
            slices = (t.data[j],) if scatter else t.data
            route = (self.event(("route", net, t.src, pe)), 1, VALUE)
            inst = self.instance(self._name(chip, pe, buffer), buffer)
            for s in slices:
                ev, pl, n = sources[s]
                for link in self.route_links(net, t.src, pe):
                    if scatter:
                        link_bits[link] += n * 8
                    elif (s, link) not in seen:
                        seen.add((s, link))
                        link_bits[link] += n * 8
                latest[(chip, pe, ds)] = self._group(
                    li, ds, s, chip, pe, t.id, n, 1, ev + [route],
                    pl + [(inst, self._slot(chip, pe, buffer), 1, VALUE, ds)])

    def _gather(self, li, t, ds, eb, gb, acc_steps) -> None:
        chip = t.chiplet
        net = self._name(chip, buffer="noc")
        dims = _DIMS[ds]
        base = self._gb_place(chip, sum(_size(s, dims) for s in t.data) * eb)
        gb_inst = self.instance(self._name(chip), "global_buffer")
        stage = ACC if ds == "outputs" else VALUE
        acc = self._acc_read[ds]
        link_bits = self.link_bits[(li, ds, net)]
        for pe, s in zip(t.dsts, t.data):
            n = _size(s, dims)
            steps = acc_steps.pop((chip, pe), 0)
            for link in self.route_links(net, pe, t.src):  # data flows from the PE to the global buffer
                link_bits[link] += n * eb * 8
            name = self._name(chip, pe, "accumulation_buffer")
            self.read_bits[(li, ds, "accumulation_buffer", name)] += n * self.acc_bytes * 8 * steps
            events = [(acc, steps, stage), (self.event(("route", net, pe, t.src)), 1, VALUE)]
            places = [(self.instance(name, "accumulation_buffer"), self._slot(chip, pe, "accumulation_buffer"),
                       self.acc_bytes, stage, ds), (gb_inst, base, eb, VALUE, ds)]
            base += n * eb
            gb[(chip, ds, s)] = (events, places)
            self._arrival[(chip, ds, s)] = t.id
