"""`/pool`: max and average pooling, channel by channel: the window over the padded input, the output
filling in, and each step's arithmetic with the reason for its divisor (docs/QUESTIONS.md Q2 and Q6).

The URL holds the whole state in the framework's own words (``type=MaxPool1d&kernel_size=2`` or
``type=MaxPooling1D&pool_size=2``); the form sends simpler names (``size`` per axis, ``channels``,
``batch``), which are read too, and the answer carries the canonical URL (``HX-Replace-Url``).
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

import numpy as np
from fastapi import Request
from pydantic import BaseModel, Field
from starlette.datastructures import QueryParams

from ..core.forward import output_shape, random_input, run_layer
from ..core.frameworks import SpecError, build_layer
from ..core.limits import check_input_size, check_layer_cost
from ..core.ops import PoolOp
from ..core.picture import montage, picture_limit, zoom_level
from ..core.pool import Divisor, PoolStep, Tap, pool_step
from ..core.shapes import axis_formulas, csv, effective_kernel, index_text
from ..display import fmt, fmt_factor, grid
from ..figures import heatmap_grid, pool_line_figure
from ..routes.params import (
    Knob,
    check_axes,
    controls,
    in_url_words,
    input_shape_words,
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
from .stage import Played, StageView, picture_stage, picture_url, serve

MAX_SIZE = {1: 16_384, 2: 1024, 3: 256}  # per spatial axis; the engine's limits (app/core/limits.py) bound the whole
AXES = {1: ["length"], 2: ["height", "width"], 3: ["depth", "height", "width"]}
DEFAULT_SIZE = {1: 9, 2: 7, 3: 5}  # odd sizes: the floor leaves a position unread, as in Q2
READABLE = {1: 72, 2: 22, 3: 8}  # the longest drawn axis written as numbers (pooling's cells are narrow) ...
SHOWN = 8  # ... the channels drawn and written out in the arithmetic
PICTURE_TERMS = 1_500  # window cells written out in one fragment's played block at picture level ...
PICTURE_STEPS = 32  # ... and steps (the render stays cheap: ~3 s of play at 10 steps/s, then the next block)
TORCH_MAX = lambda s: s.torch and s.kind == "max"  # noqa: E731
TORCH_AVG = lambda s: s.torch and s.kind == "avg"  # noqa: E731


def _stride(values: list[str], query) -> list[str] | None:
    """Per axis; 'default' on an axis (the form's) takes that axis's kernel size; 'None' on every axis: not given."""
    parts = [p.strip().lower() for v in values for p in v.split(",") if p.strip()]
    return None if all(p in ("none", "default") for p in parts) else ["default" if p == "none" else p for p in parts]


# Every setting, declared once (app/routes/params.py: Knob), in the constructor's order. A keyword the
# layer does not have is only written when it was set, so the framework itself refuses it
# ("AvgPool1d has no keyword 'dilation'").
KNOBS = (
    Knob("batch", int, 1, bounds=(1, 8), widget="number", label="Batch", group="Input",
         why="examples drawn: the first one"),
    Knob("channels", int, 2, bounds=(1, 512), widget="number", label="Channels", group="Input",
         why="a wide layer still runs in a moment"),
    Knob("size", tuple[int, ...], (9,), per_axis=True, bounds={d: (1, n) for d, n in MAX_SIZE.items()},
         start=DEFAULT_SIZE, widget="slider", label="Input {axis}", group="Input",
         why="up to the engine's limits: 250,000 values per tensor (a large input is drawn as a picture)"),
    Knob("seed", int, 0, option=True, bounds=(0, 9999), widget="number", label="Seed", group="Input"),
    Knob("kernel", tuple[int, ...], (2,), torch="kernel_size", keras="pool_size", per_axis=True, bounds=(1, 8),
         start=2, widget="slider", why="8 covers the windows in common use (ResNet's last average pool is 7)"),
    Knob("stride", tuple[int | Literal["default"], ...] | None, None, torch="stride", keras="strides", per_axis=True,
         bounds=(1, 8), fill="kernel", read=_stride,
         widget="select", options=lambda s, i: [(None, f"{'not given' if s.torch else 'None'} (= {s.kernel[i]})"),
                                                *range(1, 9)], why="as the kernel"),
    Knob("padding", tuple[int, ...] | Literal["valid", "same"], (0,), torch="padding", only="torch", per_axis=True,
         bounds=(0, 4), read=numbers_or_word, widget="select", options=lambda s, i: list(range(5)),
         why="PyTorch allows at most half the kernel: 4 for an 8-cell window"),
    Knob("padding", keras="padding", only="keras", read=numbers_or_word, widget="select",
         options=(("valid", "'valid'"), ("same", "'same'"))),
    Knob("dilation", tuple[int, ...], (1,), torch="dilation", keras="dilation_rate", per_axis=True, bounds=(1, 3),
         widget="slider", has=TORCH_MAX, written=lambda s: TORCH_MAX(s) or any(d != 1 for d in s.dilation),
         why="a dilation past 3 leaves a drawn input"),
    Knob("ceil_mode", bool, False, torch="ceil_mode", keras="ceil_mode", widget="bool", has=lambda s: s.torch,
         written=lambda s: s.torch or s.ceil_mode),
    Knob("count_include_pad", bool, True, torch="count_include_pad", keras="count_include_pad", widget="bool",
         has=TORCH_AVG, written=lambda s: TORCH_AVG(s) or not s.count_include_pad),
    Knob("divisor_override", int | None, None, torch="divisor_override", keras="divisor_override", bounds=(1, 64),
         widget="number",
         read=lambda values, query: None if values[-1].strip().lower() in ("", "none") else values[-1].strip(),
         has=lambda s: TORCH_AVG(s) and s.dims > 1, written=lambda s: s.divisor_override is not None),
    Knob("step", int, 0, option=True, bounds=(0, 99_999), reset=True),
)
# What the generic tests read (app/views.py: ViewModule)
READS = ("framework", "type", "kind", "dims", "input_shape")  # query names read besides the knobs'
PAGES = ("type=AvgPool2d&size=9&size=9&divisor_override=2", "type=MaxPool2d&size=9&size=9")
CHOICES = {"kind": ("max", "avg")}  # query names no knob reads, with values to try
TYPES = {  # (framework, kind, dims) -> the layer's class name
    **{("torch", k, d): f"{'Max' if k == 'max' else 'Avg'}Pool{d}d" for k in ("max", "avg") for d in (1, 2, 3)},
    **{("keras", k, d): f"{'Max' if k == 'max' else 'Average'}Pooling{d}D" for k in ("max", "avg") for d in (1, 2, 3)},
}
KERAS_ALIASES = {f"{a}Pool{d}D": f"{b}Pooling{d}D" for a, b in (("Max", "Max"), ("Avg", "Average"))
                 for d in (1, 2, 3)}
CLASS_NAMES = {name: (fw, {"kind": kind, "dims": dims}) for (fw, kind, dims), name in TYPES.items()}
CLASS_NAMES.update({alias: CLASS_NAMES[name] for alias, name in KERAS_ALIASES.items()})  # params.read_type's table
STRIDE_DEFAULT_DOCS = {  # where each framework defines the default stride of pooling
    "torch": ("kernel_size", "torch.nn.{type} docs: “Default value is kernel_size”"),
    "keras": ("pool_size", "keras.layers.{type} docs: “If None, it will default to pool_size”"),
}
PRESETS = [  # (label, query): the questions' pooling layers, one link away
    ("Q2 · MaxPool1d(2, stride=2) on length 48 → 24",
     "framework=torch&type=MaxPool1d&kernel_size=2&stride=2&input_shape=4,2,48"),
    ("Q2 · MaxPool1d(2) on length 49: stride defaults to 2, position 48 is dropped",
     "framework=torch&type=MaxPool1d&kernel_size=2&input_shape=4,2,49"),
    ("Q6 · MaxPool1D(pool_size=3, strides=3) on length 6 → 2",
     "framework=keras&type=MaxPooling1D&pool_size=3&strides=3&input_shape=3,6,4"),
    ("AvgPool1d(3, stride=2, padding=1), count_include_pad=True: padding counts in the divisor",
     "framework=torch&type=AvgPool1d&kernel_size=3&stride=2&padding=1&count_include_pad=true&input_shape=1,2,8"),
    ("… and count_include_pad=False: only real cells count",
     "framework=torch&type=AvgPool1d&kernel_size=3&stride=2&padding=1&count_include_pad=false&input_shape=1,2,8"),
    ("Keras AveragePooling2D(2, padding='same') on 5×5: real cells only",
     "framework=keras&type=AveragePooling2D&pool_size=2&padding=same&input_shape=1,5,5,1"),
    ("ceil_mode=True adds a window that hangs past the input (length 7)",
     "framework=torch&type=MaxPool1d&kernel_size=2&ceil_mode=true&input_shape=1,1,7"),
    ("ceil_mode=True adds nothing: the extra window would start in the padding",
     "framework=torch&type=MaxPool1d&kernel_size=2&stride=2&padding=1&ceil_mode=true&input_shape=1,1,5"),
]


class _PoolState(BaseModel):
    """The view's state: these fields and properties, and one field per knob (its type, default and bounds)."""

    framework: Literal["torch", "keras"] = "torch"
    kind: Literal["max", "avg"] = "max"
    dims: int = Field(1, ge=1, le=3)

    @property
    def torch(self) -> bool:
        return self.framework == "torch"

    @property
    def type(self) -> str:
        return TYPES[(self.framework, self.kind, self.dims)]

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.torch:
            return (self.batch, self.channels, *self.size)
        return (self.batch, *self.size, self.channels)


PoolState = state_model("PoolState", KNOBS, _PoolState)


def read_state(query: QueryParams) -> tuple[PoolState, list[str]]:
    """The state from a URL in either framework's words (or the form's); messages for what was refused."""
    raw: dict[str, object] = {}
    errors: list[str] = []
    framework = read_type(query, CLASS_NAMES, "type: /pool shows MaxPool1d/2d/3d and AvgPool1d/2d/3d (PyTorch) or "
                          "MaxPooling1D/2D/3D and AveragePooling1D/2D/3D (Keras), got {!r}", raw, errors)
    for key in ("kind", "dims"):
        if key in query:
            raw[key] = query[key]
    said: dict[str, str] = {}  # state field -> the word the URL used for it (params.in_url_words)
    read_knobs(KNOBS, query, framework, raw, said)
    if "padding" not in query and framework == "keras":
        raw["padding"] = "valid"  # Keras' default; PyTorch's is 0
    if "size" not in query and "input_shape" in query:
        read = read_input_shape(query["input_shape"], framework, (3, 4, 5), raw.get("channels"), errors,
                                name="channels")
        if read:
            raw["batch"], raw["channels"], raw["size"] = read
            raw.setdefault("dims", len(read[2]))
            said.update(input_shape_words(framework))
    state, errors = _validate(raw, errors)
    return state, in_url_words(errors, said)


def _validate(raw: dict, errors: list[str]) -> tuple[PoolState, list[str]]:
    state = validated(PoolState, raw, errors)
    dims = state.dims
    fixes = check_axes(KNOBS, state, raw, errors)
    if isinstance(state.padding, tuple) and not state.torch:
        errors.append(f"padding: Keras pooling takes 'valid' or 'same', got {csv(said_once(state.padding))!r}; "
                      "showing 'valid'")
        fixes["padding"] = "valid"
    elif isinstance(state.padding, str) and state.torch:
        errors.append(f"padding: PyTorch pooling takes a number of cells (0 to 4, or one per axis), got "
                      f"{state.padding!r} ('same' and 'valid' are Keras' words); showing 0")
        fixes["padding"] = (0,) * dims
    return state.model_copy(update=fixes), errors


def layer_spec(state: PoolState) -> dict:
    """The pooling layer in the framework's own words."""
    return {"type": state.type, **layer_words(KNOBS, state)}


def canonical_query(state: PoolState, **changes) -> str:
    """The view's URL query in the framework's words."""
    state = state.model_copy(update=changes)
    return urlencode({"framework": state.framework, **url_words(layer_spec(state)),
                      "input_shape": csv(state.input_shape), **view_options(KNOBS, state)}, safe=",")


def switched(state: PoolState, *, framework: str | None = None, kind: str | None = None,
             dims: int | None = None) -> PoolState:
    """The same pooling in the other framework, kind or dimensionality, keeping what carries over."""
    framework, kind, dims = framework or state.framework, kind or state.kind, dims or state.dims
    update = switch_axes(KNOBS, state, dims)
    padding = update.get("padding", state.padding)
    if framework == "keras" and isinstance(padding, tuple):
        padding = "valid" if not any(padding) else "same"  # Keras has no numeric padding
    elif framework == "torch" and isinstance(padding, str):
        kernel = update.get("kernel", state.kernel)
        padding = (0,) * dims if padding == "valid" else tuple(min(4, k // 2) for k in kernel)
    torch = framework == "torch"
    return state.model_copy(update={
        **update, "framework": framework, "kind": kind, "dims": dims, "padding": padding,
        "dilation": update.get("dilation", state.dilation) if torch and kind == "max" else (1,) * dims,
        "ceil_mode": state.ceil_mode and torch,
        "count_include_pad": state.count_include_pad or not (torch and kind == "avg"),
        "divisor_override": state.divisor_override if torch and kind == "avg" and dims > 1 else None,
    })


# ---------------------------------------------------------------- one step, written out

@dataclass(frozen=True)
class ChannelLine:
    channel: int
    expr: str  # "max(−∞, 3, −1)" or "(0 + 3 + (−1)) / 3 = 2 / 3"; then " = value"
    value: str
    winner: tuple[int, ...] | None = None  # max: the input position of the first maximum ...
    ties: int = 1  # ... and how many cells of the window hold that maximum


@dataclass(frozen=True)
class StepArithmetic:
    taps: tuple[Tap, ...]
    lines: tuple[ChannelLine, ...]
    why: str  # the divisor's reason (average) or what padding does (max)


def _pads_add_nothing(pad: int) -> str:
    return f"{pad} padding cell{'s add 0 and do not' if pad > 1 else ' adds 0 and does not'} count"


def divisor_reason(d: Divisor, framework: str) -> str:
    """Why an average divides by ``d.value`` at this window (core.pool.divisor), in the framework's words."""
    tail = (f" The {d.past} cell{'s' if d.past > 1 else ''} past the padded input (ceil_mode's last window) never "
            f"count{'' if d.past > 1 else 's'}." if d.past else "")
    if d.rule == "override":
        return f"divisor {d.value}: divisor_override={d.value} replaces the count, whatever the window holds." + tail
    if not d.pad:
        return f"divisor {d.value}: the window's {d.real} cells, all real input." + tail
    if d.rule == "padded":
        return (f"divisor {d.value}: count_include_pad=True counts every cell inside the padded input: {d.real} real "
                f"+ {d.pad} padding (padding adds 0)." + tail)
    if framework == "keras":
        return (f"divisor {d.value}: Keras 'same' average pooling divides by the real cells only; the window's "
                f"{_pads_add_nothing(d.pad)}.")
    return (f"divisor {d.value}: count_include_pad=False counts only the {d.real} real cells; the "
            f"{_pads_add_nothing(d.pad)}." + tail)


def max_reason(step: PoolStep) -> str:
    """What padding and ceil_mode's overhang do to a max window."""
    pads = sum(t.where == "pad" for t in step.taps)
    past = sum(t.where == "past" for t in step.taps)
    why = []
    if pads:
        why.append(f"Padding is −∞ for max pooling: the window's {pads} padding cell{'s' if pads > 1 else ''} can "
                   "never win.")
    if past:
        why.append(f"{past} cell{'s' if past > 1 else ''} of ceil_mode's last window lie{'' if past > 1 else 's'} "
                   "past the padded input: not read.")
    return " ".join(why) or "The window holds real input only."


def step_arithmetic(x: np.ndarray, op: PoolOp, framework: str, out_pos: tuple[int, ...]) -> StepArithmetic:
    """Every channel's output at ``out_pos`` (core.pool.pool_step) written out; x is one batch item, channels first."""
    step = pool_step(x, op, out_pos)
    if op.kind == "max":
        shown = lambda values: ", ".join("−∞" if v == -math.inf else fmt(v) for v in values)  # noqa: E731
        lines = tuple(ChannelLine(ch.channel, f"max({shown(ch.values)})", fmt(ch.value), ch.winner, ch.ties)
                      for ch in step.channels)
        return StepArithmetic(step.taps, lines, max_reason(step))
    n = step.divisor.value
    lines = tuple(ChannelLine(ch.channel, f"({' + '.join(map(fmt_factor, ch.values))}) / {n} = "
                                          f"{fmt(sum(ch.values))} / {n}", fmt(ch.value)) for ch in step.channels)
    return StepArithmetic(step.taps, lines, divisor_reason(step.divisor, framework))


def step_texts(step: int, total: int, out_pos: tuple[int, ...], arithmetic: StepArithmetic) -> dict:
    """What the page writes for one step, as templates/pool.html writes it for ?step=n: the player's
    label, the arithmetic's title, each channel's line (before the value, the value, after it)."""
    lines = []
    for line in arithmetic.lines:
        after = ""
        if line.winner is not None:
            after = f", at input position {index_text(line.winner)}"
            if line.ties > 1:
                after += f" (the first of {line.ties} equal values)"
        lines.append((f"channel {line.channel}: {line.expr} = ", line.value, after))
    where = index_text(out_pos)
    return {"label": f"{step} of {total}: output {where}", "title": f"Output {where} of every channel, written out",
            "lines": lines, "why": arithmetic.why}


def played_steps(x: np.ndarray, op: PoolOp, framework: str, out: tuple[int, ...], extent, step: int,
                 block_terms: int | None = None) -> dict:
    """The steps the browser plays, from the functions that render ?step=n (step_arithmetic, step_texts): no
    window arithmetic, sentence or number format is written again in static/pool.js. Each step a dict of named
    fields (app/routes/stage.py: Played; texts as indices into ``texts``): ``label``, ``title``, ``why``, and per
    written channel its line's ``heads``, ``values`` and ``afters``; with ``extent`` (numbers level) also the drawn
    cells the window lights (``cells``: the input grids' ids x{channel}-{cell}, padding and past included) and
    each channel's maximum (``winners``, -1: none). ``x``: the written channels of one batch item.
    Every step, or (``block_terms``: window cells written out at most) the block of steps that holds ``step``,
    from ``first``; the script asks the server for another block."""
    total = math.prod(out)
    block = total if block_terms is None else max(1, min(total, PICTURE_STEPS,
                                                       block_terms // (math.prod(op.kernel) * len(x))))
    first = step // block * block
    if extent is not None:
        lo, drawn = [a for a, _ in extent], [b - a for a, b in extent]
        cell = lambda pos: int(np.ravel_multi_index([p - q for p, q in zip(pos, lo)], drawn))  # noqa: E731
    played, steps = Played(), []
    for i in range(first, min(total, first + block)):
        out_pos = tuple(int(v) for v in np.unravel_index(i, out))
        arithmetic = step_arithmetic(x, op, framework, out_pos)
        t = step_texts(i, total, out_pos, arithmetic)
        fields = {"label": t["label"], "title": t["title"], "why": t["why"], "heads": [ln[0] for ln in t["lines"]],
                  "values": [ln[1] for ln in t["lines"]], "afters": [ln[2] for ln in t["lines"]]}
        if extent is not None:
            fields["cells"] = [cell(tap.pos) for tap in arithmetic.taps]
            fields["winners"] = [-1 if line.winner is None else cell(line.winner) for line in arithmetic.lines]
        steps.append(played.step(**fields))
    return {"total": total, "first": first, "texts": played.texts, "steps": steps}


# ---------------------------------------------------------------- the page

def _extent(op: PoolOp, spatial, out) -> list[tuple[int, int]]:
    """Per axis, the input coordinates drawn: the padding, and past it whatever a ceil_mode window reaches."""
    return [(-p[0], max(n + p[1], (o - 1) * s - p[0] + effective_kernel(k, d)))
            for p, n, o, s, k, d in zip(op.padding, spatial, out, op.stride, op.kernel, op.dilation)]


def _drawn(x: np.ndarray, op: PoolOp, extent, formulas) -> tuple[np.ndarray, np.ndarray]:
    """One channel's drawn cells (padding and past-the-padding included) and each cell's class:
    '' (read), 'unreached' (real but no window reads it), 'pad', 'past'."""
    coords = np.meshgrid(*[np.arange(lo, hi) for lo, hi in extent], indexing="ij")
    spatial = x.shape
    real = np.ones(coords[0].shape, dtype=bool)
    past = np.zeros(coords[0].shape, dtype=bool)
    unread = np.zeros(coords[0].shape, dtype=bool)
    for q, n, p, form in zip(coords, spatial, op.padding, formulas):
        real &= (q >= 0) & (q < n)
        past |= q >= n + p[1]
        unread |= np.isin(q, form.unreached)
    classes = np.where(real, np.where(unread, "unreached", ""), np.where(past, "past", "pad"))
    values = np.zeros(coords[0].shape)
    index = tuple(np.clip(q, 0, n - 1) for q, n in zip(coords, spatial))
    values[real] = x[index][real]
    return values, classes


def _label_cells(cells: list, classes: np.ndarray, kind: str) -> list:
    """Padding reads as −∞ (max) or 0 (average); cells past the padding hold nothing."""
    flat = classes.ravel()
    for rows in cells:
        for row in rows:
            for cell in row:
                i = int(cell["id"].rsplit("-", 1)[1])
                if flat[i] == "pad":
                    cell["text"] = "−∞" if kind == "max" else "0"
                elif flat[i] == "past":
                    cell["text"] = ""
    return cells


def _ceil_story(op: PoolOp, spatial, formulas) -> list[dict]:
    """Per axis: floor and ceil counts with numbers, and PyTorch's rule that drops a last window
    starting in the right padding (aten/src/ATen/native/Pool.h, pooling_output_shape)."""
    floors = axis_formulas(dataclasses.replace(op, ceil_mode=False), spatial)
    ceils = axis_formulas(dataclasses.replace(op, ceil_mode=True), spatial)
    story = []
    for fl, ce, n, p, s in zip(floors, ceils, spatial, op.padding, op.stride):
        top = n + p[0] + p[1] - effective_kernel(fl.k, fl.dilation)
        raw = -(-top // s) + 1
        start = (raw - 1) * s - p[0]  # input position where the ceil formula's last window would start
        story.append({"floor": fl.text, "floor_out": fl.out, "ceil_raw": raw, "ceil_out": ce.out,
                      "ceil": f"ceil(({n} + {p[0]} + {p[1]} − {fl.dilation}·({fl.k} − 1) − 1) / {s}) + 1 = "
                              f"ceil({top} / {s}) + 1 = {raw}",
                      "dropped": raw > ce.out, "start": start, "last": n - 1,
                      "hang": max(0, (ce.out - 1) * s - p[0] + effective_kernel(fl.k, fl.dilation) - n - p[1])})
    return story


def _figure(x: np.ndarray, y: np.ndarray) -> dict:
    panels = []
    for c in range(x.shape[0]):
        panels += [(f"input, channel {c}", x[c]), (f"output, channel {c}", y[c])]
    return heatmap_grid(panels, cols=2, cell_px=14 if x.ndim == 2 else 22, colorscale="Viridis", symmetric=False)


def engine_run(state: PoolState, layer) -> tuple[np.ndarray, np.ndarray]:
    """The first example's input and output, channels first, through the framework front end (the numbers are
    drawn in PyTorch's layout, so the same seed shows the same numbers in either framework)."""
    x = random_input((state.batch, state.channels, *state.size), state.seed)
    if layer.channels_last:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    y = run_layer(layer, x, [])
    if layer.channels_last:
        x, y = np.moveaxis(x, -1, 1), np.moveaxis(y, -1, 1)
    return x[0], y[0]


def _classes_of_outputs(out: tuple[int, ...], floor_out: list[int]) -> np.ndarray:
    """'extra' for the outputs that exist only because of ceil_mode."""
    extra = np.zeros(out, dtype=bool)
    for a, f in enumerate(floor_out):
        index = [slice(None)] * len(out)
        index[a] = slice(f, None)
        extra[tuple(index)] = True
    return extra


def pool_context(state: PoolState, lens: bool = False) -> dict:
    """Everything the page shows, computed by the engine through the framework front end (``lens``: for the lens
    alone, whose played block is its one step)."""
    spec = layer_spec(state)
    ctx = {"s": state, "spec": spec, "query": canonical_query(state), "link": lambda **c: canonical_query(state, **c),
           "framework_links": {fw: canonical_query(switched(state, framework=fw)) for fw in ("torch", "keras")},
           "kind_links": {k: canonical_query(switched(state, kind=k)) for k in ("max", "avg")},
           "dims_links": {d: canonical_query(switched(state, dims=d)) for d in (1, 2, 3)},
           "torch": state.torch, "axes": AXES[state.dims], "presets": PRESETS,
           "controls": controls(KNOBS, state, AXES[state.dims]),
           "code": _code(spec)}
    try:
        check_input_size(state.input_shape)
        layer = build_layer(state.framework, spec, state.input_shape)
        check_layer_cost(layer)
    except SpecError as e:
        return {**ctx, "error": str(e)}
    op = layer.stages[0]
    x0, y0 = engine_run(state, layer)
    spatial, out = tuple(state.size), tuple(y0.shape[1:])
    total = math.prod(out)
    step = state.step
    if step >= total:
        ctx["step_error"] = f"step: this layer has {total} steps (0 to {total - 1}), got {step}"
        step = 0
    out_pos = tuple(int(i) for i in np.unravel_index(step, out))
    formulas = axis_formulas(op, spatial)
    extent = _extent(op, spatial, out)
    shown = min(state.channels, SHOWN)
    picture = zoom_level(tuple(b - a for a, b in extent), shown, READABLE) == "picture"
    story = _ceil_story(op, spatial, formulas) if state.torch else None
    extra = _classes_of_outputs(out, [s["floor_out"] for s in story] if story else list(out))
    arithmetic = step_arithmetic(x0[:shown], op, state.framework, out_pos)
    played = played_steps(x0[:shown], op, state.framework, out, None if picture else extent, step,
                          1 if lens else PICTURE_TERMS if picture else None)
    stride_word, doc = STRIDE_DEFAULT_DOCS[state.framework]
    ctx.update({
        "layer": layer, "op": op, "formulas": formulas, "story": story, "out_shape": list(output_shape(layer)),
        "input_shape": list(state.input_shape), "level": "picture" if picture else "numbers",
        "channels": {"shown": shown, "last": state.channels - 1},
        "step": step, "total_steps": total, "out_pos": out_pos, "arithmetic": arithmetic,
        "has_pad": any(sum(p) for p in op.padding), "has_past": any(hi > n + p[1] for (lo, hi), n, p in
                                                                    zip(extent, spatial, op.padding)),
        "has_unreached": any(f.unreached for f in formulas), "has_extra": bool(extra.any()),
        "stride_note": {"given": state.stride is not None, "word": stride_word, "doc": doc.format(type=state.type),
                        "default": literal(said_once(state.kernel)),
                        "value": None if state.stride is None else literal(said_once(state.stride))},
        "data": {"channels": shown, "step": step, **played},
    })
    if picture:
        query = canonical_query(state, step=0)
        url = lambda part, c: picture_url("/pool", query, part, c)  # noqa: E731
        ctx["picture"] = picture_stage(
            in_block=x0, out_block=y0, in_spatial=tuple(b - a for a, b in extent), out_spatial=out,
            geometry=(op.stride, op.kernel, op.dilation), block=range(played["first"], played["first"] +
                                                                      len(played["steps"])), step=step,
            inputs=[{"c": c, "src": url("input", c), "out_src": url("output", c)} for c in range(shown)],
            outputs=[{"f": 0, "src": url("output", 0), "link": ""}], pad=[b for b, _ in op.padding])
        ctx["data"]["picture"] = ctx["picture"]["boxes"]
        return ctx
    inputs, outputs = [], []
    for c in range(shown):
        values, classes = _drawn(x0[c], op, extent, formulas)
        inputs.append({"c": c, "grid": _label_cells(grid(values, f"x{c}-", classes), classes, op.kind)})
        outputs.append({"c": c, "grid": grid(y0[c], f"y{c}-", np.where(extra, "extra", ""))})
    ctx.update({
        "inputs": inputs, "outputs": outputs, "ruler": [[fmt(i) for i in range(lo, hi)] for lo, hi in extent],
        "out_ruler": [[str(i) for i in range(o)] for o in out],
        "figure": None if state.dims == 3 else pool_line_figure(x0[:shown], y0[:shown], op) if state.dims == 1
        else _figure(x0[:shown], y0[:shown]),
    })
    return ctx


def picture_of(state: PoolState, part: str, c: int) -> tuple[np.ndarray, float]:
    """The 2D picture (app/core/picture.py: montage) of input channel ``c`` as drawn (padding and what a
    ceil_mode window reaches past it: NaN, grey) or of output channel ``c``, and its colour scale's end (the
    page's legend: all channels of the first example). SpecError names what is refused."""
    check_input_size(state.input_shape)
    layer = build_layer(state.framework, layer_spec(state), state.input_shape)
    check_layer_cost(layer)
    if not 0 <= c < state.channels:
        raise SpecError(f"c: this layer has channels 0 to {state.channels - 1}, got {c}", "c")
    op = layer.stages[0]
    x0, y0 = engine_run(state, layer)
    if part == "output":
        return montage(y0[c]), picture_limit(y0)
    spatial = tuple(state.size)
    extent = _extent(op, spatial, tuple(y0.shape[1:]))
    values, classes = _drawn(x0[c], op, extent, axis_formulas(op, spatial))
    return montage(np.where(np.isin(classes, ("pad", "past")), np.nan, values)), picture_limit(x0)


def _code(spec: dict) -> str:
    """The layer as the framework's constructor call."""
    return call(spec, "nn." if re.fullmatch(r"\w+Pool\dd", spec["type"]) else "layers.")


def pool(request: Request):
    state, errors = read_state(request.query_params)
    ctx = pool_context(state)
    return view_response(request, "pool.html", {**ctx, "query_errors": errors}, path="/pool",
                         query=canonical_query(state), refused=bool(errors) or "step_error" in ctx)


STAGE = serve(StageView("/pool", "pool.html", read_state, pool_context, picture_of, parts=("input", "output")))
