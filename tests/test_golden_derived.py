"""The end-to-end goldens of tests/test_cli.py, derived instead of only recorded.

- Energy: every action count of every layer is recomputed from the layer
  traces by an independent counter written from the equations of docs/models.md
  (DRAM bits; global-buffer reads/writes of each transfer; link loads and router
  traversals of XY routes; PE buffer and MAC counts of compute steps, from
  each PE's work slice), priced
  with the technology table, plus leakage x latency. The golden energy must
  equal that sum for the golden latency.
- Latency cannot be derived by hand for a six-layer run: it is the outcome of
  thousands of first-come-first-served reservations overlapping under the
  dependency graph. It stays a recorded regression value; what localizes a
  change are the exact per-transaction tests (test_package_exact.py,
  test_mesh_queueing.py, test_engine_exact.py, test_mapping_exact.py).
"""
from __future__ import annotations

from collections import defaultdict
from math import ceil

import pytest

from conftest import ARCH_DIR
from oracles import xy_links as xy
from simulator import api
from simulator.config import load_arch
from test_cli import GOLDEN_ENERGY_PJ, GOLDEN_LATENCY_CYCLES, WORKLOAD

PE_BUF = {"weights": "weight_buffer", "inputs": "input_buffer", "outputs": "accumulation_buffer",
          "psums": "accumulation_buffer"}


def count_trace(trace, arch) -> dict[str, float]:
    pe = arch.chiplet.pe
    out: dict[str, float] = defaultdict(float)
    for t in trace.txns:
        bits = t.bytes * 8
        if t.op in ("dram_read", "dram_write"):
            out[f"dram.{t.op[5:]}_bit"] += bits
        elif t.op == "sram":
            out["global_buffer.read_bit"] += t.read_bytes * 8
            out["global_buffer.write_bit"] += t.write_bytes * 8
            out["vector.op"] += t.vector_ops
        elif t.op in ("nop", "noc"):
            net = t.op
            n = len(t.dsts)
            gather = t.mode == "gather"
            routes = [xy(d, t.src) if gather else xy(t.src, d) for d in t.dsts]
            if t.mode == "multicast":
                links = {link for r in routes for link in r}
                out[f"{net}_link.bit"] += bits * len(links)
                out[f"{net}_router.bit"] += bits * (len(links) + 1)
            else:
                hops = sum(len(r) for r in routes)
                out[f"{net}_link.bit"] += bits * hops
                out[f"{net}_router.bit"] += bits * (hops + n)
            rw = "write" if gather else "read"
            if t.src_buf == "gb":
                total = bits if t.mode == "multicast" else bits * n    # scatter/gather: one tile each
                out[f"global_buffer.{rw}_bit"] += total
            if net == "nop" and t.dst_buf == "gb":
                out[f"global_buffer.{'read' if gather else 'write'}_bit"] += bits * n
            if net == "noc" and t.dst_buf == "pe":
                out[f"{PE_BUF.get(t.ds, 'input_buffer')}.{'read' if gather else 'write'}_bit"] += bits * n
        elif t.op == "compute":
            # each PE's own work (k, c, pixels of its slice), not the lock-step size of the step
            assert len(t.data) == t.pes
            for w in t.data:
                k, c, pixels = w[1] - w[0], w[3] - w[2], (w[5] - w[4]) * (w[7] - w[6])
                if t.vector_ops:   # vector_ops per PE of a full k x pixels slice
                    ops = t.vector_ops * k * pixels / (t.k * t.pixels)
                    out["vector.op"] += ops
                    out["input_buffer.read_bit"] += ops * 8
                    continue
                out["mac.op"] += k * c * t.rs * pixels
                out["weight_buffer.read_bit"] += k * c * t.rs * 8 if pixels else 0   # idle: no outputs
                out["input_buffer.read_bit"] += ceil(k / pe.vector_macs) * c * t.rs * pixels * 8
                acc = k * pixels * ceil(c / pe.lanes) * t.rs * pe.accumulation_buffer.entry_bits
                out["accumulation_buffer.read_bit"] += acc
                out["accumulation_buffer.write_bit"] += acc
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from simulator.workload import load_workload

    path = tmp_path_factory.mktemp("wl") / "cli_small.yaml"
    path.write_text(WORKLOAD)
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    wl = load_workload(path)
    return arch, wl, api.simulate(arch, wl, dataflow="dram", mapping="fixed")  # the goldens' dataflow


def test_counts_of_every_layer_follow_from_its_trace(run):
    arch, wl, result = run
    for trace, layer in zip(api.generate_traces(arch, wl, dataflow="dram", mapping="fixed"), result.layers):
        want = {k: v for k, v in count_trace(trace, arch).items() if v}
        got: dict[str, float] = defaultdict(float)
        for e in layer.energy:
            if e.component != "leakage":
                got[f"{e.component_class}.{e.action}"] += e.count
        assert {k: v for k, v in got.items() if v} == pytest.approx(want), layer.name


def test_golden_energy_is_counts_times_table_plus_leakage(run):
    arch, wl, result = run
    tech = arch.tech_table
    assert result.latency_cycles == GOLDEN_LATENCY_CYCLES
    dynamic = sum(n * tech.energy_pj(k) for trace in api.generate_traces(arch, wl, dataflow="dram", mapping="fixed")
                  for k, n in count_trace(trace, arch).items())
    instances = {"pe": 4, "global_buffer": 1, "nop_router": 1, "dram": 1}
    leakage_mw = sum(n * tech.leakage_mw(cls) for cls, n in instances.items())
    leakage = leakage_mw * GOLDEN_LATENCY_CYCLES / arch.clock_ghz       # mW x ns = pJ
    assert GOLDEN_ENERGY_PJ == pytest.approx(dynamic + leakage, rel=1e-9)
