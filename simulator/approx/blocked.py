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

Signed operands use sign-magnitude: ``bits`` is the width of the magnitude
(values lie in ``[-(2**bits - 1), 2**bits - 1]``, so int8 data fits in
``bits=8``), the magnitude is blocked and the sign is applied after.

The arithmetic (multiply, GEMM, convolution) is in :mod:`simulator.approx.blockops`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from simulator.errors import AxsimError, InputError, Problem, join_path, show

POLICIES = ("static", "dynamic")
_DICT_KEYS = ("bits", "block_bits", "signed", "policy", "pairs", "top", "msb_blocks",
              "keep_a", "keep_w", "name")


def _index_bits(n_blocks: int, keep: int) -> int:
    """Bits of the block index stored beside a dynamically selected operand."""
    positions = n_blocks - keep + 1
    return math.ceil(math.log2(positions)) if positions > 1 else 0


@dataclass(frozen=True)
class BlockConfig:
    """One Ax-BxP configuration (validated on construction; raises AxsimError)."""

    bits: int = 8
    block_bits: int = 4
    signed: bool = False
    policy: str = "static"
    pairs: frozenset = field(default=None)  # type: ignore[assignment]
    keep_a: int | None = None
    keep_w: int | None = None
    name: str = ""

    def __post_init__(self) -> None:
        errors = _check(self.bits, self.block_bits, self.signed, self.policy,
                        self.pairs, self.keep_a, self.keep_w)
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
        if not self.name:
            object.__setattr__(self, "name", self._default_name())

    # ---- derived properties -------------------------------------------------
    @property
    def n_blocks(self) -> int:
        return self.bits // self.block_bits

    @property
    def products_per_mac(self) -> int:
        """Block products (K x K bit multiplies) computed per multiplication."""
        if self.policy == "static":
            return len(self.pairs)
        return self.keep_a * self.keep_w

    @property
    def index_bits_a(self) -> int:
        return 0 if self.policy == "static" else _index_bits(self.n_blocks, self.keep_a)

    @property
    def index_bits_w(self) -> int:
        return 0 if self.policy == "static" else _index_bits(self.n_blocks, self.keep_w)

    @property
    def blocks_a(self) -> tuple[int, ...]:
        """Activation blocks that are ever used (static) or kept per value (dynamic: count)."""
        if self.policy == "static":
            return tuple(sorted({i for i, _ in self.pairs}))
        return tuple(range(self.keep_a))

    @property
    def blocks_w(self) -> tuple[int, ...]:
        if self.policy == "static":
            return tuple(sorted({j for _, j in self.pairs}))
        return tuple(range(self.keep_w))

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
        return self.keep_a >= n and self.keep_w >= n

    def keeps_whole_blocks(self) -> bool:
        """True when the product equals an exact product of transformed operands.

        Static: the pair set is a Cartesian product ``S_a x S_w`` (the operands
        are masked to their blocks in ``S_a`` / ``S_w``). Dynamic: always (each
        operand keeps a window of whole blocks chosen from its own value).
        """
        if self.policy == "dynamic":
            return True
        sa, sw = set(self.blocks_a), set(self.blocks_w)
        return len(self.pairs) == len(sa) * len(sw)

    def operand_mask(self, which: str) -> int:
        """Static only: bit mask of the blocks of operand ``'a'`` or ``'w'`` in use."""
        if self.policy != "static":
            raise AxsimError("operand_mask is defined for static configurations only")
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
        else:
            out["keep_a"] = self.keep_a
            out["keep_w"] = self.keep_w
        return out

    @classmethod
    def from_dict(cls, data: Any, file: str = "<dict>", path: str = "") -> "BlockConfig":
        """Build from a parsed YAML mapping; all problems raise one InputError.

        Static pairs are given by exactly one of ``pairs: [[i, j], ...]``,
        ``top: L`` (the L most significant products) or ``msb_blocks: [Ma, Mw]``;
        none of them means all pairs (exact).
        """
        problems = _parse_problems(data, path)
        if problems:
            raise InputError(file, problems)
        assert isinstance(data, Mapping)
        bits, kb = data.get("bits", 8), data.get("block_bits", 4)
        n = bits // kb
        pairs = None
        if "pairs" in data:
            pairs = [tuple(p) for p in data["pairs"]]
        elif "top" in data:
            pairs = top_pairs(n, data["top"])
        elif "msb_blocks" in data:
            ma, mw = data["msb_blocks"]
            pairs = msb_pairs(n, ma, mw)
        return cls(bits=bits, block_bits=kb, signed=data.get("signed", False),
                   policy=data.get("policy", "static"), pairs=pairs,
                   keep_a=data.get("keep_a"), keep_w=data.get("keep_w"),
                   name=data.get("name", ""))

    def _default_name(self) -> str:
        head = f"{'s' if self.signed else 'u'}{self.bits}k{self.block_bits}"
        if self.is_exact:
            return f"exact_{head}"
        if self.policy == "dynamic":
            return f"dyn_{head}_a{self.keep_a}w{self.keep_w}"
        body = "_".join(f"{i}{j}" for i, j in sorted(self.pairs))
        return f"static_{head}_p{body}"


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


def presets() -> dict[str, BlockConfig]:
    """Named configurations (8-bit magnitudes)."""
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
    return {name: _renamed(cfg, name) for name, cfg in cfgs.items()}


def _renamed(cfg: BlockConfig, name: str) -> BlockConfig:
    return BlockConfig(cfg.bits, cfg.block_bits, cfg.signed, cfg.policy, cfg.pairs,
                       cfg.keep_a, cfg.keep_w, name)


# ---- validation -------------------------------------------------------------
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check(bits, kb, signed, policy, pairs, keep_a, keep_w, path: str = "") -> list[Problem]:
    p: list[Problem] = []
    at = lambda key: join_path(path, key) if path else key  # noqa: E731
    if not _is_int(bits) or not 1 <= bits <= 32:
        p.append(Problem(at("bits"), f"{show(bits)}: must be an integer in 1..32"))
    if not _is_int(kb) or kb < 1:
        p.append(Problem(at("block_bits"), f"{show(kb)}: must be a positive integer"))
    if p:
        return p
    if bits % kb:
        p.append(Problem(at("block_bits"), f"{kb}: must divide bits ({bits}); "
                         f"allowed: {[k for k in range(1, bits + 1) if bits % k == 0]}"))
        return p
    n = bits // kb
    if not isinstance(signed, bool):
        p.append(Problem(at("signed"), f"{show(signed)}: must be true or false"))
    if policy not in POLICIES:
        p.append(Problem(at("policy"), f"{show(policy)}: must be one of {', '.join(POLICIES)}"))
    elif policy == "static":
        if keep_a is not None or keep_w is not None:
            p.append(Problem(at("keep_a"), "keep_a/keep_w are only allowed with policy 'dynamic'"))
        if pairs is not None:
            p.extend(_check_pairs(pairs, n, at("pairs")))
    else:
        if pairs is not None:
            p.append(Problem(at("pairs"), "pairs are only allowed with policy 'static'"))
        for key, v in (("keep_a", keep_a), ("keep_w", keep_w)):
            if not _is_int(v) or not 1 <= v <= n:
                p.append(Problem(at(key), f"{show(v)}: must be an integer in 1..{n} (number of blocks)"))
    return p


def _check_pairs(pairs: Any, n: int, path: str) -> list[Problem]:
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Iterable):
        return [Problem(path, f"{show(pairs)}: must be a list of [i, j] block index pairs")]
    items = list(pairs)
    if not items:
        return [Problem(path, "[]: must contain at least one [i, j] pair")]
    p: list[Problem] = []
    seen = set()
    for k, item in enumerate(items):
        where = f"{path}[{k}]"
        ok = (isinstance(item, (list, tuple)) and len(item) == 2
              and all(_is_int(x) for x in item))
        if not ok:
            p.append(Problem(where, f"{show(item)}: must be a pair [i, j] of integers"))
        elif not all(0 <= x < n for x in item):
            p.append(Problem(where, f"{show(list(item))}: block indices must be in 0..{n - 1}"))
        elif tuple(item) in seen:
            p.append(Problem(where, f"{show(list(item))}: duplicate pair"))
        else:
            seen.add(tuple(item))
    return p


def _parse_problems(data: Any, path: str) -> list[Problem]:
    if not isinstance(data, Mapping):
        return [Problem(path, f"{show(data)}: must be a mapping with keys {', '.join(_DICT_KEYS)}")]
    p = [Problem(join_path(path, str(k)) if path else str(k),
                 f"unknown key; allowed: {', '.join(_DICT_KEYS)}")
         for k in data if k not in _DICT_KEYS]
    at = lambda key: join_path(path, key) if path else key  # noqa: E731
    given = [k for k in ("pairs", "top", "msb_blocks") if k in data]
    if len(given) > 1:
        p.append(Problem(at(given[1]), f"give only one of pairs, top, msb_blocks (got {', '.join(given)})"))
    name = data.get("name", "")
    if not isinstance(name, str):
        p.append(Problem(at("name"), f"{show(name)}: must be a string"))
    bits, kb = data.get("bits", 8), data.get("block_bits", 4)
    policy = data.get("policy", "static")
    base = _check(bits, kb, data.get("signed", False), policy,
                  data.get("pairs"), data.get("keep_a"), data.get("keep_w"), path)
    p.extend(base)
    if base or policy != "static" or len(given) > 1:
        if policy != "static" and any(k in data for k in ("top", "msb_blocks")):
            p.append(Problem(at("policy"), f"{show(policy)}: top/msb_blocks need policy 'static'"))
        return p
    n = bits // kb
    if "top" in data:
        top = data["top"]
        if not _is_int(top) or not 1 <= top <= n * n:
            p.append(Problem(at("top"), f"{show(top)}: must be an integer in 1..{n * n}"))
    if "msb_blocks" in data:
        mb = data["msb_blocks"]
        if not (isinstance(mb, (list, tuple)) and len(mb) == 2
                and all(_is_int(x) and 1 <= x <= n for x in mb)):
            p.append(Problem(at("msb_blocks"), f"{show(mb)}: must be [Ma, Mw] with integers in 1..{n}"))
    return p
