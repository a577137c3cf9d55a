"""Translate pydantic validation errors into this project's error messages.

Each pydantic error becomes a :class:`~simulator.errors.Problem` whose path is
the key path in the input file and whose message names the bad value and what
is allowed. Unknown keys list the valid keys at that level.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from simulator.errors import InputError, Problem, join_path, show

M = TypeVar("M", bound=BaseModel)

_TYPE_WORDS = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be a mapping of keys",
    "model_type": "must be a mapping of keys",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "literal_error": None,  # pydantic's message lists the allowed values
}


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that the location's last key belongs to."""
    current: Any = model
    for key in loc[:-1]:
        if isinstance(key, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(key)
        if field is None:
            return None
        current = _unwrap(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    """Find a BaseModel inside Optional[...] / list[...] / tuple[...] annotations."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _unwrap(arg)
        if found is not None:
            return found
    return None


def _message(model: type[BaseModel], error: dict[str, Any]) -> str:
    kind = error["type"]
    value = error.get("input")
    loc = error["loc"]
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        owner = _model_at(model, loc)
        allowed = (", ".join(sorted(k for k, f in owner.model_fields.items() if not f.exclude))
                   if owner else "see the reference")
        return f"unknown key (value {show(value)}); allowed keys: {allowed}"
    ctx = error.get("ctx") or {}
    bounds = {"greater_than": "> {gt}", "greater_than_equal": ">= {ge}",
              "less_than": "< {lt}", "less_than_equal": "<= {le}"}
    if kind in bounds:
        return f"{show(value)}: must be {bounds[kind].format(**ctx)}"
    word = _TYPE_WORDS.get(kind)
    if word:
        return f"{show(value)}: {word}"
    msg = error.get("msg", kind)
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return f"{show(value)}: {msg[0].lower() + msg[1:] if msg else kind}"


def problems_from(model: type[BaseModel], exc: ValidationError, prefix: str = "") -> list[Problem]:
    """Convert a pydantic ValidationError on ``model`` into Problems."""
    out = []
    for error in exc.errors():
        loc = tuple(k for k in error["loc"] if not (isinstance(k, str) and k.startswith("function-")))
        path = join_path(prefix, *loc) if prefix else join_path(*loc)
        out.append(Problem(path, _message(model, error)))
    return out


def validate_model(model: type[M], data: Any, file: str | Path, prefix: str = "") -> M:
    """Validate ``data`` as ``model``; raise InputError listing every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(file, problems_from(model, exc, prefix)) from None
