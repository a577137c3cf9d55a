"""BookSim2 configuration files as input to the flit-level model (``axsim noc --booksim FILE``).

The file format is BookSim2's: ``key = value;`` statements, ``//`` comments,
lists in braces (``{1, 2}``); a later statement overrides an earlier one. Only
the keys below are understood; any other key is an error that lists every
unknown key with its line, and a supported key with an unsupported value (a
torus, an adaptive allocator) is an error naming the allowed values.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.config.validation import validate_model
from simulator.errors import InputError, Problem
from simulator.noc.router import RouterConfig

TRAFFICS = ("uniform", "transpose", "bitcomp", "hotspot", "neighbor")


class NocSetup(BaseModel):
    """A synthetic-traffic experiment: mesh, router, traffic and measurement phases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # topology
    topology: Literal["mesh"] = "mesh"
    k: int = Field(8, ge=1, le=64)
    n: Literal[2] = 2
    # router (see RouterConfig)
    num_vcs: int = Field(16, ge=1, le=64)
    vc_buf_size: int = Field(8, ge=1, le=1024)
    wait_for_tail_credit: Literal[0, 1] = 1
    vc_allocator: Literal["islip"] = "islip"
    sw_allocator: Literal["islip"] = "islip"
    alloc_iters: int = Field(2, ge=1, le=16)
    credit_delay: int = Field(2, ge=1, le=10_000)
    routing_delay: int = Field(0, ge=0, le=100)
    vc_alloc_delay: int = Field(1, ge=0, le=100)
    sw_alloc_delay: int = Field(1, ge=0, le=100)
    st_final_delay: int = Field(1, ge=0, le=100)
    channel_latency: int = Field(1, ge=1, le=10_000)
    input_speedup: Literal[1] = 1
    output_speedup: Literal[1] = 1
    internal_speedup: Literal[1.0] = 1.0
    routing_function: Literal["dor", "o1turn"] = "dor"
    # traffic
    traffic: Literal["uniform", "transpose", "bitcomp", "hotspot", "neighbor"] = "uniform"
    hotspot_nodes: tuple[int, ...] = (0,)
    hotspot_fraction: float = Field(0.2, ge=0.0, le=1.0)
    packet_size: int = Field(1, ge=1, le=1_000_000)
    # multicast traffic (axsim's own keys, not BookSim2's): every packet goes to this many distinct
    # uniformly drawn nodes, replicated in the routers or sent as repeated unicast
    multicast_fanout: int = Field(1, ge=1, le=4096)
    multicast: Literal["replicate", "unicast"] = "replicate"
    injection_rate: float = Field(0.1, gt=0.0, le=1.0)
    injection_rate_uses_flits: Literal[0, 1] = 1
    injection_process: Literal["bernoulli"] = "bernoulli"
    use_read_write: Literal[0] = 0
    # measurement
    sim_type: Literal["latency", "throughput"] = "latency"
    warmup_periods: int = Field(3, ge=0, le=1000)
    sample_period: int = Field(10_000, ge=10, le=100_000_000)
    sim_count: Literal[1] = 1
    latency_thres: float = Field(500.0, gt=0)
    seed: int = Field(0, ge=0)
    print_csv_results: Literal[0, 1] = 0

    @model_validator(mode="after")
    def _consistent(self) -> "NocSetup":
        nodes = self.k * self.k
        bad = [h for h in self.hotspot_nodes if not 0 <= h < nodes]
        if bad:
            raise ValueError(f"hotspot_nodes {bad} outside 0..{nodes - 1}")
        if self.traffic == "bitcomp" and nodes & (nodes - 1):
            raise ValueError(f"traffic bitcomp needs a power-of-two node count, k*k = {nodes}")
        if self.traffic == "neighbor" and self.k < 2:
            raise ValueError("traffic neighbor needs k >= 2 (a node with neighbours)")
        if self.multicast_fanout > 1 and self.traffic != "uniform":
            raise ValueError(f"multicast_fanout {self.multicast_fanout} needs traffic uniform (got {self.traffic})")
        if self.multicast_fanout > nodes:
            raise ValueError(f"multicast_fanout {self.multicast_fanout} > k*k = {nodes} nodes")
        if self.routing_function == "o1turn" and self.num_vcs < 2:
            raise ValueError("routing_function o1turn needs num_vcs >= 2")
        return self

    def router(self) -> RouterConfig:
        return RouterConfig(
            num_vcs=self.num_vcs, vc_buf_size=self.vc_buf_size, routing_delay=self.routing_delay,
            vc_alloc_delay=self.vc_alloc_delay, sw_alloc_delay=self.sw_alloc_delay,
            st_final_delay=self.st_final_delay, link_latency_cycles=self.channel_latency,
            credit_delay=self.credit_delay, alloc_iters=self.alloc_iters,
            wait_for_tail_credit=bool(self.wait_for_tail_credit), routing=self.routing_function,
            injection_extra_cycles=1, multicast=self.multicast)  # BookSim2's injection channel timing (docs/validation.md, section 11)

    @property
    def flit_rate(self) -> float:
        """Offered load in flits/node/cycle."""
        return self.injection_rate * (1 if self.injection_rate_uses_flits else self.packet_size)


KEYS = tuple(NocSetup.model_fields)
_STATEMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", re.S)


def _value(text: str) -> Any:
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        return [_value(x) for x in text[1:-1].split(",") if x.strip()]
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text.strip("'\"")


def parse_booksim(path: str | Path) -> dict[str, Any]:
    """Statements of a BookSim2 configuration file as a dict (later statements win)."""
    path = Path(path)
    try:
        raw = path.read_text()
    except OSError as exc:
        raise InputError(path, [Problem("", f"cannot read the file ({exc.strerror})")]) from None
    values: dict[str, Any] = {}
    unknown: list[Problem] = []
    problems: list[Problem] = []
    lines = [re.sub(r"//.*", "", line) for line in raw.splitlines()]
    text = "\n".join(lines)
    pos = 0
    for chunk in text.split(";"):
        line_no = text.count("\n", 0, pos + len(chunk) - len(chunk.lstrip())) + 1
        pos += len(chunk) + 1
        if not chunk.strip():
            continue
        m = _STATEMENT.match(chunk)
        if m is None:
            problems.append(Problem(f"line {line_no}", f"{chunk.strip()!r}: expected 'key = value;'"))
            continue
        key, value = m.group(1), m.group(2)
        if key not in KEYS:
            unknown.append(Problem(f"line {line_no}", f"unknown or unsupported key {key!r} (= {value})"))
            continue
        values[key] = _value(value)
    if unknown:
        problems += unknown
        problems.append(Problem("", "supported keys: " + ", ".join(KEYS)))
    if problems:
        raise InputError(path, problems)
    return values


def load_setup(path: str | Path | None = None, **overrides: Any) -> NocSetup:
    """A :class:`NocSetup` from a BookSim2 file (optional) with command-line values on top."""
    data: dict[str, Any] = parse_booksim(path) if path is not None else {}
    data.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(data.get("hotspot_nodes"), int):
        data["hotspot_nodes"] = [data["hotspot_nodes"]]
    return validate_model(NocSetup, data, path or "command line")
