"""Error rates of an architecture's operating points (implements :class:`~simulator.faults.rates.ErrorRates`).

- Link bit at swing V_sw, per traversal: ``BER = Q(V_sw / (2 sigma_N)) =
  0.5 erfc(V_sw / (2 sqrt(2) sigma_N))`` (Hegde & Shanbhag, TVLSI 2000; Bertozzi
  et al., TCAD 2005), or the technology table's BER-vs-swing curve (log-linear).
- SRAM bit cell at supply V: failure probability from the table's
  ``sram.bit_failure_rate`` curve (log-linear). With ``fault_model: persistent``
  it is the probability that a cell is stuck (at 0 or 1, equally likely), with
  ``transient`` the probability that a bit flips on a read.

A technology table without a ``signalling`` (``sram``) section has error-free links (buffers).
"""
from __future__ import annotations

import math

import numpy as np

from simulator.config.operating import (BUFFER_DS, BYTE_BITS, buffer_vdd, link_class_of, link_swings, mesh_links,
                                        networks, sram_vdds)
from simulator.faults.rates import ErrorRates, Node

_erfc = np.frompyfunc(math.erfc, 1, 1)


def ber_gaussian(swing_v, sigma_n_v: float) -> np.ndarray:
    """Q(V_sw / 2 sigma_N) = 0.5 erfc(V_sw / (2 sqrt(2) sigma_N))."""
    x = np.asarray(swing_v, dtype=float) / (2.0 * math.sqrt(2.0) * sigma_n_v)
    return 0.5 * np.asarray(_erfc(x), dtype=float)


def link_ber(tech, link_class: str, swing_v) -> np.ndarray:
    """Bit-error rate per traversal of a link of ``link_class`` at ``swing_v`` (any shape)."""
    sig = tech.signalling.get(link_class)
    swing_v = np.asarray(swing_v, dtype=float)
    if sig is None:
        return np.zeros(swing_v.shape)
    if sig.ber.model == "gaussian":
        return ber_gaussian(swing_v, sig.ber.sigma_n_v)
    return sig.ber.curve()(swing_v)


def sram_failure_rate(tech, vdd_v) -> np.ndarray:
    vdd_v = np.asarray(vdd_v, dtype=float)
    if tech.sram is None:
        return np.zeros(vdd_v.shape)
    return tech.sram.bit_failure_rate(vdd_v)


class OperatingRates:
    """Per-bit-position error rates of every link and buffer of one architecture."""

    def __init__(self, arch):
        tech = arch.tech_table
        self._link: dict[str, np.ndarray] = {}
        for net, swings in link_swings(arch).items():
            self._link[net] = link_ber(tech, link_class_of(net), swings)
        self._index = {name: {lk: i for i, lk in enumerate(mesh_links(r, c))} for name, r, c in networks(arch)}
        persistent = tech.sram is None or tech.sram.fault_model == "persistent"
        zero = np.zeros(BYTE_BITS)
        self._read: dict[tuple[str, str], np.ndarray] = {}
        self._stuck: dict[tuple[str, str], np.ndarray] = {}
        vdds = dict(sram_vdds(arch))
        for kind in BUFFER_DS:
            vdds[(kind, "")] = buffer_vdd(arch, kind)  # accesses that name no data structure
        for key, v in vdds.items():
            p = np.full(BYTE_BITS, float(sram_failure_rate(tech, v)))
            self._stuck[key], self._read[key] = (p, zero) if persistent else (zero, p)
        for arr in [*self._read.values(), *self._stuck.values(), *self._link.values()]:
            arr.setflags(write=False)  # shared with callers: read-only

    def link(self, network: str, src: Node, dst: Node) -> np.ndarray:
        try:
            return self._link[network][self._index[network][(tuple(src), tuple(dst))]]
        except KeyError:
            raise ValueError(f"no link {src} -> {dst} in network {network!r}") from None

    def link_table(self, network: str) -> np.ndarray:
        """(links, BYTE_BITS) BER of every link of ``network`` in mesh_links order."""
        return self._link[network]

    def _buffer(self, table: dict, buffer: str, ds: str) -> np.ndarray:
        hit = table.get((buffer, ds))
        if hit is None:
            if buffer not in BUFFER_DS:
                raise ValueError(f"unknown buffer {buffer!r}; known: {', '.join(BUFFER_DS)}")
            hit = table[(buffer, "")]
        return hit

    def sram_read(self, buffer: str, ds: str) -> np.ndarray:
        return self._buffer(self._read, buffer, ds)

    def sram_stuck(self, buffer: str, ds: str) -> np.ndarray:
        return self._buffer(self._stuck, buffer, ds)


def error_rates(arch) -> ErrorRates:
    """The :class:`ErrorRates` of ``arch``'s operating points (zero at nominal for the shipped tables)."""
    return OperatingRates(arch)
