"""The discrete-event engine: replays layer traces on the hardware model (simpy, integer cycles)."""
from simulator.engine.replay import Replayer, SimulationError

__all__ = ["Replayer", "SimulationError"]
