"""Flit-level network model: compiled cycle-stepped VC routers (see docs/models.md)."""
