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
from ..core.frameworks.signatures import KERAS_ALIASES, NO_EFFECT
from ..core.ops import ConvOp, PoolOp
from ..core.shapes import effective_kernel

Shape = tuple[int, ...]
MAX_LAYERS = 2_000  # the parser's own bound (app/core/code.py): the same number


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
    name: str | None = None  # the module's path (PyTorch) or the layer's name (Keras), when the code gives one
    inputs: tuple[int, ...] = ()  # where each input comes from: an earlier row's index, or -1, -2… the model inputs
    input_shapes: tuple[Shape, ...] = ()  # every input's shape (a merge has several)


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
        """Each module once: a module called twice (a shared pool, a reused block) owns its weights once."""
        seen, total = set(), 0
        for r in self.rows:
            if r.name is not None and r.name in seen:
                continue
            seen.add(r.name)
            total += r.params
        return total

    @property
    def branches(self) -> bool:
        """The data flow is not a plain chain (a merge, or a value used by more than the next row)."""
        return any(r.inputs != (r.index - 1,) for r in self.rows)


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
    if framework == "keras" and spec.get("activation") in ("softmax", "log_softmax"):
        spec = {**spec, "activation": None}  # not elementwise, but it keeps the shape: the trace needs only that
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
            has = shape[1] if len(shape) > 1 else None
            raise SpecError(f"{name} expects {c} channels on axis 1 (num_features), but the input {list(shape)} has "
                            f"{has or 'none'}; set num_features={has or '?'}", "num_features")
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
            raise SpecError(f"{name}: {whole} values cannot be arranged as {sizes} "
                            f"({whole} is not a multiple of {known})", "target_shape")
        target = [whole // known if v == -1 else v for v in target]
    elif known != whole:
        raise SpecError(f"{name}: the input {list(shape)} holds {whole:,} values per sample "
                        f"but {sizes} holds {known:,}", "target_shape")
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
    """out[-1], out[:, -1, :], x[:, :, 1:-1] in a forward(): an integer picks one position and drops its axis;
    a slice keeps the positions Python's slicing keeps."""
    picks = spec.get("picks", [])
    if len(picks) > len(shape):
        raise SpecError(f"the index {picks} has more axes than the tensor {list(shape)}", "picks")
    out = []
    for axis, n in enumerate(shape):
        p = picks[axis] if axis < len(picks) else None
        if p is None:
            out.append(n)
        elif isinstance(p, dict):
            start, stop, step = (list(p.get("slice") or []) + [None] * 3)[:3]
            if step == 0:
                raise SpecError("a slice step cannot be 0", "picks")
            out.append(len(range(n)[slice(start, stop, step)]))
        elif not -n <= p < n:
            raise SpecError(f"index {p} is out of range for axis {axis} of size {n} ({list(shape)})", "picks")
    return Step(tuple(out), rf=LOSES_RF)


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



def _norm(framework, spec, shape):
    """InstanceNorm / GroupNorm / LayerNorm (torch), LayerNormalization (Keras): shape kept, affine weights."""
    name = spec["type"]
    if name.startswith("InstanceNorm"):
        kw = read_keywords(spec, name, {"num_features": None, "eps": 1e-5, "momentum": 0.1, "affine": False,
                                        "track_running_stats": False}, ("num_features",))
        c = int_value(name, "num_features", kw["num_features"], minimum=1)
        if len(shape) < 2 or shape[1] != c:
            raise SpecError(f"{name} expects {c} channels on axis 1 (num_features), but the input {list(shape)} has "
                            f"{shape[1] if len(shape) > 1 else 'none'}", "num_features")
        return Step(shape, 2 * c if bool_value(name, "affine", kw["affine"]) else 0)
    if name == "GroupNorm":
        kw = read_keywords(spec, name, {"num_groups": None, "num_channels": None, "eps": 1e-5, "affine": True},
                           ("num_groups", "num_channels"))
        g = int_value(name, "num_groups", kw["num_groups"], minimum=1)
        c = int_value(name, "num_channels", kw["num_channels"], minimum=1)
        if c % g:
            raise SpecError(f"GroupNorm: num_channels ({c}) must be divisible by num_groups ({g})", "num_groups")
        if len(shape) < 2 or shape[1] != c:
            raise SpecError(f"GroupNorm expects {c} channels on axis 1 (num_channels), but the input {list(shape)} "
                            f"has {shape[1] if len(shape) > 1 else 'none'}", "num_channels")
        return Step(shape, 2 * c if kw["affine"] else 0)
    if name == "LayerNorm":
        kw = read_keywords(spec, name, {"normalized_shape": None, "eps": 1e-5, "elementwise_affine": True,
                                        "bias": True}, ("normalized_shape",))
        ns = kw["normalized_shape"]
        ns = [ns] if is_int(ns) else list(ns)
        if list(shape[len(shape) - len(ns):]) != ns:
            raise SpecError(f"LayerNorm: normalized_shape {ns} must equal the input's last {len(ns)} sizes, but the "
                            f"input is {list(shape)}", "normalized_shape")
        n = math.prod(ns)
        return Step(shape, (n + (n if kw["bias"] else 0)) if kw["elementwise_affine"] else 0)
    kw = read_keywords(spec, name, {"axis": -1, "epsilon": 1e-3, "center": True, "scale": True, "rms_scaling": False,
                                    **_KERAS_NO_EFFECT})
    axes = kw["axis"] if isinstance(kw["axis"], list) else [kw["axis"]]
    n = math.prod(shape[a] for a in axes)
    return Step(shape, n * (int(bool(kw["center"])) + int(bool(kw["scale"]))))


def _prelu(framework, spec, shape):
    """PReLU: one learned slope per channel (torch: num_parameters) or per position (Keras: all but shared axes)."""
    name = spec["type"]
    if framework == "torch":
        kw = read_keywords(spec, name, {"num_parameters": 1, "init": 0.25})
        n = int_value(name, "num_parameters", kw["num_parameters"], minimum=1)
        if n != 1 and (len(shape) < 2 or shape[1] != n):
            raise SpecError(f"PReLU: num_parameters={n} must be 1 or the channels on axis 1 of {list(shape)}",
                            "num_parameters")
        return Step(shape, n)
    kw = read_keywords(spec, name, {"alpha_initializer": None, "alpha_regularizer": None, "alpha_constraint": None,
                                    "shared_axes": None, **_KERAS_NO_EFFECT})
    shared = kw["shared_axes"]
    shared = [] if shared is None else [shared] if is_int(shared) else list(shared)
    return Step(shape, math.prod(1 if i in shared else n for i, n in enumerate(shape) if i > 0))


def _pixel_shuffle(framework, spec, shape):
    name = spec["type"]
    key = "upscale_factor" if name == "PixelShuffle" else "downscale_factor"
    kw = read_keywords(spec, name, {key: None}, (key,))
    r = int_value(name, key, kw[key], minimum=1)
    if len(shape) < 3:
        raise SpecError(f"{name} expects (N, C, H, W), got {list(shape)}", "input")
    *lead, c, h, w = shape
    if name == "PixelShuffle":
        if c % (r * r):
            raise SpecError(f"PixelShuffle: the channels ({c}) must be divisible by upscale_factor² ({r}² = {r * r})",
                            key)
        return Step((*lead, c // (r * r), h * r, w * r))
    if h % r or w % r:
        raise SpecError(f"PixelUnshuffle: height {h} and width {w} must be divisible by downscale_factor {r}", key)
    return Step((*lead, c * r * r, h // r, w // r))


def _cropping(framework, spec, shape):
    name = spec["type"]
    dims = int(name[-2])
    kw = read_keywords(spec, name, {"cropping": (1, 1) if dims == 1 else 0, "data_format": None,
                                    **_KERAS_NO_EFFECT})
    c = kw["cropping"]
    if is_int(c):
        pairs = [(c, c)] * dims
    elif dims == 1:
        pairs = [tuple(c)]
    elif all(is_int(v) for v in c):
        pairs = [(v, v) for v in c]
    else:
        pairs = [tuple(v) for v in c]
    sizes, put = _spatial(framework, spec, shape)
    if len(pairs) != len(sizes):
        raise SpecError(f"{name}: cropping {c!r} does not match {len(sizes)} spatial axes of {list(shape)}", "cropping")
    out = [n - a - b for n, (a, b) in zip(sizes, pairs)]
    if any(o < 1 for o in out):
        raise SpecError(f"{name}: cropping {c!r} removes the whole input {list(shape)}", "cropping")
    return Step(put(out), rf=lambda r, j: (r, j))


def _resizing(framework, spec, shape):
    name = spec["type"]
    kw = read_keywords(spec, name, {"height": None, "width": None, "interpolation": "bilinear",
                                    "crop_to_aspect_ratio": False, "pad_to_aspect_ratio": False,
                                    "fill_mode": None, "fill_value": 0.0, "antialias": False, "data_format": None,
                                    **_KERAS_NO_EFFECT}, ("height", "width"))
    h, w = int_value(name, "height", kw["height"], minimum=1), int_value(name, "width", kw["width"], minimum=1)
    _, put = _spatial(framework, spec, shape)
    return Step(put([h, w]), rf=LOSES_RF)


def _shape_kept(framework, spec, shape):
    """Preprocessing and augmentation layers: the values change, the shape does not (inference)."""
    return Step(shape)


def _normalization(framework, spec, shape):
    """Keras Normalization: the shape kept; without a given mean and variance it holds them per index of ``axis``
    (weights Keras counts, never trained) and a count."""
    kw = read_keywords(spec, "Normalization", {"axis": -1, "mean": None, "variance": None, "invert": False,
                                               **_KERAS_NO_EFFECT})
    if kw["mean"] is not None:
        return Step(shape)
    axes = () if kw["axis"] is None else (kw["axis"],) if is_int(kw["axis"]) else tuple(kw["axis"])
    kept = 1
    for a in axes:
        if not is_int(a) or not -len(shape) <= a < len(shape) or shape[a] is None:
            raise SpecError(f"Normalization: axis={kw['axis']!r} must name axes of known size of the input "
                            f"{list(shape)}, e.g. axis=-1", "axis")
        kept *= shape[a]
    return Step(shape, 2 * kept + 1)


def _bidirectional(framework, spec, shape):
    kw = read_keywords(spec, "Bidirectional", {"layer": None, "merge_mode": "concat", "backward_layer": None,
                                               "weights": None, **_KERAS_NO_EFFECT}, ("layer",))
    inner = kw["layer"]
    if not isinstance(inner, dict) or inner.get("type") not in GATES:
        raise SpecError("Bidirectional wraps a recurrent layer, e.g. Bidirectional(LSTM(32))", "layer")
    step = layer_step(framework, inner, shape)
    mode = kw["merge_mode"]
    out = (*step.shape[:-1], step.shape[-1] * 2) if mode == "concat" else step.shape
    if mode is None:
        raise SpecError("Bidirectional: merge_mode=None returns two tensors; Convscope follows one", "merge_mode")
    return Step(out, 2 * step.params, rf=LOSES_RF)


def _torch_pad(framework, spec, shape):
    """F.pad(x, [left, right, top, bottom, …]): the last axis first; negative numbers crop."""
    kw = read_keywords(spec, "pad", {"pad": None, "mode": "constant", "value": None}, ("pad",))
    p = list(kw["pad"])
    if len(p) % 2 or len(p) // 2 > len(shape):
        raise SpecError(f"F.pad: pad {p} must hold pairs, at most one per axis of {list(shape)}", "pad")
    out = list(shape)
    for i in range(len(p) // 2):
        out[len(shape) - 1 - i] += p[2 * i] + p[2 * i + 1]
    if any(o < 1 for o in out):
        raise SpecError(f"F.pad: pad {p} leaves the shape {out} from {list(shape)}", "pad")
    return Step(tuple(out), rf=lambda r, j: (r, j))


def _interpolate(framework, spec, shape):
    kw = read_keywords(spec, "interpolate", {"size": None, "scale_factor": None, "mode": "nearest",
                                            "align_corners": None, "recompute_scale_factor": None, "antialias": False})
    if (kw["size"] is None) == (kw["scale_factor"] is None):
        raise SpecError("F.interpolate needs exactly one of size and scale_factor", "size")
    return _upsampling("torch", {"type": "Upsample", "size": kw["size"], "scale_factor": kw["scale_factor"]}, shape)


def _axis(layer, key, v, rank):
    return dim_index(layer, key, v, rank)


def _tensor_op(framework, spec, shape):
    """Tensor methods in a forward(): permute, transpose, unsqueeze, squeeze, mean/sum over axes."""
    op, rank = spec["type"], len(shape)
    if op == "permute":
        dims = [_axis(op, "dims", d, rank) for d in spec.get("dims", [])]
        if sorted(dims) != list(range(rank)):
            raise SpecError(f"x.permute{tuple(spec.get('dims', []))}: name every axis of the {rank}-D input "
                            f"{list(shape)} once", "dims")
        return Step(tuple(shape[d] for d in dims), rf=LOSES_RF)
    if op == "transpose":
        a, b = _axis(op, "dim0", spec.get("dim0"), rank), _axis(op, "dim1", spec.get("dim1"), rank)
        out = list(shape)
        out[a], out[b] = out[b], out[a]
        return Step(tuple(out), rf=LOSES_RF)
    if op == "unsqueeze":
        d = _axis(op, "dim", spec.get("dim"), rank + 1)
        return Step((*shape[:d], 1, *shape[d:]), rf=LOSES_RF)
    if op == "squeeze":
        d = spec.get("dim")
        if d is None:
            return Step(tuple(n for n in shape if n != 1) or (1,), rf=LOSES_RF)
        d = _axis(op, "dim", d, rank)
        return Step(tuple(n for i, n in enumerate(shape) if i != d or n != 1), rf=LOSES_RF)
    dims = spec.get("dim")  # mean / sum / amax: None reduces everything
    dims = list(range(rank)) if dims is None else [dims] if is_int(dims) else list(dims)
    dims = {_axis(op, "dim", d, rank) for d in dims}
    keep = bool(spec.get("keepdim"))
    return Step(tuple(1 if i in dims else n for i, n in enumerate(shape) if keep or i not in dims), rf=LOSES_RF)


class MergeError(SpecError):
    """Inputs of a merge that do not fit; ``axis`` is the axis where they differ (for the history)."""

    def __init__(self, message: str, axis: int | None):
        super().__init__(message, "input")
        self.axis = axis


MERGES = {"cat", "stack", "add", "sub", "mul", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
          "Concatenate", "CustomScaleLayer"}  # keras.applications.inception_resnet_v2's: inputs[0] + inputs[1] * scale


def merge_step(framework: str, spec: dict, shapes: list[Shape]) -> Step:
    """Several inputs, one output: concatenation along an axis, or an elementwise op (with broadcasting)."""
    name = spec["type"]
    shown = " and ".join(str(list(s)) for s in shapes)
    if len(shapes) < 2 and name not in ("cat", "stack"):
        raise SpecError(f"{name} merges at least 2 inputs, got {len(shapes)}", "input")
    if name in ("cat", "Concatenate", "stack"):
        key = "axis" if name == "Concatenate" else "dim"
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise MergeError(f"{name} needs inputs of one rank; got {shown}", None)
        if name == "stack":
            d = dim_index(name, "dim", spec.get("dim", 0), rank + 1)
            for s in shapes[1:]:
                if s != shapes[0]:
                    axis = next(i for i, (a, b) in enumerate(zip(shapes[0], s)) if a != b)
                    raise MergeError(f"torch.stack needs inputs of one shape; got {shown}", axis)
            return Step((*shapes[0][:d], len(shapes), *shapes[0][d:]), rf=LOSES_RF)
        d = dim_index(name, key, spec.get(key, -1 if name == "Concatenate" else 0), rank)
        for s in shapes[1:]:
            for i, (a, b) in enumerate(zip(shapes[0], s)):
                if i != d and a != b and not (framework == "keras" and i == 0):
                    raise MergeError(f"{'torch.cat' if name == 'cat' else name} joins along {key} {d} and needs the "
                                     f"same sizes on every other axis, but axis {i} is {a} in one input and {b} in "
                                     f"another ({shown})", i)
        out = list(shapes[0])
        out[d] = sum(s[d] for s in shapes)
        return Step(tuple(out), rf=LOSES_RF)
    rank = max(len(s) for s in shapes)  # elementwise: numpy / torch broadcasting, from the last axis
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = []
    for i in range(rank):
        sizes = {p[i] for p in padded} - {1}
        if len(sizes) > 1 and not (framework == "keras" and i == 0):
            raise MergeError(f"{name} adds values position by position: the shapes must match (or be 1) on every "
                             f"axis, but axis {i} is {' vs '.join(str(p[i]) for p in padded)} ({shown})", i)
        out.append(max(sizes) if sizes else 1)
    return Step(tuple(out))


def _nested(framework, spec, shape):
    """A Sequential model used as one layer (Keras' model.layers shows it as one row); a functional model's
    layers likewise, each with ``_inputs`` (earlier layers' indices, -1 the model's input)."""
    if any("_inputs" in inner for inner in spec.get("layers") or []):
        return _graph(framework, spec["layers"], shape)
    params, macs = 0, 0
    for inner in spec.get("layers") or []:
        step = layer_step(framework, inner, shape)
        shape, params, macs = step.shape, params + step.params, macs + step.macs
    return Step(shape, params, macs, LOSES_RF)


def _graph(framework, layers, shape):
    shapes, params, macs = [], 0, 0
    for layer in layers:
        refs = layer.get("_inputs", [len(shapes) - 1])
        inner = {k: v for k, v in layer.items() if k != "_inputs"}
        ins = [shape if r < 0 else shapes[r] for r in refs]
        merge = inner.get("type") in MERGES
        step = merge_step(framework, inner, ins) if merge else layer_step(framework, inner, ins[0])
        shapes.append(step.shape)
        params, macs = params + step.params, macs + step.macs
    return Step(shapes[-1] if shapes else shape, params, macs, LOSES_RF)


_KERAS_SHAPE_KEPT = ("Rescaling", "RandomFlip", "RandomRotation", "RandomZoom", "RandomContrast",
                     "RandomTranslation", "RandomCrop", "RandomBrightness", "AutoContrast", "Masking")

_KERAS_NO_EFFECT = dict.fromkeys(NO_EFFECT)  # accepted, never read: they change no shape

_DROPOUTS = {"torch": ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "Softmax", "LogSoftmax"),
             "keras": ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                       "GaussianDropout", "Softmax", "ActivityRegularization")}
_DROPOUT_KEYWORDS = {"torch": {"p": 0.5, "inplace": False, "dim": None},
                     "keras": {"rate": None, "axis": -1, "stddev": None, "noise_shape": None, **_KERAS_NO_EFFECT}}

HANDLERS: dict[str, dict[str, Callable]] = {
    "torch": {"Sequential": _identity,  # an empty nn.Sequential() (a ResNet's identity shortcut)
              "view": _view, "index": _index, "Linear": _dense, "Flatten": _flatten, "BatchNorm1d": _batchnorm,
              "BatchNorm2d": _batchnorm, "BatchNorm3d": _batchnorm, "Embedding": _embedding,
              "LSTM": _rnn, "GRU": _rnn, "RNN": _rnn,
              "Unflatten": _reshape, "ZeroPad1d": _zero_padding, "ZeroPad2d": _zero_padding,
              "ZeroPad3d": _zero_padding, "Upsample": _upsampling, "UpsamplingNearest2d": _upsampling,
              **{f"Adaptive{k}Pool{d}d": _global_pool for k in ("Avg", "Max") for d in (1, 2, 3)},
              **{f"{k}Pad{d}d": _zero_padding for k in ("Reflection", "Replication", "Constant", "Circular")
                 for d in (1, 2, 3)},
              **{f"InstanceNorm{d}d": _norm for d in (1, 2, 3)}, "GroupNorm": _norm, "LayerNorm": _norm,
              "PixelShuffle": _pixel_shuffle, "PixelUnshuffle": _pixel_shuffle, "UpsamplingBilinear2d": _upsampling,
              "PReLU": _prelu,
              "pad": _torch_pad, "interpolate": _interpolate,
              **{k: _tensor_op for k in ("permute", "transpose", "unsqueeze", "squeeze", "mean", "sum", "amax")}},
    "keras": {"Dense": _dense, "Flatten": _flatten, "BatchNormalization": _batchnorm, "Embedding": _embedding,
              "LSTM": _rnn, "GRU": _rnn, "SimpleRNN": _rnn, "Reshape": _reshape, "Permute": _permute,
              **{f"ZeroPadding{d}D": _zero_padding for d in (1, 2, 3)},
              **{f"UpSampling{d}D": _upsampling for d in (1, 2, 3)},
              **{f"Global{k}Pooling{d}D": _global_pool for k in ("Average", "Max") for d in (1, 2, 3)},
              "TimeDistributed": _time_distributed, "LayerNormalization": _norm, "Bidirectional": _bidirectional,
              "Normalization": _normalization,
              **{f"Cropping{d}D": _cropping for d in (1, 2, 3)}, "Resizing": _resizing, "CenterCrop": _resizing,
              **{k: _shape_kept for k in _KERAS_SHAPE_KEPT}, "Sequential": _nested, "Functional": _nested,
              "PReLU": _prelu},
}


def supported_types(framework: str) -> list[str]:
    return sorted({*FRAMEWORKS[framework].LAYER_TYPES, *HANDLERS[framework], *_DROPOUTS[framework],
                   *(KERAS_ALIASES if framework == "keras" else ())} - {"Sequential", "Functional"})


def _weight_shape(spec: dict, shape: Shape) -> Shape:
    """A torch layer's weight: Linear (out, in); ConvNd (out, in / groups, *kernel); ConvTransposeNd (in, out / groups,
    *kernel)."""
    name = spec["type"]
    if name == "Linear":
        return (spec["out_features"], shape[-1])
    if not name.startswith("Conv"):
        raise SpecError(f"weight_norm on {name} is not traced; Convscope follows it on Linear and Conv layers", "type")
    k = spec.get("kernel_size")
    kernel = (k,) * int(name[-2]) if is_int(k) else tuple(k)
    g = spec.get("groups", 1) or 1
    if name.startswith("ConvTranspose"):
        return (spec["in_channels"], spec["out_channels"] // g, *kernel)
    return (spec["out_channels"], spec["in_channels"] // g, *kernel)


def _norm_wrapped(framework: str, spec: dict, shape: Shape) -> Step:
    """torch.nn.utils.weight_norm / spectral_norm around a layer: its shape, and its parameters as the wrapper
    leaves them. weight_norm: weight_v (the weight's size) and weight_g (the weight's size along dim, 1 when dim is
    None or -1, as torch reads it) replace weight; spectral_norm: weight_orig replaces weight (u and v are buffers)."""
    inner = {k: v for k, v in spec.items() if k not in ("weight_norm", "spectral_norm")}
    step = layer_step(framework, inner, shape)
    if "weight_norm" not in spec:
        return step
    dim = spec["weight_norm"].get("dim", 0)
    weight = _weight_shape(inner, shape)
    gain = 1 if dim in (None, -1) else weight[dim_index("weight_norm", "dim", dim, len(weight))]  # -1: as None
    return Step(step.shape, step.params + gain, step.macs, step.rf, step.note)


def layer_step(framework: str, spec: dict, shape: Shape) -> Step:
    """One layer on one input shape; a SpecError says what it needed."""
    name = spec.get("type")
    if framework == "torch" and ("weight_norm" in spec or "spectral_norm" in spec):
        return _norm_wrapped(framework, spec, shape)
    if framework == "keras" and name in KERAS_ALIASES:  # MaxPool2D is MaxPooling2D (the same class)
        spec, name = {**spec, "type": KERAS_ALIASES[name]}, KERAS_ALIASES[name]
    if name in MERGES:
        return merge_step(framework, spec, [shape])
    if framework == "keras" and name == "Activation" and spec.get("activation") in ("softmax", "log_softmax"):
        return Step(shape)  # over the last axis: the shape stays
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


def trace(framework: str, input_shape: tuple[int | None, ...], specs: list[dict[str, Any]],
          inputs: list[list[int]] | None = None, names: list[str | None] | None = None,
          sources: list[tuple] | None = None) -> Trace:
    """Shapes, parameters, MACs and receptive fields layer by layer; stops at the first that does not fit.

    ``inputs[i]`` says where layer i's inputs come from (earlier rows' indices; -1 the model's input,
    -2, -3 … further inputs of shapes ``sources``); left out, the layers form a chain."""
    batch_known = input_shape[0] is not None
    batch = input_shape[0] if batch_known else 1
    starts = [tuple(input_shape), *[tuple(s) for s in (sources or [])]]
    starts = [(batch if s[0] is None else s[0], *s[1:]) for s in starts]
    t = Trace(framework, tuple(input_shape), batch_known)
    shapes: list[Shape] = []
    fields: list[tuple] = []
    start_fields = [([1.0] * max(0, len(s) - 2), [1.0] * max(0, len(s) - 2)) for s in starts]

    def source(ref):
        if ref < 0:
            return starts[-1 - ref], start_fields[-1 - ref]
        return shapes[ref], fields[ref]

    for i, spec in enumerate(specs[:MAX_LAYERS]):
        refs = tuple(inputs[i]) if inputs else (i - 1,)
        got = [source(ref) for ref in refs]
        in_shapes = [g[0] for g in got]
        shape = in_shapes[0] if in_shapes else starts[0]
        r, j = got[0][1] if got else (None, None)
        try:
            if spec.get("type") in MERGES:
                step = merge_step(framework, spec, in_shapes)
                rfs = [g[1] for g in got]
                if all(x[0] is not None and len(x[0]) == len(r or ()) for x in rfs):
                    r = [max(x[0][a] for x in rfs) for a in range(len(r))]
                else:
                    r = j = None
            else:
                step = layer_step(framework, spec, shape)
            if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in step.shape):
                raise SpecError(f"{spec.get('type')}: these settings give the output shape "
                                f"{show_shape(step.shape, batch_known)}; every size must be a whole number ≥ 1", "type")
            if step.rf is not None and r is not None:
                r, j = step.rf(list(r), list(j))
        except (SpecError, ArithmeticError, TypeError, ValueError) as e:
            message = str(e) if isinstance(e, SpecError) else f"these settings do not describe a layer ({e})"
            if not batch_known:  # the trace ran with batch 1: say None, as Keras does
                for s in in_shapes:
                    message = message.replace(str(list(s)), str(show_shape(s, False)))
            if isinstance(e, MergeError) and e.axis is not None:
                message += history(refs, e.axis, t.rows, starts, batch_known)
            received = " and ".join(str(show_shape(s, batch_known)) for s in in_shapes)
            failure = f"{spec.get('type')} received {received}: {message}"
            return Trace(framework, t.input_shape, batch_known, t.rows, (i, failure))
        t.rows.append(Row(i, spec.get("type", "?"), spec, shape, step.shape, step.params, step.macs,
                          None if r is None else tuple(r), None if j is None else tuple(j), step.note,
                          names[i] if names and i < len(names) else None, refs, tuple(in_shapes)))
        shapes.append(step.shape)
        fields.append((r, j))
    return t


def _ancestors(ref: int, rows: list[Row]) -> set[int]:
    seen, stack = set(), [ref]
    while stack:
        x = stack.pop()
        if x in seen:
            continue
        seen.add(x)
        if x >= 0:
            stack += list(rows[x].inputs)
    return seen


def history(refs, axis: int, rows: list[Row], starts, batch_known: bool) -> str:
    """Where each input's size on ``axis`` came from, back to where the branches met: the arithmetic that made
    them differ (a U-Net skip that is one pixel off: 57 → pool → 28 → up-conv → 56)."""
    lines = []
    for k, ref in enumerate(refs):
        others = set().union(*[_ancestors(o, rows) for n, o in enumerate(refs) if n != k])
        steps, x = [], ref
        while x >= 0 and x not in others:
            row = rows[x]
            before, after = row.input_shapes[0] if row.input_shapes else row.input_shape, row.output_shape
            if len(before) == len(after) == len(row.output_shape) and axis < len(after) and before[axis] != after[axis]:
                label = f"{row.type}{' ' + row.name if row.name else ''} (row {row.index + 1})"
                steps.append(f"{before[axis]} → {label} → {after[axis]}")
            x = row.inputs[0] if row.inputs else -1
        size = (rows[ref].output_shape if ref >= 0 else starts[-1 - ref])
        if axis < len(size):
            path = "; ".join(reversed(steps)) if steps else "unchanged since the branches split"
            lines.append(f"input {k + 1} has {size[axis]} on axis {axis}: {path}")
    return (". " + ". ".join(lines)) if lines else ""


def show_shape(shape: Shape, batch_known: bool) -> list:
    """The shape as the framework prints it: Keras' unknown batch is None."""
    return list(shape) if batch_known else [None, *shape[1:]]


def _swap(sample: tuple, want: tuple) -> tuple[int, ...] | None:
    """The axis order that turns a sample into the model's (each axis kept where it can be), or None.

    >>> _swap((300, 50), (50, 300))
    (1, 0)
    >>> _swap((300, 50), (60, 250)) is None
    True
    """
    if len(sample) != len(want) or sorted(sample) != sorted(want):
        return None
    free = [a for a in range(len(sample)) if sample[a] != want[a]]
    order = list(range(len(sample)))
    for i in free:
        order[i] = next(a for a in free if sample[a] == want[i] and a not in [order[f] for f in free if f < i])
    return tuple(order)


def _merged(sample: tuple, want: tuple) -> bool:
    """Axes merged or split in order (784 ↔ 28 × 28 × 1): each boundary of one is a boundary of the other, so a
    reshape keeps every value where it belongs.

    >>> _merged((784,), (28, 28, 1)), _merged((300, 50), (50, 300))
    (True, False)
    """
    def cuts(shape):
        return {math.prod(shape[:i]) for i in range(1, len(shape) + 1)}
    return cuts(sample) <= cuts(want) or cuts(want) <= cuts(sample)


def _fix(label: str, arr: tuple, want: tuple) -> str:
    """What turns each sample of ``arr`` into the model's ``want`` (both without the sample axis), with the code
    for numpy and torch arrays; "" when no one operation does."""
    sample = tuple(arr[1:])
    if None in want or math.prod(sample) != math.prod(want):
        return ""
    sizes = ", ".join(str(n) for n in want)
    if _merged(sample, want):
        return (f". They hold the same {math.prod(want):,} values, with axes merged or split: reshape keeps them in "
                f"order — `{label} = {label}.reshape(-1, {sizes})` (numpy and torch alike)")
    order = _swap(sample, want)
    if order is None:
        return (f". They hold the same {math.prod(want):,} values, but neither a transpose nor a reshape alone turns "
                "one into the other: check how the data was made")
    axes = ", ".join(str(a) for a in (0, *(o + 1 for o in order)))
    moved = [a + 1 for a in range(len(order)) if order[a] != a]
    swap = f" or `np.swapaxes({label}, {moved[0]}, {moved[1]})`" if len(moved) == 2 else ""
    return (f". The sizes are the same in another order, so the axes are swapped: transpose them (a reshape would "
            f"scramble the values) — numpy `{label} = {label}.transpose({axes})`{swap}; torch "
            f"`{label} = {label}.permute({axes})`")


def _tuple(shape) -> str:
    """A shape as numpy and torch print it: ``(420420, 33, 33, 1)``, ``(300,)``; an unknown size is None.

    >>> _tuple([420420, 33, 33, 1]), _tuple((300,)), _tuple((None, 7))
    ('(420420, 33, 33, 1)', '(300,)', '(None, 7)')
    """
    return str(tuple(shape))


def _group(label: str, arr: tuple, want: tuple) -> str:
    """Samples that are pieces of one model sample (Q5: 7 slices of 33 × 33 per volume): how many, and the shape
    that groups them."""
    per, need = math.prod(arr[1:]), math.prod(want)
    if None in want or need % per or arr[0] % (need // per) or need == per:
        return ""
    k, n = need // per, arr[0] // (need // per)
    text = (f". The model's sample holds {k} of yours ({per:,} × {k} = {need:,} values): if every {k} consecutive "
            f"samples of {label} belong together, group them into {_tuple((n, *want))}")
    axis = next((a for a in range(len(want)) if want[a] == k and (*want[:a], *want[a + 1:]) == tuple(arr[1:])), None)
    if axis is None:
        return text
    grouped = f"{label}.reshape({', '.join(str(v) for v in (n, k, *arr[1:]))})"
    return (text + f", each group's {k} on axis {axis + 1} (a plain reshape would scramble them) — numpy "
            f"`{label} = np.moveaxis({grouped}, 1, {axis + 1})`; torch `{label} = {grouped}.movedim(1, {axis + 1})`")


def fit_check(x: Shape | None, y: Shape | None, model_in: tuple, model_out: tuple) -> list[tuple[bool, str]]:
    """Do arrays of these shapes fit the model? (ok, message) lines, in plain words with the arithmetic.

    Axis 0 counts samples in x and in y alike; each sample must have the model's input shape.

    >>> fit_check((1000, 300, 50), None, (None, 50, 300), (None, 1))[0][1].split(" — ")[1]
    'numpy `x = x.transpose(0, 2, 1)` or `np.swapaxes(x, 1, 2)`; torch `x = x.permute(0, 2, 1)`'
    """
    lines = []
    for label, arr, want in (("x", x, model_in), ("y", y, model_out)):
        if arr is None:
            continue
        if list(arr[1:]) == list(want[1:]):
            lines.append((True, f"{label} {_tuple(arr)}: {arr[0]:,} samples of {_tuple(arr[1:])}, as the model "
                                f"{'takes' if label == 'x' else 'gives'}"))
            continue
        verb = "takes" if label == "x" else "gives"
        text = (f"{label} {_tuple(arr)}: each sample is {_tuple(arr[1:])}, but the model {verb} "
                f"{_tuple(want[1:])} per sample")
        lines.append((False, text + (_fix(label, arr, tuple(want[1:])) or _group(label, arr, tuple(want[1:])))))
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
