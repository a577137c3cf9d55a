"""Re-pricing raw counts (``simulator/energy/reprice.py``) against the equation, by hand.

A hand-made ``RunCounts`` of two layers on ``arch/tiny.yaml`` (one chiplet, a 2 x 2 NoC: 8
directed links; the NoP has none), priced at the nominal point and at an operating point:

    E_layer = sum_k count_k e_k + sum_l bits_l e_link s_l + sum_j bits_j e_j (V_j / V_nom)^2
              + t_layer sum_c n_c P_c

Energies from ``arch/tech/simba_16nm.yaml``: mac.op 0.077 pJ, dram.read_bit 8.0, noc_link.bit
0.060, global_buffer.read_bit 0.12; leakage pe 0.5 mW, global_buffer 0.3 mW; nominal 0.8 V; NoC
links ``swing_times_vdd`` (s = V_sw / 0.8 at the nominal chip supply). Clock 2 GHz: 1 mW over
2 cycles = 1 pJ.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ARCH_DIR
from simulator.config import load_arch
from simulator.config.identity import hardware_dict, hardware_hash
from simulator.config.operating import mesh_links
from simulator.energy.reprice import FORMAT_VERSION, RunCounts
from simulator.errors import AxsimError

GB = "chiplet[0,0].gb"
OP_EDITS = {
    "chiplet.noc.swing_v": 0.6,                                              # s = 0.75
    "chiplet.noc.links": [{"from": [0, 0], "to": [0, 1], "swing_v": 0.4}],   # link 0: s = 0.5
    "chiplet.global_buffer.vdd_v_per_ds": {"weights": 0.55, "inputs": 0.6},
}


def hand_counts(arch, keys=("mac.op", "dram.read_bit")) -> RunCounts:
    """Counts as a run keeps them: every counted key (the link and buffer keys too: their totals
    are priced through the per-link and per-data-structure bits, not from these counts)."""
    links = mesh_links(2, 2)
    assert links[0] == ((0, 0), (0, 1)) and links[3] == ((0, 1), (0, 0))
    link_bits = np.zeros((2, 8), dtype=np.int64)
    link_bits[0, 0], link_bits[0, 3], link_bits[1, 3] = 100, 50, 20
    s = lambda xs: np.array(xs, dtype=str)  # noqa: E731
    return RunCounts(
        layer_names=s(["a", "b"]), latency_cycles=np.array([100, 200], dtype=np.int64), clock_ghz=2.0,
        key_component=s(["chiplet[0,0].pes", "dram", GB, "chiplet[0,0].noc"]),
        key_action=s(list(keys) + ["global_buffer.read_bit", "noc_link.bit"]),
        counts=np.array([[1000.0, 64.0, 90.0, 150.0], [0.0, 128.0, 40.0, 20.0]]),
        link_network=s(["chiplet[0,0].noc"] * 8), link_from=np.array([a for a, _ in links], dtype=np.int64),
        link_to=np.array([b for _, b in links], dtype=np.int64), link_bits=link_bits,
        sram_component=s([GB, GB, GB]), sram_action=s(["global_buffer.read_bit"] * 3),
        sram_ds=s(["weights", "inputs", ""]), sram_bits=np.array([[80.0, 0.0, 10.0], [0.0, 40.0, 0.0]]),
        instance_class=s(["global_buffer", "pe"]), instance_count=np.array([1, 4], dtype=np.int64),
        hardware_hash=hardware_hash(arch), hardware_json=json.dumps(hardware_dict(arch), sort_keys=True))


@pytest.fixture
def tiny():
    return load_arch(ARCH_DIR / "tiny.yaml")


def test_nominal_and_operating_point_by_hand(tiny, write_arch):
    op = load_arch(write_arch(OP_EDITS, base="tiny"))
    priced = hand_counts(tiny).price([tiny, op])
    leak = 1 * 0.3 + 4 * 0.5                                       # mW
    nominal = [1000 * 0.077 + 64 * 8.0 + (100 + 50) * 0.060 + (80 + 10) * 0.12 + leak * 50,
               128 * 8.0 + 20 * 0.060 + 40 * 0.12 + leak * 100]
    at_op = [1000 * 0.077 + 64 * 8.0 + 0.060 * (100 * 0.4 / 0.8 + 50 * 0.6 / 0.8)
             + 0.12 * (80 * (0.55 / 0.8) ** 2 + 10) + leak * 50,  # "" at the buffer's own (nominal) supply
             128 * 8.0 + 0.060 * 20 * 0.6 / 0.8 + 0.12 * 40 * (0.6 / 0.8) ** 2 + leak * 100]
    np.testing.assert_allclose(priced.layer_energy_pj, [nominal, at_op], rtol=1e-12)
    np.testing.assert_allclose(priced.energy_pj, [sum(nominal), sum(at_op)], rtol=1e-12)
    by = priced.energy_pj_by_class
    np.testing.assert_allclose(by["mac"], [77.0, 77.0], rtol=1e-12)
    np.testing.assert_allclose(by["dram"], [192 * 8.0] * 2, rtol=1e-12)
    np.testing.assert_allclose(by["leakage"], [leak * 150] * 2, rtol=1e-12)
    np.testing.assert_allclose(by["noc_link"], [170 * 0.06, 0.06 * (100 * 0.5 + 50 * 0.75 + 20 * 0.75)], rtol=1e-12)
    np.testing.assert_allclose(by["global_buffer"], [130 * 0.12, 0.12 * (80 * (0.55 / 0.8) ** 2 + 10
                                                                        + 40 * 0.5625)], rtol=1e-12)
    assert set(by) == {"mac", "dram", "global_buffer", "noc_link", "leakage"}
    assert priced.layer_names == ["a", "b"]


def test_save_and_load_keep_every_array(tiny, tmp_path):
    counts = hand_counts(tiny)
    counts.save(tmp_path / "counts.npz")
    back = RunCounts.load(tmp_path)                      # a run folder: its counts.npz
    for name in counts.__dataclass_fields__:
        a, b = getattr(counts, name), getattr(back, name)
        if isinstance(a, np.ndarray):
            assert a.dtype.kind == b.dtype.kind and np.array_equal(a, b), name
        else:
            assert type(a) is type(b) and a == b, name
    np.testing.assert_array_equal(back.price([tiny]).energy_pj, counts.price([tiny]).energy_pj)


def test_unreadable_counts_files_name_the_path(tiny, tmp_path):
    with pytest.raises(AxsimError) as info:
        RunCounts.load(tmp_path)
    assert str(info.value) == (f"{tmp_path / 'counts.npz'}: not found; re-pricing needs the counts.npz that "
                               "'axsim run' writes into its run folder (runs from older versions lack it: run again)")
    bad = tmp_path / "counts.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(AxsimError, match=r"counts\.npz: not a readable counts file: "):
        RunCounts.load(bad)
    counts = hand_counts(tiny)
    arrays = {k: getattr(counts, k) for k in counts.__dataclass_fields__}
    np.savez(tmp_path / "v2.npz", **{**arrays, "format_version": np.array(FORMAT_VERSION + 1)})
    with pytest.raises(AxsimError) as info:
        RunCounts.load(tmp_path / "v2.npz")
    assert str(info.value) == (f"{tmp_path / 'v2.npz'}: counts format version {FORMAT_VERSION + 1}; "
                               f"this version reads {FORMAT_VERSION}: run again")
    del arrays["sram_ds"]
    np.savez(tmp_path / "short.npz", **{**arrays, "format_version": np.array(FORMAT_VERSION)})
    with pytest.raises(AxsimError, match="short.npz: not a readable counts file: .*sram_ds"):
        RunCounts.load(tmp_path / "short.npz")


def test_an_action_missing_from_the_table_is_named(tiny):
    with pytest.raises(AxsimError) as info:
        hand_counts(tiny, keys=("mac.bogus", "dram.bogus_bit")).price([tiny])
    assert str(info.value) == ("technology table 'simba-16nm' has no energy for dram.bogus_bit, mac.bogus, counted "
                               "in this run; add them under 'energy:'")


def test_other_hardware_lists_at_most_six_differences(tiny, write_arch):
    edits = {"chiplet.pe.vector_macs": 8, "chiplet.pe.lanes": 8, "chiplet.pe.weight_buffer.size_bytes": 8192,
             "chiplet.pe.input_buffer.size_bytes": 4096, "chiplet.global_buffer.size_bytes": 32768,
             "package.dram.latency_cycles": 99, "package.nop.link_width_bits": 48}
    other = load_arch(write_arch(edits, base="tiny"))
    with pytest.raises(AxsimError) as info:
        hand_counts(tiny).price([other])
    text = str(info.value)
    assert text.startswith(f"{other.source}: not the hardware of this run, only operating points (swing_v, ")
    head, _, shown = text.partition("; differences: ")
    assert head.endswith("may change when re-pricing")
    assert shown.split("; ")[-1] == "..." and len(shown.split("; ")) == 7
    assert all(" -> " in d for d in shown.split("; ")[:6])
    # exactly six differences: all listed, no ellipsis
    six = load_arch(write_arch({k: v for k, v in list(edits.items())[:6]}, base="tiny", name="six.yaml"))
    with pytest.raises(AxsimError) as info:
        hand_counts(tiny).price([six])
    shown = str(info.value).partition("; differences: ")[2]
    assert len(shown.split("; ")) == 6 and not shown.endswith("...")
    # two differences, in key order, separated by "; "
    two = load_arch(write_arch({"package.dram.latency_cycles": 99, "chiplet.pe.lanes": 8}, base="tiny", name="two.yaml"))
    with pytest.raises(AxsimError) as info:
        hand_counts(tiny).price([two])
    assert str(info.value).endswith("; differences: chiplet.pe.lanes: 4 -> 8; package.dram.latency_cycles: 50 -> 99")
    # one difference: listed without the ellipsis
    one = load_arch(write_arch({"package.dram.latency_cycles": 99}, base="tiny"))
    with pytest.raises(AxsimError) as info:
        hand_counts(tiny).price([one])
    assert str(info.value).endswith("differences: package.dram.latency_cycles: 50 -> 99")


def test_a_hash_without_listed_differences_points_to_the_files(tiny):
    counts = hand_counts(tiny)
    counts.hardware_hash = "0" * 16            # the stored description equals the hardware, the hash does not
    with pytest.raises(AxsimError) as info:
        counts.price([tiny])
    assert str(info.value).endswith("; differences: see the architecture files")


def _links(arch):
    """Every link of the package's networks in RunCounts' column order: network by network
    (NoP, then each chiplet's NoC), each mesh's links in ``mesh_links`` order."""
    from simulator.config.operating import networks
    nets, frm, to = [], [], []
    for name, rows, cols in networks(arch):
        for a, b in mesh_links(rows, cols):
            nets.append(name)
            frm.append(a)
            to.append(b)
    return nets, frm, to


def test_nop_and_noc_links_are_priced_by_their_own_class(tmp_path):
    """The 2x2 package of tests/quad.py: 100 bits on NoP link 0 (0.82 pJ/bit), 10 bits on link 0
    of chiplet[0,0]'s NoC (0.060 pJ/bit); no other count."""
    from quad import quad_arch
    arch = quad_arch(tmp_path)
    s = lambda xs: np.array(xs, dtype=str)  # noqa: E731
    nets, frm, to = _links(arch)
    assert len(nets) == 8 + 4 * 14 and nets[0] == "nop" and nets[8] == "chiplet[0,0].noc"
    bits = np.zeros((1, len(nets)), dtype=np.int64)
    bits[0, 0], bits[0, 8] = 100, 10
    counts = RunCounts(
        layer_names=s(["a"]), latency_cycles=np.array([0], dtype=np.int64), clock_ghz=2.0,
        key_component=s(["nop", "chiplet[0,0].noc"]), key_action=s(["nop_link.bit", "noc_link.bit"]),
        counts=np.array([[100.0, 10.0]]), link_network=s(nets), link_from=np.array(frm, dtype=np.int64),
        link_to=np.array(to, dtype=np.int64), link_bits=bits, sram_component=s([]), sram_action=s([]),
        sram_ds=s([]), sram_bits=np.zeros((1, 0)), instance_class=s([]), instance_count=np.zeros(0, dtype=np.int64),
        hardware_hash=hardware_hash(arch), hardware_json=json.dumps(hardware_dict(arch), sort_keys=True))
    by = counts.price([arch]).energy_pj_by_class
    assert by["nop_link"].tolist() == pytest.approx([100 * 0.82]) and by["noc_link"].tolist() == pytest.approx([0.6])


def test_each_technology_table_prices_its_own_actions(tiny, write_arch, tmp_path):
    """Two operating points with different tables (mac.op 0.077 and 0.5 pJ, the same supply):
    each point uses its own table's energies; a table without an sram section leaves leakage
    unscaled (x1)."""
    import yaml
    from conftest import TECH_DIR
    tech = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())
    tech["energy"]["mac.op"]["pj"] = 0.5
    del tech["sram"]
    (tmp_path / "t2.yaml").write_text(yaml.safe_dump(tech), encoding="utf-8")
    other = load_arch(write_arch({"tech": str(tmp_path / "t2.yaml")}, base="tiny", name="other.yaml"))
    priced = hand_counts(tiny).price([tiny, other])
    by = priced.energy_pj_by_class
    np.testing.assert_allclose(by["mac"], [77.0, 500.0], rtol=1e-12)
    np.testing.assert_allclose(by["leakage"], [(0.3 + 4 * 0.5) * 150] * 2, rtol=1e-12)


def test_counts_of_a_finished_run_follow_the_file_format(tiny, write_arch):
    """``RunCounts.from_result`` of a hand-made result with the counts of ``hand_counts``: two rows
    of the same key add up; buffer bits without a data structure (90 counted, 80 named) are kept
    under ""; leakage rows are not counts."""
    from types import SimpleNamespace
    from simulator.energy.price import ComponentEnergy as E
    noc = np.zeros(8, dtype=np.int64)
    noc[0], noc[3] = 100, 50
    noc1 = np.zeros(8, dtype=np.int64)
    noc1[3] = 20
    layers = [
        SimpleNamespace(name="a", latency_cycles=100, link_bits={"nop": np.zeros(0, dtype=np.int64), "chiplet[0,0].noc": noc},
                        sram_bits={(GB, "global_buffer.read_bit", "weights"): 80.0},
                        energy=[E("chiplet[0,0].pes", "mac", "op", 600.0, 0.0), E("chiplet[0,0].pes", "mac", "op", 400.0, 0.0),
                                E("dram", "dram", "read_bit", 64.0, 0.0), E(GB, "global_buffer", "read_bit", 90.0, 0.0),
                                E("chiplet[0,0].noc", "noc_link", "bit", 150.0, 0.0),
                                E("leakage", "pe", "leakage_ns", 400.0, 200.0)]),
        SimpleNamespace(name="b", latency_cycles=200, link_bits={"nop": np.zeros(0, dtype=np.int64), "chiplet[0,0].noc": noc1},
                        sram_bits={(GB, "global_buffer.read_bit", "inputs"): 40.0},
                        energy=[E("dram", "dram", "read_bit", 128.0, 0.0), E(GB, "global_buffer", "read_bit", 40.0, 0.0),
                                E("chiplet[0,0].noc", "noc_link", "bit", 20.0, 0.0)]),
    ]
    result = SimpleNamespace(layers=layers, instances={"pe": 4, "global_buffer": 1}, clock_ghz=2.0)
    got = RunCounts.from_result(result, tiny)
    assert got.layer_names.tolist() == ["a", "b"] and got.latency_cycles.tolist() == [100, 200]
    assert got.clock_ghz == 2.0
    assert list(zip(got.key_component.tolist(), got.key_action.tolist())) == [
        (GB, "global_buffer.read_bit"), ("chiplet[0,0].noc", "noc_link.bit"), ("chiplet[0,0].pes", "mac.op"),
        ("dram", "dram.read_bit")]
    assert got.counts.tolist() == [[90, 150, 1000, 64], [40, 20, 0, 128]]
    links = mesh_links(2, 2)
    assert got.link_network.tolist() == ["chiplet[0,0].noc"] * 8
    assert got.link_from.shape == got.link_to.shape == (8, 2) and got.link_from.dtype == np.int64
    assert [tuple(x) for x in got.link_from.tolist()] == [a for a, _ in links]
    assert [tuple(x) for x in got.link_to.tolist()] == [b for _, b in links]
    assert got.link_bits.dtype == np.int64 and got.link_bits.tolist() == [noc.tolist(), noc1.tolist()]
    assert list(zip(got.sram_component.tolist(), got.sram_action.tolist(), got.sram_ds.tolist())) == [
        (GB, "global_buffer.read_bit", ""), (GB, "global_buffer.read_bit", "inputs"),
        (GB, "global_buffer.read_bit", "weights")]
    assert got.sram_bits.tolist() == [[10, 0, 80], [0, 40, 0]]
    assert got.instance_class.tolist() == ["global_buffer", "pe"] and got.instance_count.tolist() == [1, 4]
    assert got.instance_count.dtype == np.int64 and got.key_component.dtype.kind == "U"
    assert got.hardware_hash == hardware_hash(tiny)
    assert got.hardware_json == json.dumps(hardware_dict(tiny), sort_keys=True)
    op = load_arch(write_arch(OP_EDITS, base="tiny"))
    np.testing.assert_allclose(got.price([tiny, op]).layer_energy_pj, hand_counts(tiny).price([tiny, op]).layer_energy_pj,
                               rtol=1e-12)


def test_buffer_counts_without_a_data_structure(tiny):
    """Per layer: weight-buffer reads counted (50 bits) with no per-data-structure bits: all 50 under "";
    global-buffer writes of 12 bits of which 5 were already counted under "": 5 + 7 under "";
    global-buffer reads of 100.00000001 bits with 100 named: a rest of 1e-8 is rounding, not kept."""
    from types import SimpleNamespace
    from simulator.energy.price import ComponentEnergy as E
    layer = SimpleNamespace(
        name="a", latency_cycles=10, link_bits={},
        sram_bits={(GB, "global_buffer.write_bit", ""): 5.0, (GB, "global_buffer.read_bit", "inputs"): 100.0},
        energy=[E("chiplet[0,0].pes", "weight_buffer", "read_bit", 50.0, 0.0),
                E(GB, "global_buffer", "write_bit", 12.0, 0.0), E(GB, "global_buffer", "read_bit", 100.00000001, 0.0)])
    got = RunCounts.from_result(SimpleNamespace(layers=[layer], instances={}, clock_ghz=1.0), tiny)
    parts = {(c, a, d): b for c, a, d, b in zip(got.sram_component.tolist(), got.sram_action.tolist(),
                                                  got.sram_ds.tolist(), got.sram_bits[0].tolist())}
    assert parts == {("chiplet[0,0].pes", "weight_buffer.read_bit", ""): 50.0, (GB, "global_buffer.write_bit", ""): 12.0,
                     (GB, "global_buffer.read_bit", "inputs"): 100.0}


def test_a_network_that_carried_nothing_prices_zero(tmp_path):
    """The 2x2 package's NoP links with no bits and no nop_link count: its class is priced 0."""
    from quad import quad_arch
    arch = quad_arch(tmp_path)
    s = lambda xs: np.array(xs, dtype=str)  # noqa: E731
    nets, frm, to = _links(arch)
    bits = np.zeros((1, len(nets)), dtype=np.int64)
    bits[0, 8] = 10
    counts = RunCounts(
        layer_names=s(["a"]), latency_cycles=np.array([0], dtype=np.int64), clock_ghz=1.0,
        key_component=s(["chiplet[0,0].noc"]), key_action=s(["noc_link.bit"]), counts=np.array([[10.0]]),
        link_network=s(nets), link_from=np.array(frm, dtype=np.int64), link_to=np.array(to, dtype=np.int64),
        link_bits=bits, sram_component=s([]), sram_action=s([]), sram_ds=s([]), sram_bits=np.zeros((1, 0)),
        instance_class=s([]), instance_count=np.zeros(0, dtype=np.int64),
        hardware_hash=hardware_hash(arch), hardware_json=json.dumps(hardware_dict(arch), sort_keys=True))
    by = counts.price([arch]).energy_pj_by_class
    assert by["nop_link"].tolist() == [0.0] and by["noc_link"].tolist() == pytest.approx([0.6])
