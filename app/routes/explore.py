"""`/explore`: every knob of a conv layer, the sliding window with its arithmetic, shapes and weights.

The URL holds the whole state in the framework's own words (docs/API.md "View URLs"); the form sends
simpler names (``size`` per axis, ``channels``, ``batch``), which are read too, and the answer
carries the canonical URL (``HX-Replace-Url``) so the address bar always shows framework words.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from operator import add
from typing import Literal
from urllib.parse import quote_plus

import numpy as np
from fastapi import Request
from pydantic import BaseModel, Field
from starlette.datastructures import QueryParams

from ..core.conv import pad_input, window_arithmetic, window_cells
from ..core.cost import layer_cost
from ..core.forward import canonical_weights, output_shape, random_input, readable_weights, run_layer, run_stage
from ..core.frameworks import SpecError, build_layer
from ..core.limits import check_layer_cost
from ..core.picture import montage, picture_limit, zoom_level
from ..core.shapes import axis_formulas, csv, index_text, window_range
from ..display import Strings, fmt, fmts, grid
from ..figures import heatmap_grid
from ..images import PHOTO_INPUT, SAMPLES, photo_input
from ..routes.params import (
    Knob,
    bounds_of,
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
    word,
)
from ..snippets import keras_code, kernel_index, torch_code
from ..templating import view_response
from .stage import StageView, picture_stage, picture_url, serve
from .stage import router as stage_router

MAX_SIZE = {1: 16_384, 2: 1024, 3: 256}  # per spatial axis; the engine's limits (app/core/limits.py) bound the whole
PLAYED_TERMS = 24_000  # products written out in one fragment's played steps (data-explore) ...
PICTURE_TERMS = 1_500  # ... at picture level, and at most PICTURE_STEPS steps (the render stays cheap at any size:
PICTURE_STEPS = 20  # each step also places its window on the pictures; a 1×5 kernel's 1,500 terms were 300 steps)
PLAYED_WORK = 400_000  # ... and products computed for them (every channel of the group): past either, a block
PHOTO_SIDE, PHOTO_ASPECT = 16, 4  # an input that starts from a photo: sides at least 16 pixels, at most 4:1
CHEAP_MACS = 5_000  # a page of a layer this small renders in about 3 ms (the default: 576 multiply-adds)
SHOWN = 8  # input channels drawn (and detailed in the arithmetic), filters and kernels plotted
ACTIVATIONS = {"linear": None, "relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "gelu": "GELU",
               "silu": "SiLU", "elu": "ELU", "softplus": "Softplus"}  # same definition and defaults in both
AXES = {1: ["length"], 2: ["height", "width"], 3: ["depth", "height", "width"]}
TORCH = lambda s: s.framework == "torch"  # noqa: E731
TYPES = {f"Conv{d}{'d' if fw == 'torch' else 'D'}": (fw, {"dims": d})  # params.read_type's table
         for fw in ("torch", "keras") for d in (1, 2, 3)}


def photo_fits(state) -> bool:
    """Whether the layer's input can be a photo: 2D with 1 (grey) or 3 (red, green, blue) channels. A 3D clip,
    a 1D sequence and other channel counts are not pictures of anything: their input stays random."""
    return state.dims == 2 and state.channels in (1, 3)


def default_input(state) -> str:
    """'photo' for an image-like layer (photo_fits, both sides at least PHOTO_SIDE and at most PHOTO_ASPECT times
    the other: a 2×1000 strip is no picture) drawn at picture level, else 'random': random numbers drawn as a
    picture are noise, and a layer small enough for its numbers keeps the small integers a person checks by hand.
    The level is judged on the unpadded input, so a padding knob never swaps the numbers."""
    if not photo_fits(state) or min(state.size) < PHOTO_SIDE or max(state.size) > PHOTO_ASPECT * min(state.size):
        return "random"
    shown = min(max(1, state.channels // max(1, state.groups)), SHOWN)
    return "photo" if zoom_level(state.size, shown) == "picture" else "random"


def input_kind(state) -> str:
    """The input the layer runs on: the one asked for (``input``), or the layer's default; 'random' wherever a
    photo does not fit (a 2-channel layer, 1D, 3D), so a photo asked for before a channel change falls back."""
    return state.input or default_input(state) if photo_fits(state) else "random"


KNOBS = (  # every setting, declared once (app/routes/params.py: Knob), in the constructor's order
    Knob("batch", int, 1, bounds=(1, 8), widget="number", label="Batch", group="Input",
         why="examples drawn: the first one"),
    Knob("channels", int, 2, torch="in_channels", bounds=(1, 512), widget="number", group="Input",
         label=lambda s: "in_channels" if TORCH(s) else "Input channels", why="a wide layer still runs in a moment"),
    Knob("size", tuple[int, ...], (6, 6), per_axis=True, bounds={d: (1, n) for d, n in MAX_SIZE.items()}, start=6,
         widget="slider", label="Input {axis}", group="Input",
         why="up to the engine's limits: 250,000 values per tensor, 50,000,000 multiply-adds (a large input is drawn "
             "as a picture)"),
    Knob("filters", int, 2, torch="out_channels", keras="filters", bounds=(1, 128), widget="number"),
    Knob("kernel", tuple[int, ...], (3, 3), torch="kernel_size", keras="kernel_size", per_axis=True, bounds=(1, 7),
         start=3, listed=True, widget="slider", why="7×7 is the largest kernel in common use"),
    Knob("stride", tuple[int, ...], (1,), torch="stride", keras="strides", per_axis=True, bounds=(1, 4),
         widget="slider", why="a stride past 4 skips most of a drawn grid"),
    Knob("padding", tuple[int, ...] | Literal["valid", "same", "causal"], (0,), torch="padding", only="torch",
         per_axis=True, bounds=(0, 4), widget="select",
         read=lambda values, query: read_padding(values, query.get("padding_was", "")),
         options=lambda s, i: [*range(5), ("valid", "'valid'"), ("same", "'same'")],
         why="the padded grid stays small enough to draw"),
    Knob("padding", keras="padding", only="keras", widget="select", read=word,
         options=lambda s, i: [("valid", "'valid'"), ("same", "'same'")] + [("causal", "'causal'")] * (s.dims == 1)),
    Knob("dilation", tuple[int, ...], (1,), torch="dilation", keras="dilation_rate", per_axis=True, bounds=(1, 4),
         widget="slider", why="a dilation past 4 leaves a drawn grid"),
    Knob("groups", int, 1, torch="groups", keras="groups", bounds=(1, 512), widget="number"),
    Knob("bias", bool, True, torch="bias", keras="use_bias", widget="bool"),
    Knob("padding_mode", Literal["zeros", "reflect", "replicate", "circular"], "zeros", torch="padding_mode",
         only="torch", widget="select", options=("zeros", "reflect", "replicate", "circular")),
    Knob("activation", Literal[tuple(ACTIVATIONS)], "linear", keras="activation", only="keras",
         written=lambda s: s.activation != "linear", widget="select",
         options=[("linear", "None / 'linear'"), *list(ACTIVATIONS)[1:]]),
    Knob("activation", only="torch", option=True, widget="select", label="Then activation",  # a module after it
         options=[("linear", "none"), *list(ACTIVATIONS)[1:]]),
    Knob("input", Literal["photo", "random"] | None, None, option=True, widget="select", label="Input values",
         group="Numbers", has=photo_fits, value=input_kind,
         written=lambda s: photo_fits(s) and input_kind(s) != default_input(s),
         options=(("photo", f"a photo ({SAMPLES[PHOTO_INPUT][0]})"), ("random", "random integers"))),
    Knob("weights", Literal["random", "ones"], "random", option=True, widget="select", label="Weights", group="Numbers",
         options=(("random", "random tenths"), ("ones", "all ones, bias 0"))),
    Knob("seed", int, 0, option=True, bounds=(0, 9999), widget="number", label="Seed", group="Numbers"),
    Knob("f", int, 0, option=True, bounds=(0, 127), widget="number", label="Filter shown", group="Numbers",
         top=lambda s: s.filters - 1),
    Knob("step", int, 0, option=True, bounds=(0, 99_999), reset=True),
)
# What the generic tests read (app/views.py: ViewModule)
READS = ("framework", "type", "dims", "input_shape", "padding_was")  # query names read besides the knobs'
PAGES = ("type=Conv2d&size=9&size=9&padding=0",)
CHOICES = {}  # query names no knob reads, with values to try
BOUNDS = bounds_of(KNOBS)  # the window_range limits below
_SPEC_FIELDS = ("framework", "dims", *dict.fromkeys(k.field for k in KNOBS if not k.option))  # what a spec reads
_SPECS: dict[tuple, tuple[dict, str, dict]] = {}
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~,-]*")  # what urlencode(..., safe=",") leaves as it is


class _ExploreState(BaseModel):
    """The view's state: these fields and properties, and one field per knob (its type, default and bounds)."""

    framework: Literal["torch", "keras"] = "torch"
    dims: int = Field(2, ge=1, le=3)

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.framework == "torch":
            return (self.batch, self.channels, *self.size)
        return (self.batch, *self.size, self.channels)


ExploreState = state_model("ExploreState", KNOBS, _ExploreState)


def read_state(query: QueryParams) -> tuple[ExploreState, list[str]]:
    """The state from a URL in either framework's words (or the form's); messages for what was refused."""
    raw: dict[str, object] = {}
    errors: list[str] = []
    framework = read_type(query, TYPES, "type: /explore shows Conv1d/2d/3d (PyTorch) or Conv1D/2D/3D (Keras), "
                          "got {!r}", raw, errors)
    if "dims" in query:
        raw["dims"] = query["dims"]
    said: dict[str, str] = {}  # state field -> the word the URL used for it (params.in_url_words)
    read_knobs(KNOBS, query, framework, raw, said)
    if "padding" not in query and framework == "keras":
        raw["padding"] = "valid"  # Keras' default; PyTorch's is 0
    if "size" not in query and "input_shape" in query:
        read = read_input_shape(query["input_shape"], framework, (3, 4, 5), raw.get("channels"), errors)
        if read:
            raw["batch"], raw["channels"], raw["size"] = read
            raw.setdefault("dims", len(read[2]))
            said.update(input_shape_words(framework))
    state, errors = _validate(raw, errors)
    return state, in_url_words(errors, said)


def read_padding(values: list[str], was: str) -> tuple[int, ...] | str:
    """padding as PyTorch takes it: ints per axis, or one word. The form sends one value per axis and
    the one it showed before (``was``): a word picked on one axis applies to all, and a number picked
    while the axes showed a word gives the other axes 0.

    >>> read_padding(["1,2"], ""), read_padding(["same", "0"], "0"), read_padding(["same", "1"], "same")
    ((1, 2), 'same', (0, 1))
    """
    parts = [p.strip().lower() for v in values for p in v.split(",") if p.strip()]
    words = [p for p in parts if not p.lstrip("-").isdigit()]
    if not words:
        return tuple(int(p) for p in parts)
    if len(words) < len(parts) and was.strip().lower() in words:
        return tuple(0 if p in words else int(p) for p in parts)
    return words[0]


def _validate(raw: dict, errors: list[str]) -> tuple[ExploreState, list[str]]:
    state = validated(ExploreState, raw, errors)
    fixes = check_axes(KNOBS, state, raw, errors)
    if state.f >= state.filters:
        errors.append(f"f: the filter shown must be below filters={state.filters}, got {state.f}")
        fixes["f"] = 0
    fixed = state.model_copy(update=fixes)
    fixes["input"] = input_kind(fixed) if photo_fits(fixed) else None  # the select shows what the layer runs on
    return state.model_copy(update=fixes), errors


def layer_spec(state: ExploreState) -> dict:
    """The conv layer in the framework's own words (remembered: a page writes it into a dozen links)."""
    return dict(_layer(state)[0])


def _layer(state: ExploreState) -> tuple[dict, str, dict]:
    """layer_spec's spec, the URL query that names it (the framework, its words and the input shape) and
    layer_facts' answer (filled when first asked), remembered per layer."""
    key = tuple(getattr(state, name) for name in _SPEC_FIELDS)
    known = _SPECS.get(key)
    if known is None:
        spec = {"type": f"Conv{state.dims}{'d' if state.framework == 'torch' else 'D'}", **layer_words(KNOBS, state)}
        known = spec, query_string({"framework": state.framework, **url_words(spec),
                                    "input_shape": csv(state.input_shape)}), {}
        if len(_SPECS) >= 4096:
            _SPECS.clear()
        _SPECS[key] = known
    return known


def layer_facts(state: ExploreState) -> dict:
    """The layer built and checked, and what the page shows that follows from the layer alone (not from its
    numbers, step or filter): remembered per layer, as a lecture hall asks for the same layers with new numbers.
    ``{"error": message}`` for a layer that is refused."""
    facts = _layer(state)[2]
    if not facts:
        try:
            layer = build_layer(state.framework, layer_spec(state), state.input_shape)
            check_layer_cost(layer)
        except SpecError as e:
            facts.update({"error": str(e), "field": e.field})
            return facts
        op = layer.stages[0]
        padded = tuple(n + b + a for n, (b, a) in zip(state.size, op.padding))
        formulas = axis_formulas(op, state.size)
        cost = layer_cost(layer)
        level = zoom_level(padded, min(op.in_channels // op.groups, SHOWN))
        known = {"layer": layer, "op": op, "level": level, "formulas": formulas, "out_shape": list(output_shape(layer)),
                 "params": cost.params, "macs": cost.macs,
                 "weight_shapes": [(p.name, list(p.shape)) for p in layer.params],
                 "limits": {**slider_limits(state), "f": {"max": state.filters - 1}},
                 "torch_weight": list(op.weight_shape),
                 "keras_kernel": [*op.kernel, op.in_channels // op.groups, op.out_channels]}
        if level != "picture":  # the numbers level's padded and unread cells
            known["classes"] = _classes(op, state.size, padded, formulas)
            known["classes"].flags.writeable = False  # shared by every request for the layer
        facts.update(known)  # one step: another thread sees all of it or none
    return facts


def checked_layer(state: ExploreState):
    """layer_facts' layer, or the SpecError that refuses it."""
    facts = layer_facts(state)
    if "error" in facts:
        raise SpecError(facts["error"], facts["field"])
    return facts["layer"]


def canonical_query(state: ExploreState, **changes) -> str:
    """The view's URL query in the framework's words (docs/API.md "View URLs")."""
    if changes:
        state = state.model_copy(update=changes)
    options = view_options(KNOBS, state)
    return _layer(state)[1] + ("&" + query_string(options) if options else "")


def query_string(params: dict) -> str:
    """``urlencode(params, safe=",")``, without quoting what needs none (a view's words and numbers: the
    page writes a dozen of its links).

    >>> from urllib.parse import urlencode
    >>> params = {"a": "1,2", "b": "x y&z/é", "c": 3, "d": True}
    >>> query_string(params), query_string(params) == urlencode(params, safe=",")
    ('a=1,2&b=x+y%26z%2F%C3%A9&c=3&d=True', True)
    """
    return "&".join(f"{_plain(k)}={_plain(str(v))}" for k, v in params.items())


def _plain(text: str) -> str:
    return text if _UNQUOTED.fullmatch(text) else quote_plus(text, safe=",")


def switched(state: ExploreState, *, framework: str | None = None, dims: int | None = None) -> ExploreState:
    """The same layer in the other framework or dimensionality, keeping what carries over."""
    framework, dims = framework or state.framework, dims or state.dims
    update = {"framework": framework, "dims": dims, **switch_axes(KNOBS, state, dims)}
    padding = update.get("padding", state.padding)
    if framework == "keras" and isinstance(padding, tuple):
        padding = "valid" if not any(padding) else "same"  # Keras has no numeric padding
    if padding == "causal" and (framework == "torch" or dims > 1):
        padding = (0,) * dims if framework == "torch" else "valid"
    moved = state.model_copy(update={**update, "padding": padding})
    # a photo asked for stays where one fits; otherwise the new layer's default
    kept = state.input if photo_fits(state) and photo_fits(moved) else None
    return moved if moved.input == kept else moved.model_copy(update={"input": kept})


def _classes(op, spatial, padded_shape, formulas) -> np.ndarray:
    """Per padded cell: 'pad', 'unreached' (no window reads it) or ''."""
    inside = np.zeros(padded_shape, dtype=bool)
    inside[tuple(slice(pb, pb + n) for (pb, _), n in zip(op.padding, spatial))] = True
    unread = np.zeros(padded_shape, dtype=bool)
    for axis, form in enumerate(formulas):
        for i in form.unreached:
            index = [slice(None)] * len(spatial)
            index[axis] = i + op.padding[axis][0]
            unread[tuple(index)] = True
    return np.where(inside, np.where(unread, "unreached", ""), "pad")


def slider_limits(state: ExploreState) -> dict[str, dict[str, int]]:
    """Bounds that keep the sliders on layers that run (valid states only): the dilated kernel must
    fit the padded input. 'same' and 'causal' pad whatever the kernel needs."""
    if isinstance(state.padding, str) and state.padding != "valid":
        return {}
    pads = state.padding if isinstance(state.padding, tuple) else (0,) * state.dims
    limits = {}
    for i, (n, k, d, p) in enumerate(zip(state.size, state.kernel, state.dilation, pads)):
        k_max, d_max, n_min = window_range(n, k, d, 2 * p, k_max=BOUNDS["kernel"][1],
                                             d_max=BOUNDS["dilation"][1])
        limits[f"kernel-{i}"], limits[f"dilation-{i}"] = {"max": k_max}, {"max": d_max}
        limits[f"size-{i}"] = {"min": n_min}
    return limits


def weights_panels(w: np.ndarray) -> tuple[list, int]:
    """The kernel's heatmap panels and their columns, as weights_caption says: filters × input channels, or past
    SHOWN × SHOWN slices one panel per filter, its first input channels as rows and its taps as columns."""
    filters, cg = w.shape[:2]
    if filters * cg <= SHOWN * SHOWN:
        return [(f"weight[{f}, {c}]<br>{kernel_index('keras', w.ndim - 2, str(f), str(c))}", w[f, c])
                for f in range(filters) for c in range(cg)], cg
    panels = [(f"filter {f}", w[f].reshape(cg, -1)[:16]) for f in range(min(filters, SHOWN))]
    return panels, min(4, len(panels))


def weights_caption(filters: int, cg: int) -> str:
    """How weights_panels lays out a kernel of ``filters`` filters × ``cg`` input channels per group."""
    if filters * cg <= SHOWN * SHOWN:
        return "Kernel slices: rows = filters, columns = input channels (blue negative, red positive)."
    return (f"Filters 0–{min(filters, SHOWN) - 1}, one panel each: rows = input channels 0–{min(cg, 16) - 1}, "
            "columns = kernel taps (blue negative, red positive).")


def figure_of(state: ExploreState, name: str) -> dict:
    """GET /explore/figure: the kernel's heatmaps (``weights``) or the first filters' output feature maps of
    batch item 0 (``maps``), as plotly JSON; SpecError names what is refused."""
    if name not in ("weights", "maps"):
        raise SpecError(f"figure: weights or maps, got {name!r}", "figure")
    layer = checked_layer(state)
    if name == "weights":
        return heatmap_grid(*weights_panels(engine_inputs(state, layer)[1][0]["weight"]))
    y = _outputs(picture_query(state))
    maps = [(f"filter {f}", y[f]) for f in range(min(y.shape[0], SHOWN))]
    return heatmap_grid(maps, cols=min(4, len(maps)), colorscale="Viridis", symmetric=False)


def step_texts(steps: range, total: int, out_spatial: tuple[int, ...], f: int, arithmetic: tuple, channels: dict,
               bias: float, pre: list[str], after: list[str], activation: str) -> list[dict]:
    """What templates/explore.html writes for ?step=n, for each step of ``steps`` at once (``arithmetic``: their
    window_arithmetic, ``pre`` and ``after``: their values before and after the activation, formatted): the
    player's label, the arithmetic's title, each drawn channel's line and the other channels' sum (before the
    value, the value), and the total."""
    x, k, sums = arithmetic
    shown, taps = channels["shown"], k.shape[1]
    factors = fmts(x[:, :shown], factors=True)  # every drawn product's input, then its weight
    weights = ["×" + t for t in fmts(k[:shown], factors=True)]
    totals = fmts(sums[:, :shown])
    others = fmts(np.add.accumulate(sums[:, shown:], axis=1)[:, -1]) if sums.shape[1] > shown else []
    others_head = f"channels {channels['first'] + shown}–{channels['last']}: = "
    bias_head = f"sum of channels + bias ({fmt(bias)}) = "
    positions = zip(*(a.tolist() for a in np.unravel_index(np.arange(steps.start, steps.stop), out_spatial)))
    texts = []
    for s, (step, at) in enumerate(zip(steps, positions)):
        lines = []
        for c in range(shown):
            row = (s * shown + c) * taps
            lines.append((f"channel {channels['first'] + c}: "
                          f"{' + '.join(map(add, factors[row:row + taps], weights[c * taps:(c + 1) * taps]))} = ",
                          totals[s * shown + c]))
        if others:
            lines.append((others_head, others[s]))
        total_line = [bias_head, pre[s], "", ""]
        if activation != "linear":
            total_line[2:] = [f" → {activation}({pre[s]}) = ", after[s]]
        where = index_text(at)
        texts.append({"label": f"{step} of {total}: output {where}",
                      "title": f"Output {where} of filter {f}, written out", "lines": lines, "total": total_line})
    return texts


def played_steps(xp: np.ndarray, w: np.ndarray, b, op, f: int, pre: np.ndarray, y: np.ndarray, step: int,
                 channels: dict, activation: str, terms: int = PLAYED_TERMS, most: int | None = None) -> dict:
    """The steps the browser plays, from the functions that render ?step=n (window_arithmetic, step_texts).
    Every step's window as drawn-cell numbers of the padded input grids (ids x{channel}-{cell}): cell
    ``origins[s] + offsets[t]`` for tap t (ids w{channel}-{t}), both computed here. The texts, once each in
    ``texts``, for the block of steps ``first`` .. ``first + len(steps) - 1`` that holds ``step``: all of them
    unless that would write out more than ``terms`` (PLAYED_TERMS) products, compute more than PLAYED_WORK or
    play more than ``most`` steps; the script asks the server for another block.
    Per step: ``[label, title, [head, value] per line, [total head, pre, after, value]]``."""
    out, padded = y.shape, xp.shape[1:]
    total = math.prod(out)
    shown = channels["shown"]
    taps = math.prod(op.kernel)
    work = PLAYED_WORK * terms // PLAYED_TERMS  # a smaller block of texts computes less too
    block = max(1, min(total, most or total, terms // (taps * shown), work // (taps * (op.in_channels // op.groups))))
    first = step // block * block
    steps = range(first, min(total, first + block))
    outs = np.stack(np.unravel_index(np.arange(steps.start, steps.stop), out), axis=1)
    arithmetic = window_arithmetic(xp, w, op, f, outs)
    texts, played_texts = Strings(), []
    for t in step_texts(steps, total, out, f, arithmetic, channels, float(b[f]) if b is not None else 0.0,
                        fmts(pre.reshape(-1)[steps.start:steps.stop]), fmts(y.reshape(-1)[steps.start:steps.stop]),
                        activation):
        label, title = texts(t["label"]), texts(t["title"])
        lines = [texts(part) for line in t["lines"] for part in line]
        played_texts.append([label, title, lines, [texts(part) for part in t["total"]]])
    played = {"total": total, "first": first, "steps": played_texts, "texts": texts.table}
    if terms == PLAYED_TERMS:  # numbers level: the drawn cells of every step's window
        played["origins"], played["offsets"] = played_cells(op, padded, out)
    return played


@lru_cache(maxsize=512)
def played_cells(op, padded: tuple[int, ...], out: tuple[int, ...]) -> tuple[list, list]:
    """played_steps' origins and offsets (window_cells at every output position), remembered per layer: they
    follow from its shapes alone."""
    origins, offsets = window_cells(op, padded, np.indices(out).reshape(len(out), -1).T)
    return origins.tolist(), offsets.tolist()


def picture_query(state: ExploreState) -> str:
    """The query of the pictures (GET /explore/picture): the layer and its numbers, not the step or filter shown,
    so every step and every focused channel reuses the cached image."""
    return canonical_query(state, step=0, f=0)


def engine_run(state: ExploreState, layer, outputs: bool = True) -> tuple:
    """The layer on the view's numbers: input and output channels first, weight (canonical), bias, and the first
    example's padded input; the output is None when ``outputs`` is False (a picture of the input needs none)."""
    x_cf, stage_weights, xp = engine_inputs(state, layer)
    y_cf = layer_outputs(state, layer, x_cf, stage_weights)[1] if outputs else None
    return x_cf, y_cf, stage_weights[0]["weight"], stage_weights[0].get("bias"), xp


def engine_inputs(state: ExploreState, layer) -> tuple:
    """The view's numbers: the input (channels first), each stage's weights (canonical layout) and the first
    example's padded input."""
    op = layer.stages[0]
    x_cf = view_input(state)
    stage_weights = canonical_weights(layer, readable_weights(layer, state.seed, state.weights))
    return x_cf, stage_weights, pad_input(x_cf[:1], op.padding, op.padding_mode)[0]


def view_input(state: ExploreState) -> np.ndarray:
    """The view's input, channels first: a photo (images.photo_input, the same for every example of the batch) or
    small random integers from the seed, drawn in PyTorch's layout so a seed shows the same numbers in either
    framework."""
    shape = (state.batch, state.channels, *state.size)
    if input_kind(state) == "photo":
        return np.broadcast_to(photo_input(PHOTO_INPUT, state.channels, *state.size), shape).copy()
    return random_input(shape, state.seed)


def input_note(state: ExploreState) -> dict | None:
    """What the page says about a photo input (its name, credit, size and scale) and the link to the other
    input; None where a photo does not fit."""
    if not photo_fits(state):
        return None
    kind = input_kind(state)
    name, credit = SAMPLES[PHOTO_INPUT]
    return {"kind": kind, "name": name, "credit": credit, "size": "×".join(map(str, state.size)),
            "channels": "channels red, green, blue" if state.channels == 3 else "one grey channel",
            "other": canonical_query(state, input="random" if kind == "photo" else "photo", step=0)}


def layer_outputs(state: ExploreState, layer, x_cf: np.ndarray, stage_weights: list[dict]) -> tuple:
    """The conv's output before any activation, and the layer's output (channels first): the engine's stages
    one by one as run_layer runs them (one conv, whatever the activation), then PyTorch's activation module."""
    pre = y = run_stage(layer.stages[0], x_cf, stage_weights[0])
    for stage, weights in zip(layer.stages[1:], stage_weights[1:]):
        y = run_stage(stage, y, weights)
    if state.framework == "torch" and ACTIVATIONS[state.activation]:
        y = run_layer(build_layer("torch", {"type": ACTIVATIONS[state.activation]}, y.shape), y, [])
    return pre, y


def explore_context(state: ExploreState, lens: bool = False) -> dict:
    """Everything the page shows, computed by the engine through the framework front end (``lens``: for the
    lens alone, whose played block is its one step)."""
    spec = layer_spec(state)
    ctx = {"s": state, "spec": spec, "query": canonical_query(state), "input_note": input_note(state),
           "link": lambda **c: canonical_query(state, **c),
           "framework_links": {fw: canonical_query(switched(state, framework=fw)) for fw in ("torch", "keras")},
           "dims_links": {d: canonical_query(switched(state, dims=d)) for d in (1, 2, 3)},
           "torch": state.framework == "torch", "axes": AXES[state.dims],
           "controls": controls(KNOBS, state, AXES[state.dims])}
    facts = layer_facts(state)
    if "error" in facts:
        return {**ctx, "error": facts["error"]}
    layer, op, level = facts["layer"], facts["op"], facts["level"]
    x_cf, stage_weights, xp = engine_inputs(state, layer)
    w, b = stage_weights[0]["weight"], stage_weights[0].get("bias")
    pre, y_cf = layer_outputs(state, layer, x_cf, stage_weights)
    pre = pre[0, state.f]  # before the activation (the output itself when there is none)
    out_spatial = y_cf.shape[2:]
    total_steps = math.prod(out_spatial)
    step = state.step
    if step >= total_steps:
        ctx["step_error"] = f"step: this layer has {total_steps} steps per filter (0 to {total_steps - 1}), got {step}"
        step = 0
    out_pos = tuple(int(i) for i in np.unravel_index(step, out_spatial))
    cg = op.in_channels // op.groups
    first = state.f // (op.out_channels // op.groups) * cg  # the filter's first input channel
    shown = list(range(first, first + min(cg, SHOWN)))
    picture = level == "picture"
    channel_info = {"first": first, "last": first + cg - 1, "shown": len(shown)}
    played = played_steps(xp, w, b, op, state.f, pre, y_cf[0, state.f], step, channel_info, state.activation,
                          1 if lens else PICTURE_TERMS if picture else PLAYED_TERMS, PICTURE_STEPS if picture else None)
    code = facts.get(("code", state.activation))
    if code is None:  # from the layer's shapes and the activation (PyTorch's is a module after it, not the layer's)
        code = facts[("code", state.activation)] = {"torch": torch_code(op, x_cf.shape, y_cf.shape, state.activation),
                                                    "keras": keras_code(op, x_cf.shape, y_cf.shape, state.activation)}
    ctx.update({
        **{k: facts[k] for k in ("layer", "op", "level", "formulas", "out_shape", "params", "macs", "weight_shapes",
                                 "limits", "torch_weight", "keras_kernel")}, "code": code,
        "input_shape": list(state.input_shape), "channels": {**channel_info, "group": first // cg},
        "kernels": [{"c": c, "title": kernel_index(state.framework, state.dims, str(state.f), str(c - first)),
                     "grid": grid(w[state.f, c - first], f"w{c}-")} for c in shown],
        "step": step, "total_steps": total_steps, "out_pos": out_pos,
        "data": {"channels": shown, "step": step, **played},
        "figure_query": picture_query(state), "weights_caption": weights_caption(state.filters, cg),
    })
    if not picture:
        ctx.update({"inputs": [{"c": c, "grid": grid(xp[c], f"x{c}-", facts["classes"])} for c in shown],
                    "output": grid(y_cf[0, state.f], "y-")})
        return ctx
    ctx["picture"] = picture_context(state, op, xp, y_cf[0], shown, first, cg, out_spatial, step, played,
                                     ctx["figure_query"])
    ctx["data"]["picture"] = ctx["picture"]["boxes"]
    return ctx


def picture_context(state: ExploreState, op, xp: np.ndarray, y: np.ndarray, shown: list[int], first: int, cg: int,
                    out_spatial: tuple[int, ...], step: int, played: dict, query: str) -> dict:
    """The picture level (app/routes/stage.py: picture_stage): the focused input channel large and every shown
    channel as a thumbnail, the focused filter's output large and the first filters as thumbnails (1D: the
    group's channels as the rows of one picture, and the kernel as a picture; ``query``: picture_query's)."""
    rows = cg if state.dims == 1 else 0
    url = lambda part, c: picture_url("/explore", query, part, c)  # noqa: E731
    filters = sorted({*range(min(state.filters, SHOWN)), state.f})
    return picture_stage(
        in_block=xp, out_block=y, in_spatial=xp.shape[1:], out_spatial=out_spatial,
        geometry=(op.stride, op.kernel, op.dilation),
        block=range(played["first"], played["first"] + len(played["steps"])),
        step=step, rows=rows, kernel_src=url("kernel", state.f) if rows else None, kernel_taps=op.kernel[0],
        inputs=[{"c": c, "src": url("input", c), **_photo_name(state, c)} for c in ([first] if rows else shown)],
        outputs=[{"f": f, "src": url("output", f), "link": canonical_query(state, f=f, step=0)} for f in filters],
        pad=[b for b, _ in op.padding])


def _photo_name(state: ExploreState, c: int) -> dict:
    """A photo input's channel named by its colour (the deck's caption and its button's label)."""
    if input_kind(state) != "photo":
        return {}
    colour = ("red", "green", "blue")[c] if state.channels == 3 else "grey"
    return {"name": f"channel {c}: {colour}, photo of {SAMPLES[PHOTO_INPUT][0]}"}


def explore(request: Request):
    state, errors = getattr(request.state, "explore_read", None) or read_state(request.query_params)  # cheap's
    ctx = explore_context(state)
    return view_response(request, "explore.html", {**ctx, "query_errors": errors}, path="/explore",
                         query=ctx["query"], refused=bool(errors) or "step_error" in ctx)


def cheap(request: Request) -> bool:
    """Whether a page renders in a few ms (app/templating.py: cached_view renders it on the event loop): every
    number drawn, at most CHEAP_MACS multiply-adds. A larger layer renders in the thread pool, where it cannot
    hold up the answers to other requests."""
    request.state.explore_read = read = read_state(request.query_params)  # the route reads it from there
    facts = layer_facts(read[0])
    return "error" not in facts and facts["level"] != "picture" and facts["macs"] <= CHEAP_MACS


explore.cheap = cheap


def picture_of(state: ExploreState, part: str, c: int) -> np.ndarray:
    """The 2D picture (app/core/picture.py: montage) of one part: input channel ``c`` padded (1D: the rows of
    ``c``'s group), filter ``c``'s output, or (1D) filter ``c``'s kernel. SpecError names what is refused."""
    layer = checked_layer(state)
    op = layer.stages[0]
    cg = op.in_channels // op.groups
    count = {"input": op.in_channels, "output": op.out_channels, "kernel": op.out_channels}[part]
    if not 0 <= c < count:
        raise SpecError(f"c: this layer's {part} has {'channels' if part == 'input' else 'filters'} 0 to {count - 1}, "
                        f"got {c}", "c")
    if part == "output":
        y = _outputs(canonical_query(state, step=0, f=0))
        return montage(y[c]), picture_limit(y)
    x_cf, y_cf, w, _, xp = engine_run(state, layer, outputs=False)
    if part == "kernel":
        if state.dims != 1:
            raise SpecError("part: the kernel is drawn as a picture for 1D layers only (2D and 3D show its numbers)",
                            "part")
        return w[c], picture_limit(w)
    if state.dims == 1:
        group = c // cg * cg
        return xp[group:group + cg], picture_limit(xp)
    return montage(xp[c]), picture_limit(xp)


@lru_cache(maxsize=8)
def _outputs(query: str) -> np.ndarray:
    """The first example's output (channels first) of the layer a canonical query names: one run serves the
    pictures of all its filters (the deck asks for several at once)."""
    state, _ = read_state(QueryParams(query))
    layer = checked_layer(state)
    y = engine_run(state, layer)[1][0]
    y.flags.writeable = False
    return y


STAGE = serve(StageView("/explore", "explore.html", read_state, explore_context, picture_of, figure=figure_of))
router = stage_router  # every stage view's /<view>/picture and /<view>/lens (app/main.py includes it)
