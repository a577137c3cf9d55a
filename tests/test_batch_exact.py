"""Batches with exact expectations: an fc layer of 512 -> 64 on arch/tiny.yaml.

Hand derivation (rules of simulator/mapping/tiling.py; tiny: 4 PEs of 4 vector
MACs x 4 lanes, 4 KiB weight / 2 KiB input buffers, 256 accumulation entries,
all halved by double buffering):

- K = 64 -> k_parts = min(64 / 4, 4 PEs) = 4, k_pe = 16; P = batch (samples
  stack along the rows), p_parts = 1; c_parts = min(4 / 4, 512 / 4) = 1.
- Tiles: c_tile = 512 (512 B of weights per output channel <= 2048);
  k_tile halves 16 -> 8 -> 4 (4·512 = 2048 B fits); rows: batch 1 -> 1,
  batch 8 -> 8, 7, ..., 2 (2 rows x 512 channels = 1024 B fits the input share).
- Steps per PE: 4 k tiles x ceil(batch / rows) row tiles (batch 1: 4, batch 8: 16).
- Per step one shared input read of rows·512 B: inputs are read once per k tile,
  4 x 512 B x batch in total; weights once: 4 PEs x 4 tiles x 2048 B = 32 KiB.
- PE array busy cycles: steps x ceil(4/4) x ceil(512/4) x rows
  (batch 1: 4 x 128 = 512; batch 8: 16 x 128 x 2 = 4096).
"""
from __future__ import annotations

import pytest

from simulator.engine.replay import Replayer
from simulator.hw.package import Package
from simulator.mapping.weight_stationary import map_layer
from simulator.stats.counters import Counters
from simulator.workload import Layer

FC = Layer.fc("fc", 512, 64)


def dram_bytes(trace, op, ds):
    return sum(t.bytes for t in trace.txns if t.op == op and t.ds == ds)


@pytest.mark.parametrize("batch, rows, steps, busy", [(1, 1, 4, 512), (8, 2, 16, 4096)])
def test_fc_batch_exact(tiny_arch, batch, rows, steps, busy):
    tr = map_layer(FC, tiny_arch, batch=batch)
    assert tr.meta["partition"] == {"k_parts": 4, "p_parts": 1, "c_parts": 1,
                                    "k_pe": 16, "p_pe": batch, "c_pe": 512}
    t = tr.meta["tiling"]
    assert (t["k_tile"], t["c_tile"], t["rows"], t["cols"]) == (4, 512, rows, 1)
    assert t["k_tiles"] * t["row_tiles"] * t["c_tiles"] * t["col_tiles"] == steps
    assert dram_bytes(tr, "dram_read", "weights") == 512 * 64
    assert dram_bytes(tr, "dram_read", "inputs") == 4 * 512 * batch
    assert dram_bytes(tr, "dram_write", "outputs") == 64 * batch
    computes = [x for x in tr.txns if x.op == "compute"]
    assert len(computes) == steps
    assert sum(x.pes * x.k * x.c * x.rs * x.pixels for x in computes) == 512 * 64 * batch == tr.macs
    pkg = Package(tiny_arch, Counters())
    timing = Replayer(pkg, tiny_arch.max_cycles).run_layer(tr)
    assert pkg.chiplets[(0, 0)].pe.port.busy_cycles == busy
    assert timing.latency_cycles >= busy
