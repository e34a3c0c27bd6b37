"""`/groups`: from a standard conv to depthwise, and the depthwise-separable conv as its two stages.

Which input channels feed which output channels (a graph and a matrix, both inline SVG), the weight
shapes in the framework's layout, parameters and MACs for every valid ``groups``, and in separable
mode the two stages against the standard conv of the same sizes (docs/QUESTIONS.md Q3).

The URL holds the state in the framework's words. PyTorch has no separable layer: ``type=separable``
names the pair ``Conv2d(C, C·m, k, groups=C)`` then ``Conv2d(C·m, C_out, 1)``; Keras says
``SeparableConv2D``. Every number comes from ``build_layer`` (shapes, parameter tensors).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from fastapi import Request
from pydantic import BaseModel
from starlette.datastructures import QueryParams

from ..core.cost import stage_macs
from ..core.forward import stage_shapes
from ..core.frameworks import SpecError, build_layer
from ..core.groups import group_blocks, valid_groups
from ..core.ops import ConvOp, Layer
from ..core.shapes import csv
from ..figures import connection_graph, connection_matrix
from ..routes.params import (
    Knob,
    controls,
    in_url_words,
    input_shape_words,
    layer_words,
    read_input_shape,
    read_knobs,
    read_type,
    state_model,
    url_words,
    validated,
    word,
)
from ..snippets import call
from ..templating import is_htmx, view_response

PADDINGS = {"torch": ("0", "1", "2", "3", "same"), "keras": ("valid", "same")}
DEFAULT_PADDING = {"torch": "0", "keras": "valid"}  # the frameworks' own defaults
TYPES = {("torch", False): "Conv2d", ("torch", True): "separable",
         ("keras", False): "Conv2D", ("keras", True): "SeparableConv2D"}
CLASS_NAMES = {name: (fw, {"separable": separable}) for (fw, separable), name in TYPES.items()}  # params.read_type
TORCH = lambda s: s.framework == "torch"  # noqa: E731
KNOBS = (  # every setting, declared once (app/routes/params.py: Knob), in the constructor's order
    Knob("batch", int, 1, bounds=(1, 16), widget="number", label="Batch", group="Input"),
    Knob("channels", int, 4, torch="in_channels", bounds=(1, 512), widget="slider", group="Input",
         label=lambda s: "in_channels" if TORCH(s) else "Input channels"),
    Knob("height", int, 8, bounds=(1, 1024), widget="slider", label="Input height", group="Input"),
    Knob("width", int, 8, bounds=(1, 1024), widget="slider", label="Input width", group="Input"),
    Knob("filters", int, 8, torch="out_channels", keras="filters", bounds=(1, 1024), widget="slider"),
    Knob("kernel_size", int, 3, torch="kernel_size", keras="kernel_size", bounds=(1, 7), widget="slider",
         why="square kernels only: the wiring does not depend on the kernel's shape"),
    Knob("padding", Literal["0", "1", "2", "3", "valid", "same"], "0", torch="padding", keras="padding",
         widget="select", read=word,
         options=lambda s, i: [(p, p if p.isdigit() else f"'{p}'") for p in PADDINGS[s.framework]]),
    Knob("depth_multiplier", int, 1, torch="depth_multiplier", keras="depth_multiplier", bounds=(1, 4), widget="slider",
         has=lambda s: s.separable),
    # its options follow in_channels and out_channels: the template's own block, re-sent out of band
    Knob("groups", int, 2, torch="groups", keras="groups", bounds=(1, 512), widget="slot",
         has=lambda s: not s.separable),
    Knob("bias", bool, True, torch="bias", keras="use_bias", widget="bool"),
)
# What the generic tests read (app/views.py: ViewModule)
READS = ("type", "framework", "input_shape")  # query names read besides the knobs'
PAGES = ("in_channels=8", "type=separable&in_channels=8")
CHOICES = {"type": ("Conv2d", "separable")}  # query names no knob reads, with values to try
AXES: dict[int, list[str]] = {}  # no dimension switch


class _GroupsState(BaseModel):
    """The view's state: these fields and properties, and one field per knob (its type, default and bounds)."""

    framework: Literal["torch", "keras"] = "torch"
    separable: bool = False

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.framework == "torch":
            return (self.batch, self.channels, self.height, self.width)
        return (self.batch, self.height, self.width, self.channels)


GroupsState = state_model("GroupsState", KNOBS, _GroupsState)


# ---------------------------------------------------------------- the state from the URL

def _square_kernel(text: str, errors: list[str]) -> str:
    """'3' or '3,3' -> '3'; this view draws square kernels only."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(set(parts)) > 1:
        errors.append(f"kernel_size: /groups uses square kernels, got {text!r}; showing {parts[0]}")
    return parts[0] if parts else text


def _input_shape(query: QueryParams, framework: str, raw: dict, errors: list[str]) -> None:
    """input_shape in the framework's layout -> batch, channels, height, width."""
    read = read_input_shape(query["input_shape"], framework, (4,), raw.get("channels"), errors)
    if read:
        raw["batch"], raw["channels"], (raw["height"], raw["width"]) = read


def read_state(query: QueryParams) -> tuple[GroupsState, list[str]]:
    """The state from a URL in either framework's words (or the form's); messages for what was refused."""
    raw: dict[str, object] = {}
    errors: list[str] = []
    framework = read_type(query, CLASS_NAMES, "type: /groups shows Conv2d or type=separable (PyTorch), Conv2D or "
                          "SeparableConv2D (Keras), got {!r}", raw, errors)
    said: dict[str, str] = {}  # state field -> the word the URL used for it (params.in_url_words)
    read_knobs(KNOBS, query, framework, raw, said)
    if "kernel_size" in query:
        raw["kernel_size"] = _square_kernel(query["kernel_size"], errors)
    padding = query.get("padding", DEFAULT_PADDING[framework]).lower()
    if padding in PADDINGS[framework]:
        raw["padding"] = padding
    else:
        errors.append(f"padding: {'PyTorch' if framework == 'torch' else 'Keras'} padding here is one of "
                      f"{', '.join(PADDINGS[framework])}; got {padding!r}")
        raw["padding"] = DEFAULT_PADDING[framework]
    if "input_shape" in query:
        _input_shape(query, framework, raw, errors)
        said.update(input_shape_words(framework))
    state, errors = _validate(raw, errors)
    return state, in_url_words(errors, said)


def _validate(raw: dict, errors: list[str]) -> tuple[GroupsState, list[str]]:
    return validated(GroupsState, raw, errors), errors


def canonical_query(state: GroupsState, **changes) -> str:
    """The view's URL query in the framework's words."""
    s = state.model_copy(update=changes)
    params = {"framework": s.framework, "type": TYPES[(s.framework, s.separable)], **url_words(layer_words(KNOBS, s)),
              "input_shape": csv(s.input_shape)}
    return urlencode(params, safe=",")


def switched(state: GroupsState, *, framework: str | None = None, separable: bool | None = None) -> GroupsState:
    """The same sizes in the other framework or mode; padding in that framework's words."""
    framework = framework or state.framework
    separable = state.separable if separable is None else separable
    padding = state.padding
    if framework == "keras" and padding.isdigit():
        padding = "valid" if padding == "0" else "same"  # Keras has no numeric padding
    elif framework == "torch" and padding == "valid":
        padding = "0"
    groups = state.groups if state.groups in valid_groups(state.channels, state.filters) else 1
    return state.model_copy(update={"framework": framework, "separable": separable, "padding": padding,
                                    "groups": groups})


# ---------------------------------------------------------------- layers and their numbers

def _padding(state: GroupsState) -> int | str:
    return int(state.padding) if state.padding.isdigit() else state.padding


def conv_spec(state: GroupsState, *, groups: int) -> dict:
    """The (grouped) conv layer in the framework's own words."""
    plain = state.model_copy(update={"separable": False, "groups": groups})
    return {"type": TYPES[(state.framework, False)], **layer_words(KNOBS, plain), "padding": _padding(state)}


def conv_code(state: GroupsState, *, groups: int) -> str:
    s = state
    if s.framework == "torch":
        return call({"type": "Conv2d", "in_channels": s.channels, "out_channels": s.filters,
                     "kernel_size": s.kernel_size, "padding": _padding(s), "groups": groups, "bias": s.bias}, "nn.", 2)
    return call({"type": "Conv2D", "filters": s.filters, "kernel_size": s.kernel_size, "padding": _padding(s),
                 "groups": groups, "use_bias": s.bias}, "keras.layers.", 2)


@dataclass(frozen=True)
class Stage:
    """One conv stage as the page tells it: the framework's words, tensors, output, cost."""

    name: str
    code: str
    weights: list[tuple[str, list[int]]]  # framework tensor name, shape in its layout
    out_shape: list[int]                 # framework layout
    op: ConvOp
    params: int
    macs: int


def _framework_layout(layer: Layer, shape_cf: tuple[int, ...]) -> list[int]:
    return [shape_cf[0], *shape_cf[2:], shape_cf[1]] if layer.channels_last else list(shape_cf)


def layer_stages(layer: Layer, names: list[str], codes: list[str], prefix: str = "") -> list[Stage]:
    """Each conv stage of a built layer: its parameter tensors, output shape and multiply-accumulates
    (output values × C_in/groups × kernel taps: each output value is one dot product)."""
    shapes = stage_shapes(layer)
    stages = []
    for i, op in enumerate(layer.stages):
        tensors = [(prefix + p.name, list(p.shape)) for p in layer.params if p.stage == i]
        macs = stage_macs(op, shapes[i], shapes[i + 1])
        stages.append(Stage(names[i], codes[i], tensors, _framework_layout(layer, shapes[i + 1]), op,
                            sum(math.prod(s) for _, s in tensors), macs))
    return stages


def grouped_stage(state: GroupsState, groups: int) -> Stage:
    """The grouped conv as one stage (raises SpecError for what the framework refuses)."""
    layer = build_layer(state.framework, conv_spec(state, groups=groups), state.input_shape)
    return layer_stages(layer, [f"groups={groups}"], [conv_code(state, groups=groups)])[0]


def separable_stages(state: GroupsState) -> list[Stage]:
    """Depthwise (groups = C_in, C_in·m outputs) then pointwise 1×1, as each framework writes it."""
    s, m, pad = state, state.depth_multiplier, _padding(state)
    if s.framework == "keras":
        spec = {"type": "SeparableConv2D", "filters": s.filters, "kernel_size": s.kernel_size, "padding": pad,
                "depth_multiplier": m, "use_bias": s.bias}
        code = call(spec, "keras.layers.", 2)
        return layer_stages(build_layer("keras", spec, s.input_shape), ["depthwise", "pointwise"], [code, code])
    mid = s.channels * m
    depthwise_spec = {"type": "Conv2d", "in_channels": s.channels, "out_channels": mid, "kernel_size": s.kernel_size,
                      "padding": pad, "groups": s.channels, "bias": s.bias}
    pointwise_spec = {"type": "Conv2d", "in_channels": mid, "out_channels": s.filters, "kernel_size": 1,
                      "bias": s.bias}
    depthwise = build_layer("torch", depthwise_spec, s.input_shape)
    pointwise = build_layer("torch", pointwise_spec, tuple(stage_shapes(depthwise)[-1]))
    depthwise_code = f"depthwise = {call(depthwise_spec, 'nn.', 2)}"
    pointwise_code = f"pointwise = {call(pointwise_spec, 'nn.', 2)}"
    return [*layer_stages(depthwise, ["depthwise"], [depthwise_code], "depthwise."),
            *layer_stages(pointwise, ["pointwise"], [pointwise_code], "pointwise.")]


# ---------------------------------------------------------------- the pictures (inline SVG data)

def group_lines(n_in: int, n_out: int, groups: int, shown: int = 6) -> list[str]:
    """'group 0: input channels 0–1 → output channels 0–3', for the first few groups."""
    span = lambda r: f"{r[0]}" if len(r) == 1 else f"{r[0]}–{r[-1]}"
    return [f"group {g}: input channel{'s' if len(ins) > 1 else ''} {span(ins)} → output "
            f"channel{'s' if len(outs) > 1 else ''} {span(outs)}"
            for g, (ins, outs) in enumerate(group_blocks(n_in, n_out, groups)[:shown])]


# ---------------------------------------------------------------- the page

def _links(state: GroupsState) -> dict:
    return {"framework": {fw: canonical_query(switched(state, framework=fw)) for fw in ("torch", "keras")},
            "mode": {sep: canonical_query(switched(state, separable=sep)) for sep in (False, True)}}


def groups_table(state: GroupsState) -> list[dict]:
    """Params and MACs for every valid groups value: the trend as groups grows to depthwise."""
    rows = []
    for g in valid_groups(state.channels, state.filters):
        try:
            stage = grouped_stage(state, g)
        except SpecError:  # the window does not fit: no value of groups changes that
            return []
        rows.append({"groups": g, "reads": state.channels // g, "weight": stage.weights[0][1], "params": stage.params,
                     "macs": stage.macs, "query": canonical_query(state, groups=g), "current": g == state.groups,
                     "depthwise": g == state.channels})
    for row in rows:
        row["macs_share"] = f"1/{rows[0]['macs'] // row['macs']}" if row["groups"] > 1 else "1"
    return rows


def group_options(state: GroupsState, choices: list[int]) -> list[dict]:
    """The groups select: only values that divide both channel counts, plus a refused one, flagged."""
    def label(g: int) -> str:
        return f"{g} (standard conv)" if g == 1 else f"{g} (depthwise)" if g == state.channels else str(g)
    options = [{"value": g, "label": label(g), "selected": g == state.groups} for g in choices]
    if state.groups not in choices:
        options.append({"value": state.groups, "label": f"{state.groups} (does not divide both)", "selected": True})
    return options


def grouped_context(state: GroupsState) -> dict:
    s = state
    choices = valid_groups(s.channels, s.filters)
    ctx = {"table": groups_table(s), "code": conv_code(s, groups=s.groups), "group_options": group_options(s, choices)}
    try:
        stage = grouped_stage(s, s.groups)
    except SpecError as e:
        return {**ctx, "error": str(e), "error_field": e.field,
                "choice_links": [(g, canonical_query(s, groups=g)) for g in choices]}
    op, k = stage.op, s.kernel_size
    cg = s.channels // s.groups
    out = stage.out_shape
    h_out, w_out = (out[2], out[3]) if s.framework == "torch" else (out[1], out[2])
    return {**ctx, "stage": stage, "reads": cg, "out_shape": out,
            "graph": connection_graph([("input channels", s.channels), ("output channels", s.filters)],
                                      [(f"groups={s.groups}", s.groups)]),
            "matrix": connection_matrix(s.channels, s.filters, s.groups),
            "group_lines": group_lines(s.channels, s.filters, s.groups),
            "params_formula": f"{s.filters}·({s.channels}/{s.groups})·{k}·{k}" + (f" + {s.filters}" if s.bias else ""),
            "macs_formula": f"{s.batch}·{h_out}·{w_out}·{s.filters}·({s.channels}/{s.groups})·{k}·{k}",
            "depthwise": op.groups == op.in_channels}


def separable_context(state: GroupsState) -> dict:
    s = state
    try:
        stages = separable_stages(s)
        standard = grouped_stage(s, 1)
    except SpecError as e:
        return {"error": str(e), "error_field": e.field}
    depthwise, pointwise = stages
    mid = depthwise.out_shape
    m, k, c_out = s.depth_multiplier, s.kernel_size, s.filters
    total = {"params": depthwise.params + pointwise.params, "macs": depthwise.macs + pointwise.macs}
    intermediate = math.prod(mid)
    return {
        "stages": stages, "standard": standard, "total": total, "mid_shape": mid, "out_shape": pointwise.out_shape,
        "graph": connection_graph([("input channels", s.channels), ("after depthwise", s.channels * m),
                                   ("output channels", c_out)],
                                  [(f"depthwise, groups={s.channels}", s.channels), ("pointwise 1×1", 1)]),
        "matrices": [("depthwise", connection_matrix(s.channels, s.channels * m, s.channels)),
                     ("pointwise", connection_matrix(s.channels * m, c_out, 1))],
        "ratio": {"formula": (f"{m}·(1/{c_out} + 1/{k}²)" if m > 1 else f"1/{c_out} + 1/{k}²"),
                  "terms": f"{m / c_out:.4g} + {m / k ** 2:.4g}", "value": f"{m * (1 / c_out + 1 / k ** 2):.4g}",
                  "measured": f"{total['macs'] / standard.macs:.4g}", "fewer": f"{standard.macs / total['macs']:.1f}"},
        "intermediate": {"count": intermediate, "bytes": 4 * intermediate},
        "per_value": {"depthwise": k * k, "standard": k * k * s.channels},
    }


def groups_context(state: GroupsState) -> dict:
    """Everything the page shows, from the framework front ends' layers."""
    ctx = {"s": state, "torch": state.framework == "torch", "query": canonical_query(state), "links": _links(state),
           "controls": controls(KNOBS, state, []),
           "input_shape": list(state.input_shape), "choices": valid_groups(state.channels, state.filters)}
    return {**ctx, **(separable_context(state) if state.separable else grouped_context(state))}


def groups(request: Request):
    state, errors = read_state(request.query_params)
    ctx = groups_context(state)
    return view_response(request, "groups.html", {**ctx, "query_errors": errors, "oob": is_htmx(request)},
                         path="/groups", query=canonical_query(state), refused=bool(errors))
