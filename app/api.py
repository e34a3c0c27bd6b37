"""The public JSON API (contract: docs/API.md). Routes validate, call the core, and serialize."""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
import orjson
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from .core.backward import check_backward_cost, layer_backward
from .core.code import MAX_CHARS, CodeError, parse_model
from .core.cost import layer_cost
from .core.forward import output_shape, random_input, random_weights, run_layer
from .core.frameworks import SpecError, build_layer
from .core.frameworks.common import MAX_INT
from .core.limits import MAX_BODY_BYTES, check_input_size, check_layer_cost
from .core.trace import show_shape, trace

router = APIRouter(prefix="/api", tags=["api"])


class LayerSpec(BaseModel):
    """A layer in the framework's own words: ``type`` is the class name, other keys its keywords."""

    model_config = ConfigDict(extra="allow", json_schema_extra={
        "examples": [{"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2},
                     {"type": "Conv1D", "filters": 100, "kernel_size": 4, "padding": "same", "activation": "relu"}]})
    type: str = Field(description="The framework's class name, e.g. Conv2d, MaxPool1d, Conv1D, SeparableConv2D.")


class ForwardRequest(BaseModel):
    framework: Literal["torch", "keras"]
    layer: LayerSpec
    input: list[Any] = Field(description="The input tensor as nested lists, batch axis included, in the "
                                         "framework's layout (PyTorch N,C,*spatial; Keras N,*spatial,C).")
    weights: list[Any] | None = Field(None, description="The layer's parameters in the framework's order and "
                                                        "layout (PyTorch [weight, bias]; Keras get_weights()). "
                                                        "Omit to draw them from seed.")
    seed: int = Field(0, ge=0, le=2**32 - 1, strict=True, description=(
        "Seed for the weights when they are omitted (an integer: true/false and strings are refused)."))


class ForwardResponse(BaseModel):
    output: list[Any] = Field(description="The output in the framework's layout (float32 values).")
    output_shape: list[int]
    weights: list[Any] = Field(description="The weights used, in the framework's order and layout.")


class RefusalItem(BaseModel):
    loc: list[str | int] = Field(description='Where in the request, e.g. ["body", "layer", "kernel_size"].')
    msg: str = Field(description="What is wrong: the field, the value, and what would work.")
    type: str


class Refusal(BaseModel):
    """The body of every 413 and 422 answer (FastAPI's validation-error shape)."""

    detail: list[RefusalItem]


REFUSALS = {413: {"model": Refusal, "description": f"Body over the size limit ({MAX_BODY_BYTES:,} bytes)"},
            422: {"model": Refusal, "description": "A field the framework or our limits refuse; `detail` names it"}}


class APIError(Exception):
    """A 422 answer: where in the body, and the message."""

    def __init__(self, loc: list[str | int], message: str):
        self.loc, self.message = loc, message


def nested_shape(value: Any, max_rank: int = 8) -> tuple[int, ...]:
    """Shape of nested lists, read along the first elements (np.asarray checks the rest)."""
    shape = []
    while isinstance(value, list):
        if len(shape) == max_rank:
            raise ValueError(f"more than {max_rank} levels of nesting")
        shape.append(len(value))
        value = value[0] if value else None
    return tuple(shape)


def to_array(value: Any, loc: list[str | int], label: str, expected: tuple[int, ...] | None = None) -> np.ndarray:
    """Nested lists of numbers -> float32 array, with a message naming the field and what is wrong."""
    try:
        raw = np.asarray(value) if isinstance(value, list) else None  # ints and floats only: no "1", no true
        with np.errstate(over="ignore"):  # too-large numbers become inf and are refused below
            arr = raw.astype(np.float32) if raw is not None and raw.dtype.kind in "iuf" else None
    except (ValueError, TypeError, OverflowError):
        arr = None
    if arr is None:
        raise APIError(loc, f"{label} must be a rectangular array of numbers (nested lists of ints or floats, every "
                            "row the same length; not strings or true/false)")
    if not np.isfinite(arr).all():
        raise APIError(loc, f"{label} must hold finite numbers within float32 range (|x| ≤ 3.4e38)")
    if expected is not None and arr.shape != expected:
        raise APIError(loc, f"{label} must have shape {list(expected)}, got {list(arr.shape)}")
    return arr


def _dumps(obj: dict) -> Response:
    return Response(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


def _layer_input_weights(req: ForwardRequest):
    """The layer built for the input, the input, and the weights (given or drawn from seed): every
    check of /api/forward, cheapest first, the layer's cost before any work."""
    spec = req.layer.model_dump()
    try:
        shape = nested_shape(req.input)
    except ValueError as e:
        raise APIError(["input"], f"input has {e}") from None
    try:
        check_input_size(shape)
        x = to_array(req.input, ["input"], "input", shape)
        layer = build_layer(req.framework, spec, shape)
        check_layer_cost(layer)
    except SpecError as e:
        loc = ["input"] if e.field == "input" else ["layer", e.field or "type"]
        raise APIError(loc, str(e)) from None
    if req.weights is None:
        weights = random_weights(layer, req.seed)
    else:
        names = [f"{p.name} {list(p.shape)}" for p in layer.params]
        if len(req.weights) != len(layer.params):
            raise APIError(["weights"], f"{layer.type} takes {len(layer.params)} weight tensors "
                                        f"({', '.join(names) or 'none'}), got {len(req.weights)}")
        weights = [to_array(w, ["weights", i], f"weights[{i}] ({layer.type} {p.name})", p.shape)
                   for i, (w, p) in enumerate(zip(req.weights, layer.params))]
    return layer, x, weights


@router.post("/forward", response_model=ForwardResponse, response_class=Response,
             responses={200: {"model": ForwardResponse}, **REFUSALS})
def forward(req: ForwardRequest) -> Response:
    """Run one layer on real numbers, exactly as the framework computes it (float32)."""
    layer, x, weights = _layer_input_weights(req)
    y = run_layer(layer, x, weights)
    return _dumps({"output": y, "output_shape": list(output_shape(layer)), "weights": weights})


class BackwardRequest(ForwardRequest):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"framework": "torch", "layer": {"type": "Conv1d", "in_channels": 1, "out_channels": 1, "kernel_size": 2},
         "input": [[[1, 2, 3]]], "weights": [[[[10, 1]]], [0]], "grad_output": [[[1, 0]]]}]})
    grad_output: list[Any] | Literal["ones", "random"] = Field("ones", description=(
        "The upstream gradient dL/d(output), in the framework's layout and the output's shape (see output_shape "
        "from /api/forward). \"ones\" (the default): every entry 1, the gradient of the output's sum. "
        "\"random\": small integers in −3..3 drawn from seed."))


class BackwardResponse(BaseModel):
    output: list[Any] = Field(description="The forward output in the framework's layout (float32 values).")
    output_shape: list[int]
    weights: list[Any] = Field(description="The weights used, in the framework's order and layout.")
    grad_output: list[Any] = Field(description="The upstream gradient used (as given, or ones, or drawn).")
    grad_input: list[Any] = Field(description="dL/d(input), in the input's layout and shape.")
    grad_weights: list[Any] = Field(description=(
        "dL/d(each weight tensor), in the framework's order and layout, as autograd fills them: PyTorch "
        "[weight.grad, bias.grad]; Keras the gradient of each of layer.weights (get_weights() order). "
        "Empty for a layer without weights."))


@router.post("/backward", response_model=BackwardResponse, response_class=Response,
             responses={200: {"model": BackwardResponse}, **REFUSALS})
def backward(req: BackwardRequest) -> Response:
    """One layer's backward pass on real numbers: the gradients of its input and of its weights for
    an upstream gradient, exactly as PyTorch autograd (or Keras on its torch backend) computes them."""
    layer, x, weights = _layer_input_weights(req)
    try:
        check_backward_cost(layer)
    except SpecError as e:
        raise APIError(["input"], str(e)) from None
    out_shape = output_shape(layer)
    if req.grad_output == "ones":
        g = np.ones(out_shape, dtype=np.float32)
    elif req.grad_output == "random":
        g = random_input(out_shape, req.seed)
    else:
        g = to_array(req.grad_output, ["grad_output"], "grad_output (the output's shape)", out_shape)
    y, gx, gw = layer_backward(layer, x, weights, g)
    return _dumps({"output": y, "output_shape": list(out_shape), "weights": weights, "grad_output": g,
                   "grad_input": gx, "grad_weights": gw})


class CostRequest(BaseModel):
    framework: Literal["torch", "keras"]
    layer: LayerSpec
    input_shape: list[int | None] = Field(min_length=1, max_length=8, description=(
        "The input's shape in the framework's layout, batch first; null for Keras' unknown batch (counted as 1)."))
    dtype_bytes: Literal[1, 2, 4, 8] = Field(4, description="Bytes per value (4 for float32).")


class CostBytes(BaseModel):
    input: int
    weights: int
    output: int
    intermediate: int = Field(description="A separable conv's depthwise output, written and read back.")
    total: int


class CostResponse(BaseModel):
    output_shape: list[int | None]
    params: int
    macs: int = Field(description="Multiply-accumulates of the forward pass for the whole batch "
                                  "(bias adds not counted).")
    bytes: CostBytes
    arithmetic_intensity: float = Field(description="2·macs / bytes.total, in FLOPs per byte.")


@router.post("/cost", response_model=CostResponse,
             responses=REFUSALS)
def cost(req: CostRequest) -> CostResponse:
    """What one layer costs: parameters, multiply-accumulates, bytes moved and arithmetic intensity.

    Computed from shapes alone, so sizes may be as large as real models (each axis up to 2^20)."""
    unknown_batch = req.input_shape[0] is None
    shape = [1 if unknown_batch else req.input_shape[0], *req.input_shape[1:]]
    for i, n in enumerate(shape):
        if n is None or not 0 < n <= MAX_INT:
            raise APIError(["input_shape", i], f"input_shape[{i}] must be an integer from 1 to {MAX_INT:,}"
                                               f"{' (only the batch may be null)' if n is None else ''}, got {n}")
    try:
        layer = build_layer(req.framework, req.layer.model_dump(), tuple(shape))
    except SpecError as e:
        raise APIError(["input_shape"] if e.field == "input" else ["layer", e.field or "type"], str(e)) from None
    c = layer_cost(layer, req.dtype_bytes)
    out = list(output_shape(layer))
    return CostResponse(output_shape=[None, *out[1:]] if unknown_batch else out, params=c.params, macs=c.macs,
                        bytes=CostBytes(input=c.input_bytes, weights=c.weight_bytes, output=c.output_bytes,
                                        intermediate=c.intermediate_bytes, total=c.total_bytes),
                        arithmetic_intensity=c.intensity)


class TraceRequest(BaseModel):
    framework: Literal["torch", "keras"] | None = Field(None, description="Detected from the code when left out.")
    input_shape: list[int | None] | None = Field(None, min_length=1, max_length=8, description=(
        "Batch first, in the framework's layout; null batch for Keras. Optional when the code has "
        "Input/InputLayer/input_shape=."))
    layers: list[LayerSpec] | None = Field(None, max_length=500, description="The layers in forward order.")
    code: str | None = Field(None, max_length=MAX_CHARS, description="Pasted model code (parsed, never executed).")
    variables: dict[str, JsonValue] = Field(
        default_factory=dict, max_length=50, description=(
            "Values for names the code uses without defining them: any JSON value (numbers, strings, booleans, "
            "null, lists such as class_names, objects); dotted names such as args.dropout too."))
    model: str | None = Field(None, max_length=100, description=(
        "The class, variable or function to trace when the code holds several models."))


class TraceRow(BaseModel):
    type: str
    name: str | None = Field(None, description="The module's attribute path (PyTorch), when the code names it.")
    output_shape: list[int | None]
    params: int
    macs: int
    receptive_field: list[float] | None = Field(None, description="Per spatial axis, in input positions.")
    jump: list[float] | None
    note: str = ""
    inputs: list[int] = Field(default_factory=list, description=(
        "Where this layer's inputs come from: earlier rows' indices, or -1 (-2, …) for the model's input(s)."))
    input_shapes: list[list[int | None]] = Field(default_factory=list, description="Every input's shape.")


class TraceError(BaseModel):
    index: int
    message: str


class TraceResponse(BaseModel):
    ok: bool
    framework: str
    input_shape: list[int | None] | None
    layers: list[TraceRow]
    total_params: int
    error: TraceError | None = None
    unresolved: list[str] = Field(default_factory=list, description="Names to supply in `variables`.")
    notes: list[str] = Field(default_factory=list)
    model: str | None = Field(None, description="The class or variable traced (code form).")
    candidates: list[str] = Field(default_factory=list, description="Classes in the code that could be the model.")


def _check_shape(shape: list[int | None], loc: list) -> tuple:
    for i, n in enumerate(shape):
        if (n is None and i > 0) or (n is not None and not 0 < n <= MAX_INT):
            raise APIError([*loc, i], f"input_shape[{i}] must be an integer from 1 to {MAX_INT:,}"
                                      f"{' (only the batch may be null)' if n is None else ''}, got {n}")
    return tuple(shape)


@router.post("/trace", response_model=TraceResponse, response_model_exclude_none=False,
             responses=REFUSALS)
def trace_model(req: TraceRequest) -> TraceResponse:
    """Every layer's shape, parameters, MACs and receptive field, from layer specs or pasted code.

    A model whose shapes do not fit is an answer (ok: false, the rows up to the failing layer, and
    the error), not a bad request."""
    if (req.layers is None) == (req.code is None):
        raise APIError(["layers"], "give either layers (a list of layer specs) or code (pasted model code)")
    names: list[str | None] = []
    unresolved: list[str] = []
    notes: list[str] = []
    shape = req.input_shape
    framework = req.framework
    inputs, sources, label, candidates = None, None, None, []
    if req.code is not None:
        asked = _check_shape(shape, ["input_shape"]) if shape is not None else None
        try:
            parsed = parse_model(req.code, framework, req.variables, asked, req.model)
        except CodeError as e:
            raise APIError(["code"], str(e)) from None
        framework, specs, names = parsed.framework, parsed.layers, parsed.names
        unresolved, notes, inputs = parsed.unresolved, parsed.notes, parsed.inputs
        label, candidates = parsed.model_name, parsed.candidates
        shape = shape or (list(parsed.input_shape) if parsed.input_shape else None)
        if parsed.needs_shape and not unresolved and (shape is None or any(s is None for s in parsed.sources)):
            raise APIError(["input_shape"], parsed.needs_shape)
        sources = [tuple(s) for s in parsed.sources]
    else:
        specs = [layer.model_dump() for layer in req.layers]
        if framework is None:
            raise APIError(["framework"], "framework must be 'torch' or 'keras' when layers are given")
    if shape is None:
        raise APIError(["input_shape"], "the code gives no input shape (Input, InputLayer or input_shape=): "
                                        "give input_shape, batch first")
    shape = _check_shape(shape, ["input_shape"])
    if unresolved:
        first = next((i for i, spec in enumerate(specs) if any(v is None for v in _leaves(spec))), 0)
        return TraceResponse(ok=False, framework=framework, input_shape=list(shape), layers=[], total_params=0,
                             unresolved=unresolved, notes=notes, model=label, candidates=candidates,
                             error=TraceError(index=first, message=(
                                 f"the code uses {', '.join(unresolved)} without defining "
                                 f"{'it' if len(unresolved) == 1 else 'them'}: give "
                                 f"{'its value' if len(unresolved) == 1 else 'their values'} in variables")))
    t = trace(framework, shape, specs, inputs, names, sources)
    rows = [TraceRow(type=r.type, name=r.name, output_shape=show_shape(r.output_shape, t.batch_known), params=r.params,
                     macs=r.macs, receptive_field=r.receptive_field, jump=r.jump, note=r.note, inputs=list(r.inputs),
                     input_shapes=[show_shape(s, t.batch_known) for s in r.input_shapes]) for r in t.rows]
    return TraceResponse(ok=t.ok, framework=framework, input_shape=list(shape), layers=rows,
                         total_params=t.total_params, notes=notes, model=label, candidates=candidates,
                         error=TraceError(index=t.error[0], message=t.error[1]) if t.error else None)


def _leaves(value):
    """Every scalar in a spec (None where the code used an unresolved name)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack += list(v.values())
        elif isinstance(v, list):
            stack += v
        else:
            yield v
