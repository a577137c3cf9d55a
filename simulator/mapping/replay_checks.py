"""Checks before replaying a trace file: the architecture it was made for, the MAC configurations it needs.

A trace's header (written by ``axsim trace``) names the architecture
(``arch``, ``arch_hash`` = the content hash of the resolved architecture) and
the approximation file it was generated with (``approx``). Replaying it on
another architecture gives numbers for a mapping that was never made for
that hardware, so it is an error unless the user forces it; replaying an
approximate trace needs the same approximation file, which defines the MAC
configurations its compute transactions name.
"""
from __future__ import annotations

from pathlib import Path

from simulator.config import config_hash
from simulator.config.arch import Arch
from simulator.errors import AxsimError
from simulator.mapping.trace import LayerTrace


def check_trace_arch(header: dict, arch: Arch, path: str | Path, force: bool = False) -> list[str]:
    """Raise if the header names another architecture; return warnings (forced or unverifiable)."""
    want_name, want_hash = header.get("arch"), header.get("arch_hash")
    have_hash = config_hash(arch)
    if want_hash is None and want_name is None:
        return [f"{path}: the trace header names no architecture (keys 'arch', 'arch_hash'); "
                f"replaying it on {arch.name!r} unchecked"]
    mismatch = (want_hash is not None and want_hash != have_hash) or (
        want_hash is None and want_name != arch.name)
    if not mismatch:
        return []
    message = (f"{path}: the trace was generated for architecture {want_name!r} (arch_hash {want_hash}); "
               f"--arch {arch.source or arch.name} is {arch.name!r} (arch_hash {have_hash})")
    if not force:
        raise AxsimError(message + "; replay it on the architecture it was made for, regenerate it with "
                                   "'axsim trace --arch ...', or pass --force to replay it anyway")
    return [message + "; replayed anyway (--force)"]


def trace_mac_names(traces: list[LayerTrace]) -> dict[str, list[str]]:
    """MAC configuration name -> the layers whose compute transactions use it."""
    used: dict[str, list[str]] = {}
    for tr in traces:
        for name in {t.mac for t in tr.txns if t.op == "compute"}:
            used.setdefault(name, []).append(tr.layer)
    return used


def check_trace_macs(traces: list[LayerTrace], known: set[str], header: dict, path: str | Path,
                     approx_given: bool) -> None:
    """Every MAC configuration named by the trace must be defined (by the approximation file)."""
    missing = {name: layers for name, layers in trace_mac_names(traces).items() if name not in known}
    if not missing:
        return
    listed = "; ".join(f"{name!r} (layers {', '.join(layers[:3])}{', ...' if len(layers) > 3 else ''})"
                       for name, layers in sorted(missing.items()))
    origin = header.get("approx")
    hint = f" (the trace header says it was generated with {origin})" if origin else ""
    if approx_given:
        raise AxsimError(f"{path}: the trace uses MAC configurations that the approximation file does not "
                         f"define: {listed}; pass the approximation file the trace was generated with{hint}")
    raise AxsimError(f"{path}: the trace uses approximate MAC configurations {listed}; pass --approx FILE "
                     f"with the approximation file that defines them{hint}")


def lock_step_warnings(traces: list[LayerTrace], path: str | Path) -> list[str]:
    """A warning when compute transactions give no per-PE work to count actions from: steps without
    ``data``, and vector steps without ``k`` or ``pixels`` (docs/trace-format.md, "Actions of a
    compute step"); their actions are counted as if every PE did the whole step."""
    total = lock = 0
    layers: list[str] = []
    for tr in traces:
        n = sum(1 for t in tr.txns if t.op == "compute" and (not t.data or (t.vector_ops and not (t.k and t.pixels))))
        total += sum(1 for t in tr.txns if t.op == "compute")
        if n:
            lock += n
            layers.append(tr.layer)
    if not lock:
        return []
    shown = ", ".join(layers[:3]) + (", ..." if len(layers) > 3 else "")
    return [f"{path}: {lock} of {total} compute transactions (layers {shown}) give no per-PE work slices "
            "('data'; vector steps also need 'k' and 'pixels'): their MAC, PE-buffer and vector actions are "
            "counted as if every PE did the whole step, which over-counts uneven splits "
            "(docs/trace-format.md, 'Actions of a compute step'); regenerate the trace with 'axsim trace' "
            "for exact counts"]
