"""`/backprop`: the backward pass of a conv or pooling layer, on the stage, with every number written out.

The forward pass above (one example: input, kernel, output), the backward pass below, from the upstream
gradient the reader picks (ones, random from the seed, a 1 at one clicked output cell, or pasted):

- the input's gradient as what it is, a convolution: the activation's derivative applied first, the
  upstream gradient dilated by the stride and padded by dilation·(kernel − 1) − padding
  (``core.backward.upstream_grid``), the flipped kernel slid over it one input cell at a time
  (``grad_input_terms``), and for reflect, replicate and circular padding the fold back (``fold_terms``);
- the weights' gradient: the input slid under the upstream gradient as a kernel, one weight at a time
  (``grad_weight_terms``), the bias' as the sum over positions;
- pooling: max routes each gradient to its window's winner, average spreads it by the divisor
  (``pool_shares``).

Every gradient drawn is ``core.backward.layer_backward``'s, the function /api/backward answers with. The
layer is /explore's conv (in either framework's words) or a max/average pooling layer, 1D or 2D, up to the
engine's limits: a small layer is drawn number by number; a larger one as pictures (heatmap PNGs at
/backprop/picture) with a lens that writes out the current input-gradient cell's sum (``picture_level``).
"""
from __future__ import annotations

import itertools
import math
import re
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Literal
from urllib.parse import urlencode

import numpy as np
from fastapi import Request
from pydantic import BaseModel, Field
from starlette.datastructures import QueryParams

from ..core.backward import (
    activation_backward,
    check_backward_cost,
    conv_depends,
    flipped_kernel,
    fold_sources,
    fold_terms,
    grad_input_terms,
    grad_weight_terms,
    layer_backward,
    pool_shares,
    unread_rows,
    upstream_grid,
)
from ..core.conv import pad_input, window_taps
from ..core.forward import canonical_weights, output_shape, random_input, readable_weights, run_layer, run_stage
from ..core.frameworks import SpecError, build_layer
from ..core.limits import check_input_size, check_layer_cost
from ..core.ops import ActOp, ConvOp
from ..core.picture import cell_at, fit, montage, picture_limit, picture_size, zoom_level
from ..core.shapes import csv, index_text
from ..display import fmt, grid, term
from ..routes import explore
from ..routes.params import (
    Knob,
    check_axes,
    controls,
    in_url_words,
    input_shape_words,
    layer_words,
    read_input_shape,
    read_knobs,
    read_type,
    state_model,
    switch_axes,
    url_words,
    validated,
    view_options,
)
from ..templating import view_response
from .pool import _extent as pool_extent
from .stage import PICTURE_PX, StageView, picture_stage, picture_url, serve

DRAWN = "the engine's limits bound the whole layer (app/core/limits.py); small layers are drawn number by number"
MAX_SIZE = {1: 16_384, 2: 1024}  # per spatial axis, as /explore's
NUMBERS_CAPS = {"channels": 3, "kernel": 4, "size": {1: 16, 2: 8}}  # beyond them the stage is a picture + lens
DECK = 16  # thumbnails of channels or filters
AXES = {1: ["length"], 2: ["height", "width"]}
TYPES = {"conv": {"torch": "Conv{}d", "keras": "Conv{}D"}, "max": {"torch": "MaxPool{}d", "keras": "MaxPooling{}D"},
         "avg": {"torch": "AvgPool{}d", "keras": "AveragePooling{}D"}}
LAYERS = (("conv", "Convolution"), ("max", "Max pooling"), ("avg", "Average pooling"))
PASTE_MAX = 4_000  # characters of pasted numbers
CONV = lambda s: s.layer == "conv"  # noqa: E731
POOL = lambda s: s.layer != "conv"  # noqa: E731
TORCH = explore.TORCH
TORCH_AVG = lambda s: s.layer == "avg" and TORCH(s)  # noqa: E731
_FROM_EXPLORE = {k.field + (k.only or ""): k for k in explore.KNOBS}
KNOBS = (  # every setting, declared once (app/routes/params.py: Knob), in the constructors' order
    Knob("channels", int, 2, torch="in_channels", bounds=(1, 512), widget="number", group="Input",
         label=lambda s: "in_channels" if TORCH(s) else "Input channels", why=DRAWN, has=CONV),
    Knob("channels", bounds=(1, 512), widget="number", group="Input", label="Channels", has=POOL, why=DRAWN),
    Knob("size", tuple[int, ...], (5, 5), per_axis=True, bounds={d: (1, n) for d, n in MAX_SIZE.items()}, start=5,
         widget="slider", label="Input {axis}", group="Input", why=DRAWN),
    Knob("layer", Literal["conv", "max", "avg"], "conv", option=True, written=lambda s: False, widget="select",
         label="Layer", options=LAYERS),  # the URL says it in ``type``
    Knob("filters", int, 2, torch="out_channels", keras="filters", bounds=(1, 128), widget="number", has=CONV,
         why=DRAWN),
    Knob("kernel", tuple[int, ...], (3, 3), torch="kernel_size", keras="kernel_size", per_axis=True, bounds=(1, 8),
         start=3, listed=True, widget="slider", has=CONV, why=DRAWN),
    Knob("kernel", torch="kernel_size", keras="pool_size", per_axis=True, bounds=(1, 8), widget="slider", has=POOL,
         listed=True, label=lambda s: "kernel_size" if TORCH(s) else "pool_size", why=DRAWN),
    Knob("stride", tuple[int, ...], (1,), torch="stride", keras="strides", per_axis=True, bounds=(1, 4),
         widget="slider", why=DRAWN),
    replace(_FROM_EXPLORE["paddingtorch"], bounds=(0, 4), why=DRAWN,
            options=lambda s, i: [*range(5), *([("valid", "'valid'"), ("same", "'same'")] if CONV(s) else [])]),
    replace(_FROM_EXPLORE["paddingkeras"],
            options=lambda s, i: [("valid", "'valid'"), ("same", "'same'")] + [("causal", "'causal'")] * (
                s.dims == 1 and CONV(s))),
    Knob("dilation", tuple[int, ...], (1,), torch="dilation", keras="dilation_rate", per_axis=True, bounds=(1, 4),
         widget="slider", has=lambda s: CONV(s) or (s.layer == "max" and TORCH(s)), why=DRAWN),
    Knob("ceil_mode", bool, False, torch="ceil_mode", keras="ceil_mode", widget="bool",
         has=lambda s: POOL(s) and TORCH(s), written=lambda s: POOL(s) and (TORCH(s) or s.ceil_mode)),
    Knob("count_include_pad", bool, True, torch="count_include_pad", keras="count_include_pad", widget="bool",
         has=lambda s: TORCH_AVG(s), written=lambda s: TORCH_AVG(s) or (s.layer == "avg" and not s.count_include_pad)),
    Knob("divisor_override", int | None, None, torch="divisor_override", keras="divisor_override", bounds=(1, 64),
         widget="number",
         read=lambda values, query: None if values[-1].strip().lower() in ("", "none") else values[-1].strip(),
         has=lambda s: TORCH_AVG(s) and s.dims > 1,
         written=lambda s: s.layer == "avg" and s.divisor_override is not None),
    Knob("groups", int, 1, torch="groups", keras="groups", bounds=(1, 512), widget="number", has=CONV),
    replace(_FROM_EXPLORE["bias"], has=CONV),
    replace(_FROM_EXPLORE["padding_modetorch"], has=CONV),
    replace(_FROM_EXPLORE["activationkeras"], written=lambda s: CONV(s) and s.activation != "linear", has=CONV),
    replace(_FROM_EXPLORE["activationtorch"], has=CONV),
    replace(_FROM_EXPLORE["weights"], has=CONV),
    Knob("seed", int, 0, option=True, bounds=(0, 9999), widget="number", label="Seed", group="Numbers"),
    Knob("upstream", Literal["ones", "random", "cell"], "ones", option=True, widget="select", group="Numbers",
         label="Upstream gradient", options=(("ones", "ones (the gradient of the sum)"),
                                             ("random", "random, from the seed"), ("cell", "1 at one output cell"))),
    Knob("cell", int, 0, option=True, bounds=(0, 249_999), has=lambda s: s.upstream == "cell",
         written=lambda s: s.upstream == "cell"),  # the output cell whose gradient is 1, counted channels first
    Knob("step", int, 0, option=True, bounds=(0, 249_999), reset=True),  # the input gradient's cell written out
    Knob("wstep", int, 0, option=True, bounds=(0, 9_999_999), reset=True),  # the weight whose gradient is written out
    Knob("paste_as", Literal["grad_output", "grad_input", "grad_weight"], "grad_input", option=True,
         has=lambda s: bool(s.paste), written=lambda s: bool(s.paste)),
    Knob("paste", str, "", option=True),  # numbers pasted: an upstream gradient, or an answer to check
)
# What the generic tests read (app/views.py: ViewModule)
READS = ("framework", "type", "dims", "input_shape", "padding_was")
PAGES = ("type=Conv2d&size=5&size=5&padding=1", "type=MaxPool2d&size=6&size=6&kernel_size=2&stride=2",
         "type=AvgPool2d&size=6&size=6&kernel_size=2&stride=2")
CHOICES: dict[str, tuple] = {}


class _BackpropState(BaseModel):
    """The view's state: these fields and one per knob."""

    framework: Literal["torch", "keras"] = "torch"
    dims: int = Field(2, ge=1, le=2)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (1, self.channels, *self.size) if self.framework == "torch" else (1, *self.size, self.channels)

    @property
    def filters_out(self) -> int:
        return self.filters if self.layer == "conv" else self.channels


BackpropState = state_model("BackpropState", KNOBS, _BackpropState)
CLASS_NAMES = {TYPES[layer][fw].format(d): (fw, {"layer": layer, "dims": d})  # params.read_type's table
               for fw in ("torch", "keras") for layer in TYPES for d in (1, 2, 3)}


def read_state(query: QueryParams) -> tuple[BackpropState, list[str]]:
    """The state from a URL in either framework's words (or the form's); messages for what was refused."""
    raw: dict[str, object] = {}
    errors: list[str] = []
    framework = read_type(query, CLASS_NAMES, "type: /backprop shows Conv1d/2d, MaxPool1d/2d, AvgPool1d/2d (PyTorch) "
                          "or Conv1D/2D, MaxPooling1D/2D, AveragePooling1D/2D (Keras), got {!r}", raw, errors)
    if "dims" in query:
        raw["dims"] = query["dims"]
    said: dict[str, str] = {}  # state field -> the word the URL used for it (params.in_url_words)
    read_knobs(KNOBS, query, framework, raw, said)
    if "padding" not in query and framework == "keras":
        raw["padding"] = "valid"
    if "size" not in query and "input_shape" in query:
        read = read_input_shape(query["input_shape"], framework, (3, 4), raw.get("channels"), errors)
        if read:
            batch, raw["channels"], raw["size"] = read
            raw.setdefault("dims", len(read[2]))
            said.update(input_shape_words(framework))
            if batch != 1:
                errors.append(f"input_shape: /backprop draws one example (batch 1), got batch {batch}; showing 1")
    if str(raw.get("dims")) == "3":
        field = next((n for n in ("dims", "type", "input_shape") if n in query), "dims")
        errors.append(f"{field}: /backprop draws 1D and 2D layers, got {query.get(field, '3')!r}; showing the 2D layer")
        raw["dims"] = 2
        raw.pop("size", None)
    state = validated(BackpropState, raw, errors)
    fixes = check_axes(KNOBS, state, raw, errors)
    if len(state.paste) > PASTE_MAX:
        errors.append(f"paste: at most {PASTE_MAX:,} characters of numbers, got {len(state.paste):,}")
        fixes["paste"] = ""
    if state.layer != "conv" and isinstance(fixes.get("padding", state.padding), str) and framework == "torch":
        errors.append(f"padding: PyTorch's pooling takes numbers (0 to half the kernel), got {state.padding!r}")
        fixes["padding"] = (0,) * state.dims
    return state.model_copy(update=fixes), in_url_words(errors, said)


def type_word(state) -> str:
    return TYPES[state.layer][state.framework].format(state.dims)


def layer_spec(state) -> dict:
    """The layer in the framework's own words."""
    return {"type": type_word(state), **layer_words(KNOBS, state)}


def canonical_query(state, **changes) -> str:
    """The view's URL query in the framework's words."""
    state = state.model_copy(update=changes)
    params = {"framework": state.framework, **url_words(layer_spec(state)),
              "input_shape": csv(state.input_shape), **view_options(KNOBS, state)}
    return urlencode(params, safe=",")


def switched(state, *, framework: str | None = None, dims: int | None = None, layer: str | None = None):
    """The same layer in the other framework, dimensionality or layer type, keeping what carries over."""
    framework, dims, layer = framework or state.framework, dims or state.dims, layer or state.layer
    update = {"framework": framework, "dims": dims, "layer": layer, **switch_axes(KNOBS, state, dims)}
    padding = update.get("padding", state.padding)
    if framework == "keras" and isinstance(padding, tuple):
        padding = "valid" if not any(padding) else "same"
    if (padding == "causal" and (framework == "torch" or dims > 1 or layer != "conv")) or (
            layer != "conv" and framework == "torch" and isinstance(padding, str)):
        padding = (0,) * dims if framework == "torch" else "valid"
    if layer != state.layer and layer != "conv":  # pooling's usual stride: the window's size
        update["stride"] = update.get("kernel", state.kernel)
    return state.model_copy(update={**update, "padding": padding, "cell": 0, "upstream": "ones"
                                    if state.upstream == "cell" else state.upstream})


# ------------------------------------------------------------------ pasted numbers


NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def parse_numbers(text: str, count: int, field: str = "paste") -> tuple[np.ndarray | None, str | None]:
    """Numbers separated by spaces, commas, semicolons or brackets (as a printed tensor or list writes them),
    exactly ``count`` of them; the array, or None and a message naming the field, the bad value and what works.
    Nothing is evaluated: each piece must be a plain decimal number (a minus sign ``−`` is read as ``-``).

    >>> parse_numbers("[[1, -2.5], [3e1, 0]]", 4)[0].tolist(), parse_numbers("1 2", 3)[1]
    ([1.0, -2.5, 30.0, 0.0], 'paste: expected 3 numbers, got 2')
    >>> parse_numbers("1, __import__('os')", 2)[1]
    "paste: piece 2, '__import__', is not a number: give plain numbers such as 1, -0.5, 2e-3"
    """
    pieces = [p for p in re.split(r"[\s,;\[\]()]+", text.replace("−", "-")) if p]
    for i, p in enumerate(pieces):
        if not NUMBER.fullmatch(p):
            shown = p if len(p) <= 20 else p[:20] + "…"
            return None, f"{field}: piece {i + 1}, {shown!r}, is not a number: give plain numbers such as 1, -0.5, 2e-3"
    if len(pieces) != count:
        return None, f"{field}: expected {count} numbers, got {len(pieces)}"
    return np.array([float(p) for p in pieces], dtype=np.float32), None


def differences(mine: np.ndarray, truth: np.ndarray, labels: list[str]) -> dict:
    """Cell by cell: the reader's number, the right one, and whether they agree (to float32's precision)."""
    close = np.isclose(mine, truth, rtol=1e-4, atol=1e-5)
    return {"cells": [{"label": label, "mine": fmt(float(a)), "right": fmt(float(b)), "ok": bool(ok)}
                      for label, a, b, ok in zip(labels, mine, truth, close)],
            "wrong": int((~close).sum()), "total": int(close.size)}


# ------------------------------------------------------------------ the page's numbers


def signed(v: float) -> str:
    """A number as a sum's term writes it: a negative in parentheses (as ``display.term`` does).

    >>> signed(-2.0), signed(0.5)
    ('(−2)', '0.5')
    """
    text = fmt(float(v))
    return f"({text})" if text.startswith("−") else text



def _labels(shape) -> list[str]:
    return [index_text(p) for p in np.ndindex(*shape)]


def run(state, layer) -> dict:
    """The numbers: input, weights, upstream gradient (the framework's layouts) and the engine's backward pass
    (``layer_backward``, /api/backward's), with the channels-first arrays the page draws. ``pre`` is the layer's
    output before its activation; a PyTorch activation is a module after the conv, so the conv's backward
    starts from the upstream gradient times its derivative."""
    x = random_input((1, state.channels, *state.size), state.seed)  # PyTorch's layout: same numbers in both
    if layer.channels_last:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    weights = readable_weights(layer, state.seed, state.weights) if layer.params else []
    out_shape = output_shape(layer)
    g, paste_error = _upstream(state, out_shape)
    cf = (lambda a: np.moveaxis(a, -1, 1)) if layer.channels_last else (lambda a: a)
    first, x_cf = layer.stages[0], cf(x)
    forward_weights = canonical_weights(layer, weights)[0]
    pre = run_stage(first, x_cf, forward_weights)
    act = next((s.activation for s in layer.stages if isinstance(s, ActOp)), None)
    module = CONV(state) and state.framework == "torch" and explore.ACTIVATIONS[state.activation]
    if module:
        act_layer = build_layer("torch", {"type": module}, out_shape)
        act = act_layer.stages[0].activation
    g_pre = activation_backward(act, pre, cf(g)) if act else cf(g)
    y, gx, gw = layer_backward(layer, x, weights, g_pre if module else g)
    if module:
        y = run_layer(act_layer, y, [])
    return {"x": x, "weights": weights, "g": g, "y": y, "gx": gx, "gw": gw, "paste_error": paste_error,
            "act": act, "op": first, "x_cf": x_cf[0], "y_cf": cf(y)[0], "g_cf": cf(g)[0], "pre_cf": pre[0],
            "gpre_cf": g_pre[0], "gx_cf": cf(gx)[0], "w_cf": forward_weights.get("weight"),
            "canonical": canonical_weights(layer, gw)[0] if gw else {}}


_RUNS: OrderedDict[str, dict] = OrderedDict()
_RUNS_LOCK = threading.Lock()
RUNS_KEPT = 8  # a page and its pictures (up to ~40 URLs) share one backward pass


def cached_run(state, layer) -> dict:
    """``run``, kept for the last few states (keyed by the canonical URL without the steps): a page at picture
    level and each of its pictures ask for the same layer's numbers. The arrays are only read."""
    key = canonical_query(state, step=0, wstep=0)
    with _RUNS_LOCK:
        if key in _RUNS:
            _RUNS.move_to_end(key)
            return _RUNS[key]
    nums = run(state, layer)
    for value in (*nums.values(), *nums["gw"], *nums["weights"], *(nums["canonical"] or {}).values()):
        if isinstance(value, np.ndarray):
            value.flags.writeable = False  # shared by every request for this state: never written
    with _RUNS_LOCK:
        _RUNS[key] = nums
        while len(_RUNS) > RUNS_KEPT:
            _RUNS.popitem(last=False)
    return nums


def _upstream(state, out_shape) -> tuple[np.ndarray, str | None]:
    """The upstream gradient in the framework's layout: pasted, a 1 at one cell, random (as /api/backward's
    ``"random"`` with this seed) or ones."""
    if state.paste and state.paste_as == "grad_output":
        numbers, error = parse_numbers(state.paste, math.prod(out_shape))
        if numbers is not None:
            return numbers.reshape(out_shape), None
        return np.ones(out_shape, np.float32), error
    if state.upstream == "random":
        return random_input(out_shape, state.seed), None
    g = np.ones(out_shape, np.float32)
    if state.upstream == "cell":  # ``cell`` counts the one example's output channels first (checked before)
        g[:] = 0
        cf_shape = (out_shape[-1], *out_shape[1:-1]) if state.framework == "keras" else out_shape[1:]
        at = [int(i) for i in np.unravel_index(state.cell % math.prod(cf_shape), cf_shape)]
        g[(0, *at[1:], at[0]) if state.framework == "keras" else (0, *at)] = 1
    return g, None


def _classes(shape, lit=(), dep=(), pad=None, zeros=None, win=()) -> np.ndarray:
    """Per drawn cell: 'pad' outside the input (``pad``: the before-amounts, with the input's size) or where
    ``zeros`` (a mask) holds, 'dep' for what the clicked output depended on, 'win' for a max window's winner,
    'lit' for what the step reads."""
    classes = np.full(shape, "", dtype=object)
    if zeros is not None:
        classes[zeros] = "pad"
    if pad is not None:
        befores, spatial = pad
        inside = np.zeros(shape, bool)
        inside[tuple(slice(b, b + n) for b, n in zip(befores, spatial))] = True
        classes[~inside] = "pad"
    for cells, name in ((dep, "dep"), (win, "win"), (lit, "lit")):
        for cell in cells:
            classes[tuple(cell)] = (classes[tuple(cell)] + " " + name).strip()
    return classes


def _step(index: int, count: int, field: str, what: str) -> tuple[int, str | None]:
    if index < count:
        return index, None
    return 0, f"{field}: this layer has {count} {what} (0 to {count - 1}), got {index}"


def transposed_link(state, op, out_spatial, unread) -> tuple[str | None, str]:
    """/transposed's query for the transposed conv that computes this input gradient (the same weight tensor,
    in and out channels swapped, output_padding = the unread rows), or why /transposed cannot show it. Its
    numbers are drawn from its own seed: /transposed takes the layer, not these gradients."""
    pads = [b for b, a in op.padding]
    why = []
    if op.padding_mode != "zeros":
        why.append("the padding folds (a transposed conv has no padding_mode)")
    if any(b != a for b, a in op.padding):
        why.append("the padding is asymmetric")
    if op.out_channels > 3 or op.in_channels // op.groups > 3 or max(out_spatial) > 6 or max(op.kernel) > 4:
        why.append("it draws at most 3 channels, inputs up to 6 and kernels up to 4")
    if any(u > 2 or (u and u >= max(s, d)) for u, s, d in zip(unread, op.stride, op.dilation)):
        why.append("its output_padding must stay below the stride or the dilation")
    if why:
        return None, "; ".join(why)
    spec = {"framework": "torch", "type": f"ConvTranspose{state.dims}d", "in_channels": op.out_channels,
            "out_channels": op.in_channels, "kernel_size": csv(op.kernel),
            "stride": csv(op.stride), "padding": csv(pads),
            "output_padding": csv(unread), "groups": op.groups, "bias": "false",
            "dilation": csv(op.dilation),
            "input_shape": csv((1, op.out_channels, *out_spatial))}
    return urlencode(spec, safe=","), ""


def fold_lines(gp: np.ndarray, gx: np.ndarray, op) -> list[tuple[str, str, str]]:
    """One channel's fold as the page writes it: (input cell, its own gradient + what comes back from each padded
    cell that copied it, the engine's value there)."""
    return [(index_text(target), " + ".join(f"{signed(v)} ({'itself' if i == 0 else f'padded {index_text(src)}'})"
                                                for i, (src, v) in enumerate(terms)), fmt(float(gx[target])))
            for target, terms in fold_terms(gp, op.padding, op.padding_mode)]


def conv_context(state, nums: dict, cell_at) -> dict:
    """The conv's backward pass: the input's gradient as a convolution of the dilated, padded upstream gradient
    with the flipped kernel (step by step), its fold, and the weights' gradient one weight at a time."""
    op = nums["op"]
    spatial, out_spatial = tuple(state.size), nums["g_cf"].shape[1:]
    w = nums["w_cf"]
    cg, og = op.in_channels // op.groups, op.out_channels // op.groups
    folded = op.padding_mode != "zeros"
    up, pads = upstream_grid(nums["gpre_cf"], op, spatial)
    real = upstream_grid(np.ones_like(nums["gpre_cf"][:1]), op, spatial)[0][0] != 0  # where a gradient landed
    result_shape = tuple(m - d * (k - 1) for m, k, d in zip(up.shape[1:], op.kernel, op.dilation))
    cells = op.in_channels * math.prod(result_shape)
    step, step_error = _step(state.step, cells, "step", "input-gradient cells")
    c, *pos = (int(i) for i in np.unravel_index(step, (op.in_channels, *result_shape)))
    lines = grad_input_terms(up, w, op, c, tuple(pos))
    # the grid's every cell, as the sums written out (on the padded input when the padding folds)
    gp = np.zeros((op.in_channels, *result_shape))
    for ch in range(op.in_channels):
        for p in np.ndindex(*result_shape):
            gp[(ch, *p)] = sum(a * b for _, t in grad_input_terms(up, w, op, ch, p) for a, b in t)
    result = gp if folded else nums["gx_cf"]
    taps = list(np.ndindex(*op.kernel))
    read = [tuple(p + j * d for p, j, d in zip(pos, tap, op.dilation)) for tap in taps]
    group = c // cg
    flipped = flipped_kernel(w)
    befores = [b if folded else 0 for b, _ in op.padding]
    gi = {
        "pads": [list(p) for p in pads], "folded": folded, "step": step, "cells": cells, "step_error": step_error,
        "at": [c, *pos], "result_shape": list(result_shape),
        "upstream": [{"o": o, "grid": grid(up[o], f"u{o}-", _classes(up.shape[1:], read if o // og == group else (),
                                                                      zeros=~real))} for o in range(op.out_channels)],
        "flipped": [{"o": o, "c": ch, "grid": grid(flipped[o, ch - o // og * cg], f"k{o}-{ch}-",
                                                    _classes(op.kernel, taps if ch == c else ()))}
                    for o in range(op.out_channels) for ch in range(o // og * cg, (o // og + 1) * cg)],
        "result": [{"c": ch, "grid": grid(result[ch], f"r{ch}-" if folded else f"gx{ch}-", _classes(
            result_shape, [tuple(pos)] if ch == c else (),
            pad=(befores, spatial) if folded else None))} for ch in range(op.in_channels)],
        "lines": [(f"from output channel {o}: " + " + ".join(term(a, b) for a, b in t) + " = ",
                   fmt(sum(a * b for a, b in t))) for o, t in lines],
        "value": fmt(float(result[(c, *pos)])),
    }
    if folded:
        gi["fold"] = [{"c": ch, "lines": fold_lines(gp[ch], nums["gx_cf"][ch], op)} for ch in range(op.in_channels)]
    padded = [n + b + a for n, (b, a) in zip(spatial, op.padding)]
    unread = unread_rows(padded, out_spatial, op.stride, op.kernel, op.dilation)
    gi["unread"] = list(unread)
    gi["transposed"], gi["no_transposed"] = transposed_link(state, op, out_spatial, unread)
    # the weights' gradient: the padded input slid under the upstream gradient
    xp = pad_input(nums["x_cf"][None], op.padding, op.padding_mode)[0]
    gw = nums["canonical"]
    wstep, wstep_error = _step(state.wstep, gw["weight"].size, "wstep", "weights")
    f, cl, *tap = (int(i) for i in np.unravel_index(wstep, gw["weight"].shape))
    ch = f // og * cg + cl
    terms = grad_weight_terms(xp, nums["gpre_cf"], op, f, ch, tuple(tap))
    reads = [tuple(p * s + j * d for p, s, j, d in zip(q, op.stride, tap, op.dilation))
             for q in np.ndindex(*out_spatial)]
    pad_cls = ([b for b, _ in op.padding], spatial)
    gwc = {
        "step": wstep, "count": gw["weight"].size, "step_error": wstep_error, "at": [f, cl, *tap], "c": ch,
        "input": grid(xp[ch], f"wx{ch}-", _classes(xp.shape[1:], reads, pad=pad_cls)),
        "kernel": grid(nums["gpre_cf"][f], f"wg{f}-", _classes(out_spatial, list(np.ndindex(*out_spatial)))),
        "grads": [{"f": fo, "c": fo // og * cg + cc, "grid": grid(gw["weight"][fo, cc], f"gw{fo}-{cc}-", _classes(
            op.kernel, [tuple(tap)] if (fo, cc) == (f, cl) else ()))}
            for fo in range(op.out_channels) for cc in range(cg)],
        "line": " + ".join(term(a, b) for a, b in terms) + " = ", "value": fmt(float(gw["weight"][(f, cl, *tap)])),
    }
    if "bias" in gw:
        gwc["bias"] = [{"f": fo, "sum": " + ".join(signed(v) for v in nums["gpre_cf"][fo].ravel()),
                        "value": fmt(float(gw["bias"][fo])), "id": f"gb{fo}"} for fo in range(op.out_channels)]
    return {"gi": gi, "gw": gwc}


def pool_context(state, nums: dict) -> dict:
    """Pooling's backward pass: each upstream gradient routed to its window's winner (max) or spread over the
    window by its divisor (average), summed per input cell, one input cell at a time."""
    op = nums["op"]
    spatial = tuple(state.size)
    count = state.channels * math.prod(spatial)
    step, step_error = _step(state.step, count, "step", "input-gradient cells")
    c, *pos = (int(i) for i in np.unravel_index(step, (state.channels, *spatial)))
    shares = pool_shares(nums["x_cf"][c], nums["gpre_cf"][c], op)
    mine = shares.get(tuple(pos), [])
    from_cells = [o for o, _, _ in mine]
    winners = {ch: list(pool_shares(nums["x_cf"][ch], np.ones_like(nums["gpre_cf"][ch]), op)) for ch in
               range(state.channels)} if op.kind == "max" else {}
    if op.kind == "max":
        parts = [f"{signed(v)} (output {index_text(o)}: this cell won its window)" for o, v, _ in mine]
    else:
        parts = [f"{signed(v)}/{d} (output {index_text(o)})" for o, v, d in mine]
    out_spatial = nums["g_cf"].shape[1:]
    return {"pool": {
        "step": step, "cells": count, "step_error": step_error, "at": [c, *pos],
        "upstream": [{"o": ch, "grid": grid(nums["gpre_cf"][ch], f"u{ch}-", _classes(
            out_spatial, from_cells if ch == c else ()))} for ch in range(state.channels)],
        "result": [{"c": ch, "grid": grid(nums["gx_cf"][ch], f"gx{ch}-", _classes(
            spatial, [tuple(pos)] if ch == c else (), win=winners.get(ch, ())))} for ch in range(state.channels)],
        "line": (" + ".join(parts) if parts else "this cell won no window: no gradient comes back" if op.kind == "max"
                 else "no window reads this cell") + " = ",
        "value": fmt(float(nums["gx_cf"][(c, *pos)])),
    }}


def depends(state, nums: dict) -> tuple[int, list, list]:
    """The clicked output cell (channel, *position), the input cells (channel, *position) it depended on, and the
    weights (filter, local channel) it multiplied: the window over its group's channels for a conv (a padded cell
    counted as the cell it copies), the winner for max pooling, the window's real cells for an average."""
    op, x = nums["op"], nums["x_cf"]
    o, *pos = (int(i) for i in np.unravel_index(state.cell, nums["g_cf"].shape))
    if isinstance(op, ConvOp):
        cells = sorted(conv_depends(op, tuple(state.size), o, tuple(pos)))
        return o, [o, *pos], cells
    one = np.zeros(nums["g_cf"].shape[1:], np.float32)
    one[tuple(pos)] = 1
    shares = pool_shares(x[o], one, op)
    return o, [o, *pos], sorted((o, *cell) for cell, landed in shares.items() if any(v for _, v, _ in landed))


def backprop_context(state, lens: bool = False) -> dict:
    """Everything the page shows, from the engine's backward pass (``lens``: the picture level's lens alone)."""
    spec = layer_spec(state)
    ctx = {"s": state, "spec": spec, "query": canonical_query(state), "link": lambda **c: canonical_query(state, **c),
           "framework_links": {fw: canonical_query(switched(state, framework=fw)) for fw in ("torch", "keras")},
           "dims_links": {d: canonical_query(switched(state, dims=d)) for d in AXES},
           "layer_links": {k: canonical_query(switched(state, layer=k)) for k, _ in LAYERS},
           "torch": state.framework == "torch", "axes": AXES[state.dims], "layers": LAYERS,
           "controls": controls(KNOBS, state, AXES[state.dims]), "type_word": type_word(state),
           "hidden": [(k, v) for k, v in QueryParams(canonical_query(state, paste="")).multi_items()
                      if k not in ("paste", "paste_as")]}
    try:
        layer = checked_layer(state)
    except SpecError as e:
        return {**ctx, "error": str(e)}
    nums = cached_run(state, layer)
    op = nums["op"]
    conv = isinstance(op, ConvOp)
    out_cf = nums["g_cf"].shape
    cell_error = None
    if state.upstream == "cell" and state.cell >= math.prod(out_cf):
        cell_error = f"cell: this output has {math.prod(out_cf)} cells (0 to {math.prod(out_cf) - 1}), got {state.cell}"
    ctx.update({"op": op, "conv": conv, "input_shape": list(state.input_shape), "out_shape": list(nums["y"].shape),
                "shapes": gradient_shapes(layer, nums), "paste_error": nums["paste_error"], "cell_error": cell_error,
                "act": nums["act"] is not None and {"name": state.activation}, "level": level(state, op)})
    if lens or ctx["level"] == "picture":
        ctx.update(picture_level(state, nums))
        ctx["compare"], compare_error = compare(state, nums)
        ctx["paste_error"] = ctx["paste_error"] or compare_error
        ctx["step_error"] = ctx["back"]["step_error"]
        return ctx
    clicked, cell_at, dep_cells = None, None, []
    if state.upstream == "cell" and not cell_error and not (state.paste and state.paste_as == "grad_output"):
        clicked, cell_at, dep_cells = depends(state, nums)
    spatial = tuple(state.size)
    pads = [b for b, _ in op.padding] if conv else [0] * state.dims
    xp = pad_input(nums["x_cf"][None], op.padding, op.padding_mode)[0] if conv else nums["x_cf"]
    in_dep = {}
    for ch, *p in dep_cells:
        in_dep.setdefault(ch, []).append(tuple(q + b for q, b in zip(p, pads)))
    if conv and cell_at:  # the window itself on the padded grid, its padded cells too
        cg = op.in_channels // op.groups
        first = clicked // (op.out_channels // op.groups) * cg
        channels = range(first, first + cg)
        for q in window_taps(op, tuple(cell_at[1:])):
            for ch in channels:
                in_dep.setdefault(ch, []).append(tuple(a + b for a, b in zip(q, pads)))
    inputs = [{"c": ch, "grid": grid(xp[ch], f"x{ch}-", _classes(xp.shape[1:], dep=in_dep.get(ch, ()),
                                                                  pad=(pads, spatial) if conv else None))}
              for ch in range(state.channels)]
    n_out = math.prod(out_cf[1:])
    width = out_cf[-1]
    outputs = [{"o": o, "cells": [[{"text": fmt(float(v)), "i": o * n_out + k, "id": f"y{o}-{k}",
                                    "cls": "dep" if cell_at and o * n_out + k == state.cell else ""}
                                   for k, v in zip(range(r, r + width), nums["y_cf"][o].reshape(-1)[r:r + width])]
                                  for r in range(0, n_out, width)]}
               for o in range(out_cf[0])]
    kernels = []
    if conv:
        cg, og = op.in_channels // op.groups, op.out_channels // op.groups
        kernels = [{"f": f, "c": f // og * cg + cl, "grid": grid(nums["w_cf"][f, cl], f"w{f}-{cl}-", _classes(
            op.kernel, dep=list(np.ndindex(*op.kernel)) if cell_at and f == clicked else ()))}
            for f in range(op.out_channels) for cl in range(cg)]
    grads = [{"o": o, "grid": grid(nums["g_cf"][o], f"g{o}-", _classes(out_cf[1:], dep=[tuple(cell_at[1:])] if cell_at
                                                                        and o == clicked else ()))}
             for o in range(out_cf[0])]
    act = None
    if nums["act"] is not None:
        act = {"name": state.activation,
               "pre": [{"o": o, "grid": grid(nums["pre_cf"][o], f"p{o}-")} for o in range(out_cf[0])],
               "gpre": [{"o": o, "grid": grid(nums["gpre_cf"][o], f"gp{o}-")} for o in range(out_cf[0])]}
    ctx.update({"op": op, "conv": conv, "input_shape": list(state.input_shape), "out_shape": list(nums["y"].shape),
                "inputs": inputs, "outputs": outputs, "out_spatial": list(out_cf[1:]), "kernels": kernels,
                "grads": grads, "act": act, "cell_error": cell_error, "cell_at": cell_at,
                "dep_count": len(dep_cells), "grad_input": [{"c": ch, "grid": grid(nums["gx_cf"][ch], f"gx{ch}-")}
                                                          for ch in range(state.channels)],
                "shapes": gradient_shapes(layer, nums), "paste_error": nums["paste_error"]})
    ctx.update(conv_context(state, nums, cell_at) if conv else pool_context(state, nums))
    ctx["compare"], compare_error = compare(state, nums)
    ctx["paste_error"] = ctx["paste_error"] or compare_error
    return ctx


def gradient_shapes(layer, nums: dict) -> list[tuple[str, list[int], str]]:
    """Every tensor of the backward pass with its shape, in the framework's words and layouts."""
    torch = not layer.channels_last
    rows = [("input", list(nums["x"].shape), "x"), ("output", list(nums["y"].shape), "y"),
            ("grad_output (upstream)", list(nums["g"].shape), "∂L/∂y: the output's shape"),
            ("grad_input", list(nums["gx"].shape), "∂L/∂x: the input's shape")]
    for p, g in zip(layer.params, nums["gw"]):
        name = f"{p.name}.grad" if torch else f"gradient of {p.name}"
        rows.append((name, list(g.shape), "the parameter's own shape"))
    return rows


def compare(state, nums: dict) -> tuple[dict | None, str | None]:
    """The reader's pasted grad_input or weight gradient against the engine's, cell by cell (framework layout)."""
    if not state.paste or state.paste_as == "grad_output":
        return None, None
    if state.paste_as == "grad_weight" and not nums["gw"]:
        return None, "paste_as: this layer has no weights; paste a grad_input"
    truth = nums["gx"] if state.paste_as == "grad_input" else nums["gw"][0]
    numbers, error = parse_numbers(state.paste, truth.size)
    if numbers is None:
        return None, error + f" ({state.paste_as} has shape {list(truth.shape)}, in the framework's layout)"
    return {"what": state.paste_as, "shape": list(truth.shape),
            **differences(numbers, truth.reshape(-1), _labels(truth.shape))}, None


# ------------------------------------------------------------------ picture level (a layer too large for numbers)


PICTURE_PARTS = ("input", "kernel", "output", "upstream", "grad_input", "grad_weight")
WRITTEN_TERMS = 12  # a long sum at picture level: its first terms written, the rest counted


def level(state, op) -> str:
    """'numbers' while the layer is within the numbers level's caps and every padded cell fits a readable
    size (app/core/picture.py: zoom_level), else 'picture'."""
    caps = NUMBERS_CAPS
    small = (state.channels <= caps["channels"] and state.filters_out <= caps["channels"]
             and max(state.kernel) <= caps["kernel"] and max(state.size) <= caps["size"][state.dims])
    padded = tuple(n + b + a for n, (b, a) in zip(state.size, op.padding))
    return "numbers" if small and zoom_level(padded, state.channels) == "numbers" else "picture"


def checked_layer(state):
    """The layer, after every bound (input size, output, forward and backward work); SpecError names the limit."""
    check_input_size(state.input_shape)
    layer = build_layer(state.framework, layer_spec(state), state.input_shape)
    check_layer_cost(layer)
    check_backward_cost(layer)
    return layer


def drawn_input(nums: dict) -> np.ndarray:
    """The input as the forward stage draws it, channels first: a conv's padded input (its padding mode's
    values), pooling's with its padding and what a ceil_mode window reaches past it as NaN (grey: no value),
    as /pool draws it, so the last window's box stays on the picture."""
    op, x = nums["op"], nums["x_cf"]
    if isinstance(op, ConvOp):
        return pad_input(x[None], op.padding, op.padding_mode)[0]
    extent = pool_extent(op, x.shape[1:], nums["g_cf"].shape[1:])
    pads = [(b, hi - n) for (b, _), (_, hi), n in zip(op.padding, extent, x.shape[1:])]
    return np.pad(x.astype(np.float64), ((0, 0), *pads), constant_values=np.nan)


def abridged(parts: list[str]) -> str:
    """A long sum's terms: the first WRITTEN_TERMS and how many more.

    >>> abridged(["1", "2"]), abridged([str(i) for i in range(20)])[-20:]
    ('1 + 2', '10 + 11 + … (8 more)')
    """
    if len(parts) <= WRITTEN_TERMS:
        return " + ".join(parts)
    return " + ".join(parts[:WRITTEN_TERMS]) + f" + … ({len(parts) - WRITTEN_TERMS} more)"


def _weights_shown(w: np.ndarray, f: int, prefix: str) -> list[dict] | None:
    """Filter ``f``'s kernels as numbers (one grid per input channel of its group) when they fit (at most
    27 numbers), else None (drawn as a picture)."""
    if w[f].size > 27:
        return None
    return [{"c": cl, "grid": grid(w[f, cl], f"{prefix}{f}-{cl}-")} for cl in range(w.shape[1])]


def picture_level(state, nums: dict, lens: bool = False) -> dict:
    """The stage at picture level: the forward input, weights and output, the upstream gradient, grad_input and
    the weights' gradient as pictures (URLs of /backprop/picture), and the lens: the current input-gradient
    cell's sum written out (``grad_input_terms``, or ``pool_shares`` for pooling), the current weight's
    gradient (``grad_weight_terms``) and the bias' — the numbers level's functions."""
    op = nums["op"]
    conv = isinstance(op, ConvOp)
    spatial, out_spatial = tuple(state.size), tuple(nums["g_cf"].shape[1:])
    n_out = math.prod(out_spatial)
    n_filters = nums["g_cf"].shape[0]
    clicked = state.upstream == "cell" and state.cell < n_filters * n_out and not (
        state.paste and state.paste_as == "grad_output")
    f, k = divmod(state.cell, n_out) if clicked else (0, 0)
    query = canonical_query(state, step=0, wstep=0)
    url = lambda part, c: picture_url("/backprop", query, part, c)  # noqa: E731
    xp = drawn_input(nums)
    cg = op.in_channels // op.groups if conv else 1
    og = op.out_channels // op.groups if conv else 1
    first = f // og * cg if conv else f
    deck_in = range(first, min(first + (cg if conv else state.channels), first + DECK, state.channels))
    kernel_numbers = _weights_shown(nums["w_cf"], f, "w") if conv else None
    pic = picture_stage(
        in_block=nums["x_cf"], out_block=nums["y_cf"], in_spatial=tuple(xp.shape[1:]), out_spatial=out_spatial,
        geometry=(op.stride, op.kernel, op.dilation), block=range(k, k + 1), step=k,
        inputs=[{"c": c, "src": url("input", c), **({} if conv else {"out_src": url("output", c)})} for c in deck_in],
        outputs=[{"f": fo, "src": url("output", fo), "link": canonical_query(
            state, upstream="cell", cell=fo * n_out + (k if clicked else 0), step=0, wstep=0)}
                 for fo in range(min(n_filters, DECK))] if conv else [{"f": f, "src": url("output", f), "link": ""}],
        kernel_src=url("kernel", f) if conv and kernel_numbers is None else None,
        kernel_taps=math.prod(op.kernel), pad=[b for b, _ in op.padding])
    pic["now"]["pending"] = [[]]
    if not clicked:
        pic["now"]["boxes"], pic["now"]["markers"] = [[]], [[0, 0, 0, 0]]
    if conv and f >= DECK:  # the focused filter's thumbnail is past the deck: its picture still drawn large
        pic["outputs"].append({"f": f, "src": url("output", f), "link": ""})
    # the backward pass: the step's input-gradient cell and its sum
    cells = state.channels * math.prod(spatial)
    step, step_error = _step(state.step, cells, "step", "input-gradient cells")
    c, *pos = (int(i) for i in np.unravel_index(step, (state.channels, *spatial)))
    gx = nums["gx_cf"]
    if conv:
        lens_ctx = conv_lens(state, nums, c, tuple(pos))
    else:
        lens_ctx = pool_lens(nums, c, tuple(pos))
    reached = None  # an input cell the clicked output depended on (the middle one), for the lens to jump to
    if clicked:
        dep_cells = depends(state, nums)[2]
        if dep_cells and (c, *pos) not in {tuple(d) for d in dep_cells}:
            reached = int(np.ravel_multi_index(dep_cells[len(dep_cells) // 2], (state.channels, *spatial)))
    size = picture_size(spatial)
    gx_px = fit(size, PICTURE_PX)
    up_px = fit(picture_size(out_spatial), PICTURE_PX)
    out = {
        "level": "picture", "picture": pic, "f": f, "clicked": clicked, "cell_first": f * n_out,
        "cell_url": canonical_query(state, upstream="cell", cell=f * n_out, step=0, wstep=0),
        "cell_now": k, "grey": not conv and xp.shape[1:] != spatial, "past": not conv and xp.shape[1:] != tuple(
            n + b + a for n, (b, a) in zip(spatial, op.padding)),
        "kernel_numbers": kernel_numbers,
        "back": {"step": step, "cells": cells, "step_error": step_error, "at": [c, *pos],
                 "value": fmt(float(gx[(c, *pos)])),
                 "gx_src": url("grad_input", c), "gx_px": gx_px, "size": size, "cell": cell_at(tuple(pos), spatial),
                 "first": c * math.prod(spatial),
                 "gx_limit": fmt(picture_limit(gx)), "layout": {"out": list(spatial)},
                 "up_src": url("upstream", f), "up_px": up_px, "up_limit": fmt(picture_limit(nums["gpre_cf"])),
                 "up_f": f, "reached": reached, "dep_count": len(dep_cells) if clicked else 0, **lens_ctx},
    }
    if conv:
        out["wlens"] = weight_lens(state, nums, f)
    return out


def conv_lens(state, nums: dict, c: int, pos: tuple[int, ...]) -> dict:
    """One input-gradient cell of a conv, as the numbers level writes it: per output channel of its group, the
    dilated, padded upstream gradient's cells times the flipped kernel's taps (``grad_input_terms``); with a
    folding padding mode, the cell's sum on the padded input plus what comes back from the padding it copied."""
    op = nums["op"]
    up, pads = upstream_grid(nums["gpre_cf"], op, tuple(state.size))
    befores = [b for b, _ in op.padding]
    folded = op.padding_mode != "zeros"
    at = tuple(p + b for p, b in zip(pos, befores)) if folded else pos
    lines = grad_input_terms(up, nums["w_cf"], op, c, at)
    out = {"lines": [(f"from output channel {o}: " + " + ".join(term(a, b) for a, b in t) + " = ",
                      fmt(sum(a * b for a, b in t))) for o, t in lines],
           "pads": [list(p) for p in pads], "folded": folded}
    if folded:  # every padded cell that copied this input cell (itself first): its sum comes back here
        sources = [fold_sources(n, p, op.padding_mode) for n, p in zip(state.size, op.padding)]
        copies = sorted(itertools.product(*[np.flatnonzero(src == q).tolist() for src, q in zip(sources, pos)]),
                        key=lambda cell: cell != at)
        if len(copies) > 1:
            sums = [sum(a * b for _, t in grad_input_terms(up, nums["w_cf"], op, c, cell) for a, b in t)
                    for cell in copies]
            out["fold"] = " + ".join(f"{signed(v)} ({'itself' if cell == at else f'padded {index_text(cell)}'})"
                                     for cell, v in zip(copies, sums)) + " = "
    return out


def pool_lens(nums: dict, c: int, pos: tuple[int, ...]) -> dict:
    """One input-gradient cell of a pooling layer: what each window routed to it (``pool_shares``)."""
    op = nums["op"]
    mine = pool_shares(nums["x_cf"][c], nums["gpre_cf"][c], op).get(pos, [])
    if op.kind == "max":
        parts = [f"{signed(v)} (output {index_text(o)}: this cell won its window)" for o, v, _ in mine]
    else:
        parts = [f"{signed(v)}/{d} (output {index_text(o)})" for o, v, d in mine]
    line = (" + ".join(parts) if parts else "this cell won no window: no gradient comes back" if op.kind == "max"
            else "no window reads this cell")
    return {"lines": [(line + " = ", None)]}


def weight_lens(state, nums: dict, f: int) -> dict:
    """The current weight's gradient (``wstep``) and filter ``f``'s bias gradient, abridged when long; filter
    ``f``'s whole weight gradient as numbers when it fits, else its picture's URL."""
    op = nums["op"]
    gw = nums["canonical"]
    cg, og = op.in_channels // op.groups, op.out_channels // op.groups
    wstep, wstep_error = _step(state.wstep, gw["weight"].size, "wstep", "weights")
    fw, cl, *tap = (int(i) for i in np.unravel_index(wstep, gw["weight"].shape))
    xp = pad_input(nums["x_cf"][None], op.padding, op.padding_mode)[0]
    terms = grad_weight_terms(xp, nums["gpre_cf"], op, fw, fw // og * cg + cl, tuple(tap))
    numbers = _weights_shown(gw["weight"], f, "gw")
    out = {"step": wstep, "count": gw["weight"].size, "step_error": wstep_error, "at": [fw, cl, *tap],
           "c": fw // og * cg + cl, "line": abridged([term(a, b) for a, b in terms]) + " = ", "terms": len(terms),
           "value": fmt(float(gw["weight"][(fw, cl, *tap)])), "numbers": numbers, "f": f,
           "src": None if numbers else picture_url("/backprop", canonical_query(state, step=0, wstep=0),
                                                   "grad_weight", f),
           "limit": fmt(picture_limit(gw["weight"]))}
    if "bias" in gw:
        values = nums["gpre_cf"][f].ravel()
        out["bias"] = {"f": f, "sum": abridged([signed(v) for v in values]), "value": fmt(float(gw["bias"][f]))}
    return out


def picture_of(state, part: str, c: int) -> tuple[np.ndarray, float]:
    """One part's picture (app/core/picture.py: montage) and its colour scale's end: the drawn (padded) input
    channel ``c``, filter ``c``'s kernels (one row per input channel of its group, one column per tap), output
    channel ``c``, the upstream gradient (before the activation) of channel ``c``, grad_input channel ``c``, or
    filter ``c``'s weight gradient. SpecError names what is refused."""
    layer = checked_layer(state)
    nums = cached_run(state, layer)
    conv = isinstance(nums["op"], ConvOp)
    if part in ("kernel", "grad_weight") and not conv:
        raise SpecError(f"part: a pooling layer has no {part}", "part")
    arrays = {"input": drawn_input(nums), "output": nums["y_cf"], "upstream": nums["gpre_cf"], "grad_input": nums[
        "gx_cf"], "kernel": nums["w_cf"] if conv else None, "grad_weight": nums["canonical"].get("weight")}
    a = arrays[part]
    if not 0 <= c < a.shape[0]:
        raise SpecError(f"c: this {part} has channels 0 to {a.shape[0] - 1}, got {c}", "c")
    if part in ("kernel", "grad_weight"):
        return a[c].reshape(a.shape[1], -1).astype(np.float64), picture_limit(a)
    return montage(a[c]), picture_limit(a[np.isfinite(a)] if part == "input" else a)


def backprop_view(request: Request):
    state, errors = read_state(request.query_params)
    ctx = backprop_context(state)
    refused = bool(errors) or any(ctx.get(k) for k in ("error", "cell_error", "paste_error")) or any(
        (ctx.get(part) or {}).get("step_error") for part in ("gi", "gw", "pool", "back", "wlens"))
    return view_response(request, "backprop.html", {**ctx, "query_errors": errors}, path="/backprop",
                         query=canonical_query(state), refused=refused)


STAGE = serve(StageView("/backprop", "backprop.html", read_state, backprop_context, picture_of, parts=PICTURE_PARTS))
