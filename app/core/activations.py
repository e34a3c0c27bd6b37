"""Elementwise activations, with the frameworks' definitions (float32 in, float32 out).

Each function takes the array and the activation's numeric params; ``ACTIVATIONS`` maps the
canonical name to (function, default params). Framework adapters translate their own names.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.ops import Activation

_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf is exact to double precision
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(x, beta=1.0, threshold=20.0):
    bx = beta * x
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)).astype(np.float64))


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def _relu(x, max_value=math.inf, negative_slope=0.0, threshold=0.0):
    """Keras' ReLU layer (keras/src/layers/activations/relu.py): x above the threshold, capped at
    max_value, minus negative_slope·(threshold − x) below it. Defaults: the plain max(x, 0)."""
    y = np.minimum(np.where(x > threshold, x, 0), max_value)
    return y - negative_slope * np.maximum(threshold - x, 0)


ACTIVATIONS = {
    "linear": (lambda x: x, {}),
    "relu": (_relu, {"max_value": math.inf, "negative_slope": 0.0, "threshold": 0.0}),
    "relu6": (lambda x: np.clip(x, 0, 6), {}),
    "leaky_relu": (lambda x, negative_slope: np.where(x >= 0, x, negative_slope * x), {"negative_slope": 0.01}),
    "elu": (_elu, {"alpha": 1.0}),
    "celu": (lambda x, alpha: np.maximum(x, 0) + np.minimum(0, alpha * np.expm1(np.minimum(x, 0) / alpha)),
             {"alpha": 1.0}),
    "selu": (lambda x: SELU_SCALE * _elu(x, SELU_ALPHA), {}),
    "gelu": (_gelu, {}),
    "gelu_tanh": (_gelu_tanh, {}),
    "silu": (lambda x: x * _sigmoid(x), {}),
    "mish": (lambda x: x * np.tanh(_softplus(x)), {}),
    "sigmoid": (_sigmoid, {}),
    "tanh": (np.tanh, {}),
    "softplus": (_softplus, {"beta": 1.0, "threshold": 20.0}),
    "softsign": (lambda x: x / (1 + np.abs(x)), {}),
    "hardtanh": (lambda x, min_val, max_val: np.clip(x, min_val, max_val), {"min_val": -1.0, "max_val": 1.0}),
    "hard_sigmoid": (lambda x: np.clip(x / 6 + 0.5, 0, 1), {}),
    "hard_silu": (lambda x: x * np.clip(x / 6 + 0.5, 0, 1), {}),
    "exponential": (np.exp, {}),
}


def apply_activation(act: Activation, x: np.ndarray) -> np.ndarray:
    """Apply in float64 and round once to float32, so results match the frameworks to float32 ulp.

    An activation's params are its settings (a leaky relu's slope); too large a result is inf, as in float32:

    >>> x = np.array([-4, 0, 2, 8], np.float32)
    >>> apply_activation(Activation("relu6"), x).tolist()
    [0.0, 0.0, 2.0, 6.0]
    >>> apply_activation(Activation("leaky_relu", (("negative_slope", 0.25),)), x).tolist()  # −4·0.25 = −1
    [-1.0, 0.0, 2.0, 8.0]
    >>> y = apply_activation(Activation("exponential"), np.array([0, 100], np.float32))  # e¹⁰⁰ > float32's max
    >>> y.dtype, y.tolist()
    (dtype('float32'), [1.0, inf])
    """
    fn, _defaults = ACTIVATIONS[act.name]
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is inf, as in float32 frameworks
        y = fn(x.astype(np.float64), **dict(act.params))
        return np.asarray(y, dtype=np.float64).astype(np.float32)

ACTIVATIONS.update({
    "log_sigmoid": (lambda x: -np.logaddexp(0, -x), {}),
    "tanh_shrink": (lambda x: x - np.tanh(x), {}),
    "soft_shrink": (lambda x, threshold: np.where(x > threshold, x - threshold,
                                                  np.where(x < -threshold, x + threshold, 0)), {"threshold": 0.5}),
    "hard_shrink": (lambda x, threshold: np.where(np.abs(x) > threshold, x, 0), {"threshold": 0.5}),
    "squareplus": (lambda x, b: (x + np.sqrt(x * x + b)) / 2, {"b": 4.0}),
    "sparse_plus": (lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)), {}),
})
