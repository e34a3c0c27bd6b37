"""The PyTorch and Keras code that builds a conv layer and its input, with the shapes it prints.

Written from the canonical op, so either framework's code exists even when the layer came from
the other one; where a framework has no keyword for a setting (Keras has no numeric padding,
PyTorch no 'causal'), the padding becomes an explicit zero-padding layer in front.
"""
from __future__ import annotations

from .core.ops import ConvOp
from .core.shapes import same_padding

TORCH_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "gelu": "GELU", "silu": "SiLU",
                     "elu": "ELU", "softplus": "Softplus"}


def literal(v) -> str:
    """A keyword's value as Python writes it in a call: 3 for [3, 3], (3, 2) for [3, 2], 'same', True.

    >>> literal([3, 3]), literal([3, 2]), literal("same"), literal(True), literal(None)
    ('3', '(3, 2)', "'same'", 'True', 'None')
    """
    if isinstance(v, list | tuple):
        return str(v[0]) if len(set(v)) == 1 else str(tuple(v))
    return repr(v)


def call(spec: dict, module: str = "", positional: int = 0) -> str:
    """A layer's constructor call from its spec (``{"type": …, keyword: value}``, the framework's words); the
    first ``positional`` values are written without their keywords.

    >>> call({"type": "MaxPool2d", "kernel_size": [2, 3], "stride": 2, "ceil_mode": False}, "nn.")
    'nn.MaxPool2d(kernel_size=(2, 3), stride=2, ceil_mode=False)'
    >>> call({"type": "Linear", "in_features": 4, "out_features": 3, "bias": True}, "nn.", positional=2)
    'nn.Linear(4, 3, bias=True)'
    >>> call({"type": "ReLU"}, "nn.")
    'nn.ReLU()'
    """
    words = [(k, v) for k, v in spec.items() if k != "type"]
    said = [literal(v) for _, v in words[:positional]] + [f"{k}={literal(v)}" for k, v in words[positional:]]
    return f"{module}{spec['type']}(" + ", ".join(said) + ")"


def torch_code(op: ConvOp, input_shape_cf: tuple[int, ...], out_shape_cf: tuple[int, ...],
               activation: str = "linear") -> str:
    d = op.dims
    pads = op.padding
    symmetric = all(b == a for b, a in pads)
    layers = []
    if symmetric:
        padding = [b for b, _ in pads]
    else:  # nn.ZeroPad{d}d takes (last axis before, after, ..., first axis before, after)
        flat = tuple(p for b, a in reversed(pads) for p in (b, a))
        layers.append(f"nn.ZeroPad{d}d({flat})")
        padding = 0
    mode = {"padding_mode": op.padding_mode} if op.padding_mode != "zeros" else {}
    layers.append(call({"type": f"Conv{d}d", "in_channels": op.in_channels, "out_channels": op.out_channels,
                        "kernel_size": op.kernel, "stride": op.stride, "padding": padding, "dilation": op.dilation,
                        "groups": op.groups, "bias": op.bias, **mode}, "nn."))
    if activation in TORCH_ACTIVATIONS:
        layers.append(call({"type": TORCH_ACTIVATIONS[activation]}, "nn."))
    conv = "model" if len(layers) == 1 else f"model[{0 if symmetric else 1}]"
    build = (f"model = {layers[0]}" if len(layers) == 1 else
             "model = nn.Sequential(\n" + "".join(f"    {layer},\n" for layer in layers) + ")")
    lines = ["import torch", "from torch import nn", "", build,
             f"x = torch.randn{tuple(input_shape_cf)}", "y = model(x)",
             f"print({conv}.weight.shape)  # torch.Size({list(op.weight_shape)})"]
    if op.bias:
        lines.append(f"print({conv}.bias.shape)    # torch.Size([{op.out_channels}])")
    lines.append(f"print(y.shape)            # torch.Size({list(out_shape_cf)})")
    return "\n".join(lines)


def _keras_padding(op: ConvOp, spatial) -> tuple[str, str | None]:
    """Keras' padding word, or 'valid' plus a ZeroPadding layer for pads it cannot say."""
    pads = tuple(op.padding)
    if not any(b or a for b, a in pads):
        return "valid", None
    if pads == tuple(same_padding(n, k, stride=s, dilation=dl)
                     for n, k, s, dl in zip(spatial, op.kernel, op.stride, op.dilation)):
        return "same", None
    if op.dims == 1 and pads == ((op.dilation[0] * (op.kernel[0] - 1), 0),):
        return "causal", None
    spec = pads[0] if op.dims == 1 else tuple(pads)
    return "valid", f"keras.layers.ZeroPadding{op.dims}D({spec})"


def keras_code(op: ConvOp, input_shape_cf: tuple[int, ...], out_shape_cf: tuple[int, ...],
               activation: str = "linear") -> str:
    d = op.dims
    n, c, *spatial = input_shape_cf
    padding, zero_pad = _keras_padding(op, spatial)
    act = {"activation": activation} if activation != "linear" else {}
    conv_line = call({"type": f"Conv{d}D", "filters": op.out_channels, "kernel_size": op.kernel, "strides": op.stride,
                      "padding": padding, "dilation_rate": op.dilation, "groups": op.groups, "use_bias": op.bias,
                      **act}, "keras.layers.")
    if zero_pad:
        build = f"model = keras.Sequential([\n    {zero_pad},\n    {conv_line},\n])"
        conv = "model.layers[1]"
    else:
        build, conv = f"model = {conv_line}", "model"
    kernel_shape = (*op.kernel, op.in_channels // op.groups, op.out_channels)
    lines = ["import keras", "", build, f"x = keras.random.normal({(n, *spatial, c)})", "y = model(x)"]
    if op.bias:
        lines += [f"kernel, bias = {conv}.get_weights()", f"print(kernel.shape)  # {kernel_shape}",
                  f"print(bias.shape)    # ({op.out_channels},)"]
    else:
        lines += [f"(kernel,) = {conv}.get_weights()", f"print(kernel.shape)  # {kernel_shape}"]
    lines.append(f"print(y.shape)       # {(out_shape_cf[0], *out_shape_cf[2:], out_shape_cf[1])}")
    if op.padding_mode != "zeros":
        lines.insert(0, f"# Keras has no padding_mode: this pads with zeros, not '{op.padding_mode}'")
    if max(op.stride) > 1 and max(op.dilation) > 1:
        lines.insert(0, "# Keras refuses strides > 1 together with dilation_rate > 1: this raises a ValueError")
    return "\n".join(lines)


def kernel_index(framework: str, dims: int, f: str = "f", c: str = "c") -> str:
    """Where filter f's slice for input channel c sits in the framework's weight tensor."""
    if framework == "torch":
        return f"weight[{f}, {c}]"
    return f"kernel[{', '.join([':'] * dims)}, {c}, {f}]"
