"""Bandwidth resources reserved first come, first served.

A :class:`Port` is a unit that serves one transfer at a time (a DRAM channel,
an SRAM port, a PE array). A transaction that needs it for ``d`` cycles at
time ``now`` starts at ``max(now, free_at)`` and holds it until ``start + d``;
later requests queue behind it. This is the behaviour of a FIFO
``simpy.Resource`` whose holding time is known when the request is made, at
the cost of one arithmetic update instead of three simpy events.
"""
from __future__ import annotations


class Port:
    __slots__ = ("name", "free_at", "busy_cycles")

    def __init__(self, name: str):
        self.name = name
        self.free_at = 0
        self.busy_cycles = 0

    def reserve(self, ready: int, duration: int) -> int:
        """Reserve ``duration`` cycles from ``ready`` on; return the start cycle."""
        start = ready if ready > self.free_at else self.free_at
        self.free_at = start + duration
        self.busy_cycles += duration
        return start


def ceil_div(a: float, b: float) -> int:
    q = int(a // b)
    return q + 1 if q * b < a else q
