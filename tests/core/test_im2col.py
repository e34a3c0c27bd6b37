"""core.conv.im2col and weight_matrix: the patch matrix against a slow loop over output positions,
and the weight matrix times it (block-diagonal for groups) against conv_forward, on random layers
(stride, padding incl. 'same' and uneven, padding modes, dilation, groups, 1D and 2D). Keras' order is
a permutation of the same numbers whose product is the same output."""
import json
import math
import pathlib
import random

import numpy as np
import pytest

from app.core.conv import conv_forward, im2col, pad_input, weight_matrix
from app.core.ops import ConvOp
from app.core.shapes import same_padding


def slow_unfold(xp: np.ndarray, op: ConvOp) -> np.ndarray:
    """nn.Unfold by its definition: column l = output position l (row-major); row c·K + tap = the
    input value that tap of channel c reads at that position."""
    out = [(n - (k - 1) * d - 1) // s + 1 for n, k, d, s in zip(xp.shape[1:], op.kernel, op.dilation, op.stride)]
    taps = list(np.ndindex(*op.kernel))
    cols = np.zeros((xp.shape[0] * len(taps), math.prod(out)), np.float32)
    for col, pos in enumerate(np.ndindex(*out)):
        for c in range(xp.shape[0]):
            for t, tap in enumerate(taps):
                cell = tuple(p * s + j * d for p, s, j, d in zip(pos, op.stride, tap, op.dilation))
                cols[c * len(taps) + t, col] = xp[(c, *cell)]
    return cols


def random_layer(rng: random.Random) -> tuple[ConvOp, tuple[int, ...]]:
    dims = rng.choice([1, 2])
    g = rng.choice([1, 1, 2, 3])
    c, f = g * rng.randint(1, 3), g * rng.randint(1, 3)
    kernel = tuple(rng.randint(1, 4) for _ in range(dims))
    stride = tuple(rng.randint(1, 3) for _ in range(dims))
    dilation = tuple(rng.randint(1, 2) for _ in range(dims))
    size = tuple(rng.randint((k - 1) * d + 1, (k - 1) * d + 7) for k, d in zip(kernel, dilation))
    if rng.random() < 0.3:  # 'same', odd extra padding after, as TensorFlow
        padding = tuple(same_padding(n, k, stride=s, dilation=d) for n, k, s, d in zip(size, kernel, stride, dilation))
    else:
        padding = tuple((p, p) for p in (rng.randint(0, 2) for _ in range(dims)))
    mode = rng.choice(["zeros", "zeros", "reflect", "replicate", "circular"])
    if mode != "zeros" and any(b >= n or a >= n for (b, a), n in zip(padding, size)):
        mode = "zeros"
    return ConvOp(c, f, kernel, stride, dilation, padding, mode, groups=g), size


@pytest.mark.parametrize("seed", range(60))
def test_the_patch_matrix_times_the_weight_matrix_is_the_conv(seed):
    rng = random.Random(seed)
    op, size = random_layer(rng)
    npr = np.random.default_rng(seed)
    x = npr.standard_normal((1, op.in_channels, *size)).astype(np.float32)
    w = npr.standard_normal(op.weight_shape).astype(np.float32)
    b = npr.standard_normal(op.out_channels).astype(np.float32)
    xp = pad_input(x, op.padding, op.padding_mode)[0]
    patches = im2col(xp, op)
    np.testing.assert_array_equal(patches, slow_unfold(xp, op))
    y = conv_forward(x, w, b, op)[0]
    torch_y = weight_matrix(w, op) @ patches + b[:, None]
    np.testing.assert_allclose(torch_y.reshape(y.shape), y, rtol=1e-5, atol=1e-5)
    keras_patches, kernel = im2col(xp, op, "keras"), weight_matrix(w, op, "keras")
    assert keras_patches.shape == patches.T.shape and kernel.shape == weight_matrix(w, op).T.shape
    assert sorted(keras_patches.ravel()) == sorted(patches.ravel())  # the same numbers, permuted
    keras_y = keras_patches @ kernel + b
    np.testing.assert_allclose(keras_y.T.reshape(y.shape), y, rtol=1e-5, atol=1e-5)


def test_keras_rows_follow_the_keras_kernel_layout():
    """Keras' kernel (kh, kw, C, F) reshaped to (kh·kw·C, F) is weight_matrix's Keras order (groups=1)."""
    op = ConvOp(3, 4, (2, 3), (1, 1), (1, 1), ((0, 0), (0, 0)))
    w = np.arange(math.prod(op.weight_shape), dtype=np.float32).reshape(op.weight_shape)
    keras_kernel = np.transpose(w, (2, 3, 1, 0))  # (kh, kw, C, F)
    np.testing.assert_array_equal(weight_matrix(w, op, "keras"), keras_kernel.reshape(-1, 4))


UNFOLD = json.loads((pathlib.Path(__file__).parents[1] / "golden" / "unfold.json").read_text())["cases"]


@pytest.mark.parametrize("case", UNFOLD, ids=lambda c: c["id"])
def test_the_patch_matrix_is_what_torch_unfold_recorded(case):
    """tests/golden/record_unfold.py: torch.nn.functional.unfold's (C·kh·kw, L), number for number."""
    x = np.array(case["input"], np.float32)
    op = ConvOp(x.shape[0], 1, tuple(case["kernel_size"]), tuple(case["stride"]), tuple(case["dilation"]),
                tuple((p, p) for p in case["padding"]))
    patches = im2col(pad_input(x[None], op.padding)[0], op)
    assert list(patches.shape) == case["shape"] == [x.shape[0] * math.prod(op.kernel), patches.shape[1]]
    np.testing.assert_array_equal(patches, np.array(case["patches"], np.float32))
