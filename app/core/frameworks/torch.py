"""PyTorch layer specs (torch.nn class names, keywords and defaults) -> canonical ``Layer``.

Defaults and refusals follow torch 2.x: torch/nn/modules/conv.py, pooling.py, activation.py.
Layout: channels-first, (N, C, *spatial); weights ``[layer.weight, layer.bias]``.
"""
from __future__ import annotations

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
from ...core.ops import ConvOp, Layer, Param, PoolOp
from ...core.shapes import stage_output_shape

LAYOUT = "(N, C, *spatial)"
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
CONV_DEFAULTS = {"in_channels": None, "out_channels": None, "kernel_size": None, "stride": 1, "padding": 0,
                 "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros"}
TRANSPOSED_DEFAULTS = {"in_channels": None, "out_channels": None, "kernel_size": None, "stride": 1, "padding": 0,
                       "output_padding": 0, "groups": 1, "bias": True, "dilation": 1, "padding_mode": "zeros"}
MAXPOOL_DEFAULTS = {"kernel_size": None, "stride": None, "padding": 0, "dilation": 1, "return_indices": False,
                    "ceil_mode": False}
AVGPOOL_DEFAULTS = {"kernel_size": None, "stride": None, "padding": 0, "ceil_mode": False,
                    "count_include_pad": True, "divisor_override": None}

# torch.nn activation modules: canonical name, keyword defaults (as torch documents them)
ACTIVATION_LAYERS: dict[str, tuple[str, dict[str, Any]]] = {
    "ReLU": ("relu", {"inplace": False}),
    "ReLU6": ("relu6", {"inplace": False}),
    "LeakyReLU": ("leaky_relu", {"negative_slope": 0.01, "inplace": False}),
    "ELU": ("elu", {"alpha": 1.0, "inplace": False}),
    "CELU": ("celu", {"alpha": 1.0, "inplace": False}),
    "SELU": ("selu", {"inplace": False}),
    "GELU": ("gelu", {"approximate": "none"}),
    "SiLU": ("silu", {"inplace": False}),
    "Mish": ("mish", {"inplace": False}),
    "Sigmoid": ("sigmoid", {}),
    "Tanh": ("tanh", {}),
    "Softplus": ("softplus", {"beta": 1.0, "threshold": 20.0}),
    "Softsign": ("softsign", {}),
    "Hardtanh": ("hardtanh", {"min_val": -1.0, "max_val": 1.0, "inplace": False}),
    "Hardsigmoid": ("hard_sigmoid", {"inplace": False}),
    "Hardswish": ("hard_silu", {"inplace": False}),
    "Tanhshrink": ("tanh_shrink", {}),
    "Softshrink": ("soft_shrink", {"lambd": 0.5}),
    "Hardshrink": ("hard_shrink", {"lambd": 0.5}),
    "LogSigmoid": ("log_sigmoid", {}),
    "Identity": ("linear", {}),
}


def _dims(layer_type: str) -> int:
    return int(layer_type[-2])


def _channels(name: str, kw: dict, groups: int) -> tuple[int, int]:
    cin = int_value(name, "in_channels", kw["in_channels"], minimum=1)
    cout = int_value(name, "out_channels", kw["out_channels"], minimum=1)
    for key, count in (("in_channels", cin), ("out_channels", cout)):
        if count % groups:
            fits = [g for g in range(1, cin + 1) if cin % g == 0 and cout % g == 0]
            raise SpecError(f"{name}: {key} must be divisible by groups, got {key}={count}, groups={groups}; "
                            f"try groups in {fits}", "groups")
    return cin, cout


def _check_channels(name: str, input_shape, cin: int) -> None:
    if input_shape[1] != cin:
        raise SpecError(f"{name}: expected input {list(input_shape)} to have {cin} channels (in_channels, axis 1), "
                        f"but got {input_shape[1]} channels; set in_channels={input_shape[1]}", "in_channels")


def _conv_keywords(name: str, spec: dict, defaults: dict):
    """What Conv and ConvTranspose share: dims, keywords, groups, channels, kernel, stride, dilation."""
    dims = _dims(name)
    kw = read_keywords(spec, name, defaults, ("in_channels", "out_channels", "kernel_size"))
    groups = int_value(name, "groups", kw["groups"], minimum=1)
    cin, cout = _channels(name, kw, groups)
    kernel = int_tuple(name, "kernel_size", kw["kernel_size"], dims)
    stride = int_tuple(name, "stride", kw["stride"], dims)
    dilation = int_tuple(name, "dilation", kw["dilation"], dims)
    return dims, kw, groups, cin, cout, kernel, stride, dilation


def _conv_layer(name: str, input_shape: tuple[int, ...], op: ConvOp) -> Layer:
    """The layer with PyTorch's parameters: ``weight`` (canonical layout already), then ``bias``."""
    params = [Param("weight", 0, "weight", op.weight_shape, tuple(range(op.dims + 2)))]
    if op.bias:
        params.append(Param("bias", 0, "bias", (op.out_channels,), (0,)))
    return Layer(name, "torch", input_shape, False, (op,), tuple(params))


def _conv(name: str, spec: dict, input_shape: tuple[int, ...]) -> Layer:
    dims, kw, groups, cin, cout, kernel, stride, dilation = _conv_keywords(name, spec, CONV_DEFAULTS)
    mode = choice(name, "padding_mode", kw["padding_mode"], PADDING_MODES)
    bias = bool_value(name, "bias", kw["bias"])
    padding = kw["padding"]
    if isinstance(padding, str):
        choice(name, "padding", padding, ("same", "valid"))
        if padding == "same" and any(s != 1 for s in stride):
            raise SpecError(f"{name}: padding='same' is not supported for strided convolutions "
                            f"(stride={kw['stride']!r}); PyTorch needs stride 1 for 'same': use a number, e.g. "
                            f"padding={kernel[0] // 2}", "padding")
        totals = [d * (k - 1) if padding == "same" else 0 for k, d in zip(kernel, dilation)]
        pads = tuple((t // 2, t - t // 2) for t in totals)  # odd extra goes after, as torch's _conv_forward
    else:
        pads = tuple((p, p) for p in int_tuple(name, "padding", padding, dims, minimum=0))
    check_rank(name, input_shape, dims, LAYOUT)
    _check_channels(name, input_shape, cin)
    spatial = input_shape[2:]
    if mode in ("reflect", "circular"):
        for n, (pb, pa) in zip(spatial, pads):
            limit = n - 1 if mode == "reflect" else n
            if max(pb, pa) > limit:
                raise SpecError(f"{name}: padding_mode='{mode}' needs padding ≤ {limit} for an input of size {n}, "
                                f"got padding {max(pb, pa)}", "padding")
    op = ConvOp(cin, cout, kernel, stride, dilation, pads, mode, groups, bias)
    check_output(name, op, spatial, stage_output_shape(op, input_shape)[2:])
    return _conv_layer(name, input_shape, op)


def _conv_transpose(name: str, spec: dict, input_shape: tuple[int, ...]) -> Layer:
    dims, kw, groups, cin, cout, kernel, stride, dilation = _conv_keywords(name, spec, TRANSPOSED_DEFAULTS)
    if kw["padding_mode"] != "zeros":
        raise SpecError(f'{name}: only "zeros" padding_mode is supported for ConvTranspose, got {kw["padding_mode"]!r}',
                        "padding_mode")
    if isinstance(kw["padding"], str):
        raise SpecError(f"{name}: padding must be an integer or a list of {dims} integers (ConvTranspose takes "
                        f"no 'same'/'valid'), got {kw['padding']!r}", "padding")
    padding = int_tuple(name, "padding", kw["padding"], dims, minimum=0)
    out_pad = int_tuple(name, "output_padding", kw["output_padding"], dims, minimum=0)
    for op_, s, d in zip(out_pad, stride, dilation):
        if op_ >= s and op_ >= d:
            raise SpecError(f"{name}: output_padding must be smaller than either stride or dilation, got "
                            f"output_padding={kw['output_padding']!r}, stride={kw['stride']!r}, "
                            f"dilation={kw['dilation']!r}", "output_padding")
    bias = bool_value(name, "bias", kw["bias"])
    check_rank(name, input_shape, dims, LAYOUT)
    _check_channels(name, input_shape, cin)
    op = ConvOp(cin, cout, kernel, stride, dilation, tuple((p, p) for p in padding), "zeros", groups, bias,
                transposed=True, output_padding=out_pad)
    if any(o < 1 for o in stage_output_shape(op, input_shape)[2:]):
        raise SpecError(f"{name}: padding {kw['padding']!r} crops away the whole output "
                        f"(output size {list(stage_output_shape(op, input_shape)[2:])}); use less padding", "padding")
    return _conv_layer(name, input_shape, op)


def _pool(name: str, spec: dict, input_shape: tuple[int, ...]) -> Layer:
    dims = _dims(name)
    is_max = name.startswith("Max")
    defaults = dict(MAXPOOL_DEFAULTS if is_max else AVGPOOL_DEFAULTS)
    if name == "AvgPool1d":
        del defaults["divisor_override"]
    kw = read_keywords(spec, name, defaults, ("kernel_size",))
    kernel = int_tuple(name, "kernel_size", kw["kernel_size"], dims)
    # stride=None means stride = kernel_size (torch.nn.MaxPool1d docs: "Default value is kernel_size")
    stride = kernel if kw["stride"] is None else int_tuple(name, "stride", kw["stride"], dims)
    padding = int_tuple(name, "padding", kw["padding"], dims, minimum=0)
    dilation = int_tuple(name, "dilation", kw.get("dilation", 1), dims)
    ceil_mode = bool_value(name, "ceil_mode", kw["ceil_mode"])
    include = bool_value(name, "count_include_pad", kw.get("count_include_pad", True))
    if is_max and bool_value(name, "return_indices", kw["return_indices"]):
        raise SpecError(f"{name}: return_indices=True returns indices as a second tensor; Convscope shows the "
                        "values only: use return_indices=false", "return_indices")
    divisor = kw.get("divisor_override")
    if divisor is not None:
        divisor = int_value(name, "divisor_override", divisor, minimum=1)
    for k, p in zip(kernel, padding):
        if p > k // 2:  # aten/src/ATen/native/Pool.h
            raise SpecError(f"{name}: pad should be at most half of kernel size, got padding={kw['padding']!r} "
                            f"with kernel_size={kw['kernel_size']!r}; use padding ≤ {k // 2}", "padding")
    check_rank(name, input_shape, dims, LAYOUT)
    op = PoolOp("max" if is_max else "avg", kernel, stride, dilation, tuple((p, p) for p in padding),
                ceil_mode, include, divisor)
    check_output(name, op, input_shape[2:], stage_output_shape(op, input_shape)[2:])
    return Layer(name, "torch", input_shape, False, (op,))


def _activation(name: str, spec: dict, input_shape: tuple[int, ...]) -> Layer:
    canonical, defaults = ACTIVATION_LAYERS[name]
    kw = read_keywords(spec, name, defaults)
    if "inplace" in kw:
        bool_value(name, "inplace", kw["inplace"])  # no effect on the numbers
    params = {}
    if name == "GELU":
        if choice(name, "approximate", kw["approximate"], ("none", "tanh")) == "tanh":
            canonical = "gelu_tanh"
    elif name in ("Softshrink", "Hardshrink"):
        params["threshold"] = number(name, "lambd", kw["lambd"])
    else:
        params = {k: number(name, k, v) for k, v in kw.items() if k not in ("inplace",)}
    if name == "CELU" and params["alpha"] == 0:
        raise SpecError(f"{name}: alpha cannot be 0 (CELU divides by it)", "alpha")
    if name == "Hardtanh" and params["max_val"] <= params["min_val"]:
        raise SpecError(f"{name}: max_val ({params['max_val']}) must be greater than min_val ({params['min_val']})",
                        "max_val")
    if len(input_shape) < 1:
        raise SpecError(f"{name}: input must have at least one axis", "input")
    return Layer(name, "torch", input_shape, False, (activation_stage(canonical, **params),))


def build(spec: dict[str, Any], input_shape: tuple[int, ...]) -> Layer:
    """Translate one torch.nn layer spec, for an input of ``input_shape`` (N, C, *spatial)."""
    name = spec.get("type")
    if name in ("Conv1d", "Conv2d", "Conv3d"):
        return _conv(name, spec, input_shape)
    if name in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"):
        return _conv_transpose(name, spec, input_shape)
    if name in ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d"):
        return _pool(name, spec, input_shape)
    if name in ACTIVATION_LAYERS:
        return _activation(name, spec, input_shape)
    raise SpecError(f"unknown PyTorch layer type {name!r}; supported: {', '.join(LAYER_TYPES)}", "type")


LAYER_TYPES = (*[f"{k}{d}d" for k in ("Conv", "ConvTranspose", "MaxPool", "AvgPool") for d in (1, 2, 3)],
               *ACTIVATION_LAYERS)
