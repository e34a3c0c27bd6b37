"""Record golden gradients from PyTorch autograd and Keras on its torch backend, on generated layers.

Run from the repository root, in an environment that has the frameworks:

    pip install torch==2.13.0 keras
    KERAS_BACKEND=torch python tests/golden/record_backward.py

It writes ``backward.json.gz`` next to this file: ``{"meta": {...}, "cases": [...]}``. Each case is
a request body of ``POST /api/backward`` (``framework``, ``layer``, ``input``, ``weights``,
``grad_output``) plus autograd's answer (``output``, ``output_shape``, ``grad_input``,
``grad_weights``) and an ``id``. ``grad_weights`` is PyTorch's ``[weight.grad, bias.grad]`` or, for
Keras, the gradient of each of ``layer.weights`` (``get_weights()`` order).

Layers are drawn by a seeded generator over every layer type and its options (stride, padding and
its modes, dilation, groups, bias, output_padding, ceil_mode, count_include_pad, divisor_override,
depth_multiplier, data_format, activation); a drawn layer the framework refuses is drawn again. Inputs,
weights and upstream gradients are multiples of 1/16 in [-2, 2], exact in float32; max pooling's
inputs come from a few values only, so that windows hold ties. Deterministic: two runs write
byte-identical files. CI reads the file only; it never needs torch or keras.

A few Keras convolutions cannot be recorded: torch 2.13's CPU backward refuses them ("slow_conv2d:
grad_weight must be contiguous": Keras hands torch a permuted, non-contiguous kernel, and some
shapes, e.g. Conv2D with filters=1, take that path); the script prints each one it leaves out.

Not recorded, on purpose (as in record.py): Keras ``AveragePooling*D(padding="same")`` where "same"
pads unequally on some axis (the torch backend counts replicated edge values in the mean, TensorFlow
does not; tests/core/test_backward.py checks that case against a reference loop instead), and
Keras ``DepthwiseConv*D``/``SeparableConv*D`` with strides > 1 and dilation_rate > 1 (TensorFlow
refuses them).
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from record import activation_input, as_list, case_id, kwargs_of  # noqa: E402

OUT = HERE / "backward.json.gz"
SEED = 20261207
RNG = np.random.default_rng(SEED)
PER_TYPE = {"torch": 18, "keras": 14}  # generated cases per layer type (activation layers: fewer)
SIZES = {1: (4, 9), 2: (3, 7), 3: (2, 5)}  # spatial size range per axis, by number of spatial dims

TORCH_ACTIVATIONS = {
    "ReLU": {}, "ReLU6": {}, "LeakyReLU": {"negative_slope": 0.125}, "ELU": {"alpha": 0.5},
    "CELU": {"alpha": 1.5}, "SELU": {}, "GELU": {"approximate": "tanh"}, "SiLU": {}, "Mish": {},
    "Sigmoid": {}, "Tanh": {}, "Softplus": {"beta": 2.0, "threshold": 5.0}, "Softsign": {},
    "Hardtanh": {"min_val": -0.5, "max_val": 1.0}, "Hardsigmoid": {}, "Hardswish": {}, "Tanhshrink": {},
    "Softshrink": {"lambd": 1.0}, "Hardshrink": {"lambd": 1.0}, "LogSigmoid": {}, "Identity": {},
}
KERAS_ACTIVATIONS = ("relu", "relu6", "elu", "celu", "selu", "gelu", "silu", "mish", "sigmoid", "tanh",
                     "softplus", "softsign", "hard_sigmoid", "hard_silu", "exponential", "log_sigmoid",
                     "tanh_shrink", "soft_shrink", "hard_shrink", "squareplus", "sparse_plus", "swish",
                     "hard_swish", "hard_tanh", "leaky_relu", "linear")


def draw(shape, values=None) -> np.ndarray:
    """Seeded float32 multiples of 1/16 in [-2, 2]; or drawn from ``values`` (for ties)."""
    if values is not None:
        return np.asarray(RNG.choice(values, size=tuple(shape)), dtype=np.float32)
    return (RNG.integers(-32, 33, size=tuple(shape)) / 16).astype(np.float32)


def pick(*options):
    return options[int(RNG.integers(len(options)))]


def ints(d: int, lo: int, hi: int):
    """An int, or (sometimes) a list of d ints: the frameworks' two spellings of a per-axis value."""
    if d > 1 and RNG.random() < 0.4:
        return [int(v) for v in RNG.integers(lo, hi + 1, size=d)]
    return int(RNG.integers(lo, hi + 1))


def spatial(d: int) -> list[int]:
    lo, hi = SIZES[d]
    return [int(v) for v in RNG.integers(lo, hi + 1, size=d)]


def per_axis(v, d: int) -> list[int]:
    return list(v) if isinstance(v, list) else [v] * d


# --------------------------------------------------------------------------- generators: (layer, input shape)


def torch_conv(d: int):
    groups = pick(1, 1, 2, 3)
    cin, cout = groups * pick(1, 2), groups * pick(1, 2)
    layer = {"type": f"Conv{d}d", "in_channels": cin, "out_channels": cout, "kernel_size": ints(d, 1, 3)}
    if RNG.random() < 0.5:
        layer["stride"] = ints(d, 1, 3)
    if RNG.random() < 0.4:
        layer["dilation"] = ints(d, 1, 2)
    if RNG.random() < 0.5:  # a padding mode other than zeros, with padding for it to copy
        layer["padding_mode"] = pick("zeros", "reflect", "replicate", "circular")
        layer["padding"] = pick(1, 2, "same", ints(d, 1, 2), ints(d, 0, 2))
    else:
        layer["padding"] = pick(0, 1, 2, "same", "valid", ints(d, 0, 2))
    if groups > 1:
        layer["groups"] = groups
    if RNG.random() < 0.3:
        layer["bias"] = False
    return layer, [pick(1, 2), cin, *spatial(d)]


def torch_transposed(d: int):
    groups = pick(1, 1, 2)
    cin, cout = groups * pick(1, 2), groups * pick(1, 2)
    stride, dilation = ints(d, 1, 3), ints(d, 1, 2)
    layer = {"type": f"ConvTranspose{d}d", "in_channels": cin, "out_channels": cout, "kernel_size": ints(d, 1, 3),
             "stride": stride, "padding": ints(d, 0, 2)}
    if RNG.random() < 0.5:
        layer["dilation"] = dilation
    else:
        dilation = 1
    if RNG.random() < 0.5:
        room = [max(s, t) - 1 for s, t in zip(per_axis(stride, d), per_axis(dilation, d))]
        layer["output_padding"] = [int(RNG.integers(0, r + 1)) for r in room]
    if groups > 1:
        layer["groups"] = groups
    if RNG.random() < 0.3:
        layer["bias"] = False
    return layer, [pick(1, 2), cin, *[max(2, n - 2) for n in spatial(d)]]


def torch_pool(d: int, kind: str):
    k = ints(d, 1, 3)
    layer = {"type": f"{kind}Pool{d}d", "kernel_size": k}
    if RNG.random() < 0.6:
        layer["stride"] = ints(d, 1, 3)
    if RNG.random() < 0.5:
        layer["padding"] = [int(RNG.integers(0, kk // 2 + 1)) for kk in per_axis(k, d)]
    if RNG.random() < 0.4:
        layer["ceil_mode"] = True
    if kind == "Max" and RNG.random() < 0.3:
        layer["dilation"] = ints(d, 1, 2)
    if kind == "Avg" and RNG.random() < 0.4:
        layer["count_include_pad"] = False
    if kind == "Avg" and d > 1 and RNG.random() < 0.25:
        layer["divisor_override"] = pick(1, 3, 5)
    return layer, [pick(1, 2), pick(1, 2), *spatial(d)]


def keras_conv(d: int):
    cin = pick(1, 2, 3, 4)
    groups = pick(*[g for g in (1, 1, 2, 3) if cin % g == 0])
    layer = {"type": f"Conv{d}D", "filters": groups * pick(1, 2), "kernel_size": ints(d, 1, 3)}
    if RNG.random() < 0.5:
        layer["strides"] = ints(d, 1, 3)
    elif RNG.random() < 0.5:
        layer["dilation_rate"] = ints(d, 1, 2)
    layer["padding"] = pick("valid", "same", "causal") if d == 1 else pick("valid", "same")
    if groups > 1:
        layer["groups"] = groups
    return _keras_common(layer, d, cin, activation=True)


def keras_transposed(d: int):
    cin = pick(1, 2, 3)
    strides = ints(d, 1, 3)
    layer = {"type": f"Conv{d}DTranspose", "filters": pick(1, 2, 3), "kernel_size": ints(d, 1, 3),
             "strides": strides, "padding": pick("valid", "same")}
    if RNG.random() < 0.4:
        layer["output_padding"] = [int(RNG.integers(0, s)) for s in per_axis(strides, d)]
    if all(s == 1 for s in per_axis(strides, d)) and RNG.random() < 0.4:
        layer["dilation_rate"] = ints(d, 1, 2)
    return _keras_common(layer, d, cin, activation=True)


def keras_depthwise(d: int, separable: bool):
    cin = pick(1, 2, 3)
    layer = {"type": f"{'Separable' if separable else 'Depthwise'}Conv{d}D", "kernel_size": ints(d, 1, 3)}
    if separable:
        layer["filters"] = pick(1, 2, 3)
    if RNG.random() < 0.5:
        layer["strides"] = ints(d, 1, 3)
    elif RNG.random() < 0.5:
        layer["dilation_rate"] = ints(d, 1, 2)
    layer["padding"] = pick("valid", "same")
    if RNG.random() < 0.5:
        layer["depth_multiplier"] = pick(1, 2, 3)
    return _keras_common(layer, d, cin, activation=True)


def keras_pool(d: int, kind: str):
    layer = {"type": f"{kind}Pooling{d}D", "pool_size": ints(d, 1, 3)}
    if RNG.random() < 0.6:
        layer["strides"] = ints(d, 1, 3)
    layer["padding"] = pick("valid", "same")
    return _keras_common(layer, d, pick(1, 2), activation=False)


def _keras_common(layer: dict, d: int, cin: int, activation: bool):
    if activation and RNG.random() < 0.5:
        layer["activation"] = pick(*KERAS_ACTIVATIONS)
    if "filters" in layer or "depth_multiplier" in layer or layer["type"].startswith("Depthwise"):
        if RNG.random() < 0.25:
            layer["use_bias"] = False
    sp = spatial(d)
    if RNG.random() < 0.3:
        layer["data_format"] = "channels_first"
        return layer, [pick(1, 2), cin, *sp]
    return layer, [pick(1, 2), *sp, cin]


def generated() -> list[tuple[str, dict, list[int]]]:
    makers = []
    for d in (1, 2, 3):
        makers += [("torch", lambda d=d: torch_conv(d)), ("torch", lambda d=d: torch_conv(d)), ("torch", lambda d=d: torch_transposed(d)),
                   ("torch", lambda d=d: torch_pool(d, "Max")), ("torch", lambda d=d: torch_pool(d, "Avg")),
                   ("keras", lambda d=d: keras_conv(d)), ("keras", lambda d=d: keras_transposed(d)),
                   ("keras", lambda d=d: keras_pool(d, "Max")), ("keras", lambda d=d: keras_pool(d, "Average"))]
    for d in (1, 2):
        makers += [("keras", lambda d=d: keras_depthwise(d, False)), ("keras", lambda d=d: keras_depthwise(d, True))]
    out = []
    for framework, make in makers:
        for _ in range(PER_TYPE[framework]):
            layer, shape = make()
            out.append((framework, layer, shape))
    return out


def activation_layers() -> list[tuple[str, dict, list[int]]]:
    out = [("torch", {"type": name, **kw}, [2, 3, 5]) for name, kw in TORCH_ACTIVATIONS.items()]
    out += [("torch", {"type": "GELU"}, [2, 3, 5]), ("torch", {"type": "Softplus"}, [2, 3, 5])]
    out += [("keras", {"type": "Activation", "activation": a}, [2, 5, 3]) for a in KERAS_ACTIVATIONS]
    out += [("keras", {"type": "ReLU", **kw}, [2, 5, 3]) for kw in (
        {}, {"max_value": 6.0}, {"max_value": 1.0}, {"negative_slope": 0.25}, {"threshold": 0.5},
        {"negative_slope": 0.25, "threshold": 0.5}, {"negative_slope": 0.25, "max_value": 1.0},
        {"negative_slope": 0.25, "max_value": 6.0}, {"threshold": 0.5, "max_value": 6.0})]
    out += [("keras", {"type": "LeakyReLU", "negative_slope": 0.125}, [2, 5, 3]),
            ("keras", {"type": "ELU", "alpha": 0.5}, [2, 5, 3])]
    return out


# --------------------------------------------------------------------------- running with autograd


def unequal_same_avg(layer: dict, shape: list[int]) -> bool:
    """Keras AveragePooling 'same' that pads more on one side of some axis (not recorded)."""
    if not layer["type"].startswith("AveragePooling") or layer.get("padding") != "same":
        return False
    d = len(shape) - 2
    sp = shape[2:] if layer.get("data_format") == "channels_first" else shape[1:-1]
    k = per_axis(layer["pool_size"], d)
    s = per_axis(layer.get("strides") or layer["pool_size"], d)
    totals = [max((-(-n // st) - 1) * st + kk - n, 0) for n, kk, st in zip(sp, k, s)]
    return any(t % 2 for t in totals)


def strided_dilated_depthwise(layer: dict, d: int) -> bool:
    return (layer["type"].startswith(("Depthwise", "Separable"))
            and any(v > 1 for v in per_axis(layer.get("strides", 1), d))
            and any(v > 1 for v in per_axis(layer.get("dilation_rate", 1), d)))


def run_torch(layer: dict, x: np.ndarray):
    module = getattr(torch.nn, layer["type"])(**kwargs_of(layer))
    params = list(module.parameters())
    weights = [draw(p.shape) for p in params]
    with torch.no_grad():
        for p, w in zip(params, weights):
            p.copy_(torch.from_numpy(w))
    xt = torch.from_numpy(x).requires_grad_(True)
    y = module(xt)
    return weights, y, xt, params


def run_keras(layer: dict, x: np.ndarray):
    keras.backend.clear_session(free_memory=False)
    obj = getattr(keras.layers, layer["type"])(**kwargs_of(layer))
    obj.build(x.shape)
    weights = [draw(w.shape) for w in obj.get_weights()]
    obj.set_weights(weights)
    xt = torch.from_numpy(x).requires_grad_(True)
    y = obj(xt)
    return weights, y, xt, [v.value for v in obj.weights]


def record(framework: str, layer: dict, shape: list[int], activation: bool = False) -> dict | None:
    """One case, or None where the framework refuses the layer."""
    if activation:  # record.py's kinks and large values, then more kinks: ±3 (hard_sigmoid, hard_silu),
        x = activation_input(shape).ravel()  # −0.5 (Hardtanh min_val), 2.5 (Softplus beta·x = threshold)
        x[15:24] = [3.0, -3.0, -0.5, 2.5, 2.0, -2.0, 0.25, -0.25, 1.5]
        x = x.reshape(shape)
    elif "Max" in layer["type"]:
        x = draw(shape, values=[-1.0, -0.5, 0.0, 0.5, 1.0])  # few values: windows with ties
    else:
        x = draw(shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            weights, y, xt, params = (run_torch if framework == "torch" else run_keras)(layer, x)
    except (ValueError, RuntimeError, TypeError):
        return None
    if y.numel() == 0:
        return None
    g = draw(tuple(y.shape))
    try:
        y.backward(torch.from_numpy(g))
    except RuntimeError as e:
        print("backward failed:", framework, layer, shape, str(e)[:80])
        return None
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    return {
        "id": case_id(framework, layer, x.shape),
        "framework": framework,
        "layer": layer,
        "input": as_list(x),
        "weights": [as_list(w) for w in weights],
        "grad_output": as_list(g),
        "output": as_list(y.detach().numpy()),
        "output_shape": list(y.shape),
        "grad_input": as_list(xt.grad.numpy()),
        "grad_weights": [as_list(p.detach().numpy()) for p in grads],
    }


def main() -> None:
    torch.manual_seed(0)
    cases, seen = [], Counter()
    for framework, layer, shape in generated():
        d = len(shape) - 2
        if unequal_same_avg(layer, shape) or strided_dilated_depthwise(layer, d):
            continue
        case = record(framework, layer, shape)
        if case is None:
            continue
        seen[case["id"]] += 1
        if seen[case["id"]] > 1:
            case["id"] += f"-{seen[case['id']]}"
        cases.append(case)
    for framework, layer, shape in activation_layers():
        case = record(framework, layer, shape, activation=True)
        assert case is not None, layer
        cases.append(case)
    meta = {"torch": torch.__version__, "keras": keras.__version__, "keras_backend": keras.backend.backend(),
            "numpy": np.__version__, "seed": SEED, "script": "tests/golden/record_backward.py"}
    data = json.dumps({"meta": meta, "cases": cases}, sort_keys=True, separators=(",", ":")).encode()
    OUT.write_bytes(gzip.compress(data, mtime=0))
    types = Counter((c["framework"], c["layer"]["type"]) for c in cases)
    print(f"{len(cases)} cases, {len(types)} layer types, {OUT.stat().st_size:,} bytes -> {OUT}")


if __name__ == "__main__":
    main()
