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
    """Refuse an input of more than ``MAX_INPUT_ELEMENTS`` values, naming its size and shape.

    One 224×224 RGB image is 3·224·224 = 150,528 values: allowed. A batch of 8 of them is not:

    >>> check_input_size((1, 3, 224, 224))
    >>> check_input_size((8, 3, 224, 224))
    Traceback (most recent call last):
    ...
    app.core.frameworks.common.SpecError: input has 1,204,224 values (shape [8, 3, 224, 224]); the limit is 250,000:
    use a smaller batch, fewer channels or smaller sizes
    """
    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise SpecError(f"input has {math.prod(shape):,} values (shape {list(shape)}); the limit is "
                        f"{MAX_INPUT_ELEMENTS:,}: use a smaller batch, fewer channels or smaller sizes", "input")


def check_layer_cost(layer: Layer) -> None:
    """Refuse a layer whose output or work exceeds the limits, naming both numbers.

    A 3×3 conv from 64 to 64 channels on 60×60 makes 64·58·58 = 215,296 values (allowed), but each is a sum
    of 64·3·3 = 576 products: 124,010,496 multiply-adds, over the limit. The same conv on 30×30 is allowed:

    >>> from app.core.frameworks import build_layer
    >>> spec = {"type": "Conv2d", "in_channels": 64, "out_channels": 64, "kernel_size": 3}
    >>> check_layer_cost(build_layer("torch", spec, (1, 64, 30, 30)))
    >>> check_layer_cost(build_layer("torch", spec, (1, 64, 60, 60)))
    Traceback (most recent call last):
    ...
    app.core.frameworks.common.SpecError: Conv2d on input [1, 64, 60, 60] needs 124,010,496 multiply-adds; the limit
    is 50,000,000: use a smaller input, kernel or channel count
    """
    for shape in stage_shapes(layer)[1:]:
        if math.prod(shape) > MAX_OUTPUT_ELEMENTS:
            raise SpecError(f"{layer.type} would produce {math.prod(shape):,} values (shape {list(shape)}); the limit "
                            f"is {MAX_OUTPUT_ELEMENTS:,}: use a smaller input or fewer filters", "input")
    work = engine_work(layer)
    if work > MAX_WORK:
        raise SpecError(f"{layer.type} on input {list(layer.input_shape)} needs {work:,} multiply-adds; the limit "
                        f"is {MAX_WORK:,}: use a smaller input, kernel or channel count", "input")
