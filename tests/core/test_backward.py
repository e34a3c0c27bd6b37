"""The backward pass (app/core/backward.py) against autograd and against slow reference loops.

Goldens: gradients recorded from PyTorch autograd and Keras on its torch backend on generated layers
(tests/golden/record_backward.py). References: plain loops written here from the chain rule on each
forward definition (every output value's gradient added to each input cell and weight it was made
from, through the padding's source cell), on Hypothesis-drawn layers drawn by the forward
reference tests' strategies (tests/core/test_reference.py), in 1, 2 and 3 dimensions.
"""
from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.activations import ACTIVATIONS
from app.core.backward import DERIVATIVES, activation_backward, conv_backward, layer_backward, pool_backward
from app.core.forward import output_shape, run_layer
from app.core.frameworks import build_layer
from app.core.ops import Activation, ConvOp, PoolOp
from tests.core.test_reference import (
    assert_matches,
    cells,
    conv_cases,
    grid,
    pool_cases,
    ref_conv_length,
    ref_pool_length,
    source_index,
    transposed_cases,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = json.loads(gzip.decompress((GOLDEN / "backward.json.gz").read_bytes()))["cases"]


# ------------------------------------------------------------------------------------------------
# Goldens
# ------------------------------------------------------------------------------------------------

def assert_close(actual: np.ndarray, expected, label: str) -> None:
    """As the forward goldens: float32 vs float32, rtol 1e-4, atol 2e-5 × the magnitude."""
    expected = np.array(expected, dtype=np.float32)
    assert actual.shape == expected.shape, (label, actual.shape, expected.shape)
    scale = max(1.0, float(np.abs(expected).max(initial=0)))
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=2e-5 * scale, err_msg=label)


def test_the_recording_is_broad():
    types = {(c["framework"], c["layer"]["type"]) for c in CASES}
    assert len(CASES) >= 400 and len(types) >= 50
    layers = [c["layer"] for c in CASES]
    for key, value in [("padding_mode", "reflect"), ("padding_mode", "replicate"), ("padding_mode", "circular"),
                       ("ceil_mode", True), ("count_include_pad", False), ("bias", False), ("use_bias", False),
                       ("data_format", "channels_first"), ("padding", "same"), ("padding", "causal")]:
        assert any(layer.get(key) == value for layer in layers), (key, value)
    for key in ("groups", "output_padding", "divisor_override", "depth_multiplier", "dilation", "dilation_rate",
                "activation"):
        assert sum(key in layer for layer in layers) >= 5, key
    # max pooling windows with ties (the tie rule is tested, not assumed)
    assert sum(1 for c in CASES if "Max" in c["layer"]["type"]) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_gradients_match_autograd(case):
    x = np.array(case["input"], dtype=np.float32)
    layer = build_layer(case["framework"], case["layer"], x.shape)
    weights = [np.array(w, dtype=np.float32) for w in case["weights"]]
    assert list(output_shape(layer)) == case["output_shape"]
    y, gx, gw = layer_backward(layer, x, weights, np.array(case["grad_output"], dtype=np.float32))
    assert_close(y, case["output"], "output")
    assert_close(gx, case["grad_input"], "grad_input")
    assert len(gw) == len(case["grad_weights"])
    for i, (got, want) in enumerate(zip(gw, case["grad_weights"])):
        assert_close(got, want, f"grad_weights[{i}]")


# ------------------------------------------------------------------------------------------------
# References: the chain rule, loop by loop
# ------------------------------------------------------------------------------------------------

def ref_conv_backward(x, w, g, op: ConvOp):
    """Direct conv: y[n, o, p] = b[o] + Σ w[o, ci, tap] · x[n, c, src(p·s − before + tap·d)], so each
    g[n, o, p] adds g·w to the input cell the tap read (through the padding's source cell; a zero of
    the padding takes nothing), g·x to the weight, g to the bias."""
    batch, _, *spatial = x.shape
    nd = op.dims
    outs = g.shape[2:]
    cg, og = op.in_channels // op.groups, op.out_channels // op.groups
    xv, wv, gv = cells(x), cells(w), cells(g)
    gx, gw, gb = np.zeros(x.shape), np.zeros(w.shape), np.zeros(op.out_channels)
    for n in range(batch):
        for o in range(op.out_channels):
            group = o // og
            for pos in grid(outs):
                up = gv[(n, o, *pos)]
                gb[o] += up
                for tap in grid(op.kernel):
                    coords = [pos[a] * op.stride[a] - op.padding[a][0] + tap[a] * op.dilation[a] for a in range(nd)]
                    src = [source_index(coords[a], spatial[a], op.padding_mode) for a in range(nd)]
                    if None in src:
                        continue
                    for ci in range(cg):
                        c = group * cg + ci
                        gx[(n, c, *src)] += up * wv[(o, ci, *tap)]
                        gw[(o, ci, *tap)] += up * xv[(n, c, *src)]
    return gx, gw, gb


def ref_transposed_backward(x, w, g, op: ConvOp):
    """Transposed conv: x[n, c, i] · w[c, ol, tap] lands on kept position i·s + tap·d − before of out
    channel (c's group, ol); where that lies inside the output, g there flows back to both factors."""
    batch, in_c, *spatial = x.shape
    nd = op.dims
    kept = g.shape[2:]
    cg, og = op.in_channels // op.groups, op.out_channels // op.groups
    xv, wv, gv = cells(x), cells(w), cells(g)
    gx, gw = np.zeros(x.shape), np.zeros(w.shape)
    for n in range(batch):
        for c in range(in_c):
            group = c // cg
            for i in grid(spatial):
                for ol in range(og):
                    for tap in grid(op.kernel):
                        at = tuple(i[a] * op.stride[a] + tap[a] * op.dilation[a] - op.padding[a][0] for a in range(nd))
                        if all(0 <= at[a] < kept[a] for a in range(nd)):
                            up = gv[(n, group * og + ol, *at)]
                            gx[(n, c, *i)] += up * wv[(c, ol, *tap)]
                            gw[(c, ol, *tap)] += up * xv[(n, c, *i)]
    return gx, gw, g.sum(axis=(0, *range(2, 2 + nd)), dtype=np.float64)


def ref_pool_backward(x, g, op: PoolOp):
    """Max: the whole gradient to the window's first largest real cell, in row-major tap order
    (torch's max_pool: a later tap wins only if strictly larger). Average: g / divisor to every
    real cell of the window, the divisor counted as ref_pool counts it."""
    batch, channels, *spatial = x.shape
    nd = op.dims
    xv, gv = cells(x), cells(g)
    gx = np.zeros(x.shape)
    for n in range(batch):
        for c in range(channels):
            for pos in grid(g.shape[2:]):
                real, counted = [], 0
                for tap in grid(op.kernel):
                    coords = tuple(pos[a] * op.stride[a] - op.padding[a][0] + tap[a] * op.dilation[a] for a in range(nd))
                    inside = all(0 <= coords[a] < spatial[a] for a in range(nd))
                    in_padded = all(-op.padding[a][0] <= coords[a] < spatial[a] + op.padding[a][1] for a in range(nd))
                    if inside:
                        real.append(coords)
                    if inside or (op.count_include_pad and in_padded):
                        counted += 1
                up = gv[(n, c, *pos)]
                if op.kind == "max":
                    best = real[0]
                    for cell in real[1:]:
                        if xv[(n, c, *cell)] > xv[(n, c, *best)]:
                            best = cell
                    gx[(n, c, *best)] += up
                else:
                    for cell in real:
                        gx[(n, c, *cell)] += up / (op.divisor_override or counted)
    return gx


def upstream(seed: int, shape) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


@pytest.mark.parametrize("dims", [1, 2, 3])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_conv_gradients_match_the_chain_rule(dims, data):
    x, w, b, op = data.draw(conv_cases(dims))
    outs = [ref_conv_length(n, k, s, d, p) for n, k, s, d, p in
            zip(x.shape[2:], op.kernel, op.stride, op.dilation, op.padding)]
    g = upstream(data.draw(st.integers(0, 2**32 - 1)), (x.shape[0], op.out_channels, *outs))
    gx, grads = conv_backward(x, w, g, op)
    want_x, want_w, want_b = ref_conv_backward(x, w, g, op)
    assert_matches(gx, want_x)
    assert_matches(grads["weight"], want_w)
    if op.bias:
        assert_matches(grads["bias"], want_b)
    else:
        assert "bias" not in grads


@pytest.mark.parametrize("dims", [1, 2, 3])
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_transposed_conv_gradients_match_the_chain_rule(dims, data):
    x, w, b, op = data.draw(transposed_cases(dims))
    kept = [(n - 1) * s + d * (k - 1) + 1 - p[0] - p[1] + e for n, k, s, d, p, e in
            zip(x.shape[2:], op.kernel, op.stride, op.dilation, op.padding, op.output_padding)]
    g = upstream(data.draw(st.integers(0, 2**32 - 1)), (x.shape[0], op.out_channels, *kept))
    gx, grads = conv_backward(x, w, g, op)
    want_x, want_w, want_b = ref_transposed_backward(x, w, g, op)
    assert_matches(gx, want_x)
    assert_matches(grads["weight"], want_w)
    if op.bias:
        assert_matches(grads["bias"], want_b)


@pytest.mark.parametrize("dims", [1, 2, 3])
@settings(max_examples=150, deadline=None)
@given(data=st.data(), ties=st.booleans())
def test_pool_gradients_match_the_chain_rule(dims, data, ties):
    x, op = data.draw(pool_cases(dims))
    if ties:  # few distinct values: most windows hold a tie
        x = np.round(x * 2).astype(np.float32)
    outs = [ref_pool_length(n, k, s, d, p, op.ceil_mode) for n, k, s, d, p in
            zip(x.shape[2:], op.kernel, op.stride, op.dilation, op.padding)]
    g = upstream(data.draw(st.integers(0, 2**32 - 1)), (*x.shape[:2], *outs))
    assert_matches(pool_backward(x, g, op), ref_pool_backward(x, g, op))


def test_max_pool_ties_go_to_the_first_cell_of_the_window():
    op = PoolOp("max", (2, 2), (1, 1), (1, 1), ((0, 0), (0, 0)))
    x = np.ones((1, 1, 2, 3), np.float32)
    assert pool_backward(x, np.ones((1, 1, 1, 2), np.float32), op).tolist() == [[[[1, 1, 0], [0, 0, 0]]]]


@pytest.mark.parametrize("size,pool,strides", [((5, 4), (2, 2), (1, 1)), ((6, 7), (3, 2), (2, 3)),
                                                ((4, 3), (2, 3), (1, 2))])
def test_keras_same_average_pooling_follows_tensorflow(size, pool, strides):
    """Unequal 'same' padding (not recorded: Keras on torch counts replicated edge cells): TensorFlow's
    avg_pool divides each window by its cells inside the input, and so spreads the gradient."""
    layer = build_layer("keras", {"type": "AveragePooling2D", "pool_size": list(pool), "strides": list(strides),
                                  "padding": "same"}, (1, *size, 2))
    pads = []
    for n, k, s in zip(size, pool, strides):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    assert any(b != a for b, a in pads)
    x = upstream(1, (1, *size, 2))
    out = output_shape(layer)
    g = upstream(2, out)
    y, gx, gw = layer_backward(layer, x, [], g)
    op = PoolOp("avg", pool, strides, (1, 1), tuple(pads), count_include_pad=False)
    first = np.moveaxis(x, -1, 1)
    want = ref_pool_backward(first, np.moveaxis(g, -1, 1), op)
    assert_matches(gx, np.moveaxis(want, 1, -1))
    assert gw == [] and np.array_equal(y, run_layer(layer, x, []))


# ------------------------------------------------------------------------------------------------
# Activations
# ------------------------------------------------------------------------------------------------

def test_every_activation_has_a_derivative():
    assert set(DERIVATIVES) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivatives_match_central_differences(name):
    """Away from the kinks (the goldens hold autograd's value on them)."""
    fn, params = ACTIVATIONS[name]
    params = {**params, "max_value": 1.5, "negative_slope": 0.25, "threshold": 0.5} if name == "relu" else params
    x = np.array([-7.3, -2.9, -1.7, -0.8, -0.3, 0.2, 0.45, 0.8, 1.3, 2.2, 2.9, 4.1, 7.7])
    h = 1e-6
    numeric = (fn(x + h, **params) - fn(x - h, **params)) / (2 * h)
    got = DERIVATIVES[name](x, **params)
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(numeric, dtype=np.float64),
                               rtol=1e-5, atol=1e-6)


def test_activation_gradient_multiplies_the_upstream_gradient():
    act = Activation("leaky_relu", (("negative_slope", 0.5),))
    x, g = np.array([-2, 0, 3], np.float32), np.array([4, 4, 4], np.float32)
    assert activation_backward(act, x, g).tolist() == [2, 2, 4]  # autograd: the slope at 0 (x > 0 is false)


def test_a_separable_conv_backpropagates_through_the_activation_then_both_convs():
    """The chain: ReLU's mask first, then the pointwise conv, then the depthwise conv (references)."""
    layer = build_layer("keras", {"type": "SeparableConv1D", "filters": 2, "kernel_size": 3, "depth_multiplier": 2,
                                  "activation": "relu", "strides": 2, "padding": "same"}, (1, 7, 2))
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, (1, 7, 2)).astype(np.float32)
    weights = [rng.uniform(-1, 1, p.shape).astype(np.float32) for p in layer.params]
    g = rng.uniform(-1, 1, output_shape(layer)).astype(np.float32)
    y, gx, gw = layer_backward(layer, x, weights, g)
    depthwise, pointwise = layer.stages[0], layer.stages[1]
    dw = np.transpose(weights[0], (1, 2, 0)).reshape(4, 1, 3)
    pw = np.transpose(weights[1], (2, 1, 0))
    from tests.core.test_reference import ref_conv
    h = ref_conv(np.moveaxis(x, -1, 1), dw, None, depthwise).astype(np.float32)
    z = ref_conv(h, pw, weights[2], pointwise)
    gz = np.moveaxis(g, -1, 1) * (z > 0)
    gh, gpw, gb = ref_conv_backward(h, pw, gz, pointwise)
    gx_ref, gdw, _ = ref_conv_backward(np.moveaxis(x, -1, 1), dw, gh.astype(np.float32), depthwise)
    assert_matches(gx, np.moveaxis(gx_ref, 1, -1))
    assert_matches(gw[0], np.transpose(gdw.reshape(2, 2, 3), (2, 0, 1)))
    assert_matches(gw[1], np.transpose(gpw, (2, 1, 0)))
    assert_matches(gw[2], gb)
    assert math.isclose(float(np.abs(y - np.moveaxis(np.maximum(z, 0), 1, -1)).max()), 0, abs_tol=1e-5)


@pytest.mark.parametrize("case", [c for c in CASES if "Conv" in c["layer"]["type"]][::6],
                         ids=lambda c: c["id"])
def test_weight_gradients_in_blocks_of_one_output_row_are_the_same(case, monkeypatch):
    """The correlation goes in blocks of output rows; one row per block must give the same sums."""
    x = np.array(case["input"], dtype=np.float32)
    layer = build_layer(case["framework"], case["layer"], x.shape)
    args = (layer, x, [np.array(w, dtype=np.float32) for w in case["weights"]],
            np.array(case["grad_output"], dtype=np.float32))
    whole = layer_backward(*args)[2]
    monkeypatch.setattr("app.core.backward.GROUPED_BLOCK_BYTES", 1)
    for got, want, autograd in zip(layer_backward(*args)[2], whole, case["grad_weights"]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        assert_close(got, autograd, "grad_weights")
