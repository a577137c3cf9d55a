"""The package's per-layer bookkeeping, by hand, on the asymmetric 2x2 package (tests/quad.py):
link bits kept per key (``Package.account``), taken per key or for the current one, run totals
over taken and untaken keys; counts under each key; instances for leakage.

Link bits of a NoP transfer of b bytes = 8·b on every link of its XY route (X first); NoC likewise
inside a chiplet (2 x 3 PE routers).
"""
from __future__ import annotations

import pytest

from quad import quad_arch
from simulator.config.operating import mesh_links
from simulator.hw.package import Package
from simulator.mapping.trace import Txn
from simulator.stats.counters import Counters

NOP = mesh_links(2, 2)
NOC = mesh_links(2, 3)


@pytest.fixture
def pkg(tmp_path):
    return Package(quad_arch(tmp_path), Counters())


def nop(tid: int, src, dst, nbytes: int) -> Txn:
    return Txn(tid, "nop", src=src, dsts=(dst,), bytes=nbytes, ds="weights")


def nonzero(bits) -> dict:
    return {i: int(b) for i, b in enumerate(bits) if b}


def test_link_bits_without_a_key_are_taken_for_the_default_key(pkg):
    """No ``account`` call: the bits count under the default key, which is the current one."""
    pkg.execute(nop(0, (0, 0), (1, 1), 10), 0)       # (0,0)->(0,1)->(1,1): 80 bits on each
    pkg.execute(Txn(1, "noc", chiplet=(1, 0), src=(1, 2), dsts=((0, 0),), bytes=3, ds="inputs"), 0)
    taken = pkg.take_link_bits()
    assert nonzero(taken["nop"]) == {NOP.index(((0, 0), (0, 1))): 80, NOP.index(((0, 1), (1, 1))): 80}
    # (1,2)->(1,1)->(1,0)->(0,0): 24 bits on each
    assert nonzero(taken["chiplet[1,0].noc"]) == {NOC.index(((1, 2), (1, 1))): 24, NOC.index(((1, 1), (1, 0))): 24,
                                                 NOC.index(((1, 0), (0, 0))): 24}
    assert set(taken) == {"nop", "chiplet[0,0].noc", "chiplet[0,1].noc", "chiplet[1,0].noc", "chiplet[1,1].noc"}
    assert all(int(b.sum()) == 0 for name, b in taken.items() if name not in ("nop", "chiplet[1,0].noc"))
    assert all(b.dtype.kind == "i" for b in taken.values())
    again = pkg.take_link_bits()                    # taken bits start again from zero
    assert all(int(b.sum()) == 0 for b in again.values())
    assert nonzero(pkg.link_totals(pkg.nop)) == nonzero(taken["nop"])   # the run total keeps them
    assert nonzero(pkg.link_totals(pkg.chiplets[(1, 0)].noc)) == nonzero(taken["chiplet[1,0].noc"])


def test_keys_keep_their_own_link_bits_and_counts(pkg):
    """Key 1: NoP (1,0)->(0,0), 5 B = 40 bits. Key 2: NoP (1,0)->(0,1), X first: (1,0)->(1,1) then
    (1,1)->(0,1), 2 B = 16 bits each. Key 1 again: (1,0)->(0,0), 1 B = 8 bits.
    Key 1 is taken while key 2 is current; key 2 is taken as the current key."""
    pkg.account(1)
    pkg.execute(nop(0, (1, 0), (0, 0), 5), 0)
    pkg.account(2)
    pkg.execute(nop(1, (1, 0), (0, 1), 2), 0)
    pkg.account(1)
    pkg.execute(nop(2, (1, 0), (0, 0), 1), 50)
    pkg.account(1)                                   # the same key again keeps what it has
    pkg.account(2)
    up = NOP.index(((1, 0), (0, 0)))
    one = pkg.take_link_bits(1)
    assert nonzero(one["nop"]) == {up: 48}
    assert pkg.counters.take(1)[("nop", "nop_link.bit")] == 48
    pkg.execute(nop(3, (1, 0), (1, 1), 1), 100)      # still key 2 (taking key 1 does not change it): 8 bits
    two = pkg.take_link_bits()                       # the current key: 2
    assert nonzero(two["nop"]) == {NOP.index(((1, 0), (1, 1))): 16 + 8, NOP.index(((1, 1), (0, 1))): 16}
    assert pkg.counters.take()[("nop", "nop_link.bit")] == 32 + 8
    assert nonzero(pkg.take_link_bits(1)["nop"]) == {}   # taken keys are done
    assert nonzero(pkg.link_totals(pkg.nop)) == {up: 48, NOP.index(((1, 0), (1, 1))): 24,
                                                 NOP.index(((1, 1), (0, 1))): 16}


def test_run_totals_add_taken_and_untaken_keys(pkg):
    """Key 7 taken, key 8 not: the totals of the NoP and of chiplet (0,1)'s NoC hold both."""
    pkg.account(7)
    pkg.execute(nop(0, (0, 1), (0, 0), 4), 0)          # 32 bits on (0,1)->(0,0)
    pkg.execute(Txn(1, "noc", chiplet=(0, 1), src=(0, 0), dsts=((0, 1),), bytes=2, ds="inputs"), 0)  # 16 bits
    pkg.take_link_bits(7)
    pkg.account(8)
    pkg.execute(nop(2, (0, 1), (0, 0), 1), 100)        # 8 bits
    pkg.execute(Txn(3, "noc", chiplet=(0, 1), src=(0, 1), dsts=((0, 2),), bytes=1, ds="inputs"), 100)  # 8 bits
    assert nonzero(pkg.link_totals(pkg.nop)) == {NOP.index(((0, 1), (0, 0))): 40}
    assert nonzero(pkg.link_totals(pkg.chiplets[(0, 1)].noc)) == {NOC.index(((0, 0), (0, 1))): 16,
                                                                 NOC.index(((0, 1), (0, 2))): 8}
    assert nonzero(pkg.link_totals(pkg.chiplets[(1, 1)].noc)) == {}
    # bit counts are integers (links.csv writes them as such)
    assert all(type(b) is int for m in pkg.meshes() for b in pkg.link_totals(m).tolist())
    assert pkg.meshes() == [pkg.nop] + [pkg.chiplets[rc].noc for rc in ((0, 0), (0, 1), (1, 0), (1, 1))]


def test_instances_for_leakage(pkg):
    """4 chiplets of 2 x 3 PEs; one global buffer and one NoP router per chiplet; 2 DRAM channels."""
    assert pkg.instances() == {"pe": 24, "global_buffer": 4, "nop_router": 4, "dram": 2}


def quad_with_edges(tmp_path, gb_bank_bits: int | None = None):
    """The quad package whose channel 0 (attached to chiplet (0,0)) enters by the east edge,
    shared with chiplet (0,1); channel 1 (chiplet (1,0)) by the west edge (package boundary).
    ``gb_bank_bits``: another bank width of the global buffer (2 banks)."""
    import yaml

    from simulator.config import load_arch
    quad_arch(tmp_path)  # writes quad.yaml
    data = yaml.safe_load((tmp_path / "quad.yaml").read_text(encoding="utf-8"))
    data["package"]["dram"]["edges"] = ["east", "west"]
    if gb_bank_bits is not None:
        data["chiplet"]["global_buffer"]["bank_width_bits"] = gb_bank_bits
    path = tmp_path / "edges.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_arch(path)


def test_a_write_leaves_by_the_shared_link_after_its_route(tmp_path):
    """A NoP write of 8 B (2 cycles of a 32-bit link) from chiplet (1,1) to channel 0: XY route
    (1,1)->(1,0)->(0,0) (hop offsets 0 and 5), then the shared link (0,0)->(0,1) at offset
    2 hops x 5 = 10, i.e. busy 10..12; finish 0 + 2 + 3 x 5 = 17. A transfer (0,0)->(0,1) ready
    at 0 uses that link 0..2, before the write reaches it: finish 0 + 2 + 5 = 7."""
    pkg = Package(quad_with_edges(tmp_path), Counters())
    w = Txn(0, "nop", src=(1, 1), dsts=((0, 0),), bytes=8, ds="outputs", dst_buf="dram")
    assert pkg.execute(w, 0) == 17
    assert pkg.execute(nop(1, (0, 0), (0, 1), 8), 0) == 7
    bits = pkg.take_link_bits()["nop"]
    assert nonzero(bits) == {NOP.index(((1, 1), (1, 0))): 64, NOP.index(((1, 0), (0, 0))): 64,
                             NOP.index(((0, 0), (0, 1))): 128}


def test_a_shared_dram_entry_with_a_flit_nop_is_refused_with_the_whole_message(tmp_path):
    """Channel 0 attaches to chiplet (0,0) and enters by its east edge, which it shares with
    chiplet (0,1): only the transaction-level NoP models that shared link (docs/models.md, "DRAM
    channel entry edges"); a flit-level NoP, replicating multicasts or not, is refused."""
    from simulator.errors import AxsimError
    arch = quad_with_edges(tmp_path)
    for model in ("flit", "flit-unicast"):   # both flit-level NoPs
        with pytest.raises(AxsimError) as info:
            Package(arch, Counters(), network_model={"nop": model})
        assert str(info.value) == (
            "package.dram.edges: the channel at chiplet [0, 0] enters by the edge it shares with chiplet [0, 1]; "
            "a shared entry link is modelled by the transaction-level NoP only: run with --network-model "
            "nop=transaction, or use edges on the package boundary")
    for model in ("transaction", "transaction-ports"):
        pkg = Package(arch, Counters(), network_model={"nop": model, "noc": "flit"})
        assert pkg._dram_entry == {(0, 0): (0, 1)}


def test_a_dram_entry_transfer_waiting_for_its_buffer_keeps_earlier_link_bookings(tmp_path):
    """Channel 0 enters chiplet (0,0) over the link (0,1)->(0,0). X: NoP (0,1)->(0,0), 8 B (2 cycles
    of a 32-bit link) at 0: link busy 0..2, finish 0 + 2 + 5 = 7. A global-buffer access of 80 B
    holds chiplet (0,0)'s port 0..10. R: 8 B from channel 0 into that buffer, ready at 1: its
    buffer write starts at 10 (1 cycle), the entry link is busy 10..12, finish 10 + 2 + 1 hop x 5
    = 17. Y: NoP (0,1)->(0,0), 8 B, ready at 1 (as R): the link is still busy with X until 2
    (R's wait must not forget X's booking), so Y uses it 2..4: finish 2 + 2 + 5 = 9."""
    pkg = Package(quad_with_edges(tmp_path), Counters())
    assert pkg.execute(nop(0, (0, 1), (0, 0), 8), 0) == 7
    assert pkg.execute(Txn(1, "sram", chiplet=(0, 0), read_bytes=80, ds="inputs"), 0) == 10
    r = Txn(2, "nop", src=(0, 0), dsts=((0, 0),), bytes=8, ds="weights", src_buf="dram", dst_buf="gb")
    assert pkg.execute(r, 1) == 17
    assert pkg.execute(nop(3, (0, 1), (0, 0), 8), 1) == 9


def test_global_buffer_counts_keep_their_data_structure(pkg):
    """SRAM counts per data structure (priced per part of a buffer): an sram step of chiplet (0,1)
    reading 4 B and writing 2 B of partial sums; a NoP multicast of 3 B of weights from chiplet
    (1,1)'s buffer to chiplet (0,0)'s (one read, one write); a NoC scatter of 2 B per PE to 2 PEs
    (the buffer read once per destination: 4 B; 2 B written into each PE's input buffer)."""
    pkg.execute(Txn(0, "sram", chiplet=(0, 1), read_bytes=4, write_bytes=2, ds="psums"), 0)
    pkg.execute(Txn(1, "nop", src=(1, 1), dsts=((0, 0),), bytes=3, ds="weights", src_buf="gb", dst_buf="gb"), 0)
    # and a NoC scatter of 2 B of inputs per PE from chiplet (1,0)'s buffer to 2 PEs
    pkg.execute(Txn(2, "noc", chiplet=(1, 0), src=(0, 1), dsts=((0, 0), (1, 2)), bytes=2, mode="scatter",
                    ds="inputs", src_buf="gb", dst_buf="pe"), 0)
    assert pkg.counters.take_sram() == {
        ("chiplet[1,0].gb", "global_buffer.read_bit", "inputs"): 32,
        ("chiplet[1,0].pes", "input_buffer.write_bit", "inputs"): 32,
        ("chiplet[0,1].gb", "global_buffer.read_bit", "psums"): 32,
        ("chiplet[0,1].gb", "global_buffer.write_bit", "psums"): 16,
        ("chiplet[1,1].gb", "global_buffer.read_bit", "weights"): 24,
        ("chiplet[0,0].gb", "global_buffer.write_bit", "weights"): 24}


def test_a_slow_buffer_write_sets_the_duration_of_a_dram_entry_transfer(tmp_path):
    """Global buffer of 2 banks x 8 bits = 2 B/cycle (slower than the 4 B/cycle NoP link): 8 B from
    channel 0 into chiplet (0,0)'s buffer take 8 / 2 = 4 cycles of the buffer port and 2 of the
    entry link: finish 0 + max(2, 4) + 1 hop x 5 = 9."""
    pkg = Package(quad_with_edges(tmp_path, gb_bank_bits=8), Counters())
    r = Txn(0, "nop", src=(0, 0), dsts=((0, 0),), bytes=8, ds="weights", src_buf="dram", dst_buf="gb")
    assert pkg.execute(r, 0) == 9
