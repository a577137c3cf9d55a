"""Load and check architecture files: schema, then cross-field rules, all problems at once."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from simulator.config.arch import Arch
from simulator.config.operating import check_structure, check_values
from simulator.config.tech import REQUIRED_ENERGY_KEYS, TechTable, check_tech
from simulator.config.validation import validate_model
from simulator.config.yamlio import read_mapping
from simulator.errors import InputError, Problem

SUPPORTED_VERSIONS = (1,)
LOADER_FIELDS = ("tech_table", "source")  # filled in by load_arch, never read from the file


def _check_version(data: dict, file: Path) -> None:
    version = data.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        allowed = ", ".join(map(str, SUPPORTED_VERSIONS))
        what = "missing" if version is None else repr(version)
        raise InputError(file, [Problem("version", f"{what}: supported versions: {allowed}")])


def cross_check(arch: Arch) -> list[Problem]:
    """Rules that span several keys (sizes that must fit, coordinates in range)."""
    out: list[Problem] = []
    pkg, chip, pe = arch.package, arch.chiplet, arch.chiplet.pe
    dram = pkg.dram
    if dram.attach is not None:
        if len(dram.attach) != dram.channels:
            out.append(Problem("package.dram.attach",
                               f"{len(dram.attach)} ports listed: must list one per channel ({dram.channels})"))
        for i, (r, c) in enumerate(dram.attach):
            if r >= pkg.mesh.rows or c >= pkg.mesh.cols:
                out.append(Problem(f"package.dram.attach[{i}]",
                                   f"[{r}, {c}]: outside the {pkg.mesh.rows}x{pkg.mesh.cols} chiplet mesh"))
    if dram.edges is not None:
        if len(dram.edges) != dram.channels:
            out.append(Problem("package.dram.edges",
                               f"{len(dram.edges)} edges listed: must list one per channel ({dram.channels})"))
        else:
            seen: dict[tuple[int, int], tuple[int, str]] = {}
            for i, (at, edge) in enumerate(zip(arch.dram_attach(), dram.edges)):
                first = seen.setdefault(tuple(at), (i, edge))
                if first[1] != edge:
                    out.append(Problem(f"package.dram.edges[{i}]",
                                       f"{edge!r}: channel {i} attaches to chiplet [{at[0]}, {at[1]}] like channel "
                                       f"{first[0]}, which enters by the {first[1]!r} edge; channels sharing a "
                                       "chiplet must enter by the same edge"))
    if dram.attach is None and dram.channels > pkg.mesh.rows:
        out.append(Problem("package.dram.channels",
                           f"{dram.channels}: more channels than west-edge chiplets ({pkg.mesh.rows}); "
                           "list their ports in package.dram.attach"))
    r, c = chip.noc.gb_node
    if r >= chip.noc.mesh.rows or c >= chip.noc.mesh.cols:
        out.append(Problem("chiplet.noc.gb_node",
                           f"[{r}, {c}]: outside the {chip.noc.mesh.rows}x{chip.noc.mesh.cols} PE mesh"))
    word = pe.precision_bits // 8 or 1
    copies = 2 if pe.double_buffering else 1
    need = {
        "chiplet.pe.weight_buffer.size_bytes": (pe.weight_buffer.size_bytes,
                                                 copies * pe.macs_per_cycle * word,
                                                 "one weight per MAC lane"),
        "chiplet.pe.input_buffer.size_bytes": (pe.input_buffer.size_bytes, copies * pe.lanes * word,
                                                "one input vector"),
        "chiplet.global_buffer.size_bytes": (chip.global_buffer.size_bytes, pe.input_buffer.size_bytes,
                                              "one PE input-buffer fill, staged for multicast"),
    }
    for path, (have, smallest, what) in need.items():
        if have < smallest:
            out.append(Problem(path, f"{have} < {smallest}: too small for the smallest tile ({what}"
                                     f"{', double-buffered' if copies == 2 and 'pe' in path else ''})"))
    acc = pe.accumulation_buffer
    if acc.entries < pe.vector_macs:
        out.append(Problem("chiplet.pe.accumulation_buffer.size_bytes",
                           f"{acc.size_bytes}: holds {acc.entries} entries of {acc.entry_bits} bits, "
                           f"fewer than one per vector MAC ({pe.vector_macs})"))
    if acc.entry_bits < 2 * pe.precision_bits:
        out.append(Problem("chiplet.pe.accumulation_buffer.entry_bits",
                           f"{acc.entry_bits}: must be >= 2 x precision_bits ({2 * pe.precision_bits})"))
    if pe.mac is not None and pe.precision_bits % pe.mac.block_bits:
        out.append(Problem("chiplet.pe.mac.block_bits",
                           f"{pe.mac.block_bits}: must divide precision_bits ({pe.precision_bits})"))
    for path, buf in (("chiplet.global_buffer", chip.global_buffer),
                      ("chiplet.pe.weight_buffer", pe.weight_buffer),
                      ("chiplet.pe.input_buffer", pe.input_buffer),
                      ("chiplet.pe.accumulation_buffer", acc)):
        if buf.size_bytes % buf.banks:
            out.append(Problem(f"{path}.size_bytes",
                               f"{buf.size_bytes}: must be a multiple of banks ({buf.banks})"))
    out += check_structure(arch)
    return out


def load_tech(path: str | Path) -> TechTable:
    path = Path(path)
    data = read_mapping(path)
    table = validate_model(TechTable, data, path)
    missing = [k for k in REQUIRED_ENERGY_KEYS if k not in table.energy]
    problems = [Problem(f"energy.{k}", "missing: every technology table must price this action") for k in missing]
    problems += check_tech(table)
    if problems:
        raise InputError(path, problems)
    return table


def load_arch(path: str | Path) -> Arch:
    """Load, validate and cross-check an architecture file and its technology table."""
    path = Path(path)
    data = read_mapping(path)
    _check_version(data, path)
    internal = [k for k in data if k in LOADER_FIELDS]
    if internal:
        allowed = ", ".join(sorted(k for k in Arch.model_fields if k not in LOADER_FIELDS))
        raise InputError(path, [Problem(k, f"unknown key; allowed keys: {allowed}") for k in internal])
    arch = validate_model(Arch, data, path)
    problems = cross_check(arch)
    tech_path = (path.parent / arch.tech).resolve()
    if not tech_path.is_file():
        problems.append(Problem("tech", f"{arch.tech!r}: no such file (looked for {tech_path})"))
    if problems:
        raise InputError(path, problems)
    tech = load_tech(tech_path)
    problems = check_values(arch, tech, arch.tech)
    if problems:
        raise InputError(path, problems)
    return arch.model_copy(update={"tech_table": tech, "source": str(path)})


def config_hash(*parts: object) -> str:
    """Stable short hash of configuration objects (pydantic models, dicts, strings)."""
    h = hashlib.sha256()
    for part in parts:
        if hasattr(part, "model_dump"):
            part = part.model_dump(mode="json")
        h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]
