"""Run outputs: summary.json, layers.csv, components.csv, links.csv and the console table."""
from simulator.report.files import write_run

__all__ = ["write_run"]
