"""MAC configurations: one object per configuration, read from approximation files.

:class:`MacConfig` yields both the functional kernel (for inference) and the
timing/energy model of the PE array; :mod:`.approxfile` reads approximation
files. This package sits above ``approx`` (arithmetic) and ``hw`` (timing).
"""
from simulator.macs.config import EXACT, MacConfig

__all__ = ["EXACT", "MacConfig"]
