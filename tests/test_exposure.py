"""Error exposure: which element groups meet which faults, with which probability.

Hand-computed case: ``arch/tiny.yaml`` (one chiplet, 2x2 PEs, global buffer at
router (0,0), XY routing) with one low-swing NoC link (0,0) -> (0,1) at p = 1e-2 on
bits 0-3 of every byte. The XY routes from the global buffer to PEs (0,1) and
(1,1) cross it (X first); the routes to (0,0) and (1,0) do not; the routes back
from the PEs to the global buffer never use it (they go (0,1) -> (0,0) and
(1,1) -> (1,0) -> (0,0)). So weights and inputs delivered to PEs (0,1) and (1,1)
are exposed with exactly p = 1e-2 on bits 0-3 and nothing else is.
"""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from simulator import api
from simulator.faults import flips
from simulator.faults.exposure import (corrupt_group, corrupt_outputs, group_box, groups_of, load_exposure,
                                       pe_copies)
from simulator.faults.inject import stuck_cells
from simulator.faults.journeys import Journeys
from simulator.faults.rates import BYTE_BITS, zero_rates
from simulator.faults.seeding import rng_for
from simulator.report.files import write_run
from simulator.workload import Layer, Workload

LOW = (0, 0), (0, 1)
P_LOW = np.array([1e-2] * 4 + [0.0] * 4)


class OneLink:
    """Test double of the error-rate seam: one low-swing NoC link, one optional SRAM rate."""

    def __init__(self, stuck: dict | None = None, read: dict | None = None):
        self.stuck = stuck or {}
        self.read = read or {}

    def link(self, network, src, dst):
        return P_LOW if (network, src, dst) == ("chiplet[0,0].noc", *LOW) else np.zeros(BYTE_BITS)

    def sram_read(self, buffer, ds):
        return np.asarray(self.read.get((buffer, ds), np.zeros(BYTE_BITS)))

    def sram_stuck(self, buffer, ds):
        return np.asarray(self.stuck.get((buffer, ds), np.zeros(BYTE_BITS)))


CONV = Layer("conv", "conv", 8, 8, 8, 16, 3, 3, 1, 1, 1, 1)


def walk(arch, layers, batch=1):
    j = Journeys(arch)
    # the expectations follow the fixed mapping's parts and the DRAM dataflow's routes
    for tr in api.generate_traces(arch, Workload("w", tuple(layers), "test", batch=batch),
                                  dataflow="dram", mapping="fixed"):
        j.add_layer(tr)
    return j


def test_only_elements_routed_over_the_low_swing_link_are_exposed(tiny_arch):
    j = walk(tiny_arch, [CONV])
    found = flips.compute(j, OneLink(), seed=0)
    d = found.data
    for ds in ("weights", "inputs"):
        gids = groups_of(d, "conv", ds)
        assert len(gids) > 0
        for g in gids:
            pe = tuple(d.group_pe[g])
            want = P_LOW if pe in ((0, 1), (1, 1)) else np.zeros(BYTE_BITS)
            np.testing.assert_allclose(d.p_flip[g], want, rtol=1e-6, err_msg=f"{ds} group {g} at PE {pe}")
    for g in groups_of(d, "conv", "outputs"):
        assert not d.p_flip[g].any() and not d.p_acc[g].any()
    # expected flips on the link, by hand: K=16 over 4 PEs -> 4 x 8 x 3 x 3 = 288 weights for
    # each of the two exposed PEs (scattered: each crosses the link once); inputs multicast once
    # per row tile: tiles of 4 output rows read padded rows 0..5 and 4..9, 8 channels x 10 columns.
    weights_bits = 2 * 288
    input_bits = 8 * (6 + 6) * 10
    rows = {(r[1], r[3], r[4], r[5]): r for r in found.rows if r[2] == "link"}
    net = "chiplet[0,0].noc"
    assert rows[("weights", net, "0,0", "0,1")][6] == weights_bits * 8
    assert rows[("weights", net, "0,0", "0,1")][7] == pytest.approx(weights_bits * 4 * 1e-2)
    assert rows[("inputs", net, "0,0", "0,1")][7] == pytest.approx(input_bits * 4 * 1e-2)
    assert found.by_ds["weights"] == pytest.approx(weights_bits * 0.04)
    assert found.by_ds["outputs"] == 0.0
    # every other link: zero expected flips
    assert all(r[7] == 0.0 for k, r in rows.items() if k[2:] != ("0,0", "0,1"))


def test_sram_reads_follow_the_mapping(tiny_arch):
    """A weight is read once per output pixel it meets: p = 1 - (1 - q)^(P*Q) for a PE that holds
    one weight tile for the whole layer; an input once per step."""
    q = 1e-6
    read = {("weight_buffer", "weights"): np.full(BYTE_BITS, q), ("input_buffer", "inputs"): np.full(BYTE_BITS, q)}
    rates = OneLink(read=read)
    d = flips.compute(walk(tiny_arch, [CONV]), rates, seed=0).data
    for g in groups_of(d, "conv", "weights"):
        hops = P_LOW if tuple(d.group_pe[g]) in ((0, 1), (1, 1)) else np.zeros(BYTE_BITS)
        # 8 x 8 output pixels, all computed from this one weight copy
        want = 1 - (1 - hops) * (1 - q) ** 64
        np.testing.assert_allclose(d.p_flip[g], want, rtol=1e-6)
    for g in groups_of(d, "conv", "inputs"):
        hops = P_LOW if tuple(d.group_pe[g]) in ((0, 1), (1, 1)) else np.zeros(BYTE_BITS)
        np.testing.assert_allclose(d.p_flip[g], 1 - (1 - hops) * (1 - q), rtol=1e-6)


def test_every_pe_step_names_the_copies_it_used(tiny_arch):
    d = flips.compute(walk(tiny_arch, [CONV]), OneLink(), seed=0).data
    assert len(d.work_layer) > 0
    for i in range(len(d.work_layer)):
        w, x = d.work_weights[i], d.work_inputs[i]
        assert tuple(d.group_pe[w]) == tuple(d.work_pe[i]) == tuple(d.group_pe[x])
        k0, k1, c0, c1 = d.work_slice[i][:4]
        assert tuple(d.group_slice[w][:4]) == (k0, k1, c0, c1)
        assert d.group_txn[w] < d.work_txn[i] and d.group_txn[x] < d.work_txn[i]


RELOAD = Layer("reload", "conv", 64, 6, 6, 32, 3, 3, 1, 1, 1, 1)  # weights reload every step on tiny


def stuck_rates(p=2e-2):
    return OneLink(stuck={("weight_buffer", "weights"): np.full(BYTE_BITS, p)})


def test_persistent_faults_meet_the_same_cells_on_every_load_of_a_slot(tiny_arch):
    j = walk(tiny_arch, [RELOAD])
    d = flips.compute(j, stuck_rates(), seed=7, stuck_cells=stuck_cells).data
    slot = tiny_arch.chiplet.pe.weight_buffer.size_bytes // 2
    gids = [g for g in groups_of(d, "reload", "weights") if tuple(d.group_pe[g]) == (0, 0)]
    assert len(gids) >= 3
    hits = [{(int(e), int(b), int(v)) for e, b, v in zip(d.stuck_element[d.stuck_group == g],
                                                       d.stuck_bit[d.stuck_group == g],
                                                       d.stuck_value[d.stuck_group == g])} for g in gids]
    n = [int(np.prod([s.stop - s.start for s in group_box(d, g)])) for g in gids]
    # loads alternate between the two slots of the double-buffered weight buffer: loads 0 and 2
    # (same slot, same size) meet exactly the same stuck cells, at the same element and bit
    assert n[0] == n[2] and hits[0] == hits[2]
    assert hits[0] and hits[0] != hits[1]
    # the cells are those of the map of PE (0,0)'s weight buffer, under the first n[0] bytes
    rng = rng_for(7, "chiplet[0,0].pe[0,0].weight_buffer/weights")
    byte, bit, val = stuck_cells(rng, 2 * slot, np.full(BYTE_BITS, 2e-2))
    under = {(int(x), int(b), int(v)) for x, b, v in zip(byte, bit, val) if x < n[0]}
    assert hits[0] == under
    # expected flips: half the stuck cells met
    assert sum(r[7] for r in flips.compute(j, stuck_rates(), 7, stuck_cells).rows
               if r[2] == "sram_stuck") == pytest.approx(0.5 * int((d.stuck_stage == 0).sum()))


def test_persistent_faults_are_deterministic_per_seed(tiny_arch):
    j = walk(tiny_arch, [RELOAD])

    def hits(seed):
        d = flips.compute(j, stuck_rates(), seed=seed, stuck_cells=stuck_cells).data
        return np.stack([d.stuck_group, d.stuck_element, d.stuck_bit, d.stuck_value])

    assert np.array_equal(hits(3), hits(3))
    assert not np.array_equal(hits(3), hits(4))


def test_injection_uses_the_exposure(tiny_arch):
    d = flips.compute(walk(tiny_arch, [RELOAD]), stuck_rates(), seed=1, stuck_cells=stuck_cells).data
    rng = np.random.default_rng(0)
    weights = np.random.default_rng(1).integers(-128, 128, size=(32, 64, 3, 3), dtype=np.int8)
    copies = pe_copies(d, "reload", "weights", weights, rng)
    for g, copy in copies.items():
        orig = weights[group_box(d, g)]
        sel = d.stuck_group == g
        flat = copy.reshape(-1).view(np.uint8)
        for e, b, v in zip(d.stuck_element[sel], d.stuck_bit[sel], d.stuck_value[sel]):
            assert (flat[e] >> b) & 1 == v
        diff = np.unpackbits((copy.view(np.uint8) ^ orig.view(np.uint8)).reshape(-1, 1), axis=1)
        changed = np.flatnonzero(diff.any(axis=1))
        # transient flips only at bits 0-3 on exposed PEs: the rest of the change is the stuck cells
        stuck_elems = set(d.stuck_element[sel].tolist())
        if tuple(d.group_pe[g]) in ((0, 0), (1, 0)):
            assert set(changed.tolist()) <= stuck_elems
    with pytest.raises(Exception, match="shape"):
        corrupt_group(d, int(groups_of(d, "reload", "weights")[0]), weights, rng)


def test_transient_flip_counts_are_binomial(tiny_arch):
    """Corrupting the copies of PE (0,1) many times: the flips per bit position follow
    Binomial(n, 1e-2) on bits 0-3 and never touch bits 4-7."""
    d = flips.compute(walk(tiny_arch, [CONV]), OneLink(), seed=0).data
    (g,) = [g for g in groups_of(d, "conv", "weights") if tuple(d.group_pe[g]) == (0, 1)]
    values = np.zeros((200,) + tuple(s.stop - s.start for s in group_box(d, g)), np.int8)
    rng = np.random.default_rng(5)
    out = np.stack([corrupt_group(d, g, v, rng) for v in values])
    bits = np.unpackbits(out.view(np.uint8).reshape(-1, 1), axis=1, bitorder="little").sum(axis=0)
    n = values.size
    mean, sd = n * 1e-2, np.sqrt(n * 1e-2 * (1 - 1e-2))
    assert all(abs(bits[b] - mean) < 5 * sd for b in range(4)), bits
    assert not bits[4:].any()


def test_outputs_and_psums_are_exposed_on_their_way_back(tiny_arch):
    """A return link at low swing: the route (1,1) -> (1,0) -> (0,0) of PE (1,1)'s outputs."""
    class Back(OneLink):
        def link(self, network, src, dst):
            return P_LOW if (src, dst) == ((1, 1), (1, 0)) else np.zeros(BYTE_BITS)

    fc = Layer.fc("fc", 256, 4)  # on tiny the 256 inputs are split over the 4 PEs: partial sums
    d = flips.compute(walk(tiny_arch, [CONV, fc]), Back(), seed=0).data
    psums = groups_of(d, "fc", "psums")
    parts = {int(d.group_slice[g][0]) for g in psums}
    assert parts == {1, 2, 3}  # part 0 stays in the global buffer and becomes the output
    # PE index 3 = router (1,1) holds part 3: its partial sums cross the low link, once
    for g in psums:
        want = P_LOW if d.group_slice[g][0] == 3 else np.zeros(BYTE_BITS)
        np.testing.assert_allclose(d.p_flip[g], want, rtol=1e-6)
    out = groups_of(d, "conv", "outputs")
    exposed = [g for g in out if d.p_flip[g].any()]
    assert exposed and all(np.allclose(d.p_flip[g], P_LOW) for g in exposed)
    outputs = np.zeros((16, 8, 8), np.int8)
    corrupted = corrupt_outputs(d, "conv", outputs, np.random.default_rng(0))
    assert corrupted.shape == outputs.shape and not (np.unpackbits(corrupted.view(np.uint8)).reshape(-1, 8)[:, :4]).any()


def test_nominal_run_skips_exposure(tiny_arch):
    """At the nominal operating point (BER about 1e-12) the exposure is skipped unless asked for and
    the expected flips are unknown (None), not zero; with every rate zero they are exactly zero."""
    w = Workload("w", (CONV,), "test")
    res = api.simulate(tiny_arch, w)
    assert flips.at_nominal(tiny_arch) and res.exposure is None and res.expected_flips() is None
    forced = api.simulate(tiny_arch, w, exposure=True)
    assert forced.exposure is not None and 0 < forced.expected_flips()["inputs"] < 1e-6
    zero = api.simulate(tiny_arch, w, rates=zero_rates())
    assert zero.exposure is None and zero.expected_flips() == dict.fromkeys(zero.expected_flips(), 0.0)
    assert flips.is_zero(zero_rates(), tiny_arch) and not flips.is_zero(OneLink(), tiny_arch)


def test_low_power_architecture_exposes_nop_low_bits_and_weight_buffers(repo_root):
    """arch/simba_lowpower.yaml: NoP bits 0-3 at 0.45 V, weight buffers at 0.6 V (persistent faults)."""
    from simulator.faults.operating import ber_gaussian
    arch = api.load_arch(repo_root / "arch/simba_lowpower.yaml")
    assert not flips.at_nominal(arch)
    w = Workload("w", (Layer("c", "conv", 64, 14, 14, 64, 3, 3, 1, 1, 1, 1),), "test")
    res = api.simulate(arch, w, seed=1)
    d = res.exposure.data
    low = ber_gaussian(0.45, 0.0569)
    nominal = ber_gaussian(0.8, 0.0569)
    # a weight copy that crossed NoP links: bits 0-3 much more exposed than bits 4-7
    crossed = [g for g in groups_of(d, "c", "weights") if d.p_flip[g][0] > 0.5 * low]
    assert crossed and all(d.p_flip[g][4] < 1e-9 for g in crossed)
    assert all(d.p_flip[g][0] < 1 - (1 - low) ** 12 for g in crossed)  # at most 10 NoP hops (+ nominal ones)
    assert nominal < 1e-11
    # persistent: stuck cells met in the weight buffers only (the others stay at nominal Vdd)
    assert len(d.stuck_group) > 0
    assert set(d.group_ds[d.stuck_group].tolist()) == {0}  # weights
    assert res.expected_flips()["weights"] > res.expected_flips()["outputs"] > 0


def test_run_folder_with_exposure(tiny_arch, tmp_path):
    w = Workload("w", (CONV, Layer("pool", "pool", 16, 8, 8, 16, 2, 2, 2, 2, pool_mode="max")), "test")
    res = api.simulate(tiny_arch, w, rates=OneLink(), seed=3)
    again = api.simulate(tiny_arch, w, rates=OneLink(), seed=3)
    assert res.latency_cycles == api.simulate(tiny_arch, w).latency_cycles  # errors never change timing
    write_run(res, tmp_path / "a")
    write_run(again, tmp_path / "b")
    for name in ("flips.csv", "links.csv", "exposure.npz"):  # same inputs and seed: byte-identical
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["exposure"] == "exposure.npz"
    assert summary["expected_flips"]["weights"] == pytest.approx(2 * 288 * 0.04)
    links = {(r["network"], r["from"], r["to"]): r for r in csv.DictReader((tmp_path / "a" / "links.csv").open())}
    low = links[("chiplet[0,0].noc", "0,0", "0,1")]
    assert float(low["ber"]) == pytest.approx(0.5e-2)
    flips_rows = list(csv.DictReader((tmp_path / "a" / "flips.csv").open()))
    assert float(low["expected_flips"]) == pytest.approx(sum(float(r["expected_flips"]) for r in flips_rows))
    back = load_exposure(tmp_path / "a" / "exposure.npz")
    assert back.layers == ["conv", "pool"]
    np.testing.assert_array_equal(back.p_flip, res.exposure.data.p_flip)
    np.testing.assert_array_equal(back.work_inputs, res.exposure.data.work_inputs)


def test_a_trace_without_identity_cannot_be_exposed(tiny_arch):
    """Version-1 traces replay without exposure; asking for one is a clear error that says how to
    regenerate the trace."""
    from simulator.errors import AxsimError

    traces = list(api.generate_traces(tiny_arch, Workload("w", (CONV,), "test")))
    for tr in traces:
        for t in tr.txns:
            t.data = ()
    assert api.simulate(tiny_arch, traces=traces).exposure is None
    auto = api.simulate(tiny_arch, traces=traces, rates=OneLink())  # replays, without exposure
    assert auto.exposure is None and auto.expected_flips() is None and "no data identity" in auto.exposure_note
    with pytest.raises(AxsimError, match="carries no tensor slices .* regenerate the trace with: axsim trace"):
        api.simulate(tiny_arch, traces=traces, rates=OneLink(), exposure=True)


@pytest.mark.parametrize("layer", [
    CONV,
    Layer("s2", "conv", 12, 9, 9, 8, 3, 3, 2, 2, 1, 1),
    RELOAD,  # C split into tiles, weights reloaded every step
])
def test_the_exposure_is_enough_to_compute_every_pe_output(tiny_arch, layer):
    """An inference engine computes each PE's work from that PE's own copies (named by the work
    records); without corruption the result is the convolution itself (a brute-force oracle)."""
    w = Workload("w", (layer,), "test")
    d = api.simulate(tiny_arch, w, exposure=True).exposure.data
    rng = np.random.default_rng(2)
    weights = rng.integers(-8, 8, size=(layer.out_channels, layer.in_channels, 3, 3)).astype(np.int32)
    x = rng.integers(-8, 8, size=(1, layer.in_channels, layer.in_h, layer.in_w)).astype(np.int32)
    from simulator.faults.exposure import input_tensor
    xin = input_tensor(x, 1, layer.pad_h, layer.pad_w)
    wcopies = pe_copies(d, 0, "weights", weights, rng)
    icopies = pe_copies(d, 0, "inputs", xin, rng)
    out = np.zeros((layer.out_channels, layer.out_h, layer.out_w), np.int64)
    sh, sw = layer.stride_h, layer.stride_w
    for i in range(len(d.work_layer)):
        k0, k1, c0, c1, y0, y1, x0, x1 = d.work_slice[i]
        if k1 <= k0 or y1 <= y0:
            continue
        wg, ig = int(d.work_weights[i]), int(d.work_inputs[i])
        wk0, _, wc0 = d.group_slice[wg][:3]
        ic0, ya, xa = d.group_slice[ig][4], d.group_slice[ig][6], d.group_slice[ig][8]
        wc = wcopies[wg][k0 - wk0:k1 - wk0, c0 - wc0:c1 - wc0]
        xc = icopies[ig][0, 0, c0 - ic0:c1 - ic0]
        for r in range(3):
            for s in range(3):
                win = xc[:, y0 * sh + r - ya:(y1 - 1) * sh + r - ya + 1:sh, x0 * sw + s - xa:(x1 - 1) * sw + s - xa + 1:sw]
                out[k0:k1, y0:y1, x0:x1] += np.einsum("kc,cyx->kyx", wc[:, :, r, s], win)
    xp = np.pad(x[0], ((0, 0), (1, 1), (1, 1)))
    want = np.zeros_like(out)
    for k in range(layer.out_channels):
        for y in range(layer.out_h):
            for xx in range(layer.out_w):
                want[k, y, xx] = np.sum(weights[k] * xp[:, y * sh:y * sh + 3, xx * sw:xx * sw + 3])
    np.testing.assert_array_equal(out, want)


def test_placements_wrap_around_the_buffer(tiny_arch):
    """A copy placed near the end of a buffer continues at its start; one larger than the buffer
    meets a cell once per wrap. Hand-placed cells in the 4096-byte weight buffer of PE (0,0)."""
    j = Journeys(tiny_arch)
    j.layers.append("x")
    inst = j.instance("chiplet[0,0].pe[0,0].weight_buffer", "weight_buffer")
    near_end = j._group(0, "weights", (0, 1, 0, 100, 0, 1, 0, 1), (0, 0), (0, 0), 0, 100, 1, [],
                        [(inst, 4096 - 40, 1, 0, "weights")])
    larger = j._group(0, "weights", (0, 1, 0, 10000, 0, 1, 0, 1), (0, 0), (0, 0), 1, 10000, 1, [],
                      [(inst, 0, 1, 0, "weights")])

    def cells(rng, n_bytes, p):
        assert n_bytes == 4096
        return np.array([4090, 5, 59, 60, 7]), np.array([1, 2, 3, 4, 5]), np.array([1, 0, 1, 1, 0])

    d = flips.compute(j, stuck_rates(), seed=0, stuck_cells=cells).data
    got = {(int(g), int(e), int(b)) for g, e, b in zip(d.stuck_group, d.stuck_element, d.stuck_bit)}
    # base 4056: byte 4090 -> element 34, then bytes 0.. hold elements 40..: 5 -> 45, 7 -> 47, 59 -> 99
    assert {(e, b) for g, e, b in got if g == near_end} == {(34, 1), (45, 2), (47, 5), (99, 3)}
    assert {(e, b) for g, e, b in got if g == larger and b == 5} == {(7, 5), (4103, 5), (8199, 5)}
