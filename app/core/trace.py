"""Every layer's shape in a model: a stack of layer specs traced through an input shape.

Conv, pooling and activation layers go through the framework front ends (``build_layer``), so
their shapes and refusals are the engine's own; the other layers models are made of (Linear/Dense,
Flatten, BatchNorm, Embedding, LSTM/GRU, Reshape, …) have their shape and parameter rules here,
as the frameworks define them (torch.nn docs; keras.layers docs and ``count_params``).
Receptive fields follow Araujo, Norris & Sim, "Computing receptive fields of CNNs" (Distill 2019):
r_out = r_in + (k_eff − 1)·j_in and j_out = j_in·stride, per spatial axis.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.cost import layer_cost
from ..core.forward import output_shape
from ..core.frameworks import FRAMEWORKS, SpecError, build_layer
from ..core.frameworks.common import bool_value, int_tuple, int_value, is_int, read_keywords
from ..core.ops import ConvOp, PoolOp
from ..core.shapes import effective_kernel

Shape = tuple[int, ...]
MAX_LAYERS = 500


@dataclass(frozen=True)
class Row:
    index: int
    type: str
    spec: dict
    input_shape: Shape
    output_shape: Shape
    params: int
    macs: int
    receptive_field: tuple[float, ...] | None  # per spatial axis of the model input, in input positions
    jump: tuple[float, ...] | None
    note: str = ""


@dataclass(frozen=True)
class Trace:
    framework: str
    input_shape: Shape
    batch_known: bool
    rows: list[Row] = field(default_factory=list)
    error: tuple[int, str] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)


@dataclass(frozen=True)
class Step:
    """One layer's effect: the shape out, its parameters and MACs, and what it does to the RF."""

    shape: Shape
    params: int = 0
    macs: int = 0
    rf: Callable | None = None  # (r, j) -> (r, j); None keeps them; LOSES_RF drops them
    note: str = ""


def LOSES_RF(r, j):  # a layer that mixes every position (Flatten, Reshape, global pooling, RNNs)
    return None, None


def _channels_last(framework: str, spec: dict) -> bool:
    return framework == "keras" and spec.get("data_format") != "channels_first"


def _framework_layer(framework: str, spec: dict, shape: Shape) -> Step:
    """Conv, pooling and activation layers: the engine's own front ends."""
    layer = build_layer(framework, spec, shape)
    stages = [s for s in layer.stages if isinstance(s, (ConvOp, PoolOp))]

    def rf(r, j):
        for st in stages:
            for a in range(len(r)):
                k, s = effective_kernel(st.kernel[a], st.dilation[a]), st.stride[a]
                if isinstance(st, ConvOp) and st.transposed:  # each output sees ceil(k/s) inputs
                    r[a], j[a] = r[a] + (math.ceil(k / s) - 1) * j[a], j[a] / s
                else:
                    r[a], j[a] = r[a] + (k - 1) * j[a], j[a] * s
        return r, j
    cost = layer_cost(layer)
    return Step(tuple(output_shape(layer)), cost.params, cost.macs, rf if stages else None)


# --- layers the engine does not run: shape and parameter rules -----------------------------------

def _dense(framework, spec, shape):
    name = spec["type"]
    if framework == "torch":
        kw = read_keywords(spec, name, {"in_features": None, "out_features": None, "bias": True}, ("out_features",))
        out = int_value(name, "out_features", kw["out_features"], minimum=1)
        bias = bool_value(name, "bias", kw["bias"])
        note = ""
        if kw["in_features"] is None:
            note = f"in_features resolved to {shape[-1]}"
        elif int_value(name, "in_features", kw["in_features"], minimum=1) != shape[-1]:
            raise SpecError(f"{name} expects in_features={kw['in_features']} on the last axis, but the input "
                            f"{list(shape)} has {shape[-1]} there; set in_features={shape[-1]} (or flatten "
                            f"differently)", "in_features")
    else:
        kw = read_keywords(spec, name, {"units": None, "activation": None, "use_bias": True, **_KERAS_NO_EFFECT},
                           ("units",))
        out = int_value(name, "units", kw["units"], minimum=1)
        bias = bool_value(name, "use_bias", kw["use_bias"])
        note = ""
    n_in = shape[-1]
    return Step((*shape[:-1], out), n_in * out + (out if bias else 0), math.prod(shape[:-1]) * n_in * out, None, note)


def dim_index(layer: str, key: str, v: Any, rank: int) -> int:
    """An axis as PyTorch reads it: −rank … rank−1, negative counting from the end.

    >>> dim_index("Flatten", "end_dim", -1, 4)
    3
    """
    if not is_int(v) or not -rank <= v < rank:
        raise SpecError(f"{layer}: {key} must be an integer from {-rank} to {rank - 1} for a {rank}-D input, "
                        f"got {v!r}", key)
    return v % rank


def _flatten(framework, spec, shape):
    if framework == "torch":
        kw = read_keywords(spec, "Flatten", {"start_dim": 1, "end_dim": -1})
        a = dim_index("Flatten", "start_dim", kw["start_dim"], len(shape))
        b = dim_index("Flatten", "end_dim", kw["end_dim"], len(shape))
        if a > b:
            raise SpecError(f"Flatten: start_dim {kw['start_dim']} comes after end_dim {kw['end_dim']} on the "
                            f"{len(shape)}-D input {list(shape)}; PyTorch refuses that: make start_dim ≤ end_dim",
                            "start_dim")
        return Step((*shape[:a], math.prod(shape[a:b + 1]), *shape[b + 1:]), rf=LOSES_RF)
    read_keywords(spec, "Flatten", {"data_format": None, **_KERAS_NO_EFFECT})
    return Step((shape[0], math.prod(shape[1:])), rf=LOSES_RF)


def _identity(framework, spec, shape):
    return Step(shape)


def _batchnorm(framework, spec, shape):
    name = spec["type"]
    if framework == "torch":
        kw = read_keywords(spec, name, {"num_features": None, "eps": 1e-5, "momentum": 0.1, "affine": True,
                                        "track_running_stats": True, "bias": True}, ("num_features",))
        c = int_value(name, "num_features", kw["num_features"], minimum=1)
        if len(shape) < 2 or shape[1] != c:
            raise SpecError(f"{name} expects {c} channels on axis 1 (num_features), but the input {list(shape)} has "
                            f"{shape[1] if len(shape) > 1 else 'none'}; set num_features={shape[1] if len(shape) > 1 else '?'}",
                            "num_features")
        # running mean/var are buffers, not parameters; torch 2.13's bias=False (its repr says bias=True) drops beta
        return Step(shape, c * (int(bool(kw["affine"])) + int(bool(kw["affine"] and kw["bias"]))))
    kw = read_keywords(spec, name, {"axis": -1, "momentum": 0.99, "epsilon": 1e-3, "center": True, "scale": True,
                                    **_KERAS_NO_EFFECT})
    c = shape[kw["axis"]]
    return Step(shape, c * (2 + int(kw["center"]) + int(kw["scale"])))  # Keras counts moving mean and variance


def _embedding(framework, spec, shape):
    name = spec["type"]
    vocab_key, dim_key = ("num_embeddings", "embedding_dim") if framework == "torch" else ("input_dim", "output_dim")
    extra = ({"padding_idx": None, "max_norm": None} if framework == "torch"
             else {"mask_zero": False, "input_length": None, "embeddings_initializer": None, **_KERAS_NO_EFFECT})
    kw = read_keywords(spec, name, {vocab_key: None, dim_key: None, **extra}, (vocab_key, dim_key))
    vocab, dim = int_value(name, vocab_key, kw[vocab_key], minimum=1), int_value(name, dim_key, kw[dim_key], minimum=1)
    return Step((*shape, dim), vocab * dim, rf=LOSES_RF)


GATES = {"LSTM": 4, "GRU": 3, "RNN": 1, "SimpleRNN": 1}


def _rnn(framework, spec, shape):
    name = spec["type"]
    gates = GATES[name]
    if len(shape) != 3:
        raise SpecError(f"{name} expects a 3-D input (batch, time, features), got {list(shape)}", "input")
    if framework == "torch":
        kw = read_keywords(spec, name, {"input_size": None, "hidden_size": None, "num_layers": 1, "bias": True,
                                        "batch_first": False, "dropout": 0.0, "bidirectional": False,
                                        "nonlinearity": "tanh", "proj_size": 0}, ("input_size", "hidden_size"))
        size = int_value(name, "input_size", kw["input_size"], minimum=1)
        hidden = int_value(name, "hidden_size", kw["hidden_size"], minimum=1)
        if shape[-1] != size:
            raise SpecError(f"{name} expects input_size={size} features on the last axis, but the input {list(shape)} "
                            f"has {shape[-1]}; set input_size={shape[-1]}", "input_size")
        dirs = 2 if kw["bidirectional"] else 1
        params, n_in = 0, size
        for _ in range(int_value(name, "num_layers", kw["num_layers"], minimum=1)):
            params += dirs * gates * hidden * (n_in + hidden + (2 if kw["bias"] else 0))  # torch: two biases
            n_in = dirs * hidden
        return Step((*shape[:2], dirs * hidden), params, rf=LOSES_RF)
    kw = read_keywords(spec, name, {"units": None, "activation": "tanh", "recurrent_activation": "sigmoid",
                                    "use_bias": True, "return_sequences": False, "return_state": False,
                                    "dropout": 0.0, "recurrent_dropout": 0.0, "reset_after": True,
                                    "unroll": False, "go_backwards": False, "stateful": False,
                                    "recurrent_initializer": None, "unit_forget_bias": True, **_KERAS_NO_EFFECT},
                       ("units",))
    units, features = int_value(name, "units", kw["units"], minimum=1), shape[-1]
    biases = 2 if name == "GRU" and kw["reset_after"] else 1  # GRU's reset_after keeps a second bias
    params = gates * units * (features + units + (biases if kw["use_bias"] else 0))
    out = (shape[0], shape[1], units) if kw["return_sequences"] else (shape[0], units)
    return Step(out, params, rf=LOSES_RF)


def _reshape(framework, spec, shape):
    name = spec["type"]
    if framework == "torch":  # nn.Unflatten(dim, unflattened_size)
        kw = read_keywords(spec, name, {"dim": None, "unflattened_size": None}, ("dim", "unflattened_size"))
        dim = kw["dim"] % len(shape)
        sizes = list(kw["unflattened_size"])
        target = [*shape[:dim], *sizes, *shape[dim + 1:]]
        whole = shape[dim]
    else:
        kw = read_keywords(spec, name, {"target_shape": None, **_KERAS_NO_EFFECT}, ("target_shape",))
        sizes = list(kw["target_shape"])
        target, whole = [shape[0], *sizes], math.prod(shape[1:])
    if sizes.count(-1) > 1:
        raise SpecError(f"{name}: at most one -1 in {sizes}", "target_shape")
    known = math.prod(v for v in sizes if v != -1)
    if -1 in sizes:
        if known == 0 or whole % known:
            raise SpecError(f"{name}: {whole} values cannot be arranged as {sizes} ({whole} is not a multiple of {known})",
                            "target_shape")
        target = [whole // known if v == -1 else v for v in target]
    elif known != whole:
        raise SpecError(f"{name}: the input {list(shape)} holds {whole:,} values per sample but {sizes} holds {known:,}",
                        "target_shape")
    return Step(tuple(target), rf=LOSES_RF)


def _view(framework, spec, shape):
    """x.view(...) / x.reshape(...) in a forward(): the whole tensor, batch included, is rearranged."""
    sizes = list(spec.get("shape") or [])
    if len(sizes) == 1 and isinstance(sizes[0], list):
        sizes = sizes[0]
    for i, v in enumerate(sizes):  # x.size(0): that axis's size
        if isinstance(v, str) and v.startswith("size(") and v[5:-1].isdigit() and int(v[5:-1]) < len(shape):
            sizes[i] = shape[int(v[5:-1])]
    if any(not isinstance(v, int) for v in sizes):
        raise SpecError(f"x.view{tuple(sizes)}: only numbers are traced here (x.size(0) counts as -1)", "shape")
    whole, known = math.prod(shape), math.prod(v for v in sizes if v != -1)
    if sizes.count(-1) > 1 or known == 0 or (whole % known if -1 in sizes else whole != known):
        raise SpecError(f"x.view{tuple(sizes)}: {whole:,} values ({list(shape)}) cannot take that shape", "shape")
    out = tuple(whole // known if v == -1 else v for v in sizes)
    note = ""
    if out[0] != shape[0]:
        note = (f"the batch changed from {shape[0]} to {out[0]}: the view mixes values of different samples; "
                f"flatten with x.view(x.size(0), -1) or torch.flatten(x, 1)")
    return Step(out, rf=LOSES_RF, note=note)


def _index(framework, spec, shape):
    """out[-1], out[:, -1, :] in a forward(): an integer picks one position and drops its axis."""
    picks = spec.get("picks", [])
    if len(picks) > len(shape):
        raise SpecError(f"the index {picks} has more axes than the tensor {list(shape)}", "picks")
    for axis, p in enumerate(picks):
        if p is not None and not -shape[axis] <= p < shape[axis]:
            raise SpecError(f"index {p} is out of range for axis {axis} of size {shape[axis]} ({list(shape)})", "picks")
    return Step(tuple(n for n, p in zip(shape, [*picks, *[None] * len(shape)]) if p is None), rf=LOSES_RF)


def _permute(framework, spec, shape):
    kw = read_keywords(spec, "Permute", {"dims": None, **_KERAS_NO_EFFECT}, ("dims",))
    dims = list(kw["dims"])
    if sorted(dims) != list(range(1, len(shape))):
        raise SpecError(f"Permute: dims must order the axes 1..{len(shape) - 1} (the batch stays first), got {dims}",
                        "dims")
    return Step((shape[0], *[shape[d] for d in dims]), rf=LOSES_RF)


def _spatial(framework, spec, shape) -> tuple[list[int], Callable[[list[int]], Shape]]:
    """The spatial sizes, and a function that puts new ones back in the layout."""
    if _channels_last(framework, spec):
        return list(shape[1:-1]), lambda s: (shape[0], *s, shape[-1])
    return list(shape[2:]), lambda s: (*shape[:2], *s)


def _zero_padding(framework, spec, shape):
    name = spec["type"]
    dims = int(name[-2]) if framework == "torch" else int(name[-2])
    sizes, put = _spatial(framework, spec, shape)
    if framework == "torch":  # (left, right[, top, bottom[, front, back]]): the last axis first
        kw = read_keywords(spec, name, {"padding": None, "value": 0.0}, ("padding",))
        p = kw["padding"]
        p = [p] * (2 * dims) if isinstance(p, int) else list(p)
        pairs = [(p[2 * i], p[2 * i + 1]) for i in range(len(p) // 2)][::-1]
    else:
        kw = read_keywords(spec, name, {"padding": 1, "data_format": None, **_KERAS_NO_EFFECT})
        p = kw["padding"]
        if isinstance(p, int):
            pairs = [(p, p)] * dims
        elif all(isinstance(v, int) for v in p):
            pairs = [(v, v) for v in p] if dims > 1 else [tuple(p)]
        else:
            pairs = [tuple(v) for v in p]
    if len(pairs) != len(sizes):
        raise SpecError(f"{name}: padding {kw['padding']!r} does not match {len(sizes)} spatial axes", "padding")
    out = [n + a + b for n, (a, b) in zip(sizes, pairs)]

    def rf(r, j):  # padding shifts positions but reads nothing new
        return r, j
    return Step(put(out), rf=rf)


def _upsampling(framework, spec, shape):
    name = spec["type"]
    sizes, put = _spatial(framework, spec, shape)
    if framework == "torch":
        kw = read_keywords(spec, name, {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None,
                                        "recompute_scale_factor": None})
        if kw["size"] is not None:
            out = list(kw["size"]) if isinstance(kw["size"], (list, tuple)) else [kw["size"]] * len(sizes)
            factors = [o / n for o, n in zip(out, sizes)]
        else:
            f = kw["scale_factor"] if kw["scale_factor"] is not None else 2
            factors = list(f) if isinstance(f, (list, tuple)) else [f] * len(sizes)
            out = [math.floor(n * fa) for n, fa in zip(sizes, factors)]
    else:
        kw = read_keywords(spec, name, {"size": 2, "data_format": None, "interpolation": "nearest", **_KERAS_NO_EFFECT})
        factors = list(int_tuple(name, "size", kw["size"], len(sizes)))
        out = [n * f for n, f in zip(sizes, factors)]

    def rf(r, j):
        return r, [jj / f for jj, f in zip(j, factors)]
    return Step(put(out), rf=rf)


def _global_pool(framework, spec, shape):
    name = spec["type"]
    if framework == "torch":  # AdaptiveAvgPool2d(output_size): None keeps that axis
        kw = read_keywords(spec, name, {"output_size": None, "return_indices": False}, ("output_size",))
        sizes, put = _spatial(framework, spec, shape)
        o = kw["output_size"]
        o = list(o) if isinstance(o, (list, tuple)) else [o] * len(sizes)
        return Step(put([n if v is None else v for n, v in zip(sizes, o)]), rf=LOSES_RF)
    kw = read_keywords(spec, name, {"data_format": None, "keepdims": False, **_KERAS_NO_EFFECT})
    sizes, put = _spatial(framework, spec, shape)
    if kw["keepdims"]:
        return Step(put([1] * len(sizes)), rf=LOSES_RF)
    c = shape[-1] if _channels_last(framework, spec) else shape[1]
    return Step((shape[0], c), rf=LOSES_RF)


def _time_distributed(framework, spec, shape):
    kw = read_keywords(spec, "TimeDistributed", {"layer": None, **_KERAS_NO_EFFECT}, ("layer",))
    inner = kw["layer"]
    if not isinstance(inner, dict) or "type" not in inner:
        raise SpecError("TimeDistributed needs the layer it wraps, e.g. {\"type\": \"Dense\", \"units\": 8}", "layer")
    if len(shape) < 3:
        raise SpecError(f"TimeDistributed expects (batch, time, …), got {list(shape)}", "input")
    step = layer_step(framework, inner, (shape[0], *shape[2:]))
    return Step((shape[0], shape[1], *step.shape[1:]), step.params, step.macs * shape[1], LOSES_RF)


_KERAS_NO_EFFECT = {k: None for k in ("name", "trainable", "dtype", "kernel_initializer", "bias_initializer",
                                      "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                                      "kernel_constraint", "bias_constraint", "beta_initializer", "gamma_initializer",
                                      "moving_mean_initializer", "moving_variance_initializer", "seed", "noise_shape")}

_DROPOUTS = {"torch": ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Softmax", "LogSoftmax"),
             "keras": ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                       "GaussianDropout", "Softmax", "ActivityRegularization")}
_DROPOUT_KEYWORDS = {"torch": {"p": 0.5, "inplace": False, "dim": None},
                     "keras": {"rate": None, "axis": -1, "stddev": None, **_KERAS_NO_EFFECT}}

HANDLERS: dict[str, dict[str, Callable]] = {
    "torch": {"view": _view, "index": _index, "Linear": _dense, "Flatten": _flatten, "BatchNorm1d": _batchnorm, "BatchNorm2d": _batchnorm,
              "BatchNorm3d": _batchnorm, "Embedding": _embedding, "LSTM": _rnn, "GRU": _rnn, "RNN": _rnn,
              "Unflatten": _reshape, "ZeroPad1d": _zero_padding, "ZeroPad2d": _zero_padding,
              "ZeroPad3d": _zero_padding, "Upsample": _upsampling, "UpsamplingNearest2d": _upsampling,
              **{f"Adaptive{k}Pool{d}d": _global_pool for k in ("Avg", "Max") for d in (1, 2, 3)}},
    "keras": {"Dense": _dense, "Flatten": _flatten, "BatchNormalization": _batchnorm, "Embedding": _embedding,
              "LSTM": _rnn, "GRU": _rnn, "SimpleRNN": _rnn, "Reshape": _reshape, "Permute": _permute,
              **{f"ZeroPadding{d}D": _zero_padding for d in (1, 2, 3)},
              **{f"UpSampling{d}D": _upsampling for d in (1, 2, 3)},
              **{f"Global{k}Pooling{d}D": _global_pool for k in ("Average", "Max") for d in (1, 2, 3)},
              "TimeDistributed": _time_distributed},
}


def supported_types(framework: str) -> list[str]:
    return sorted({*FRAMEWORKS[framework].LAYER_TYPES, *HANDLERS[framework], *_DROPOUTS[framework]})


def layer_step(framework: str, spec: dict, shape: Shape) -> Step:
    """One layer on one input shape; a SpecError says what it needed."""
    name = spec.get("type")
    if name in HANDLERS[framework]:
        try:
            return HANDLERS[framework][name](framework, spec, shape)
        except (TypeError, ValueError, IndexError, ZeroDivisionError) as e:
            if isinstance(e, SpecError):
                raise
            raise SpecError(f"{name}: these settings do not describe a layer ({e})", "type") from None
    if name in _DROPOUTS[framework]:
        read_keywords(spec, name, _DROPOUT_KEYWORDS[framework])
        return Step(shape)
    if name in FRAMEWORKS[framework].LAYER_TYPES:
        return _framework_layer(framework, spec, shape)
    raise SpecError(f"{name!r} is not a {'PyTorch' if framework == 'torch' else 'Keras'} layer Convscope traces; "
                    f"it knows: {', '.join(supported_types(framework))}", "type")


def trace(framework: str, input_shape: tuple[int | None, ...], specs: list[dict[str, Any]]) -> Trace:
    """Shapes, parameters, MACs and receptive fields layer by layer; stops at the first that does not fit."""
    batch_known = input_shape[0] is not None
    shape = (input_shape[0] if batch_known else 1, *input_shape[1:])
    t = Trace(framework, tuple(input_shape), batch_known)
    spatial = max(0, len(shape) - 2)
    r, j = [1.0] * spatial, [1.0] * spatial
    for i, spec in enumerate(specs[:MAX_LAYERS]):
        try:
            step = layer_step(framework, spec, shape)
            if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in step.shape):
                raise SpecError(f"{spec.get('type')}: these settings give the output shape "
                                f"{show_shape(step.shape, batch_known)}; every size must be a whole number ≥ 1", "type")
            if step.rf is not None and r is not None:
                r, j = step.rf(list(r), list(j))
        except (SpecError, ArithmeticError, TypeError, ValueError) as e:
            message = str(e) if isinstance(e, SpecError) else f"these settings do not describe a layer ({e})"
            if not batch_known:  # the trace ran with batch 1: say None, as Keras does
                message = message.replace(str(list(shape)), str(show_shape(shape, False)))
            return Trace(framework, t.input_shape, batch_known, t.rows,
                         (i, f"{spec.get('type')} received {show_shape(shape, batch_known)}: {message}"))
        t.rows.append(Row(i, spec.get("type", "?"), spec, shape, step.shape, step.params, step.macs,
                          None if r is None else tuple(r), None if j is None else tuple(j), step.note))
        shape = step.shape
    return t


def show_shape(shape: Shape, batch_known: bool) -> list:
    """The shape as the framework prints it: Keras' unknown batch is None."""
    return list(shape) if batch_known else [None, *shape[1:]]


def fit_check(x: Shape | None, y: Shape | None, model_in: tuple, model_out: tuple) -> list[tuple[bool, str]]:
    """Do arrays of these shapes fit the model? (ok, message) lines, in plain words with the arithmetic.

    Axis 0 counts samples in x and in y alike; each sample must have the model's input shape.
    """
    lines = []
    for label, arr, want in (("x", x, model_in), ("y", y, model_out)):
        if arr is None:
            continue
        if list(arr[1:]) == list(want[1:]):
            lines.append((True, f"{label} {list(arr)}: {arr[0]:,} samples of {list(arr[1:])}, as the model "
                                f"{'takes' if label == 'x' else 'gives'}"))
            continue
        per, need = math.prod(arr[1:]), math.prod(want[1:])
        text = (f"{label} {list(arr)}: each sample is {list(arr[1:])}, but the model {'takes' if label == 'x' else 'gives'} "
                f"{list(want[1:])} per sample")
        if need % per == 0 and arr[0] % (need // per) == 0:
            k = need // per
            text += (f". {k} of your samples hold exactly one of the model's ({per:,} × {k} = {need:,} values): if "
                     f"{k} consecutive entries belong together, reshape {label} to {[arr[0] // k, *want[1:]]}")
        lines.append((False, text))
    if x is not None and y is not None and x[0] != y[0]:
        big, small = max(x[0], y[0]), min(x[0], y[0])
        text = (f"x has {x[0]:,} samples but y has {y[0]:,}; axis 0 counts samples in both, and every sample of x "
                "needs its own entry in y")
        if small and big % small == 0:
            k, more = big // small, "x" if x[0] > y[0] else "y"
            text += (f". {big:,} = {k} × {small:,}: either {k} entries of {more} make one sample (group them, as "
                     f"above), or {'x' if more == 'y' else 'y'} should have {k} times as many samples "
                     f"(one per entry of {more})")
        lines.append((False, text))
    return lines
