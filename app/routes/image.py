"""`/image`: a real picture through a conv (or pooling) layer: classic kernels, every knob, the
exact numbers under a movable lens.

The URL holds the whole state in the framework's own words (``kernel_size``, ``stride`` or
``strides``, ``out_channels`` or ``filters``…) plus the picture (``image``, ``size``) and the
kernel (``kernel`` preset, or ``weights`` cell by cell). An uploaded picture is never in the URL:
the browser POSTs its bytes with the same query, and re-sends the downscaled copy the answer
carries with each later change. Pixels are the integers 0–255 (as ``torch.tensor(np.array(img))``
and Keras' ``img_to_array`` give them), channels R, G, B.

The lens (one output's arithmetic) is the page's ``lens`` block, also served alone for any position:
``GET /image/lens?<the view's query>&at=y,x&f=n`` (and ``/embed/image/lens``) for a sample, ``POST`` with
the kept copy of your image as the body. The browser swaps it in; it computes and formats nothing itself.
"""
from __future__ import annotations

import math
import re
from typing import Literal
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from ..core.conv import pad_input, step_arithmetic
from ..core.forward import framework_tensor, output_shape, run_layer
from ..core.frameworks import SpecError, build_layer
from ..core.limits import check_layer_cost
from ..core.picture import step_boxes
from ..core.pool import pool_step
from ..display import fmt
from ..images import (
    MAX_SIDE,
    MAX_UPLOAD_BYTES,
    SAMPLES,
    ImageError,
    data_url,
    decode_upload,
    png_data_url,
    resize,
    sample,
    thumbnail_png,
)
from ..routes.params import (
    Knob,
    controls,
    in_url_words,
    layer_words,
    read_knobs,
    state_model,
    url_words,
    validated,
    view_options,
    word,
)
from ..templating import is_htmx, view_response
from .stage import StageView, picture_stage, picture_url, png, refused, serve

router = APIRouter(include_in_schema=False)

CHANNELS = ("R", "G", "B")
PADDINGS = ("0", "1", "2", "3", "valid", "same")
SCALES = ("auto", "64", "128", "255", "510", "1020")
TYPES = {  # kind -> (PyTorch class, Keras class)
    "conv": ("Conv2d", "Conv2D"), "max": ("MaxPool2d", "MaxPooling2D"), "avg": ("AvgPool2d", "AveragePooling2D"),
}
def _fixed(rows) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def _binomial(k: int) -> np.ndarray:
    row = np.array([math.comb(k - 1, i) for i in range(k)], dtype=np.float64)
    g = np.outer(row, row)
    return g / g.sum()


def _identity(k: int) -> np.ndarray:
    w = np.zeros((k, k))
    w[k // 2, k // 2] = 1
    return w


# name -> (label, kernel of size k, or a fixed 3×3 kernel)
PRESETS = {
    "identity": ("Identity", _identity),
    "box": ("Box blur", lambda k: np.full((k, k), 1 / (k * k))),
    "gaussian": ("Gaussian blur", _binomial),
    "sharpen": ("Sharpen", _fixed([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])),
    "sobel_x": ("Sobel x", _fixed([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])),
    "sobel_y": ("Sobel y", _fixed([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])),
    "laplacian": ("Laplacian", _fixed([[0, 1, 0], [1, -4, 1], [0, 1, 0]])),
    "emboss": ("Emboss", _fixed([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])),
    "outline": ("Outline", _fixed([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])),
}
KERNELS = (*PRESETS, "random", "custom")


TORCH = lambda s: s.framework == "torch"  # noqa: E731
CONV = lambda s: s.kind == "conv"  # noqa: E731
POOL_KERAS = lambda s: s.kind != "conv" and not TORCH(s)  # noqa: E731
KNOBS = (  # every setting, declared once (app/routes/params.py: Knob), in the constructor's order; a flat strip
    Knob("image", Literal[tuple(SAMPLES)], "chelsea", option=True, written=lambda s: True, widget="slot",
         label="Image", group=""),
    Knob("size", int, 96, option=True, written=lambda s: True, bounds=(16, MAX_SIDE), step=16, widget="slider",
         label="size (long side)", group="", why="the lens's numbers and a page a phone loads fast"),
    # the layer type: sent as kind; a URL says type=…
    Knob("kind", Literal["conv", "max", "avg"], "conv", widget="select", label="Layer", group="",
         options=lambda s, i: [(kind, names[0 if TORCH(s) else 1]) for kind, names in TYPES.items()]),
    Knob("kernel", Literal[KERNELS], "sobel_x", option=True, has=CONV, written=CONV, widget="select", label="Kernel",
         group="", options=[*((name, label) for name, (label, _) in PRESETS.items()), ("random", "Random tenths"),
                  ("custom", "Your own (edit the cells)")]),
    Knob("weights", tuple[float, ...], (), option=True, has=CONV, written=lambda s: CONV(s) and s.kernel == "custom",
         read=lambda values, query: _floats(",".join(values)), value=lambda s: ",".join(map(cell_text, s.weights))),
    Knob("seed", int, 0, option=True, bounds=(0, 9999), has=lambda s: CONV(s) and s.kernel == "random",
         written=lambda s: CONV(s) and s.kernel == "random", widget="number", label="Seed", group=""),
    Knob("in_channels", torch="in_channels", value=lambda s: 3, written=CONV),  # R, G, B
    Knob("filters", int, 3, torch="out_channels", keras="filters", bounds=(1, 4), value=lambda s: s.out_channels,
         has=lambda s: CONV(s) and s.groups == 1, written=CONV, widget="slider", group=""),
    Knob("kernel_size", int, 3, torch="kernel_size", keras="kernel_size", bounds=(1, 7), widget="slider", group="",
         has=lambda s: TORCH(s) or CONV(s)),
    Knob("kernel_size", keras="pool_size", only="keras", bounds=(1, 7), widget="slider", group="",
         has=lambda s: not CONV(s)),
    Knob("stride", int, 1, torch="stride", keras="strides", bounds=(1, 4), widget="slider", group=""),
    Knob("padding", Literal[PADDINGS], "1", torch="padding", keras="padding", has=CONV, read=word,
         value=lambda s: int(s.padding) if s.padding.isdigit() else s.padding, widget="select", group="",
         options=lambda s,
         i: [(p, p if p.isdigit() else f"'{p}'") for p in (PADDINGS if TORCH(s) else ("valid", "same"))]),
    Knob("padding", keras="padding", only="keras", has=POOL_KERAS, value=lambda s: "valid"),  # as the view draws it
    Knob("dilation", int, 1, torch="dilation", keras="dilation_rate", bounds=(1, 4), has=CONV, widget="slider",
         group=""),
    Knob("groups", int, 3, torch="groups", keras="groups", bounds=(1, 3), has=CONV, widget="select", group="",
         options=lambda s,
         i: [(3, "3 · each channel alone"), (1, f"1 · RGB → {'out_channels' if TORCH(s) else 'filters'}")]),
    Knob("bias", bool, False, torch="bias", keras="use_bias", has=CONV, widget="bool", group=""),
    Knob("padding_mode", Literal["zeros", "reflect", "replicate", "circular"], "zeros", torch="padding_mode",
         only="torch", has=CONV, widget="select", group="", options=("zeros", "reflect", "replicate", "circular")),
    Knob("activation", Literal["linear", "relu"], "linear", keras="activation", only="keras", has=CONV,
         written=lambda s: CONV(s) and s.activation == "relu",
         widget="select", group="", options=(("linear", "None"), ("relu", "'relu'"))),
    Knob("bias_value", float, 0.0, option=True, bounds=(-255, 255), has=lambda s: CONV(s) and s.bias,
         written=lambda s: CONV(s) and s.bias, value=lambda s: cell_text(s.bias_value), widget="decimal",
         label="bias value", group=""),
    Knob("activation", only="torch", option=True, has=CONV, written=lambda s: CONV(s) and s.activation == "relu",
         widget="select", label="then ReLU", group="", options=(("linear", "off"), ("relu", "on"))),
    Knob("scale", Literal[SCALES], "auto", option=True, widget="select", label="Colour range", group="",
         options=[(v, "± largest value" if v == "auto" else f"±{v} (clip)") for v in SCALES]),
    Knob("f", int, 0, option=True, bounds=(0, 3)),  # the map under the lens ...
    Knob("at", tuple[int, ...], (), option=True),  # ... and where (read below: its own message)
)
# What the generic tests read (app/views.py: ViewModule)
READS = ("framework", "type", "from", "lens", "at")  # query names read besides the knobs'
PAGES = ("groups=1&kernel=random&bias=true", "type=MaxPool2d&framework=keras")
CHOICES = {"kernel": ("sobel_x", "random", "box")}  # query names no knob reads, with values to try
AXES: dict[int, list[str]] = {}  # no dimension switch


class _ImageState(BaseModel):
    """The view's state: these fields and properties, and one field per knob (its type, default and bounds)."""

    framework: Literal["torch", "keras"] = "torch"
    follow: bool = False  # the lens position came from the form (``lens``): kept inside the output, silently

    @property
    def out_channels(self) -> int:
        return 3 if self.kind != "conv" or self.groups == 3 else self.filters


ImageState = state_model("ImageState", KNOBS, _ImageState)


def _floats(text: str) -> tuple[float, ...] | str:
    parts = [p for p in text.split(",") if p.strip()]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        return text
    return values if all(math.isfinite(v) for v in values) else text


def preset_kernel(name: str, k: int, seed: int = 0) -> np.ndarray:
    """The k×k kernel of a preset (a fixed 3×3 one sits in the middle of a larger kernel)."""
    if name == "random":  # tenths in −0.9..0.9, as the other views' readable weights
        return np.random.default_rng(seed).integers(-9, 10, size=(k, k)) / 10
    make = PRESETS[name][1]
    if callable(make):
        return make(k)
    if k < 3:
        raise SpecError(f"kernel: {PRESETS[name][0]} is a 3×3 kernel; choose kernel_size 3 or more, got {k}",
                        "kernel_size")
    w = np.zeros((k, k))
    o = (k - 3) // 2
    w[o:o + 3, o:o + 3] = make
    return w


def _fit(values: tuple[float, ...], k: int) -> np.ndarray:
    """Custom cells for another kernel size: the old kernel centred in the new one (cropped or padded with 0)."""
    m = math.isqrt(len(values))
    old = np.array(values[:m * m], dtype=np.float64).reshape(m, m) if m else np.zeros((0, 0))
    new = np.zeros((k, k))
    a, b = max(0, (k - m) // 2), max(0, (m - k) // 2)
    n = min(k, m)
    new[a:a + n, a:a + n] = old[b:b + n, b:b + n]
    return new


def read_state(query: QueryParams) -> tuple[ImageState, list[str]]:
    """The state from a URL in either framework's words (or the form's); messages for what was refused."""
    raw: dict[str, object] = {}
    errors: list[str] = []
    framework = query.get("framework", "torch")
    raw["framework"] = framework
    layer_type = query.get("type")
    if layer_type:
        kinds = {name: kind for kind, names in TYPES.items() for name in names}
        if layer_type in kinds:
            raw["kind"] = kinds[layer_type]
        else:
            errors.append(f"type: /image shows {', '.join(t for t, _ in TYPES.values())} (PyTorch) or "
                          f"{', '.join(t for _, t in TYPES.values())} (Keras), got {layer_type!r}")
    said: dict[str, str] = {}  # state field -> the word the URL used for it (params.in_url_words)
    read_knobs(KNOBS, query, framework, raw, said)
    if "padding" not in query and framework == "keras":
        raw["padding"] = "same"
    _read_lens(query, raw, errors)
    state = validated(ImageState, raw, errors)
    fixes: dict[str, object] = {}
    if state.framework == "keras" and state.padding not in ("valid", "same"):
        errors.append(f"padding: Keras takes 'valid' or 'same', got {state.padding!r}")
        fixes["padding"] = "same"
    if state.framework == "keras" and state.padding_mode != "zeros":
        errors.append(f"padding_mode: Keras convolutions have no padding_mode (they pad with zeros), got "
                      f"{state.padding_mode!r}; showing zeros")
        fixes["padding_mode"] = "zeros"
    fixes.update(_cells(state, query.get("from"), errors))
    if any(abs(v) > 255 for v in fixes.get("weights", state.weights)):
        errors.append("weights: each cell must be between −255 and 255")
        fixes.update(kernel="sobel_x", weights=())
    if state.groups == 2:
        errors.append("groups: 3 input channels split into groups of 1 (groups=3) or 3 (groups=1); 2 does not divide 3")
        fixes["groups"] = 3
    state = state.model_copy(update=fixes)
    if state.f >= state.out_channels and state.follow:
        state = state.model_copy(update={"f": state.out_channels - 1})
    elif state.f >= state.out_channels:
        errors.append(f"f: the map shown must be below {state.out_channels}, got {state.f}")
        state = state.model_copy(update={"f": 0})
    return state, in_url_words(errors, said)



def _read_lens(query: QueryParams, raw: dict, errors: list[str]) -> None:
    """Where the lens is: ``at`` (an output row and column), or ``lens`` (where it was before a knob changed: kept
    inside the output, silently)."""
    raw.pop("at", None)
    if "at" in query:
        if re.fullmatch(r"\s*-?\d{1,9}\s*,\s*-?\d{1,9}\s*", query["at"]):
            raw["at"] = tuple(int(v) for v in query["at"].split(","))
        else:
            errors.append(f"at: the lens position is an output row and column, two whole numbers as at=10,12; "
                          f"got {query['at']!r}")
    elif re.fullmatch(r"\d{1,4},\d{1,4},\d", query.get("lens", "")):
        y, x, f = (int(v) for v in query["lens"].split(","))
        raw.update(at=(y, x), follow=True)
        if "f" not in query:  # the form's filter field (a thumbnail of the deck sets it) wins over where the lens was
            raw["f"] = min(f, 3)


def _cells(state: ImageState, shown_from: str | None, errors: list[str]) -> dict:
    """The kernel cells the form sent: a preset chosen just now wins; edited cells make the kernel custom."""
    chosen = state.kernel
    if not (state.weights and state.kind == "conv"):
        return {"weights": (0.0,) * (state.kernel_size ** 2)} if chosen == "custom" and not state.weights else {}
    if len(state.weights) > 49:
        errors.append(f"weights: at most 7×7 = 49 cells, got {len(state.weights)}")
        return {"weights": ()}
    if not (chosen == "custom" or shown_from in (None, chosen)):
        return {"weights": ()}
    try:
        base = preset_kernel(chosen, state.kernel_size, state.seed) if chosen != "custom" else None
    except SpecError:
        base = None
    cells_now = _fit(state.weights, state.kernel_size)
    if base is None or len(state.weights) != state.kernel_size ** 2 or not np.allclose(cells_now, base, atol=1e-4):
        return {"kernel": "custom", "weights": tuple(float(v) for v in cells_now.ravel())}
    return {"weights": ()}

def kernel_of(state: ImageState) -> np.ndarray:
    if state.kernel == "custom":
        return _fit(state.weights, state.kernel_size)
    return preset_kernel(state.kernel, state.kernel_size, state.seed)


def layer_spec(state: ImageState) -> dict:
    """The layer in the framework's own words."""
    return {"type": TYPES[state.kind][0 if TORCH(state) else 1], **layer_words(KNOBS, state)}


def canonical_query(state: ImageState, **changes) -> str:
    """The view's URL query in the framework's words."""
    state = state.model_copy(update=changes)
    return urlencode({"framework": state.framework, **url_words(layer_spec(state)),
                      **url_words(view_options(KNOBS, state))}, safe=",")


def cell_text(v: float) -> str:
    """A kernel cell as the editor shows it: up to 4 decimals (1/9 -> 0.1111)."""
    text = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def switched(state: ImageState, framework: str) -> ImageState:
    """The same layer in the other framework's words."""
    padding = state.padding
    if framework == "keras" and padding.isdigit():
        padding = "valid" if padding == "0" else "same"
    if framework == "torch" and padding == "same" and state.stride > 1:
        padding = str(min(3, state.dilation * (state.kernel_size - 1) // 2))
    return state.model_copy(update={"framework": framework, "padding": padding, "at": ()})


def _weights(layer, state: ImageState, k: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The framework's tensors for the kernel, and the canonical (filters, channels/groups, k, k) weight and bias.

    Per channel (groups=3): every channel gets the kernel. RGB → filters (groups=1): filter f is the
    kernel turned f quarter turns, on all three channels (so filter 1 of Sobel x is Sobel y, upside down).
    """
    f, cg = state.out_channels, 3 // state.groups
    w = np.stack([np.stack([np.rot90(k, i if state.groups == 1 else 0)] * cg) for i in range(f)]).astype(np.float32)
    b = np.full(f, state.bias_value if state.bias else 0.0, dtype=np.float32)
    return [framework_tensor(p, w if p.kind == "weight" else b) for p in layer.params], w, b


def _grid(values) -> list[list[str]]:
    return [[fmt(float(v)) for v in row] for row in values]


def lens_numbers(state: ImageState, run: dict) -> dict:
    """The numbers under the window at output ``at`` of map ``f``: pixels, weights, products, sums."""
    f, at, xp, pre = state.f, run["at"], run["xp"], run["pre"]
    k = state.kernel_size
    value = float(pre[f, at[0], at[1]])
    out = {"at": at, "f": f, "pre": fmt(value),
           "value": fmt(max(value, 0.0) if state.activation == "relu" and state.kind == "conv" else value)}
    if state.kind != "conv":  # the map's own channel, pooled (core.pool.pool_step: the window the engine reads)
        step = pool_step(xp[f:f + 1], run["op"], at)
        window = step.channels[0]
        out["channels"] = [{"name": CHANNELS[f], "pixels": _grid(np.reshape(window.values, (k, k)))}]
        out["op"] = f"max = {fmt(window.value)}" if state.kind == "max" else \
            f"{fmt(sum(window.values))} / {step.divisor.value} = {fmt(window.value)}"
        return out
    arith = step_arithmetic(xp, run["w"], run["b"], run["op"], f, at)
    out["channels"] = [{"name": CHANNELS[ch.channel],
                        "pixels": _grid(np.array([x for x, _ in ch.terms]).reshape(k, k)),
                        "weights": [[cell_text(v).replace("-", "\u2212") for v in row]
                                    for row in np.array([wv for _, wv in ch.terms]).reshape(k, k)],
                        "products": _grid(np.array([x * wv for x, wv in ch.terms]).reshape(k, k)),
                        "sum": fmt(ch.total)} for ch in arith.channels]
    out["bias"] = fmt(arith.bias)
    return out


def engine_run(state: ImageState, rgb: np.ndarray | None = None, upload: bool = False) -> dict:
    """The picture through the layer, as the page, its pictures and the lens all read it: the input as the layer
    reads it (``xp``: padded, channels first), the weights, the output before ReLU (``pre``) and after (``y``),
    where the lens is (``at``, or ``at_error``). ``error`` when the layer cannot run on this picture."""
    try:
        k = kernel_of(state) if state.kind == "conv" else None
    except SpecError as e:
        return {"error": str(e), "kernel_cells": [[cell_text(0)] * state.kernel_size] * state.kernel_size}
    run: dict = {"kernel_cells": [[cell_text(v) for v in row] for row in k]} if k is not None else {}
    torch = state.framework == "torch"
    image = rgb if rgb is not None else sample(state.image, state.size)
    if upload:
        image = resize(image, state.size)
    cf = np.ascontiguousarray(np.transpose(image, (2, 0, 1))[None].astype(np.float32))  # (1, 3, H, W), 0..255
    x = cf if torch else np.ascontiguousarray(np.transpose(cf, (0, 2, 3, 1)))
    spec = layer_spec(state)
    try:
        layer = build_layer(state.framework, spec, x.shape)
        check_layer_cost(layer)
    except SpecError as e:
        return {**run, "error": str(e), "input_shape": list(x.shape)}
    op = layer.stages[0]
    if state.kind == "conv":
        # the layer without its activation gives the sum the lens writes out; ReLU is max(0, ·) after it
        plain = layer if not (len(layer.stages) > 1) else build_layer(state.framework, {**spec, "activation": None},
                                                                     x.shape)
        tensors, w, b = _weights(plain, state, k)
        pre = run_layer(plain, x, tensors)
        xp = pad_input(cf, op.padding, op.padding_mode)[0]
    else:
        w, b = None, None
        pre = run_layer(layer, x, [])
        xp = cf[0]
    if not torch:
        pre = np.moveaxis(pre, -1, 1)
    pre = np.ascontiguousarray(pre[0], dtype=np.float32)  # (maps, Ho, Wo)
    ho, wo = pre.shape[1:]
    at = state.at if len(state.at) == 2 else (ho // 2, wo // 2)
    at_error = None
    if state.follow:
        at = (min(at[0], ho - 1), min(at[1], wo - 1))
    elif not (0 <= at[0] < ho and 0 <= at[1] < wo):
        at_error = f"at: the output is {ho}×{wo}, so the lens goes from 0,0 to {ho - 1},{wo - 1}; got {at[0]},{at[1]}"
        at = (ho // 2, wo // 2)
    y = np.maximum(pre, 0) if state.kind == "conv" and state.activation == "relu" else pre
    limit = float(state.scale) if state.scale != "auto" else float(np.abs(y).max(initial=0)) or 1.0
    run.update(image=image, layer=layer, op=op, input_shape=list(x.shape), xp=xp, w=w, b=b, pre=pre, y=y,
               limit=limit, at=at, at_error=at_error, in_hw=image.shape[:2], out_hw=(ho, wo))
    return run


TINTS = np.eye(3, dtype=np.float32)  # channel c drawn in its own colour: 0 black, 255 full red, green or blue


def picture(state: ImageState, run: dict, part: str, c: int) -> tuple[np.ndarray, float]:
    """One picture of the stage, from an engine run: ``photo`` (the input as the layer reads it, padding included,
    as a uint8 RGB photo), ``input`` channel ``c`` in its own colour, ``output`` map ``c`` on the diverging
    scale ±limit, ``composite`` (the three maps as one colour image, clipped to 0–255). SpecError for a
    picture this layer does not have."""
    maps = run["y"].shape[0]
    if part == "output" and c < maps:
        return run["y"][c], run["limit"]
    if part == "photo" and c == 0:
        return np.clip(np.rint(run["xp"].transpose(1, 2, 0)), 0, 255).astype(np.uint8), 255.0
    if part == "input" and c < 3:
        tinted = run["xp"][c][..., None] * TINTS[c]
        return np.clip(np.rint(tinted), 0, 255).astype(np.uint8), 255.0
    if part == "composite" and c == 0 and composite(state):
        return np.clip(np.rint(run["y"].transpose(1, 2, 0)), 0, 255).astype(np.uint8), 255.0
    have = {"photo": "0", "input": "0, 1, 2 (R, G, B)", "output": f"0 to {maps - 1}",
            "composite": "0, when each map is one channel's" if composite(state) else "none for this layer"}
    raise SpecError(f"c: {part} pictures of this layer are {have[part]}, got {c}", "c")


def composite(state: ImageState) -> bool:
    """Whether the three maps are R, G and B each through the kernel (so they make a colour image)."""
    return state.kind != "conv" or state.groups == 3


def picture_of(state: ImageState, part: str, c: int) -> tuple[np.ndarray, float]:
    """A picture of the sample's stage (the stage's ``/image/picture`` URL); SpecError names what is refused."""
    run = engine_run(state)
    if "error" in run:
        raise SpecError(run["error"], "layer")
    return picture(state, run, part, c)


PARTS = ("photo", "input", "output", "composite")


def pads(op) -> bool:
    """Whether the layer pads its input."""
    return any(sum(p) for p in op.padding)


def _sources(state: ImageState, run: dict, upload: bool):
    """``src(part, c)``: the picture's URL and its thumbnail's (a sample: /image/picture, cached; the same URL), or
    their data: URLs (your image has no URL: the page carries it; its thumbnails scaled down)."""
    if upload:
        def carried(part: str, c: int) -> tuple[str, str]:
            body = png(*picture(state, run, part, c))
            return data_url(body), data_url(thumbnail_png(body))
        return carried
    query = canonical_query(state, at=(), f=0)
    return lambda part, c: (picture_url("/image", query, part, c),) * 2


def image_context(state: ImageState, rgb: np.ndarray | None = None, upload: bool = False, *,
                  lens: bool = False) -> dict:
    """Everything the page shows, computed by the engine through the framework front end (``lens``: for the lens
    alone)."""
    torch = state.framework == "torch"
    ctx = {"s": state, "torch": torch, "spec": layer_spec(state), "samples": SAMPLES, "presets": PRESETS,
           "upload": upload, "query": canonical_query(state), "max_side": MAX_SIDE, "max_bytes": MAX_UPLOAD_BYTES,
           "too_big": f"Your image was not used: the file has more than {MAX_UPLOAD_BYTES:,} bytes, the limit.",
           "lens_query": canonical_query(state, at=()),
           "framework_links": {fw: canonical_query(switched(state, fw)) for fw in ("torch", "keras")},
           "controls": controls(KNOBS, state, []), "channel_names": CHANNELS,
           # your image, as the server scaled it, rides in the page so later changes can re-send it
           "kept": png_data_url(rgb) if upload and rgb is not None and not lens else None}
    run = engine_run(state, rgb, upload)
    keep = ("error", "kernel_cells", "input_shape", "layer", "in_hw", "out_hw", "at_error", "w", "limit")
    ctx.update({key: run[key] for key in keep if key in run})
    if "y" in run:
        ctx["output"] = run["y"]  # the maps, (maps, H, W)
    if "error" in run:
        return ctx
    op, y, (ho, wo) = run["op"], run["y"], run["out_hw"]
    geometry = (op.stride, op.kernel, op.dilation if state.kind == "conv" else (1, 1))
    step = run["at"][0] * wo + run["at"][1]
    now = step_boxes(*geometry, run["xp"].shape[1:], (ho, wo), range(step, step + 1))
    now["pending"] = [[]]  # the whole output is drawn: nothing waits to be played
    ctx.update(lens=lens_numbers(state, run), now=now, step_error=run["at_error"])
    if lens:
        return ctx
    src = _sources(state, run, upload)
    names = ([f"{CHANNELS[c]} through the kernel" for c in range(3)] if composite(state)
             else [f"filter {i}" + (f" (kernel turned {90 * i}°)" if i else "") for i in range(y.shape[0])])
    photo = "Your image" if upload else SAMPLES[state.image][0]
    pictures = {(part, c): dict(zip(("src", "thumb"), src(part, c)))
                for part, n in (("photo", 1), ("input", 3), ("output", y.shape[0])) for c in range(n)}
    inputs = [{"c": "RGB", "name": f"RGB: {photo}", **pictures["photo", 0]},
              *({"c": CHANNELS[c], "name": f"{CHANNELS[c]}: the {('red', 'green', 'blue')[c]} channel",
                 **pictures["input", c]} for c in range(3))]
    pic = picture_stage(in_block=run["xp"], out_block=y, in_spatial=run["xp"].shape[1:], out_spatial=(ho, wo),
                        geometry=geometry, block=range(step, step + 1), step=step, inputs=inputs,
                        outputs=[{"f": i, **pictures["output", i], "link": canonical_query(state, f=i)}
                                 for i in range(y.shape[0])])
    pic.update(now=now, output_limit=fmt(run["limit"]),
               photo="Pixels 0–255, drawn as they are" + (" (black: the zero padding)" if pads(op) and
                                                          state.padding_mode == "zeros" else ""))
    kernel = kernel_of(state) if state.kind == "conv" else None
    ctx.update({
        "out_shape": list(output_shape(run["layer"])), "picture": pic, "map_names": names,
        "composite_src": src("composite", 0)[0] if composite(state) else None,
        "kernel": [[cell_text(v).replace("-", "\u2212") for v in row]
                   for row in np.rot90(kernel, state.f if state.groups == 1 else 0)] if kernel is not None else None,
        "pad": [list(p) for p in op.padding],
    })
    return ctx


def _render(request: Request, state: ImageState, errors: list[str], ctx: dict, *, upload_error: str | None = None):
    refused = bool(errors) or bool(ctx.get("at_error"))
    if ctx.get("at_error"):
        state = state.model_copy(update={"at": ()})
    elif state.follow and "lens" in ctx:  # the URL names where the lens is now
        state = state.model_copy(update={"at": ctx["lens"]["at"], "f": ctx["lens"]["f"], "follow": False})
    return view_response(request, "image.html", {**ctx, "query_errors": errors, "upload_error": upload_error},
                         path="/image", query=None if ctx["upload"] or upload_error else canonical_query(state),
                         refused=refused)


def image_view(request: Request):
    state, errors = read_state(request.query_params)
    return _render(request, state, errors, image_context(state))


def _upload_answer(request: Request, rgb: np.ndarray):
    state, errors = read_state(request.query_params)
    return _render(request, state, errors, image_context(state, rgb, upload=True))


def _upload_refused(request: Request, message: str):
    """Your image was not used: the page keeps what it shows (htmx), or shows the settings on a sample."""
    state, errors = read_state(request.query_params)
    if is_htmx(request):  # the message goes beside the upload control
        response = view_response(request, "image.html", {"s": state, "upload_error": message, "error_only": True},
                                 path="/image", query=None)
    else:
        response = _render(request, state, errors, image_context(state), upload_error=message)
    response.status_code = 422
    return response


def _lens_on_upload(request: Request, rgb: np.ndarray):
    """The lens on your picture, as the stage's GET /image/lens answers for a sample (app/routes/stage.py)."""
    state, errors = read_state(request.query_params)
    ctx = image_context(state, rgb, upload=True, lens=True)
    reasons = [*errors, *(ctx[k] for k in ("error", "step_error") if ctx.get(k))]
    if reasons:
        return refused(reasons, "lens")
    return view_response(request, "image.html", {**ctx, "query_errors": errors}, path="/image", query=None,
                         only="lens")


def _private(response):
    """An answer holding someone's image: never cached, anywhere."""
    response.headers["Cache-Control"] = "no-store"
    if "etag" in response.headers:
        del response.headers["etag"]
    return response


async def _with_upload(request: Request, answer, refused):
    """A POST whose whole body is a picture (PNG, JPEG or WebP bytes) and whose query is the view's, as for GET:
    the app refuses bodies over its limit (413) before this reads them; ``decode_upload`` checks the rest.
    ``answer(request, rgb)`` or ``refused(request, message)``, in the thread pool; never cached."""
    body = await request.body()

    def work():
        try:
            rgb = decode_upload(body)
        except ImageError as e:
            return refused(request, str(e))
        return answer(request, rgb)
    return _private(await run_in_threadpool(work))


@router.post("/image")
async def image_upload(request: Request):
    """Your picture through the layer: the page (or its live fragment), as GET /image gives for a sample."""
    return await _with_upload(request, _upload_answer, _upload_refused)


@router.post("/image/lens")
async def lens_upload(request: Request):
    """The lens on your picture: the downscaled copy the page keeps is the body, the lens query the query."""
    return await _with_upload(request, _lens_on_upload,
                              lambda request, message: refused([f"Your image was not used: {message}"], "lens"))


# the pictures (GET /image/picture?…&part=photo|input|output|composite&c=n) and the lens (GET /image/lens?…&at=y,x)
# of a sample, and their /embed twins: the stage component's (app/routes/stage.py)
STAGE = serve(StageView("/image", "image.html", read_state, image_context, picture_of, parts=PARTS))
