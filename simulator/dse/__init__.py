"""Design-space exploration: sweep files, point evaluation with reuse, execution, Pareto fronts.

``spec`` (the sweep file) -> ``search`` (which points) -> ``runner`` (pool or Dask) ->
``evaluate`` (one point: architecture, plan, simulation, reuse) -> ``store`` (the sweep
folder) -> ``pareto`` (non-dominated points, family fronts). ``keys`` classifies knobs.
"""
