"""Event traces in the Chrome trace-event format (open in Perfetto or chrome://tracing).

One complete event ("ph": "X") per transaction, from the cycle it became ready
(all its dependencies finished) to the cycle it finished, so queueing for busy
resources is part of its duration. Processes are the units (``dram``,
``nop``, ``chiplet[r,c]``), threads the kind of work (``noc``, ``compute``,
...). Timestamps are microseconds at the architecture's clock.
"""
from __future__ import annotations

import json
from pathlib import Path

from simulator.mapping.trace import LayerTrace, Txn


class EventRecorder:
    def __init__(self, clock_ghz: float, limit: int = 2_000_000):
        self.us_per_cycle = 1e-3 / clock_ghz
        self.limit = limit
        self.events: list[tuple] = []
        self.dropped = 0

    def __call__(self, trace: LayerTrace, txn: Txn, ready: int, finish: int) -> None:
        if len(self.events) >= self.limit:
            self.dropped += 1
            return
        self.events.append((trace.layer, txn.op, txn.ds, txn.id, txn.channel, txn.chiplet, ready, finish))

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        us = self.us_per_cycle
        out = []
        for layer, op, ds, tid, channel, chiplet, ready, finish in self.events:
            if op.startswith("dram"):
                pid, thread = "dram", f"ch{channel}"
            elif op == "nop":
                pid, thread = "nop", ds or "nop"
            else:
                pid, thread = f"chiplet[{chiplet[0]},{chiplet[1]}]", op
            out.append({"name": f"{op} {ds}".strip(), "cat": layer, "ph": "X", "ts": ready * us,
                        "dur": max(finish - ready, 0) * us, "pid": pid, "tid": thread,
                        "args": {"layer": layer, "txn": tid}})
        meta = {"dropped_events": self.dropped} if self.dropped else {}
        path.write_text(json.dumps({"traceEvents": out, "displayTimeUnit": "ns", "otherData": meta}))
        return path
