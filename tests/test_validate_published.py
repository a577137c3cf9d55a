"""benchmarks/validate_published.py: its derived columns by their definitions on a hand-checked run, its
PE-buffer bound against the closed form, and the generated blocks of docs/validation.md §17 against
what the script would write from them."""
from __future__ import annotations

import dataclasses
import sys

import pytest

from conftest import ARCH_DIR, ROOT, WORKLOAD_DIR

sys.path.insert(0, str(ROOT / "benchmarks"))
from doc_blocks import read_block  # noqa: E402
import validate_published as vp  # noqa: E402
from simulator import api  # noqa: E402
from simulator.report.files import summary_dict  # noqa: E402

PAGE = ROOT / "docs" / "validation.md"

# workloads/digits_cnn.yaml by hand: weights 1*8*9 + 8*16*9 + 16*32*9 + 128*10, input 1x8x8, output 10
DIGITS_WEIGHTS = 72 + 1152 + 4608 + 1280
DIGITS_MIN = DIGITS_WEIGHTS + 64 + 10
# MACs: conv1 8x8 outputs x 8 ch x 1*9; conv2 4x4 x 16 x 8*9; conv3 2x2 x 32 x 16*9; fc 128*10
DIGITS_MACS = 64 * 8 * 9 + 16 * 16 * 72 + 4 * 32 * 144 + 1280
TINY_PEAK = 1 * 4 * 4 * 4  # arch/tiny.yaml: 1 chiplet x 2x2 PEs x 4 vector MACs x 4 lanes
TINY_CLOCK_GHZ = 1.0


@pytest.fixture(scope="module")
def tiny_run():
    arch = api.load_arch(ARCH_DIR / "tiny.yaml")
    wl = api.load_workload(WORKLOAD_DIR / "digits_cnn.yaml")
    dataflow, mapping = vp.cli_defaults()
    traces = list(api.generate_traces(arch, wl, dataflow=dataflow, mapping=mapping))
    moved = sum(t.bytes for tr in traces for t in tr.txns if t.op in ("dram_read", "dram_write"))
    res = api.simulate(arch, traces=traces, workload_name=wl.name)
    return arch, wl, res, moved


def test_minimum_dram_bytes_by_hand():
    wl = api.load_workload(WORKLOAD_DIR / "digits_cnn.yaml")
    assert vp.minimum_dram_bytes(wl) == DIGITS_MIN
    # a batch reads the weights once and every sample's image and output once
    assert vp.minimum_dram_bytes(dataclasses.replace(wl, batch=3)) == DIGITS_WEIGHTS + 3 * (64 + 10)
    # conv layers only: their weights, the image, conv3's 32 x 2 x 2 output
    assert vp.conv_minimum_dram_bytes(wl) == 72 + 1152 + 4608 + 64 + 128


def test_network_row_derives_its_columns_by_definition(tiny_run):
    arch, wl, res, moved = tiny_run
    summary = summary_dict(res)
    assert summary["macs"] == DIGITS_MACS
    # the run's DRAM bit counts agree with the bytes of the trace's DRAM transactions
    assert vp.dram_bytes(res) == moved
    hops = sum(layer.count("nop_link.") / 8 for layer in res.layers)
    row = vp.network_row(summary, arch, wl.batch, moved, DIGITS_MIN, hops)
    cycles = res.latency_cycles
    latency_ms = cycles / (TINY_CLOCK_GHZ * 1e6)
    assert row["latency ms"] == pytest.approx(latency_ms)
    assert row["images/s"] == pytest.approx(1e3 / latency_ms)
    assert row["energy mJ"] == pytest.approx(res.energy_pj / 1e9)
    assert row["pJ/MAC"] == pytest.approx(res.energy_pj / DIGITS_MACS)
    assert row["MAC util."] == pytest.approx(DIGITS_MACS / (cycles * TINY_PEAK))
    assert row["DRAM MB"] == pytest.approx(moved / 1e6)
    assert row["min. DRAM MB"] == pytest.approx(DIGITS_MIN / 1e6)
    assert row["DRAM / min."] == pytest.approx(moved / DIGITS_MIN)
    by_class = res.energy_by_class()
    assert row["leakage %"] == pytest.approx(100 * by_class["leakage"] / res.energy_pj)
    assert row["DRAM energy %"] == pytest.approx(100 * by_class["dram"] / res.energy_pj)
    # per image for a batch: a batch of 2 has twice the images per latency, half the energy per image
    assert row["NoP byte-hops / DRAM bytes"] == pytest.approx(hops / moved)
    two = vp.network_row(summary, arch, 2, moved, DIGITS_MIN, hops)
    assert two["images/s"] == pytest.approx(2 * row["images/s"])
    assert two["energy mJ"] == pytest.approx(row["energy mJ"] / 2)


def test_pe_buffer_bound_is_the_closed_form(tiny_run):
    """Per PE and step (docs/models.md "Timed PE buffers"), tiny's PE: 4 vector MACs x 4 lanes,
    W_w = 2 x 64, W_in = 64, W_acc = 96 bits per cycle, 24-bit entries. The partitions below are the
    run's own; the bound is the largest of B_w/W_w, B_in/W_in, B_acc/W_acc over the layer."""
    arch, wl, res, _ = tiny_run
    layers = {layer.name: layer for layer in res.layers}

    def closed_form(k, c, rs, pixels, split_c):
        b_w = k * c * rs * 8 / 128
        b_in = -(-k // 4) * c * rs * pixels * 8 / 64
        # partial sums: read by the MACs, and once more gathered to the global buffer when C is split
        # (a gather of partial sums is counted under the same buffer, action and data structure)
        b_acc = (k * pixels * -(-c // 4) * rs + (k * pixels if split_c else 0)) * 24 / 96
        return max(b_w, b_in, b_acc)

    shapes = {}  # layer -> (k per PE, c per PE, R*S, output pixels per PE, C split?)
    for name in ("conv1", "conv2", "conv3", "fc"):
        part = layers[name].meta["partition"]
        layer = next(x for x in wl.layers if x.name == name)
        rs = layer.kernel_h * layer.kernel_w if layer.kind == "conv" else 1
        shapes[name] = (part["k_pe"], part["c_pe"], rs, part["p_pe"] * layer.out_w, part["c_parts"] > 1)
    for name, shape in shapes.items():
        assert vp.layer_bounds(arch, layers[name])["PE buffer"] == pytest.approx(closed_form(*shape)), name
    # conv1 has one input channel: 1 of 4 lanes busy, so the lane-level bound is 4x the MAC bound
    b = vp.layer_bounds(arch, layers["conv1"])
    assert b["PE buffer"] == pytest.approx(4 * b["compute"])


def _rows(name):
    return vp.parse_table(read_block(PAGE, name))


def test_compare_block_is_what_the_script_writes_from_the_networks_block():
    arch = api.load_arch(ARCH_DIR / "simba.yaml")
    assert read_block(PAGE, "published-compare") == vp.compare_block(read_block(PAGE, "published-networks"),
                                                                       vp.peak_tmacs(arch))
    # one ratio by hand: simulated ResNet-50 images/s over Simba's 1988 (Shao et al., MICRO 2019)
    head, rows = _rows("published-networks")
    resnet = dict(zip(head, next(r for r in rows if r[:2] == ["resnet50", "network"])))
    chead, crows = _rows("published-compare")
    simba = dict(zip(chead, next(r for r in crows if r[0] == "Simba, 36 chiplets" and r[2] == "images/s")))
    assert float(simba["sim / published"]) == pytest.approx(vp.number(resnet["images/s"]) / 1988, abs=0.006)


def test_networks_block_columns_agree_with_each_other():
    head, rows = _rows("published-networks")
    assert {(r[0], r[1]) for r in rows} >= {(n, "network") for n in vp.NETWORKS}
    for r in rows:
        v = {k: vp.number(x) for k, x in zip(head[2:], r[2:])}
        # within the rounding of the printed columns (latency 3 decimals, energy 2, GMAC 3, pJ/MAC 2)
        assert 1e3 / (v["latency ms"] + 5e-4) - 0.5 <= v["images/s"] <= 1e3 / (v["latency ms"] - 5e-4) + 0.5
        lo = (v["energy mJ"] - 5e-3) / (v["GMAC"] + 5e-4)
        hi = (v["energy mJ"] + 5e-3) / (v["GMAC"] - 5e-4)
        assert lo - 5e-3 <= v["pJ/MAC"] <= hi + 5e-3
        assert v["DRAM / min."] == pytest.approx(v["DRAM MB"] / v["min. DRAM MB"], abs=0.006)
        assert 0 < v["MAC util."] < 1
    # the class table's totals are the networks' pJ/MAC; its classes add up to the total
    chead, crows = _rows("published-classes")
    nets = {r[0]: vp.number(r[head.index("pJ/MAC")]) for r in rows if r[1] == "network"}
    checked = set()
    for r in crows:
        parts = [float(x) for x in r[1:-1]]
        assert sum(parts) == pytest.approx(float(r[-1]), abs=0.001 * len(parts))
        net = r[0].split(" at ")[0]
        if net in nets and r[0] == f"{net} at 1.2 V, 2.0 GHz":  # the default runs of the networks table
            assert float(r[-1]) == pytest.approx(nets[net], abs=0.006)
            checked.add(net)
    assert checked == set(vp.NETWORKS)


def test_bounds_and_sensitivity_blocks_are_consistent():
    head, rows = _rows("published-bounds")
    for r in rows:
        counts = [int(part.rsplit(" ", 1)[1]) for part in r[head.index("limited by (layers)")].split(", ")]
        assert sum(counts) == int(r[head.index("layers")])
        assert float(r[head.index("sim / bound median")]) >= 1.0
        assert float(r[head.index("sim / bound max")]) >= float(r[head.index("sim / bound median")])
    shead, srows = _rows("published-sensitivity")
    nhead, nrows = _rows("published-networks")
    resnet = dict(zip(nhead, next(r for r in nrows if r[:2] == ["resnet50", "network"])))
    default = dict(zip(shead, srows[0]))
    assert default["latency ms"] == resnet["latency ms"]
    assert float(default["pJ/MAC"]) == pytest.approx(float(resnet["pJ/MAC"]), abs=0.006)
    # removing leakage takes exactly the leakage share off the energy
    no_leak = dict(zip(shead, next(r for r in srows if r[0] == "no leakage")))
    share = float(default["leakage %"]) / 100
    assert float(no_leak["pJ/MAC"]) == pytest.approx(float(default["pJ/MAC"]) * (1 - share), abs=0.003)
    dataflow, mapping = vp.cli_defaults()
    assert f"--dataflow {dataflow} --mapping {mapping}" in read_block(PAGE, "published-conditions")


def test_unscaled_leakage_equals_a_run_at_the_nominal_supply():
    """Leakage re-priced without its voltage scaling equals the leakage of the same run at the
    table's nominal 0.8 V (same clock, so the same cycles), and differs from the run's own."""
    tiny = api.load_arch(ARCH_DIR / "tiny.yaml")
    wl = api.load_workload(WORKLOAD_DIR / "digits_cnn.yaml")
    hot = api.simulate(api.with_operating_point(tiny, {"vdd_v": 1.0}), wl)
    nominal = api.simulate(api.with_operating_point(tiny, {"vdd_v": 0.8}), wl)
    assert hot.latency_cycles == nominal.latency_cycles
    leak, flat = vp.unscaled_leakage_pj(api.with_operating_point(tiny, {"vdd_v": 1.0}), hot)
    assert leak == pytest.approx(hot.energy_by_class()["leakage"])
    assert flat == pytest.approx(nominal.energy_by_class()["leakage"])
    assert leak / flat == pytest.approx(4.8 ** (0.2 / 0.28), rel=1e-3)  # r(1.0)/r(0.8) of the curve
