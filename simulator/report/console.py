"""Console output: a progress bar while simulating and a summary table at the end."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulator.results import RunResult


@contextmanager
def progress_bar(console: Console, enabled: bool = True) -> Iterator:
    """Yields a callback(done, total, layer_name) for :func:`simulator.api.simulate`."""
    if not enabled:
        yield None
        return
    with Progress(TextColumn("[bold]simulating[/]"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True) as bar:
        task = bar.add_task("", total=None)

        def update(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total or None, description=name)
        yield update


def _fmt_energy(pj: float) -> str:
    for unit, scale in (("mJ", 1e9), ("uJ", 1e6), ("nJ", 1e3)):
        if pj >= scale:
            return f"{pj / scale:,.2f} {unit}"
    return f"{pj:,.1f} pJ"


def print_summary(console: Console, result: RunResult, per_layer: bool = True) -> None:
    ns_per_cycle = 1 / result.clock_ghz
    if per_layer:
        table = Table(title=f"{result.workload} on {result.arch}: per layer", show_lines=False)
        for col in ("#", "layer", "kind", "MACs", "latency (cycles)", "latency (ms)", "energy", "util"):
            table.add_column(col, justify="left" if col in ("layer", "kind") else "right")
        for layer in result.layers:
            util = layer.macs / (layer.latency_cycles * result.peak_macs_per_cycle) if layer.latency_cycles else 0
            table.add_row(str(layer.index), layer.name, layer.kind, f"{layer.macs:,}",
                          f"{layer.latency_cycles:,}", f"{layer.latency_cycles * ns_per_cycle / 1e6:.4f}",
                          _fmt_energy(layer.energy_pj), f"{util:.1%}")
        console.print(table)
    totals = Table(title="total", show_header=False)
    totals.add_column("what")
    totals.add_column("value", justify="right")
    totals.add_row("latency", f"{result.latency_cycles:,} cycles = {result.latency_ms:.4f} ms")
    totals.add_row("energy", f"{_fmt_energy(result.energy_pj)} ({result.energy_pj:,.0f} pJ)")
    totals.add_row("MACs", f"{result.macs:,} (utilization {result.utilization:.2%})")
    for cls, pj in sorted(result.energy_by_class().items(), key=lambda kv: -kv[1]):
        totals.add_row(f"  energy: {cls}", f"{_fmt_energy(pj)} ({pj / result.energy_pj:.1%})")
    if result.exposure is not None:
        flips = result.expected_flips()
        totals.add_row("expected bit flips", ", ".join(f"{ds} {n:,.4g}" for ds, n in flips.items()))
        worst = max(((link.get("expected_flips", 0.0), net, link) for net, links in result.link_stats.items()
                     for link in links), key=lambda x: x[0], default=None)
        if worst and worst[0] > 0:
            totals.add_row("  most flips on a link", f"{worst[1]} {worst[2]['from']} -> {worst[2]['to']}: "
                                                     f"{worst[0]:,.4g} (BER {worst[2]['ber']:.3g})")
    totals.add_row("simulation", f"{result.events:,} events in {result.wall_seconds:.2f} s")
    console.print(totals)
