"""`/cost`: why a depthwise-separable conv with ~1/9 of the MACs can run slower (docs/QUESTIONS.md Q3).

Standard conv, its depthwise and pointwise stages and the separable total, side by side for the
user's sizes: parameters, MACs, bytes per tensor, arithmetic intensity, and each op on a roofline
of an editable machine with its lower-bound time.
"""
from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from fastapi import Request
from pydantic import BaseModel, field_validator

from ..core.cost import MACHINES, Machine, chain_cost, lower_bound_seconds
from ..core.forward import output_shape
from ..core.frameworks import SpecError, build_layer
from ..core.shapes import csv
from ..figures import roofline_figure
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
)
from ..templating import view_response

# docs/QUESTIONS.md Q3: TensorFlow, NCHW, batch 10, 512×512, 3×3, 100 repeats (seconds)
MEASURED = {32: (0.78, 1.42), 64: (0.90, 1.57), 128: (0.97, 1.67)}


def measured_machine() -> Machine:
    """The asker's machine as Q3's own timings show it, the page's default: at 32 channels (batch 10, 512×512,
    3×3, 'same', float32, 100 runs) the standard conv's FLOPs over its time are the compute it reached, the
    separable conv's bytes over its time the bandwidth it reached. On it the lower bounds give back the measured
    0.78 s and 1.42 s: the separable conv is slower, as the page's title says (the presets, tuned for direct
    MACs, show it faster at 32 channels; the note under the measured table says why).

    >>> m = measured_machine(); (m.peak_gflops, m.bandwidth_gbs)
    (6190.0, 94.5)
    """
    shape, conv = (10, 32, 512, 512), {"type": "Conv2d", "kernel_size": 3, "padding": "same"}
    standard = chain_cost([build_layer("torch", {**conv, "in_channels": 32, "out_channels": 32}, shape)])
    depthwise = build_layer("torch", {**conv, "in_channels": 32, "out_channels": 32, "groups": 32}, shape)
    pointwise = build_layer("torch", {"type": "Conv2d", "in_channels": 32, "out_channels": 32, "kernel_size": 1},
                            output_shape(depthwise))
    separable = chain_cost([depthwise, pointwise])
    normal_s, separable_s = (t / 100 for t in MEASURED[32])
    three = lambda v: float(f"{v:.3g}")  # noqa: E731  (three digits, as the asker's timings have)
    return Machine("As the asker measured (Q3)", three(standard.flops / normal_s / 1e9),
                   three(separable.total_bytes / separable_s / 1e9))


ASKER = measured_machine()
TORCH = lambda s: s.framework == "torch"  # noqa: E731
FIRST = lambda values, query: values[-1].split(",")[0]  # noqa: E731  (a square kernel, one stride: the first number)
KNOBS = (  # every setting, declared once (app/routes/params.py: Knob); one flat grid, no fieldsets
    Knob("batch", int, 10, bounds=(1, 4096), widget="number", label="Batch", group=""),
    Knob("channels", int, 32, torch="in_channels", bounds=(1, 8192), widget="number", group="",
         label=lambda s: "in_channels" if TORCH(s) else "Input channels"),
    Knob("filters", int, 32, torch="out_channels", keras="filters", bounds=(1, 8192), widget="number", group=""),
    Knob("height", int, 512, bounds=(1, 8192), widget="number", label="Height", group=""),
    Knob("width", int, 512, bounds=(1, 8192), widget="number", label="Width", group=""),
    Knob("kernel", int, 3, torch="kernel_size", keras="kernel_size", bounds=(1, 15), read=FIRST, widget="number",
         group=""),
    Knob("stride", int, 1, torch="stride", keras="strides", bounds=(1, 8), read=FIRST, widget="number", group=""),
    Knob("padding", Literal["same", "valid"], "same", torch="padding", keras="padding", widget="select",
         options=("same", "valid"), group=""),
    Knob("dtype_bytes", int, 4, option=True, widget="select", label="Bytes per value", group="",
         options=((4, "4 (float32)"), (2, "2 (float16)"), (1, "1 (int8)"), (8, "8 (float64)"))),
    Knob("peak_gflops", float, ASKER.peak_gflops, option=True, bounds=(1, 10_000_000), widget="decimal",
         label="Peak GFLOP/s", group=""),
    Knob("bandwidth_gbs", float, ASKER.bandwidth_gbs, option=True, bounds=(1, 1_000_000), widget="decimal",
         label="Memory GB/s", group=""),
)
# What the generic tests read (app/views.py: ViewModule)
READS = ("framework", "type", "input_shape")  # query names read besides the knobs'
PAGES = ("framework=torch",)
CHOICES = {}  # query names no knob reads, with values to try
AXES: dict[int, list[str]] = {}  # no dimension switch


class _CostState(BaseModel):
    framework: Literal["torch", "keras"] = "torch"

    @field_validator("dtype_bytes", check_fields=False)
    @classmethod
    def _dtype(cls, v: int) -> int:
        if v not in (1, 2, 4, 8):
            raise ValueError("bytes per value must be 1, 2, 4 or 8")
        return v

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.framework == "torch":
            return (self.batch, self.channels, self.height, self.width)
        return (self.batch, self.height, self.width, self.channels)


CostState = state_model("CostState", KNOBS, _CostState)


def read_state(query) -> tuple[CostState, list[str]]:
    """The state from the URL (framework words, or the form's own names); messages for refusals."""
    framework = query.get("framework", "torch")
    raw: dict = {"framework": framework}
    said: dict[str, str] = {}  # state field -> the word the URL used for it (params.in_url_words)
    read_knobs(KNOBS, query, framework, raw, said)
    if "input_shape" in query:
        parts = query["input_shape"].split(",")
        if len(parts) == 4:
            n, *rest = parts
            c, h, w = (rest[0], *rest[1:]) if framework == "torch" else (rest[2], *rest[:2])
            raw.update({"batch": n, "channels": c, "height": h, "width": w})
    errors: list[str] = []
    return validated(CostState, raw, errors), in_url_words(errors, said)


def canonical_query(state: CostState, **changes) -> str:
    s = state.model_copy(update=changes)
    return urlencode({"framework": s.framework, "type": "Conv2d" if TORCH(s) else "Conv2D",
                      **url_words(layer_words(KNOBS, s)), "input_shape": csv(s.input_shape),
                      **url_words(view_options(KNOBS, s))}, safe=",")


def layers(state: CostState) -> dict[str, list]:
    """The standard conv and the two stages of its depthwise-separable counterpart, in the framework's words."""
    s, k, pad = state, state.kernel, state.padding
    if s.framework == "torch":
        conv = {"type": "Conv2d", "kernel_size": k, "stride": s.stride, "padding": pad}
        standard = build_layer("torch", {**conv, "in_channels": s.channels, "out_channels": s.filters}, s.input_shape)
        depthwise = build_layer("torch", {**conv, "in_channels": s.channels, "out_channels": s.channels,
                                          "groups": s.channels}, s.input_shape)
        pointwise_spec = {"type": "Conv2d", "in_channels": s.channels, "out_channels": s.filters, "kernel_size": 1}
    else:
        standard = build_layer("keras", {"type": "Conv2D", "filters": s.filters, "kernel_size": k, "strides": s.stride,
                                         "padding": pad}, s.input_shape)
        # SeparableConv2D's stages: a depthwise conv without bias, then a 1×1 conv with the one bias
        depthwise = build_layer("keras", {"type": "DepthwiseConv2D", "kernel_size": k, "strides": s.stride,
                                          "padding": pad, "use_bias": False}, s.input_shape)
        pointwise_spec = {"type": "Conv2D", "filters": s.filters, "kernel_size": 1}
    pointwise = build_layer(s.framework, pointwise_spec, output_shape(depthwise))
    return {"standard": [standard], "depthwise": [depthwise], "pointwise": [pointwise],
            "separable": [depthwise, pointwise]}


def human(n: float, unit: str = "") -> str:
    """1234567 -> '1.23 M'."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {prefix}{unit}"
    return f"{n:.3g} {unit}".rstrip()


def cost_context(state: CostState) -> dict:
    machine = Machine("custom", state.peak_gflops, state.bandwidth_gbs)
    ctx = {"s": state, "machine": machine, "query": canonical_query(state), "human": human,
           "controls": controls(KNOBS, state, []),
           "presets": [(m, canonical_query(state, peak_gflops=m.peak_gflops, bandwidth_gbs=m.bandwidth_gbs),
                        (m.peak_gflops, m.bandwidth_gbs) == (state.peak_gflops, state.bandwidth_gbs))
                       for m in (ASKER, *MACHINES)],
           "frameworks": {fw: canonical_query(state, framework=fw) for fw in ("torch", "keras")},
           "q3_links": {c: canonical_query(state, channels=c, filters=c, batch=10, height=512, width=512, kernel=3,
                                           stride=1, padding="same") for c in MEASURED}}
    try:
        ops = layers(state)
    except SpecError as e:
        return {**ctx, "error": str(e)}
    costs = {name: chain_cost(chain, state.dtype_bytes) for name, chain in ops.items()}
    rows = []
    for name, c in costs.items():
        seconds, bound = lower_bound_seconds(c, machine)
        rows.append({"name": name, "cost": c, "seconds": seconds, "bound": bound})
    std, sep = costs["standard"], costs["separable"]
    predicted = {}
    for channels, (normal, separable) in MEASURED.items():
        q3 = CostState(channels=channels, filters=channels, peak_gflops=state.peak_gflops,
                       bandwidth_gbs=state.bandwidth_gbs)
        c = {name: chain_cost(chain) for name, chain in layers(q3).items()}
        predicted[channels] = {"measured": (normal, separable),
                               "bound": tuple(lower_bound_seconds(c[n], machine)[0] * 100
                                              for n in ("standard", "separable")),
                               "link": ctx["q3_links"][channels]}
    return {**ctx, "rows": rows, "costs": costs, "predicted": predicted,
            "output_shape": list(output_shape(ops["standard"][0])),
            "intermediate_shape": list(output_shape(ops["depthwise"][0])),
            "mac_ratio": sep.macs / std.macs, "formula": 1 / state.filters + 1 / state.kernel ** 2,
            "byte_ratio": sep.total_bytes / std.total_bytes,
            "time_ratio": lower_bound_seconds(sep, machine)[0] / lower_bound_seconds(std, machine)[0],
            "figure": roofline_figure(machine, costs)}


def cost_page(request: Request):
    state, errors = read_state(request.query_params)
    return view_response(request, "cost.html", {**cost_context(state), "query_errors": errors}, path="/cost",
                         query=canonical_query(state), refused=bool(errors))
