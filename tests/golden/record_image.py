"""Record PyTorch and Keras outputs for /image: classic kernels and pooling on the bundled photos.

Run from the repository root, in an environment with the frameworks and Pillow:

    KERAS_BACKEND=torch python tests/golden/record_image.py

It writes ``image.json`` next to this file: per case the view's URL query, the framework's output
shape, the sum and extremes of the output, and 24 sampled values (flat index, value) at seeded
positions. The input is the sample as the view scales it (app/images.py: Pillow's box filter,
long side ``size``), pixels 0–255 as float32; the kernels are written out here, not taken from
the view, so the recording checks the view's presets too.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from app.images import sample  # noqa: E402 (after the path is set)

SOBEL_X = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
LAPLACIAN = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
EMBOSS = [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]
SHARPEN = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
GAUSS5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256
BOX3 = np.full((3, 3), 1 / 9)

# (id, image, size, kernel name, kernel, groups, filters, stride, dilation, torch padding, keras padding,
#  padding_mode, bias, relu)
CONVS = [
    ("sobel-x-per-channel", "chelsea", 64, "sobel_x", SOBEL_X, 3, 3, 1, 1, "1", "same", "zeros", 0.0, False),
    ("gaussian5-rgb-2-filters-stride2-bias-relu", "coffee", 64, "gaussian", GAUSS5, 1, 2, 2, 1, "2", "same", "zeros",
     -60.0, True),
    ("laplacian-dilation2", "astronaut", 48, "laplacian", LAPLACIAN, 3, 3, 1, 2, "0", "valid", "zeros", 0.0, False),
    ("emboss-rgb-4-filters-stride3", "chelsea", 96, "emboss", EMBOSS, 1, 4, 3, 1, "0", "valid", "zeros", 0.0, False),
    ("sharpen-reflect", "coffee", 48, "sharpen", SHARPEN, 3, 3, 1, 1, "1", None, "reflect", 0.0, False),
    ("box-relu-same", "astronaut", 64, "box", BOX3, 1, 1, 1, 1, "same", "same", "zeros", 0.0, True),
]
POOLS = [("maxpool-2", "chelsea", 64, "max", 2, 2), ("avgpool-3-stride-2", "coffee", 64, "avg", 3, 2)]


def weights(kernel, groups: int, filters: int) -> np.ndarray:
    """(filters, channels per group, k, k): per channel the kernel; RGB -> filters: turned f quarter turns."""
    k = np.asarray(kernel, dtype=np.float64)
    cg = 3 // groups
    return np.stack([np.stack([np.rot90(k, f if groups == 1 else 0)] * cg) for f in range(filters)]).astype(np.float32)


def summary(y: np.ndarray) -> dict:
    rng = np.random.default_rng(0)
    flat = y.ravel().astype(np.float64)
    idx = sorted(set(rng.integers(0, flat.size, size=24).tolist()))
    return {"output_shape": list(y.shape), "sum": float(flat.sum()), "min": float(flat.min()),
            "max": float(flat.max()), "samples": [[i, float(flat[i])] for i in idx]}


def conv_cases():
    out = []
    for (cid, image, size, name, kernel, groups, filters, stride, dil, tpad, kpad, mode, bias, relu) in CONVS:
        x = sample(image, size).astype(np.float32)  # (H, W, 3), 0..255
        w = weights(kernel, groups, filters)
        k = w.shape[-1]
        common = f"image={image}&size={size}&kernel={name}&kernel_size={k}&groups={groups}"
        has_bias = bias != 0
        b = np.full(filters, bias, dtype=np.float32)
        # PyTorch
        conv = torch.nn.Conv2d(3, filters, k, stride=stride, padding=int(tpad) if tpad.isdigit() else tpad,
                               dilation=dil, groups=groups, bias=has_bias, padding_mode=mode)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w))
            if has_bias:
                conv.bias.copy_(torch.from_numpy(b))
            y = conv(torch.from_numpy(x.transpose(2, 0, 1)[None].copy()))
            if relu:
                y = torch.relu(y)
        q = (f"framework=torch&type=Conv2d&out_channels={filters}&stride={stride}&padding={tpad}&dilation={dil}"
             f"&padding_mode={mode}&bias={str(has_bias).lower()}&{common}")
        q += (f"&bias_value={bias:g}" if has_bias else "") + ("&activation=relu" if relu else "")
        out.append({"id": f"torch-{cid}", "query": q, **summary(y.numpy())})
        if kpad is None:
            continue
        # Keras: kernel (k, k, channels per group, filters)
        layer = keras.layers.Conv2D(filters, k, strides=stride, padding=kpad, dilation_rate=dil, groups=groups,
                                    use_bias=has_bias, activation="relu" if relu else None)
        layer.build((1, *x.shape))
        layer.set_weights([w.transpose(2, 3, 1, 0)] + ([b] if has_bias else []))
        y = keras.ops.convert_to_numpy(layer(x[None]))
        q = (f"framework=keras&type=Conv2D&filters={filters}&strides={stride}&padding={kpad}&dilation_rate={dil}"
             f"&use_bias={str(has_bias).lower()}&{common}")
        q += (f"&bias_value={bias:g}" if has_bias else "") + ("&activation=relu" if relu else "")
        out.append({"id": f"keras-{cid}", "query": q, **summary(y)})
    return out


def pool_cases():
    out = []
    for cid, image, size, kind, k, stride in POOLS:
        x = sample(image, size).astype(np.float32)
        t = torch.from_numpy(x.transpose(2, 0, 1)[None].copy())
        y = (torch.nn.MaxPool2d(k, stride) if kind == "max" else torch.nn.AvgPool2d(k, stride))(t)
        name = "MaxPool2d" if kind == "max" else "AvgPool2d"
        out.append({"id": f"torch-{cid}", "query": f"framework=torch&type={name}&kernel_size={k}&stride={stride}"
                                                   f"&image={image}&size={size}", **summary(y.numpy())})
        layer = (keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D)(k, strides=stride)
        y = keras.ops.convert_to_numpy(layer(x[None]))
        name = "MaxPooling2D" if kind == "max" else "AveragePooling2D"
        out.append({"id": f"keras-{cid}", "query": f"framework=keras&type={name}&pool_size={k}&strides={stride}"
                                                   f"&padding=valid&image={image}&size={size}", **summary(y)})
    return out


def main() -> None:
    if keras.backend.backend() != "torch":
        sys.exit("run with KERAS_BACKEND=torch")
    data = {"meta": {"torch": torch.__version__, "keras": keras.__version__,
                     "note": "outputs of the frameworks on the view's input; see record_image.py"},
            "cases": conv_cases() + pool_cases()}
    path = Path(__file__).with_name("image.json")
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {len(data['cases'])} cases to {path}")


if __name__ == "__main__":
    main()
