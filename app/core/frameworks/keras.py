"""Keras 3 layer specs (keras.layers class names, keywords and defaults) -> canonical ``Layer``.

Defaults and refusals follow keras/src/layers/convolutional and pooling (Keras 3.x). Layout:
channels-last (N, *spatial, C) unless ``data_format="channels_first"``; weights in
``layer.get_weights()`` order. 'same' is TensorFlow's: odd extra padding goes after.
"""
from __future__ import annotations

import re
from typing import Any

from ...core.frameworks.common import (
    SpecError,
    activation_stage,
    bool_value,
    check_output,
    check_rank,
    choice,
    int_tuple,
    int_value,
    number,
    read_keywords,
)
from ...core.frameworks.signatures import NO_EFFECT
from ...core.ops import ActOp, ConvOp, Layer, Param, PoolOp
from ...core.shapes import effective_kernel, same_padding, stage_output_shape

# keywords that change how a layer is trained or named, never the forward numbers: the one list, from the
# frameworks' signatures (signatures.py)
_NO_EFFECT = NO_EFFECT
_SEPARABLE_NO_EFFECT: tuple[str, ...] = ()  # in NO_EFFECT already

# keras.activations names that act elementwise -> canonical name and fixed params
ACTIVATION_NAMES: dict[str, tuple[str, dict[str, float]]] = {
    **{n: (n, {}) for n in ("linear", "relu", "relu6", "elu", "celu", "selu", "gelu", "silu", "mish", "sigmoid",
                            "tanh", "softplus", "softsign", "hard_sigmoid", "hard_silu", "exponential",
                            "log_sigmoid", "tanh_shrink", "soft_shrink", "hard_shrink", "squareplus",
                            "sparse_plus")},
    "swish": ("silu", {}),
    "hard_swish": ("hard_silu", {}),
    "hard_tanh": ("hardtanh", {}),
    "leaky_relu": ("leaky_relu", {"negative_slope": 0.2}),  # keras.activations.leaky_relu default
}


def _no_effect(*extra: str) -> dict[str, Any]:
    return {k: None for k in (*_NO_EFFECT, *extra)}


def _dims(name: str) -> int:
    """Conv2D -> 2, DepthwiseConv1D -> 1, MaxPooling3D -> 3."""
    return int(re.search(r"\d", name).group())


def _activation(name: str, value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, str) or value not in ACTIVATION_NAMES:
        raise SpecError(f"{name}: activation must be one of {', '.join(ACTIVATION_NAMES)} (or null), "
                        f"got {value!r}", "activation")
    canonical, params = ACTIVATION_NAMES[value]
    return [] if canonical == "linear" else [activation_stage(canonical, **params)]


def _layout(name: str, kw: dict, input_shape: tuple[int, ...], dims: int) -> tuple[bool, tuple[int, ...]]:
    """(channels_last, the input shape channels-first) after checking the rank."""
    fmt = kw["data_format"] or "channels_last"
    choice(name, "data_format", fmt, ("channels_last", "channels_first"))
    last = fmt == "channels_last"
    check_rank(name, input_shape, dims, "(N, *spatial, C)" if last else "(N, C, *spatial)")
    if last:
        return True, (input_shape[0], input_shape[-1], *input_shape[1:-1])
    return False, tuple(input_shape)


def _padding(name: str, kw: dict, dims: int, *, causal: bool = False) -> str:
    value = kw["padding"]
    options = ("valid", "same", "causal") if causal else ("valid", "same")
    if not isinstance(value, str) or value.lower() not in options:
        hint = "" if causal else " ('causal' is only for Conv1D)"
        raise SpecError(f"{name}: padding must be one of {', '.join(map(repr, options))}{hint}; got {value!r}",
                        "padding")
    return value.lower()


def _pads(mode: str, spatial, kernel, stride, dilation) -> tuple[tuple[int, int], ...]:
    if mode == "same":
        return tuple(same_padding(n, k, stride=s, dilation=d) for n, k, s, d in zip(spatial, kernel, stride, dilation))
    if mode == "causal":  # output[t] sees input[:t + 1] only (keras Conv1D._compute_causal_padding)
        return tuple((d * (k - 1), 0) for k, d in zip(kernel, dilation))
    return ((0, 0),) * len(kernel)


def _window(name: str, kw: dict, dims: int, *, stride_key: str = "strides", kernel_key: str = "kernel_size",
            strided_dilation: bool = False):
    """kernel, strides (default: the kernel, as pooling's), dilation. Conv and ConvTranspose refuse
    strides > 1 with dilation_rate > 1 (keras base_conv.py); Depthwise and Separable accept both."""
    kernel = int_tuple(name, kernel_key, kw[kernel_key], dims)
    strides = kernel if kw[stride_key] is None else int_tuple(name, stride_key, kw[stride_key], dims)
    dilation = int_tuple(name, "dilation_rate", kw.get("dilation_rate", 1), dims)
    if not strided_dilation and any(s > 1 for s in strides) and any(d > 1 for d in dilation):
        raise SpecError(f"{name}: strides > 1 is not supported together with dilation_rate > 1 (got "
                        f"strides={kw[stride_key]!r}, dilation_rate={kw['dilation_rate']!r}); set one of them to 1",
                        "dilation_rate")
    return kernel, strides, dilation


def _kernel_perm(dims: int) -> tuple[int, ...]:
    """(*k, a, b) -> (b, a, *k): Keras' kernel axes to PyTorch's."""
    return (dims + 1, dims, *range(dims))


def _finish(name, input_shape, last, cf_shape, stages, params) -> Layer:
    shape = cf_shape
    for stage in stages:
        before, shape = shape, stage_output_shape(stage, shape)
        if not isinstance(stage, ActOp):
            check_output(name, stage, before[2:], shape[2:],
                         "pool_size" if isinstance(stage, PoolOp) else "kernel_size",
                         "dilation_rate")
    return Layer(name, "keras", tuple(input_shape), last, tuple(stages), tuple(params))


def _conv(name: str, spec: dict, input_shape) -> Layer:
    dims = _dims(name)
    kw = read_keywords(spec, name, {"filters": None, "kernel_size": None, "strides": 1, "padding": "valid",
                                    "data_format": None, "dilation_rate": 1, "groups": 1, "activation": None,
                                    "use_bias": True, **_no_effect()}, ("filters", "kernel_size"))
    filters = int_value(name, "filters", kw["filters"], minimum=1)
    groups = int_value(name, "groups", kw["groups"], minimum=1)
    if filters % groups:
        raise SpecError(f"{name}: the number of filters must be evenly divisible by the number of groups, got "
                        f"groups={groups}, filters={filters}", "groups")
    kernel, strides, dilation = _window(name, kw, dims)
    mode = _padding(name, kw, dims, causal=dims == 1)
    bias = bool_value(name, "use_bias", kw["use_bias"])
    act = _activation(name, kw["activation"])
    last, cf = _layout(name, kw, input_shape, dims)
    cin = cf[1]
    if cin % groups:
        fits = [g for g in range(1, cin + 1) if cin % g == 0 and filters % g == 0]
        raise SpecError(f"{name}: the number of input channels must be evenly divisible by the number of groups, "
                        f"got groups={groups} but the input has {cin} channels (input shape {list(input_shape)}); "
                        f"try groups in {fits}", "groups")
    op = ConvOp(cin, filters, kernel, strides, dilation, _pads(mode, cf[2:], kernel, strides, dilation),
                groups=groups, bias=bias)
    params = [Param("kernel", 0, "weight", (*kernel, cin // groups, filters), _kernel_perm(dims))]
    if bias:
        params.append(Param("bias", 0, "bias", (filters,), (0,)))
    return _finish(name, input_shape, last, cf, [op, *act], params)


def _transposed_pads(mode, n, k, s, d, out_pad):
    """Canonical (crop before, crop after, output_padding) for Keras' transposed conv on one axis.

    Keras' output length (keras/src/ops/operation_utils.py, compute_conv_transpose_output_shape);
    the crop before is TensorFlow's: the 'same' padding of the forward conv it is the gradient of.
    """
    eff = effective_kernel(k, d)
    if out_pad is None:
        length = n * s + max(eff - s, 0) if mode == "valid" else n * s
    else:
        length = (n - 1) * s + eff - 2 * (eff // 2 if mode == "same" else 0) + out_pad
    full = (n - 1) * s + eff
    before = max(full - length, 0) // 2 if mode == "same" else 0
    after = full - before - length
    return (before, max(after, 0)), max(-after, 0)


def _conv_transpose(name: str, spec: dict, input_shape) -> Layer:
    dims = _dims(name)
    kw = read_keywords(spec, name, {"filters": None, "kernel_size": None, "strides": 1, "padding": "valid",
                                    "output_padding": None, "data_format": None, "dilation_rate": 1,
                                    "activation": None, "use_bias": True, **_no_effect()}, ("filters", "kernel_size"))
    filters = int_value(name, "filters", kw["filters"], minimum=1)
    kernel, strides, dilation = _window(name, kw, dims)
    mode = _padding(name, kw, dims)
    out_pad = kw["output_padding"]
    if out_pad is not None:
        out_pad = int_tuple(name, "output_padding", out_pad, dims, minimum=0)
        for i, (p, s) in enumerate(zip(out_pad, strides)):
            if p >= s:
                raise SpecError(f"{name}: output_padding must be strictly less than strides on every axis; on axis "
                                f"{i} output_padding is {p} but strides is {s}", "output_padding")
    bias = bool_value(name, "use_bias", kw["use_bias"])
    act = _activation(name, kw["activation"])
    last, cf = _layout(name, kw, input_shape, dims)
    cin = cf[1]
    axes = [_transposed_pads(mode, cf[2 + i], kernel[i], strides[i], dilation[i],
                             None if out_pad is None else out_pad[i]) for i in range(dims)]
    op = ConvOp(cin, filters, kernel, strides, dilation, tuple(a[0] for a in axes), bias=bias, transposed=True,
                output_padding=tuple(a[1] for a in axes))
    params = [Param("kernel", 0, "weight", (*kernel, filters, cin), _kernel_perm(dims))]
    if bias:
        params.append(Param("bias", 0, "bias", (filters,), (0,)))
    return _finish(name, input_shape, last, cf, [op, *act], params)


def _depthwise(name: str, spec: dict, input_shape) -> Layer:
    """DepthwiseConv: one filter per input channel (times depth_multiplier); Separable adds a 1×1 conv."""
    dims = _dims(name)
    separable = name.startswith("Separable")
    defaults = {"kernel_size": None, "strides": 1, "padding": "valid", "depth_multiplier": 1, "data_format": None,
                "dilation_rate": 1, "activation": None, "use_bias": True}
    if separable:
        defaults = {"filters": None, **defaults, **_no_effect(*_SEPARABLE_NO_EFFECT)}
    else:
        defaults.update(_no_effect("depthwise_initializer", "depthwise_regularizer", "depthwise_constraint"))
    kw = read_keywords(spec, name, defaults, ("filters", "kernel_size") if separable else ("kernel_size",))
    mult = int_value(name, "depth_multiplier", kw["depth_multiplier"], minimum=1)
    kernel, strides, dilation = _window(name, kw, dims, strided_dilation=True)
    mode = _padding(name, kw, dims)
    bias = bool_value(name, "use_bias", kw["use_bias"])
    act = _activation(name, kw["activation"])
    last, cf = _layout(name, kw, input_shape, dims)
    cin = cf[1]
    pads = _pads(mode, cf[2:], kernel, strides, dilation)
    depthwise = ConvOp(cin, cin * mult, kernel, strides, dilation, pads, groups=cin, bias=bias and not separable)
    # (*k, C, m) -> (C, m, *k), reshaped to (C·m, 1, *k): output channel c·m + j, as Keras orders them
    params = [Param("depthwise_kernel", 0, "weight", (*kernel, cin, mult), (dims, dims + 1, *range(dims)))]
    stages = [depthwise]
    if separable:
        filters = int_value(name, "filters", kw["filters"], minimum=1)
        one = (1,) * dims
        stages.append(ConvOp(cin * mult, filters, one, one, one, ((0, 0),) * dims, bias=bias))
        params.append(Param("pointwise_kernel", 1, "weight", (*one, cin * mult, filters), _kernel_perm(dims)))
    if bias:
        params.append(Param("bias", len(stages) - 1, "bias", (stages[-1].out_channels,), (0,)))
    return _finish(name, input_shape, last, cf, [*stages, *act], params)


def _pool(name: str, spec: dict, input_shape) -> Layer:
    dims = _dims(name)
    is_max = name.startswith("Max")
    # Keras 3: MaxPooling has pool_size defaults (2 per axis); AveragePooling requires it
    has_default = is_max
    kw = read_keywords(spec, name, {"pool_size": 2 if has_default else None, "strides": None, "padding": "valid",
                                    "data_format": None, "name": None, "trainable": None, "dtype": None},
                       () if has_default else ("pool_size",))
    kernel, strides, dilation = _window(name, kw, dims, kernel_key="pool_size")
    mode = _padding(name, kw, dims)
    last, cf = _layout(name, kw, input_shape, dims)
    # 'same' average pooling divides by the real cells only (TensorFlow's avg_pool)
    op = PoolOp("max" if is_max else "avg", kernel, strides, dilation,
                _pads(mode, cf[2:], kernel, strides, dilation), count_include_pad=False)
    return _finish(name, input_shape, last, cf, [op], [])


def _non_negative(name: str, key: str, value: Any) -> float:
    """Keras' ReLU and LeakyReLU layers refuse negative settings."""
    v = number(name, key, value)
    if v < 0:
        raise SpecError(f"{name}: {key} cannot be negative, got {value!r}", key)
    return v


def _activation_layer(name: str, spec: dict, input_shape) -> Layer:
    base = {"name": None, "trainable": None, "dtype": None}
    if name == "Activation":
        kw = read_keywords(spec, name, {"activation": None, **base}, ("activation",))
        stages = _activation(name, kw["activation"])
    elif name == "ReLU":
        kw = read_keywords(spec, name, {"max_value": None, "negative_slope": 0.0, "threshold": 0.0, **base})
        params = {k: _non_negative(name, k, kw[k]) for k in ("negative_slope", "threshold")}
        if kw["max_value"] is not None:
            params["max_value"] = _non_negative(name, "max_value", kw["max_value"])
        stages = [activation_stage("relu", **params)]
    elif name == "LeakyReLU":  # Keras 3 still takes the Keras 2 name `alpha` (with a warning)
        kw = read_keywords(spec, name, {"negative_slope": 0.3, "alpha": None, **base})
        slope = kw["negative_slope"] if kw["alpha"] is None else kw["alpha"]
        stages = [activation_stage("leaky_relu", negative_slope=_non_negative(name, "negative_slope", slope))]
    else:  # ELU
        kw = read_keywords(spec, name, {"alpha": 1.0, **base})
        stages = [activation_stage("elu", alpha=number(name, "alpha", kw["alpha"]))]
    return Layer(name, "keras", tuple(input_shape), False, tuple(stages))


CONV = tuple(f"Conv{d}D" for d in (1, 2, 3))
TRANSPOSED = tuple(f"Conv{d}DTranspose" for d in (1, 2, 3))
DEPTHWISE = ("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")
POOLS = tuple(f"{k}Pooling{d}D" for k in ("Max", "Average") for d in (1, 2, 3))
ACTIVATION_LAYERS = ("Activation", "ReLU", "LeakyReLU", "ELU")
LAYER_TYPES = (*CONV, *TRANSPOSED, *DEPTHWISE, *POOLS, *ACTIVATION_LAYERS)


def build(spec: dict[str, Any], input_shape: tuple[int, ...]) -> Layer:
    """Translate one keras.layers spec, for an input of ``input_shape`` (batch included)."""
    name = spec.get("type")
    if name in CONV:
        return _conv(name, spec, input_shape)
    if name in TRANSPOSED:
        return _conv_transpose(name, spec, input_shape)
    if name in DEPTHWISE:
        return _depthwise(name, spec, input_shape)
    if name in POOLS:
        return _pool(name, spec, input_shape)
    if name in ACTIVATION_LAYERS:
        return _activation_layer(name, spec, input_shape)
    raise SpecError(f"unknown Keras layer type {name!r}; supported: {', '.join(LAYER_TYPES)}", "type")
