"""Energy: action counts x technology table + leakage x time, priced after the run."""
from simulator.energy.price import ComponentEnergy, price_layer

__all__ = ["ComponentEnergy", "price_layer"]
