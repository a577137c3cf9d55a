"""DRAM channel entry edges (``package.dram.edges``): validation, and the first NoP link a channel
uses, worked out by hand on a 1 x 3 package."""
from __future__ import annotations

from math import ceil

import pytest

from simulator import api
from simulator.config import load_arch
from simulator.errors import AxsimError, InputError
from simulator.hw.package import Package
from simulator.mapping.trace import Txn
from simulator.stats.counters import Counters
from simulator.workload import Layer, Workload


def line_package(write_arch, edge: str | None):
    """simba's chiplets on a 1 x 3 package, one DRAM channel at chiplet [0, 0]."""
    edits = {"package.mesh": {"rows": 1, "cols": 3}, "package.dram.channels": 1,
             "package.dram.attach": [[0, 0]]}
    if edge is not None:
        edits["package.dram.edges"] = [edge]
    return load_arch(write_arch(edits, name=f"line_{edge}.yaml"))


def nop_links(pkg: Package) -> dict:
    return {link: bits for link, bits in zip(pkg.nop.links, pkg.nop.link_bits) if bits}


@pytest.mark.parametrize("edge", [None, "west", "north", "south"])
def test_a_boundary_edge_uses_no_link_of_the_mesh(write_arch, edge):
    """[0, 0] on a 1 x 3 package: west, north and south face the package boundary, so the channel has a
    port of its own, as without ``edges``: a read to [0, 2] crosses [0,0]->[0,1]->[0,2] only."""
    arch = line_package(write_arch, edge)
    assert arch.dram_entries() == {}
    pkg = Package(arch, Counters())
    finish = pkg.execute(Txn(0, "nop", bytes=100, src=(0, 0), dsts=((0, 2),), src_buf="dram", dst_buf="gb"), 0)
    assert nop_links(pkg) == {((0, 0), (0, 1)): 800, ((0, 1), (0, 2)): 800}
    nop = arch.package.nop
    extra = ceil(100 / arch.chiplet.global_buffer.bytes_per_cycle)     # the destination's buffer write
    ser = ceil(800 / nop.link_width_bits)
    assert finish == max(extra, ser) + 2 * (nop.router_latency_cycles + nop.link_latency_cycles)


def test_an_edge_facing_a_chiplet_shares_its_link(write_arch):
    """The east edge of [0, 0] faces [0, 1]: a read enters over the link [0,1]->[0,0] first (one hop
    more, its bits counted, no router more), a write leaves over [0,0]->[0,1] last."""
    arch = line_package(write_arch, "east")
    assert arch.dram_entries() == {(0, 0): (0, 1)}
    nop = arch.package.nop
    hop = nop.router_latency_cycles + nop.link_latency_cycles
    gb_cycles = ceil(100 / arch.chiplet.global_buffer.bytes_per_cycle)
    ser = ceil(800 / nop.link_width_bits)
    counters = Counters()
    pkg = Package(arch, counters)
    finish = pkg.execute(Txn(0, "nop", bytes=100, src=(0, 0), dsts=((0, 2),), src_buf="dram", dst_buf="gb"), 0)
    assert nop_links(pkg) == {((0, 1), (0, 0)): 800, ((0, 0), (0, 1)): 800, ((0, 1), (0, 2)): 800}
    assert finish == max(gb_cycles, ser) + 3 * hop
    totals = counters.take()
    assert totals[("nop", "nop_link.bit")] == 3 * 800
    assert totals[("nop", "nop_router.bit")] == 3 * 800      # routers [0,0], [0,1], [0,2], as without the edge
    # a write from [0, 2] to the channel: [0,2]->[0,1]->[0,0], then out over [0,0]->[0,1]
    pkg = Package(arch, Counters())
    finish = pkg.execute(Txn(0, "nop", bytes=100, src=(0, 2), dsts=((0, 0),), src_buf="gb", dst_buf="dram"), 0)
    assert nop_links(pkg) == {((0, 2), (0, 1)): 800, ((0, 1), (0, 0)): 800, ((0, 0), (0, 1)): 800}
    assert finish == max(gb_cycles, ser) + 3 * hop
    # transfers between global buffers never use the channel's edge
    pkg = Package(arch, Counters())
    pkg.execute(Txn(0, "nop", bytes=100, src=(0, 0), dsts=((0, 2),), src_buf="gb", dst_buf="gb"), 0)
    assert nop_links(pkg) == {((0, 0), (0, 1)): 800, ((0, 1), (0, 2)): 800}


def test_default_and_west_edges_give_the_same_run(write_arch):
    layer = Layer("c", "conv", 32, 8, 8, 64, 3, 3, 1, 1, 1, 1)
    wl = Workload("w", (layer,), "test")
    kw = dict(dataflow="dram", mapping="fixed")   # the same traces for the three layouts
    default = api.simulate(load_arch(write_arch({}, name="d.yaml")), wl, **kw)
    west = api.simulate(load_arch(write_arch({"package.dram.edges": ["west"] * 6}, name="w.yaml")), wl, **kw)
    east = api.simulate(load_arch(write_arch({"package.dram.edges": ["east"] * 6}, name="e.yaml")), wl, **kw)
    assert (west.latency_cycles, west.energy_pj) == (default.latency_cycles, default.energy_pj)
    # east of the west-edge chiplets: every DRAM byte crosses one more NoP link
    link = {"west": west, "east": east}
    bits = {k: sum(e.count for layer_ in r.layers for e in layer_.energy if e.action == "bit"
                   and e.component_class == "nop_link") for k, r in link.items()}
    dram_bits = sum(e.count for layer_ in west.layers for e in layer_.energy
                    if e.component_class == "dram" and e.action in ("read_bit", "write_bit"))
    assert bits["east"] - bits["west"] == dram_bits


def load_error(path) -> InputError:
    with pytest.raises(InputError) as info:
        load_arch(path)
    return info.value


def test_edge_validation(write_arch):
    path = write_arch({"package.dram.edges": ["west"] * 5 + ["up"]})
    assert f"{path}: package.dram.edges[5]: 'up': input should be 'west', 'east', 'north' or 'south'" in str(
        load_error(path))
    path = write_arch({"package.dram.edges": ["west"] * 5})
    assert f"{path}: package.dram.edges: 5 edges listed: must list one per channel (6)" in str(load_error(path))
    path = write_arch({"package.dram.channels": 2, "package.dram.attach": [[0, 0], [0, 0]],
                       "package.dram.edges": ["west", "north"]})
    msg = str(load_error(path))
    assert f"{path}: package.dram.edges[1]: 'north': channel 1 attaches to chiplet [0, 0] like channel 0" in msg
    assert "must enter by the same edge" in msg


def test_a_shared_entry_link_needs_the_transaction_nop(write_arch):
    arch = line_package(write_arch, "east")
    with pytest.raises(AxsimError, match=r"package.dram.edges: the channel at chiplet \[0, 0\] enters by the edge "
                                         r"it shares with chiplet \[0, 1\].*--network-model nop=transaction"):
        Package(arch, Counters(), network_model={"nop": "flit"})
