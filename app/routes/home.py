"""`/`: what Convscope is, and one live example computed by the engine (a 1D conv with a kernel of ones)."""
from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ..core.conv import window_taps
from ..core.forward import run_layer
from ..core.frameworks import SpecError, build_layer
from ..core.shapes import axis_formulas
from ..routes.learn import LESSONS
from ..routes.params import parse_query
from ..templating import cached_view, view_response

router = APIRouter(include_in_schema=False)
EXAMPLE_INPUT = (2, 3, 2, 3, 3, 3, 1, 5, 4, 2)  # one channel of docs/QUESTIONS.md Q6's small example


class ExampleParams(BaseModel):
    kernel_size: int = Field(3, ge=1, le=9)
    stride: int = Field(1, ge=1, le=4)
    padding: int = Field(0, ge=0, le=4)
    dilation: int = Field(1, ge=1, le=3)


def example_context(p: ExampleParams) -> dict:
    """Every number the example shows, computed by the engine through the PyTorch front end."""
    n = len(EXAMPLE_INPUT)
    spec = {"type": "Conv1d", "in_channels": 1, "out_channels": 1, "kernel_size": p.kernel_size,
            "stride": p.stride, "padding": p.padding, "dilation": p.dilation, "bias": False}
    ctx = {"p": p, "spec": spec, "n": n}
    try:
        layer = build_layer("torch", spec, (1, 1, n))
    except SpecError as e:
        return {**ctx, "error": str(e)}
    op = layer.stages[0]
    y = run_layer(layer, np.array(EXAMPLE_INPUT, dtype=np.float32).reshape(1, 1, n),
                  [np.ones((1, 1, p.kernel_size), dtype=np.float32)])[0, 0]
    formula = axis_formulas(op, (n,))[0]
    cells = [{"i": i, "value": EXAMPLE_INPUT[i] if 0 <= i < n else 0, "pad": not 0 <= i < n,
              "unreached": i in formula.unreached} for i in range(-p.padding, n + p.padding)]
    outputs = []
    for j, value in enumerate(y.tolist()):
        taps = [t[0] for t in window_taps(op, (j,))]
        outputs.append({"j": j, "value": int(value),
                        "labels": [f"x[{t}]" if 0 <= t < n else "pad" for t in taps],
                        "terms": [EXAMPLE_INPUT[t] if 0 <= t < n else 0 for t in taps]})
    return {**ctx, "formula": formula, "cells": cells, "outputs": outputs, "output_shape": [1, 1, len(outputs)]}


@router.get("/")
@cached_view
def home(request: Request):
    params, errors = parse_query(ExampleParams, request.query_params)
    return view_response(request, "home.html", {**example_context(params), "query_errors": errors,
                                                "lessons": LESSONS}, path="/",
                         query=None, refused=bool(errors))
