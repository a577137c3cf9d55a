"""Energy of a finished run at other operating points, without re-simulating.

A run keeps its raw action counts per layer in ``counts.npz`` (format below):
counts per (component instance, action), bits per link of every network, SRAM
bits per (component, action, data structure), layer latencies and instance
counts. Link swings and SRAM supplies change only the energy per action, so the
energy at another operating point of the same hardware is

    E_layer(op) = sum_k count_k e_k  +  sum_l bits_l e_link s_l(op)
                  + sum_j bits_j e_j (V_j(op) / V_nom)^2  +  t_layer sum_c n_c P_c r_c(op)

(:mod:`simulator.energy.operating` for the scales). :meth:`RunCounts.price`
evaluates it for many operating points at once as matrix products.

``counts.npz`` (version 1; numpy ``savez_compressed``, no pickles):

| array | shape | meaning |
|---|---|---|
| ``format_version`` | () | 1 |
| ``layer_names`` | (L,) | layer names, in run order |
| ``latency_cycles`` | (L,) | latency of each layer |
| ``clock_ghz`` | () | clock (leakage time = cycles / clock) |
| ``key_component``, ``key_action`` | (K,) | every counted (component instance, ``class.action``) |
| ``counts`` | (L, K) | its count per layer |
| ``link_network``, ``link_from``, ``link_to`` | (N,), (N, 2), (N, 2) | every directed link of every network |
| ``link_bits`` | (L, N) | bits carried per link per layer |
| ``sram_component``, ``sram_action``, ``sram_ds`` | (S,) | SRAM accesses per data structure |
| ``sram_bits`` | (L, S) | their bits per layer |
| ``instance_class``, ``instance_count`` | (I,) | instances per leakage class |
| ``hardware_hash``, ``hardware_json`` | () | the hardware without operating points |
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from simulator.config.identity import differences, hardware_dict, hardware_hash
from simulator.config.operating import BUFFER_DS, link_class_of, mesh_links, networks
from simulator.energy.operating import OperatingScales
from simulator.errors import AxsimError

FORMAT_VERSION = 1
LINK_CLASSES = ("nop_link", "noc_link")


def _cls(key: str) -> str:
    return key.partition(".")[0]


def _scaled_key(key: str) -> bool:
    return _cls(key) in LINK_CLASSES or _cls(key) in BUFFER_DS


@dataclass
class Priced:
    """Energy of a run at P operating points."""

    energy_pj: np.ndarray                 # (P,)
    layer_energy_pj: np.ndarray           # (P, L)
    energy_pj_by_class: dict[str, np.ndarray]  # class -> (P,)
    layer_names: list[str]


@dataclass
class RunCounts:
    layer_names: np.ndarray
    latency_cycles: np.ndarray
    clock_ghz: float
    key_component: np.ndarray
    key_action: np.ndarray
    counts: np.ndarray
    link_network: np.ndarray
    link_from: np.ndarray
    link_to: np.ndarray
    link_bits: np.ndarray
    sram_component: np.ndarray
    sram_action: np.ndarray
    sram_ds: np.ndarray
    sram_bits: np.ndarray
    instance_class: np.ndarray
    instance_count: np.ndarray
    hardware_hash: str
    hardware_json: str

    # ------------------------------------------------------------------ building, files
    @classmethod
    def from_result(cls, result, arch) -> "RunCounts":
        layers = result.layers
        keys = sorted({(e.component, f"{e.component_class}.{e.action}")
                       for layer in layers for e in layer.energy if e.component != "leakage"})
        kidx = {k: i for i, k in enumerate(keys)}
        counts = np.zeros((len(layers), len(keys)))
        for i, layer in enumerate(layers):
            for e in layer.energy:
                if e.component != "leakage":
                    counts[i, kidx[(e.component, f"{e.component_class}.{e.action}")]] += e.count
        nets, frm, to = [], [], []
        for name, rows, cols in networks(arch):
            for a, b in mesh_links(rows, cols):
                nets.append(name)
                frm.append(a)
                to.append(b)
        link_bits = np.zeros((len(layers), len(nets)), dtype=np.int64)
        for i, layer in enumerate(layers):
            if layer.link_bits:
                link_bits[i] = np.concatenate([layer.link_bits[name] for name, _, _ in networks(arch)])
        # SRAM bits per data structure; accesses counted without one ("") are priced at the
        # buffer's own vdd_v, as in price_layer
        per_layer = []
        sram_rows = [(k, j) for k, j in kidx.items() if _cls(k[1]) in BUFFER_DS]
        for i, layer in enumerate(layers):
            parts = dict(layer.sram_bits)
            known: dict[tuple[str, str], float] = {}
            for (c, k, _), v in layer.sram_bits.items():
                known[(c, k)] = known.get((c, k), 0.0) + v
            for (comp, key), j in sram_rows:
                if counts[i, j]:
                    rest = counts[i, j] - known.get((comp, key), 0.0)
                    if abs(rest) > 1e-9 * max(abs(counts[i, j]), 1.0):
                        parts[(comp, key, "")] = parts.get((comp, key, ""), 0.0) + rest
            per_layer.append(parts)
        skeys = sorted({k for parts in per_layer for k in parts})
        sidx = {k: j for j, k in enumerate(skeys)}
        sram_bits = np.zeros((len(layers), len(skeys)))
        for i, parts in enumerate(per_layer):
            for k, v in parts.items():
                sram_bits[i, sidx[k]] = v
        inst = sorted(result.instances.items())
        s = lambda xs: np.array(xs, dtype=str)  # noqa: E731
        return cls(s([layer.name for layer in layers]), np.array([layer.latency_cycles for layer in layers],
                                                                 dtype=np.int64),
                   float(result.clock_ghz), s([k[0] for k in keys]), s([k[1] for k in keys]), counts,
                   s(nets), np.array(frm, dtype=np.int64).reshape(-1, 2), np.array(to, dtype=np.int64).reshape(-1, 2),
                   link_bits, s([k[0] for k in skeys]), s([k[1] for k in skeys]), s([k[2] for k in skeys]),
                   sram_bits, s([c for c, _ in inst]), np.array([n for _, n in inst], dtype=np.int64),
                   hardware_hash(arch), json.dumps(hardware_dict(arch), sort_keys=True))

    def save(self, path: str | Path) -> None:
        arrays = {k: getattr(self, k) for k in self.__dataclass_fields__}
        arrays["clock_ghz"] = np.array(self.clock_ghz)
        arrays["hardware_hash"] = np.array(self.hardware_hash)
        arrays["hardware_json"] = np.array(self.hardware_json)
        np.savez_compressed(path, format_version=np.array(FORMAT_VERSION), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "RunCounts":
        path = Path(path)
        if path.is_dir():
            path = path / "counts.npz"
        if not path.is_file():
            raise AxsimError(f"{path}: not found; re-pricing needs the counts.npz that 'axsim run' writes "
                             "into its run folder (runs from older versions lack it: run again)")
        try:
            with np.load(path, allow_pickle=False) as z:
                version = int(z["format_version"])
                if version != FORMAT_VERSION:
                    raise AxsimError(f"{path}: counts format version {version}; this version reads "
                                     f"{FORMAT_VERSION}: run again")
                kw = {k: z[k] for k in cls.__dataclass_fields__}
        except (OSError, ValueError, KeyError) as exc:
            raise AxsimError(f"{path}: not a readable counts file: {exc}") from None
        kw["clock_ghz"] = float(kw["clock_ghz"])
        kw["hardware_hash"] = str(kw["hardware_hash"])
        kw["hardware_json"] = str(kw["hardware_json"])
        return cls(**kw)

    # ------------------------------------------------------------------ pricing
    def check_same_hardware(self, arch) -> None:
        if hardware_hash(arch) == self.hardware_hash:
            return
        diff = differences(json.loads(self.hardware_json), hardware_dict(arch))
        shown = "; ".join(diff[:6]) + ("; ..." if len(diff) > 6 else "")
        raise AxsimError(f"{arch.source or arch.name}: not the hardware of this run, only operating points "
                         f"(swing_v, bit_groups, links, vdd_v, vdd_v_per_ds) and the technology table may "
                         f"change when re-pricing; differences: {shown or 'see the architecture files'}")

    def price(self, archs: Sequence) -> Priced:
        """Energy at the operating points of ``archs`` (each the run's hardware)."""
        for arch in archs:
            self.check_same_hardware(arch)
        n_ops, n_layers = len(archs), len(self.layer_names)
        keys = [str(a) for a in self.key_action]
        fixed = np.array([not _scaled_key(k) for k in keys], dtype=bool)
        classes = sorted({_cls(k) for k in keys} | {"leakage"} | {link_class_of(str(n)) for n in self.link_network})
        cidx = {c: i for i, c in enumerate(classes)}
        out = np.zeros((n_ops, n_layers, len(classes)))
        # actions that no operating point changes: per technology table, once
        onehot = np.zeros((len(keys), len(classes)))
        onehot[np.arange(len(keys)), [cidx[_cls(k)] for k in keys]] = 1.0
        by_tech: dict[tuple[int, float], np.ndarray] = {}
        scales = [OperatingScales.from_arch(arch) for arch in archs]
        for p, arch in enumerate(archs):
            tech = arch.tech_table
            core = scales[p]
            hit = by_tech.get((id(tech), core.core))
            if hit is None:
                pj = _pj(tech, keys) * np.array([core.core_scale(_cls(k)) for k in keys])
                hit = by_tech[(id(tech), core.core)] = (self.counts * np.where(fixed, pj, 0.0)) @ onehot
            out[p] += hit
        # link bits: weights per operating point and link, one matrix product per link class
        nets = [str(n) for n in self.link_network]
        order = list(dict.fromkeys(nets))
        link_w = np.empty((n_ops, len(nets)))
        # SRAM bits: aggregated over component instances into (action, data structure) classes
        sram_keys = [(str(k), str(d)) for k, d in zip(self.sram_action, self.sram_ds)]
        uniq = list(dict.fromkeys(sram_keys))
        agg = np.zeros((len(sram_keys), len(uniq)))
        agg[np.arange(len(sram_keys)), [uniq.index(k) for k in sram_keys]] = 1.0
        sram_bits = self.sram_bits @ agg  # (L, U)
        sram_w = np.empty((n_ops, len(uniq)))
        leak = np.empty(n_ops)
        for p, arch in enumerate(archs):
            tech = arch.tech_table
            op = scales[p]
            link_w[p] = np.concatenate([tech.energy_pj(f"{link_class_of(n)}.bit") * op.link[n] for n in order])
            sram_w[p] = [_pj(tech, [k])[0] * op.sram_scale(_cls(k), ds) for k, ds in uniq]
            leak[p] = sum(int(n) * tech.leakage_mw(str(c)) * op.leakage.get(str(c), 1.0)
                          for c, n in zip(self.instance_class, self.instance_count))
        net_cls = np.array([cidx[link_class_of(n)] for n in nets])
        for c in np.unique(net_cls):
            m = net_cls == c
            out[:, :, c] += (self.link_bits[:, m] @ link_w[:, m].T).T
        u_cls = np.array([cidx[_cls(k)] for k, _ in uniq], dtype=np.int64)
        for c in np.unique(u_cls):
            m = u_cls == c
            out[:, :, c] += (sram_bits[:, m] @ sram_w[:, m].T).T
        out[:, :, cidx["leakage"]] += leak[:, None] * (self.latency_cycles / self.clock_ghz)[None, :]
        layer = out.sum(axis=2)
        by_class = {c: out[:, :, i].sum(axis=1) for c, i in cidx.items()}
        return Priced(layer.sum(axis=1), layer, by_class, [str(x) for x in self.layer_names])


def _pj(tech, keys: list[str]) -> np.ndarray:
    missing = sorted({k for k in keys if k not in tech.energy})
    if missing:
        raise AxsimError(f"technology table {tech.name!r} has no energy for {', '.join(missing)}, "
                         "counted in this run; add them under 'energy:'")
    return np.array([tech.energy[k].pj for k in keys])
