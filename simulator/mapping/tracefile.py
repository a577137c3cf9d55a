"""Layer-trace files: JSON Lines, version 3 (reference: docs/trace-format.md).

Line 1 is a header ``{"format": "axsim-trace", "version": 1, ...}``. Each
layer starts with ``{"layer": NAME, "kind": ..., "macs": ..., "txns": N}``
followed by its N transactions, one JSON object per line, fields as in
:class:`~simulator.mapping.trace.Txn` (defaults omitted). Version 2 adds
``data``, the tensor slices a transaction carries (data identity); version-1
files still replay, without identity (so without error exposure). Version 3 adds
``early`` and ``prev`` (weight prefetch across layers: a transaction that starts while
the previous layer runs, and its dependencies on that layer); version-1 and -2 files
replay as before (layers one after another). Reading checks
every line against the format and the architecture it is replayed on.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from simulator.config.arch import Arch
from simulator.errors import AxsimError, InputError, Problem, show
from simulator.mapping.identity import from_dict, size
from simulator.mapping.trace import BUFFERS, DATA_STRUCTURES, MODES, OPS, LayerTrace, Txn, _FIELDS

FORMAT = "axsim-trace"
VERSION = 3
SUPPORTED = (1, 2, 3)
REGENERATE = "regenerate it with: axsim trace --arch ARCH --workload WORKLOAD --out FILE"
_INT_FIELDS = {"bytes", "channel", "pes", "k", "c", "rs", "pixels", "vector_ops", "read_bytes", "write_bytes"}


def write_traces(path: str | Path, traces: Iterable[LayerTrace], header: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"format": FORMAT, "version": VERSION, **header}) + "\n")
        for tr in traces:
            fh.write(json.dumps({"layer": tr.layer, "kind": tr.kind, "macs": tr.macs,
                                 "txns": len(tr.txns), "meta": tr.meta}) + "\n")
            for t in tr.txns:
                fh.write(json.dumps(t.to_dict(), separators=(",", ":")) + "\n")
    return path


def _node(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(type(v) is int and v >= 0 for v in value):
        return (value[0], value[1])
    return None


def _parse_data(value: Any, ds: str, where: str, problems: list[Problem]) -> tuple | None:
    if not ds:
        problems.append(Problem(where, "tensor slices need the transaction's ds"))
        return None
    if not isinstance(value, list) or not value:
        problems.append(Problem(where, f"{show(value)}: must be a non-empty list of slices"))
        return None
    out = []
    for j, item in enumerate(value):
        sl, why = from_dict(ds, item)
        if sl is None:
            problems.append(Problem(f"{where}[{j}]", why))
            return None
        out.append(sl)
    return tuple(out)


def _work_fits(fields: dict, data: tuple, where: str, problems: list[Problem]) -> bool:
    """A compute step's PE work slices must fit the step that times them: actions are counted from
    the slices, cycles from ``k``, ``c``, ``pixels`` (docs/trace-format.md, "Actions of a compute
    step"). Vector steps are checked only when they give ``k``; ``c`` is not theirs."""
    vector = fields.get("vector_ops", 0) > 0
    k, c, pixels = fields.get("k", 0), fields.get("c", 0), fields.get("pixels", 0)
    if vector and not k:
        return True
    for j, s in enumerate(data):
        kk, cc, n = s[1] - s[0], s[3] - s[2], (s[5] - s[4]) * (s[7] - s[6])
        bad = (f"k {[s[0], s[1]]}: {kk} channels > the step's k {k}" if kk > k else
               f"c {[s[2], s[3]]}: {cc} channels > the step's c {c}" if not vector and cc > c else
               f"rows x cols {[s[4], s[5]]} x {[s[6], s[7]]}: {n} pixels > the step's pixels {pixels}"
               if n > pixels else "")
        if bad:
            problems.append(Problem(f"{where}[{j}]", f"{bad}; a PE's work must fit the step that times it"))
            return False
    return True


def _parse_txn(obj: dict, where: str, problems: list[Problem], version: int = VERSION) -> Txn | None:
    op = obj.get("op")
    if op not in OPS:
        problems.append(Problem(f"{where}.op", f"{show(op)}: must be one of {', '.join(OPS)}"))
        return None
    allowed = {"id", "op", "after", *_FIELDS[op], *(("data",) if version >= 2 else ()),
               *(("early", "prev") if version >= 3 else ())}
    fields: dict[str, Any] = {}
    ok = True
    for key, value in obj.items():
        path = f"{where}.{key}"
        if key not in allowed:
            problems.append(Problem(path, f"unknown key for op {op!r}; allowed: {', '.join(sorted(allowed))}"))
            ok = False
        elif key in _INT_FIELDS or key == "id":
            if type(value) is not int or value < 0:
                problems.append(Problem(path, f"{show(value)}: must be an integer >= 0"))
                ok = False
            else:
                fields[key] = value
        elif key in ("after", "prev"):
            if not isinstance(value, list) or not all(type(v) is int for v in value):
                problems.append(Problem(path, f"{show(value)}: must be a list of transaction ids"))
                ok = False
            else:
                fields[key] = tuple(value)
        elif key == "early":
            if type(value) is not bool:
                problems.append(Problem(path, f"{show(value)}: must be true or false"))
                ok = False
            else:
                fields[key] = value
        elif key in ("src", "chiplet"):
            node = _node(value)
            if node is None:
                problems.append(Problem(path, f"{show(value)}: must be [row, col]"))
                ok = False
            fields[key] = node
        elif key == "dsts":
            nodes = [_node(v) for v in value] if isinstance(value, list) else [None]
            if not nodes or None in nodes:
                problems.append(Problem(path, f"{show(value)}: must be a non-empty list of [row, col]"))
                ok = False
            fields[key] = tuple(nodes)
        elif key == "data":
            continue  # parsed below, once ds is known
        else:
            choices = {"ds": DATA_STRUCTURES, "mode": MODES, "src_buf": BUFFERS, "dst_buf": BUFFERS}.get(key)
            if choices is not None and value not in choices:
                problems.append(Problem(path, f"{show(value)}: must be one of {', '.join(choices)}"))
                ok = False
            elif not isinstance(value, str):
                problems.append(Problem(path, f"{show(value)}: must be a string"))
                ok = False
            fields[key] = value
    if "id" not in obj:
        problems.append(Problem(f"{where}.id", "missing required key"))
        ok = False
    if ok and "data" in obj:
        ds = "work" if op == "compute" else fields.get("ds", "")
        data = _parse_data(obj["data"], ds, f"{where}.data", problems)
        n = len(data) if data is not None else 0
        want = (fields.get("pes", 0) if op == "compute"
                else len(fields.get("dsts", ())) if fields.get("mode") in ("scatter", "gather") else n)
        if data is None:
            ok = False
        elif n != want:
            problems.append(Problem(f"{where}.data", f"{n} slices: a {op} {fields.get('mode', '')} needs "
                                                     f"one per {'PE' if op == 'compute' else 'destination'} "
                                                     f"({want})"))
            ok = False
        else:
            fields["data"] = data
            if op == "compute":
                ok = _work_fits(fields, data, f"{where}.data", problems) and ok
            elif fields.get("bytes") == 0 and (named := sum(size(ds, s) for s in data)):
                problems.append(Problem(f"{where}.bytes", f"0, but its data slices name {named} elements: a "
                                                          "transfer of tensor elements carries at least one byte"))
                ok = False
    if not ok:
        return None
    tid = fields.pop("id")
    after = fields.pop("after", ())
    return Txn(tid, fields.pop("op"), after, **fields)


def check_against(trace: LayerTrace, arch: Arch, where: str) -> list[Problem]:
    """Coordinates and channels that must exist on ``arch``."""
    pkg, noc = arch.package, arch.chiplet.noc
    out = []
    for t in trace.txns:
        bad = None
        if t.op in ("dram_read", "dram_write") and t.channel >= pkg.dram.channels:
            bad = ("channel", t.channel, f"< {pkg.dram.channels} DRAM channels")
        elif t.op == "nop":
            for node in (t.src, *t.dsts):
                if node[0] >= pkg.mesh.rows or node[1] >= pkg.mesh.cols:
                    bad = ("src/dsts", list(node), f"inside the {pkg.mesh.rows}x{pkg.mesh.cols} chiplet mesh")
        elif t.op in ("noc", "compute", "sram"):
            if t.chiplet[0] >= pkg.mesh.rows or t.chiplet[1] >= pkg.mesh.cols:
                bad = ("chiplet", list(t.chiplet), f"inside the {pkg.mesh.rows}x{pkg.mesh.cols} chiplet mesh")
            elif t.op == "noc":
                for node in (t.src, *t.dsts):
                    if node[0] >= noc.mesh.rows or node[1] >= noc.mesh.cols:
                        bad = ("src/dsts", list(node), f"inside the {noc.mesh.rows}x{noc.mesh.cols} PE mesh")
            elif t.op == "compute" and not 1 <= t.pes <= arch.chiplet.pes:
                bad = ("pes", t.pes, f"between 1 and the {arch.chiplet.pes} PEs of a chiplet")
        if bad:
            out.append(Problem(f"{where} txn {t.id}.{bad[0]}", f"{bad[1]}: must be {bad[2]} of {arch.name!r}"))
    return out


def read_traces(path: str | Path, arch: Arch | None = None) -> tuple[dict, list[LayerTrace]]:
    """Read and check a trace file; every problem is reported at once."""
    path = Path(path)
    if not path.is_file():
        raise AxsimError(f"{path}: no such trace file")
    problems: list[Problem] = []
    traces: list[LayerTrace] = []
    header: dict = {}
    expected = seen = 0
    version = VERSION
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            where = f"line {lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(Problem(where, f"not valid JSON: {exc.msg}"))
                continue
            if not isinstance(obj, dict):
                problems.append(Problem(where, "must be a JSON object"))
                continue
            if lineno == 1:
                header = obj
                if obj.get("format") != FORMAT:
                    raise InputError(path, [Problem("line 1.format", f"{show(obj.get('format'))}: "
                                                    f"not an axsim trace (expected {FORMAT!r})")])
                if obj.get("version") not in SUPPORTED:
                    raise InputError(path, [Problem("line 1.version", f"{show(obj.get('version'))}: "
                                                    f"supported trace versions: "
                                                    f"{', '.join(map(str, SUPPORTED))}; {REGENERATE}")])
                version = obj["version"]
                continue
            if "layer" in obj:
                if seen < expected:
                    problems.append(Problem(where, f"new layer while {expected - seen} transactions of "
                                                   f"{traces[-1].layer!r} are still missing"))
                count = obj.get("txns")
                if type(count) is not int or count < 0:
                    problems.append(Problem(f"{where}.txns", f"{show(count)}: must be an integer >= 0"))
                    count = 0
                traces.append(LayerTrace(str(obj["layer"]), str(obj.get("kind", "")),
                                         int(obj.get("macs", 0) or 0), meta=obj.get("meta") or {}))
                expected, seen = count, 0
                continue
            if not traces:
                problems.append(Problem(where, "transaction before the first layer record"))
                continue
            seen += 1
            if seen > expected:
                problems.append(Problem(where, f"more transactions than the {expected} announced by "
                                               f"layer {traces[-1].layer!r}"))
                continue
            txn = _parse_txn(obj, where, problems, version)
            if txn is not None:
                if txn.id != seen - 1:
                    problems.append(Problem(f"{where}.id", f"{txn.id}: ids must count 0, 1, 2, ... "
                                                           f"within a layer (expected {seen - 1})"))
                traces[-1].txns.append(txn)
    if seen < expected:
        problems.append(Problem("end of file", f"{expected - seen} transactions of {traces[-1].layer!r} missing"))
    if not traces and not problems:
        problems.append(Problem("", "no layers in the trace"))
    if arch is not None and not problems:
        for tr in traces:
            problems += check_against(tr, arch, f"layer {tr.layer!r}")
    if problems:
        raise InputError(path, problems)  # lists the first 50, counts the rest
    return header, traces
