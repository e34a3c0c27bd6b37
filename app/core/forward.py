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
    s = layer.input_shape
    return (s[0], s[-1], *s[1:-1]) if layer.channels_last else tuple(s)


def stage_shapes(layer: Layer) -> list[tuple[int, ...]]:
    """Channels-first shape before the first stage and after each one."""
    shapes = [channels_first_shape(layer)]
    for stage in layer.stages:
        shapes.append(stage_output_shape(stage, shapes[-1]))
    return shapes


def output_shape(layer: Layer) -> tuple[int, ...]:
    """The output shape in the framework's own layout."""
    out = stage_shapes(layer)[-1]
    return (out[0], *out[2:], out[1]) if layer.channels_last else out


def engine_work(layer: Layer) -> int:
    """Multiply-adds (or comparisons) the engine will do: the bound checked before any work.

    A transposed conv is computed over the zero-inserted input, so it counts that direct conv.
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
    """Deterministic weights in the framework's shapes: uniform in ±1/√fan_in, as torch's default init."""
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


def readable_weights(layer: Layer, seed: int, kind: str = "random") -> list[np.ndarray]:
    """Weights a person can multiply in their head: tenths in −0.9..0.9 (bias too), or all ones
    with zero bias (every output is then the plain sum of its window).

    Drawn in the canonical (PyTorch) layout and then laid out as the framework keeps them, so the
    same seed gives the same numbers in PyTorch and in Keras.
    """
    rng = np.random.default_rng(seed)
    out = []
    for p in layer.params:
        canonical_shape = tuple(p.shape[i] for i in p.perm)
        if kind == "ones":
            w = np.full(canonical_shape, 1.0 if p.kind == "weight" else 0.0)
        else:
            w = rng.integers(-9, 10, size=canonical_shape) / 10
        out.append(framework_tensor(p, w))
    return out


def random_input(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Small integers in −3..3: products and sums a person can check by hand."""
    return np.random.default_rng(seed).integers(-3, 4, size=shape).astype(np.float32)


def canonical_weights(layer: Layer, weights: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
    """Framework tensors -> per stage {"weight": (canonical layout), "bias": ...}."""
    per_stage: list[dict[str, np.ndarray]] = [{} for _ in layer.stages]
    for p, w in zip(layer.params, weights):
        stage = layer.stages[p.stage]
        shape = stage.weight_shape if p.kind == "weight" else (stage.out_channels,)
        per_stage[p.stage][p.kind] = np.ascontiguousarray(np.transpose(w, p.perm).reshape(shape), dtype=np.float32)
    return per_stage


def run_stage(stage, y: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    """One canonical stage on a channels-first array, with its canonical weights (``w``: may be empty)."""
    if isinstance(stage, ConvOp):
        return conv_forward(y, w["weight"], w.get("bias"), stage)
    if isinstance(stage, PoolOp):
        return pool_forward(y, stage)
    return apply_activation(stage.activation, y)


def run_layer(layer: Layer, x: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """The layer's output for input ``x`` (framework layout), float32, in the framework layout."""
    y = np.asarray(x, dtype=np.float32)
    if layer.channels_last:
        y = np.moveaxis(y, -1, 1)
    for stage, w in zip(layer.stages, canonical_weights(layer, weights)):
        y = run_stage(stage, y, w)
    if layer.channels_last:
        y = np.moveaxis(y, 1, -1)
    return np.ascontiguousarray(y)
