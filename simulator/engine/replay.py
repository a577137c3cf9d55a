"""Replay layer traces on a :class:`~simulator.hw.package.Package` with simpy.

Time is integer cycles of the architecture's clock. A transaction starts as
soon as every transaction in its ``after`` list has finished; the hardware
reserves the units it needs (first come, first served) and tells when it
finishes; the engine schedules its completion as one simpy timeout event,
whose callback releases the transactions waiting for it. Layers run one after
another (a layer starts when the previous one has finished).

A run that passes ``max_cycles`` or a trace whose transactions can never all
start (a dependency cycle or a missing id) is a :class:`SimulationError`.
"""
from __future__ import annotations

from dataclasses import dataclass

import simpy

from simulator.errors import AxsimError
from simulator.hw.package import Package
from simulator.mapping.trace import LayerTrace


class SimulationError(AxsimError):
    """The simulation cannot finish: watchdog, dependency cycle, bad reference."""


@dataclass(frozen=True, slots=True)
class LayerTiming:
    start_cycle: int
    end_cycle: int
    events: int

    @property
    def latency_cycles(self) -> int:
        return self.end_cycle - self.start_cycle


class Replayer:
    def __init__(self, package: Package, max_cycles: int):
        self.package = package
        self.max_cycles = max_cycles
        self.env = simpy.Environment()
        self.events = 0
        self.on_txn = None  # optional callback(layer, txn, start_ready, finish) for event traces

    def run_layer(self, trace: LayerTrace) -> LayerTiming:
        env, hw, txns = self.env, self.package, trace.txns
        n = len(txns)
        start_cycle = env.now
        remaining = [0] * n
        dependents: list[list[int]] = [[] for _ in range(n)]
        for t in txns:
            for d in t.after:
                if not 0 <= d < n or d == t.id:
                    raise SimulationError(f"layer {trace.layer!r}: transaction {t.id} waits for {d}, "
                                          f"which is not an earlier transaction of the layer (0..{n - 1})")
                dependents[d].append(t.id)
            remaining[t.id] = len(t.after)
        finished = 0
        last = start_cycle
        on_txn = self.on_txn
        max_cycles = self.max_cycles

        def complete(event: simpy.Event) -> None:
            nonlocal finished
            finished += 1
            for j in dependents[event.value]:
                remaining[j] -= 1
                if remaining[j] == 0:
                    issue(j)

        def issue(i: int) -> None:
            nonlocal last
            now = env.now
            txn = txns[i]
            finish = hw.execute(txn, now)
            if finish > max_cycles:
                raise SimulationError(
                    f"layer {trace.layer!r}: simulated time passed max_cycles = {max_cycles} "
                    f"(transaction {i}, {txn.op}, would finish at cycle {finish}); raise max_cycles in "
                    "the architecture file if the run is really that long")
            if finish > last:
                last = finish
            if on_txn is not None:
                on_txn(trace, txn, now, finish)
            event = env.timeout(finish - now, value=i)
            event.callbacks.append(complete)

        for i in range(n):
            if remaining[i] == 0:
                issue(i)
        env.run()
        if finished != n:
            stuck = [t.id for t in txns if remaining[t.id] > 0][:5]
            raise SimulationError(f"layer {trace.layer!r}: {n - finished} of {n} transactions never started "
                                  f"(dependency cycle?); first waiting: {stuck}")
        self.events += n
        return LayerTiming(start_cycle, env.now, n)
