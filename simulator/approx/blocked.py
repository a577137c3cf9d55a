"""Block-wise approximate multiplication configurations (Ax-BxP).

Ax-BxP (Elangovan, Jain, Raghunathan, arXiv 2011.13000 / ACM TODAES 2022)
splits an operand magnitude of ``B`` bits into ``N = B / K`` blocks of ``K``
bits, ``X = sum_i x_i * 2**(K*i)`` (block 0 is the least significant), and
computes only a subset of the ``N**2`` block products
``x_i * w_j * 2**(K*(i+j))`` of the exact blocked product.

:class:`BlockConfig` describes which products are computed, as data:

* ``policy='static'``: a fixed set of ``(i, j)`` pairs (``i`` indexes the
  activation block, ``j`` the weight block) is computed for every value.
* ``policy='dynamic'``: per value, ``keep_a`` consecutive blocks of the
  activation and ``keep_w`` of the weight are kept, starting at the leading
  non-zero block and going down; the start index of the window is stored beside
  the operand on ``ceil(log2(N - keep + 1))`` bits. All products between kept
  blocks are computed.
* ``policy='mixed'``: each operand has its own policy (``policy_a`` /
  ``policy_w``, one ``'static'`` and one ``'dynamic'``). The static operand
  keeps a fixed block set (``static_blocks_a`` / ``static_blocks_w``, all
  blocks if not given), the dynamic one a window of ``keep_a`` / ``keep_w``
  blocks; all products between kept blocks are computed.

Signed operands use sign-magnitude: ``bits`` is the width of the magnitude
(values lie in ``[-(2**bits - 1), 2**bits - 1]``, so int8 data fits in
``bits=8``), the magnitude is blocked and the sign is applied after.

The arithmetic (multiply, GEMM, convolution) is in :mod:`simulator.approx.blockops`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from simulator.approx.blocked_parse import (OPERAND_POLICIES, OPERANDS, POLICIES,  # noqa: F401 (re-exported)
                                            check_config, is_int, parse_problems, read_policy, sizes_ok)
from simulator.errors import AxsimError, InputError


def _index_bits(n_blocks: int, keep: int) -> int:
    """Bits of the block index stored beside a dynamically selected operand."""
    positions = n_blocks - keep + 1
    return math.ceil(math.log2(positions)) if positions > 1 else 0


@dataclass(frozen=True)
class BlockConfig:
    """One Ax-BxP configuration (validated on construction; raises AxsimError).

    ``policy_a`` / ``policy_w`` (the policy of each operand) default to
    ``policy`` and are set after construction; they differ only under
    ``policy='mixed'``, where ``static_blocks_a`` / ``static_blocks_w`` give the
    block set of the static operand (default: all blocks) and ``keep_a`` /
    ``keep_w`` the window of the dynamic one.
    """

    bits: int = 8
    block_bits: int = 4
    signed: bool = False
    policy: str = "static"
    pairs: frozenset = field(default=None)  # type: ignore[assignment]
    keep_a: int | None = None
    keep_w: int | None = None
    name: str = ""
    policy_a: str | None = None
    policy_w: str | None = None
    static_blocks_a: frozenset | None = None
    static_blocks_w: frozenset | None = None

    def __post_init__(self) -> None:
        errors = check_config(self.bits, self.block_bits, self.signed, self.policy, self.pairs,
                              self.keep_a, self.keep_w, self.policy_a, self.policy_w,
                              self.static_blocks_a, self.static_blocks_w)
        if errors:
            raise AxsimError("invalid block configuration: " +
                             "; ".join(f"{p.path}: {p.message}" for p in errors))
        n = self.bits // self.block_bits
        if self.policy == "static":
            pairs = frozenset((int(i), int(j)) for i, j in
                              (_all_pairs(n) if self.pairs is None else self.pairs))
            object.__setattr__(self, "pairs", pairs)
        else:
            object.__setattr__(self, "pairs", None)
        if self.policy != "mixed":
            object.__setattr__(self, "policy_a", self.policy)
            object.__setattr__(self, "policy_w", self.policy)
        for x in OPERANDS:
            blocks = getattr(self, f"static_blocks_{x}")
            if self.operand_policy(x) == "static" and self.policy == "mixed":
                blocks = frozenset(range(n) if blocks is None else (int(b) for b in blocks))
                object.__setattr__(self, f"static_blocks_{x}", blocks)
        if not self.name:
            object.__setattr__(self, "name", self._default_name())

    # ---- derived properties -------------------------------------------------
    @property
    def n_blocks(self) -> int:
        return self.bits // self.block_bits

    def operand_policy(self, which: str) -> str:
        """``'static'`` or ``'dynamic'``: the selection policy of operand ``'a'`` or ``'w'``."""
        return self.policy_a if which == "a" else self.policy_w

    def operand_keep(self, which: str) -> int | None:
        """Blocks kept per value of a dynamic operand (None for a static one)."""
        if self.operand_policy(which) != "dynamic":
            return None
        return self.keep_a if which == "a" else self.keep_w

    @property
    def products_per_mac(self) -> int:
        """Block products (K x K bit multiplies) computed per multiplication."""
        if self.policy == "static":
            return len(self.pairs)
        return len(self.blocks_a) * len(self.blocks_w)

    @property
    def index_bits_a(self) -> int:
        return 0 if self.policy_a == "static" else _index_bits(self.n_blocks, self.keep_a)

    @property
    def index_bits_w(self) -> int:
        return 0 if self.policy_w == "static" else _index_bits(self.n_blocks, self.keep_w)

    @property
    def blocks_a(self) -> tuple[int, ...]:
        """Activation blocks that are ever used (static) or kept per value (dynamic: count)."""
        return self._blocks("a")

    @property
    def blocks_w(self) -> tuple[int, ...]:
        return self._blocks("w")

    def _blocks(self, which: str) -> tuple[int, ...]:
        if self.policy == "static":
            return tuple(sorted({p[0 if which == "a" else 1] for p in self.pairs}))
        if self.operand_policy(which) == "static":
            return tuple(sorted(self.static_blocks_a if which == "a" else self.static_blocks_w))
        return tuple(range(self.operand_keep(which)))

    @property
    def stored_bits_a(self) -> int:
        """Bits stored/moved per activation value: used blocks + sign + block index."""
        return len(self.blocks_a) * self.block_bits + int(self.signed) + self.index_bits_a

    @property
    def stored_bits_w(self) -> int:
        return len(self.blocks_w) * self.block_bits + int(self.signed) + self.index_bits_w

    @property
    def is_exact(self) -> bool:
        n = self.n_blocks
        if self.policy == "static":
            return len(self.pairs) == n * n
        return len(self.blocks_a) == n and len(self.blocks_w) == n

    def keeps_whole_blocks(self) -> bool:
        """True when the product equals an exact product of transformed operands.

        Static: the pair set is a Cartesian product ``S_a x S_w`` (the operands
        are masked to their blocks in ``S_a`` / ``S_w``). Dynamic and mixed:
        always (each operand keeps a window of whole blocks chosen from its own
        value, or its fixed block set).
        """
        if self.policy != "static":
            return True
        sa, sw = set(self.blocks_a), set(self.blocks_w)
        return len(self.pairs) == len(sa) * len(sw)

    def operand_mask(self, which: str) -> int:
        """Bit mask of the blocks of a static operand ``'a'`` or ``'w'`` in use."""
        if self.operand_policy(which) != "static":
            raise AxsimError(f"operand_mask is defined for static operands only ({self.name}: "
                             f"the {OPERANDS.get(which, which)} are dynamic)")
        blocks = self.blocks_a if which == "a" else self.blocks_w
        full = (1 << self.block_bits) - 1
        return sum(full << (self.block_bits * b) for b in blocks)

    @property
    def max_magnitude(self) -> int:
        return (1 << self.bits) - 1

    # ---- (de)serialisation --------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "bits": self.bits,
                               "block_bits": self.block_bits, "signed": self.signed,
                               "policy": self.policy}
        if self.policy == "static":
            out["pairs"] = [list(p) for p in sorted(self.pairs)]
        elif self.policy == "dynamic":
            out["keep_a"] = self.keep_a
            out["keep_w"] = self.keep_w
        else:
            out["policy"] = {"activations": self.policy_a, "weights": self.policy_w}
            for x in OPERANDS:
                if self.operand_policy(x) == "dynamic":
                    out[f"keep_{x}"] = self.operand_keep(x)
                else:
                    out[f"static_blocks_{x}"] = list(self._blocks(x))
        return out

    @classmethod
    def from_dict(cls, data: Any, file: str = "<dict>", path: str = "") -> "BlockConfig":
        """Build from a parsed YAML mapping; all problems raise one InputError.

        Static pairs are given by exactly one of ``pairs: [[i, j], ...]``,
        ``top: L`` (the L most significant products) or ``msb_blocks: [Ma, Mw]``;
        none of them means all pairs (exact). Per-operand policies are given as
        ``policy: {activations: P_a, weights: P_w}``; the static operand's
        blocks as ``static_blocks_a/_w: [...]`` or ``msb_blocks_a/_w: M`` (the
        M most significant; neither means all), the dynamic one's ``keep_a/_w``.
        """
        problems = parse_problems(data, path)
        if problems:
            raise InputError(file, problems)
        assert isinstance(data, Mapping)
        bits, kb = data.get("bits", 8), data.get("block_bits", 4)
        n = bits // kb
        (policy, policy_a, policy_w), _ = read_policy(data.get("policy", "static"), path)
        pairs = None
        if "pairs" in data:
            pairs = [tuple(p) for p in data["pairs"]]
        elif "top" in data:
            pairs = top_pairs(n, data["top"])
        elif "msb_blocks" in data:
            ma, mw = data["msb_blocks"]
            pairs = msb_pairs(n, ma, mw)
        static = {x: data.get(f"static_blocks_{x}") for x in OPERANDS}
        for x in OPERANDS:
            if f"msb_blocks_{x}" in data:
                static[x] = range(n - data[f"msb_blocks_{x}"], n)
        return cls(bits=bits, block_bits=kb, signed=data.get("signed", False),
                   policy=policy, pairs=pairs, keep_a=data.get("keep_a"), keep_w=data.get("keep_w"),
                   name=data.get("name", ""), policy_a=policy_a, policy_w=policy_w,
                   static_blocks_a=static["a"], static_blocks_w=static["w"])

    def _default_name(self) -> str:
        head = f"{'s' if self.signed else 'u'}{self.bits}k{self.block_bits}"
        if self.is_exact:
            return f"exact_{head}"
        if self.policy == "dynamic":
            return f"dyn_{head}_a{self.keep_a}w{self.keep_w}"
        if self.policy == "mixed":
            return f"mix_{head}_a{self._operand_label('a')}_w{self._operand_label('w')}"
        body = "_".join(f"{i}{j}" for i, j in sorted(self.pairs))
        return f"static_{head}_p{body}"

    def _operand_label(self, which: str) -> str:
        """Name part of one operand of a mixed configuration: dyn2, msb3 or b013."""
        if self.operand_policy(which) == "dynamic":
            return f"dyn{self.operand_keep(which)}"
        blocks, n = self._blocks(which), self.n_blocks
        if blocks == tuple(range(n - len(blocks), n)):
            return f"msb{len(blocks)}"
        return "b" + ("" if n <= 10 else "-").join(str(b) for b in blocks)


# ---- pair-set helpers -------------------------------------------------------
def _all_pairs(n: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n) for j in range(n)]


def top_pairs(n_blocks: int, count: int) -> list[tuple[int, int]]:
    """The ``count`` most significant block products (largest ``i + j``).

    Ties within one significance are broken towards the diagonal (``|i - j|``
    smallest), then towards the larger activation block index.
    """
    if not 1 <= count <= n_blocks * n_blocks:
        raise AxsimError(f"top: {count}: must be in 1..{n_blocks * n_blocks}")
    order = sorted(_all_pairs(n_blocks), key=lambda p: (-(p[0] + p[1]), abs(p[0] - p[1]), -p[0]))
    return order[:count]


def msb_pairs(n_blocks: int, m_a: int, m_w: int) -> list[tuple[int, int]]:
    """All products of the ``m_a`` most significant activation blocks with the
    ``m_w`` most significant weight blocks (operand truncation)."""
    for label, m in (("m_a", m_a), ("m_w", m_w)):
        if not 1 <= m <= n_blocks:
            raise AxsimError(f"msb_blocks: {label}={m}: must be in 1..{n_blocks}")
    return [(i, j) for i in range(n_blocks - m_a, n_blocks) for j in range(n_blocks - m_w, n_blocks)]


# ---- presets ----------------------------------------------------------------
def exact(bits: int = 8, block_bits: int = 4, signed: bool = False) -> BlockConfig:
    return BlockConfig(bits, block_bits, signed)


def static_top(count: int, bits: int = 8, block_bits: int = 2, signed: bool = False) -> BlockConfig:
    return BlockConfig(bits, block_bits, signed, "static", top_pairs(bits // block_bits, count))


def static_msb(m_a: int, m_w: int, bits: int = 8, block_bits: int = 2,
               signed: bool = False) -> BlockConfig:
    return BlockConfig(bits, block_bits, signed, "static", msb_pairs(bits // block_bits, m_a, m_w))


def dynamic(keep_a: int, keep_w: int, bits: int = 8, block_bits: int = 2,
            signed: bool = False) -> BlockConfig:
    return BlockConfig(bits, block_bits, signed, "dynamic", keep_a=keep_a, keep_w=keep_w)


def mixed(*, keep_a: int | None = None, msb_a: int | None = None, keep_w: int | None = None,
          msb_w: int | None = None, bits: int = 8, block_bits: int = 2, signed: bool = False) -> BlockConfig:
    """Selection per operand: each gets either ``keep_*`` (dynamic: a window of that
    many blocks) or ``msb_*`` (static: its that many most significant blocks).

    One of each gives a ``'mixed'`` configuration; the same kind for both gives
    the plain ``dynamic(keep_a, keep_w)`` or ``static_msb(msb_a, msb_w)``.
    """
    if not sizes_ok(bits, block_bits):
        return BlockConfig(bits, block_bits, signed)  # raises with what is allowed
    n = bits // block_bits
    sel = {}
    for x, keep, msb in (("a", keep_a, msb_a), ("w", keep_w, msb_w)):
        if (keep is None) == (msb is None):
            raise AxsimError(f"mixed: give exactly one of keep_{x} (dynamic) or msb_{x} (static) "
                             f"for the {OPERANDS[x]} (got keep_{x}={keep}, msb_{x}={msb})")
        if msb is not None and not (is_int(msb) and 1 <= msb <= n):
            raise AxsimError(f"mixed: msb_{x}={msb}: must be an integer in 1..{n}")
        sel[x] = ("dynamic", None) if keep is not None else ("static", range(n - msb, n))
    if sel["a"][0] == sel["w"][0] == "dynamic":
        return dynamic(keep_a, keep_w, bits, block_bits, signed)
    if sel["a"][0] == sel["w"][0] == "static":
        return static_msb(msb_a, msb_w, bits, block_bits, signed)
    return BlockConfig(bits, block_bits, signed, "mixed", None, keep_a, keep_w,
                       policy_a=sel["a"][0], policy_w=sel["w"][0],
                       static_blocks_a=sel["a"][1], static_blocks_w=sel["w"][1])


def presets(include_mixed: bool = True) -> dict[str, BlockConfig]:
    """Named configurations (8-bit magnitudes); ``include_mixed`` adds the ones
    with per-operand policies (activations and weights selected differently)."""
    cfgs = {
        "exact_k4": exact(8, 4),
        "exact_k2": exact(8, 2),
        "top3_k4": static_top(3, 8, 4),
        "top10_k2": static_top(10, 8, 2),
        "top6_k2": static_top(6, 8, 2),
        "msb3x3_k2": static_msb(3, 3, 8, 2),
        "msb1x1_k4": static_msb(1, 1, 8, 4),
        "dyn2x2_k2": dynamic(2, 2, 8, 2),
        "dyn3x3_k2": dynamic(3, 3, 8, 2),
        "dyn1x1_k4": dynamic(1, 1, 8, 4),
    }
    if include_mixed:
        cfgs["dyn2xmsb3_k2"] = mixed(keep_a=2, msb_w=3, bits=8, block_bits=2)
        cfgs["msb3xdyn2_k2"] = mixed(msb_a=3, keep_w=2, bits=8, block_bits=2)
    return {name: _renamed(cfg, name) for name, cfg in cfgs.items()}


def _renamed(cfg: BlockConfig, name: str) -> BlockConfig:
    return replace(cfg, name=name)
