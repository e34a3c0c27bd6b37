"""`/pointwise`: the 1×1 convolution as a per-position channel mix, and the proof that it is a
Dense/Linear layer applied at every position (docs/QUESTIONS.md Q1).

The URL holds the whole state in the framework's own words, as /explore's does; the form sends
simpler names (``batch``, ``positions``, ``channels``, ``filters``), which are read too, and the
answer carries the canonical URL (``HX-Replace-Url``).
"""
from __future__ import annotations

from functools import lru_cache
from typing import ClassVar, Literal, get_args, get_origin
from urllib.parse import urlencode

import numpy as np
from fastapi import Request
from markupsafe import Markup
from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams

from ..core.cost import layer_cost
from ..core.forward import canonical_weights, output_shape, random_input, readable_weights, run_layer
from ..core.frameworks import SpecError, build_layer
from ..core.limits import check_input_size, check_layer_cost
from ..core.picture import GAP, percent, picture_limit
from ..core.shapes import csv
from ..display import Strings, fmt, grid, term
from ..figures import heatmap_grid
from ..routes.params import (
    Knob,
    controls,
    layer_words,
    read_input_shape,
    read_knobs,
    read_type,
    state_model,
    url_words,
    view_options,
)
from ..snippets import call
from ..templating import view_response
from .stage import Played, StageView, picture_url, serve

TORCH_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}  # a module after the conv in PyTorch
DETAIL = 8   # output channels written out, and products written out in each
ROWS = 16    # channel rows drawn as numbers (all of them are in the heatmaps), and the weight matrix up to 16×16
MAX_POSITIONS = 16_384  # as /explore's 1D length; the engine's limits (app/core/limits.py) bound the whole layer
MAX_CHANNELS = 2_048    # channels and filters: ResNet-50's widest 1×1 (512 → 2,048)
NUMBERS = {"positions": 64, "channels": 128, "filters": 128}  # the numbers level: every layer the page drew before
LENS_TERMS = 1_500  # products written out in one fragment's played block at picture level (then the next block) ...
LENS_STEPS = 40     # ... and positions in it
FRAME_PX = {"positions": 480, "channels": 160, "filters": 160}  # a picture's CSS px along each axis, at most
TORCH = lambda s: s.framework == "torch"  # noqa: E731
CLASS_NAMES = {"Conv1d": ("torch", {}), "Conv1D": ("keras", {})}  # params.read_type's table
KNOBS = (  # every setting, declared once (app/routes/params.py: Knob), in the constructor's order
    Knob("batch", int, 1, bounds=(1, 4), widget="number", label="Batch", group="Input"),
    Knob("positions", int, 6, bounds=(1, MAX_POSITIONS), widget="slider", label="Positions (length)", group="Input",
         top=lambda s: positions_top(s.positions),
         why="up to the engine's limits: 250,000 values per tensor, 50,000,000 multiply-adds (a long input is drawn "
             "as a picture)"),
    Knob("channels", int, 4, torch="in_channels", bounds=(1, MAX_CHANNELS), widget="number", group="Input",
         label=lambda s: "in_channels" if TORCH(s) else "Input channels"),
    Knob("filters", int, 3, torch="out_channels", keras="filters", bounds=(1, MAX_CHANNELS), widget="number"),
    Knob("kernel_size", torch="kernel_size", keras="kernel_size", widget="fixed",
         note=Markup('(other sizes: <a href="explore">Explore</a>)')),  # relative: under any prefix, and /embed
    Knob("bias", bool, True, torch="bias", keras="use_bias", widget="bool"),
    Knob("activation", Literal["linear", "relu", "sigmoid", "tanh"], "linear", keras="activation", only="keras",
         written=lambda s: s.activation != "linear", widget="select",
         options=(("linear", "None / 'linear'"), ("relu", "'relu'"), ("sigmoid", "'sigmoid'"), ("tanh", "'tanh'"))),
    Knob("activation", only="torch", option=True, widget="select", label="Then activation",  # a module after it
         options=(("linear", "none"), *((k, call({"type": v}, "nn.")) for k, v in TORCH_ACTIVATIONS.items()))),
    Knob("weights", Literal["random", "ones"], "random", option=True, widget="select", label="Weights", group="Numbers",
         options=(("random", "random tenths"), ("ones", "all ones, bias 0"))),
    Knob("seed", int, 0, option=True, bounds=(0, 9999), widget="number", label="Seed", group="Numbers"),
    Knob("f", int, 0, option=True, bounds=(0, MAX_CHANNELS - 1), widget="number", label="Filter in the lens",
         group="Numbers", top=lambda s: s.filters - 1, has=lambda s: level(s) == "picture"),
    Knob("step", int, 0, option=True, bounds=(0, MAX_POSITIONS - 1)),
)
# What the generic tests read (app/views.py: ViewModule)
READS = ("type", "framework", "input_shape")  # query names read besides the knobs'
PAGES = ("positions=9",)
CHOICES = {}  # query names no knob reads, with values to try
AXES: dict[int, list[str]] = {}  # no dimension switch
PRESETS = [  # (label, query): one link away from the page
    ("Q1 · Conv1D(filters=64, kernel_size=1, activation='relu') on (batch, 10, 100)",
     "framework=keras&type=Conv1D&filters=64&kernel_size=1&activation=relu&input_shape=2,10,100"),
    ("Small · Conv1d(4, 3, kernel_size=1) on 6 positions: every number on screen",
     "framework=torch&type=Conv1d&in_channels=4&out_channels=3&kernel_size=1&input_shape=1,4,6"),
    ("Weights of ones: each output is its column's sum",
     "framework=torch&type=Conv1d&in_channels=4&out_channels=2&kernel_size=1&input_shape=1,4,6&weights=ones"),
    ("Embedding · Conv1D(100, 1) on a (50, 300) sentence: 300 channels mixed into 100",
     "framework=keras&type=Conv1D&filters=100&kernel_size=1&activation=relu&input_shape=1,50,300"),
    ("ResNet · Conv1d(64, 64, 1) over a 56×56 map's 3,136 positions",
     "framework=torch&type=Conv1d&in_channels=64&out_channels=64&kernel_size=1&input_shape=1,64,3136"),
    ("MobileNet · pointwise 128 → 256 over a 28×28 map's 784 positions",
     "framework=torch&type=Conv1d&in_channels=128&out_channels=256&kernel_size=1&input_shape=1,128,784"),
]


def positions_top(positions: int) -> int:
    """The positions slider's end: 64 (every position drawn with its numbers, as the page always did) until it is
    reached, then four times the positions (up to 16,384): the end of the slider opens a longer one, and the thumb
    never sits in the first quarter of its track.

    >>> positions_top(6), positions_top(64), positions_top(256), positions_top(3136), positions_top(16384)
    (64, 256, 1024, 12544, 16384)
    """
    return min(MAX_POSITIONS, max(NUMBERS["positions"], 4 * positions if positions >= 64 else 0))


def level(state) -> str:
    """'numbers' for every layer the numbers level drew before (up to 64 positions, 128 channels and filters: the
    grids print their first 16 rows, the heatmaps all of them), else 'picture': the input, the weights and the
    output as pictures, and a lens with the arithmetic of one (position, filter).

    >>> from types import SimpleNamespace as S
    >>> level(S(positions=6, channels=4, filters=3)), level(S(positions=3136, channels=64, filters=64))
    ('numbers', 'picture')
    """
    return "numbers" if all(getattr(state, k) <= n for k, n in NUMBERS.items()) else "picture"


class _PointwiseState(BaseModel):
    """The view's state: these fields and properties, and one field per knob (its type, default and bounds)."""

    framework: Literal["torch", "keras"] = "torch"
    kernel_size: ClassVar[int] = 1  # the 1×1 convolution

    @property
    def torch(self) -> bool:
        return self.framework == "torch"

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(N, C, L) in PyTorch, (N, L, C) in Keras."""
        if self.torch:
            return (self.batch, self.channels, self.positions)
        return (self.batch, self.positions, self.channels)


PointwiseState = state_model("PointwiseState", KNOBS, _PointwiseState)


def what_works(name: str) -> str:
    """The valid values of a state field, from the model itself (so the message and the bound agree)."""
    field = PointwiseState.model_fields[name]
    bounds = {type(m).__name__: m for m in field.metadata}
    if "Ge" in bounds:
        return f"an integer from {bounds['Ge'].ge} to {bounds['Le'].le}"
    if get_origin(field.annotation) is Literal:
        return "one of " + ", ".join(map(repr, get_args(field.annotation)))
    return "true or false"


def read_state(query: QueryParams) -> tuple[PointwiseState, list[str]]:
    """The state from a URL in either framework's words (or the form's); messages for what was refused."""
    raw: dict[str, object] = {}
    said: dict[str, str] = {}  # state field -> the word the URL used for it, to name it back
    errors: list[str] = []
    framework = read_type(query, CLASS_NAMES, "type: /pointwise shows Conv1d (PyTorch) or Conv1D (Keras), got {!r}; "
                          "other layers are in /explore", raw, errors)
    if "kernel_size" in query and query["kernel_size"].strip() != "1":
        errors.append(f"kernel_size: /pointwise is the 1×1 convolution, so kernel_size must be 1, got "
                      f"{query['kernel_size']!r}; other kernel sizes are in /explore")
    read_knobs(KNOBS, query, framework, raw, said)
    if isinstance(raw.get("activation"), str) and raw["activation"].lower() == "none":
        raw["activation"] = "linear"  # Keras' activation=None is 'linear'
    if "input_shape" in query:
        _read_input_shape(query["input_shape"], framework, raw, said, errors)
    return _validate(raw, said, errors)


def _read_input_shape(text: str, framework: str, raw: dict, said: dict, errors: list[str]) -> None:
    """(N, C, L) in PyTorch, (N, L, C) in Keras: batch, channels and positions, named by their index."""
    read = read_input_shape(text, framework, (3,), raw.get("channels"), errors, name=said.get("channels", ""))
    if read is None:
        return
    axes = ("batch", "channels", "positions") if framework == "torch" else ("batch", "positions", "channels")
    raw["batch"], raw["channels"], (raw["positions"],) = read
    said.update({field: f"input_shape[{i}] ({field})" for i, field in enumerate(axes)})


def _validate(raw: dict, said: dict, errors: list[str]) -> tuple[PointwiseState, list[str]]:
    try:
        state = PointwiseState.model_validate(raw)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors()}
        errors += [f"{said.get(name, name)}: must be {what_works(name)}, got {raw[name]!r}" for name in sorted(bad)]
        state = PointwiseState.model_validate({k: v for k, v in raw.items() if k not in bad})
    if state.step >= state.positions:
        errors.append(f"step: must be a position from 0 to {state.positions - 1} (this input has {state.positions}), "
                      f"got {state.step}")
        state = state.model_copy(update={"step": 0})
    if state.f >= state.filters:
        errors.append(f"f: the filter in the lens must be from 0 to {state.filters - 1} (this layer has "
                      f"{state.filters}), got {state.f}")
        state = state.model_copy(update={"f": 0})
    return state, errors


def layer_spec(state: PointwiseState, *, activation: bool = True) -> dict:
    """The conv layer in the framework's own words (PyTorch's activation is a separate module)."""
    spec = {"type": "Conv1d" if state.torch else "Conv1D", **layer_words(KNOBS, state)}
    if not activation:
        spec.pop("activation", None)
    return spec


def canonical_query(state: PointwiseState, **changes) -> str:
    """The view's URL query in the framework's words."""
    state = state.model_copy(update=changes)
    return urlencode({"framework": state.framework, **url_words(layer_spec(state)),
                      "input_shape": csv(state.input_shape), **view_options(KNOBS, state)}, safe=",")


def _forward(state: PointwiseState, layer, conv, x: np.ndarray, weights: list[np.ndarray]):
    """The engine's output before and after the activation, in the framework's layout: ``conv`` is
    the layer without its activation; PyTorch's activation is a module of its own after it."""
    pre = run_layer(conv, x, weights)
    if state.activation == "linear":
        return pre, pre
    if state.torch:
        return pre, run_layer(build_layer("torch", {"type": TORCH_ACTIVATIONS[state.activation]}, pre.shape), pre, [])
    return pre, run_layer(layer, x, weights)


DENSE_ACTIVATIONS = {  # written here, not taken from the engine: the proof computes it the other way
    "linear": lambda v: v, "relu": lambda v: np.maximum(v, 0), "tanh": np.tanh,
    "sigmoid": lambda v: (1 + np.tanh(v / 2)) / 2,  # = 1 / (1 + e^−v), without overflow
}


def dense_per_position(state: PointwiseState, x: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """The same layer as a plain matrix product on each position's channel vector, (N, L, C_out):
    PyTorch ``nn.Linear`` with ``weight = conv.weight[:, :, 0]``; Keras ``Dense`` with ``kernel = kernel[0]``.
    In float64 BLAS, a block of output channels at a time: the weights in float64 are a 2 MB temporary rather than
    the whole matrix's 33 MB (2,048 × 2,048), and each output is the same dot product over the input channels."""
    x64 = np.ascontiguousarray(np.moveaxis(x, 1, -1) if state.torch else x, dtype=np.float64)  # (N, L, C_in)
    # the matrix as (C_out, C_in): PyTorch's weight[:, :, 0]; Keras' kernel[0] is (C_in, C_out)
    matrix = weights[0][:, :, 0] if state.torch else weights[0][0].T
    y = np.empty((*x64.shape[:-1], matrix.shape[0]))
    rows = max(1, (1 << 18) // matrix.shape[1])
    for r in range(0, matrix.shape[0], rows):
        y[..., r:r + rows] = x64 @ np.ascontiguousarray(matrix[r:r + rows], dtype=np.float64).T  # x[n, t, :] @ W.T
    if state.bias:
        y = y + weights[1]
    return DENSE_ACTIVATIONS[state.activation](y)


def _channels_first(a: np.ndarray, torch: bool) -> np.ndarray:
    return a if torch else np.moveaxis(a, -1, 1)


_term, _fmt = lru_cache(maxsize=4096)(term), lru_cache(maxsize=4096)(fmt)  # tenths × small integers: few distinct


def written_out(x: np.ndarray, w: np.ndarray, b: np.ndarray, pre: np.ndarray, y: np.ndarray, t: int, o: int,
                shown: int = DETAIL, products: bool = False) -> dict:
    """Output channel o at position t written out (the numbers level's lines and the picture level's lens): its
    first ``shown`` products w[o, c]·x[c, t] as terms (``products``: and each product's value), one sum for the
    rest (the engine's total minus the bias and the products shown), the bias, the sum of the products, the value
    before the activation and the value (the engine's)."""
    shown = min(shown, x.shape[0])
    pairs = list(zip(w[o, :shown].tolist(), x[:shown, t].tolist()))
    written = sum(p * q for p, q in pairs)
    line = {"o": o, "terms": [_term(p, q) for p, q in pairs], "bias": fmt(float(b[o])),
            "rest": fmt(float(pre[o, t]) - float(b[o]) - written), "pre": fmt(float(pre[o, t])),
            "value": fmt(float(y[o, t]))}
    if products:  # the sum is the engine's (its total less the bias), as every other number on the page
        line["products"] = [_fmt(p * q) for p, q in pairs]
        line["sum"] = fmt(float(pre[o, t]) - float(b[o]))
    return line


def arithmetic(x: np.ndarray, w: np.ndarray, b: np.ndarray, pre: np.ndarray, y: np.ndarray, t: int) -> list[dict]:
    """The numbers level: output channels 0–7 at position t written out, each with its first 8 products."""
    return [written_out(x, w, b, pre, y, t, o) for o in range(min(DETAIL, w.shape[0]))]


def step_texts(state: PointwiseState, lines: list[dict], t: int) -> dict:
    """What templates/pointwise.html writes for ?step=n: the player's label, and each written-out output
    channel's line (before the value, the value before the activation, after it, the value)."""
    cin, act = state.channels, state.activation if state.activation != "linear" else ""
    written = []
    for ln in lines:
        head = f"y[{ln['o']}, {t}] = {' + '.join(ln['terms'])}"
        if cin > DETAIL:
            head += f" + ({cin - DETAIL} more products, channels {DETAIL}–{cin - 1}: {ln['rest']})"
        if state.bias:
            head += f" + bias ({ln['bias']})"
        written.append((head + " = ", ln["pre"], f" → {act}({ln['pre']}) = " if act else "",
                        ln["value"] if act else ""))
    return {"label": f"t = {t} of 0–{state.positions - 1}", "lines": written}


def played_steps(state: PointwiseState, x0, w, b, pre0, y0, dense0, in_rows: int, out_rows: int) -> dict:
    """Every position as the browser plays it, from the functions that render ?step=n (arithmetic,
    step_texts): per step ``[label, [lit x cells], [lit y cells], [head, pre, after, value] per line,
    [conv, dense] per drawn output row]``, the texts once each in ``texts``."""
    texts, steps, length = Strings(), [], state.positions
    for t in range(length):
        st = step_texts(state, arithmetic(x0, w, b, pre0, y0, t), t)
        lit = [np.flatnonzero(_lit_column(rows, length, t) == "lit").tolist() for rows in (in_rows, out_rows)]
        steps.append([texts(st["label"]), *lit,
                      [texts(part) for line in st["lines"] for part in line],
                      [texts(fmt(float(a[o, t]))) for o in range(out_rows) for a in (y0, dense0)]])
    return {"texts": texts.table, "steps": steps}


def _heatmap(title: str, z: np.ndarray, column: int | None) -> dict:
    """One heatmap, cells small enough that 128 rows stay on screen and the three sit side by side;
    ``column`` outlined (the position t)."""
    cell = max(3, min(22, 280 // max(z.shape)))
    fig = heatmap_grid([(title, np.round(z.astype(np.float64), 6))], cols=1, cell_px=cell)
    if column is not None:
        fig["layout"]["shapes"] = [{"type": "rect", "xref": "x", "yref": "y", "x0": column - 0.5, "x1": column + 0.5,
                                    "y0": -0.5, "y1": z.shape[0] - 0.5, "line": {"color": "#111", "width": 2}}]
    return fig


def _lit_column(rows: int, length: int, t: int) -> np.ndarray:
    """Cell classes of a channels × positions grid: column t is the one read or written."""
    return np.where(np.arange(length) == t, "lit", "")[None, :].repeat(rows, 0)


def _rounded(a: np.ndarray) -> list:
    """float32 values as short decimals for the page's data (0.3, not 0.30000001192092896)."""
    return np.round(np.asarray(a, dtype=np.float64), 6).ravel().tolist()


def picture_query(state: PointwiseState) -> str:
    """The query of the pictures (GET /pointwise/picture) and of the engine's run: the layer and its numbers, not
    the position or the filter in the lens, so every step reuses the cached images."""
    return canonical_query(state, step=0, f=0)


def kernel_query(state: PointwiseState) -> str:
    """The query of the kernel's picture: picture_query's with one position and one example, as the weights do not
    depend on the input's length or batch (drawn from the seed per weight shape), so moving those knobs keeps the
    URL and the browser keeps the picture (2,048 × 2,048 weights: a 2.6 MB PNG)."""
    return canonical_query(state, step=0, f=0, positions=1, batch=1)


@lru_cache(maxsize=4)
def numbers(query: str) -> dict:
    """The view's numbers for the layer a canonical query names: the input ``x_in`` (the framework's layout) and the
    weights as the framework keeps them (``weights``), and for batch item 0, channels first, ``x`` (C_in, L),
    ``w`` (C_out, C_in) and ``b``, with the input's and the kernel's colour scales. Cached apart from ``engine``: a
    worker asked for the input's or the kernel's picture draws them without running the layer (the page's own run
    may have been on the other worker). SpecError: the layer is refused (over the engine's limits, named)."""
    state, _ = read_state(QueryParams(query))
    check_input_size(state.input_shape)
    layer = build_layer(state.framework, layer_spec(state), state.input_shape)
    check_layer_cost(layer)
    # drawn in PyTorch's layout, so the same seed shows the same numbers in either framework
    x = random_input((state.batch, state.channels, state.positions), state.seed)
    if not state.torch:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    weights = readable_weights(layer, state.seed, state.weights)
    cw = canonical_weights(layer, weights)[0]
    got = {"state": state, "layer": layer, "x_in": x, "weights": weights, "x": _channels_first(x, state.torch)[0],
           "w": cw["weight"][:, :, 0], "b": cw.get("bias", np.zeros(state.filters, dtype=np.float32))}  # (C_out, C_in)
    for array in (x, got["x"], got["w"], got["b"], *weights):
        array.flags.writeable = False
    got["limits"] = {"input": picture_limit(sample(got["x"])), "kernel": picture_limit(sample(got["w"]))}
    return got


@lru_cache(maxsize=4)
def engine(query: str) -> dict:
    """numbers(query), and the layer run by the engine (build_layer + run_layer) on them: for batch item 0, channels
    first, ``pre`` (before the activation) and ``y`` (C_out, L), ``dense`` (the same output as a Dense layer per
    position); over the whole batch the largest difference between the two. Cached: a page, its pictures and its
    lens fragments read one run. SpecError: the layer is refused (over the engine's limits, named)."""
    got = numbers(query)
    state, layer, x, weights = got["state"], got["layer"], got["x_in"], got["weights"]
    conv = build_layer(state.framework, layer_spec(state, activation=False), state.input_shape)
    pre, y = _forward(state, layer, conv, x, weights)
    dense = dense_per_position(state, x, weights)                  # (N, L, C_out)
    y_cl = y if not state.torch else np.moveaxis(y, 1, -1)
    run = {**got, "conv": conv, "dense": dense[0].T,  # (C_out, L)
           "max_diff": float(np.abs(y_cl - dense).max()), "compared": y.size,  # float32: exact for near values
           "largest": fmt(float(np.abs(y).max()))}
    run.update(zip(("pre", "y"), (_channels_first(a, state.torch)[0] for a in (pre, y))))  # (C, L)
    for name in ("pre", "y", "dense"):
        run[name].flags.writeable = False
    run["limits"] = {**got["limits"], "output": picture_limit(sample(run["y"]))}
    return run


def sample(values: np.ndarray, most: int = 40_000) -> np.ndarray:
    """Every k-th value, at most ``most`` of them: a colour scale's end (a percentile) from a large picture's
    values at a fraction of the cost (the legend and the picture read the same end).

    >>> sample(np.arange(10.0), 4).tolist()
    [0.0, 3.0, 6.0, 9.0]
    """
    flat = values.ravel()
    return flat[::-(-flat.size // most)]


def pointwise_context(state: PointwiseState, lens: bool = False) -> dict:
    """Everything the page shows: the engine's numbers (build_layer + run_layer) for batch item 0, and the same
    output computed as a Dense layer per position, with the largest difference. At the numbers level every
    position's arithmetic; at the picture level (``level``) the pictures and a block of the lens's steps
    (``lens``: the lens of the step alone, at either level)."""
    ctx = {"s": state, "torch": state.torch, "query": canonical_query(state), "level": level(state),
           "limits": {"positions": {"max": positions_top(state.positions)}, "f": {"max": state.filters - 1}},
           "link": lambda **c: canonical_query(state, **c), "presets": PRESETS,
           "controls": controls(KNOBS, state, []),
           "framework_links": {fw: canonical_query(state.model_copy(update={"framework": fw}))
                               for fw in ("torch", "keras")}}
    try:
        run = engine(picture_query(state))
    except SpecError as e:  # over the engine's limits: an answer all the same, naming the limit
        return {**ctx, "error": str(e)}
    x0, w, b, pre0, y0, dense0 = (run[k] for k in ("x", "w", "b", "pre", "y", "dense"))
    t, length = state.step, state.positions
    in_rows, out_rows = min(ROWS, state.channels), min(ROWS, state.filters)
    cost = layer_cost(run["conv"])
    ctx.update({
        "input_shape": list(state.input_shape), "out_shape": list(output_shape(run["layer"])),
        "weight_shapes": [(p.name, list(p.shape)) for p in run["layer"].params],
        "params": cost.params, "macs": cost.macs, "step": t, "rows": {"in": in_rows, "out": out_rows}, "detail": DETAIL,
        "side_by_side": [{"o": o, "conv": fmt(float(y0[o, t])), "dense": fmt(float(dense0[o, t]))}
                         for o in range(out_rows)],
        "max_diff": run["max_diff"], "compared": run["compared"], "largest": run["largest"],
        "code": {"torch": torch_code(state), "keras": keras_code(state)},
    })
    if ctx["level"] == "picture" or lens:
        ctx.update(picture_context(state, run, lens))
        return ctx
    ctx.update({
        "x_grid": grid(x0[:in_rows], "x-", _lit_column(in_rows, length, t))[0],
        "y_grid": grid(y0[:out_rows], "y-", _lit_column(out_rows, length, t))[0],
        "w_grid": grid(w, "w-")[0] if max(w.shape) <= ROWS else None, "b_grid": grid(b, "b-")[0][0],
        "lines": arithmetic(x0, w, b, pre0, y0, t),
        "figures": {"x": _heatmap("x[0]", x0, t), "w": _heatmap("W", w, None), "y": _heatmap("y[0]", y0, t)},
        "data": {"positions": length, "cin": state.channels, "cout": state.filters, "step": t,
                 **played_steps(state, x0, w, b, pre0, y0, dense0, in_rows, out_rows)},
        "numbers": {"x": _rounded(x0), "w": _rounded(w), "b": _rounded(b), "y": _rounded(y0)},  # the tests' (not sent)
    })
    return ctx


def axis_px(n: int, most: int, least: int = 64) -> int:
    """CSS px of a picture's axis of ``n`` values: whole pixels per value (at most 24) when they fit in ``most``,
    else ``most`` (values narrower than a pixel: cells need not be square); never under ``least``.

    >>> axis_px(6, 480), axis_px(50, 480), axis_px(3136, 480), axis_px(300, 160), axis_px(2, 160)
    (144, 450, 480, 160, 64)
    """
    per = min(24, most // n)
    return max(least, n * per) if per else most


def product_lines(terms: list[str], products: list[str]) -> str:
    """Every channel's product as one text, a line per channel (channel c on line c, named), the channels and the
    ``=`` in columns (the lens writes it in a monospace font): one text node, not an element per channel, so a
    2,048-channel lens costs the browser one block of text to lay out rather than 2,048 boxes.

    >>> print(product_lines(["0.7×2", "(−0.4)×(−1)", "0×3"], ["1.4", "0.4", "0"]))
    c0:       0.7×2 = 1.4
    c1: (−0.4)×(−1) = 0.4
    c2:         0×3 = 0
    """
    wide = max(map(len, terms), default=0)
    labels = channel_labels(len(terms))
    return "\n".join([f"{c} {term_.rjust(wide)} = {p}" for c, term_, p in zip(labels, terms, products)])


@lru_cache(maxsize=8)
def channel_labels(n: int) -> tuple[str, ...]:
    """The lens's channel labels c0: … c<n-1>:, each as wide as the widest (cached: product_lines writes 2,048
    lines in 0.4 ms rather than 2)."""
    return tuple(f"c{c}:".ljust(len(f"c{n - 1}:")) for c in range(n))


def lens_texts(state: PointwiseState, run: dict, t: int) -> dict:
    """What the lens writes for (position ``t``, filter ``state.f``), from the function that writes the numbers
    level's lines (written_out): the player's label, the title, every channel's product (product_lines: one text,
    channel c on line c), and the total as [text, number, text, number, …]: the sum, the bias, the activation."""
    f, act = state.f, state.activation if state.activation != "linear" else ""
    line = written_out(run["x"], run["w"], run["b"], run["pre"], run["y"], t, f, shown=state.channels, products=True)
    n = state.channels
    total = [f"sum of the {n} product{'s' if n > 1 else ''} = ", line["sum"]]
    if state.bias:
        total += [f" + bias b[{f}] ({line['bias']}) = ", line["pre"]]
    if act:
        total += [f" → {act}({line['pre']}) = ", line["value"]]
    return {"label": f"t = {t} of 0–{state.positions - 1}", "title": f"y[{f}, {t}]: filter {f} at position {t}",
            "products": product_lines(line["terms"], line["products"]), "total": total}


def lens_boxes(state: PointwiseState, steps: range) -> dict:
    """Where each position of ``steps`` falls, as percentages of the pictures: the column read (input), the output
    of the lens's filter (marker) and the columns still to come (pending: the output fills in as it plays); and the
    lens's filter's row of W (``row``)."""
    c, f, length = state.channels, state.filters, state.positions
    return {"boxes": [percent([(0, s, c, 1)], (c, length)) for s in steps],
            "markers": [percent([(state.f, s, 1, 1)], (f, length))[0] for s in steps],
            "pending": [percent([(0, s + 1, f, length - s - 1)] if s + 1 < length else [], (f, length)) for s in steps],
            "row": percent([(state.f, 0, 1, c)], (f, c))[0]}  # the lens's filter: its row of W


def picture_context(state: PointwiseState, run: dict, lens: bool) -> dict:
    """The picture level (templates/_partials/stage.html: picture_stage): x (channels × positions), W (filters ×
    channels) and y (filters × positions) as pictures laid out as the matrix product y = W · x, and the lens's
    steps for the block of positions that holds the current one (``lens``: that position alone)."""
    t, c, f, length = state.step, state.channels, state.filters, state.positions
    size = 1 if lens else max(1, min(length, LENS_STEPS, LENS_TERMS // c))
    first = t // size * size
    block = range(first, min(length, first + size))
    played = Played()
    lenses = [lens_texts(state, run, s) for s in block]  # the block holds t: its lens is the page's
    steps = [played.step(**texts) for texts in lenses]
    query = picture_query(state)
    url = lambda part: picture_url("/pointwise", query, part, 0)  # noqa: E731
    lx, cx, fx = (axis_px(n, FRAME_PX[k]) for k, n in (("positions", length), ("channels", c), ("filters", f)))
    boxes = lens_boxes(state, block)
    limits = run["limits"]
    picture = {
        "rows": c, "in_px": (lx, cx), "out_px": (lx, fx), "in_size": (c, length), "out_size": (f, length),
        "inputs": [{"c": 0, "src": url("input")}], "kernel_src": None,
        "outputs": [{"f": state.f, "src": url("output"), "link": canonical_query(state)}],
        "input_limit": fmt(limits["input"]), "output_limit": fmt(limits["output"]),
        "layout": {"out": [f, length], "tiles": [1, 1], "gap": GAP}, "pad": [], "boxes": boxes,
        "now": lens_boxes(state, range(t, t + 1)),
        "w": {"src": picture_url("/pointwise", kernel_query(state), "kernel", 0), "px": (cx, fx),
              "limit": fmt(limits["kernel"]), "row": boxes["row"]},
    }
    return {"picture": picture, "lens": lenses[t - first],
            "data": {"level": "picture", "positions": length, "filters": f, "f": state.f, "step": t, "first": first,
                     "texts": played.texts, "steps": steps, "picture": boxes}}


def picture_of(state: PointwiseState, part: str, c: int) -> tuple[np.ndarray, float]:
    """One part as one picture (GET /pointwise/picture, c=0): the input x (channels × positions), the weight
    matrix W (filters × channels) or the output y (filters × positions) of batch item 0, and its colour scale's
    end. SpecError names what is refused."""
    if c != 0:
        raise SpecError(f"c: /pointwise draws each part as one picture, so c must be 0, got {c}", "c")
    run = engine(picture_query(state)) if part == "output" else numbers(picture_query(state))
    return run[{"input": "x", "kernel": "w", "output": "y"}[part]], run["limits"][part]


def torch_code(s: PointwiseState) -> str:
    """PyTorch: a Conv1d(k=1) and an nn.Linear with the conv's weight give the same output."""
    act = call({"type": TORCH_ACTIVATIONS.get(s.activation, "Identity")}, "nn.")
    conv = {"type": "Conv1d", "in_channels": s.channels, "out_channels": s.filters, "kernel_size": 1, "bias": s.bias}
    linear = {"type": "Linear", "in_features": s.channels, "out_features": s.filters, "bias": s.bias}
    lines = ["import torch", "from torch import nn", "",
             f"conv = {call(conv, 'nn.', 2)}",
             f"linear = {call(linear, 'nn.', 2)}",
             f"act = {act}", "with torch.no_grad():",
             ("    linear.weight.copy_(conv.weight[:, :, 0])"
             f"  # ({s.filters}, {s.channels}, 1) -> ({s.filters}, {s.channels})")]
    if s.bias:
        lines.append("    linear.bias.copy_(conv.bias)")
    lines += ["", f"x = torch.randn({s.batch}, {s.channels}, {s.positions})  # (N, C_in, L)",
              f"y_conv = act(conv(x))  # (N, C_out, L) = {(s.batch, s.filters, s.positions)}",
              "# nn.Linear acts on the last axis: put the channels last, apply it at every position, put them back",
              "y_dense = act(linear(x.transpose(1, 2))).transpose(1, 2)",
              "print((y_conv - y_dense).abs().max())  # 0, or float32 round-off"]
    return "\n".join(lines)


def keras_code(s: PointwiseState) -> str:
    """Keras: a Conv1D(k=1) and a Dense with kernel[0] give the same output."""
    act = {"activation": s.activation} if s.activation != "linear" else {}
    conv = {"type": "Conv1D", "filters": s.filters, "kernel_size": 1, "use_bias": s.bias, **act}
    dense = {"type": "Dense", "units": s.filters, "use_bias": s.bias, **act}
    lines = ["import numpy as np", "import keras", "",
             f"conv = {call(conv, 'keras.layers.')}",
             f"dense = {call(dense, 'keras.layers.', 1)}", "",
             f"x = np.random.randn({s.batch}, {s.positions}, {s.channels}).astype('float32')  # (N, L, C_in)",
             (f"y_conv = conv(x)  # (N, L, filters) = {(s.batch, s.positions, s.filters)}; "
             f"builds kernel (1, {s.channels}, {s.filters})"),
             "kernel, bias = conv.get_weights()" if s.bias else "(kernel,) = conv.get_weights()",
             f"dense.build((None, {s.channels}))",
             (f"dense.set_weights({'[kernel[0], bias]' if s.bias else '[kernel[0]]'})"
             f"  # kernel[0]: ({s.channels}, {s.filters})"),
             "y_dense = dense(x)  # Dense acts on the last axis: at every position",
             "print(np.abs(keras.ops.convert_to_numpy(y_conv - y_dense)).max())  # 0, or float32 round-off"]
    return "\n".join(lines)


def pointwise(request: Request):
    state, errors = read_state(request.query_params)
    ctx = pointwise_context(state)
    return view_response(request, "pointwise.html", {**ctx, "query_errors": errors}, path="/pointwise",
                         query=ctx["query"], refused=bool(errors))


STAGE = serve(StageView("/pointwise", "pointwise.html", read_state, pointwise_context, picture_of))
