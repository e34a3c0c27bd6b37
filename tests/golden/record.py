"""Record golden forward outputs and refusals from real PyTorch and Keras.

Run from the repository root, in an environment that has the frameworks:

    pip install torch==2.13.0 keras
    KERAS_BACKEND=torch python tests/golden/record.py

It writes, next to this file:

- ``forward.json.gz``: ``{"meta": {...}, "cases": [...]}``. Each case is a request body of
  ``POST /api/forward`` (``framework``, ``layer``, ``input``, ``weights``) plus the framework's
  answer (``output``, ``output_shape``) and an ``id``. Layers are written in the framework's own
  words: ``type`` is the class name, the other keys are the constructor keywords that were passed.
- ``refusals.json``: ``{"meta": {...}, "cases": [...]}``. Layer settings the framework refuses (at
  construction, build or call), with the keyword the refusal is about and the framework's message.

CI only reads these data files; it never needs torch or keras. Rerun this script only to refresh
them (for example for a new framework version) and commit the result.

Inputs and weights are multiples of 1/16 in [-2, 2] drawn from a seeded generator, so they are
exact in float32 and short in JSON; outputs are the framework's float32 values, exactly. The
script is deterministic: two runs write byte-identical files.

Not recorded, on purpose: Keras ``AveragePooling*D(padding="same")`` where "same" pads unequally
on some axis. Keras 3.15's torch backend pads those by replicating the edge and then counts the
replicated values in the mean (keras-team/keras#19721, fixed upstream by PR #23233), whereas Keras'
defined behaviour (TensorFlow and JAX backends) averages over the in-input values only. Equal
padding on every axis is recorded; there the torch backend already excludes the padding.
Nor Keras ``DepthwiseConv*D``/``SeparableConv*D`` with strides > 1 and dilation_rate > 1: their
docs say that raises (and it does on TensorFlow), but 3.15 on torch computes it.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import sys
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
QUESTIONS = ROOT / "tests" / "data" / "questions.json"
FORWARD_OUT = HERE / "forward.json.gz"
REFUSALS_OUT = HERE / "refusals.json"

SEED = 20240611
RNG = np.random.default_rng(SEED)

# Spatial input sizes per number of spatial dims; non-square so that swapped axes show up.
SPATIAL = {1: [9], 2: [7, 6], 3: [6, 5, 6]}

# Inputs for activation layers: the grid plus large magnitudes (saturation, softplus threshold).
LARGE_VALUES = [-50.0, -30.0, -20.5, -8.0, -3.5, 3.5, 8.0, 20.5, 30.0, 50.0]

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PY_SET = re.compile(r"\{'[^'{}]*'(?:, '[^'{}]*')+\}")  # a set of strings, printed in hash order


def clean_message(exc: Exception) -> str:
    """str(exc) without terminal colours, with printed sets sorted (hash order varies per run)."""
    message = ANSI.sub("", str(exc)).strip()
    return PY_SET.sub(lambda m: "{" + ", ".join(sorted(m.group()[1:-1].split(", "))) + "}",
                      message)


# --------------------------------------------------------------------------- helpers


def draw(shape) -> np.ndarray:
    """Seeded float32 values, multiples of 1/16 in [-2, 2] (exact in float32)."""
    return (RNG.integers(-32, 33, size=tuple(shape)) / 16).astype(np.float32)


def activation_input(shape) -> np.ndarray:
    """The grid, with LARGE_VALUES and the kinks (0, ±1, 0.5, 6) written over its first entries."""
    x = draw(shape).ravel()
    special = LARGE_VALUES + [0.0, 1.0, -1.0, 0.5, 6.0]
    x[: len(special)] = special
    return x.reshape(shape)


def as_list(a) -> list:
    """float32 array -> nested lists of Python floats holding the exact float32 values."""
    a = np.asarray(a, dtype=np.float32)
    assert np.all(np.isfinite(a)), "non-finite value"
    return a.astype(np.float64).tolist()


def kwargs_of(layer: dict) -> dict:
    """The constructor keywords of a layer spec, JSON lists turned back into tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in layer.items() if k != "type"}


def spatial(d: int) -> list[int]:
    return list(SPATIAL[d])


def per_axis(d: int, *values) -> list:
    """The first d of the given per-axis values, as a JSON list."""
    return list(values[:d])


SHORT = {
    "in_channels": "cin", "out_channels": "cout", "kernel_size": "k", "stride": "s",
    "strides": "s", "padding": "pad", "dilation": "dil", "dilation_rate": "dil",
    "output_padding": "outpad", "groups": "g", "bias": "bias", "use_bias": "bias",
    "padding_mode": "mode", "ceil_mode": "ceil", "count_include_pad": "cip", "filters": "f",
    "depth_multiplier": "dm", "pool_size": "pool", "activation": "act", "data_format": "",
    "negative_slope": "slope", "max_value": "max", "approximate": "approx",
}


def case_id(framework: str, layer: dict, input_shape, tag: str = "") -> str:
    parts = [framework, layer["type"]]
    for key, value in layer.items():
        if key == "type":
            continue
        if isinstance(value, list):
            value = "x".join(str(v) for v in value)
        parts.append(f"{SHORT.get(key, key)}{value}")
    parts.append("in" + "x".join(str(n) for n in input_shape))
    if tag:
        parts.append(tag)
    return "-".join(parts)


# --------------------------------------------------------------------------- running layers


def run_torch(layer: dict, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Build the torch.nn layer, set its weight and bias from the generator, run it on x."""
    module = getattr(torch.nn, layer["type"])(**kwargs_of(layer))
    weights = []
    with torch.no_grad():
        names = [n for n, _ in module.named_parameters()]
        assert names in ([], ["weight"], ["weight", "bias"]), names
        for name in names:
            param = getattr(module, name)
            value = draw(param.shape)
            param.copy_(torch.from_numpy(value))
            weights.append(value)
        y = module(torch.from_numpy(x)).numpy()
    return weights, y


def run_keras(layer: dict, x: np.ndarray, weights=None) -> tuple[list[np.ndarray], np.ndarray]:
    """Build the keras.layers layer, set get_weights() from the generator, run it on x."""
    # fresh auto-names (conv2d, not conv2d_57), so messages do not depend on the order
    keras.backend.clear_session(free_memory=False)
    obj = getattr(keras.layers, layer["type"])(**kwargs_of(layer))
    obj.build(x.shape)
    if weights is None:
        weights = [draw(w.shape) for w in obj.get_weights()]
    obj.set_weights(weights)
    y = keras.ops.convert_to_numpy(obj(x))
    return weights, y


RUNNERS = {"torch": run_torch, "keras": run_keras}
CASES: list[dict] = []


def add(framework: str, layer: dict, input_shape, tag: str = "", x=None, weights=None) -> dict:
    """Run one layer on a drawn input and append the case (request body + answer)."""
    x = draw(input_shape) if x is None else np.asarray(x, dtype=np.float32)
    if weights is None:
        weights, y = RUNNERS[framework](layer, x)
    else:
        weights, y = run_keras(layer, x, [np.asarray(w, np.float32) for w in weights])
    case = {
        "id": case_id(framework, layer, x.shape, tag),
        "framework": framework,
        "layer": layer,
        "input": as_list(x),
        "weights": [as_list(w) for w in weights],
        "output": as_list(y),
        "output_shape": list(y.shape),
    }
    CASES.append(case)
    return case


def torch_case(layer: dict, input_shape, tag: str = "") -> dict:
    return add("torch", layer, input_shape, tag)


def keras_case(layer: dict, input_shape, tag: str = "") -> dict:
    return add("keras", layer, input_shape, tag)


# --------------------------------------------------------------------------- PyTorch cases


def torch_conv_cases() -> None:
    for d in (1, 2, 3):
        conv = f"Conv{d}d"
        sp = spatial(d)

        def layer(cin=2, cout=3, k=3, conv=conv, **kw):
            return {"type": conv, "in_channels": cin, "out_channels": cout, "kernel_size": k, **kw}

        # kernel / stride / int padding
        for k, s, p in [(1, 1, 0), (2, 1, 0), (3, 1, 1), (3, 2, 0), (3, 2, 1), (4, 2, 1),
                        (5, 3, 2), (2, 2, 0), (3, 3, 0)]:
            kw = {}
            if s != 1:
                kw["stride"] = s
            if p != 0:
                kw["padding"] = p
            torch_case(layer(k=k, **kw), [1, 2, *sp])
        torch_case(layer(k=3, stride=2, padding=1), [2, 2, *sp])  # batch of two

        # "same" (odd and even kernels, with dilation) and "valid"
        for k in (2, 3, 4, 5):
            for dil in (1, 2):
                kw = {"padding": "same"} | ({"dilation": dil} if dil > 1 else {})
                torch_case(layer(k=k, **kw), [1, 2, *sp])
        torch_case(layer(k=3, padding="valid"), [1, 2, *sp])

        # dilation
        torch_case(layer(k=3, dilation=2), [1, 2, *sp])
        torch_case(layer(k=2, dilation=2, padding=2), [1, 2, *sp])
        torch_case(layer(k=2, dilation=3, stride=2, padding=1), [1, 2, *sp])

        # groups: grouped, depthwise, depthwise with multiplier 2
        torch_case(layer(cin=4, cout=4, groups=2), [1, 4, *sp])
        torch_case(layer(cin=4, cout=6, groups=2, padding=1), [1, 4, *sp])
        torch_case(layer(cin=3, cout=3, groups=3, padding=1), [1, 3, *sp])
        torch_case(layer(cin=3, cout=6, groups=3), [1, 3, *sp])
        torch_case(layer(cin=4, cout=8, k=2, groups=4, stride=2), [1, 4, *sp])

        # bias=False
        torch_case(layer(bias=False), [1, 2, *sp])
        torch_case(layer(cin=4, cout=2, groups=2, bias=False, padding=1), [1, 4, *sp])

        # padding modes
        torch_case(layer(padding=1, padding_mode="zeros"), [1, 2, *sp])
        for mode in ("reflect", "replicate", "circular"):
            torch_case(layer(padding=1, padding_mode=mode), [1, 2, *sp])
            torch_case(layer(k=2, padding=2, padding_mode=mode), [1, 2, *sp])
            torch_case(layer(k=4, padding="same", padding_mode=mode), [1, 2, *sp])
            torch_case(layer(k=3, padding=2, stride=2, dilation=2, padding_mode=mode), [1, 2, *sp])
            if d > 1:
                torch_case(layer(padding=per_axis(d, 1, 2, 0), padding_mode=mode), [1, 2, *sp])

        # per-axis tuples and non-square kernels
        if d > 1:
            torch_case(layer(k=per_axis(d, 3, 2, 1), stride=per_axis(d, 2, 1, 2)), [1, 2, *sp])
            torch_case(layer(k=per_axis(d, 1, 3, 2), padding=per_axis(d, 0, 1, 1)), [1, 2, *sp])
            torch_case(layer(k=per_axis(d, 3, 3, 2), stride=per_axis(d, 1, 2, 1),
                             padding=per_axis(d, 1, 0, 1), dilation=per_axis(d, 2, 1, 1)),
                       [1, 2, *sp])
            torch_case(layer(k=per_axis(d, 2, 3, 4), padding="same",
                             dilation=per_axis(d, 1, 2, 1)), [1, 2, *sp])
        else:
            torch_case(layer(k=[3], stride=[2], padding=[1]), [1, 2, *sp], tag="lists")


def torch_conv_transpose_cases() -> None:
    for d in (1, 2, 3):
        conv = f"ConvTranspose{d}d"
        sp = [n - 1 for n in spatial(d)]  # outputs grow; keep them small

        def layer(cin=2, cout=3, k=3, conv=conv, **kw):
            return {"type": conv, "in_channels": cin, "out_channels": cout, "kernel_size": k, **kw}

        grid = [  # (kernel, stride, padding, output_padding, dilation)
            (3, 1, 0, 0, 1), (3, 2, 0, 0, 1), (3, 2, 1, 1, 1), (4, 2, 1, 0, 1), (2, 2, 0, 0, 1),
            (1, 2, 0, 1, 1), (3, 3, 1, 2, 1), (5, 2, 2, 1, 1), (3, 1, 0, 0, 2), (3, 2, 1, 1, 2),
            (3, 1, 1, 1, 2),  # stride 1: output_padding only has to be below the dilation
            (2, 3, 2, 0, 1),
        ]
        for k, s, p, op, dil in grid:
            kw = {}
            for key, value, default in (("stride", s, 1), ("padding", p, 0),
                                        ("output_padding", op, 0), ("dilation", dil, 1)):
                if value != default:
                    kw[key] = value
            torch_case(layer(k=k, **kw), [1, 2, *sp])
        torch_case(layer(stride=2, padding=1), [2, 2, *sp])

        # groups
        torch_case(layer(cin=4, cout=6, groups=2, stride=2), [1, 4, *sp])
        torch_case(layer(cin=3, cout=3, groups=3, padding=1), [1, 3, *sp])
        torch_case(layer(cin=2, cout=4, k=2, groups=2, stride=2, output_padding=1), [1, 2, *sp])

        # bias=False
        torch_case(layer(stride=2, bias=False), [1, 2, *sp])

        # per-axis tuples
        if d > 1:
            torch_case(layer(k=per_axis(d, 3, 2, 2), stride=per_axis(d, 2, 1, 3),
                             padding=per_axis(d, 1, 0, 0), output_padding=per_axis(d, 1, 0, 2)),
                       [1, 2, *sp])
            torch_case(layer(k=per_axis(d, 2, 3, 1), stride=per_axis(d, 1, 2, 1),
                             dilation=per_axis(d, 2, 1, 1), padding=per_axis(d, 0, 1, 0)),
                       [1, 2, *sp])


def torch_pool_cases() -> None:
    for d in (1, 2, 3):
        sp = spatial(d)
        odd = [n if n % 2 else n + 1 for n in sp]  # odd lengths: ceil_mode adds a window

        mp = f"MaxPool{d}d"
        for kw in [
            {"kernel_size": 2},                                   # stride defaults to kernel_size
            {"kernel_size": 3},                                   # floor drops the tail
            {"kernel_size": 3, "stride": 1},
            {"kernel_size": 3, "stride": 2, "padding": 1},
            {"kernel_size": 2, "stride": 1, "padding": 1},
            {"kernel_size": 2, "stride": 3},                      # stride > kernel skips inputs
            {"kernel_size": 2, "stride": 1, "dilation": 2},
            {"kernel_size": 3, "stride": 2, "dilation": 2, "padding": 1},
            {"kernel_size": 2, "ceil_mode": True},                # ceil adds a partial window
            {"kernel_size": 3, "stride": 2, "ceil_mode": True},
            {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
            {"kernel_size": 3, "stride": 3, "padding": 1, "ceil_mode": True},
        ]:
            torch_case({"type": mp, **kw}, [1, 2, *odd])
        # the last ceil window must start inside the input or the left padding: for L=5, k=2,
        # s=2, p=1, ceil((5+2-2)/2)+1 = 4 windows, but the 4th would start at 6 = L+p: dropped.
        torch_case({"type": mp, "kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
                   [1, 1, *[5] * d], tag="ceil-drops-last")
        torch_case({"type": mp, "kernel_size": 2, "stride": 2, "padding": 1}, [2, 2, *sp])
        if d > 1:
            torch_case({"type": mp, "kernel_size": per_axis(d, 2, 3, 1),
                        "stride": per_axis(d, 2, 1, 2), "padding": per_axis(d, 1, 0, 0)},
                       [1, 2, *sp])
            torch_case({"type": mp, "kernel_size": per_axis(d, 3, 2, 2),
                        "dilation": per_axis(d, 1, 2, 1), "ceil_mode": True}, [1, 2, *odd])

        ap = f"AvgPool{d}d"
        for kw in [
            {"kernel_size": 2},
            {"kernel_size": 3},
            {"kernel_size": 3, "stride": 1},
            {"kernel_size": 3, "stride": 2, "padding": 1},
            {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
            {"kernel_size": 2, "stride": 1, "padding": 1},
            {"kernel_size": 2, "stride": 1, "padding": 1, "count_include_pad": False},
            {"kernel_size": 2, "ceil_mode": True},
            {"kernel_size": 3, "stride": 2, "ceil_mode": True},
            {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
            {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
             "count_include_pad": False},
            {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
            {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True,
             "count_include_pad": False},
        ]:
            torch_case({"type": ap, **kw}, [1, 2, *odd])
        # divisor with ceil_mode: counts padding but not the part past the right padding
        torch_case({"type": ap, "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
                   [1, 1, *[6] * d], tag="ceil-divisor")
        torch_case({"type": ap, "kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True},
                   [1, 1, *[5] * d], tag="ceil-drops-last")
        if d > 1:
            torch_case({"type": ap, "kernel_size": per_axis(d, 2, 3, 1),
                        "stride": per_axis(d, 1, 2, 1), "padding": per_axis(d, 1, 1, 0),
                        "count_include_pad": False}, [1, 2, *sp])


def torch_activation_cases() -> None:
    layers = [
        {"type": "ReLU"}, {"type": "ReLU6"},
        {"type": "LeakyReLU"}, {"type": "LeakyReLU", "negative_slope": 0.2},
        {"type": "ELU"}, {"type": "ELU", "alpha": 0.5},
        {"type": "SELU"}, {"type": "CELU"}, {"type": "CELU", "alpha": 2.0},
        {"type": "GELU"}, {"type": "GELU", "approximate": "none"},
        {"type": "GELU", "approximate": "tanh"},
        {"type": "SiLU"}, {"type": "Mish"}, {"type": "Sigmoid"}, {"type": "Tanh"},
        {"type": "Softplus"}, {"type": "Softplus", "beta": 2.0, "threshold": 5.0},
        {"type": "Softsign"}, {"type": "Hardtanh"},
        {"type": "Hardtanh", "min_val": -0.5, "max_val": 1.5},
        {"type": "Hardsigmoid"}, {"type": "Hardswish"}, {"type": "Identity"},
    ]
    for layer in layers:
        add("torch", layer, None, x=activation_input([2, 4, 5]))


# --------------------------------------------------------------------------- Keras cases


def keras_conv_cases() -> None:
    for d in (1, 2, 3):
        conv = f"Conv{d}D"
        sp = spatial(d)

        def layer(f=3, k=3, conv=conv, **kw):
            return {"type": conv, "filters": f, "kernel_size": k, **kw}

        # kernel / strides / valid and same (odd and even kernels, stride > 1 with same)
        for k, s, pad in [(1, 1, None), (3, 1, None), (3, 2, "valid"), (2, 2, "valid"),
                          (3, 1, "same"), (2, 1, "same"), (4, 1, "same"), (3, 2, "same"),
                          (4, 2, "same"), (5, 3, "same"), (2, 3, "same")]:
            kw = {}
            if s != 1:
                kw["strides"] = s
            if pad:
                kw["padding"] = pad
            keras_case(layer(k=k, **kw), [1, *sp, 2])
        keras_case(layer(k=3, strides=2, padding="same"), [2, *sp, 2])

        # dilation (strides must stay 1 in Keras Conv)
        keras_case(layer(k=3, dilation_rate=2), [1, *sp, 2])
        keras_case(layer(k=2, dilation_rate=2, padding="same"), [1, *sp, 2])
        keras_case(layer(k=3, dilation_rate=per_axis(d, 2, 1, 2), padding="same"), [1, *sp, 2])

        # groups
        keras_case(layer(f=6, groups=2), [1, *sp, 4])
        keras_case(layer(f=3, groups=3, padding="same"), [1, *sp, 3])
        keras_case(layer(f=4, k=2, groups=2, strides=2), [1, *sp, 2])

        # use_bias=False, channels_first
        keras_case(layer(use_bias=False), [1, *sp, 2])
        keras_case(layer(data_format="channels_first"), [1, 2, *sp])
        keras_case(layer(k=4, strides=2, padding="same", data_format="channels_first"),
                   [1, 2, *sp])

        # per-axis tuples and non-square kernels
        if d > 1:
            keras_case(layer(k=per_axis(d, 3, 2, 1), strides=per_axis(d, 2, 1, 2)), [1, *sp, 2])
            keras_case(layer(k=per_axis(d, 2, 3, 4), strides=per_axis(d, 1, 2, 1),
                             padding="same"), [1, *sp, 2])

    # causal padding (Conv1D only): left pad dilation*(k-1)
    for k, s, dil in [(2, 1, 1), (3, 1, 1), (3, 1, 2), (4, 2, 1), (2, 1, 4), (5, 3, 1)]:
        kw = {"padding": "causal"}
        if s != 1:
            kw["strides"] = s
        if dil != 1:
            kw["dilation_rate"] = dil
        keras_case({"type": "Conv1D", "filters": 2, "kernel_size": k, **kw}, [1, 10, 2])
    keras_case({"type": "Conv1D", "filters": 4, "kernel_size": 3, "padding": "causal",
                "groups": 2, "data_format": "channels_first"}, [1, 2, 10])

    # activations fused into the conv
    for act in ["relu", "sigmoid", "tanh", "gelu", "elu", "selu", "softplus", "softsign",
                "swish", "silu", "linear", "leaky_relu", "relu6", "hard_sigmoid", "hard_silu",
                "hard_swish", "exponential", "mish", "celu", "hard_tanh", "log_sigmoid"]:
        keras_case({"type": "Conv1D", "filters": 3, "kernel_size": 3, "activation": act},
                   [1, 8, 2])
    keras_case({"type": "Conv2D", "filters": 4, "kernel_size": [3, 2], "strides": 2,
                "padding": "same", "activation": "relu"}, [1, 7, 6, 3])


def keras_conv_transpose_cases() -> None:
    for d in (1, 2, 3):
        conv = f"Conv{d}DTranspose"
        sp = [n - 1 for n in spatial(d)]

        def layer(f=3, k=3, conv=conv, **kw):
            return {"type": conv, "filters": f, "kernel_size": k, **kw}

        grid = [  # (kernel, strides, padding, output_padding, dilation); None: keyword left out
            (3, 1, None, None, 1), (3, 2, "valid", None, 1), (2, 2, None, None, 1),
            (2, 3, "valid", None, 1), (1, 2, "valid", None, 1), (3, 2, "same", None, 1),
            (4, 2, "same", None, 1), (3, 1, "same", None, 1), (4, 1, "same", None, 1),
            (3, 2, "valid", 1, 1), (3, 2, "same", 1, 1), (3, 2, "same", 0, 1),
            (3, 3, "same", 2, 1), (4, 3, "same", 0, 1), (3, 1, "valid", None, 2),
            (3, 1, "same", None, 2), (5, 2, "same", 1, 1), (2, 3, "same", None, 1),
        ]
        if d == 3:
            grid = grid[::2]
        for k, s, pad, op, dil in grid:
            kw = {}
            if s != 1:
                kw["strides"] = s
            if pad:
                kw["padding"] = pad
            if op is not None:
                kw["output_padding"] = op
            if dil != 1:
                kw["dilation_rate"] = dil
            keras_case(layer(k=k, **kw), [1, *sp, 2])
        keras_case(layer(strides=2, use_bias=False), [2, *sp, 2])
        keras_case(layer(strides=2, padding="same", data_format="channels_first"), [1, 2, *sp])
        if d > 1:
            keras_case(layer(k=per_axis(d, 3, 2, 2), strides=per_axis(d, 2, 1, 3),
                             output_padding=per_axis(d, 1, 0, 2)), [1, *sp, 2])
            keras_case(layer(k=per_axis(d, 3, 2, 2), strides=per_axis(d, 2, 1, 3),
                             padding="same"), [1, *sp, 2])


def keras_depthwise_separable_cases() -> None:
    for d in (1, 2):
        sp = spatial(d)
        dw, sep = f"DepthwiseConv{d}D", f"SeparableConv{d}D"
        # (kernel, depth_multiplier, strides, padding, dilation)
        # No strides > 1 together with dilation_rate > 1: Keras documents it as refused for these
        # layers too, the TensorFlow backend raises, but 3.15 on torch computes it anyway.
        grid = [(3, 1, 1, None, 1), (3, 2, 1, "valid", 1), (3, 1, 2, "same", 1),
                (2, 1, 1, "same", 1), (4, 2, 2, "same", 1), (3, 1, 1, "same", 2),
                (3, 3, 1, "valid", 2), (2, 1, 2, "valid", 1)]
        for k, dm, s, pad, dil in grid:
            kw = {}
            if dm != 1:
                kw["depth_multiplier"] = dm
            if s != 1:
                kw["strides"] = s
            if pad:
                kw["padding"] = pad
            if dil != 1:
                kw["dilation_rate"] = dil
            keras_case({"type": dw, "kernel_size": k, **kw}, [1, *sp, 3])
            keras_case({"type": sep, "filters": 4, "kernel_size": k, **kw}, [1, *sp, 3])
        keras_case({"type": dw, "kernel_size": 3, "use_bias": False}, [2, *sp, 2])
        keras_case({"type": sep, "filters": 2, "kernel_size": 3, "use_bias": False}, [2, *sp, 2])
        keras_case({"type": dw, "kernel_size": 3, "depth_multiplier": 2,
                    "data_format": "channels_first"}, [1, 2, *sp])
        keras_case({"type": sep, "filters": 3, "kernel_size": 3, "depth_multiplier": 2,
                    "padding": "same", "data_format": "channels_first"}, [1, 2, *sp])
        keras_case({"type": sep, "filters": 3, "kernel_size": 3, "activation": "relu"},
                   [1, *sp, 2])
        if d == 2:
            keras_case({"type": dw, "kernel_size": [3, 2], "strides": [2, 1],
                        "padding": "same"}, [1, *sp, 2])
            keras_case({"type": sep, "filters": 3, "kernel_size": [2, 3],
                        "dilation_rate": [1, 2]}, [1, *sp, 2])


def keras_same_pads(n: int, k: int, s: int) -> tuple[int, int]:
    """Keras "same" padding of one axis (before, after): the extra one goes after."""
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


SKIPPED: list[str] = []


def keras_pool_cases() -> None:
    for d in (1, 2, 3):
        sp = spatial(d)
        # (pool_size, strides, padding); None: keyword left out
        grid = [(2, None, None), (3, None, "valid"), (3, 1, None), (2, 1, "valid"),
                (3, 2, "valid"), (2, 3, "valid"), (2, None, "same"), (3, None, "same"),
                (3, 1, "same"), (3, 2, "same"), (2, 1, "same"), (4, 1, "same"), (5, 1, "same")]
        for kind in ("MaxPooling", "AveragePooling"):
            name = f"{kind}{d}D"
            for pool, s, pad in grid:
                kw = {"pool_size": pool}
                if s is not None:
                    kw["strides"] = s
                if pad:
                    kw["padding"] = pad
                shapes = [sp, [7] * d] if pad == "same" else [sp]
                for shape in shapes:
                    pads = [keras_same_pads(n, pool, s or pool) for n in shape]
                    layer = {"type": name, **kw}
                    if kind == "AveragePooling" and pad == "same" and any(a != b for a, b in pads):
                        SKIPPED.append(case_id("keras", layer, [1, *shape, 2]))
                        continue
                    keras_case(layer, [1, *shape, 2])
            keras_case({"type": name, "pool_size": 2, "data_format": "channels_first"},
                       [1, 2, *sp])
            keras_case({"type": name, "pool_size": 3, "strides": 1, "padding": "same",
                        "data_format": "channels_first"}, [2, 2, *[7] * d])
            if d > 1:
                keras_case({"type": name, "pool_size": per_axis(d, 2, 3, 1),
                            "strides": per_axis(d, 1, 2, 2)}, [1, *sp, 2])
                keras_case({"type": name, "pool_size": per_axis(d, 3, 1, 3),
                            "strides": per_axis(d, 2, 1, 2), "padding": "same"},
                           [1, *[7] * d, 2])
        keras_case({"type": f"MaxPooling{d}D"}, [1, *sp, 2])  # pool_size defaults to 2


def keras_activation_cases() -> None:
    layers = [
        {"type": "ReLU"}, {"type": "ReLU", "max_value": 6.0},
        {"type": "ReLU", "max_value": 1.0}, {"type": "ReLU", "negative_slope": 0.1},
        {"type": "ReLU", "threshold": 0.5},
        {"type": "ReLU", "max_value": 1.5, "negative_slope": 0.25, "threshold": 0.5},
        {"type": "LeakyReLU"}, {"type": "LeakyReLU", "negative_slope": 0.2},
        {"type": "ELU"}, {"type": "ELU", "alpha": 0.5},
    ] + [{"type": "Activation", "activation": a}
         for a in ["relu", "sigmoid", "tanh", "gelu", "elu", "selu", "softplus", "softsign",
                   "swish", "silu", "linear", "leaky_relu", "relu6", "hard_sigmoid",
                   "hard_silu", "exponential", "mish"]]
    for layer in layers:
        add("keras", layer, None, x=activation_input([2, 5, 4]))


# --------------------------------------------------------------------------- the questions

# The questions' own inputs (a 10x32x64x64 batch, a 300x100 kernel on 50 words, ...) are too big
# for a data file; these rows run the same layer spec on a smaller input of the same rank. The
# question's full input is still run (not recorded) to check its output shape.
QUESTION_INPUTS = {  # index in questions.json "layers" -> (type, input shape recorded)
    2: ("Conv1d", [1, 16, 100]),
    3: ("MaxPool1d", [1, 32, 48]),
    4: ("MaxPool1d", [1, 32, 49]),
    5: ("Conv2d", [1, 32, 8, 8]),
    6: ("Conv2d", [1, 32, 8, 8]),
    7: ("Conv2d", [1, 32, 8, 8]),
    8: ("SeparableConv2D", [1, 8, 8, 32]),
    9: ("Conv2D", [1, 10, 9, 5]),
    10: ("Conv2d", [1, 5, 10, 9]),
    11: ("Conv3D", [1, 8, 7, 7, 1]),
    12: ("Conv1D", [1, 50, 300]),
}


def question_cases() -> None:
    questions = json.loads(QUESTIONS.read_text())
    for i, q in enumerate(questions["layers"]):
        fw, layer = q["framework"], q["layer"]
        # the question's own shapes, params and weight shapes, checked against the framework
        full = np.zeros(q["input_shape"], np.float32)
        weights, y = RUNNERS[fw](layer, full)
        assert list(y.shape) == q["output_shape"], (i, y.shape)
        assert [list(w.shape) for w in weights] == q["weight_shapes"], i
        assert sum(w.size for w in weights) == q["params"], i
        shape = q["input_shape"]
        if i in QUESTION_INPUTS:
            kind, shape = QUESTION_INPUTS[i]
            assert kind == layer["type"], (i, kind)
        add(fw, layer, shape, tag=q["question"])

    k1 = questions["kernel_of_ones"]
    case = add(k1["framework"], k1["layer"], None, tag=f"{k1['question']}-kernel-of-ones",
               x=k1["input"], weights=k1["weights"])
    assert case["output"] == k1["output"], "kernel-of-ones output differs from questions.json"


# --------------------------------------------------------------------------- refusals

REFUSALS: list[dict] = []


def refuse(framework: str, layer: dict, input_shape, keyword: str) -> None:
    """Record a refusal if the framework really raises (construction, build or call)."""
    x = np.zeros(input_shape, np.float32)
    try:
        RUNNERS[framework](layer, x)
    except Exception as exc:  # noqa: BLE001 - any refusal is what we record
        REFUSALS.append({
            "id": case_id(framework, layer, input_shape),
            "framework": framework,
            "layer": layer,
            "input_shape": list(input_shape),
            "keyword": keyword,
            "framework_message": clean_message(exc)[:300],
        })
        return
    print(f"  not refused, dropped: {framework} {layer} {input_shape}", file=sys.stderr)


def torch_refusals() -> None:
    c2 = {"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3}
    x2 = [1, 3, 8, 8]
    refuse("torch", c2 | {"stride": 2, "padding": "same"}, x2, "padding")
    refuse("torch", {"type": "Conv1d", "in_channels": 3, "out_channels": 4, "kernel_size": 3,
                     "stride": [2], "padding": "same"}, [1, 3, 9], "padding")
    refuse("torch", c2 | {"padding": "full"}, x2, "padding")
    refuse("torch", c2 | {"padding": -1}, x2, "padding")
    refuse("torch", c2 | {"padding": [1, 1, 1]}, x2, "padding")
    refuse("torch", c2 | {"groups": 2}, x2, "groups")
    refuse("torch", c2 | {"in_channels": 4, "out_channels": 3, "groups": 2}, [1, 4, 8, 8],
           "groups")
    refuse("torch", c2 | {"groups": 0}, x2, "groups")
    refuse("torch", c2 | {"kernel_size": 5}, [1, 3, 3, 3], "kernel_size")
    refuse("torch", c2 | {"kernel_size": 7, "padding": 1}, [1, 3, 4, 4], "kernel_size")
    refuse("torch", {"type": "Conv1d", "in_channels": 1, "out_channels": 1, "kernel_size": 3,
                     "dilation": 3}, [1, 1, 6], "dilation")
    refuse("torch", c2 | {"kernel_size": 0}, x2, "kernel_size")
    refuse("torch", c2 | {"kernel_size": [3, 3, 3]}, x2, "kernel_size")
    refuse("torch", c2 | {"stride": 0}, x2, "stride")
    refuse("torch", c2 | {"dilation": 0}, x2, "dilation")
    refuse("torch", c2 | {"out_channels": 0}, x2, "out_channels")
    refuse("torch", c2, [1, 5, 8, 8], "in_channels")
    refuse("torch", c2 | {"padding": 1, "padding_mode": "symmetric"}, x2, "padding_mode")
    refuse("torch", c2 | {"padding": 4, "padding_mode": "reflect"}, [1, 3, 4, 4], "padding")
    refuse("torch", c2 | {"padding": 5, "padding_mode": "circular"}, [1, 3, 4, 4], "padding")

    t2 = {"type": "ConvTranspose2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3}
    refuse("torch", t2 | {"padding_mode": "reflect"}, x2, "padding_mode")
    refuse("torch", t2 | {"stride": 2, "output_padding": 2}, x2, "output_padding")
    refuse("torch", {"type": "ConvTranspose1d", "in_channels": 3, "out_channels": 4,
                     "kernel_size": 3, "output_padding": 1}, [1, 3, 8], "output_padding")
    refuse("torch", t2 | {"padding": "same"}, x2, "padding")
    refuse("torch", t2 | {"padding": 5}, [1, 3, 2, 2], "padding")
    refuse("torch", t2 | {"groups": 2}, x2, "groups")

    refuse("torch", {"type": "MaxPool2d", "kernel_size": 3, "padding": 2}, x2, "padding")
    refuse("torch", {"type": "MaxPool1d", "kernel_size": 2, "padding": 2}, [1, 3, 8], "padding")
    refuse("torch", {"type": "MaxPool2d", "kernel_size": 3, "dilation": 2, "padding": 2}, x2,
           "padding")  # the limit is half the kernel_size, not of the dilated window
    refuse("torch", {"type": "MaxPool3d", "kernel_size": 3, "padding": 2}, [1, 1, 6, 6, 6],
           "padding")
    refuse("torch", {"type": "AvgPool2d", "kernel_size": 3, "padding": 2}, x2, "padding")
    refuse("torch", {"type": "MaxPool2d", "kernel_size": 3, "stride": 0}, x2, "stride")
    refuse("torch", {"type": "AvgPool1d", "kernel_size": 3, "stride": 0}, [1, 3, 8], "stride")
    refuse("torch", {"type": "MaxPool2d", "kernel_size": 3, "dilation": 0}, x2, "dilation")
    refuse("torch", {"type": "MaxPool2d", "kernel_size": 5}, [1, 3, 3, 3], "kernel_size")
    refuse("torch", {"type": "AvgPool3d", "kernel_size": [2, 5, 2]}, [1, 1, 4, 4, 4],
           "kernel_size")

    refuse("torch", {"type": "GELU", "approximate": "fast"}, [1, 4], "approximate")
    refuse("torch", {"type": "CELU", "alpha": 0.0}, [1, 4], "alpha")
    refuse("torch", {"type": "Hardtanh", "min_val": 1.0, "max_val": -1.0}, [1, 4], "max_val")


def keras_refusals() -> None:
    c2 = {"type": "Conv2D", "filters": 4, "kernel_size": 3}
    x2 = [1, 8, 8, 3]
    x1 = [1, 9, 3]
    refuse("keras", c2 | {"padding": "causal"}, x2, "padding")
    refuse("keras", {"type": "Conv3D", "filters": 2, "kernel_size": 3, "padding": "causal"},
           [1, 5, 5, 5, 1], "padding")
    refuse("keras", {"type": "Conv1DTranspose", "filters": 2, "kernel_size": 3,
                     "padding": "causal"}, x1, "padding")
    refuse("keras", {"type": "DepthwiseConv1D", "kernel_size": 3, "padding": "causal"}, x1,
           "padding")
    refuse("keras", {"type": "SeparableConv1D", "filters": 2, "kernel_size": 3,
                     "padding": "causal"}, x1, "padding")
    refuse("keras", c2 | {"padding": "full"}, x2, "padding")
    refuse("keras", c2 | {"padding": [1, 1]}, x2, "padding")
    refuse("keras", c2 | {"groups": 2}, x2, "groups")
    refuse("keras", c2 | {"filters": 5, "groups": 3}, x2, "groups")
    refuse("keras", {"type": "DepthwiseConv2D", "kernel_size": 3, "groups": 3}, x2, "groups")
    refuse("keras", {"type": "Conv2DTranspose", "filters": 4, "kernel_size": 3, "groups": 2},
           [1, 8, 8, 4], "groups")
    refuse("keras", c2 | {"strides": 2, "dilation_rate": 2}, x2, "dilation_rate")
    refuse("keras", {"type": "Conv1D", "filters": 2, "kernel_size": 3, "strides": 2,
                     "dilation_rate": 2}, x1, "dilation_rate")
    refuse("keras", {"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2,
                     "dilation_rate": 2}, x2, "dilation_rate")
    refuse("keras", {"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2,
                     "output_padding": 2}, x2, "output_padding")
    refuse("keras", {"type": "Conv1DTranspose", "filters": 2, "kernel_size": 3,
                     "output_padding": 1}, x1, "output_padding")
    refuse("keras", c2 | {"output_padding": 1}, x2, "output_padding")
    refuse("keras", {"type": "AveragePooling2D"}, x2, "pool_size")
    refuse("keras", {"type": "AveragePooling1D"}, x1, "pool_size")
    refuse("keras", c2 | {"kernel_size": 9}, x2, "kernel_size")
    refuse("keras", {"type": "Conv1D", "filters": 2, "kernel_size": 3, "dilation_rate": 5}, x1,
           "dilation_rate")
    refuse("keras", {"type": "DepthwiseConv2D", "kernel_size": 9}, x2, "kernel_size")
    refuse("keras", {"type": "SeparableConv2D", "filters": 2, "kernel_size": [3, 9]}, x2,
           "kernel_size")
    refuse("keras", {"type": "MaxPooling2D", "pool_size": 9}, x2, "pool_size")
    refuse("keras", {"type": "AveragePooling1D", "pool_size": 10}, x1, "pool_size")
    refuse("keras", c2 | {"kernel_size": 0}, x2, "kernel_size")
    refuse("keras", c2 | {"kernel_size": [3, 3, 3]}, x2, "kernel_size")
    refuse("keras", c2 | {"strides": 0}, x2, "strides")
    refuse("keras", c2 | {"dilation_rate": 0}, x2, "dilation_rate")
    refuse("keras", c2 | {"filters": 0}, x2, "filters")
    refuse("keras", {"type": "MaxPooling2D", "pool_size": 2, "strides": 0}, x2, "strides")
    refuse("keras", {"type": "MaxPooling2D", "pool_size": 0}, x2, "pool_size")
    refuse("keras", {"type": "SeparableConv2D", "filters": 2, "kernel_size": 3,
                     "depth_multiplier": 0}, x2, "depth_multiplier")
    refuse("keras", c2 | {"activation": "swishy"}, x2, "activation")
    refuse("keras", {"type": "Activation", "activation": "swishy"}, x2, "activation")
    refuse("keras", c2 | {"data_format": "NHWC"}, x2, "data_format")
    refuse("keras", {"type": "ReLU", "max_value": -1.0}, x2, "max_value")
    refuse("keras", {"type": "ReLU", "negative_slope": -0.1}, x2, "negative_slope")
    refuse("keras", {"type": "ReLU", "threshold": -1.0}, x2, "threshold")
    refuse("keras", {"type": "LeakyReLU", "negative_slope": -0.1}, x2, "negative_slope")


# --------------------------------------------------------------------------- main


def write_json_gz(path: Path, payload: dict) -> None:
    data = json.dumps(payload, separators=(",", ":")).encode()
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                mtime=0, compresslevel=9) as gz:
        gz.write(data)


def main() -> None:
    warnings.filterwarnings("ignore")
    torch.manual_seed(SEED)
    keras.utils.set_random_seed(SEED)
    if keras.backend.backend() != "torch":
        sys.exit("run with KERAS_BACKEND=torch")

    torch_conv_cases()
    torch_conv_transpose_cases()
    torch_pool_cases()
    torch_activation_cases()
    keras_conv_cases()
    keras_conv_transpose_cases()
    keras_depthwise_separable_cases()
    keras_pool_cases()
    keras_activation_cases()
    question_cases()
    torch_refusals()
    keras_refusals()

    ids = [c["id"] for c in CASES] + [r["id"] for r in REFUSALS]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, duplicates

    meta = {"torch": torch.__version__, "keras": keras.__version__, "backend": "torch",
            "generated_by": "tests/golden/record.py"}
    write_json_gz(FORWARD_OUT, {"meta": meta, "cases": CASES})
    REFUSALS_OUT.write_text(json.dumps({"meta": meta, "cases": REFUSALS}, indent=1) + "\n")

    print(f"{len(CASES)} forward cases -> {FORWARD_OUT.relative_to(ROOT)} "
          f"({FORWARD_OUT.stat().st_size / 1e6:.2f} MB)")
    counts = Counter((c["framework"], c["layer"]["type"]) for c in CASES)
    for (fw, kind), n in sorted(counts.items()):
        print(f"  {fw:6} {kind:18} {n}")
    print(f"{len(REFUSALS)} refusals -> {REFUSALS_OUT.relative_to(ROOT)}")
    for fw, n in sorted(Counter(r["framework"] for r in REFUSALS).items()):
        print(f"  {fw:6} {n}")
    print(f"{len(SKIPPED)} Keras same-padding AveragePooling cases skipped (unequal padding)")


if __name__ == "__main__":
    main()
