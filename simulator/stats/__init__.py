"""Action counters: what the hardware components did, priced later by simulator.energy."""
from simulator.stats.counters import Counters

__all__ = ["Counters"]
