"""Reading a layer spec: keyword checks and value parsers shared by both framework adapters.

Every refusal is a ``SpecError`` naming the keyword, the value and what would work.
"""
from __future__ import annotations

import math
from typing import Any

from ...core.activations import ACTIVATIONS
from ...core.ops import Activation, ActOp

MAX_INT = 1 << 20  # no size or count anywhere needs more; keeps the arithmetic small


class SpecError(ValueError):
    """A layer spec or input the framework would refuse. ``field``: the keyword at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def read_keywords(spec: dict[str, Any], layer: str, defaults: dict[str, Any],
                  required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The spec's keywords over the framework's defaults; unknown or missing ones are refused."""
    given = {k: v for k, v in spec.items() if k != "type"}
    for key in given:
        if key not in defaults:
            raise SpecError(f"{layer} has no keyword '{key}'; its keywords are: {', '.join(defaults)}", key)
    for key in required:
        if given.get(key) is None:
            raise SpecError(f"{layer} requires '{key}'", key)
    return {**defaults, **given}


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def int_value(layer: str, key: str, v: Any, *, minimum: int = 0) -> int:
    if not is_int(v) or not minimum <= v <= MAX_INT:
        raise SpecError(f"{layer}: {key} must be an integer from {minimum} to {MAX_INT:,}, got {v!r}", key)
    return v


def int_tuple(layer: str, key: str, v: Any, dims: int, *, minimum: int = 1) -> tuple[int, ...]:
    """An int for every axis, or a list with one int per axis (the frameworks' tuples)."""
    if is_int(v):
        v = [v] * dims
    if not isinstance(v, (list, tuple)) or len(v) != dims or not all(is_int(e) for e in v):
        raise SpecError(f"{layer}: {key} must be an integer or a list of {dims} integers, got {v!r}", key)
    for e in v:
        if not minimum <= e <= MAX_INT:
            raise SpecError(f"{layer}: {key} must be from {minimum} to {MAX_INT:,} on every axis, got {v!r}", key)
    return tuple(v)


def bool_value(layer: str, key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise SpecError(f"{layer}: {key} must be true or false, got {v!r}", key)
    return v


def number(layer: str, key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise SpecError(f"{layer}: {key} must be a finite number, got {v!r}", key)
    return float(v)


def choice(layer: str, key: str, v: Any, options: tuple[str, ...]) -> str:
    if v not in options:
        raise SpecError(f"{layer}: {key} must be one of {', '.join(repr(o) for o in options)}; got {v!r}", key)
    return v


def activation_stage(name: str, **params: float) -> ActOp:
    defaults = ACTIVATIONS[name][1]
    return ActOp(Activation(name, tuple(sorted({**defaults, **params}.items()))))


def check_rank(layer: str, input_shape: tuple[int, ...], dims: int, layout: str) -> None:
    if len(input_shape) != dims + 2:
        raise SpecError(f"{layer} expects a {dims + 2}-D input {layout} (batch included), "
                        f"got shape {list(input_shape)}", "input")


def check_output(layer: str, stage, spatial, out_spatial, kernel_key: str = "kernel_size",
                 dilation_key: str = "dilation") -> None:
    """A window larger than the padded input leaves no output position: say so with numbers,
    blaming the dilation when the kernel alone would fit."""
    bad = [i for i, o in enumerate(out_spatial) if o < 1]
    if not bad:
        return
    i = bad[0]
    room = spatial[i] + sum(stage.padding[i])
    span = stage.dilation[i] * (stage.kernel[i] - 1) + 1
    key = dilation_key if stage.dilation[i] > 1 and stage.kernel[i] <= room else kernel_key
    raise SpecError(f"{layer}: the window does not fit: on axis {i} the padded input has {room} positions but the "
                    f"window spans {span} ({kernel_key} {stage.kernel[i]}, {dilation_key} {stage.dilation[i]}); input "
                    f"size {list(spatial)} gives output size {list(out_spatial)}. Use a smaller {kernel_key} or "
                    f"{dilation_key}, or more padding", key)
