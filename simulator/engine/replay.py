"""Replay layer traces on a :class:`~simulator.hw.package.Package` with simpy.

Time is integer cycles of the architecture's clock. A transaction starts as
soon as every transaction in its ``after`` list has finished; the hardware
reserves the units it needs (first come, first served) and tells when it
finishes; the engine schedules its completion as one simpy timeout event,
whose callback releases the transactions waiting for it. Layers run one after
another (a layer starts when the previous one has finished).

With flit-level networks (:meth:`Package.flit_networks`), a transfer's finish is
not known at issue time: :func:`_pump` advances those networks up to the next
simpy event and turns the finishes they report into simpy events (see
docs/design.md, "Network models").

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

        issued_at = [0] * n

        def issue(i: int) -> None:
            now = env.now
            finish = hw.execute(txns[i], now, i)
            if finish is None:  # on a flit-level network: reported later by deliver()
                issued_at[i] = now
                return
            schedule(i, now, finish)

        def deliver(i: int, finish: int) -> None:
            schedule(i, issued_at[i], finish)

        def schedule(i: int, now: int, finish: int) -> None:
            nonlocal last
            txn = txns[i]
            if finish > max_cycles:
                raise SimulationError(
                    f"layer {trace.layer!r}: simulated time passed max_cycles = {max_cycles} "
                    f"(transaction {i}, {txn.op}, would finish at cycle {finish}); raise max_cycles in "
                    "the architecture file if the run is really that long")
            if finish > last:
                last = finish
            if on_txn is not None:
                on_txn(trace, txn, now, finish)
            event = env.timeout(finish - env.now, value=i)
            event.callbacks.append(complete)

        for i in range(n):
            if remaining[i] == 0:
                issue(i)
        nets = hw.flit_networks()
        if nets:
            _pump(env, nets, deliver)
            for net in nets:
                net.flush()
        else:
            env.run()
        if finished != n:
            stuck = [t.id for t in txns if remaining[t.id] > 0][:5]
            raise SimulationError(f"layer {trace.layer!r}: {n - finished} of {n} transactions never started "
                                  f"(dependency cycle?); first waiting: {stuck}")
        self.events += n
        return LayerTiming(start_cycle, env.now, n)


def _pump(env: simpy.Environment, nets: list, deliver) -> None:
    """Run simpy and the flit-level networks together until both are idle (conservative
    synchronisation, in the manner of null-message parallel simulation).

    A network that has transfers in flight learns a finish at the earliest ``lookahead`` cycles
    before it happens, so it cannot cause a simpy event before ``now + lookahead``. Each busy
    network advances, stopping at the first finish it learns, up to the earliest of simpy's next
    event and every *other* busy network's ``now + lookahead``; the finishes it reports become
    simpy events at once (so they bound the next advances). Only networks are ever ahead of simpy
    by less than that bound, so when no network can move, simpy's next event is at or before
    every network's present cycle and runs (its callbacks may submit transfers at that cycle).
    """
    inf = simpy.core.Infinity
    while True:
        busy = [net for net in nets if net.busy]
        if not busy:
            if env.peek() == inf:
                return
            env.step()
            continue
        moved = False
        for net in busy:
            peek = env.peek()
            bound = (1 << 62) if peek == inf else int(peek)
            for other in busy:
                if other is not net and other.busy:
                    bound = min(bound, other.now + other.lookahead)
            if bound > net.now:
                for tag, finish in net.advance(bound, True):
                    deliver(tag, finish)
                moved = True
        if not moved:
            env.step()
