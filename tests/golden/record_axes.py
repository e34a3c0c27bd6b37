"""Record the output shapes of per-axis layers (a different kernel, stride, padding, dilation or
output_padding on each axis) from real PyTorch and Keras, for the views' per-axis tests.

    pip install torch==2.13.0 keras
    KERAS_BACKEND=torch python tests/golden/record_axes.py

Writes ``per_axis.json`` next to this file: ``{"meta": {...}, "cases": [{"view", "framework",
"layer", "input_shape", "output_shape"}]}``, the layer in the framework's own words (class name and
constructor keywords, tuples as lists). The layers are written by hand below, asymmetric on purpose,
within each view's drawing bounds; CI reads the file and never needs the frameworks.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

T = "torch"
K = "keras"
CASES = [  # (view, framework, layer, input_shape)
    # /explore, PyTorch
    ("explore", T, {"type": "Conv2d", "in_channels": 16, "out_channels": 32, "kernel_size": 3, "padding": [0, 1]}, [1, 16, 8, 8]),
    ("explore", T, {"type": "Conv2d", "in_channels": 2, "out_channels": 2, "kernel_size": 3, "padding": [1, 1]}, [1, 2, 6, 6]),
    ("explore", T, {"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": [1, 3], "padding": [0, 1]}, [1, 3, 5, 9]),
    ("explore", T, {"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": [3, 1], "padding": [1, 0]}, [1, 3, 7, 4]),
    ("explore", T, {"type": "Conv2d", "in_channels": 2, "out_channels": 3, "kernel_size": [5, 3], "stride": [2, 1], "padding": [2, 1]}, [1, 2, 11, 7]),
    ("explore", T, {"type": "Conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": [3, 3], "stride": [1, 2], "padding": [0, 3]}, [2, 1, 9, 9]),
    ("explore", T, {"type": "Conv2d", "in_channels": 2, "out_channels": 2, "kernel_size": [3, 2], "dilation": [2, 1], "padding": [2, 0]}, [1, 2, 8, 6]),
    ("explore", T, {"type": "Conv2d", "in_channels": 4, "out_channels": 4, "kernel_size": [7, 1], "padding": [3, 0], "groups": 2}, [1, 4, 10, 3]),
    ("explore", T, {"type": "Conv2d", "in_channels": 2, "out_channels": 2, "kernel_size": [2, 4], "stride": [3, 1], "padding": [4, 2], "dilation": [1, 3]}, [1, 2, 5, 12]),
    ("explore", T, {"type": "Conv2d", "in_channels": 2, "out_channels": 1, "kernel_size": 3, "padding": [1, 2], "padding_mode": "reflect"}, [1, 2, 6, 7]),
    ("explore", T, {"type": "Conv2d", "in_channels": 2, "out_channels": 1, "kernel_size": [3, 5], "padding": [1, 2], "padding_mode": "circular"}, [1, 2, 6, 8]),
    ("explore", T, {"type": "Conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": [4, 2], "stride": [4, 2], "padding": [1, 0], "bias": False}, [1, 1, 13, 9]),
    ("explore", T, {"type": "Conv3d", "in_channels": 1, "out_channels": 2, "kernel_size": [1, 3, 3], "padding": [0, 1, 1]}, [1, 1, 4, 6, 6]),
    ("explore", T, {"type": "Conv3d", "in_channels": 2, "out_channels": 2, "kernel_size": [3, 1, 2], "stride": [1, 2, 1], "padding": [1, 0, 1]}, [1, 2, 5, 6, 4]),
    ("explore", T, {"type": "Conv3d", "in_channels": 1, "out_channels": 1, "kernel_size": [2, 3, 1], "dilation": [2, 1, 1], "padding": [0, 2, 0]}, [1, 1, 6, 5, 4]),
    ("explore", T, {"type": "Conv3d", "in_channels": 2, "out_channels": 4, "kernel_size": 3, "stride": [2, 1, 3], "padding": [1, 1, 0]}, [1, 2, 7, 5, 8]),
    ("explore", T, {"type": "Conv1d", "in_channels": 16, "out_channels": 32, "kernel_size": 5, "stride": 2, "padding": [3]}, [1, 16, 100]),
    # /explore, Keras
    ("explore", K, {"type": "Conv2D", "filters": 4, "kernel_size": [3, 1], "strides": [2, 1], "padding": "same"}, [1, 7, 5, 2]),
    ("explore", K, {"type": "Conv2D", "filters": 2, "kernel_size": [1, 5], "padding": "valid"}, [1, 4, 9, 3]),
    ("explore", K, {"type": "Conv2D", "filters": 3, "kernel_size": [2, 3], "strides": [1, 3], "padding": "same"}, [2, 6, 10, 1]),
    ("explore", K, {"type": "Conv2D", "filters": 2, "kernel_size": [3, 2], "dilation_rate": [1, 3], "padding": "valid"}, [1, 6, 9, 2]),
    ("explore", K, {"type": "Conv2D", "filters": 2, "kernel_size": [4, 2], "dilation_rate": [2, 1], "padding": "same"}, [1, 9, 5, 1]),
    ("explore", K, {"type": "Conv2D", "filters": 1, "kernel_size": [2, 2], "strides": [2, 3], "padding": "same", "use_bias": False}, [1, 7, 8, 2]),
    ("explore", K, {"type": "Conv3D", "filters": 2, "kernel_size": [1, 3, 2], "strides": [1, 2, 1], "padding": "valid"}, [1, 3, 7, 5, 1]),
    ("explore", K, {"type": "Conv3D", "filters": 2, "kernel_size": [3, 1, 3], "padding": "same", "dilation_rate": [1, 1, 2]}, [1, 4, 4, 6, 2]),
    ("explore", K, {"type": "Conv3D", "filters": 1, "kernel_size": 2, "strides": [2, 1, 2], "padding": "same"}, [1, 5, 4, 7, 1]),
    # /pool, PyTorch
    ("pool", T, {"type": "MaxPool2d", "kernel_size": [2, 1]}, [1, 2, 8, 5]),
    ("pool", T, {"type": "MaxPool2d", "kernel_size": [1, 2]}, [1, 2, 5, 9]),
    ("pool", T, {"type": "AvgPool2d", "kernel_size": 3, "stride": [3, 1]}, [1, 2, 9, 6]),
    ("pool", T, {"type": "MaxPool2d", "kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 0]}, [1, 1, 9, 7]),
    ("pool", T, {"type": "MaxPool2d", "kernel_size": 3, "stride": [1, 2], "padding": [0, 1], "dilation": [1, 2]}, [2, 2, 8, 10]),
    ("pool", T, {"type": "MaxPool2d", "kernel_size": [2, 3], "stride": [2, 2], "ceil_mode": True}, [1, 1, 7, 8]),
    ("pool", T, {"type": "MaxPool2d", "kernel_size": [3, 3], "stride": [2, 3], "padding": [1, 1], "ceil_mode": True}, [1, 2, 8, 10]),
    ("pool", T, {"type": "AvgPool2d", "kernel_size": [3, 1], "stride": [2, 1], "padding": [1, 0], "count_include_pad": False}, [1, 2, 7, 4]),
    ("pool", T, {"type": "AvgPool2d", "kernel_size": [2, 4], "padding": [1, 2], "ceil_mode": True}, [1, 1, 5, 11]),
    ("pool", T, {"type": "AvgPool2d", "kernel_size": [2, 3], "stride": [1, 3], "divisor_override": 5}, [1, 2, 6, 9]),
    ("pool", T, {"type": "MaxPool2d", "kernel_size": [5, 2], "stride": [5, 1], "padding": [2, 0]}, [1, 3, 16, 6]),
    ("pool", T, {"type": "AvgPool2d", "kernel_size": [4, 2], "stride": [3, 2], "padding": [2, 1], "count_include_pad": True}, [1, 1, 12, 7]),
    ("pool", T, {"type": "MaxPool2d", "kernel_size": [2, 2], "stride": [1, 2], "dilation": [3, 1]}, [1, 1, 9, 8]),
    ("pool", T, {"type": "MaxPool1d", "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}, [1, 2, 11]),
    # /pool, Keras
    ("pool", K, {"type": "MaxPooling2D", "pool_size": [2, 1]}, [1, 8, 5, 2]),
    ("pool", K, {"type": "MaxPooling2D", "pool_size": [1, 3], "strides": [1, 2]}, [1, 4, 9, 1]),
    ("pool", K, {"type": "AveragePooling2D", "pool_size": 2, "strides": [2, 1], "padding": "valid"}, [1, 7, 5, 2]),
    ("pool", K, {"type": "MaxPooling2D", "pool_size": [3, 2], "strides": [2, 3], "padding": "same"}, [1, 9, 8, 1]),
    ("pool", K, {"type": "AveragePooling2D", "pool_size": [3, 3], "strides": [3, 1], "padding": "same"}, [1, 9, 6, 2]),
    ("pool", K, {"type": "MaxPool2D", "pool_size": [2, 3], "strides": [1, 3]}, [2, 6, 9, 1]),
    ("pool", K, {"type": "AveragePooling2D", "pool_size": [4, 1], "strides": [2, 1]}, [1, 10, 3, 3]),
    ("pool", K, {"type": "MaxPooling2D", "pool_size": [2, 2], "strides": [3, 1], "padding": "same"}, [1, 10, 7, 1]),
    # /transposed, PyTorch
    ("transposed", T, {"type": "ConvTranspose2d", "in_channels": 2, "out_channels": 2, "kernel_size": [4, 2], "stride": [1, 2]}, [1, 2, 3, 3]),
    ("transposed", T, {"type": "ConvTranspose2d", "in_channels": 1, "out_channels": 1, "kernel_size": [3, 2], "stride": [2, 1], "padding": [1, 0]}, [1, 1, 3, 4]),
    ("transposed", T, {"type": "ConvTranspose2d", "in_channels": 2, "out_channels": 1, "kernel_size": 3, "stride": [2, 3], "padding": [1, 1], "output_padding": [1, 2]}, [1, 2, 3, 2]),
    ("transposed", T, {"type": "ConvTranspose2d", "in_channels": 1, "out_channels": 2, "kernel_size": [2, 3], "stride": 2, "padding": [0, 1], "output_padding": [1, 0]}, [1, 1, 4, 3]),
    ("transposed", T, {"type": "ConvTranspose2d", "in_channels": 2, "out_channels": 2, "kernel_size": [3, 3], "dilation": [2, 1], "padding": [2, 0]}, [1, 2, 3, 3]),
    ("transposed", T, {"type": "ConvTranspose2d", "in_channels": 3, "out_channels": 3, "kernel_size": [1, 4], "stride": [3, 2], "padding": [0, 1], "groups": 3}, [1, 3, 2, 3]),
    ("transposed", T, {"type": "ConvTranspose2d", "in_channels": 1, "out_channels": 1, "kernel_size": [2, 2], "stride": [1, 3], "output_padding": [0, 2], "bias": False}, [1, 1, 5, 2]),
    ("transposed", T, {"type": "ConvTranspose2d", "in_channels": 2, "out_channels": 2, "kernel_size": [3, 4], "stride": [2, 2], "padding": [1, 2], "dilation": [1, 2], "output_padding": [1, 1]}, [1, 2, 3, 4]),
    ("transposed", T, {"type": "ConvTranspose1d", "in_channels": 1, "out_channels": 1, "kernel_size": 4, "stride": 3, "padding": 1, "output_padding": 2}, [1, 1, 4]),
    # /transposed, Keras
    ("transposed", K, {"type": "Conv2DTranspose", "filters": 2, "kernel_size": [4, 2], "strides": [1, 2]}, [1, 3, 3, 2]),
    ("transposed", K, {"type": "Conv2DTranspose", "filters": 1, "kernel_size": [3, 2], "strides": [2, 1], "padding": "same"}, [1, 3, 4, 1]),
    ("transposed", K, {"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": [2, 3], "padding": "valid", "output_padding": [1, 2]}, [1, 3, 2, 2]),
    ("transposed", K, {"type": "Conv2DTranspose", "filters": 1, "kernel_size": [2, 3], "strides": [2, 2], "padding": "same", "output_padding": [1, 0]}, [1, 4, 3, 1]),
    ("transposed", K, {"type": "Conv2DTranspose", "filters": 1, "kernel_size": [3, 2], "dilation_rate": [2, 1]}, [1, 3, 3, 1]),
    ("transposed", K, {"type": "Conv2DTranspose", "filters": 3, "kernel_size": [1, 3], "strides": [3, 1], "padding": "same"}, [1, 2, 4, 2]),
    ("transposed", K, {"type": "Conv2DTranspose", "filters": 2, "kernel_size": [4, 4], "strides": [2, 1], "padding": "valid", "use_bias": False}, [1, 3, 3, 1]),
    ("transposed", K, {"type": "Conv1DTranspose", "filters": 1, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 1}, [1, 4, 1]),
]


def torch_shape(layer: dict, input_shape: list[int]) -> list[int]:
    import torch
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in layer.items() if k != "type"}
    module = getattr(torch.nn, layer["type"])(**kwargs)
    with torch.no_grad():
        return list(module(torch.zeros(input_shape)).shape)


def keras_shape(layer: dict, input_shape: list[int]) -> list[int]:
    import keras
    import numpy as np
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in layer.items() if k != "type"}
    module = getattr(keras.layers, layer["type"])(**kwargs)
    return list(np.asarray(keras.ops.convert_to_numpy(module(np.zeros(input_shape, dtype="float32")))).shape)


def main() -> None:
    import keras
    import torch
    cases = []
    for view, framework, layer, input_shape in CASES:
        shape = (torch_shape if framework == T else keras_shape)(layer, input_shape)
        cases.append({"view": view, "framework": framework, "layer": layer, "input_shape": input_shape,
                      "output_shape": shape})
    meta = {"torch": torch.__version__, "keras": keras.__version__, "keras_backend": keras.backend.backend(),
            "python": sys.version.split()[0]}
    out = Path(__file__).with_name("per_axis.json")
    out.write_text(json.dumps({"meta": meta, "cases": cases}, indent=1) + "\n")
    print(f"{len(cases)} cases -> {out}")


if __name__ == "__main__":
    main()
