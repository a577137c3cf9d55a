"""Every column of layers.csv, components.csv and links.csv against its definition.

The run replays the hand-computed chain of tests/test_engine.py on arch/tiny.yaml
(190 cycles) twice, as two layers, so start cycles and per-layer sums are visible.
Expected values are derived from the counts of pe.py / package.py by hand and
priced with the technology table's entries.
"""
from __future__ import annotations

import csv
import json

import pytest

from simulator import api
from simulator.mapping.trace import LayerTrace
from simulator.report.files import write_run

PES = ((0, 1), (1, 0), (1, 1))


def chain(name: str) -> LayerTrace:
    tr = LayerTrace(name, "conv", 3456)
    rd = tr.add("dram_read", ds="inputs", channel=0, bytes=256)
    nop = tr.add("nop", [rd], ds="inputs", bytes=256, src=(0, 0), dsts=((0, 0),), src_buf="dram", dst_buf="gb")
    noc = tr.add("noc", [nop], ds="inputs", bytes=128, chiplet=(0, 0), src=(0, 0), dsts=PES,
                 mode="multicast", src_buf="gb", dst_buf="pe")
    tr.add("compute", [noc], chiplet=(0, 0), pes=3, k=4, c=8, rs=9, pixels=4)
    return tr


# hand counts of one chain, in bits (tiny: 4 vector MACs x 4 lanes, 24-bit accumulation entries)
BITS = {
    "dram.read_bit": 256 * 8,
    "global_buffer.write_bit": 256 * 8, "global_buffer.read_bit": 128 * 8,
    "nop_link.bit": 0, "nop_router.bit": 256 * 8,                 # 1x1 package: local, one router
    "noc_link.bit": 3 * 128 * 8, "noc_router.bit": 4 * 128 * 8,   # 3 tree links + the source router
    "input_buffer.write_bit": 3 * 128 * 8,
    "weight_buffer.read_bit": 3 * 4 * 8 * 9 * 8,                 # pes·k·c·rs words of 8 bits
    "input_buffer.read_bit": 3 * 1 * 8 * 9 * 4 * 8,              # pes·ceil(k/4)·c·rs·pixels
    "accumulation_buffer.read_bit": 3 * 4 * 4 * 2 * 9 * 24,      # pes·k·pixels·ceil(c/4)·rs entries
    "accumulation_buffer.write_bit": 3 * 4 * 4 * 2 * 9 * 24,
}
MACS = 4 * 8 * 9 * 4 * 3


@pytest.fixture  # per test: mutmut maps a test to the functions its own setup calls
def run(tiny_arch, tmp_path_factory):
    result = api.simulate(tiny_arch, traces=[chain("a"), chain("b")])
    return result, write_run(result, tmp_path_factory.mktemp("run") / "run")


def rows(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_layers_csv_columns(run, tiny_arch):
    result, out = run
    tech = tiny_arch.tech_table
    pj = tech.energy_pj
    latency = 190
    leak_ns = latency / tiny_arch.clock_ghz
    leakage = sum(n * tech.leakage_mw(cls) * leak_ns
                  for cls, n in {"pe": 4, "global_buffer": 1, "nop_router": 1, "dram": 1}.items())
    by_class = {
        "mac": MACS * pj("mac.op"),
        "dram": BITS["dram.read_bit"] * pj("dram.read_bit"),
        "global_buffer": BITS["global_buffer.write_bit"] * pj("global_buffer.write_bit")
        + BITS["global_buffer.read_bit"] * pj("global_buffer.read_bit"),
        "noc_link": BITS["noc_link.bit"] * pj("noc_link.bit"),
        "noc_router": BITS["noc_router.bit"] * pj("noc_router.bit"),
        "nop_router": BITS["nop_router.bit"] * pj("nop_router.bit"),
        "input_buffer": BITS["input_buffer.write_bit"] * pj("input_buffer.write_bit")
        + BITS["input_buffer.read_bit"] * pj("input_buffer.read_bit"),
        "weight_buffer": BITS["weight_buffer.read_bit"] * pj("weight_buffer.read_bit"),
        "accumulation_buffer": BITS["accumulation_buffer.read_bit"] * pj("accumulation_buffer.read_bit")
        + BITS["accumulation_buffer.write_bit"] * pj("accumulation_buffer.write_bit"),
        "leakage": leakage,
    }
    layers = rows(out / "layers.csv")
    assert [(r["index"], r["layer"], r["kind"], r["mac_config"]) for r in layers] == \
        [("0", "a", "conv", "exact"), ("1", "b", "conv", "exact")]
    for i, r in enumerate(layers):
        assert int(r["start_cycle"]) == i * latency
        assert int(r["latency_cycles"]) == latency and int(r["macs"]) == MACS
        assert float(r["utilization"]) == pytest.approx(MACS / (latency * tiny_arch.peak_macs_per_cycle), abs=1e-6)
        for cls, value in by_class.items():
            assert float(r[f"energy_pj_{cls}"]) == pytest.approx(value, abs=2e-3), cls
        assert float(r["energy_pj"]) == pytest.approx(sum(by_class.values()), abs=2e-3)
        assert float(r["dram_bytes"]) == 256
        assert float(r["nop_byte_hops"]) == 0
        assert float(r["noc_byte_hops"]) == 3 * 128
        assert float(r["global_buffer_bytes"]) == 256 + 128
        pe_bits = sum(v for k, v in BITS.items() if k.split(".")[0].endswith("_buffer")
                      and not k.startswith("global"))
        assert float(r["pe_buffer_bytes"]) == pe_bits / 8
    summary = json.loads((out / "summary.json").read_text())
    assert summary["latency_cycles"] == 2 * latency and summary["macs"] == 2 * MACS
    assert summary["latency_ms"] == pytest.approx(2 * latency / (tiny_arch.clock_ghz * 1e6))
    assert summary["energy_pj"] == pytest.approx(2 * sum(by_class.values()), rel=1e-9)
    assert summary["energy_pj_by_class"]["mac"] == pytest.approx(2 * by_class["mac"])
    assert summary["layers"] == 2 and summary["events"] == 8 and summary["complete"] is True
    assert summary["utilization"] == pytest.approx(2 * MACS / (2 * latency * tiny_arch.peak_macs_per_cycle))
    assert (summary["arch"], summary["workload"], summary["clock_ghz"], summary["seed"]) == \
        ("tiny", "trace", tiny_arch.clock_ghz, 0)
    assert sum(summary["energy_pj_by_class"].values()) == pytest.approx(summary["energy_pj"])


def test_components_csv_rows(run, tiny_arch):
    _, out = run
    comps = rows(out / "components.csv")
    pj = tiny_arch.tech_table.energy_pj
    a = {(r["component"], f"{r['component_class']}.{r['action']}"): r for r in comps if r["layer"] == "a"}
    assert float(a[("chiplet[0,0].pes", "mac.op")]["count"]) == MACS
    assert float(a[("dram.ch0", "dram.read_bit")]["count"]) == BITS["dram.read_bit"]
    assert float(a[("chiplet[0,0].noc", "noc_link.bit")]["count"]) == BITS["noc_link.bit"]
    assert float(a[("chiplet[0,0].gb", "global_buffer.read_bit")]["count"]) == BITS["global_buffer.read_bit"]
    for (comp, key), r in a.items():
        if key.startswith("leakage."):  # instance-nanoseconds, checked below
            continue
        assert float(r["energy_pj"]) == pytest.approx(float(r["count"]) * pj(key), rel=1e-5), key
    # leakage is its own class; the leaking component class is named in 'component'
    leak = {r["component"]: r for r in comps if r["layer"] == "a" and r["component_class"] == "leakage"}
    assert float(leak["pe"]["count"]) == pytest.approx(4 * 190 / tiny_arch.clock_ghz)
    assert float(leak["pe"]["energy_pj"]) == pytest.approx(4 * 190 * tiny_arch.tech_table.leakage_mw("pe"), rel=1e-5)


def test_links_csv_rows(run):
    _, out = run
    links = rows(out / "links.csv")
    noc = {(r["from"], r["to"]): r for r in links if r["network"] == "chiplet[0,0].noc"}
    # the multicast tree from (0,0): two layers x 1024 bits on each tree link, 16 cycles each time
    carried = {k: (int(r["bits"]), int(r["busy_cycles"])) for k, r in noc.items() if int(r["bits"])}
    assert carried == {("0,0", "0,1"): (2048, 32), ("0,0", "1,0"): (2048, 32), ("0,1", "1,1"): (2048, 32)}
    for k in carried:
        assert float(noc[k]["utilization"]) == pytest.approx(32 / 380, abs=1e-6)
    dram = [r for r in links if r["network"] == "dram"]
    assert [(r["from"], r["to"], int(r["bits"]), int(r["busy_cycles"])) for r in dram] == \
        [("ch0", "0,0", 2 * 2048, 2 * 16)]
    assert not [r for r in links if r["network"] == "nop"]     # a 1x1 package has no NoP links
