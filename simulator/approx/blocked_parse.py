"""Validation of Ax-BxP block configurations and parsing of their YAML form.

Used by :class:`simulator.approx.blocked.BlockConfig` (constructor checks and
``from_dict``). Every problem is a :class:`~simulator.errors.Problem` with the
key path of the offending field, so that a file reports all of them at once.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from simulator.errors import Problem, join_path, show

POLICIES = ("static", "dynamic", "mixed")
OPERAND_POLICIES = ("static", "dynamic")
OPERANDS = {"a": "activations", "w": "weights"}
DICT_KEYS = ("bits", "block_bits", "signed", "policy", "pairs", "top", "msb_blocks",
             "keep_a", "keep_w", "static_blocks_a", "static_blocks_w",
             "msb_blocks_a", "msb_blocks_w", "name")
POLICY_FORMS = ("static, dynamic, or a mapping "
                "{activations: static|dynamic, weights: static|dynamic}")


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _at(path: str):
    return lambda key: join_path(path, key)


def check_format(bits: Any, kb: Any, signed: Any, path: str = "") -> list[Problem]:
    """Problems of ``bits``, ``block_bits`` and ``signed``."""
    p: list[Problem] = []
    at = _at(path)
    if not is_int(bits) or not 1 <= bits <= 32:
        p.append(Problem(at("bits"), f"{show(bits)}: must be an integer in 1..32"))
    if not is_int(kb) or kb < 1:
        p.append(Problem(at("block_bits"), f"{show(kb)}: must be a positive integer"))
    if p:
        return p
    if bits % kb:
        return [Problem(at("block_bits"), f"{kb}: must divide bits ({bits}); "
                        f"allowed: {[k for k in range(1, bits + 1) if bits % k == 0]}")]
    if not isinstance(signed, bool):
        p.append(Problem(at("signed"), f"{show(signed)}: must be true or false"))
    return p


def sizes_ok(bits: Any, kb: Any) -> bool:
    """True when ``bits`` and ``block_bits`` are valid (the block count is defined)."""
    return is_int(bits) and 1 <= bits <= 32 and is_int(kb) and kb >= 1 and bits % kb == 0


def check_config(bits, kb, signed, policy, pairs, keep_a, keep_w, policy_a, policy_w,
                 static_a, static_w, path: str = "") -> list[Problem]:
    """All problems of a configuration given as constructor fields."""
    p = check_format(bits, kb, signed, path)
    if not sizes_ok(bits, kb):
        return p
    at = _at(path)
    if policy not in POLICIES:
        p.append(Problem(at("policy"), f"{show(policy)}: must be one of {', '.join(POLICIES)}"))
        return p
    bad_operand_policy = False
    for x, pol in (("a", policy_a), ("w", policy_w)):
        if policy != "mixed" and pol not in (None, policy):
            p.append(Problem(at(f"policy_{x}"), f"{show(pol)}: must be None or {policy!r} (the policy); "
                                                "different operand policies need policy 'mixed'"))
            bad_operand_policy = True
        elif policy == "mixed" and pol not in OPERAND_POLICIES:
            p.append(Problem(at(f"policy_{x}"), f"{show(pol)}: must be static or dynamic "
                                                f"(the policy of the {OPERANDS[x]} under policy 'mixed')"))
            bad_operand_policy = True
    if bad_operand_policy:
        return p
    if policy == "mixed" and policy_a == policy_w:
        p.append(Problem(at("policy"), f"'mixed': needs different operand policies (both are {policy_a!r}); "
                                       f"use policy {policy_a!r}"))
        return p
    pa, pw = (policy_a, policy_w) if policy == "mixed" else (policy, policy)
    p.extend(check_selection(bits // kb, policy, pa, pw, pairs, keep_a, keep_w, static_a, static_w, path))
    return p


def check_selection(n: int, policy: str, pa: str, pw: str, pairs, keep_a, keep_w, static_a, static_w,
                    path: str = "") -> list[Problem]:
    """Problems of the block selection of a configuration with ``n`` blocks per operand."""
    p: list[Problem] = []
    at = _at(path)
    if policy == "static":
        if keep_a is not None or keep_w is not None:
            p.append(Problem(at("keep_a"), "keep_a/keep_w are only allowed with policy 'dynamic'"))
        if pairs is not None:
            p.extend(check_pairs(pairs, n, at("pairs")))
    elif pairs is not None:
        p.append(Problem(at("pairs"), "pairs are only allowed with policy 'static'"))
    for x, pol, keep, blocks in (("a", pa, keep_a, static_a), ("w", pw, keep_w, static_w)):
        what = OPERANDS[x]
        if blocks is not None and policy != "mixed":
            p.append(Problem(at(f"static_blocks_{x}"), "only for the static operand of a per-operand "
                             "policy; a static policy selects pairs (pairs, top or msb_blocks)"))
        elif blocks is not None and pol == "dynamic":
            p.append(Problem(at(f"static_blocks_{x}"), f"only for a static operand; the {what} "
                             f"are dynamic here (give keep_{x})"))
        elif blocks is not None:
            p.extend(check_blocks(blocks, n, at(f"static_blocks_{x}")))
        if policy == "static":
            continue
        if pol == "dynamic":
            if not is_int(keep) or not 1 <= keep <= n:
                p.append(Problem(at(f"keep_{x}"), f"{show(keep)}: must be an integer in 1..{n} (number of blocks)"))
        elif keep is not None:
            p.append(Problem(at(f"keep_{x}"), f"{show(keep)}: only for a dynamic operand; the {what} are "
                             f"static here (give static_blocks_{x} or msb_blocks_{x})"))
    return p


def check_pairs(pairs: Any, n: int, path: str) -> list[Problem]:
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
              and all(is_int(x) for x in item))
        if not ok:
            p.append(Problem(where, f"{show(item)}: must be a pair [i, j] of integers"))
        elif not all(0 <= x < n for x in item):
            p.append(Problem(where, f"{show(list(item))}: block indices must be in 0..{n - 1}"))
        elif tuple(item) in seen:
            p.append(Problem(where, f"{show(list(item))}: duplicate pair"))
        else:
            seen.add(tuple(item))
    return p


def check_blocks(blocks: Any, n: int, path: str) -> list[Problem]:
    """Problems of a block index set (a non-empty list of distinct indices in 0..n-1)."""
    if isinstance(blocks, (str, bytes, Mapping)) or not isinstance(blocks, Iterable):
        return [Problem(path, f"{show(blocks)}: must be a list of block indices in 0..{n - 1}")]
    items = list(blocks)
    if not items:
        return [Problem(path, "[]: must contain at least one block index")]
    p: list[Problem] = []
    seen = set()
    for k, b in enumerate(items):
        if not is_int(b) or not 0 <= b < n:
            p.append(Problem(f"{path}[{k}]", f"{show(b)}: must be a block index in 0..{n - 1}"))
        elif b in seen:
            p.append(Problem(f"{path}[{k}]", f"{b}: duplicate block"))
        else:
            seen.add(b)
    return p


def read_policy(value: Any, path: str) -> tuple[tuple[str, str, str] | None, list[Problem]]:
    """``(policy, policy_a, policy_w)`` of a YAML ``policy`` value, or None and its problems.

    ``static`` / ``dynamic`` apply to both operands; a mapping
    ``{activations: P_a, weights: P_w}`` gives each operand its own policy
    (``mixed`` when they differ, the shared policy when they are equal).
    """
    if isinstance(value, str) and value in OPERAND_POLICIES:
        return (value, value, value), []
    if isinstance(value, str) and value == "mixed":
        return None, [Problem(path, "'mixed': give the policy of each operand as a mapping "
                                    "{activations: static|dynamic, weights: static|dynamic}")]
    if not isinstance(value, Mapping):
        return None, [Problem(path, f"{show(value)}: must be one of {POLICY_FORMS}")]
    at = _at(path)
    p = [Problem(at(str(k)), f"unknown key; allowed: {', '.join(OPERANDS.values())}")
         for k in value if k not in OPERANDS.values()]
    for what in OPERANDS.values():
        if what not in value:
            p.append(Problem(path, f"missing {what!r}: the mapping gives the policy of both operands "
                                   "{activations: static|dynamic, weights: static|dynamic}"))
        elif value[what] not in OPERAND_POLICIES:
            p.append(Problem(at(what), f"{show(value[what])}: must be static or dynamic"))
    if p:
        return None, p
    pa, pw = value["activations"], value["weights"]
    return ("mixed" if pa != pw else pa, pa, pw), []


def parse_problems(data: Any, path: str) -> list[Problem]:
    """All problems of a YAML mapping for ``BlockConfig.from_dict``."""
    if not isinstance(data, Mapping):
        return [Problem(path, f"{show(data)}: must be a mapping with keys {', '.join(DICT_KEYS)}")]
    at = _at(path)
    p = [Problem(at(str(k)), f"unknown key; allowed: {', '.join(DICT_KEYS)}")
         for k in data if k not in DICT_KEYS]
    given = [k for k in ("pairs", "top", "msb_blocks") if k in data]
    if len(given) > 1:
        p.append(Problem(at(given[1]), f"give only one of pairs, top, msb_blocks (got {', '.join(given)})"))
    name = data.get("name", "")
    if not isinstance(name, str):
        p.append(Problem(at("name"), f"{show(name)}: must be a string"))
    bits, kb = data.get("bits", 8), data.get("block_bits", 4)
    p.extend(check_format(bits, kb, data.get("signed", False), path))
    raw_policy = data.get("policy", "static")
    pol, policy_problems = read_policy(raw_policy, at("policy"))
    p.extend(policy_problems)
    if pol is None or not sizes_ok(bits, kb):
        return p
    policy, pa, pw = pol
    n = bits // kb
    if policy == "dynamic" and any(k in data for k in ("top", "msb_blocks")):
        p.append(Problem(at("policy"), f"{show(raw_policy)}: top/msb_blocks need policy 'static'"))
    elif policy == "mixed":
        for key in (k for k in ("top", "msb_blocks") if k in data):
            p.append(Problem(at(key), f"{key} is only for policy 'static'; with per-operand policies give "
                                      "the static operand's blocks as static_blocks_a/_w: [...] or "
                                      "msb_blocks_a/_w: M"))
    for x, pol_x in (("a", pa), ("w", pw)):
        p.extend(_msb_blocks_problems(data, x, policy, pol_x, n, at))
    static_a, static_w = data.get("static_blocks_a"), data.get("static_blocks_w")
    sel = check_selection(n, policy, pa, pw, data.get("pairs"), data.get("keep_a"), data.get("keep_w"),
                          static_a, static_w, path)
    p.extend(sel)
    if sel or policy != "static" or len(given) > 1:
        return p
    if "top" in data:
        top = data["top"]
        if not is_int(top) or not 1 <= top <= n * n:
            p.append(Problem(at("top"), f"{show(top)}: must be an integer in 1..{n * n}"))
    if "msb_blocks" in data:
        mb = data["msb_blocks"]
        if not (isinstance(mb, (list, tuple)) and len(mb) == 2
                and all(is_int(x) and 1 <= x <= n for x in mb)):
            p.append(Problem(at("msb_blocks"), f"{show(mb)}: must be [Ma, Mw] with integers in 1..{n}"))
    return p


def _msb_blocks_problems(data: Mapping, x: str, policy: str, pol_x: str, n: int, at) -> list[Problem]:
    key = f"msb_blocks_{x}"
    if key not in data:
        return []
    value = data[key]
    if policy != "mixed":
        return [Problem(at(key), "only for the static operand of a per-operand policy; a static policy "
                                 "takes msb_blocks: [Ma, Mw]")]
    if pol_x == "dynamic":
        return [Problem(at(key), f"only for a static operand; the {OPERANDS[x]} are dynamic here (give keep_{x})")]
    if f"static_blocks_{x}" in data:
        return [Problem(at(key), f"give only one of static_blocks_{x}, msb_blocks_{x}")]
    if not is_int(value) or not 1 <= value <= n:
        return [Problem(at(key), f"{show(value)}: must be an integer in 1..{n} "
                                 f"(the {OPERANDS[x]}' most significant blocks kept)")]
    return []
