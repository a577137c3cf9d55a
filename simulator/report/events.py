"""Event traces in the Chrome trace-event format (open in Perfetto or chrome://tracing).

One complete event (``"ph": "X"``) per transaction, from the cycle it became
ready (all its dependencies finished) to the cycle it finished, so queueing
for busy resources is part of its duration.

Tracks. The trace-event format requires the complete events of one thread to
nest (an event either ends before the next one on its thread starts, or
contains it); concurrent transactions of one unit would break that rule. So
each unit (process: ``dram``, ``nop``, ``chiplet[r,c]``, plus ``layers``) has
one group of tracks per kind of work (``ch0``, ``weights``, ``noc``,
``compute``, ...), and every transaction goes to the first track of its group
that is idle when it starts (interval partitioning, greedy by start time: the
fewest tracks for which no two events on a track overlap). Processes and
threads are integers named by metadata events (``process_name``,
``thread_name``, with sort indices); the ``layers`` process has one event
per layer, from its first transaction to its last; a layer whose weights were
prefetched while the previous one ran overlaps it and goes on a second track
(``layers #1``).

Time: ``ts`` and ``dur`` are microseconds, written with three decimals (whole
nanoseconds); cycle c maps to round(c / clock_ghz) ns. A track takes a new
event only if its last event ended at least 1 ns earlier, so the integer
nanosecond values never overlap, whatever rounding a viewer applies.

Size: about 120 bytes per transaction (a ResNet-50 run on ``arch/simba.yaml``
has ~105 k transactions; docs/performance.md gives the measured size). The
recorder can keep only some layers and units (``layers``/``units`` glob
patterns, ``axsim run --events-layers``/``--events-units``).
"""
from __future__ import annotations

import fnmatch
import heapq
import json
from pathlib import Path
from typing import Iterable

from simulator.mapping.trace import LayerTrace, Txn


def _matcher(patterns: Iterable[str] | None):
    pats = [p for p in (patterns or []) if p]
    if not pats:
        return None
    return lambda name: any(name == p or fnmatch.fnmatchcase(name, p) for p in pats)


def unit_and_group(op: str, ds: str, channel: int, chiplet: tuple[int, int]) -> tuple[str, str]:
    """The unit (process) and track group (thread name prefix) of a transaction."""
    if op.startswith("dram"):
        return "dram", f"ch{channel}"
    if op == "nop":
        return "nop", ds or "nop"
    return f"chiplet[{chiplet[0]},{chiplet[1]}]", op


class EventRecorder:
    """Collects transactions during a run (``on_txn`` callback of :func:`simulator.api.simulate`)."""

    def __init__(self, clock_ghz: float, limit: int = 2_000_000, layers: Iterable[str] | None = None,
                 units: Iterable[str] | None = None):
        self.ns_per_cycle = 1.0 / clock_ghz
        self.limit = limit
        self.events: list[tuple] = []
        self.layer_spans: dict[str, list[int]] = {}
        self.dropped = 0
        self.filtered = 0
        self._layer_ok = _matcher(layers)
        self._unit_ok = _matcher(units)

    def __call__(self, trace: LayerTrace, txn: Txn, ready: int, finish: int) -> None:
        layer = trace.layer
        if self._layer_ok is not None and not self._layer_ok(layer):
            self.filtered += 1
            return
        span = self.layer_spans.get(layer)
        if span is None:
            self.layer_spans[layer] = [ready, finish]
        else:
            span[0], span[1] = min(span[0], ready), max(span[1], finish)
        unit, group = unit_and_group(txn.op, txn.ds, txn.channel, txn.chiplet)
        if self._unit_ok is not None and not self._unit_ok(unit):
            self.filtered += 1
            return
        if len(self.events) >= self.limit:
            self.dropped += 1
            return
        self.events.append((ready, finish, unit, group, f"{txn.op} {txn.ds}".strip(), layer, txn.id))

    def _ns(self, cycle: int) -> int:
        return round(cycle * self.ns_per_cycle)

    def trace_events(self) -> list[dict]:
        """The events (metadata first) as dicts of the trace-event format."""
        pids: dict[str, int] = {"layers": 0}
        tids: dict[tuple[str, str, int], int] = {}
        free: dict[tuple[str, str], list[tuple[int, int]]] = {}   # heap of (last end ns, lane)
        lanes: dict[tuple[str, str], int] = {}
        out: list[dict] = []
        body: list[dict] = []
        layer_ends: list[int] = []  # per track of the layers process: its last end (ns)
        for layer, (start, end) in sorted(self.layer_spans.items(), key=lambda kv: kv[1][0]):
            s, e = self._ns(start), self._ns(end)
            # layers overlap when the next one's weights are prefetched: another track then
            lane = next((i for i, last in enumerate(layer_ends) if last <= s), len(layer_ends))
            if lane == len(layer_ends):
                layer_ends.append(e)
            layer_ends[lane] = e
            body.append({"name": layer, "cat": "layer", "ph": "X", "ts": s / 1000,
                         "dur": (e - s) / 1000, "pid": 0, "tid": lane})
        for ready, finish, unit, group, name, layer, txn_id in sorted(self.events, key=lambda e: e[0]):
            s, e = self._ns(ready), self._ns(finish)
            key = (unit, group)
            heap = free.setdefault(key, [])
            if heap and heap[0][0] < s:
                _, lane = heapq.heappop(heap)
            else:
                lane = lanes.get(key, 0)
                lanes[key] = lane + 1
            heapq.heappush(heap, (e, lane))
            pid = pids.setdefault(unit, len(pids))
            tid = tids.setdefault((unit, group, lane), len(tids) + 1)
            body.append({"name": name, "cat": layer, "ph": "X", "ts": s / 1000, "dur": (e - s) / 1000,
                         "pid": pid, "tid": tid, "args": {"txn": txn_id}})
        for unit, pid in pids.items():
            out.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": unit}})
            out.append({"name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0,
                        "args": {"sort_index": pid}})
        out.append({"name": "thread_name", "ph": "M", "pid": 0, "tid": 0, "args": {"name": "layers"}})
        for lane in range(1, len(layer_ends)):
            out.append({"name": "thread_name", "ph": "M", "pid": 0, "tid": lane,
                        "args": {"name": f"layers #{lane}"}})
        for (unit, group, lane), tid in tids.items():
            out.append({"name": "thread_name", "ph": "M", "pid": pids[unit], "tid": tid,
                        "args": {"name": f"{group} #{lane}"}})
            out.append({"name": "thread_sort_index", "ph": "M", "pid": pids[unit], "tid": tid,
                        "args": {"sort_index": tid}})
        return out + body

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        other = {"clock_ghz": 1.0 / self.ns_per_cycle, "transactions": len(self.events)}
        if self.dropped:
            other["dropped_events"] = self.dropped
        if self.filtered:
            other["filtered_out"] = self.filtered
        with path.open("w", encoding="utf-8") as fh:
            fh.write('{"displayTimeUnit": "ns", "otherData": ' + json.dumps(other) + ', "traceEvents": [\n')
            events = self.trace_events()
            fh.write(",\n".join(json.dumps(e, separators=(",", ":")) for e in events))
            fh.write("\n]}\n")
        return path
