"""Batches: samples stack along the output rows; weights are loaded once for the batch."""
from __future__ import annotations

import dataclasses

from simulator import api
from simulator.mapping.weight_stationary import map_layer
from simulator.workload import Layer, Workload


def _macs_in_trace(trace) -> int:
    return sum(t.pes * t.k * t.c * t.rs * t.pixels for t in trace.txns if t.op == "compute")


def test_trace_macs_scale_with_the_batch(simba_arch):
    layer = Layer("c", "conv", 64, 14, 14, 64, 3, 3, pad_h=1, pad_w=1)
    one, four = map_layer(layer, simba_arch), map_layer(layer, simba_arch, batch=4)
    assert four.macs == 4 * one.macs == 4 * layer.macs
    assert _macs_in_trace(four) >= four.macs
    assert four.meta["batch"] == 4


def test_batched_fc_reuses_weights(tiny_arch):
    wl = Workload("fc", (Layer.fc("fc", 512, 64),), "<test>")
    one = api.simulate(tiny_arch, wl)
    eight = api.simulate(tiny_arch, dataclasses.replace(wl, batch=8))
    assert eight.macs == 8 * one.macs
    # weights dominate an fc layer: eight samples cost far less than eight runs
    assert one.latency_cycles < eight.latency_cycles < 4 * one.latency_cycles
    w_one = sum(t.bytes for t in map_layer(wl.layers[0], tiny_arch).txns if t.op == "dram_read" and t.ds == "weights")
    w_eight = sum(t.bytes for t in map_layer(wl.layers[0], tiny_arch, batch=8).txns
                  if t.op == "dram_read" and t.ds == "weights")
    assert w_eight == w_one == 512 * 64
