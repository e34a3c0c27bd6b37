"""`/transposed`: the transposed convolution seen two ways with the same numbers.

1. Its definition, the scatter: every input value multiplies a copy of the kernel, which is added
   into an output canvas at ``i·stride`` (taps ``dilation`` apart); overlaps add up, then
   ``padding`` is cropped from the canvas and ``output_padding`` keeps more at the end.
2. The equivalent direct convolution (``app.core.conv.transposed_as_direct``): stride 1 over the
   input with ``stride − 1`` zeros inserted between its values, padded by ``dilation·(k − 1) −
   padding``, with the kernel flipped and its in/out channel axes swapped. The engine computes
   it this way; the scatter here is computed separately, and the page states the largest difference.

The URL holds the whole state in the framework's own words; the form sends simpler names
(``size`` per axis, ``channels``), which are read too, and the answer carries the canonical URL
(``HX-Replace-Url``).
"""
from __future__ import annotations

import math
from typing import Literal
from urllib.parse import urlencode

import numpy as np
from fastapi import Request
from pydantic import BaseModel, Field
from starlette.datastructures import QueryParams

from ..core.conv import (
    conv_forward,
    pad_input,
    scatter,
    scatter_step,
    scatter_steps,
    transposed_as_direct,
    zero_insert,
)
from ..core.forward import canonical_weights, output_shape, random_input, readable_weights, run_layer
from ..core.frameworks import SpecError, build_layer
from ..core.limits import check_input_size, check_layer_cost
from ..core.picture import montage, picture_limit, scatter_boxes, zoom_level
from ..core.shapes import conv_length, csv, effective_kernel, index_text, inputs_of_length
from ..display import fmt, grid, term
from ..routes.params import (
    Knob,
    check_axes,
    controls,
    in_url_words,
    input_shape_words,
    ints,
    layer_words,
    numbers_or_word,
    read_input_shape,
    read_knobs,
    read_type,
    said_once,
    state_model,
    switch_axes,
    url_words,
    validated,
    view_options,
)
from ..snippets import call, literal
from ..templating import view_response
from . import explore
from .stage import Played, StageView, picture_stage, picture_url, serve

AXES = {1: ["length"], 2: ["height", "width"]}
TYPES = {"ConvTranspose1d": ("torch", 1), "ConvTranspose2d": ("torch", 2),
         "Conv1DTranspose": ("keras", 1), "Conv2DTranspose": ("keras", 2)}
CLASS_NAMES = {name: (fw, {"dims": d}) for name, (fw, d) in TYPES.items()}  # params.read_type's table


def _output_padding(values: list[str], query) -> tuple[int, ...] | str | None:
    """Numbers per axis, or Keras' None (on every axis: the form sends it once per axis)."""
    value = ints(values)
    return None if isinstance(value, str) and all(p.strip().lower() in ("", "none") for p in value.split(",")) \
        else value or None


DRAWN = "a canvas too large to draw number by number is drawn as a picture"
MAX_SIZE = {1: 16_384, 2: 1024}  # per spatial axis; the engine's limits (app/core/limits.py) bound the whole
READABLE = {1: 40, 2: 26}  # the longest canvas axis written as numbers (the drawn layers of before stay numbers)
SHOWN = 8  # input channels of the group in the deck, filters as thumbnails
PICTURE_TERMS = 1_500  # contributions written out in one fragment's played block at picture level ...
PICTURE_STEPS = 32  # ... and steps (the render stays cheap: ~3 s of play at 10 steps/s, then the next block)
# dilation: PyTorch takes it after bias, Keras before use_bias (two knobs, one field)
DILATION = dict(per_axis=True, bounds=(1, 3), widget="slider", why="a dilation past 3 leaves gaps wider than the taps")
KNOBS = (  # every setting, declared once (app/routes/params.py: Knob), in each constructor's order
    Knob("channels", int, 2, torch="in_channels", bounds=(1, 512), widget="number", group="Input",
         label=lambda s: "in_channels" if s.torch else "Input channels", why="a wide layer still runs in a moment"),
    Knob("size", tuple[int, ...], (3, 3), per_axis=True, bounds={d: (1, n) for d, n in MAX_SIZE.items()}, start=3,
         widget="slider", label="Input {axis}", group="Input",
         why="up to the engine's limits: 250,000 values per tensor, 50,000,000 multiply-adds (" + DRAWN + ")"),
    Knob("filters", int, 2, torch="out_channels", keras="filters", bounds=(1, 512), widget="number"),
    Knob("kernel", tuple[int, ...], (3, 3), torch="kernel_size", keras="kernel_size", per_axis=True, bounds=(1, 7),
         start=3, listed=True, widget="slider", why="7×7 is the largest kernel in common use"),
    Knob("stride", tuple[int, ...], (1,), torch="stride", keras="strides", per_axis=True, bounds=(1, 4),
         widget="slider", why="upsampling by more than 4 in one layer is rare"),
    Knob("padding", tuple[int, ...] | Literal["valid", "same"], (0,), torch="padding", only="torch", per_axis=True,
         bounds=(0, 3), read=numbers_or_word, widget="select", options=lambda s, i: list(range(4)),
         why="it crops at most 3 cells from each end"),
    Knob("padding", keras="padding", only="keras", read=numbers_or_word, widget="select",
         options=(("valid", "'valid'"), ("same", "'same'"))),
    Knob("output_padding", tuple[int, ...] | None, (0,), torch="output_padding", keras="output_padding", per_axis=True,
         bounds=(0, 2),
         read=_output_padding, widget="select", options=lambda s, i: [(None, "None")] * (not s.torch) + [0, 1, 2],
         why="it stays below the stride or the dilation, at most 3"),
    Knob("dilation", tuple[int, ...], (1,), keras="dilation_rate", only="keras", **DILATION),
    Knob("groups", int, 1, torch="groups", only="torch", bounds=(1, 512), widget="number"),
    Knob("bias", bool, True, torch="bias", keras="use_bias", widget="bool"),
    Knob("dilation", torch="dilation", only="torch", **DILATION),
    Knob("weights", Literal["random", "ones"], "random", option=True, widget="select", label="Weights", group="Numbers",
         options=(("random", "random tenths"), ("ones", "all ones, bias 0"))),
    Knob("seed", int, 0, option=True, bounds=(0, 9999), widget="number", label="Seed", group="Numbers"),
    Knob("o", int, 0, option=True, bounds=(0, 511), widget="number", label="Output channel shown", group="Numbers",
         top=lambda s: s.filters - 1),  # the output channel drawn
    Knob("step", int, 0, option=True, bounds=(0, 250_000), reset=True),  # the scatter's step: one input value
    Knob("pos", int, 0, option=True, bounds=(0, 250_000), reset=True),  # the direct conv's window: one output
)
# What the generic tests read (app/views.py: ViewModule)
READS = ("framework", "type", "dims", "input_shape")  # query names read besides the knobs'
PAGES = ("type=ConvTranspose2d&size=3&size=3",)
CHOICES = {}  # query names no knob reads, with values to try
PRESETS = [  # (label, query)
    ("2×2 kernel, stride 2: the classic ×2 upsampling",
     "framework=torch&type=ConvTranspose2d&in_channels=1&out_channels=1&kernel_size=2&stride=2&input_shape=1,1,3,3"),
    ("3×3, stride 2, padding 1, output_padding 1: DCGAN-style doubling",
     ("framework=torch&type=ConvTranspose2d&in_channels=2&out_channels=1&kernel_size=3&stride=2&padding=1"
     "&output_padding=1&input_shape=1,2,3,3")),
    ("1D · Keras Conv1DTranspose(1, 3, strides=2, padding='same')",
     "framework=keras&type=Conv1DTranspose&filters=1&kernel_size=3&strides=2&padding=same&input_shape=1,4,1"),
    ("Dilated · ConvTranspose1d(1, 1, 3, dilation=2)",
     "framework=torch&type=ConvTranspose1d&in_channels=1&out_channels=1&kernel_size=3&dilation=2&input_shape=1,1,4"),
]
# the bare URL: a layer worth watching (the model's defaults are the frameworks' own: stride 1, ...)
DEFAULT = ("framework=torch&type=ConvTranspose2d&in_channels=2&out_channels=2&kernel_size=3&stride=2"
           "&input_shape=1,2,3,3")
VIEW_OPTIONS = {"theme", "controls", "autoplay", "present", *(k.field for k in KNOBS if k.option)}  # not the layer
KERAS_RULES = [  # keras/src/ops/operation_utils.py: compute_conv_transpose_output_shape (k: the dilated kernel)
    ("valid", "None", "n·strides + max(k − strides, 0)"),
    ("same", "None", "n·strides"),
    ("valid", "p", "(n − 1)·strides + k + p"),
    ("same", "p", "(n − 1)·strides + k − 2·(k // 2) + p"),
]


class _TransposedState(BaseModel):
    """The view's state: these fields and properties, and one field per knob (its type, default and bounds)."""

    framework: Literal["torch", "keras"] = "torch"
    dims: int = Field(2, ge=1, le=2)

    @property
    def torch(self) -> bool:
        return self.framework == "torch"

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (1, self.channels, *self.size) if self.torch else (1, *self.size, self.channels)


TransposedState = state_model("TransposedState", KNOBS, _TransposedState)


def read_state(query: QueryParams) -> tuple[TransposedState, list[str]]:
    """The state from a URL in either framework's words (or the form's); messages for what was refused."""
    if not set(query) - VIEW_OPTIONS:  # no layer named: the default one
        query = QueryParams(DEFAULT + "&" + str(query))
    raw: dict[str, object] = {}
    errors: list[str] = []
    framework = read_type(query, CLASS_NAMES, "type: /transposed shows ConvTranspose1d/2d (PyTorch) or "
                          "Conv1DTranspose/Conv2DTranspose (Keras), got {!r}", raw, errors)
    if "dims" in query:
        raw["dims"] = query["dims"]
    said: dict[str, str] = {}  # state field -> the word the URL used for it (params.in_url_words)
    read_knobs(KNOBS, query, framework, raw, said)
    if "padding" not in query and framework == "keras":
        raw["padding"] = "valid"  # Keras' default; PyTorch's is 0
    if "output_padding" not in query and framework == "keras":
        raw["output_padding"] = None  # Keras' default: its rules then depend on 'valid' / 'same'
    if framework == "keras" and query.get("groups", "1") != "1":
        errors.append(f"groups: Keras' transposed convolutions have no groups keyword, got {query['groups']!r}; "
                      "showing groups=1")
        raw["groups"] = 1
    if "size" not in query and "input_shape" in query:
        _read_input_shape(query["input_shape"], framework, raw, errors)
        said.update(input_shape_words(framework))
    state, errors = _validate(raw, errors)
    return state, in_url_words(errors, said)


def _read_input_shape(text: str, framework: str, raw: dict, errors: list[str]) -> None:
    """(1, C, *size) in PyTorch, (1, *size, C) in Keras: one example, so the batch is 1."""
    read = read_input_shape(text, framework, (3, 4), raw.get("channels"), errors)
    if read is None:
        return
    if read[0] != 1:
        errors.append(f"input_shape: /transposed draws one example, so the batch (first number) must be 1, "
                      f"got {read[0]}; showing 1")
    raw["channels"], raw["size"] = read[1:]
    raw.setdefault("dims", len(read[2]))


def _validate(raw: dict, errors: list[str]) -> tuple[TransposedState, list[str]]:
    state = validated(TransposedState, raw, errors)
    dims, fixes = state.dims, check_axes(KNOBS, state, raw, errors)
    if state.o >= state.filters:
        errors.append(f"o: the output channel shown must be below {'out_channels' if state.torch else 'filters'}"
                      f"={state.filters}, got {state.o}")
        fixes["o"] = 0
    if state.torch and state.output_padding is None:
        fixes["output_padding"] = (0,) * dims  # PyTorch has no None: its default is 0
    if not state.torch and isinstance(state.padding, tuple):
        errors.append(f"padding: Keras takes 'valid' or 'same', got {csv(said_once(state.padding))!r}; "
                      "showing 'valid'")
        fixes["padding"] = "valid"
    return state.model_copy(update=fixes), errors


def layer_spec(state: TransposedState) -> dict:
    """The transposed conv layer in the framework's own words."""
    kind = f"ConvTranspose{state.dims}d" if state.torch else f"Conv{state.dims}DTranspose"
    return {"type": kind, **layer_words(KNOBS, state)}


def canonical_query(state: TransposedState, **changes) -> str:
    """The view's URL query in the framework's words (docs/API.md "View URLs")."""
    state = state.model_copy(update=changes)
    return urlencode({"framework": state.framework, **url_words(layer_spec(state)),
                      "input_shape": csv(state.input_shape), **view_options(KNOBS, state)}, safe=",")


def switched(state: TransposedState, *, framework: str | None = None, dims: int | None = None) -> TransposedState:
    """The same layer in the other framework or dimensionality, keeping what carries over."""
    framework, dims = framework or state.framework, dims or state.dims
    update = {"framework": framework, "dims": dims, **switch_axes(KNOBS, state, dims)}
    was = state.framework
    state = state.model_copy(update=update)
    if framework != was:
        axes = list(zip(state.kernel, state.stride, state.dilation))
        if framework == "keras":  # Keras has words, not numbers, for padding, and no groups
            state = state.model_copy(update={"padding": "valid" if not any(state.padding) else "same", "groups": 1})
            if any(q >= s for q, s in zip(state.output_padding or (0,) * dims, state.stride)):
                state = state.model_copy(update={"output_padding": None})
        else:  # the PyTorch numbers that give Keras' length where they can, axis by axis
            pads, extras = [], []
            for a, (k, s, d) in enumerate(axes):
                eff = effective_kernel(k, d)
                pad = 0 if state.padding == "valid" else min(3, (eff - 1) // 2)
                q = None if state.output_padding is None else state.output_padding[a]
                if q is None:  # Keras' None: 'same' gives n·s, 'valid' n·s + max(k − s, 0)
                    q = s - eff + 2 * pad if state.padding == "same" else max(s - eff, 0)
                pads.append(pad)
                extras.append(q if 0 <= q < max(s, d) else 0)
            state = state.model_copy(update={"padding": tuple(pads), "output_padding": tuple(extras)})
    return state


# ---------------------------------------------------------------- the arithmetic

def axis_rows(state: TransposedState, op, out_spatial) -> list[dict]:
    """Per axis: the framework's output-size formula with the numbers, and where the output sits on
    the scatter canvas (what padding crops, what output_padding adds)."""
    rows = []
    for a, (n, k, L) in enumerate(zip(state.size, state.kernel, out_spatial)):
        s, d = state.stride[a], state.dilation[a]
        eff = effective_kernel(k, d)
        full = (n - 1) * s + eff
        start = op.padding[a][0]
        if state.torch:
            p, q = state.padding[a], (state.output_padding or (0,) * state.dims)[a]
            text = f"({n} − 1)·{s} − 2·{p} + {d}·({k} − 1) + {q} + 1 = {L}"
            rule = None
        else:
            q = None if state.output_padding is None else state.output_padding[a]
            same = state.padding == "same"
            if q is None and not same:
                text = f"{n}·{s} + max({eff} − {s}, 0) = {n * s} + {max(eff - s, 0)} = {L}"
            elif q is None:
                text = f"{n}·{s} = {L}"
            elif not same:
                text = f"({n} − 1)·{s} + {eff} + {q} = {L}"
            else:
                text = (f"({n} − 1)·{s} + {eff} − 2·({eff} // 2) + {q} = "
                        f"{(n - 1) * s} + {eff} − {2 * (eff // 2)} + {q} = {L}")
            rule = (state.padding, "None" if q is None else "p")
        rows.append({"axis": AXES[state.dims][a], "n": n, "k": k, "s": s, "d": d, "eff": eff, "full": full,
                     "text": text, "rule": rule, "start": start, "end": start + L - 1, "out": L,
                     "crop_before": start, "crop_after": max(full - start - L, 0), "extra": max(start + L - full, 0),
                     "full_text": f"({n} − 1)·{s} + {d}·({k} − 1) + 1 = {full}"})
        r = rows[-1]  # the direct conv's padding: the span − 1 less what the scatter crops, plus what it adds
        extra = f" + {r['extra']}" if r["extra"] else ""
        before, after = (str(v).replace("-", "−") for v in (eff - 1 - r["crop_before"],
                                                            eff - 1 - r["crop_after"] + r["extra"]))
        r["direct_text"] = (f"{d}·({k} − 1) − {r['crop_before']} = {before} before, "
                            f"{d}·({k} − 1) − {r['crop_after']}{extra} = {after} after")
    return rows


def _forward_pad(state: TransposedState, a: int):
    """The forward conv's padding on axis a, as core.shapes.conv_length takes it (None: 'same')."""
    if state.padding == "same":
        return None
    pad = state.padding[a] if isinstance(state.padding, tuple) else 0
    return (pad, pad)


def inverse(state: TransposedState, out_shape: list[int], out_spatial) -> dict:
    """The forward conv whose shape this transposed conv inverts: the same kernel, stride, padding,
    dilation (and groups), channels swapped, on this layer's output shape; and, per axis, which
    input lengths that Conv maps to the same length (the ambiguity output_padding resolves)."""
    d = state.dims
    forward = explore.ExploreState().model_copy(update={  # as /explore writes it: one declaration of the layer
        "framework": state.framework, "dims": d, "batch": out_shape[0], "channels": state.filters,
        "size": tuple(out_spatial),
        "filters": state.channels, "kernel": state.kernel, "stride": state.stride, "padding": state.padding,
        "dilation": state.dilation, "groups": state.groups, "bias": state.bias})
    spec = explore.layer_spec(forward)
    result = {"call": call(spec), "url": "/explore?" + explore.canonical_query(forward), "axes": []}
    try:
        result["shape"] = list(output_shape(build_layer(state.framework, spec, tuple(out_shape))))
    except SpecError as e:
        result["error"] = str(e)
        return result
    result["round_trip"] = result["shape"] == list(state.input_shape)
    for a, (n, k, L) in enumerate(zip(state.size, state.kernel, out_spatial)):
        words = {"stride": state.stride[a], "pad": _forward_pad(state, a), "dilation": state.dilation[a]}
        result["axes"].append({"axis": AXES[d][a], "n": n, "out": L, "lengths": inputs_of_length(n, k, **words),
                               "s": state.stride[a], "q": (state.output_padding or (0,) * d)[a],
                               "back": conv_length(L, k, **words)})
    return result


def _code(state: TransposedState, spec: dict, x_shape, w_shape, y_shape) -> str:
    taps = ", ".join("k" + a[0].upper() for a in AXES[state.dims])  # kH, kW
    if state.torch:
        return "\n".join(["import torch", "from torch import nn", "", f"up = {call(spec, 'nn.')}",
                          f"x = torch.randn{tuple(x_shape)}", "y = up(x)",
                          (f"print(up.weight.shape)  # torch.Size({list(w_shape)}): "
                           f"(in_channels, out_channels / groups, {taps})"),
                          f"print(y.shape)          # torch.Size({list(y_shape)})"])
    return "\n".join(["import keras", "", f"up = {call(spec, 'keras.layers.')}",
                      f"x = keras.random.normal({tuple(x_shape)})", "y = up(x)",
                      (f"print(up.kernel.shape)  # {tuple(w_shape)}: "
                      f"({taps}, filters, input channels)"),
                      f"print(y.shape)          # {tuple(y_shape)}"])


def _scatter_view(state: TransposedState, op, xs: np.ndarray, ws: np.ndarray, bias: np.ndarray, rows: list[dict],
                  chans: list[int], ctx: dict) -> dict:
    """The scatter for output channel ``state.o``, up to step ``state.step`` (one input value per step,
    channel by channel, row-major): the running canvas, the stamp being added, the output so far."""
    o, nd = state.o, op.dims
    og = op.out_channels // op.groups
    cg = len(chans)
    canvas = tuple(max(r["full"], r["start"] + r["out"]) for r in rows)
    window = tuple(slice(r["start"], r["start"] + r["out"]) for r in rows)
    full = scatter(xs, ws, op, canvas)[(slice(None), *window)] + np.round(bias, 6).reshape(-1, *[1] * nd)
    positions = math.prod(state.size)
    total_steps = cg * positions
    step = state.step
    if step >= total_steps:
        ctx["step_error"] = (f"step: this layer adds {total_steps} input values into output channel {o} "
                             f"(steps 0 to {total_steps - 1}), got {step}")
        step = 0
    # the last step that adds into each canvas cell: the last channel's value there (−1: none does)
    last = np.full(canvas, -1)
    flat = np.arange(positions).reshape(state.size) + (cg - 1) * positions
    for tap in np.ndindex(*op.kernel):
        at = tuple(slice(j * d, j * d + (n - 1) * s + 1, s)
                   for j, d, s, n in zip(tap, op.dilation, op.stride, state.size))
        last[at] = np.maximum(last[at], flat)
    kernel_o = ws[chans][:, o % og]                         # (cg, *k): w[c, o] for each input channel
    played = _played_scatter(state, chans, scatter_steps(xs[chans], kernel_o, op, canvas), canvas, window, bias[o],
                             last[window], step)
    now, drawn = played.pop("now"), played.pop("drawn")
    c_now, i_pos, stamp, x_now = now.channel, now.position, now.stamp, now.value
    inside = np.zeros(canvas, dtype=bool)
    inside[window] = True
    beyond = np.zeros(canvas, dtype=bool)                   # past the full scatter: output_padding's zeros
    for a, r in enumerate(rows):
        beyond[(slice(None),) * a + (slice(r["full"], None),)] = True
    stamped = np.zeros(canvas, dtype=bool)
    for cell in stamp:
        stamped[cell] = True
    return {
        "inputs": [{"c": c, "grid": grid(xs[c], f"x{c}-", _lit(state.size, i_pos) if c == chans[c_now] else None)}
                   for c in chans],
        "kernels": [{"c": c, "grid": grid(kernel_o[i], f"w{c}-")} for i, c in enumerate(chans)],
        "canvas": grid(drawn, "s-", _classes(canvas, crop=~inside, extra=beyond & inside, lit=stamped)),
        "output": grid(drawn[window] + np.round(bias[o], 6), "y-",
                       _classes(full.shape[1:], pending=last[window] > step)),  # the kept canvas + bias, so far
        "step": step, "total_steps": total_steps, "scattered": full,
        "now": {"c": chans[c_now], "i": list(i_pos), "x": x_now, "at": list(stamp[0]),
                "contrib": grid(now.adds, "k-")},
        "scatter_data": played,
        "scatter_y": full[o],
    }


def scatter_texts(state: TransposedState, step: int, total_steps: int, c: int, i_pos, x: float, at) -> dict:
    """What templates/transposed.html writes for the scatter's ?step=n: the player's label and the stamp's
    sentence (before the value, the value, after it)."""
    said = literal(list(state.dilation))
    return {"label": f"{step} of {total_steps}: x{index_text((c, *i_pos))}",
            "stamp": (f"x{index_text((c, *i_pos))} = ", fmt(x),
                      f" times the kernel, added at canvas {index_text(at)}"
                      + (f" (taps {said} apart):" if max(state.dilation) > 1 else ":"))}


def _played_scatter(state, chans, steps, canvas, window, bias_o, last, step) -> dict:
    """Every scatter step as the browser plays it, from what renders ?step=n (core.conv.scatter_steps,
    scatter_texts, fmt): the canvas and output texts before any step (``canvas0``, ``y0``), then per step
    ``[label, stamp (rich), [input channel, input cell], [contribution text per tap], [canvas cells stamped],
    [canvas cell, text, ...] changed, [output cell, text, ...] changed]``; ``last``: the last step that adds
    into each output cell (faded until then); ``window``: each output's canvas cell. Also, for the page,
    step ``step`` itself (``now``) and the canvas after it (``drawn``)."""
    texts, played = Played(), []
    flat = np.arange(math.prod(canvas)).reshape(canvas)
    output_of = {int(cell): k for k, cell in enumerate(flat[window].ravel())}  # canvas cell -> output cell
    shown_canvas, shown_out = {}, {}  # the texts drawn so far, where they differ from before any step
    b = np.round(bias_o, 6)  # as the output grid adds it
    total_steps = len(chans) * math.prod(state.size)
    now = drawn = None
    for s, (at, canvas_now) in enumerate(steps):  # only the cells this step stamps can change
        if s == step:
            now, drawn = at, canvas_now.copy()
        t = scatter_texts(state, s, total_steps, chans[at.channel], at.position, at.value, at.stamp[0])
        changed = {"canvas_cells": [], "canvas_texts": [], "out_cells": [], "out_texts": []}
        for cell in at.stamp:
            i = int(flat[cell])
            text = fmt(float(canvas_now[cell]))
            if shown_canvas.get(i, fmt(0.0)) != text:
                shown_canvas[i] = text
                changed["canvas_cells"].append(i)
                changed["canvas_texts"].append(texts.text(text))
            if i in output_of:
                text = fmt(float(canvas_now[cell] + b))
                if shown_out.get(i, fmt(0.0 + b)) != text:
                    shown_out[i] = text
                    changed["out_cells"].append(output_of[i])
                    changed["out_texts"].append(texts.text(text))
        played.append(texts.step(label=t["label"], stamp=rich(texts, stamp_pieces(t)),
                                 input=[chans[at.channel], int(np.ravel_multi_index(at.position, state.size))],
                                 contribs=[fmt(v) for v in at.adds.ravel()], stamped=[int(flat[c]) for c in at.stamp],
                                 **changed))
    return {"step": step, "canvas0": texts.text(fmt(0.0)), "y0": texts.text(fmt(0.0 + b)),
            "last": np.asarray(last).ravel().tolist(), "window": flat[window].ravel().tolist(), "scatter": played,
            "scatter_texts": texts.texts, "now": now, "drawn": drawn}


def stamp_pieces(t: dict) -> list[tuple[str, str]]:
    """The stamp's sentence (scatter_texts) as rich text: before the value, the value, after it."""
    return [("text", t["stamp"][0]), ("value", t["stamp"][1]), ("text", t["stamp"][2])]


def rich(played: Played, pieces: list[tuple[str, str]]) -> list[dict]:
    """Rich text as the browser sets it (static/transposed.js: rich): pieces by name, ``kind`` one of 'text',
    'product', 'zero' (a product reading an inserted zero or padding) or 'value', ``text`` an index into the
    texts."""
    return [{"kind": kind, "text": played.text(text)} for kind, text in pieces]


def _direct_view(state: TransposedState, op, x_cf: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                 chans: list[int], ctx: dict) -> dict:
    """The direct conv (``transposed_as_direct``) for output channel ``state.o``: the zero-inserted,
    padded input (which cells are inserted zeros, which padding), the flipped kernel, and the window
    at ``state.pos`` written out."""
    o = state.o
    direct, direct_w = transposed_as_direct(op, w)
    up = zero_insert(x_cf[None], op.stride)
    xp = np.round(pad_input(up, direct.padding)[0].astype(np.float64), 6)
    codes = np.ones(up.shape, dtype=np.float32)             # 0: an input value, 1: an inserted zero, 2: padding
    codes[(slice(None), slice(None), *[slice(None, None, s) for s in op.stride])] = 0
    codes = pad_input(codes, direct.padding, value=2.0)[0, 0]
    y = conv_forward(up, direct_w, b, direct)[0]
    out, padded = tuple(y.shape[1:]), tuple(xp.shape[1:])
    pos = state.pos
    if pos >= math.prod(out):
        ctx["pos_error"] = f"pos: the output has {math.prod(out)} positions (0 to {math.prod(out) - 1}), got {pos}"
        pos = 0
    dw = np.round(direct_w[o].astype(np.float64), 6)        # (cg, *k)

    def window_at(pos: int):  # output position pos: its window's padded cells and every channel's products
        q = tuple(int(v) for v in np.unravel_index(pos, out))
        cells = [tuple(qq + j * d for qq, j, d in zip(q, tap, op.dilation)) for tap in np.ndindex(*op.kernel)]
        arithmetic = []
        for local, c in enumerate(chans):
            terms = [(float(xp[(c, *cell)]), float(dw[(local, *tap)]), int(codes[cell]) != 0)
                     for cell, tap in zip(cells, np.ndindex(*op.kernel))]
            arithmetic.append({"c": c, "terms": terms, "total": sum(a * bw for a, bw, _ in terms)})
        return q, cells, arithmetic

    q, cells, arithmetic = window_at(pos)
    window = np.zeros(padded, dtype=bool)
    for cell in cells:
        window[cell] = True
    cls = _classes(padded, inserted=codes == 1, pad=codes == 2, lit=window)
    current = np.zeros(out, dtype=bool)
    current[q] = True
    return {
        "direct_y": y, "direct_pad": [list(p) for p in direct.padding],
        "padded_inputs": [{"c": c, "grid": grid(xp[c], f"d{c}-", cls)} for c in chans],
        "flipped": [{"c": c, "grid": grid(dw[i], f"f{c}-")} for i, c in enumerate(chans)],
        "direct_out": grid(y[o], "z-", _classes(out, current=current)), "out_positions": math.prod(out),
        "pos": pos, "q": list(q), "arithmetic": arithmetic, "direct_value": float(y[(o, *q)]),
        "direct_data": _played_direct(out, padded, window_at, y[o], 0.0 if b is None else float(np.float64(b[o])), pos),
        "direct_z": y[o],
    }


def _picture_view(state: TransposedState, op, xs: np.ndarray, ws: np.ndarray, bias: np.ndarray, rows: list[dict],
                  chans: list[int], ctx: dict, lens: bool, y: np.ndarray) -> dict:
    """The scatter at picture level (app/routes/stage.py): the input channel of step ``state.step`` large (the
    group's first channels as a deck, each with its kernel into output ``state.o``), the finished output channel
    large (the first filters as a deck), the step's input value and where its kernel copy lands as boxes
    (app/core/picture.py: scatter_boxes), and the played block of steps (core.conv.scatter_step, scatter_texts)
    by name: ``label``, ``channel``, ``stamp`` (rich), ``contribs``. No running canvas is drawn. ``y``: the engine's
    output, whose pictures and scale the page shows (picture_of)."""
    o, nd, og = state.o, op.dims, op.out_channels // op.groups
    canvas = tuple(max(r["full"], r["start"] + r["out"]) for r in rows)
    window = tuple(slice(r["start"], r["start"] + r["out"]) for r in rows)
    full = None if lens else (scatter(xs, ws, op, canvas)[(slice(None), *window)]
                              + np.round(bias, 6).reshape(-1, *[1] * nd))
    positions = math.prod(state.size)
    total_steps = len(chans) * positions
    step = state.step
    if step >= total_steps:
        ctx["step_error"] = (f"step: this layer adds {total_steps} input values into output channel {o} "
                             f"(steps 0 to {total_steps - 1}), got {step}")
        step = 0
    kernel_o = ws[chans][:, o % og]                         # (cg, *k): w[c, o] for each input channel
    at = lambda s: scatter_step(xs[chans], kernel_o, op, s // positions,  # noqa: E731
                                tuple(int(v) for v in np.unravel_index(s % positions, state.size)))
    block = 1 if lens else max(1, min(total_steps, PICTURE_STEPS, PICTURE_TERMS // math.prod(op.kernel)))
    first = step // block * block
    texts, steps = Played(), []
    for s in range(first, min(total_steps, first + block)):
        st = at(s)
        t = scatter_texts(state, s, total_steps, chans[st.channel], st.position, st.value, st.stamp[0])
        steps.append(texts.step(label=t["label"], channel=chans[st.channel], stamp=rich(texts, stamp_pieces(t)),
                                contribs=[fmt(v) for v in st.adds.ravel()]))
    now = at(step)
    query = canonical_query(state, step=0, pos=0, o=0)
    url = lambda part, c: picture_url("/transposed", query, part, c)  # noqa: E731
    focus = chans[now.channel]
    deck = [focus, *(c for c in chans[:SHOWN] if c != focus)]
    crop = tuple(r["start"] for r in rows)
    picture = picture_stage(
        in_block=xs, out_block=y, in_spatial=tuple(state.size), out_spatial=tuple(y.shape[1:]), geometry=(),
        block=range(first, first + len(steps)), step=step, point="input",
        where=lambda steps: scatter_boxes(op.stride, op.kernel, op.dilation, crop, tuple(state.size),
                                          tuple(y.shape[1:]), steps),
        inputs=[{"c": c, "src": url("input", c)} for c in deck],
        outputs=[{"f": f, "src": url("output", f), "link": canonical_query(state, o=f, step=0, pos=0), "field": "o"}
                 for f in sorted({*range(min(state.filters, SHOWN)), o})])
    block_channels = sorted({st["channel"] for st in steps})
    return {
        "level": "picture", "picture": picture, "step": step, "total_steps": total_steps, "scattered": full,
        "kernels": [{"c": c, "grid": grid(kernel_o[chans.index(c)], f"w{c}-")} for c in deck],
        "now": {"c": focus, "i": list(now.position), "x": now.value, "at": list(now.stamp[0]),
                "contrib": grid(now.adds, "k-")},
        "scatter_data": {"step": step, "first": first, "total": total_steps, "scatter": steps,
                         "scatter_texts": texts.texts, "positions": positions, "picture": picture["boxes"],
                         "sources": {c: url("input", c) for c in block_channels}},
    }


def picture_of(state: TransposedState, part: str, c: int) -> tuple[np.ndarray, float]:
    """The picture (app/core/picture.py: montage) of input channel ``c`` or output channel ``c`` (the finished
    output, bias included, as the engine computes it), and its colour scale's end (every channel's values, as
    the page's legend). SpecError names what is refused."""
    check_input_size(state.input_shape)
    layer = build_layer(state.framework, layer_spec(state), state.input_shape)
    check_layer_cost(layer)
    count = state.channels if part == "input" else state.filters
    if not 0 <= c < count:
        raise SpecError(f"c: this layer's {part} has channels 0 to {count - 1}, got {c}", "c")
    x = random_input((1, state.channels, *state.size), state.seed)
    if part == "input":
        x = np.round(x[0].astype(np.float64), 6)
        return montage(x[c]), picture_limit(x)
    if layer.channels_last:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    y = run_layer(layer, x, readable_weights(layer, state.seed, state.weights))
    y = (np.moveaxis(y, -1, 1) if layer.channels_last else y)[0].astype(np.float64)
    return montage(y[c]), picture_limit(y)


def direct_texts(pos: int, positions: int, q, arithmetic: list[dict], bias: float, value: float) -> dict:
    """What templates/transposed.html writes for the direct conv's ?pos=n: the label, the title, each
    channel's line as rich text (app/routes/transposed.py: rich), the total."""
    lines = []
    for ch in arithmetic:
        line = [("text", f"channel {ch['c']}: ")]
        for k, (xv, wv, zero) in enumerate(ch["terms"]):
            line += ([("text", " + ")] if k else []) + [("zero" if zero else "product", term(xv, wv))]
        lines.append(line + [("text", " = "), ("value", fmt(ch["total"]))])
    where = index_text(q)
    return {"label": f"{pos} of {positions}: output {where}", "title": f"Output {where}, written out",
            "lines": lines, "total": [("text", f"sum of channels + bias ({fmt(bias)}) = "), ("value", fmt(value))]}


def _played_direct(out, padded, window_at, z: np.ndarray, bias: float, pos: int) -> dict:
    """Every window of the direct conv as the browser plays it, from what renders ?pos=n (window_at,
    direct_texts): per position, by name, ``label``, ``title``, ``cells`` (the padded cells lit), ``lines`` (a
    rich line per channel) and ``total`` (rich), the texts once each in ``direct_texts``."""
    texts, steps = Played(), []
    positions = math.prod(out)
    flat = np.arange(math.prod(padded)).reshape(padded)
    for p in range(positions):
        q, cells, arithmetic = window_at(p)
        t = direct_texts(p, positions, q, arithmetic, bias, float(z[q]))
        steps.append(texts.step(label=t["label"], title=t["title"], cells=[int(flat[cell]) for cell in cells],
                                lines=[rich(texts, line) for line in t["lines"]], total=rich(texts, t["total"])))
    return {"pos": pos, "direct": steps, "direct_texts": texts.texts}


def transposed_context(state: TransposedState, x: np.ndarray | None = None,
                       weights: list[np.ndarray] | None = None, lens: bool = False) -> dict:
    """Everything the page shows. ``x`` (framework layout, batch 1) and ``weights`` (the framework's
    tensors) replace the drawn numbers when given (tests feed recorded framework cases this way); ``lens``: for
    the lens alone (picture level), whose played block is its one step."""
    spec = layer_spec(state)
    ctx = {"s": state, "spec": spec, "query": canonical_query(state), "link": lambda **c: canonical_query(state, **c),
           "framework_links": {fw: canonical_query(switched(state, framework=fw)) for fw in ("torch", "keras")},
           "dims_links": {d: canonical_query(switched(state, dims=d)) for d in (1, 2)},
           "torch": state.torch, "axes": AXES[state.dims], "presets": PRESETS, "fmt": fmt, "term": term,
           "controls": controls(KNOBS, state, AXES[state.dims])}
    try:
        check_input_size(state.input_shape)
        layer = build_layer(state.framework, spec, state.input_shape)
        check_layer_cost(layer)
    except SpecError as e:
        return {**ctx, "error": str(e), "error_field": e.field}
    op = layer.stages[0]
    if x is None:  # drawn in PyTorch's layout, so the same seed shows the same numbers in either framework
        x = random_input((1, state.channels, *state.size), state.seed)
        if layer.channels_last:
            x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    if weights is None:
        weights = readable_weights(layer, state.seed, state.weights)
    y = run_layer(layer, x, weights)  # the engine: it computes the direct conv
    x_cf = (np.moveaxis(x, -1, 1) if layer.channels_last else x)[0].astype(np.float32)
    y_cf = (np.moveaxis(y, -1, 1) if layer.channels_last else y)[0].astype(np.float64)
    cw = canonical_weights(layer, weights)[0]
    w, b = cw["weight"], cw.get("bias")
    bias = np.zeros(op.out_channels) if b is None else b.astype(np.float64)
    og, cg = op.out_channels // op.groups, op.in_channels // op.groups
    group = state.o // og
    chans = list(range(group * cg, (group + 1) * cg))      # the input channels that feed output channel o
    out_spatial = tuple(y_cf.shape[1:])
    rows = axis_rows(state, op, out_spatial)
    canvas = tuple(max(r["full"], r["start"] + r["out"]) for r in rows)
    xs, ws = np.round(x_cf.astype(np.float64), 6), np.round(w.astype(np.float64), 6)  # the numbers as drawn
    if zoom_level(canvas, min(len(chans), SHOWN), READABLE) == "picture":
        scatter_part = _picture_view(state, op, xs, ws, bias, rows, chans, ctx, lens, y_cf)
        data = scatter_part.pop("scatter_data")
        # the lens needs no verdict; the page compares the scatter with the engine, which computes the transposed
        # conv as this very direct conv (core.conv.transposed_as_direct): a second copy would only repeat it
        scattered = y_cf if lens else scatter_part.pop("scattered")
        direct_y = y_cf
        numbers = {"y": scattered[state.o], "z": direct_y[state.o], "out": list(out_spatial)}
        direct_part = {"out_positions": math.prod(out_spatial)}
    else:  # the scatter from the numbers as drawn (float32 rounded to 6 decimals), in float64
        if lens:
            return {**ctx, "lens_error": "step: this layer is drawn number by number, with every step in its page; "
                                         "the lens is for layers drawn as pictures"}
        scatter_part = _scatter_view(state, op, xs, ws, bias, rows, chans, ctx)
        direct_part = _direct_view(state, op, x_cf, w, b, chans, ctx)
        scattered, direct_y = scatter_part.pop("scattered"), direct_part.pop("direct_y").astype(np.float64)
        data = {**scatter_part.pop("scatter_data"), **direct_part.pop("direct_data")}  # what the browser plays from
        numbers = {"y": scatter_part.pop("scatter_y"), "z": direct_part.pop("direct_z"), "out": list(out_spatial)}
        # too wide to draw side by side
        scatter_part["wide"] = max(len(direct_part["padded_inputs"][0]["grid"][0][0]),
                                   len(scatter_part["canvas"][0][0])) > 18
    diffs = {"scatter_engine": float(np.abs(scattered - y_cf).max()),
             "direct_engine": float(np.abs(direct_y - y_cf).max()),
             "scatter_direct": float(np.abs(scattered - direct_y).max())}
    out_shape = list(output_shape(layer))
    ctx.update(scatter_part)
    ctx.update(direct_part)
    ctx.update({
        "layer": layer, "op": op, "rows": rows, "out_shape": out_shape, "input_shape": list(state.input_shape),
        "weight_shape": list(layer.params[0].shape), "canonical": list(op.weight_shape), "chans": chans,
        "group": group, "o_local": state.o % og, "og": og, "bias": float(bias[state.o]), "has_bias": b is not None,
        "numbers": numbers,  # both ways' output channel o, for the tests
        "diffs": diffs, "max_diff": max(diffs.values()), "compared": int(y_cf.size),
        "largest": fmt(float(np.abs(y_cf).max())), "inverse": inverse(state, out_shape, out_spatial),
        "keras_rules": KERAS_RULES, "code": _code(state, spec, state.input_shape, layer.params[0].shape, out_shape),
        "said": {key: literal(list(getattr(state, key))) for key in ("stride", "dilation")},
        "zeros": literal([v - 1 for v in state.stride]),
        "data": {**data, "channels": chans, "filters": state.filters},
    })
    return ctx


def _classes(shape, **masks: np.ndarray) -> np.ndarray:
    """Per cell, the names of the masks that hold there, space-separated (the grid's class attribute)."""
    cls = np.full(shape, "", dtype=object)
    for name, mask in masks.items():
        cls[mask] = cls[mask] + " " + name
    return np.vectorize(str.strip, otypes=[object])(cls)


def _lit(shape, at) -> np.ndarray:
    lit = np.zeros(shape, dtype=bool)
    lit[at] = True
    return _classes(shape, lit=lit)


def transposed(request: Request):
    state, errors = read_state(request.query_params)
    ctx = transposed_context(state)
    return view_response(request, "transposed.html", {**ctx, "query_errors": errors}, path="/transposed",
                         query=canonical_query(state),
                         refused=bool(errors) or "step_error" in ctx or "pos_error" in ctx)


STAGE = serve(StageView("/transposed", "transposed.html", read_state, transposed_context, picture_of,
                        parts=("input", "output")))
