"""The whole package: DRAM channels, the NoP, and per chiplet a NoC, global buffer and PE array.

:meth:`Package.execute` performs one trace transaction at cycle ``ready``
and returns the cycle it finishes; it also counts the actions under the
technology table's keys. A network transaction on a flit-level network
(``network_model``, see :mod:`simulator.hw.network`) returns ``None``: its
finish comes later from :meth:`Package.flit_networks` ``advance``.
"""
from __future__ import annotations

import numpy as np

from simulator.config.arch import Arch
from simulator.errors import AxsimError
from simulator.hw.mesh import Mesh
from simulator.hw.network import NetworkModel, build
from simulator.hw.pe import EXACT, MacModel, PEArray
from simulator.hw.port import Port, ceil_div
from simulator.mapping.trace import Txn
from simulator.stats.counters import Counters

PE_BUFFER = {"weights": "weight_buffer", "inputs": "input_buffer",
             "outputs": "accumulation_buffer", "psums": "accumulation_buffer"}


class Chiplet:
    def __init__(self, coord: tuple[int, int], arch: Arch, counters: Counters, ports: bool = False):
        r, c = coord
        self.name = f"chiplet[{r},{c}]"
        chip = arch.chiplet
        self.noc = Mesh(f"{self.name}.noc", chip.noc.mesh.rows, chip.noc.mesh.cols, chip.noc,
                        "noc_link.bit", "noc_router.bit", counters, ports)
        self.gb = Port(f"{self.name}.gb")
        self.gb_bytes_per_cycle = chip.global_buffer.bytes_per_cycle
        self.pe = PEArray(f"{self.name}.pes", chip.pe, counters)


class Package:
    def __init__(self, arch: Arch, counters: Counters, mac_models: dict[str, MacModel] | None = None,
                 network_model: dict[str, NetworkModel] | None = None):
        """``network_model``: ``{"nop": ..., "noc": ...}``, each "transaction" (default),
        "transaction-ports", "flit" or "flit-unicast" (:mod:`simulator.hw.network`)."""
        self.arch = arch
        self.counters = counters
        pkg = arch.package
        models = {"nop": "transaction", "noc": "transaction", **(network_model or {})}
        self.nop = Mesh("nop", pkg.mesh.rows, pkg.mesh.cols, pkg.nop, "nop_link.bit", "nop_router.bit",
                        counters, models["nop"] == "transaction-ports")
        self.nop_net = build([self.nop], pkg.nop, models["nop"])[0]
        self.dram = [Port(f"dram.ch{i}") for i in range(pkg.dram.channels)]
        self.dram_bits = [0] * pkg.dram.channels
        self.dram_bw = pkg.dram.channel_bandwidth_bytes_per_cycle
        self.dram_latency = pkg.dram.latency_cycles
        self.chiplets = {(r, c): Chiplet((r, c), arch, counters, models["noc"] == "transaction-ports")
                         for r in range(pkg.mesh.rows) for c in range(pkg.mesh.cols)}
        coords = sorted(self.chiplets)
        for rc, net in zip(coords, build([self.chiplets[rc].noc for rc in coords], arch.chiplet.noc, models["noc"])):
            self.chiplets[rc].net = net
        self.mac_models = {"exact": EXACT, **(mac_models or {})}
        self._gb_node = arch.chiplet.noc.gb_node
        self._dram_entry = arch.dram_entries()   # attach chiplet -> neighbour whose link its channels share
        if self._dram_entry and models["nop"] in ("flit", "flit-unicast"):
            (r, c), (nr, nc) = next(iter(self._dram_entry.items()))
            raise AxsimError(f"package.dram.edges: the channel at chiplet [{r}, {c}] enters by the edge it shares "
                             f"with chiplet [{nr}, {nc}]; a shared entry link is modelled by the transaction-level "
                             "NoP only: run with --network-model nop=transaction, or use edges on the package "
                             "boundary")
        self._meshes = self.meshes()
        self._scope: object = None  # Package.account: the key counts and link bits go under
        self._scope_links: dict[object, list[list[int]]] = {None: [m.link_bits for m in self._meshes]}
        self._link_taken = {m.name: np.zeros(len(m.links), dtype=np.int64) for m in self._meshes}

    def mac_model(self, name: str) -> MacModel:
        try:
            return self.mac_models[name]
        except KeyError:
            raise AxsimError(f"MAC configuration {name!r} is not defined; known: "
                             f"{', '.join(sorted(self.mac_models))}") from None

    # -- one transaction --------------------------------------------------------
    def execute(self, t: Txn, ready: int, tag: object = None) -> int | None:
        """The finish cycle of ``t`` issued at ``ready``, or ``None`` for a transfer on a flit-level
        network (reported later under ``tag`` by that network's ``advance``)."""
        op = t.op
        if op == "compute":
            return self.chiplets[t.chiplet].pe.compute(ready, t.pes, t.k, t.c, t.rs, t.pixels, t.vector_ops,
                                                       self.mac_model(t.mac), t.data)
        if op == "noc":
            return self._noc(t, ready, tag)
        if op == "nop":
            return self._nop(t, ready, tag)
        if op in ("dram_read", "dram_write"):
            port = self.dram[t.channel]
            dur = ceil_div(t.bytes, self.dram_bw)
            start = port.reserve(ready, dur)
            self.counters.add(port.name, "dram.read_bit" if op == "dram_read" else "dram.write_bit", t.bytes * 8)
            self.dram_bits[t.channel] += t.bytes * 8
            return start + dur + self.dram_latency
        if op == "sram":
            chip = self.chiplets[t.chiplet]
            dur = ceil_div(t.read_bytes + t.write_bytes, chip.gb_bytes_per_cycle)
            start = chip.gb.reserve(ready, dur)
            add = self.counters.add_sram
            add(chip.gb.name, "global_buffer.read_bit", t.ds, t.read_bytes * 8)
            add(chip.gb.name, "global_buffer.write_bit", t.ds, t.write_bytes * 8)
            if t.vector_ops:
                self.counters.add(chip.gb.name, "vector.op", t.vector_ops)
            return start + dur
        raise AxsimError(f"unknown transaction op {op!r}")

    def _gb_access(self, chip: Chiplet, write: bool, nbytes: int, ready: int, ds: str) -> tuple[int, int]:
        """Count a global-buffer access and reserve its port; return (start, duration)."""
        self.counters.add_sram(chip.gb.name, "global_buffer.write_bit" if write else "global_buffer.read_bit",
                               ds, nbytes * 8)
        dur = ceil_div(nbytes, chip.gb_bytes_per_cycle)
        return chip.gb.reserve(ready, dur), dur

    def _nop(self, t: Txn, ready: int, tag: object) -> int | None:
        gather = t.mode == "gather"
        start, extra = ready, 0
        accesses = []
        if t.src_buf == "gb":  # written when gathering, read otherwise
            total = t.bytes * len(t.dsts) if gather or t.mode == "scatter" else t.bytes
            accesses.append((self.chiplets[t.src], gather, total))
        if t.dst_buf == "gb":
            accesses += [(self.chiplets[d], not gather, t.bytes) for d in t.dsts]
        for chip, write, nbytes in accesses:
            s, d = self._gb_access(chip, write, nbytes, ready, t.ds)
            start, extra = max(start, s), max(extra, d)
        if self._dram_entry:   # a DRAM channel entering by an edge shared with a neighbour's link
            entry = self._dram_entry.get(t.src) if t.src_buf == "dram" else None
            exit_ = self._dram_entry.get(t.dsts[0]) if t.dst_buf == "dram" else None
            if entry is not None or exit_ is not None:
                return self.nop.transfer(start, t.src, t.dsts, t.bytes, t.mode, self.nop.name, extra, now=ready,
                                         entry=entry, exit_=exit_)
        return self.nop_net.submit(start, t.src, t.dsts, t.bytes, t.mode, tag, extra, now=ready)

    def _noc(self, t: Txn, ready: int, tag: object) -> int | None:
        chip = self.chiplets[t.chiplet]
        gather = t.mode == "gather"
        n = len(t.dsts)
        start, extra = ready, 0
        if t.src_buf == "gb":
            total = t.bytes if t.mode == "multicast" else t.bytes * n
            start, extra = self._gb_access(chip, gather, total, ready, t.ds)
        if t.dst_buf == "pe":
            key = f"{PE_BUFFER.get(t.ds, 'input_buffer')}.{'read' if gather else 'write'}_bit"
            self.counters.add_sram(chip.pe.component, key, t.ds, t.bytes * 8 * n)
        return chip.net.submit(start, t.src, t.dsts, t.bytes, t.mode, tag, extra, now=ready)

    def flit_networks(self) -> list:
        """The networks whose transfers finish later (flit-level), NoP first."""
        nocs = (self.chiplets[rc].net for rc in sorted(self.chiplets))
        nets = [self.nop_net] + [getattr(n, "shared", n) for n in nocs]  # views of one shared kernel
        out = []
        for n in nets:
            if n.deferred and all(n is not m for m in out):
                out.append(n)
        return out

    def enable_flit_flips(self, rates, seed: int) -> bool:
        """Draw bit flips per flit traversal on every flit-level network; False if there is none."""
        nets = self.flit_networks()
        for net in nets:
            net.enable_flips(rates, seed)
        return bool(nets)

    def sampled_flips(self) -> dict[tuple, np.ndarray] | None:
        """Flips drawn per flit traversal, ``(network, src, dst) -> per bit position``, or ``None``
        when no flit-level network draws them."""
        nets = [n for n in self.flit_networks() if n.stream.flips is not None]
        if not nets:
            return None
        out: dict[tuple, np.ndarray] = {}
        for n in nets:
            out.update(n.sampled_flips())
        return out

    def flit_level(self, network: str) -> bool:
        """True when ``network`` (``nop`` or a chiplet NoC's name) is flit-level."""
        if network == "nop":
            return self.nop_net.deferred
        return any(c.noc.name == network and c.net.deferred for c in self.chiplets.values())

    # -- bookkeeping --------------------------------------------------------------
    def meshes(self) -> list[Mesh]:
        """Every network, in the order of :func:`simulator.config.operating.networks`."""
        return [self.nop] + [self.chiplets[rc].noc for rc in sorted(self.chiplets)]

    def account(self, key: object) -> None:
        """Count the actions and link bits that follow under ``key`` (the engine passes the layer of
        the transaction it executes, so that layers overlapping in time keep their own counts)."""
        if key == self._scope:
            return
        self.counters.use(key)
        lists = self._scope_links.get(key)
        if lists is None:
            lists = self._scope_links[key] = [[0] * len(m.links) for m in self._meshes]
        for mesh, bits in zip(self._meshes, lists):
            mesh.link_bits = bits
        self._scope = key

    def take_link_bits(self, key: object = None) -> dict[str, np.ndarray]:
        """Bits carried by every link of every network under ``key`` (default: the current key)
        since it was last taken (per network); they start again from zero."""
        key = self._scope if key is None else key
        lists = self._scope_links.get(key)
        out = {}
        for i, mesh in enumerate(self._meshes):
            bits = (np.asarray(lists[i], dtype=np.int64) if lists is not None
                    else np.zeros(len(mesh.links), dtype=np.int64))
            out[mesh.name] = bits
            self._link_taken[mesh.name] += bits
        if lists is not None:
            if key == self._scope:
                for i, mesh in enumerate(self._meshes):
                    lists[i] = mesh.link_bits = [0] * len(mesh.links)
            else:
                del self._scope_links[key]
        return out

    def link_totals(self, mesh: Mesh) -> np.ndarray:
        """Bits carried by every link of ``mesh`` over the whole run (taken or not)."""
        i = self._meshes.index(mesh)
        total = self._link_taken[mesh.name].copy()
        for lists in self._scope_links.values():
            total += np.asarray(lists[i], dtype=np.int64)
        return total

    def instances(self) -> dict[str, int]:
        """Number of instances per component class, for leakage."""
        a = self.arch
        return {"pe": a.total_pes, "global_buffer": a.chiplets, "nop_router": a.chiplets,
                "dram": a.package.dram.channels}
