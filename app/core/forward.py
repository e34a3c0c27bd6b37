"""Run a canonical ``Layer`` on real numbers: layout in and out, weights to canonical, stages in turn."""
from __future__ import annotations

import math

import numpy as np

from ..core.activations import apply_activation
from ..core.conv import conv_forward
from ..core.ops import ConvOp, Layer, Param, PoolOp
from ..core.pool import pool_forward
from ..core.shapes import stage_output_shape


def channels_first_shape(layer: Layer) -> tuple[int, ...]:
    """The input shape as the engine sees it, (N, C, *spatial): a Keras (N, H, W, C) input moves its channels
    to second place.

    >>> from app.core.frameworks import build_layer
    >>> channels_first_shape(build_layer("keras", {"type": "Conv2D", "filters": 8, "kernel_size": 3}, (1, 6, 5, 2)))
    (1, 2, 6, 5)
    """
    s = layer.input_shape
    return (s[0], s[-1], *s[1:-1]) if layer.channels_last else tuple(s)


def stage_shapes(layer: Layer) -> list[tuple[int, ...]]:
    """Channels-first shape before the first stage and after each one.

    A Keras Conv2D with ``activation="relu"`` is two stages, the conv and then the relu, which keeps the shape:

    >>> from app.core.frameworks import build_layer
    >>> spec = {"type": "Conv2D", "filters": 8, "kernel_size": 3, "activation": "relu"}
    >>> stage_shapes(build_layer("keras", spec, (1, 6, 6, 2)))
    [(1, 2, 6, 6), (1, 8, 4, 4), (1, 8, 4, 4)]
    """
    shapes = [channels_first_shape(layer)]
    for stage in layer.stages:
        shapes.append(stage_output_shape(stage, shapes[-1]))
    return shapes


def output_shape(layer: Layer) -> tuple[int, ...]:
    """The output shape in the framework's own layout.

    >>> from app.core.frameworks import build_layer
    >>> output_shape(build_layer("keras", {"type": "Conv2D", "filters": 8, "kernel_size": 3}, (1, 6, 6, 2)))
    (1, 4, 4, 8)
    >>> output_shape(build_layer("torch", {"type": "Conv2d", "in_channels": 2, "out_channels": 8,
    ...                                    "kernel_size": 3}, (1, 2, 6, 6)))
    (1, 8, 4, 4)
    """
    out = stage_shapes(layer)[-1]
    return (out[0], *out[2:], out[1]) if layer.channels_last else out


def engine_work(layer: Layer) -> int:
    """Multiply-adds (or comparisons) the engine will do: the bound checked before any work.

    A transposed conv is computed over the zero-inserted input, so it counts that direct conv.

    A 3×3 conv from 3 to 8 channels on a 5×5 input: 8·3·3 = 72 outputs, each a sum of 3·3·3 = 27 products;
    a 2×2 max pool on 3×4×4: 3·2·2 = 12 windows of 4 comparisons:

    >>> from app.core.frameworks import build_layer
    >>> engine_work(build_layer("torch", {"type": "Conv2d", "in_channels": 3, "out_channels": 8,
    ...                                   "kernel_size": 3}, (1, 3, 5, 5)))  # 72 · 27
    1944
    >>> engine_work(build_layer("torch", {"type": "MaxPool2d", "kernel_size": 2}, (1, 3, 4, 4)))  # 12 · 4
    48
    """
    shapes = stage_shapes(layer)
    work = 0
    for stage, after in zip(layer.stages, shapes[1:]):
        cells = math.prod(after)
        if isinstance(stage, ConvOp):
            work += cells * (stage.in_channels // stage.groups) * math.prod(stage.kernel)
        elif isinstance(stage, PoolOp):
            work += cells * math.prod(stage.kernel)
        else:
            work += cells
    return work


def random_weights(layer: Layer, seed: int) -> list[np.ndarray]:
    """Deterministic weights in the framework's shapes: uniform in ±1/√fan_in, as torch's default init.

    A Conv1d from 2 channels with kernel 3 sums 2·3 = 6 products per output, so its weights and bias lie
    within ±1/√6 ≈ ±0.41:

    >>> from app.core.frameworks import build_layer
    >>> layer = build_layer("torch", {"type": "Conv1d", "in_channels": 2, "out_channels": 1, "kernel_size": 3},
    ...                     (1, 2, 5))
    >>> w = random_weights(layer, seed=0)
    >>> [t.shape for t in w], all(np.abs(t).max() <= 1 / math.sqrt(6) for t in w)
    ([(1, 2, 3), (1,)], True)
    >>> all((a == b).all() for a, b in zip(w, random_weights(layer, seed=0)))  # the same seed, the same weights
    True
    """
    rng = np.random.default_rng(seed)
    out = []
    for p in layer.params:
        stage = layer.stages[p.stage]
        fan_in = max(1, math.prod(stage.weight_shape[1:]) if not stage.transposed
                     else stage.weight_shape[1] * math.prod(stage.kernel))
        bound = 1 / math.sqrt(fan_in)
        out.append(rng.uniform(-bound, bound, size=p.shape).astype(np.float32))
    return out


def framework_tensor(p: Param, canonical: np.ndarray) -> np.ndarray:
    """A parameter in the canonical (PyTorch) layout, laid out as the framework keeps it: the inverse of
    the transpose ``canonical_weights`` applies. A Keras Conv2D kernel is (kh, kw, in, filters):

    >>> p = Param("kernel", 0, "weight", (3, 5, 2, 4), (3, 2, 0, 1))
    >>> framework_tensor(p, np.zeros((4, 2, 3, 5))).shape
    (3, 5, 2, 4)
    """
    shape = tuple(p.shape[i] for i in p.perm)  # the canonical shape (a depthwise kernel's axes merged)
    return np.ascontiguousarray(np.transpose(np.reshape(canonical, shape), np.argsort(p.perm)), dtype=np.float32)


TENTHS = (np.arange(-9, 10) / 10).astype(np.float32)  # −0.9 … 0.9 as float32, each the float64 k / 10 rounded


def readable_weights(layer: Layer, seed: int, kind: str = "random") -> list[np.ndarray]:
    """Weights a person can multiply in their head: tenths in −0.9..0.9 (bias too), or all ones
    with zero bias (every output is then the plain sum of its window).

    Drawn in the canonical (PyTorch) layout and then laid out as the framework keeps them, so the
    same seed gives the same numbers in PyTorch and in Keras.

    >>> from app.core.frameworks import build_layer
    >>> torch_layer = build_layer("torch", {"type": "Conv1d", "in_channels": 2, "out_channels": 1,
    ...                                     "kernel_size": 2}, (1, 2, 4))
    >>> keras_layer = build_layer("keras", {"type": "Conv1D", "filters": 1, "kernel_size": 2}, (1, 4, 2))
    >>> t, k = readable_weights(torch_layer, seed=0), readable_weights(keras_layer, seed=0)
    >>> (10 * t[0]).round().tolist(), (10 * t[1]).round().tolist()  # in tenths: weight (out, in, k), bias
    ([[[7.0, 3.0], [0.0, -4.0]]], [-4.0])
    >>> k[0].shape, bool((k[0].transpose(2, 1, 0) == t[0]).all())  # Keras' kernel is (k, in, out): same numbers
    ((2, 2, 1), True)
    >>> [w.tolist() for w in readable_weights(torch_layer, seed=0, kind="ones")]
    [[[[1.0, 1.0], [1.0, 1.0]]], [0.0]]
    """
    rng = np.random.default_rng(seed)
    out = []
    for p in layer.params:
        canonical_shape = tuple(p.shape[i] for i in p.perm)
        if kind == "ones":
            w = np.full(canonical_shape, 1.0 if p.kind == "weight" else 0.0, dtype=np.float32)
        else:  # int32: the same draws as the default int64, faster; each tenth read from a table, as k / 10 gives it
            w = TENTHS[rng.integers(-9, 10, size=canonical_shape, dtype=np.int32) + 9]
        out.append(framework_tensor(p, w))
    return out


def random_input(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Small integers in −3..3: products and sums a person can check by hand.

    >>> random_input((2, 3), seed=0).tolist()
    [[2.0, 1.0, 0.0], [-2.0, -1.0, -3.0]]
    """
    return np.random.default_rng(seed).integers(-3, 4, size=shape, dtype=np.int32).astype(np.float32)  # as int64 draws


def canonical_weights(layer: Layer, weights: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
    """Framework tensors -> per stage {"weight": (canonical layout), "bias": ...}.

    A Keras Conv1D kernel is (kernel, in, filters); the engine's is PyTorch's (filters, in, kernel):

    >>> from app.core.frameworks import build_layer
    >>> layer = build_layer("keras", {"type": "Conv1D", "filters": 2, "kernel_size": 2}, (1, 4, 1))
    >>> kernel = np.array([[[0, 1]], [[2, 3]]])  # tap 0: filters 0 and 1; tap 1: filters 0 and 1
    >>> {k: v.tolist() for k, v in canonical_weights(layer, [kernel, np.array([0.5, -1])])[0].items()}
    {'weight': [[[0.0, 2.0]], [[1.0, 3.0]]], 'bias': [0.5, -1.0]}
    """
    per_stage: list[dict[str, np.ndarray]] = [{} for _ in layer.stages]
    for p, w in zip(layer.params, weights):
        stage = layer.stages[p.stage]
        shape = stage.weight_shape if p.kind == "weight" else (stage.out_channels,)
        per_stage[p.stage][p.kind] = np.ascontiguousarray(np.transpose(w, p.perm).reshape(shape), dtype=np.float32)
    return per_stage


def run_stage(stage, y: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    """One canonical stage on a channels-first array, with its canonical weights (``w``: may be empty).

    A conv with kernel [10, 1] and bias −20 on [1, 2, 3] gives 10·1 + 1·2 − 20 = −8 and 10·2 + 1·3 − 20 = 3;
    a relu stage after it has no weights:

    >>> conv = ConvOp(1, 1, kernel=(2,), stride=(1,), dilation=(1,), padding=((0, 0),))
    >>> w = {"weight": np.array([[[10, 1]]], np.float32), "bias": np.array([-20], np.float32)}
    >>> y = run_stage(conv, np.array([[[1, 2, 3]]], np.float32), w)
    >>> y.tolist()
    [[[-8.0, 3.0]]]
    >>> from app.core.ops import ActOp, Activation
    >>> run_stage(ActOp(Activation("relu")), y, {}).tolist()
    [[[0.0, 3.0]]]
    """
    if isinstance(stage, ConvOp):
        return conv_forward(y, w["weight"], w.get("bias"), stage)
    if isinstance(stage, PoolOp):
        return pool_forward(y, stage)
    return apply_activation(stage.activation, y)


def run_layer(layer: Layer, x: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """The layer's output for input ``x`` (framework layout), float32, in the framework layout.

    A Keras Conv1D (channels last: (N, length, C)) with kernel [10, 1] and bias 0.5 on [1, 2, 3]:

    >>> from app.core.frameworks import build_layer
    >>> layer = build_layer("keras", {"type": "Conv1D", "filters": 1, "kernel_size": 2}, (1, 3, 1))
    >>> x = np.array([[[1], [2], [3]]])
    >>> run_layer(layer, x, [np.array([[[10]], [[1]]]), np.array([0.5])]).tolist()  # 10·1 + 1·2 + 0.5, ...
    [[[12.5], [23.5]]]
    """
    y = np.asarray(x, dtype=np.float32)
    if layer.channels_last:
        y = np.moveaxis(y, -1, 1)
    for stage, w in zip(layer.stages, canonical_weights(layer, weights)):
        y = run_stage(stage, y, w)
    if layer.channels_last:
        y = np.moveaxis(y, 1, -1)
    return np.ascontiguousarray(y)
