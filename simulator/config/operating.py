"""Operating points: link voltage swings and SRAM supply voltages.

Architecture files set them (``swing_v``, ``bit_groups`` and ``links`` on the NoP
and the chiplet NoC; ``vdd_v`` and ``vdd_v_per_ds`` on every buffer); technology
tables give the nominal values and the models behind them (``signalling`` and
``sram`` sections, :mod:`simulator.config.tech`). This module resolves them into
numbers: the swing of every bit position of every link, the Vdd of every buffer
kind and data structure. Pricing (:mod:`simulator.energy.operating`) and error
rates (:mod:`simulator.faults.operating`) read only the resolved numbers.

Resolution of the swing of bit ``b`` on link ``l`` of a network:

1. the link's base swing: the link override's ``swing_v``, else the network's
   ``swing_v``, else the technology's ``nominal_swing_v``;
2. the bit groups: the link override's ``bit_groups`` if it has any, else the
   network's; the group that holds bit ``b`` gives its ``swing_v``, a group
   without one takes the base swing.

Bit positions are positions within every byte (0 = least significant), as in
:mod:`simulator.faults.rates`.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from simulator.config.types import Frozen, NonNegInt, PosFloat
from simulator.errors import Problem

BYTE_BITS = 8
Node = tuple[int, int]
DATA_STRUCTURES = ("weights", "inputs", "outputs", "psums")
#: buffer kinds (technology-table classes) -> the data structures each can hold
BUFFER_DS: dict[str, tuple[str, ...]] = {
    "global_buffer": DATA_STRUCTURES,
    "weight_buffer": ("weights",),
    "input_buffer": ("inputs",),
    "accumulation_buffer": ("outputs", "psums"),
}
DataStructure = Literal["weights", "inputs", "outputs", "psums"]


class BitGroup(Frozen):
    """Bits ``bits[0]..bits[1]`` (inclusive) of every byte, at ``swing_v`` (absent: the link's swing)."""

    bits: tuple[NonNegInt, NonNegInt]
    swing_v: PosFloat | None = None


class LinkOverride(Frozen):
    """One directed link ``from -> to`` (mesh coordinates) with its own swing or bit groups.

    On the chiplet NoC, ``chiplet`` selects one chiplet's NoC (absent: every chiplet)."""

    model_config = Frozen.model_config | {"populate_by_name": True}
    src: tuple[NonNegInt, NonNegInt] = Field(alias="from")
    dst: tuple[NonNegInt, NonNegInt] = Field(alias="to")
    chiplet: tuple[NonNegInt, NonNegInt] | None = None
    swing_v: PosFloat | None = None
    bit_groups: tuple[BitGroup, ...] = ()


class Signalling(Frozen):
    """Operating point of a mesh network's links (fields mixed into the NoP and NoC models)."""

    swing_v: PosFloat | None = Field(None, description="swing of every link; absent: the technology's nominal")
    bit_groups: tuple[BitGroup, ...] = Field((), description="swing per group of bit positions of every byte")
    links: tuple[LinkOverride, ...] = Field((), description="per-link swing or bit groups")


class SupplyVoltage(Frozen):
    """Operating point of an SRAM buffer (fields mixed into the buffer models)."""

    vdd_v: PosFloat | None = Field(None, description="supply of the buffer; absent: the technology's nominal")
    vdd_v_per_ds: dict[DataStructure, PosFloat] = Field(
        {}, description="supply of the part of the buffer that holds one data structure")


# ----------------------------------------------------------------------------- topology
def mesh_links(rows: int, cols: int) -> list[tuple[Node, Node]]:
    """Directed links of a rows x cols mesh, in the order every model numbers them."""
    out = []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                nr, nc = r + dr, c + dc
                if 0 <= nr < rows and 0 <= nc < cols:
                    out.append(((r, c), (nr, nc)))
    return out


def link_class_of(network: str) -> str:
    """Technology-table class of a network's links: ``nop_link`` for ``nop``, else ``noc_link``."""
    return "nop_link" if network == "nop" else "noc_link"


def networks(arch) -> list[tuple[str, int, int]]:
    """(name, rows, cols) of every network: ``nop`` then ``chiplet[r,c].noc`` in row-major order."""
    pkg, noc = arch.package.mesh, arch.chiplet.noc.mesh
    out = [("nop", pkg.rows, pkg.cols)]
    out += [(f"chiplet[{r},{c}].noc", noc.rows, noc.cols) for r in range(pkg.rows) for c in range(pkg.cols)]
    return out


# ----------------------------------------------------------------------------- resolution
def _group_swings(groups: tuple[BitGroup, ...], base: float) -> np.ndarray:
    out = np.full(BYTE_BITS, base, dtype=float)
    for g in groups:
        if g.swing_v is not None:
            out[g.bits[0]:g.bits[1] + 1] = g.swing_v
    return out


def chip_vdd(arch) -> float:
    """The chip supply: the architecture's ``vdd_v``, else the technology's nominal ``vdd_v``."""
    if arch.vdd_v is not None:
        return arch.vdd_v
    return arch.tech_table.vdd_v if arch.tech_table is not None else 1.0


def default_swing_v(arch, link_class: str) -> float:
    """Swing of a link without its own: a link class whose swing is derived from the core supply
    (``swing_times_vdd``) swings rail to rail at the chip supply; a separately regulated one
    (``swing_squared``) keeps the technology's nominal swing."""
    tech = arch.tech_table
    if tech is None:
        return 1.0
    sig = tech.signalling.get(link_class)
    if sig is not None and sig.energy_scaling == "swing_times_vdd":
        return chip_vdd(arch)
    return tech.nominal_swing_v(link_class)


def link_swings(arch) -> dict[str, np.ndarray]:
    """Swing in volts of every bit position of every link: network name -> (links, BYTE_BITS).

    Networks and link order as in :func:`networks` and :func:`mesh_links`."""
    tech = arch.tech_table
    pkg = arch.package.mesh
    out: dict[str, np.ndarray] = {}
    for net_cfg, cls in ((arch.package.nop, "nop_link"), (arch.chiplet.noc, "noc_link")):
        nominal = default_swing_v(arch, cls)
        base = net_cfg.swing_v if net_cfg.swing_v is not None else nominal
        mesh = pkg if cls == "nop_link" else net_cfg.mesh
        links = mesh_links(mesh.rows, mesh.cols)
        copies = 1 if cls == "nop_link" else pkg.rows * pkg.cols
        arr = np.empty((copies, len(links), BYTE_BITS))
        arr[:] = _group_swings(net_cfg.bit_groups, base)
        index = {lk: i for i, lk in enumerate(links)}
        for ov in net_cfg.links:
            i = index.get((tuple(ov.src), tuple(ov.dst)))
            if i is None:
                continue  # rejected by check_structure
            lbase = ov.swing_v if ov.swing_v is not None else base
            which = slice(None) if ov.chiplet is None else ov.chiplet[0] * pkg.cols + ov.chiplet[1]
            arr[which, i] = _group_swings(ov.bit_groups or net_cfg.bit_groups, lbase)
        if cls == "nop_link":
            out["nop"] = arr[0]
        else:
            for n in range(copies):
                out[f"chiplet[{n // pkg.cols},{n % pkg.cols}].noc"] = arr[n]
    return out


def sram_vdds(arch) -> dict[tuple[str, str], float]:
    """Supply voltage per (buffer kind, data structure); a buffer without ``vdd_v`` runs at the chip supply."""
    nominal = chip_vdd(arch)
    out = {}
    for kind, buf in buffers(arch).items():
        base = buf.vdd_v if buf.vdd_v is not None else nominal
        for ds in BUFFER_DS[kind]:
            out[(kind, ds)] = buf.vdd_v_per_ds.get(ds, base)
    return out


def buffer_vdd(arch, kind: str) -> float:
    """The buffer's own supply (its ``vdd_v``), which sets its leakage."""
    buf = buffers(arch)[kind]
    return buf.vdd_v if buf.vdd_v is not None else chip_vdd(arch)


def buffers(arch) -> dict:
    pe = arch.chiplet.pe
    return {"global_buffer": arch.chiplet.global_buffer, "weight_buffer": pe.weight_buffer,
            "input_buffer": pe.input_buffer, "accumulation_buffer": pe.accumulation_buffer}


def buffer_path(kind: str) -> str:
    return "chiplet.global_buffer" if kind == "global_buffer" else f"chiplet.pe.{kind}"


# ----------------------------------------------------------------------------- checks
def _check_groups(path: str, groups: tuple[BitGroup, ...]) -> list[Problem]:
    if not groups:
        return []
    out = []
    seen = [0] * BYTE_BITS
    for i, g in enumerate(groups):
        a, b = g.bits
        if not a <= b < BYTE_BITS:
            out.append(Problem(f"{path}[{i}].bits", f"[{a}, {b}]: must be [first, last] with "
                                                    f"0 <= first <= last <= {BYTE_BITS - 1}"))
            continue
        for bit in range(a, b + 1):
            seen[bit] += 1
    if not out:
        missing = [b for b in range(BYTE_BITS) if seen[b] == 0]
        twice = [b for b in range(BYTE_BITS) if seen[b] > 1]
        if missing or twice:
            what = "; ".join(x for x in (f"bits {missing} in no group" if missing else "",
                                         f"bits {twice} in several groups" if twice else "") if x)
            out.append(Problem(path, f"{what}: the groups must partition bits 0-{BYTE_BITS - 1} of every byte"))
    return out


def check_structure(arch) -> list[Problem]:
    """Operating-point rules that need no technology table: bit groups partition the byte,
    link overrides name existing links of the mesh (once each), chiplets exist."""
    out: list[Problem] = []
    pkg = arch.package.mesh
    for path, net, mesh in (("package.nop", arch.package.nop, pkg),
                            ("chiplet.noc", arch.chiplet.noc, arch.chiplet.noc.mesh)):
        out += _check_groups(f"{path}.bit_groups", net.bit_groups)
        valid = set(mesh_links(mesh.rows, mesh.cols))
        seen: set = set()
        for i, ov in enumerate(net.links):
            lp = f"{path}.links[{i}]"
            link = (tuple(ov.src), tuple(ov.dst))
            if link not in valid:
                out.append(Problem(lp, f"from {list(ov.src)} to {list(ov.dst)}: not a link of the "
                                       f"{mesh.rows}x{mesh.cols} mesh (links join neighbouring nodes)"))
            if ov.chiplet is not None:
                if path == "package.nop":
                    out.append(Problem(f"{lp}.chiplet", "only NoC links belong to one chiplet"))
                elif ov.chiplet[0] >= pkg.rows or ov.chiplet[1] >= pkg.cols:
                    out.append(Problem(f"{lp}.chiplet", f"{list(ov.chiplet)}: outside the "
                                                        f"{pkg.rows}x{pkg.cols} chiplet mesh"))
            key = (link, ov.chiplet)
            if key in seen:
                out.append(Problem(lp, f"from {list(ov.src)} to {list(ov.dst)}: listed twice"))
            seen.add(key)
            out += _check_groups(f"{lp}.bit_groups", ov.bit_groups)
    for kind, buf in buffers(arch).items():
        for ds in buf.vdd_v_per_ds:
            if ds not in BUFFER_DS[kind]:
                out.append(Problem(f"{buffer_path(kind)}.vdd_v_per_ds.{ds}",
                                   f"the {kind} never holds {ds}; it holds: {', '.join(BUFFER_DS[kind])}"))
    return out


def check_values(arch, tech, tech_file: str) -> list[Problem]:
    """Every swing and Vdd the architecture sets lies in the technology table's allowed range, and
    the clock is reachable at the chip supply (the table's ``vf`` curve)."""
    out = check_clock(arch, tech, tech_file)
    vdd = arch.vdd_v if arch.vdd_v is not None else tech.vdd_v
    for path, net, cls in (("package.nop", arch.package.nop, "nop_link"), ("chiplet.noc", arch.chiplet.noc, "noc_link")):
        values = [(f"{path}.swing_v", net.swing_v)]
        values += [(f"{path}.bit_groups[{i}].swing_v", g.swing_v) for i, g in enumerate(net.bit_groups)]
        for i, ov in enumerate(net.links):
            values.append((f"{path}.links[{i}].swing_v", ov.swing_v))
            values += [(f"{path}.links[{i}].bit_groups[{j}].swing_v", g.swing_v) for j, g in enumerate(ov.bit_groups)]
        values = [(p, v) for p, v in values if v is not None]
        rng = tech.swing_range_v(cls, vdd)
        if rng is None:
            out += [Problem(p, f"{v}: the technology table {tech_file} has no signalling.{cls} section, "
                               "so the swing cannot be changed") for p, v in values]
            continue
        for p, v in values:
            if v > vdd:
                where = "the chip supply" if arch.vdd_v is not None else f"the nominal supply of {tech_file}"
                out.append(Problem(p, f"{v} > vdd_v {vdd} ({where}): a swing cannot exceed the supply"))
            elif not rng[0] <= v <= rng[1]:
                out.append(Problem(p, f"{v}: outside the allowed range [{rng[0]}, {rng[1]}] V of {tech_file}"))
    rng = tech.sram_range_v()
    for kind, buf in buffers(arch).items():
        bp = buffer_path(kind)
        values = [(f"{bp}.vdd_v", buf.vdd_v)] + [(f"{bp}.vdd_v_per_ds.{d}", v) for d, v in buf.vdd_v_per_ds.items()]
        for p, v in values:
            if v is None:
                continue
            if rng is None:
                out.append(Problem(p, f"{v}: the technology table {tech_file} has no sram section, "
                                      "so the supply cannot be changed"))
            elif not rng[0] <= v <= rng[1]:
                out.append(Problem(p, f"{v}: outside the allowed range [{rng[0]}, {rng[1]}] V of {tech_file} "
                                      "(where its failure-rate and leakage tables are defined)"))
    return out


def check_clock(arch, tech, tech_file: str) -> list[Problem]:
    """The chip supply lies in the technology's voltage-frequency table and reaches ``clock_ghz``."""
    vdd = arch.vdd_v if arch.vdd_v is not None else tech.vdd_v
    where = "vdd_v" if arch.vdd_v is not None else f"vdd_v (absent: the nominal {tech.vdd_v} V of {tech_file})"
    if tech.vf is None:
        if arch.vdd_v is not None and arch.vdd_v != tech.vdd_v:
            return [Problem("vdd_v", f"{arch.vdd_v}: the technology table {tech_file} has no vf section, "
                                     f"so the chip runs at its nominal {tech.vdd_v} V only")]
        return []
    lo, hi = tech.vf.vdd_range_v
    if not lo <= vdd <= hi:
        return [Problem("vdd_v", f"{vdd}: outside the voltage-frequency table [{lo}, {hi}] V of {tech_file}")]
    out = []
    if tech.sram is not None and vdd != tech.vdd_v:
        slo, shi = tech.sram_range_v()
        if not slo <= vdd <= shi:
            out.append(Problem("vdd_v", f"{vdd}: outside [{slo}, {shi}] V, where the sram tables of {tech_file} "
                                        "(failure rate, leakage) are defined"))
    fmax = tech.vf.max_clock_ghz(vdd)
    if arch.clock_ghz > fmax * (1 + 1e-9):
        need = tech.vf.min_vdd_v(arch.clock_ghz)
        hint = (f"raise vdd_v to >= {need:.3f} V or lower clock_ghz" if need is not None else
                f"no supply up to {hi} V reaches it (at most {tech.vf.max_clock_ghz(hi)} GHz)")
        out.append(Problem("clock_ghz", f"{arch.clock_ghz} GHz > {fmax:.3f} GHz, the maximum clock at {where} "
                                        f"{vdd} V ({tech_file}, vf table); {hint}"))
    return out


def describe(arch) -> dict:
    """A compact summary of the operating point: distinct swings per network class and bit
    position, and the supply of every buffer kind and data structure (for summary.json)."""
    swings = link_swings(arch)
    out: dict = {"chip_vdd_v": chip_vdd(arch), "clock_ghz": arch.clock_ghz, "links": {}, "sram_vdd_v": {}}
    for cls, nets in (("nop_link", ["nop"]), ("noc_link", [n for n in swings if n != "nop"])):
        arr = np.concatenate([swings[n] for n in nets])
        nominal = arch.tech_table.nominal_swing_v(cls)
        out["links"][cls] = {"nominal_swing_v": nominal, "swing_v": sorted({float(v) for v in np.unique(arr)}),
                             "links_below_nominal": int(np.any(arr < nominal, axis=1).sum())}
    for (kind, ds), v in sram_vdds(arch).items():
        out["sram_vdd_v"].setdefault(kind, {})[ds] = float(v)
    return out
