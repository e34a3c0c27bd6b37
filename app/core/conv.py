"""Forward convolution (direct and transposed) and the sliding window's steps.

Cross-correlation, as every framework computes it: no kernel flip. Arrays are channels-first,
(N, C, *spatial), float32. Windows are strided views (``sliding_window_view``), reduced by BLAS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from ..core.ops import ConvOp, Pad, PoolOp
from ..core.scratch import scratch
from ..core.shapes import effective_kernel

# Bytes of im2col columns per block. A dense conv's GEMMs run faster the wider they are: 3 MB measured
# best on a 1 MB-L2 / 32 MB-L3 CPU (1 MB: 1.2× slower). A grouped conv's thin GEMMs are memory-bound
# and do best in one pass; the bound only caps the temporary memory.
DENSE_BLOCK_BYTES = 3 << 20
GROUPED_BLOCK_BYTES = 16 << 20
_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad_input(x: np.ndarray, padding: tuple[Pad, ...], mode: str = "zeros",
              value: float = 0.0) -> np.ndarray:
    """Pad the spatial axes; a negative amount crops instead (used by transposed convs).

    >>> x = np.array([[[1., 2, 3, 4, 5]]])
    >>> pad_input(x, ((1, 2),)).tolist(), pad_input(x, ((2, 1),), "reflect").tolist()
    ([[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 0.0]]], [[[3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 5.0, 4.0]]])
    >>> pad_input(x, ((1, 1),), "circular").tolist(), pad_input(x, ((-1, 0),)).tolist()
    ([[[5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 1.0]]], [[[2.0, 3.0, 4.0, 5.0]]])
    """
    widths = [(max(b, 0), max(a, 0)) for b, a in padding]
    if any(b or a for b, a in widths):
        if mode == "zeros":
            x = np.pad(x, [(0, 0), (0, 0), *widths], constant_values=value)
        else:
            x = np.pad(x, [(0, 0), (0, 0), *widths], mode=_NUMPY_PAD_MODE[mode])
    crop = tuple(slice(max(-b, 0), x.shape[2 + i] - max(-a, 0)) for i, (b, a) in enumerate(padding))
    return x[(slice(None), slice(None), *crop)]


def windows(xp: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    """View (N, C, *out, *kernel) of every window of a padded input: no copy.

    Length 5, kernel 2: stride 2 leaves position 4 unread; dilation 2 spreads each window's taps apart.

    >>> x = np.array([[[1., 2, 3, 4, 5]]])
    >>> windows(x, (2,), (2,), (1,))[0, 0].tolist(), windows(x, (2,), (1,), (2,))[0, 0].tolist()
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 3.0], [2.0, 4.0], [3.0, 5.0]])
    """
    nd = len(kernel)
    span = tuple(effective_kernel(k, d) for k, d in zip(kernel, dilation))
    v = sliding_window_view(xp, span, axis=tuple(range(2, 2 + nd)))
    every = (slice(None),) * 2
    return v[every + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, d) for d in dilation)]


def _windows_by_tap(x: np.ndarray, op: ConvOp) -> tuple[np.ndarray, tuple[int, ...], tuple]:
    """A view (N, C, *kernel, *grid): the input value each kernel tap multiplies at each output
    position. No copy.

    With stride 1 the padded input is laid out flat and each tap reads one contiguous run: a
    "wide" grid whose rows span the whole padded width, from which ``keep`` selects the real
    output. Otherwise the view is the strided windows of the padded input.
    """
    n, c, *spatial = x.shape
    nd = op.dims
    if any(s != 1 for s in op.stride):
        v = windows(pad_input(x, op.padding, op.padding_mode), op.kernel, op.stride, op.dilation)
        return np.moveaxis(v, tuple(range(2 + nd, 2 + 2 * nd)), tuple(range(2, 2 + nd))), v.shape[2:2 + nd], ()
    padded = [m + b + a for m, (b, a) in zip(spatial, op.padding)]
    out = [p - effective_kernel(k, d) + 1 for p, k, d in zip(padded, op.kernel, op.dilation)]
    steps = [math.prod(padded[i + 1:]) for i in range(nd)]  # flat index step of each axis
    grid = (out[0], *padded[1:])
    extra = sum((k - 1) * d * st for k, d, st in zip(op.kernel[1:], op.dilation[1:], steps[1:]))
    flat = scratch("flat", (n, c, math.prod(padded) + extra))
    flat.fill(0)
    box = flat[:, :, :math.prod(padded)].reshape(n, c, *padded)
    if op.padding_mode == "zeros" and all(b >= 0 and a >= 0 for b, a in op.padding):
        box[(Ellipsis, *[slice(b, b + m) for m, (b, _) in zip(spatial, op.padding)])] = x  # zeros around
    else:
        box[...] = pad_input(x, op.padding, op.padding_mode)
    item = flat.itemsize
    v = np.ndarray((n, c, *op.kernel, *grid), np.float32, flat, 0,  # as_strided, without its overhead
                   (*flat.strides[:2], *[d * st * item for d, st in zip(op.dilation, steps)],
                    *[st * item for st in steps]))
    v.flags.writeable = False
    return v, grid, (Ellipsis, slice(None), *[slice(0, o) for o in out[1:]])


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, op: ConvOp) -> np.ndarray:
    """y[n, o, p] = b[o] + Σ_{c in o's group, k} w[o, c, k] · x_padded[n, c, p·stride + k·dilation].

    Conv1d(1, 1, kernel_size=2, stride=2) with weight [1, 10] and bias 0.5 on 1 2 3 4 5: 0.5 + 1·1 + 2·10 and
    0.5 + 3·1 + 4·10; the 5 is never read.

    >>> from app.core.frameworks import build_layer
    >>> op = build_layer("torch", {"type": "Conv1d", "in_channels": 1, "out_channels": 1, "kernel_size": 2,
    ...                            "stride": 2}, (1, 1, 5)).stages[0]
    >>> conv_forward(np.array([[[1., 2, 3, 4, 5]]]), np.array([[[1., 10]]]), np.array([0.5]), op).tolist()
    [[[21.5, 43.5]]]
    """
    if op.transposed:
        return _conv_transpose(x, w, b, op)
    v, grid, keep = _windows_by_tap(x, op)
    g, og = op.groups, op.out_channels // op.groups
    run = math.prod(grid) + (op.kernel[-1] - 1) * op.dilation[-1]
    shifted_cols_bytes = x.shape[0] * op.in_channels * math.prod(op.kernel[:-1]) * run * 4
    if keep and og == 1 and op.kernel[-1] > 1 and shifted_cols_bytes <= GROUPED_BLOCK_BYTES:
        y = _last_axis_shifts(v, w, op, grid)
    else:
        y = _im2col_gemm(v, w, op, grid)
    if b is not None:  # on the contiguous wide grid, in long runs, before the crop
        np.add(y, b.reshape(1, g, og, 1), out=y)
    return y.reshape(x.shape[0], op.out_channels, *grid)[keep].copy()  # out of scratch memory


def _im2col_gemm(v: np.ndarray, w: np.ndarray, op: ConvOp, grid: tuple[int, ...]) -> np.ndarray:
    """(N, groups, filters per group, positions): im2col, then one GEMM per group.

    The columns' rows are tap, then channel (long contiguous runs); the GEMMs are batched by matmul
    (for a depthwise conv each is (1 × taps) @ (taps × positions)) and go in blocks of output rows:
    a dense conv's GEMMs are wide enough to run near peak, a grouped conv's thin ones run at memory
    speed and do best in one pass; the blocks also bound the temporary memory.
    """
    n, g, nd = v.shape[0], op.groups, op.dims
    cg, og = op.in_channels // g, op.out_channels // g
    taps, cells = math.prod(op.kernel), math.prod(grid)
    wg = w.reshape(g, og, cg, taps).transpose(0, 1, 3, 2).reshape(g, og, taps * cg)
    row = cells // grid[0]
    per_block = max(1, (DENSE_BLOCK_BYTES if g == 1 else GROUPED_BLOCK_BYTES) // (n * g * taps * cg * row * 4))
    y = scratch("wide", (n, g, og, cells))
    buf = scratch("cols", (n * g * taps * cg * min(per_block, grid[0]) * row,))
    to_cols = (0, 1, *range(3, 3 + nd), 2, *range(3 + nd, 3 + 2 * nd))  # (n, g, *kernel, cg, *grid)
    for r0 in range(0, grid[0], per_block):
        r1 = min(grid[0], r0 + per_block)
        block = v[(Ellipsis, slice(r0, r1), *[slice(None)] * (nd - 1))]
        cols = buf[:n * g * taps * cg * (r1 - r0) * row].reshape(n, g, *op.kernel, cg, r1 - r0, *grid[1:])
        np.copyto(cols, block.reshape(n, g, cg, *block.shape[2:]).transpose(to_cols))
        np.matmul(wg, cols.reshape(n, g, taps * cg, -1), out=y[..., r0 * row:r1 * row])
    return y


def _last_axis_shifts(v: np.ndarray, w: np.ndarray, op: ConvOp, grid: tuple[int, ...]) -> np.ndarray:
    """(N, groups, 1, positions) for one filter per group (depthwise) on the stride-1 wide grid.

    Such a conv is memory-bound, and im2col copies the input once per tap. Here the copy is once
    per tap of every kernel axis but the last, one GEMM per group gives each last-axis tap's partial
    sums over a run that long plus the last axis's span, and those are added at their shifts.
    """
    n, g, nd = v.shape[0], op.groups, op.dims
    cg, k, d = op.in_channels // g, op.kernel[-1], op.dilation[-1]
    cells = math.prod(grid)
    # on the wide grid, last-axis tap j of a window starting at flat position p reads p + j·d
    runs = as_strided(v, (n, g, cg, *op.kernel[:-1], cells + (k - 1) * d),
                      (*v.strides[:1], v.strides[1] * cg, *v.strides[1:1 + nd], v.itemsize), writeable=False)
    cols = scratch("cols", runs.shape)
    np.copyto(cols, runs)
    wk = w.reshape(g, -1, k).transpose(0, 2, 1)  # (g, last-axis tap, channel × other taps)
    z = np.matmul(wk, cols.reshape(n, g, -1, runs.shape[-1]), out=scratch("taps", (n, g, k, runs.shape[-1])))
    y = np.add(z[:, :, :1, :cells], z[:, :, 1:2, d:d + cells], out=scratch("wide", (n, g, 1, cells)))
    for j in range(2, k):
        np.add(y, z[:, :, j:j + 1, j * d:j * d + cells], out=y)
    return y


def zero_insert(x: np.ndarray, stride) -> np.ndarray:
    """Put stride−1 zeros between neighbouring input values on each spatial axis.

    >>> zero_insert(np.array([[[1., 2, 3]]]), (2,)).tolist()
    [[[1.0, 0.0, 2.0, 0.0, 3.0]]]
    """
    n, c, *spatial = x.shape
    up = np.zeros((n, c, *[(m - 1) * s + 1 for m, s in zip(spatial, stride)]), dtype=x.dtype)
    up[(slice(None), slice(None), *[slice(None, None, s) for s in stride])] = x
    return up


def transposed_as_direct(op: ConvOp, w: np.ndarray) -> tuple[ConvOp, np.ndarray]:
    """The direct conv that a transposed conv equals, over the zero-inserted input.

    Each side is padded by the dilated kernel span − 1 − the transposed padding (negative: crop);
    output_padding adds at the end. The weight is flipped and its in/out channel axes swapped.
    """
    nd, g = op.dims, op.groups
    cg, og = op.in_channels // g, op.out_channels // g
    padding = tuple((effective_kernel(k, d) - 1 - pb, effective_kernel(k, d) - 1 - pa + extra)
                    for k, d, (pb, pa), extra in zip(op.kernel, op.dilation, op.padding, op.output_padding))
    flipped = w[(slice(None), slice(None), *[slice(None, None, -1)] * nd)]
    direct_w = flipped.reshape(g, cg, og, *op.kernel).swapaxes(1, 2).reshape(op.out_channels, cg, *op.kernel)
    direct = replace(op, transposed=False, stride=(1,) * nd, padding=padding, output_padding=())
    return direct, np.ascontiguousarray(direct_w)


def _conv_transpose(x, w, b, op: ConvOp) -> np.ndarray:
    direct, direct_w = transposed_as_direct(op, w)
    up = zero_insert(x, op.stride)
    # the direct conv's pad_input crops where its padding is negative
    return conv_forward(up, direct_w, b, direct)


def scatter(x: np.ndarray, w: np.ndarray, op, canvas: tuple[int, ...]) -> np.ndarray:
    """The transposed conv by its definition, before cropping and bias (float64, channels-first):
    canvas[o, i·stride + j·dilation] += x[c, i] · w[c, o − group start, j] for every input channel c
    of o's group, input position i and kernel tap j. ``w`` is in the canonical layout (C_in, C_out/g, *k).

    ConvTranspose1d(1, 1, kernel_size=2, stride=2) with weight [1, 10]: each input value stamps x·[1, 10].

    >>> from app.core.frameworks import build_layer
    >>> op = build_layer("torch", {"type": "ConvTranspose1d", "in_channels": 1, "out_channels": 1, "kernel_size": 2,
    ...                            "stride": 2}, (1, 1, 3)).stages[0]
    >>> scatter(np.array([[1., 2, 3]]), np.array([[[1., 10]]]), op, (6,)).tolist()
    [[1.0, 10.0, 2.0, 20.0, 3.0, 30.0]]
    """
    cin, og = w.shape[:2]
    g = op.groups
    cg = cin // g
    out = np.zeros((og * g, *canvas))
    x, w = x.astype(np.float64), w.astype(np.float64)
    for tap in np.ndindex(*op.kernel):
        at = (slice(None), *[slice(j * d, j * d + (n - 1) * s + 1, s)
                             for j, d, s, n in zip(tap, op.dilation, op.stride, x.shape[1:])])
        for group in range(g):
            ins, outs = slice(group * cg, (group + 1) * cg), slice(group * og, (group + 1) * og)
            # every input value of the group times this tap's weight for every output channel
            out[outs][at] += np.tensordot(w[(ins, slice(None), *tap)], x[ins], axes=(0, 0))
    return out


@dataclass(frozen=True)
class ScatterStep:
    """One step of a transposed conv's scatter into one output channel: input ``channel`` (its index
    among the channels that feed that output), ``position`` and ``value``; the canvas cells its kernel
    copy lands on (``stamp``, in np.ndindex(kernel) order) and what it adds there (``adds``, kernel-shaped)."""

    channel: int
    position: tuple[int, ...]
    value: float
    stamp: tuple[tuple[int, ...], ...]
    adds: np.ndarray


def scatter_steps(x: np.ndarray, w: np.ndarray, op, canvas: tuple[int, ...]):
    """One output channel's scatter (see ``scatter``), one input value at a time: channel by channel,
    positions row-major. ``x`` (C, *size) holds the input channels that feed the output channel and
    ``w`` (C, *kernel) each one's kernel into it. Yields each step and the running canvas after it:
    one float64 array, updated in place (copy what you keep); after the last step it is that channel of
    ``scatter``. Each step adds only its stamp, so playing every step costs one scatter, not one per step.

    >>> op = ConvOp(1, 1, (2,), (2,), (1,), ((0, 0),), transposed=True)
    >>> [(s.position, s.stamp, c.tolist()) for s, c in scatter_steps(np.array([[1.0, 2.0]]), np.array([[1.0, 10.0]]),
    ...                                                              op, (4,))]
    [((0,), ((0,), (1,)), [1.0, 10.0, 0.0, 0.0]), ((1,), ((2,), (3,)), [1.0, 10.0, 2.0, 20.0])]
    """
    out = np.zeros(canvas)
    w = w.astype(np.float64)
    taps = list(np.ndindex(*op.kernel))
    for c in range(x.shape[0]):
        for pos in np.ndindex(*x.shape[1:]):
            step = scatter_step(x, w, op, c, pos)
            for cell, tap in zip(step.stamp, taps):
                out[cell] += step.adds[tap]
            yield step, out


def scatter_step(x: np.ndarray, w: np.ndarray, op, c: int, pos: tuple[int, ...]) -> ScatterStep:
    """One step of ``scatter_steps`` on its own (no running canvas): input channel ``c`` at ``pos``, the canvas
    cells its kernel copy lands on and what it adds there. A step far into a large layer costs one kernel.

    >>> op = ConvOp(1, 1, (2,), (2,), (2,), ((0, 0),), transposed=True)
    >>> st = scatter_step(np.array([[1.0, 2.0]]), np.array([[1.0, 10.0]]), op, 0, (1,))
    >>> st.value, st.stamp, st.adds.tolist()
    (2.0, ((2,), (4,)), [2.0, 20.0])
    """
    taps = np.ndindex(*op.kernel)
    stamp = tuple(tuple(int(i * s + j * d) for i, j, s, d in zip(pos, tap, op.stride, op.dilation)) for tap in taps)
    value = float(x[(c, *pos)])
    return ScatterStep(c, tuple(int(i) for i in pos), value, stamp, value * w[c].astype(np.float64))

def window_taps(op: ConvOp | PoolOp, out: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Input coordinates read by each kernel tap of output ``out``, in ``np.ndindex(*kernel)`` order:
    tap j reads o·stride − pad_before + j·dilation (outside 0..n−1: the padding).

    >>> window_taps(ConvOp(1, 1, (3,), (2,), (1,), ((1, 1),)), (2,))
    ((3,), (4,), (5,))
    """
    starts = [o * s - p[0] for o, s, p in zip(out, op.stride, op.padding)]
    return tuple(tuple(st + j * d for st, j, d in zip(starts, tap, op.dilation))
                 for tap in np.ndindex(*op.kernel))


@dataclass(frozen=True)
class ChannelSum:
    """One input channel's part of an output value: (input, weight) per kernel tap, and their sum."""

    channel: int
    terms: tuple[tuple[float, float], ...]
    total: float


@dataclass(frozen=True)
class StepArithmetic:
    """An output value written out: per input channel of the filter's group, then + bias."""

    filter: int
    out: tuple[int, ...]
    channels: tuple[ChannelSum, ...]
    bias: float

    @property
    def total(self) -> float:
        return sum(c.total for c in self.channels) + self.bias


def window_cells(op: ConvOp, padded: tuple[int, ...], outs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the windows of output positions ``outs`` (S, dims) read a padded channel of shape ``padded``, as
    flat (row-major) indices: tap t of position s reads ``origins[s] + offsets[t]`` (taps in np.ndindex order).

    >>> op = ConvOp(1, 1, (2, 2), (1, 1), (1, 1), ((0, 0),) * 2)
    >>> [a.tolist() for a in window_cells(op, (3, 4), [[0, 0], [1, 2]])]
    [[0, 6], [0, 1, 4, 5]]
    """
    strides = [math.prod(padded[i + 1:]) for i in range(len(padded))]  # flat index step of each padded axis
    taps = np.indices(op.kernel).reshape(len(padded), -1).T  # (taps, dims)
    origins = np.asarray(outs, dtype=np.int64).reshape(-1, len(padded)) @ np.multiply(op.stride, strides)
    return origins, taps @ np.multiply(op.dilation, strides)


def window_arithmetic(xp: np.ndarray, w: np.ndarray, op: ConvOp, f: int,
                      outs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The numbers behind y[f, out] for every output position of ``outs`` (S, dims) at once, for one batch
    item (``xp``: its padded input (C, *padded)): the inputs each kernel tap reads, (S, C/groups, taps), taps
    in ``np.ndindex(*kernel)`` order; the filter's weights, (C/groups, taps); and each channel's sum of
    products, (S, C/groups), in float64, added tap by tap in that order (as a person adds them).

    >>> op = ConvOp(2, 1, (2,), (1,), (1,), ((0, 0),))
    >>> x, k, sums = window_arithmetic(np.array([[1, 2, 3], [4, 5, 6]], np.float32),
    ...                                np.array([[[1, 10], [0.5, 2]]], np.float32), op, 0, np.array([[0], [1]]))
    >>> x.tolist(), k.tolist(), sums.tolist()
    ([[[1.0, 2.0], [4.0, 5.0]], [[2.0, 3.0], [5.0, 6.0]]], [[1.0, 10.0], [0.5, 2.0]], [[21.0, 12.0], [32.0, 14.5]])
    """
    cg = op.in_channels // op.groups
    group = f // (op.out_channels // op.groups)
    origins, offsets = window_cells(op, xp.shape[1:], outs)
    x = xp[group * cg:(group + 1) * cg].reshape(cg, -1)[:, origins[:, None] + offsets].transpose(1, 0, 2)
    k = w[f].reshape(cg, -1)
    products = x.astype(np.float64) * k.astype(np.float64)
    sums = np.add.accumulate(products, axis=2)[:, :, -1]
    return x, k, sums


def step_arithmetic(xp: np.ndarray, w: np.ndarray, b: np.ndarray | None, op: ConvOp, f: int,
                    out: tuple[int, ...]) -> StepArithmetic:
    """The numbers behind y[f, out] for one batch item: ``xp`` is its padded input (C, *padded)."""
    cg = op.in_channels // op.groups
    group = f // (op.out_channels // op.groups)
    x, k, sums = window_arithmetic(xp, w, op, f, np.array([out]))
    weights = k.tolist()
    channels = tuple(ChannelSum(group * cg + local, tuple(zip(xs, weights[local])), total)
                     for local, (xs, total) in enumerate(zip(x[0].tolist(), sums[0].tolist())))
    return StepArithmetic(f, tuple(out), channels, float(b[f]) if b is not None else 0.0)


def im2col(xp: np.ndarray, op: ConvOp, layout: str = "torch") -> np.ndarray:
    """One sample's padded input ``xp`` (C, *padded) unfolded into the patch matrix: one column per
    output position (row-major), one row per (channel, kernel tap) — channel-major, then the taps
    row-major, as ``torch.nn.Unfold`` gives (C·k…, L). ``layout="keras"``: the same numbers as Keras
    multiplies them, (L, k…·C), taps-major then channel (for groups > 1: group, taps, channel in group).
    ``weight_matrix(w, op) @ im2col(xp, op)`` (PyTorch) and ``im2col(xp, op, "keras") @ weight_matrix(w,
    op, "keras")`` (Keras) are the conv's output before the bias, one position per column / row.

    >>> op = ConvOp(2, 1, (2,), (1,), (1,), ((0, 0),))
    >>> xp = np.array([[1, 2, 3], [4, 5, 6]], np.float32)
    >>> im2col(xp, op)
    array([[1., 2.],
           [2., 3.],
           [4., 5.],
           [5., 6.]], dtype=float32)
    >>> im2col(xp, op, "keras")
    array([[1., 4., 2., 5.],
           [2., 5., 3., 6.]], dtype=float32)
    """
    v = windows(xp[None], op.kernel, op.stride, op.dilation)[0]  # (C, *out, *kernel)
    nd = op.dims
    cols = np.moveaxis(v, tuple(range(1 + nd, 1 + 2 * nd)), tuple(range(1, 1 + nd)))  # (C, *kernel, *out)
    patches = cols.reshape(xp.shape[0] * math.prod(op.kernel), -1)
    return _keras_rows(patches, op).T.copy() if layout == "keras" else np.ascontiguousarray(patches)


def weight_matrix(w: np.ndarray, op: ConvOp, layout: str = "torch") -> np.ndarray:
    """The conv's weight (F, C/groups, *k) as the matrix that multiplies ``im2col``'s: PyTorch
    (F, C·k…), Keras (k…·C, F), block-diagonal for groups > 1 (zeros where a filter's group does not
    read: one block per group, so one product gives every group's output).

    >>> op = ConvOp(2, 2, (1,), (1,), (1,), ((0, 0),), groups=2)
    >>> weight_matrix(np.array([[[5]], [[7]]], np.float32), op)
    array([[5., 0.],
           [0., 7.]], dtype=float32)
    """
    g, f, cg = op.groups, op.out_channels, op.in_channels // op.groups
    rows = w.reshape(g, f // g, -1)
    m = np.zeros((f, g, rows.shape[2]), np.float32)
    for i in range(g):
        m[i * (f // g):(i + 1) * (f // g), i] = rows[i]
    m = m.reshape(f, g * cg * math.prod(op.kernel))
    return _keras_rows(m.T, op) if layout == "keras" else m


def _keras_rows(m: np.ndarray, op: ConvOp) -> np.ndarray:
    """Rows in PyTorch's order (group, channel in group, taps) -> Keras' (group, taps, channel in group)."""
    g, taps = op.groups, math.prod(op.kernel)
    return m.reshape(g, op.in_channels // g, taps, -1).transpose(0, 2, 1, 3).reshape(m.shape).copy()
