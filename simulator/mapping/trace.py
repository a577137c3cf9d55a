"""Layer traces: the ordered, data-independent transactions of one mapped layer.

A trace is a list of :class:`Txn` records. Each transaction names the unit it
occupies (a DRAM channel, the NoP, a chiplet's NoC, global buffer or PE array),
the bytes or work it carries, the data structure it belongs to, and the ids of
the transactions it must wait for (``after``). The engine starts a transaction
as soon as all of them have finished. File format: docs/trace-format.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from simulator.mapping.identity import to_dict

Op = Literal["dram_read", "dram_write", "nop", "noc", "compute", "sram"]
OPS: tuple[str, ...] = ("dram_read", "dram_write", "nop", "noc", "compute", "sram")
DATA_STRUCTURES: tuple[str, ...] = ("weights", "inputs", "outputs", "psums")
MODES: tuple[str, ...] = ("multicast", "scatter", "gather")
BUFFERS: tuple[str, ...] = ("dram", "gb", "pe")
Node = tuple[int, int]


@dataclass(slots=True)
class Txn:
    """One transaction. Fields not used by an op keep their defaults.

    - ``dram_read`` / ``dram_write``: ``channel``, ``bytes``.
    - ``nop``: ``src`` chiplet, ``dsts`` chiplets, ``bytes`` per destination
      (``mode`` multicast: the same bytes to all; scatter: different bytes to
      each; gather: ``dsts`` send to ``src``), ``src_buf``/``dst_buf`` say which
      buffer is read at the source and written at the destinations.
    - ``noc``: as ``nop`` inside chiplet ``chiplet``; nodes are PE routers.
    - ``compute``: ``chiplet``, ``pes`` PEs in lock-step, timed as each doing a
      ``k`` x ``c`` x ``rs`` x ``pixels`` block of MACs (``vector_ops`` for
      pool/add, per ``k`` x ``pixels`` outputs), with multiplier configuration
      ``mac``; actions are counted from each PE's slice in ``data`` when given.
    - ``sram``: ``chiplet`` global buffer ``read_bytes``/``write_bytes`` and
      ``vector_ops`` (partial-sum accumulation).

    ``early``: a transaction without ``after`` that may start when the previous layer starts
    (a weight prefetch) instead of when it has finished; ``prev``: ids of transactions of the
    previous layer (with transactions) that must finish first (a PE buffer slot that the previous
    layer still reads). Both are version-3 trace fields (docs/trace-format.md).

    ``data`` (identity, :mod:`simulator.mapping.identity`): the tensor slices the
    transaction carries. ``multicast``: every destination receives all of them;
    ``scatter``/``gather``: ``data[i]`` is the slice of ``dsts[i]``; DRAM and
    ``sram`` transactions: the slices read/written; ``compute``: ``data[i]`` is
    the work slice of the i-th PE of the chiplet (PE router ``divmod(i, NoC columns)``).
    Empty when the trace has no identity (version-1 files).
    """

    id: int
    op: str
    after: tuple[int, ...] = ()
    ds: str = ""
    bytes: int = 0
    channel: int = 0
    src: Node = (0, 0)
    dsts: tuple[Node, ...] = ()
    mode: str = "multicast"
    src_buf: str = ""
    dst_buf: str = ""
    chiplet: Node = (0, 0)
    pes: int = 0
    k: int = 0
    c: int = 0
    rs: int = 0
    pixels: int = 0
    vector_ops: int = 0
    mac: str = "exact"
    read_bytes: int = 0
    write_bytes: int = 0
    data: tuple = ()
    early: bool = False
    prev: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        """Only the fields this op uses (defaults left out), for compact files."""
        out: dict = {"id": self.id, "op": self.op}
        if self.after:
            out["after"] = list(self.after)
        if self.early:
            out["early"] = True
        if self.prev:
            out["prev"] = list(self.prev)
        for name in _FIELDS[self.op]:
            value = getattr(self, name)
            if value != _DEFAULTS[name]:
                out[name] = [list(v) for v in value] if name == "dsts" else (
                    list(value) if isinstance(value, tuple) else value)
        if self.data:
            ds = "work" if self.op == "compute" else self.ds
            out["data"] = [to_dict(ds, s) for s in self.data]
        return out


_FIELDS: dict[str, tuple[str, ...]] = {
    "dram_read": ("ds", "channel", "bytes"),
    "dram_write": ("ds", "channel", "bytes"),
    "nop": ("ds", "bytes", "src", "dsts", "mode", "src_buf", "dst_buf"),
    "noc": ("ds", "bytes", "chiplet", "src", "dsts", "mode", "src_buf", "dst_buf"),
    "compute": ("chiplet", "pes", "k", "c", "rs", "pixels", "vector_ops", "mac"),
    "sram": ("ds", "chiplet", "read_bytes", "write_bytes", "vector_ops"),
}
_DEFAULTS = {f.name: f.default for f in Txn.__dataclass_fields__.values()}  # type: ignore[attr-defined]


@dataclass(slots=True)
class LayerTrace:
    """The transactions of one layer plus descriptive metadata."""

    layer: str
    kind: str
    macs: int
    txns: list[Txn] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def add(self, op: str, after=(), **fields) -> int:
        tid = len(self.txns)
        self.txns.append(Txn(tid, op, tuple(after), **fields))
        return tid
