"""Plots of a finished run folder (``axsim plot RUN_DIR``)."""
from simulator.plots.run_plots import plot_run

__all__ = ["plot_run"]
