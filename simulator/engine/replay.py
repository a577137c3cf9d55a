"""Replay layer traces on a :class:`~simulator.hw.package.Package` with simpy.

Time is integer cycles of the architecture's clock. A transaction starts as
soon as every transaction in its ``after`` list (same layer) and in its ``prev``
list (the previous layer) has finished; the hardware reserves the units it
needs (first come, first served) and tells when it finishes; the engine
schedules its completion as one simpy timeout event, whose callback releases
the transactions waiting for it.

Layers overlap by at most one: layer ``L`` *opens* when the previous layer has
finished (its ``start_cycle``); its transactions without dependencies start
then, except those marked ``early`` (weight prefetches), which start when the
previous layer opened, i.e. while it computes. "Previous layer" means the
previous layer with transactions (an empty trace, a fused add, takes no time
and changes nothing). The actions of a transaction are counted under its own
layer (:meth:`Package.account`), whenever it runs (docs/models.md, "Weight
prefetch across layers").

With flit-level networks (:meth:`Package.flit_networks`), a transfer's finish is
not known at issue time: :func:`_pump` advances those networks up to the next
simpy event and turns the finishes they report into simpy events (see
docs/design.md, "Network models").

A run that passes ``max_cycles`` or a trace whose transactions can never all
start (a dependency cycle or a missing id) is a :class:`SimulationError`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import simpy

from simulator.errors import AxsimError
from simulator.hw.package import Package
from simulator.mapping.trace import LayerTrace


class SimulationError(AxsimError):
    """The simulation cannot finish: watchdog, dependency cycle, bad reference."""


@dataclass(frozen=True, slots=True)
class LayerTiming:
    """``start_cycle``: the layer opened (the previous layer finished); ``end_cycle``: its last
    transaction finished (at least ``start_cycle``); ``first_cycle``: its first transaction started
    (before ``start_cycle`` when its weights were prefetched)."""

    start_cycle: int
    end_cycle: int
    events: int
    first_cycle: int | None = None
    scope: int = 0  # the key its actions were counted under (Package.account)

    @property
    def latency_cycles(self) -> int:
        """Cycles the layer adds to the run (``end - start``); they add up to the last finish."""
        return self.end_cycle - self.start_cycle

    @property
    def overlap_cycles(self) -> int:
        """Cycles the layer ran before it opened (prefetch while the previous layer computed)."""
        first = self.start_cycle if self.first_cycle is None else self.first_cycle
        return self.start_cycle - first


class _Layer:
    """One layer in flight: its dependency counts and progress."""

    __slots__ = ("trace", "txns", "scope", "n", "remaining", "dependents", "waiters", "done", "started",
                 "finished", "last", "first", "opened", "opened_at", "issued_at", "next")

    def __init__(self, trace: LayerTrace, scope: int, prev: "_Layer | None", now: int):
        txns = trace.txns
        n = len(txns)
        self.trace, self.txns, self.scope, self.n = trace, txns, scope, n
        self.remaining = [0] * n
        self.dependents: list[list[int]] = [[] for _ in range(n)]
        self.waiters: list[list[int]] | None = None  # per transaction: the next layer's, waiting via prev
        self.done = [False] * n
        self.started = [False] * n
        self.issued_at = [0] * n
        self.finished = 0
        self.last = now
        self.first: int | None = None
        self.opened = False
        self.opened_at = now
        self.next: _Layer | None = None
        for t in txns:
            for d in t.after:
                if not 0 <= d < n or d == t.id:
                    raise SimulationError(f"layer {trace.layer!r}: transaction {t.id} waits for {d}, "
                                          f"which is not an earlier transaction of the layer (0..{n - 1})")
                self.dependents[d].append(t.id)
            self.remaining[t.id] = len(t.after)
        if prev is None:
            return  # the previous layers have finished: prev edges are met
        prev.next = self
        for t in txns:
            for d in t.prev:
                if not 0 <= d < prev.n:
                    raise SimulationError(
                        f"layer {trace.layer!r}: transaction {t.id} waits for {d} of the previous layer "
                        f"{prev.trace.layer!r}, which has transactions 0..{prev.n - 1}")
                if not prev.done[d]:
                    if prev.waiters is None:
                        prev.waiters = [[] for _ in range(prev.n)]
                    prev.waiters[d].append(t.id)
                    self.remaining[t.id] += 1

    def ready_roots(self, early: bool):
        """Transactions that wait for nothing but the layer's opening (``early``: the prefetches)."""
        for t in self.txns:
            if not t.after and not self.started[t.id] and self.remaining[t.id] == 0 and (t.early or not early):
                yield t.id


class Replayer:
    def __init__(self, package: Package, max_cycles: int):
        self.package = package
        self.max_cycles = max_cycles
        self.env = simpy.Environment()
        self.events = 0
        self.on_txn = None  # optional callback(layer, txn, start_ready, finish) for event traces
        self._scope = 0

    def run_layer(self, trace: LayerTrace) -> LayerTiming:
        """Replay one layer after everything replayed before it (no overlap)."""
        for _, timing in self.replay([trace]):
            return timing
        raise AssertionError("unreachable")

    def replay(self, traces: Iterable[LayerTrace]) -> Iterator[tuple[LayerTrace, LayerTiming]]:
        """Replay ``traces`` in order, yielding ``(trace, timing)`` for each layer as it finishes.

        The next layer with transactions is read before the current one runs, so that its ``early``
        transactions can start while the current one computes. The actions of each layer's
        transactions are counted under its own key, ``timing.scope`` (:meth:`Package.account`)."""
        env = self.env
        source = iter(traces)
        pending: list[LayerTrace] = []  # read ahead, not yet opened (empty ones included)
        ahead: _Layer | None = None     # the next layer, whose early transactions have started
        exhausted = False

        def read_ahead() -> None:  # up to the next layer with transactions
            nonlocal exhausted
            while not exhausted and not any(tr.txns for tr in pending):
                tr = next(source, None)
                if tr is None:
                    exhausted = True
                else:
                    pending.append(tr)

        while True:
            if not pending:
                read_ahead()
            if not pending:
                return
            trace = pending.pop(0)
            if not trace.txns:
                now = env.now
                self._scope += 1
                yield trace, LayerTiming(now, now, 0, now, self._scope)
                continue
            read_ahead()
            if ahead is not None and ahead.trace is trace:
                layer, ahead = ahead, None
            else:
                layer = self._new(trace, None)
            layer.opened, layer.opened_at = True, env.now
            for i in list(layer.ready_roots(early=False)):
                self._issue(layer, i)
            nxt = next((tr for tr in pending if tr.txns), None)
            if nxt is not None and any(t.early for t in nxt.txns):
                ahead = self._new(nxt, layer)
                for i in list(ahead.ready_roots(early=True)):
                    self._issue(ahead, i)
            self._run_until(layer)
            self.events += layer.n
            yield trace, LayerTiming(layer.opened_at, max(layer.last, layer.opened_at), layer.n, layer.first,
                                     layer.scope)

    # -- internals ------------------------------------------------------------------------------
    def _new(self, trace: LayerTrace, prev: _Layer | None) -> _Layer:
        self._scope += 1
        return _Layer(trace, self._scope, prev, self.env.now)

    def _issue(self, layer: _Layer, i: int) -> None:
        env, hw = self.env, self.package
        now = env.now
        layer.started[i] = True
        if layer.first is None:
            layer.first = now
        hw.account(layer.scope)
        finish = hw.execute(layer.txns[i], now, (layer, i))
        if finish is None:  # on a flit-level network: reported later by _deliver()
            layer.issued_at[i] = now
            return
        self._schedule(layer, i, now, finish)

    def _deliver(self, tag: tuple, finish: int) -> None:
        layer, i = tag
        self._schedule(layer, i, layer.issued_at[i], finish)

    def _schedule(self, layer: _Layer, i: int, now: int, finish: int) -> None:
        txn = layer.txns[i]
        if finish > self.max_cycles:
            raise SimulationError(
                f"layer {layer.trace.layer!r}: simulated time passed max_cycles = {self.max_cycles} "
                f"(transaction {i}, {txn.op}, would finish at cycle {finish}); raise max_cycles in "
                "the architecture file if the run is really that long")
        if finish > layer.last:
            layer.last = finish
        if self.on_txn is not None:
            self.on_txn(layer.trace, txn, now, finish)
        event = self.env.timeout(finish - self.env.now, value=(layer, i))
        event.callbacks.append(self._complete)

    def _complete(self, event: simpy.Event) -> None:
        layer, i = event.value
        layer.done[i] = True
        layer.finished += 1
        remaining = layer.remaining
        for j in layer.dependents[i]:
            remaining[j] -= 1
            if remaining[j] == 0 and (layer.opened or layer.txns[j].early or layer.txns[j].after):
                self._issue(layer, j)
        if layer.waiters is not None and layer.next is not None:
            nxt = layer.next
            for j in layer.waiters[i]:
                nxt.remaining[j] -= 1
                if nxt.remaining[j] == 0 and (nxt.opened or nxt.txns[j].early or nxt.txns[j].after):
                    self._issue(nxt, j)

    def _run_until(self, layer: _Layer) -> None:
        env = self.env
        nets = self.package.flit_networks()
        if nets:
            _pump(env, nets, self._deliver, lambda: layer.finished == layer.n)
            self.package.account(layer.scope)  # flits that moved so far count under this layer
            for net in nets:
                net.flush()
        else:
            inf = simpy.core.Infinity
            while layer.finished != layer.n and env.peek() != inf:
                env.step()
        if layer.finished != layer.n:
            stuck = [t.id for t in layer.txns if not layer.done[t.id]][:5]
            raise SimulationError(f"layer {layer.trace.layer!r}: {layer.n - layer.finished} of {layer.n} "
                                  f"transactions never started (dependency cycle?); first waiting: {stuck}")


def _pump(env: simpy.Environment, nets: list, deliver, stop) -> None:
    """Run simpy and the flit-level networks together until ``stop()`` or both are idle
    (conservative synchronisation, in the manner of null-message parallel simulation).

    A network that has transfers in flight learns a finish at the earliest ``lookahead`` cycles
    before it happens, so it cannot cause a simpy event before ``now + lookahead``. Each busy
    network advances, stopping at the first finish it learns, up to the earliest of simpy's next
    event and every *other* busy network's ``now + lookahead``; the finishes it reports become
    simpy events at once (so they bound the next advances). Only networks are ever ahead of simpy
    by less than that bound, so when no network can move, simpy's next event is at or before
    every network's present cycle and runs (its callbacks may submit transfers at that cycle).
    """
    inf = simpy.core.Infinity
    while not stop():
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
