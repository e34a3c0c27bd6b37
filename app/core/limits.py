"""The bounds every request is checked against before any work (documented in the README)."""
from __future__ import annotations

import math

from ..core.forward import engine_work, stage_shapes
from ..core.frameworks.common import SpecError
from ..core.ops import Layer

MAX_BODY_BYTES = 4_000_000      # larger bodies get 413 before they are parsed
MAX_INPUT_ELEMENTS = 250_000    # values in the input tensor
MAX_OUTPUT_ELEMENTS = 250_000   # values in the output, and in any intermediate stage
MAX_WORK = 50_000_000           # multiply-adds (or window comparisons) the engine may do


def check_input_size(shape: tuple[int, ...]) -> None:
    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise SpecError(f"input has {math.prod(shape):,} values (shape {list(shape)}); the limit is "
                        f"{MAX_INPUT_ELEMENTS:,}: use a smaller batch, fewer channels or smaller sizes", "input")


def check_layer_cost(layer: Layer) -> None:
    """Refuse a layer whose output or work exceeds the limits, naming both numbers."""
    for shape in stage_shapes(layer)[1:]:
        if math.prod(shape) > MAX_OUTPUT_ELEMENTS:
            raise SpecError(f"{layer.type} would produce {math.prod(shape):,} values (shape {list(shape)}); the limit "
                            f"is {MAX_OUTPUT_ELEMENTS:,}: use a smaller input or fewer filters", "input")
    work = engine_work(layer)
    if work > MAX_WORK:
        raise SpecError(f"{layer.type} on input {list(layer.input_shape)} needs {work:,} multiply-adds; the limit "
                        f"is {MAX_WORK:,}: use a smaller input, kernel or channel count", "input")
