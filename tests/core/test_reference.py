"""The engine against slow, obviously-correct reference loops written from the frameworks' docs.

Nothing here imports the engine's helpers to build an expected value: every reference below is
a plain Python loop over batch, channel, output position and kernel tap, written from what the
PyTorch / Keras documentation says the operation computes. The engine (strided views + BLAS) is
then compared to it on Hypothesis-drawn cases in 1, 2 and 3 dimensions, on a table of edge cases,
on the shape arithmetic, and on every activation.

References are float64 from float32 inputs; the engine is float32 throughout.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.core.activations import ACTIVATIONS, apply_activation
from app.core.conv import conv_forward, scatter, window_taps
from app.core.ops import Activation, ConvOp, PoolOp
from app.core.pool import pool_forward, pool_window
from app.core.shapes import axis_formulas, output_size, pool_output_size, same_padding, transposed_output_size

MODES = ("zeros", "reflect", "replicate", "circular")
MAX_WORK = 60_000  # multiply-adds one reference call may loop over (keeps the file fast)


# ------------------------------------------------------------------------------------------------
# References
# ------------------------------------------------------------------------------------------------

def cells(x: np.ndarray) -> dict[tuple[int, ...], float]:
    """Every cell of an array as a Python float, by its full index (cheap scalar reads)."""
    return {i: float(v) for i, v in np.ndenumerate(x)}


def grid(sizes) -> list[tuple[int, ...]]:
    """Every index of an N-d box, row-major."""
    return list(itertools.product(*(range(m) for m in sizes)))


def source_index(i: int, n: int, mode: str) -> int | None:
    """Which input cell padded coordinate ``i`` reads (None: a zero), per torch.nn.functional.pad.

    ``i`` is in unpadded coordinates: 0..n−1 is the input, anything else the padding.
    reflect mirrors about the edge cell without repeating it (…, x2, x1 | x0, x1, x2, …);
    replicate repeats the edge cell; circular wraps around (i mod n); zeros reads 0.
    """
    if 0 <= i < n:
        return i
    if mode == "zeros":
        return None
    if mode == "reflect":
        return -i if i < 0 else 2 * (n - 1) - i
    if mode == "replicate":
        return 0 if i < 0 else n - 1
    if mode == "circular":
        return i % n
    raise ValueError(mode)


def ref_conv_length(n: int, k: int, s: int, d: int, pad) -> int:
    """Windows on one axis: positions o whose whole dilated window fits in the padded input
    (torch.nn.Conv1d docs: floor((n + p_before + p_after − d·(k−1) − 1)/s) + 1), counted."""
    out = 0
    while out * s + d * (k - 1) <= n + pad[0] + pad[1] - 1:
        out += 1
    return out


def ref_conv(x, w, b, op: ConvOp, reads: list[set[int]] | None = None) -> np.ndarray:
    """Direct N-d cross-correlation (torch.nn.Conv{1,2,3}d; no kernel flip).

    y[n, o, p] = b[o] + Σ_{c in o's group} Σ_tap w[o, c − group·cg, tap] · x_pad[n, c, p·s − before + tap·d]

    with out channel o in group o // (out/groups), reading input channels of that group only.
    ``reads``, if given, collects per axis the input coordinates (0..n−1) a tap landed on.
    """
    batch, in_c, *spatial = x.shape
    nd = op.dims
    outs = [ref_conv_length(spatial[a], op.kernel[a], op.stride[a], op.dilation[a], op.padding[a])
            for a in range(nd)]
    cg, og = op.in_channels // op.groups, op.out_channels // op.groups
    xv, wv = cells(x), cells(w)
    y = np.zeros((batch, op.out_channels, *outs))
    taps = grid(op.kernel)
    for n in range(batch):
        for o in range(op.out_channels):
            group = o // og
            for pos in grid(outs):
                acc = float(b[o]) if b is not None else 0.0
                for tap in taps:
                    coords = [pos[a] * op.stride[a] - op.padding[a][0] + tap[a] * op.dilation[a] for a in range(nd)]
                    if reads is not None:
                        for a in range(nd):
                            if 0 <= coords[a] < spatial[a]:
                                reads[a].add(coords[a])
                    src = [source_index(coords[a], spatial[a], op.padding_mode) for a in range(nd)]
                    if None in src:
                        continue  # a zero of the padding
                    for ci in range(cg):
                        acc += wv[(o, ci, *tap)] * xv[(n, group * cg + ci, *src)]
                y[(n, o, *pos)] = acc
    return y


def ref_conv_transpose(x, w, b, op: ConvOp) -> np.ndarray:
    """Transposed convolution by its scatter definition (torch.nn.ConvTranspose{1,2,3}d).

    Each input value x[n, c, i] adds w[c, o_in_group, tap] · x[n, c, i] at full position
    i·s + tap·d of every output channel of c's group. The full output has (n−1)·s + d·(k−1) + 1
    cells per axis; ``padding[before]`` cells are cropped from its start and
    full − before − after + output_padding are kept (past the full scatter: 0, then + bias).
    """
    batch, in_c, *spatial = x.shape
    nd = op.dims
    cg, og = op.in_channels // op.groups, op.out_channels // op.groups
    full_len = [(spatial[a] - 1) * op.stride[a] + op.dilation[a] * (op.kernel[a] - 1) + 1 for a in range(nd)]
    xv, wv = cells(x), cells(w)
    full = np.zeros((batch, op.out_channels, *full_len))
    taps = grid(op.kernel)
    for n in range(batch):
        for c in range(in_c):
            group = c // cg
            for i in grid(spatial):
                value = xv[(n, c, *i)]
                for ol in range(og):
                    for tap in taps:
                        at = tuple(i[a] * op.stride[a] + tap[a] * op.dilation[a] for a in range(nd))
                        full[(n, group * og + ol, *at)] += wv[(c, ol, *tap)] * value
    kept = [full_len[a] - op.padding[a][0] - op.padding[a][1] + op.output_padding[a] for a in range(nd)]
    y = np.zeros((batch, op.out_channels, *kept))
    for n in range(batch):
        for o in range(op.out_channels):
            for pos in grid(kept):
                src = tuple(pos[a] + op.padding[a][0] for a in range(nd))
                inside = all(src[a] < full_len[a] for a in range(nd))
                y[(n, o, *pos)] = (full[(n, o, *src)] if inside else 0.0) + (float(b[o]) if b is not None else 0.0)
    return y


def ref_pool_length(n: int, k: int, s: int, d: int, pad, ceil_mode: bool) -> int:
    """Windows on one axis (torch.nn.MaxPool1d / AvgPool1d docs).

    floor mode: every window lies inside the padded input.
    ceil mode: keep adding windows while the previous one stops short of the padded input's end,
    i.e. ceil((n + before + after − d(k−1) − 1)/s) + 1, except that a window "that would start in
    the right padded region is ignored".
    """
    total, span = n + pad[0] + pad[1], d * (k - 1) + 1
    out = 0
    if not ceil_mode:
        while out * s + span <= total:
            out += 1
        return out
    while (out - 1) * s + span < total and out * s < n + pad[0]:
        out += 1
    return out


def ref_pool(x, op: PoolOp, reads: list[set[int]] | None = None) -> np.ndarray:
    """Max / average pooling per channel (torch.nn.MaxPoolNd, torch.nn.AvgPoolNd).

    Max: the largest real cell of the window; the padding never wins.
    Average: the sum of the real cells divided by the cells of the window inside
    [−before, n + after) on every axis (count_include_pad) or inside [0, n) (not), or by
    ``divisor_override`` when it is set.
    """
    batch, channels, *spatial = x.shape
    nd = op.dims
    outs = [ref_pool_length(spatial[a], op.kernel[a], op.stride[a], op.dilation[a], op.padding[a], op.ceil_mode)
            for a in range(nd)]
    xv = cells(x)
    y = np.zeros((batch, channels, *outs))
    taps = grid(op.kernel)
    for n in range(batch):
        for c in range(channels):
            for pos in grid(outs):
                real, counted = [], 0
                for tap in taps:
                    coords = [pos[a] * op.stride[a] - op.padding[a][0] + tap[a] * op.dilation[a] for a in range(nd)]
                    inside = all(0 <= coords[a] < spatial[a] for a in range(nd))
                    in_padded = all(-op.padding[a][0] <= coords[a] < spatial[a] + op.padding[a][1] for a in range(nd))
                    if reads is not None:
                        for a in range(nd):
                            if 0 <= coords[a] < spatial[a]:
                                reads[a].add(coords[a])
                    if inside:
                        real.append(xv[(n, c, *coords)])
                    if inside or (op.count_include_pad and in_padded):
                        counted += 1
                if op.kind == "max":
                    y[(n, c, *pos)] = max(real, default=-math.inf)
                else:
                    divisor = op.divisor_override or counted
                    y[(n, c, *pos)] = sum(real) / divisor if divisor else math.nan
    return y


def every_pool_window_has_a_real_cell(x_shape, op: PoolOp) -> bool:
    """Frameworks reject paddings where a window could see only padding; so do the tests."""
    spatial = x_shape[2:]
    for a in range(op.dims):
        n, k, s, d, pad = spatial[a], op.kernel[a], op.stride[a], op.dilation[a], op.padding[a]
        for o in range(ref_pool_length(n, k, s, d, pad, op.ceil_mode)):
            if not any(0 <= o * s - pad[0] + j * d < n for j in range(k)):
                return False
    return True


# ------------------------------------------------------------------------------------------------
# Comparison
# ------------------------------------------------------------------------------------------------

def assert_matches(actual: np.ndarray, expected: np.ndarray) -> None:
    """float32 engine vs float64 reference: rtol 1e-5, atol 1e-5 × the output's magnitude."""
    assert actual.dtype == np.float32, actual.dtype
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    finite = np.isfinite(expected)
    assert np.array_equal(np.isfinite(actual), finite)
    assert np.array_equal(actual[~finite], expected[~finite].astype(np.float32))
    scale = max(1.0, float(np.abs(expected[finite]).max(initial=0)))
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=1e-5, atol=1e-5 * scale)


def random_arrays(seed: int, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, shape).astype(np.float32) for shape in shapes]


# ------------------------------------------------------------------------------------------------
# Strategies
# ------------------------------------------------------------------------------------------------

# per dimension count: the largest spatial size / kernel drawn (3-D kept small for time)
SIZES = {1: (7, 4), 2: (7, 3), 3: (7, 3)}


@st.composite
def channel_groups(draw, max_channels: int = 6):
    """(in, out, groups), groups dividing both: dense, depthwise (groups = in, out a multiple of
    in), or grouped with several channels per group."""
    kind = draw(st.sampled_from(["dense", "depthwise", "grouped"]))
    if kind == "dense":
        return draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels)), 1
    if kind == "depthwise":
        in_c = draw(st.integers(1, max_channels))
        return in_c, in_c * draw(st.integers(1, max_channels // in_c)), in_c
    groups = draw(st.integers(2, max_channels // 2))
    per_in = draw(st.integers(2, max_channels // groups))
    return groups * per_in, groups * draw(st.integers(1, max_channels // groups)), groups


@st.composite
def conv_axis(draw, mode: str, max_n: int, max_k: int):
    """(n, k, stride, dilation, (before, after)) of one axis; reflect needs pad ≤ n − 1, circular ≤ n."""
    n = draw(st.integers(1, max_n))
    limit = {"zeros": 3, "replicate": 3, "reflect": min(3, n - 1), "circular": min(3, n)}[mode]
    pad = (draw(st.integers(0, limit)), draw(st.integers(0, limit)))
    return n, draw(st.integers(1, max_k)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), pad


@st.composite
def conv_cases(draw, dims: int, depthwise_stride_1: bool = False):
    """A conv; ``depthwise_stride_1``: one filter per group and stride 1 (the engine's shifted-sums path)."""
    mode = draw(st.sampled_from(MODES))
    in_c, out_c, groups = draw(channel_groups())
    max_n, max_k = SIZES[dims]
    axes = [draw(conv_axis(mode, max_n, max_k)) for _ in range(dims)]
    if depthwise_stride_1:
        out_c, axes = groups, [(n, k, 1, d, pad) for n, k, _, d, pad in axes]
    op = ConvOp(in_c, out_c, kernel=tuple(a[1] for a in axes), stride=tuple(a[2] for a in axes),
                dilation=tuple(a[3] for a in axes), padding=tuple(a[4] for a in axes),
                padding_mode=mode, groups=groups, bias=draw(st.booleans()))
    outs = [ref_conv_length(n, k, s, d, pad) for n, k, s, d, pad in axes]
    assume(all(o > 0 for o in outs))
    batch = draw(st.integers(1, 2))
    assume(batch * out_c * math.prod(outs) * (in_c // groups) * math.prod(op.kernel) <= MAX_WORK)
    x, w, b = random_arrays(draw(st.integers(0, 2**32 - 1)), (batch, in_c, *[a[0] for a in axes]),
                            op.weight_shape, (out_c,))
    return x, w, (b if op.bias else None), op


@st.composite
def transposed_cases(draw, dims: int):
    """ConvTranspose: zeros padding only (PyTorch refuses the others); output_padding < max(s, d)."""
    in_c, out_c, groups = draw(channel_groups())
    max_n, max_k = SIZES[dims]
    axes = [draw(conv_axis("zeros", max_n, max_k)) for _ in range(dims)]
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for _, _, s, d, _ in axes)
    op = ConvOp(in_c, out_c, kernel=tuple(a[1] for a in axes), stride=tuple(a[2] for a in axes),
                dilation=tuple(a[3] for a in axes), padding=tuple(a[4] for a in axes),
                groups=groups, bias=draw(st.booleans()), transposed=True, output_padding=extra)
    full = [(n - 1) * s + d * (k - 1) + 1 for n, k, s, d, _ in axes]
    kept = [f - pad[0] - pad[1] + e for f, (_, _, _, _, pad), e in zip(full, axes, extra)]
    assume(all(m > 0 for m in kept))
    batch = draw(st.integers(1, 2))
    assume(batch * in_c * math.prod(a[0] for a in axes) * (out_c // groups) * math.prod(op.kernel)
           + batch * out_c * math.prod(kept) <= MAX_WORK)
    x, w, b = random_arrays(draw(st.integers(0, 2**32 - 1)), (batch, in_c, *[a[0] for a in axes]),
                            op.weight_shape, (out_c,))
    return x, w, (b if op.bias else None), op


@st.composite
def pool_cases(draw, dims: int):
    """Pooling; each pad ≤ kernel // 2 (PyTorch: "pad should be at most half of kernel size")."""
    kind = draw(st.sampled_from(["max", "avg"]))
    max_n, max_k = SIZES[dims]
    ns, ks, ss, ds, pads = [], [], [], [], []
    for _ in range(dims):
        ns.append(draw(st.integers(1, max_n)))
        ks.append(draw(st.integers(1, max_k)))
        ss.append(draw(st.integers(1, 3)))
        ds.append(draw(st.integers(1, 3)))
        pads.append((draw(st.integers(0, ks[-1] // 2)), draw(st.integers(0, ks[-1] // 2))))
    op = PoolOp(kind, tuple(ks), tuple(ss), tuple(ds), tuple(pads), ceil_mode=draw(st.booleans()),
                count_include_pad=draw(st.booleans()),
                divisor_override=draw(st.none() | st.integers(1, 5)) if kind == "avg" else None)
    outs = [ref_pool_length(n, k, s, d, p, op.ceil_mode) for n, k, s, d, p in zip(ns, ks, ss, ds, pads)]
    assume(all(o > 0 for o in outs))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 6)), *ns)
    assume(every_pool_window_has_a_real_cell(shape, op))
    assume(shape[0] * shape[1] * math.prod(outs) * math.prod(ks) <= MAX_WORK)
    (x,) = random_arrays(draw(st.integers(0, 2**32 - 1)), shape)
    return x, op


# ------------------------------------------------------------------------------------------------
# 4. Properties: the engine equals the references
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dims", [1, 2, 3])
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_conv_matches_reference(dims, data):
    x, w, b, op = data.draw(conv_cases(dims))
    assert_matches(conv_forward(x, w, b, op), ref_conv(x, w, b, op))


@pytest.mark.parametrize("dims", [1, 2, 3])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_depthwise_stride_1_matches_reference(dims, data):
    """One filter per group at stride 1 takes its own path (the last kernel axis as shifted sums)."""
    x, w, b, op = data.draw(conv_cases(dims, depthwise_stride_1=True))
    assert_matches(conv_forward(x, w, b, op), ref_conv(x, w, b, op))


def test_depthwise_stride_1_takes_the_shifted_sums_path(monkeypatch):
    from app.core import conv

    def im2col_not_expected(*args):
        raise AssertionError("im2col path taken")
    monkeypatch.setattr(conv, "_im2col_gemm", im2col_not_expected)
    x, w, b = random_arrays(0, (1, 4, 6, 5), (4, 1, 3, 3), (4,))
    op = ConvOp(4, 4, (3, 3), (1, 1), (1, 2), ((1, 1), (2, 2)), groups=4)
    assert_matches(conv_forward(x, w, b, op), ref_conv(x, w, b, op))


def test_results_are_not_views_of_scratch_memory():
    """The engine reuses per-thread buffers for its temporaries: a result must survive the next call."""
    x1, x2, w, b = random_arrays(1, (1, 3, 8, 8), (1, 3, 8, 8), (3, 1, 3, 3), (3,))
    for op in (ConvOp(3, 3, (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), groups=3),  # shifted sums
               ConvOp(3, 3, (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1)), groups=3),  # im2col, no crop
               ConvOp(3, 3, (1, 1), (1, 1), (1, 1), ((0, 0), (0, 0)), groups=3)):  # im2col, wide grid
        first = conv_forward(x1, w[:, :, :op.kernel[0], :op.kernel[1]].copy(), b, op)
        kept = first.copy()
        conv_forward(x2, w[:, :, :op.kernel[0], :op.kernel[1]].copy(), b, op)
        np.testing.assert_array_equal(first, kept)


def test_threads_running_convs_at_once_get_their_own_answers():
    """Scratch buffers are per thread: concurrent convs (as under the server's thread pool) agree
    with the same convs run one by one."""
    from concurrent.futures import ThreadPoolExecutor
    ops = [ConvOp(4, 4, (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), groups=4),
           ConvOp(4, 8, (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),
           ConvOp(4, 4, (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1)), groups=2)]
    jobs = []
    for i in range(24):
        op = ops[i % len(ops)]
        x, w, b = random_arrays(i, (2, 4, 40, 40), op.weight_shape, (op.out_channels,))
        jobs.append((x, w, b, op))
    serial = [conv_forward(*job) for job in jobs]
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(lambda job: conv_forward(*job), jobs))
    for a, e in zip(concurrent, serial):
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("dims", [1, 2, 3])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_conv_transpose_matches_scatter_reference(dims, data):
    x, w, b, op = data.draw(transposed_cases(dims))
    assert_matches(conv_forward(x, w, b, op), ref_conv_transpose(x, w, b, op))


@pytest.mark.parametrize("dims", [1, 2])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_scatter_cropped_is_the_reference_transposed_conv(dims, data):
    """The views' scatter canvas (core.conv.scatter), cropped by padding and extended by
    output_padding, is the transposed conv's scatter definition."""
    x, w, b, op = data.draw(transposed_cases(dims))
    full = [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(x.shape[2:], op.stride, op.dilation, op.kernel)]
    canvas = [f + q for f, q in zip(full, op.output_padding)]
    kept = tuple(slice(p[0], f - p[1] + q) for p, f, q in zip(op.padding, full, op.output_padding))
    y = np.stack([scatter(x[n], w, op, tuple(canvas))[(slice(None), *kept)] for n in range(x.shape[0])])
    expected = ref_conv_transpose(x, w, None, op)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dims", [1, 2])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_pool_window_reads_what_the_reference_reads(dims, data):
    """Every output's window (core.pool.pool_window): its real taps are the cells the reference
    loop reads, and an average without count_include_pad divides by their number."""
    x, op = data.draw(pool_cases(dims))
    y = ref_pool(x, op)
    ones = np.ones((1, 1, *x.shape[2:]), np.float32)
    counting = PoolOp("avg", op.kernel, op.stride, op.dilation, op.padding, op.ceil_mode, count_include_pad=False)
    sums = PoolOp("avg", op.kernel, op.stride, op.dilation, op.padding, op.ceil_mode, divisor_override=1)
    per_window = ref_pool(ones, sums)[0, 0]
    for pos in np.ndindex(*y.shape[2:]):
        taps = pool_window(op, x.shape[2:], pos)
        assert len(taps) == math.prod(op.kernel)
        real = [t for t in taps if t.where == "real"]
        assert len(real) == per_window[pos]
        if real:
            assert ref_pool(ones, counting)[(0, 0, *pos)] == 1.0


@pytest.mark.parametrize("dims", [1, 2, 3])
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_pool_matches_reference(dims, data):
    x, op = data.draw(pool_cases(dims))
    assert_matches(pool_forward(x, op), ref_pool(x, op))


# ------------------------------------------------------------------------------------------------
# 5. Edge cases, each with the reason it is here
# ------------------------------------------------------------------------------------------------

def conv1d(n_in, k, *, c_in=1, c_out=1, s=1, d=1, pad=(0, 0), mode="zeros", groups=1):
    return ConvOp(c_in, c_out, (k,), (s,), (d,), (pad,), padding_mode=mode, groups=groups)


CONV_EDGES = [
    # kernel exactly as long as the padded input: one window, every tap used once
    pytest.param((1, 2, 5), conv1d(5, 7, c_in=2, c_out=3, pad=(1, 1)), (1, 3, 1), id="kernel-equals-padded-input"),
    # ... in 2-D with reflect padding, so the single window reads mirrored cells on both sides
    pytest.param((1, 1, 3, 4), ConvOp(1, 2, (5, 6), (1, 1), (1, 1), ((1, 1), (1, 1)), padding_mode="reflect"),
                 (1, 2, 1, 1), id="kernel-equals-padded-input-reflect-2d"),
    # stride larger than the kernel: the cells between windows are never read
    pytest.param((2, 1, 9), conv1d(9, 2, s=3), (2, 1, 3), id="stride-beyond-kernel"),
    # dilation: the taps of one window skip cells; stride 4 makes whole cells unread
    pytest.param((1, 2, 9), conv1d(9, 2, c_in=2, s=4, d=3), (1, 1, 2), id="dilation-skips"),
    # dilation larger than the input with circular padding: taps wrap around more than once
    pytest.param((1, 1, 2), conv1d(2, 3, d=2, pad=(2, 1), mode="circular"), (1, 1, 1), id="circular-wraps"),
    # 1×1 kernel with stride: a strided per-pixel channel mix
    pytest.param((2, 3, 5, 4), ConvOp(3, 4, (1, 1), (2, 2), (1, 1), ((0, 0), (0, 0))), (2, 4, 3, 2), id="1x1"),
    # 1×1×1 depthwise with a channel multiplier (groups = in, out = 2·in)
    pytest.param((1, 3, 2, 2, 2), ConvOp(3, 6, (1, 1, 1), (1, 1, 1), (1, 1, 1), ((0, 0),) * 3, groups=3),
                 (1, 6, 2, 2, 2), id="1x1x1-depthwise-multiplier"),
    # even kernel, asymmetric padding (TensorFlow "same" for k=4: one before, two after)
    pytest.param((1, 2, 6), conv1d(6, 4, c_in=2, c_out=2, pad=(1, 2)), (1, 2, 6), id="even-kernel-same"),
    # even kernel, padding only after, replicate mode: the right edge repeats
    pytest.param((1, 1, 4, 5), ConvOp(1, 1, (2, 4), (1, 2), (1, 1), ((0, 1), (3, 0)), padding_mode="replicate"),
                 (1, 1, 4, 3), id="even-kernel-one-sided-replicate"),
    # reflect at its limit (pad = n − 1) on a length-2 input
    pytest.param((1, 1, 2), conv1d(2, 3, pad=(1, 1), mode="reflect"), (1, 1, 2), id="reflect-at-limit"),
    # grouped, neither depthwise nor dense: 2 groups of 2 in / 3 out channels
    pytest.param((1, 4, 5), conv1d(5, 3, c_in=4, c_out=6, groups=2, pad=(2, 0)), (1, 6, 5), id="groups-2"),
]


@pytest.mark.parametrize("shape, op, out_shape", CONV_EDGES)
def test_conv_edge_cases(shape, op, out_shape):
    x, w, b = random_arrays(7, shape, op.weight_shape, (op.out_channels,))
    expected = ref_conv(x, w, b, op)
    assert expected.shape == out_shape  # the hand-computed size: the reference itself is right here
    assert_matches(conv_forward(x, w, b, op), expected)


def tconv1d(k, *, c_in=1, c_out=1, s=1, d=1, pad=(0, 0), extra=0, groups=1):
    return ConvOp(c_in, c_out, (k,), (s,), (d,), (pad,), groups=groups, transposed=True, output_padding=(extra,))


TRANSPOSED_EDGES = [
    # output_padding beyond the cropped "after": the last cell is past the full scatter → only bias
    pytest.param((1, 1, 3), tconv1d(3, s=2, pad=(1, 0), extra=1), (1, 1, 7), id="output-padding-past-scatter"),
    # the usual upsampling ×2: k=3, s=2, p=1, output_padding=1 doubles the length
    pytest.param((1, 2, 4), tconv1d(3, c_in=2, c_out=2, s=2, pad=(1, 1), extra=1), (1, 2, 8), id="upsample-x2"),
    # stride larger than the kernel: the full output has holes that hold only the bias
    pytest.param((1, 1, 3), tconv1d(2, s=4), (1, 1, 10), id="stride-beyond-kernel"),
    # padding crops more than the kernel adds: the output is shorter than the input
    pytest.param((1, 1, 6), tconv1d(2, pad=(2, 3)), (1, 1, 2), id="crop-below-input"),
    # depthwise transposed with a multiplier, dilated, 2-D
    pytest.param((1, 2, 3, 2), ConvOp(2, 4, (2, 3), (2, 1), (2, 1), ((0, 1), (1, 0)), groups=2, transposed=True,
                                      output_padding=(1, 0)), (1, 4, 7, 3), id="depthwise-dilated-2d"),
]


@pytest.mark.parametrize("shape, op, out_shape", TRANSPOSED_EDGES)
def test_conv_transpose_edge_cases(shape, op, out_shape):
    x, w, b = random_arrays(11, shape, op.weight_shape, (op.out_channels,))
    expected = ref_conv_transpose(x, w, b, op)
    assert expected.shape == out_shape
    assert_matches(conv_forward(x, w, b, op), expected)


def pool1d(kind, k, *, s=None, d=1, pad=(0, 0), ceil=False, include=True, divisor=None):
    return PoolOp(kind, (k,), (s or k,), (d,), (pad,), ceil_mode=ceil, count_include_pad=include,
                  divisor_override=divisor)


POOL_EDGES = [
    # ceil_mode keeps a last partial window: length 5, k=2, s=2 → 3 instead of 2
    pytest.param(5, pool1d("max", 2, ceil=True), 3, id="ceil-adds-window"),
    pytest.param(5, pool1d("avg", 2, ceil=True), 3, id="ceil-adds-window-avg"),
    # ceil_mode would add a 4th window, but it would start in the right padding: dropped (3, not 4)
    pytest.param(5, pool1d("max", 2, pad=(1, 1), ceil=True), 3, id="ceil-drops-window-in-right-padding"),
    pytest.param(5, pool1d("avg", 2, pad=(1, 1), ceil=True, include=False), 3, id="ceil-drops-window-avg"),
    # ceil_mode on an exact fit adds nothing
    pytest.param(6, pool1d("max", 2, ceil=True), 3, id="ceil-exact-fit"),
    # count_include_pad: the border windows divide by 3 (pad counted) ...
    pytest.param(5, pool1d("avg", 3, s=2, pad=(1, 1), include=True), 3, id="avg-include-pad"),
    # ... or by 2 (only the real cells)
    pytest.param(5, pool1d("avg", 3, s=2, pad=(1, 1), include=False), 3, id="avg-exclude-pad"),
    # ceil window hanging past the right padding: count_include_pad counts only up to n + after
    pytest.param(6, pool1d("avg", 3, s=2, pad=(1, 1), ceil=True, include=True), 4, id="avg-ceil-past-padding"),
    # divisor_override replaces the count everywhere, borders included
    pytest.param(5, pool1d("avg", 3, s=2, pad=(1, 1), divisor=2), 3, id="avg-divisor-override"),
    # max with padding: an all-negative border window must not return the padding's 0
    pytest.param(4, pool1d("max", 3, s=1, pad=(1, 1)), 4, id="max-padding-never-wins"),
    # dilated pool with stride > span: cells skipped inside and between windows
    pytest.param(9, pool1d("max", 2, s=4, d=2), 2, id="max-dilated-skips"),
]


@pytest.mark.parametrize("n, op, out_len", POOL_EDGES)
def test_pool_edge_cases(n, op, out_len):
    (x,) = random_arrays(13, (2, 3, n))
    x = x - 2.0  # all negative, so a padding that "won" a max would show as 0
    expected = ref_pool(x, op)
    assert expected.shape == (2, 3, out_len)
    assert_matches(pool_forward(x, op), expected)


def test_count_include_pad_changes_only_the_border_windows():
    x = np.ones((1, 1, 5), np.float32)
    with_pad = pool_forward(x, pool1d("avg", 3, s=2, pad=(1, 1), include=True))
    without = pool_forward(x, pool1d("avg", 3, s=2, pad=(1, 1), include=False))
    np.testing.assert_allclose(with_pad[0, 0], [2 / 3, 1, 2 / 3], rtol=1e-6)
    np.testing.assert_allclose(without[0, 0], [1, 1, 1], rtol=1e-6)


# ------------------------------------------------------------------------------------------------
# 6. Shape arithmetic against the references' lengths and reads
# ------------------------------------------------------------------------------------------------

@st.composite
def one_axis(draw, max_pad=3):
    n, k, s, d = (draw(st.integers(1, 9)), draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 3)))
    return n, k, s, d, (draw(st.integers(0, max_pad)), draw(st.integers(0, max_pad)))


@settings(max_examples=150, deadline=None)
@given(one_axis())
def test_output_size_and_unreached_match_the_reference_loop(axis):
    n, k, s, d, pad = axis
    op = conv1d(n, k, s=s, d=d, pad=pad)
    x = np.ones((1, 1, n), np.float32)
    w = np.ones((1, 1, k), np.float32)
    reads = [set()]
    y = ref_conv(x, w, None, op, reads=reads)
    assume(y.shape[2] > 0)
    assert output_size(n, k, stride=s, pad=pad, dilation=d) == y.shape[2]
    (row,) = axis_formulas(op, (n,))
    assert row.out == y.shape[2]
    assert set(row.unreached) == set(range(n)) - reads[0]


@settings(max_examples=150, deadline=None)
@given(one_axis(), st.booleans())
def test_pool_output_size_and_unreached_match_the_reference_loop(axis, ceil):
    n, k, s, d, _ = axis
    pad = (min(axis[4][0], k // 2), min(axis[4][1], k // 2))
    op = pool1d("max", k, s=s, d=d, pad=pad, ceil=ceil)
    reads = [set()]
    y = ref_pool(np.zeros((1, 1, n), np.float32), op, reads=reads)
    assume(y.shape[2] > 0)
    assert pool_output_size(n, k, stride=s, pad=pad, dilation=d, ceil_mode=ceil) == y.shape[2]
    (row,) = axis_formulas(op, (n,))
    assert row.out == y.shape[2]
    assert set(row.unreached) == set(range(n)) - reads[0]


@settings(max_examples=150, deadline=None)
@given(one_axis(), st.data())
def test_transposed_output_size_matches_the_scatter_reference(axis, data):
    n, k, s, d, pad = axis
    extra = data.draw(st.integers(0, max(s, d) - 1))
    assume((n - 1) * s + d * (k - 1) + 1 - pad[0] - pad[1] + extra > 0)
    op = tconv1d(k, s=s, d=d, pad=pad, extra=extra)
    y = ref_conv_transpose(np.ones((1, 1, n), np.float32), np.ones((1, 1, k), np.float32), None, op)
    assert transposed_output_size(n, k, stride=s, pad=pad, dilation=d, output_padding=extra) == y.shape[2]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 30), st.integers(1, 7), st.integers(1, 4), st.integers(1, 3))
def test_same_padding_is_tensorflows(n, k, s, d):
    """TF "same": output ceil(n / s), the least total padding that gives it, any odd cell after."""
    pad = same_padding(n, k, stride=s, dilation=d)
    assert ref_conv_length(n, k, s, d, pad) == -(-n // s)
    assert pad[1] - pad[0] in (0, 1)
    if sum(pad):
        assert ref_conv_length(n, k, s, d, (0, sum(pad) - 1)) < -(-n // s)


@pytest.mark.parametrize("dims", [1, 2, 3])
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_window_taps_are_the_cells_the_reference_reads(dims, data):
    """window_taps lists, in np.ndindex order, the input coordinate each tap of a window reads."""
    x, _, _, op = data.draw(conv_cases(dims))
    outs = [ref_conv_length(n, k, s, d, p) for n, k, s, d, p in
            zip(x.shape[2:], op.kernel, op.stride, op.dilation, op.padding)]
    pos = tuple(data.draw(st.integers(0, m - 1)) for m in outs)
    expected = [tuple(pos[a] * op.stride[a] - op.padding[a][0] + tap[a] * op.dilation[a] for a in range(dims))
                for tap in grid(op.kernel)]
    assert list(window_taps(op, pos)) == expected


def test_unreached_in_3d_is_per_axis():
    """A 3-D op's unreached cells, per axis, are those no tap lands on along that axis."""
    op = ConvOp(1, 1, (2, 1, 3), (3, 2, 1), (1, 1, 2), ((0, 0), (1, 0), (0, 1)))
    spatial = (7, 4, 6)
    reads = [set(), set(), set()]
    x, w = np.ones((1, 1, *spatial), np.float32), np.ones((1, 1, *op.kernel), np.float32)
    ref_conv(x, w, None, op, reads=reads)
    for a, row in enumerate(axis_formulas(op, spatial)):
        assert set(row.unreached) == set(range(spatial[a])) - reads[a], a


# ------------------------------------------------------------------------------------------------
# 7. Activations against scalar definitions (math module)
# ------------------------------------------------------------------------------------------------

SELU_ALPHA = 1.6732632423543772848170429916717  # torch.nn.SELU docs
SELU_SCALE = 1.0507009873554804934193349852946


def sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def softplus(x, beta=1.0, threshold=20.0):
    """torch.nn.Softplus: log(1 + exp(βx))/β, reverting to x when βx > threshold."""
    return x if beta * x > threshold else math.log1p(math.exp(beta * x)) / beta


def hardsigmoid(x):
    """torch.nn.Hardsigmoid (= keras.activations.hard_sigmoid in Keras 3): relu6(x + 3)/6."""
    return 0.0 if x <= -3 else 1.0 if x >= 3 else x / 6 + 0.5


def keras_relu(x, max_value, negative_slope, threshold):
    """keras.activations.relu / keras.layers.ReLU: x capped at max_value above the threshold,
    negative_slope·(x − threshold) below it.

    At x == threshold the docstring's formula ("x if threshold <= x") and the docstring's own
    example disagree: ``relu([-10, -5, 0, 5, 10], threshold=5.)`` gives ``[-0, -0, 0, 0, 10]``,
    and Keras' code keeps x only where ``greater(x, threshold)``. The example (what Keras
    computes, and what tests/golden recorded) is the definition used here.
    """
    return min(x, max_value) if x > threshold else negative_slope * (x - threshold)


SCALAR = {
    "linear": lambda x: x,
    "relu": keras_relu,
    "relu6": lambda x: min(max(x, 0.0), 6.0),
    "leaky_relu": lambda x, negative_slope: x if x >= 0 else negative_slope * x,
    "elu": lambda x, alpha: x if x > 0 else alpha * math.expm1(x),
    "celu": lambda x, alpha: max(0.0, x) + min(0.0, alpha * math.expm1(x / alpha)),
    "selu": lambda x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * math.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + math.erf(x / math.sqrt(2))),
    "gelu_tanh": lambda x: 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "silu": lambda x: x * sigmoid(x),
    "mish": lambda x: x * math.tanh(math.log1p(math.exp(x))),
    "sigmoid": sigmoid,
    "tanh": math.tanh,
    "softplus": softplus,
    "softsign": lambda x: x / (1 + abs(x)),
    "hardtanh": lambda x, min_val, max_val: min(max(x, min_val), max_val),
    "hard_sigmoid": hardsigmoid,
    "hard_silu": lambda x: x * hardsigmoid(x),  # torch.nn.Hardswish
    "exponential": math.exp,
    "log_sigmoid": lambda x: -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x)),
    "tanh_shrink": lambda x: x - math.tanh(x),
    "soft_shrink": lambda x, threshold: x - threshold if x > threshold else x + threshold if x < -threshold else 0.0,
    "hard_shrink": lambda x, threshold: x if x > threshold or x < -threshold else 0.0,
    "squareplus": lambda x, b: (x + math.sqrt(x * x + b)) / 2,  # keras.activations.squareplus
    "sparse_plus": lambda x: 0.0 if x <= -1 else x if x >= 1 else (x + 1) ** 2 / 4,  # keras.activations.sparse_plus
}

# non-default settings, to check each parameter is actually used
OTHER_PARAMS = {
    "relu": {"max_value": 6.0, "negative_slope": 0.1, "threshold": 1.0},
    "leaky_relu": {"negative_slope": 0.2},
    "elu": {"alpha": 0.5},
    "celu": {"alpha": 2.0},
    "softplus": {"beta": 2.0, "threshold": 10.0},
    "hardtanh": {"min_val": -2.0, "max_val": 3.0},
    "soft_shrink": {"threshold": 1.0},
    "hard_shrink": {"threshold": 1.0},
    "squareplus": {"b": 1.0},
}

XS = np.unique(np.concatenate([np.linspace(-30, 30, 241), [0.0, 1e-3, -1e-3, 0.1, -0.1, 0.49, 0.51, -0.51,
                                                            2.99, 3.01, -2.99, -3.01, 5.99, 6.01, 9.9, 10.1,
                                                            19.9, 20.1]]).astype(np.float32))
ACTIVATION_CASES = [pytest.param(name, params, id=f"{name}-{tag}")
                    for name in sorted(ACTIVATIONS)
                    for tag, params in [("defaults", ACTIVATIONS[name][1]), ("other", OTHER_PARAMS.get(name))]
                    if params is not None]


@pytest.mark.parametrize("name, params", ACTIVATION_CASES)
def test_activation_matches_scalar_definition(name, params):
    assert name in SCALAR, f"no scalar reference for activation {name!r}: add one to SCALAR"
    y = apply_activation(Activation(name, tuple(params.items())), XS)
    expected = np.array([SCALAR[name](float(v), **params) for v in XS])
    assert y.dtype == np.float32 and y.shape == XS.shape
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-30, err_msg=name)


def test_every_scalar_reference_is_an_engine_activation():
    assert set(SCALAR) == set(ACTIVATIONS)


# ------------------------------------------------------------------------------------------------
# 8. Negative controls: the comparisons above can fail
# ------------------------------------------------------------------------------------------------

def test_a_flipped_kernel_reference_does_not_match():
    """True convolution (flipped kernel) differs from the engine's cross-correlation."""
    op = ConvOp(2, 3, (3, 2), (1, 2), (1, 1), ((1, 0), (0, 1)))
    x, w, b = random_arrays(3, (1, 2, 5, 6), op.weight_shape, (3,))
    flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1])
    with pytest.raises(AssertionError):
        assert_matches(conv_forward(x, w, b, op), ref_conv(x, flipped, b, op))


def test_symmetric_instead_of_reflect_padding_does_not_match():
    """Reflect repeats no edge cell; numpy's 'symmetric' does. The reference tells them apart."""
    op = conv1d(5, 3, pad=(2, 2), mode="reflect")
    x, w = random_arrays(5, (1, 1, 5), (1, 1, 3))
    symmetric = np.pad(x, [(0, 0), (0, 0), (2, 2)], mode="symmetric")
    wrong = ref_conv(symmetric, w, None, conv1d(9, 3))
    with pytest.raises(AssertionError):
        assert_matches(conv_forward(x, w, None, op), wrong)
    assert_matches(conv_forward(x, w, None, op), ref_conv(x, w, None, op))


def test_a_wrong_transposed_crop_does_not_match():
    """Cropping padding from the end instead of the start is caught."""
    op = tconv1d(3, s=2, pad=(2, 0))
    x, w = random_arrays(9, (1, 1, 4), (1, 1, 3))
    wrong = ref_conv_transpose(x, w, None, tconv1d(3, s=2, pad=(0, 2)))
    with pytest.raises(AssertionError):
        assert_matches(conv_forward(x, w, None, op), wrong)


def test_the_tolerance_is_tight():
    """A one-in-ten-thousand error on one cell is not waved through."""
    op = ConvOp(2, 2, (3,), (1,), (1,), ((1, 1),))
    x, w, b = random_arrays(1, (1, 2, 6), op.weight_shape, (2,))
    y = conv_forward(x, w, b, op)
    y[0, 1, 3] += 1e-3 * max(1.0, float(np.abs(y).max()))
    with pytest.raises(AssertionError):
        assert_matches(y, ref_conv(x, w, b, op))


def test_max_pool_where_padding_wins_does_not_match():
    """A max pool padded with zeros (instead of −∞) differs on an all-negative input."""
    op = pool1d("max", 3, s=1, pad=(1, 1))
    x = -1 - random_arrays(2, (1, 1, 4))[0] ** 2
    padded = np.pad(x, [(0, 0), (0, 0), (1, 1)])
    with pytest.raises(AssertionError):
        assert_matches(pool_forward(x, op), ref_pool(padded, pool1d("max", 3, s=1)))
