"""Exact finish cycles and action counts of every transaction kind on a 2x2-chiplet package.

The package (tests/quad.py) is asymmetric on purpose, so a swapped pair of
parameters, a wrong channel or a wrong chiplet changes a number here. Every
expected value is computed by hand from the equations in
``simulator/hw/package.py``, ``mesh.py`` and ``pe.py`` (written out in the comments).
"""
from __future__ import annotations

import pytest

from quad import DRAM_LAT, GB, NOP_HOP, NOC_HOP, PE_NODES, quad_arch
from simulator.hw.package import Package
from simulator.hw.pe import MacModel
from simulator.mapping.trace import Txn
from simulator.stats.counters import Counters


@pytest.fixture
def pkg(tmp_path):
    return Package(quad_arch(tmp_path), Counters())


def counts(pkg: Package) -> dict:
    return pkg.counters.peek()


def link_bits(mesh, a, b) -> int:
    return mesh.link_bits[mesh.links.index((a, b))]


# --------------------------------------------------------------------------- DRAM
def test_dram_channels_are_separate_ports(pkg):
    # ceil(100 / 4) = 25 cycles, then the latency 7
    assert pkg.execute(Txn(0, "dram_read", channel=0, bytes=100), 0) == 25 + DRAM_LAT
    # same channel: queues behind the first read (start 25), 40 B = 10 cycles
    assert pkg.execute(Txn(1, "dram_read", channel=0, bytes=40), 0) == 25 + 10 + DRAM_LAT
    # the other channel is free
    assert pkg.execute(Txn(2, "dram_read", channel=1, bytes=40), 0) == 10 + DRAM_LAT
    # a write shares its channel's port with reads: starts at 10, ceil(9 / 4) = 3 cycles
    assert pkg.execute(Txn(3, "dram_write", channel=1, bytes=9), 0) == 10 + 3 + DRAM_LAT
    c = counts(pkg)
    assert c[("dram.ch0", "dram.read_bit")] == 140 * 8
    assert c[("dram.ch1", "dram.read_bit")] == 40 * 8
    assert c[("dram.ch1", "dram.write_bit")] == 9 * 8
    assert ("dram.ch0", "dram.write_bit") not in c
    assert pkg.dram_bits == [140 * 8, 49 * 8]
    assert [p.busy_cycles for p in pkg.dram] == [35, 13]


# --------------------------------------------------------------------------- global buffer
def test_global_buffer_ports_are_per_chiplet(pkg):
    # ceil((30 + 10) / 8) = 5 cycles on chiplet (0,1)'s port
    t = Txn(0, "sram", ds="psums", chiplet=(0, 1), read_bytes=30, write_bytes=10, vector_ops=7)
    assert pkg.execute(t, 0) == 5
    assert pkg.execute(Txn(1, "sram", chiplet=(0, 1), read_bytes=9), 2) == 5 + 2   # queues: start 5
    assert pkg.execute(Txn(2, "sram", chiplet=(1, 0), write_bytes=9), 2) == 2 + 2  # another chiplet
    c = counts(pkg)
    assert c[("chiplet[0,1].gb", "global_buffer.read_bit")] == (30 + 9) * 8
    assert c[("chiplet[0,1].gb", "global_buffer.write_bit")] == 10 * 8
    assert c[("chiplet[0,1].gb", "vector.op")] == 7
    assert c[("chiplet[1,0].gb", "global_buffer.write_bit")] == 9 * 8
    assert ("chiplet[1,0].gb", "vector.op") not in c


# --------------------------------------------------------------------------- NoP
def test_nop_between_global_buffers_routes_x_first(pkg):
    t = Txn(0, "nop", ds="psums", bytes=40, src=(1, 1), dsts=((0, 0),), mode="multicast",
            src_buf="gb", dst_buf="gb")
    # GB read at (1,1) and GB write at (0,0): 40 / 8 = 5 cycles each, overlapping the link
    # serialization 40·8 / 32 = 10; route (1,1)->(1,0)->(0,0): 2 hops of 5
    assert pkg.execute(t, 0) == 10 + 2 * NOP_HOP
    nop = pkg.nop
    assert link_bits(nop, (1, 1), (1, 0)) == 320 and link_bits(nop, (1, 0), (0, 0)) == 320
    assert sum(nop.link_bits) == 640                      # Y-first links (1,1)->(0,1)->(0,0) unused
    c = counts(pkg)
    assert c[("nop", "nop_link.bit")] == 2 * 320
    assert c[("nop", "nop_router.bit")] == 3 * 320
    assert c[("chiplet[1,1].gb", "global_buffer.read_bit")] == 320
    assert c[("chiplet[0,0].gb", "global_buffer.write_bit")] == 320
    assert ("chiplet[1,1].gb", "global_buffer.write_bit") not in c
    # both global-buffer ports were reserved for 5 cycles from cycle 0
    assert pkg.chiplets[(1, 1)].gb.free_at == 5 and pkg.chiplets[(0, 0)].gb.free_at == 5
    assert pkg.chiplets[(0, 1)].gb.free_at == 0 and pkg.chiplets[(1, 0)].gb.free_at == 0


def test_nop_waits_for_a_busy_global_buffer_port(pkg):
    pkg.execute(Txn(0, "sram", chiplet=(1, 1), read_bytes=80), 0)          # port busy [0, 10)
    t = Txn(1, "nop", bytes=8, src=(1, 1), dsts=((1, 0),), src_buf="gb", dst_buf="gb")
    # GB read starts at 10 (1 cycle); link 64 bits / 32 = 2 cycles; 1 hop
    assert pkg.execute(t, 0) == 10 + 2 + NOP_HOP


def test_long_global_buffer_access_bounds_the_nop_transfer(pkg):
    t = Txn(0, "nop", bytes=8, src=(0, 0), dsts=((0, 1), (1, 1)), mode="multicast", src_buf="dram",
            dst_buf="gb")
    # no GB read at the DRAM side; 1-cycle GB writes at both destinations; link 2 cycles, 2 hops
    assert pkg.execute(t, 0) == 2 + 2 * NOP_HOP
    assert ("chiplet[0,0].gb", "global_buffer.read_bit") not in counts(pkg)
    big = Txn(1, "nop", bytes=8 * 9, src=(1, 0), dsts=((1, 0),), src_buf="dram", dst_buf="gb")
    # local: no links; serialization 576 / 32 = 18 > GB write 72 / 8 = 9
    assert pkg.execute(big, 100) == 100 + 18


def test_nop_scatter_from_dram(pkg):
    t = Txn(0, "nop", ds="weights", bytes=16, src=(0, 0), dsts=((0, 1), (1, 1)), mode="scatter",
            src_buf="dram", dst_buf="gb")
    # link (0,0)->(0,1) carries both tiles: 2·128 / 32 = 8 cycles; (0,1)->(1,1) one tile, 4 cycles
    assert pkg.execute(t, 0) == 8 + 2 * NOP_HOP
    c = counts(pkg)
    assert c[("nop", "nop_link.bit")] == 128 * (2 + 1)
    assert c[("nop", "nop_router.bit")] == 128 * (3 + 2)
    assert c[("chiplet[0,1].gb", "global_buffer.write_bit")] == 128
    assert c[("chiplet[1,1].gb", "global_buffer.write_bit")] == 128
    assert link_bits(pkg.nop, (0, 0), (0, 1)) == 256 and link_bits(pkg.nop, (0, 1), (1, 1)) == 128


def test_nop_gather_writes_the_source_and_reads_the_destinations(pkg):
    t = Txn(0, "nop", ds="outputs", bytes=8, src=(0, 0), dsts=((0, 1), (1, 0)), mode="gather",
            src_buf="gb", dst_buf="gb")
    pkg.execute(t, 0)
    c = counts(pkg)
    assert c[("chiplet[0,0].gb", "global_buffer.write_bit")] == 2 * 64
    assert c[("chiplet[0,1].gb", "global_buffer.read_bit")] == 64
    assert c[("chiplet[1,0].gb", "global_buffer.read_bit")] == 64
    assert ("chiplet[0,0].gb", "global_buffer.read_bit") not in c


# --------------------------------------------------------------------------- NoC
def test_noc_scatter_reads_the_global_buffer_once_per_destination(pkg):
    dsts = ((0, 0), (0, 2), (1, 1))                   # each one hop from the GB router (0,1)
    t = Txn(0, "noc", ds="weights", bytes=24, chiplet=(1, 0), src=GB, dsts=dsts, mode="scatter",
            src_buf="gb", dst_buf="pe")
    # GB read 3·24 = 72 B: 9 cycles; every link one tile: 192 / 16 = 12 cycles; 1 hop
    assert pkg.execute(t, 0) == 12 + NOC_HOP
    c = counts(pkg)
    assert c[("chiplet[1,0].gb", "global_buffer.read_bit")] == 72 * 8
    assert c[("chiplet[1,0].pes", "weight_buffer.write_bit")] == 72 * 8
    assert c[("chiplet[1,0].noc", "noc_link.bit")] == 3 * 192
    assert c[("chiplet[1,0].noc", "noc_router.bit")] == (3 + 3) * 192
    assert pkg.chiplets[(1, 0)].gb.busy_cycles == 9
    assert sum(pkg.chiplets[(0, 0)].noc.link_bits) == 0


def test_noc_multicast_reads_the_global_buffer_once(pkg):
    t = Txn(0, "noc", ds="inputs", bytes=40, chiplet=(0, 1), src=GB, dsts=PE_NODES, mode="multicast",
            src_buf="gb", dst_buf="pe")
    # tree from (0,1): (0,1)->(0,0), (0,1)->(0,2), (0,1)->(1,1), (0,0)->(1,0), (0,2)->(1,2): 5 links,
    # farthest PEs 2 hops; serialization 320 / 16 = 20 > GB read 40 / 8 = 5
    assert pkg.execute(t, 3) == 3 + 20 + 2 * NOC_HOP
    c = counts(pkg)
    assert c[("chiplet[0,1].gb", "global_buffer.read_bit")] == 320
    assert c[("chiplet[0,1].pes", "input_buffer.write_bit")] == 6 * 320   # every PE, the GB's own too
    assert c[("chiplet[0,1].noc", "noc_link.bit")] == 5 * 320
    assert c[("chiplet[0,1].noc", "noc_router.bit")] == 6 * 320


@pytest.mark.parametrize("ds", ["outputs", "psums"])
def test_noc_gather_reads_accumulation_buffers_and_writes_the_global_buffer(pkg, ds):
    t = Txn(0, "noc", ds=ds, bytes=12, chiplet=(1, 1), src=GB, dsts=((1, 1), (1, 2)), mode="gather",
            src_buf="gb", dst_buf="pe")
    pkg.execute(t, 0)
    c = counts(pkg)
    assert c[("chiplet[1,1].gb", "global_buffer.write_bit")] == 2 * 96
    assert c[("chiplet[1,1].pes", "accumulation_buffer.read_bit")] == 2 * 96
    assert ("chiplet[1,1].gb", "global_buffer.read_bit") not in c
    assert ("chiplet[1,1].pes", "accumulation_buffer.write_bit") not in c


def test_noc_without_global_buffer_or_pe_side(pkg):
    """A PE-to-PE transfer touches neither the global buffer nor a PE buffer counter."""
    t = Txn(0, "noc", ds="inputs", bytes=4, chiplet=(0, 0), src=(1, 0), dsts=((1, 2),))
    assert pkg.execute(t, 0) == 2 + 2 * NOC_HOP
    assert {k for k, _ in counts(pkg)} == {"chiplet[0,0].noc"}


# --------------------------------------------------------------------------- compute
def test_compute_on_non_square_pes(pkg):
    t = Txn(0, "compute", chiplet=(1, 1), pes=5, k=5, c=3, rs=2, pixels=3)
    # ceil(k / vector_macs) · ceil(c / lanes) · rs · pixels = 2 · 2 · 2 · 3 (swapped: 3 · 1 · 6 = 18)
    assert pkg.execute(t, 0) == 24
    c = counts(pkg)
    comp = "chiplet[1,1].pes"
    assert c[(comp, "mac.op")] == 5 * 3 * 2 * 3 * 5
    assert c[(comp, "weight_buffer.read_bit")] == 5 * (5 * 3 * 2) * 8
    assert c[(comp, "input_buffer.read_bit")] == 5 * 2 * 3 * 2 * 3 * 8       # ceil(5/4)·c·rs·pixels
    assert c[(comp, "accumulation_buffer.read_bit")] == 5 * 5 * 3 * 2 * 2 * 24   # k·pixels·ceil(c/2)·rs
    assert c[(comp, "accumulation_buffer.write_bit")] == 5 * 5 * 3 * 2 * 2 * 24
    # PE arrays of different chiplets are separate units; the same array queues
    assert pkg.execute(Txn(1, "compute", chiplet=(0, 0), pes=1, k=4, c=2, rs=1, pixels=1), 0) == 1
    assert pkg.execute(Txn(2, "compute", chiplet=(1, 1), pes=1, k=4, c=2, rs=1, pixels=1), 0) == 25
    assert pkg.chiplets[(1, 1)].pe.macs == 450 + 8


def test_compute_with_a_lane_factor_counts_accumulations_per_chunk(tmp_path):
    model = MacModel("half", lane_factor=2.0, actions_per_mac={"mac.pp_bit": 2.0}, weight_bits=6.0,
                     input_bits=5.0)
    pkg = Package(quad_arch(tmp_path), Counters(), {"half": model})
    t = Txn(0, "compute", chiplet=(0, 1), pes=3, k=9, c=9, rs=1, pixels=2, mac="half")
    # ceil(9/4) · ceil(9 / (2·2)) · 1 · 2 = 3 · 3 · 2
    assert pkg.execute(t, 0) == 18
    c, comp = counts(pkg), "chiplet[0,1].pes"
    macs = 9 * 9 * 2 * 3
    assert c[(comp, "mac.pp_bit")] == 2 * macs and (comp, "mac.op") not in c
    assert c[(comp, "weight_buffer.read_bit")] == 3 * 81 * 6
    assert c[(comp, "input_buffer.read_bit")] == 3 * 3 * 9 * 2 * 5
    assert c[(comp, "accumulation_buffer.read_bit")] == 3 * 9 * 2 * 3 * 24
    assert c[(comp, "accumulation_buffer.write_bit")] == 3 * 9 * 2 * 3 * 24


def test_vector_ops_use_every_mac_unit(pkg):
    t = Txn(0, "compute", chiplet=(1, 0), pes=4, pixels=5, vector_ops=20)
    assert pkg.execute(t, 0) == 3                    # ceil(20 / (4 · 2))
    c = counts(pkg)
    assert c[("chiplet[1,0].pes", "vector.op")] == 80
    assert c[("chiplet[1,0].pes", "input_buffer.read_bit")] == 80 * 8
    assert ("chiplet[1,0].pes", "mac.op") not in c


def test_instances(pkg):
    assert pkg.instances() == {"pe": 24, "global_buffer": 4, "nop_router": 4, "dram": 2}


def test_unknown_op(pkg):
    from simulator.errors import AxsimError
    with pytest.raises(AxsimError, match="unknown transaction op 'teleport'"):
        pkg.execute(Txn(0, "teleport"), 0)


# --------------------------------------------------------------------------- details that a slip would change
def test_nop_from_a_global_buffer_reads_once_per_multicast_and_once_per_scatter_tile(pkg):
    multicast = Txn(0, "nop", bytes=16, src=(0, 0), dsts=((0, 1), (1, 1)), mode="multicast", src_buf="gb",
                    dst_buf="gb")
    pkg.execute(multicast, 0)
    assert counts(pkg)[("chiplet[0,0].gb", "global_buffer.read_bit")] == 16 * 8
    scatter = Txn(1, "nop", bytes=16, src=(1, 0), dsts=((0, 1), (1, 1)), mode="scatter", src_buf="gb",
                  dst_buf="gb")
    pkg.execute(scatter, 0)
    assert counts(pkg)[("chiplet[1,0].gb", "global_buffer.read_bit")] == 2 * 16 * 8


def test_noc_without_data_structure_writes_the_input_buffer(pkg):
    t = Txn(0, "noc", bytes=4, chiplet=(0, 0), src=GB, dsts=((1, 1),), mode="multicast", src_buf="gb",
            dst_buf="pe")
    pkg.execute(t, 0)
    assert counts(pkg)[("chiplet[0,0].pes", "input_buffer.write_bit")] == 32


def test_empty_transfer_costs_only_its_hops(pkg):
    t = Txn(0, "noc", bytes=0, chiplet=(0, 0), src=(0, 0), dsts=((1, 2),))
    assert pkg.execute(t, 4) == 4 + 3 * NOC_HOP
    assert pkg.execute(Txn(1, "nop", bytes=0, src=(0, 0), dsts=((1, 1),)), 4) == 4 + 2 * NOP_HOP


@pytest.mark.parametrize("net", ["noc", "nop"])
def test_waiting_for_a_global_buffer_does_not_forget_earlier_link_bookings(pkg, net):
    """A transfer delayed by a busy global-buffer port must not drop link reservations that end
    between its request and its start: a later request ready in that window still sees them."""
    if net == "noc":
        def txn(i, src_buf):
            return Txn(i, "noc", bytes=20, chiplet=(1, 1), src=GB, dsts=((0, 2),), mode="multicast",
                       src_buf=src_buf, dst_buf="")
        port = pkg.chiplets[(1, 1)].gb
        ser, hop = 20 * 8 // 16, NOC_HOP            # 10 cycles on the NoC link (0,1)->(0,2)
    else:
        def txn(i, src_buf):
            return Txn(i, "nop", bytes=40, src=(1, 1), dsts=((1, 0),), mode="multicast", src_buf=src_buf)
        port = pkg.chiplets[(1, 1)].gb
        ser, hop = 40 * 8 // 32, NOP_HOP            # 10 cycles on the NoP link (1,1)->(1,0)
    assert pkg.execute(txn(0, ""), 0) == ser + hop                      # link busy [0, 10)
    port.reserve(0, 30)                                                   # GB port busy until 30
    assert pkg.execute(txn(1, "gb"), 0) == 30 + ser + hop                 # waits for the port
    # ready at 5: the link is still busy until 10 (then free until 30)
    assert pkg.execute(txn(2, ""), 5) == 10 + ser + hop


def test_check_node_bounds(pkg):
    noc = pkg.chiplets[(0, 0)].noc                   # 2 rows x 3 columns
    assert [noc.check_node(n) for n in ((0, 0), (1, 2), (0, 2), (1, 0))] == [True] * 4
    assert [noc.check_node(n) for n in ((2, 0), (0, 3), (-1, 0), (0, -1))] == [False] * 4


# --------------------------------------------------------------------------- MAC models: messages and defaults
def test_block_model_on_a_fixed_point_pe(simba_arch):
    from simulator.approx import blocked
    from simulator.errors import AxsimError
    from simulator.macs.timing import block_mac_model

    with pytest.raises(AxsimError) as info:
        block_mac_model(blocked.static_msb(3, 3), simba_arch.chiplet.pe, "msb3")
    assert str(info.value) == ("block-wise MAC configurations need PEs with block multipliers "
                               "(chiplet.pe.mac in the architecture file, e.g. arch/simba_axbxp.yaml)")


def test_default_mac_plan():
    from simulator.hw.mac import MacPlan
    from simulator.hw.pe import EXACT

    plan = MacPlan()
    assert plan.describe() == {"label": "exact", "default": "exact", "per_layer": {}}
    assert plan.models() == {"exact": EXACT}


def _widened(arch, nop_bits=None, noc_bits=None):
    """The same package with wider links, so that global-buffer accesses outlast serialization."""
    pkg, chip = arch.package, arch.chiplet
    if nop_bits:
        pkg = pkg.model_copy(update={"nop": pkg.nop.model_copy(update={"link_width_bits": nop_bits})})
    if noc_bits:
        chip = chip.model_copy(update={"noc": chip.noc.model_copy(update={"link_width_bits": noc_bits})})
    return arch.model_copy(update={"package": pkg, "chiplet": chip})


def test_global_buffer_access_longer_than_the_link_sets_the_duration(tmp_path):
    pkg = Package(_widened(quad_arch(tmp_path), nop_bits=256, noc_bits=256), Counters())
    # NoP: 64 B over a 256-bit link = 2 cycles, but the GB read and write take 64 / 8 = 8 each
    t = Txn(0, "nop", bytes=64, src=(0, 0), dsts=((0, 1),), src_buf="gb", dst_buf="gb")
    assert pkg.execute(t, 0) == 8 + NOP_HOP
    # NoC scatter of 16 B to 6 PEs: GB read 96 B = 12 cycles; busiest link 2 tiles = 1 cycle
    t = Txn(1, "noc", ds="weights", bytes=16, chiplet=(1, 1), src=GB, dsts=PE_NODES, mode="scatter",
            src_buf="gb", dst_buf="pe")
    assert pkg.execute(t, 0) == 12 + 2 * NOC_HOP


def test_exact_model_of_a_16_bit_block_wise_pe(axbxp_arch):
    """16-bit operands in 4-bit blocks: all 4 x 4 = 16 block products of 16 partial-product bits."""
    from simulator.config.arch import BlockMac
    from simulator.macs.timing import exact_model

    pe = axbxp_arch.chiplet.pe.model_copy(update={
        "precision_bits": 16, "mac": BlockMac(block_bits=4, block_multipliers_per_lane=16, reconfig_cycles=3)})
    model = exact_model(pe)
    assert model.name == "exact" and model.lane_factor == 1 and model.reconfig_cycles == 3
    assert model.actions_per_mac == {"mac.pp_bit": 16 * 16, "mac.block_shift_add": 16, "mac.accumulate": 1.0}
    assert (model.weight_bits, model.input_bits) == (16, 16)


def test_unknown_mac_configuration_lists_the_known_ones(tmp_path):
    from simulator.errors import AxsimError

    pkg = Package(quad_arch(tmp_path), Counters(), {"half": MacModel("half", lane_factor=2.0)})
    with pytest.raises(AxsimError) as info:
        pkg.execute(Txn(0, "compute", chiplet=(0, 0), pes=1, k=1, c=1, rs=1, pixels=1, mac="quarter"), 0)
    assert str(info.value) == "MAC configuration 'quarter' is not defined; known: exact, half"
