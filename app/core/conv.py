"""Forward convolution (direct and transposed) and the sliding window's steps.

Cross-correlation, as every framework computes it: no kernel flip. Arrays are channels-first,
(N, C, *spatial), float32. Windows are strided views (``sliding_window_view``), reduced by BLAS.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from app.core.ops import ConvOp, Pad
from app.core.shapes import effective_kernel

_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad_input(x: np.ndarray, padding: tuple[Pad, ...], mode: str = "zeros",
              value: float = 0.0) -> np.ndarray:
    """Pad the spatial axes; a negative amount crops instead (used by transposed convs)."""
    widths = [(max(b, 0), max(a, 0)) for b, a in padding]
    if any(b or a for b, a in widths):
        if mode == "zeros":
            x = np.pad(x, [(0, 0), (0, 0), *widths], constant_values=value)
        else:
            x = np.pad(x, [(0, 0), (0, 0), *widths], mode=_NUMPY_PAD_MODE[mode])
    crop = tuple(slice(max(-b, 0), x.shape[2 + i] - max(-a, 0)) for i, (b, a) in enumerate(padding))
    return x[(slice(None), slice(None), *crop)]


def windows(xp: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    """View (N, C, *out, *kernel) of every window of a padded input: no copy."""
    nd = len(kernel)
    span = tuple(effective_kernel(k, d) for k, d in zip(kernel, dilation))
    v = sliding_window_view(xp, span, axis=tuple(range(2, 2 + nd)))
    every = (slice(None),) * 2
    return v[every + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, d) for d in dilation)]


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, op: ConvOp) -> np.ndarray:
    """y[n, o, p] = b[o] + Σ_{c in o's group, k} w[o, c, k] · x_padded[n, c, p·stride + k·dilation]."""
    if op.transposed:
        return _conv_transpose(x, w, b, op)
    nd, groups = op.dims, op.groups
    v = windows(pad_input(x, op.padding, op.padding_mode), op.kernel, op.stride, op.dilation)
    n, c, out_spatial = x.shape[0], op.in_channels, v.shape[2:2 + nd]
    cg, og = c // groups, op.out_channels // groups
    if groups == 1:  # one im2col copy + one GEMM inside tensordot
        y = np.tensordot(w, v, axes=([1, *range(2, 2 + nd)], [1, *range(2 + nd, 2 + 2 * nd)]))
        y = np.moveaxis(y, 0, 1)
    elif cg == 1:  # depthwise: one multiply-add over the whole tensor per kernel tap, no copies
        vg = v.reshape(n, groups, 1, *out_spatial, *op.kernel)
        wg = w.reshape(groups, og, *op.kernel)
        y = np.zeros((n, groups, og, *out_spatial), dtype=np.float32)
        tmp = np.empty_like(y)
        lead = (slice(None),) * (3 + nd)
        bcast = (slice(None), slice(None)) + (None,) * nd
        for tap in np.ndindex(*op.kernel):
            np.multiply(vg[lead + tap], wg[(slice(None), slice(None), *tap)][bcast], out=tmp)
            y += tmp
        y = y.reshape(n, op.out_channels, *out_spatial)
    else:  # a GEMM per group
        axes = ([1, *range(2, 2 + nd)], [1, *range(2 + nd, 2 + 2 * nd)])
        y = np.concatenate([np.moveaxis(np.tensordot(w[g * og:(g + 1) * og], v[:, g * cg:(g + 1) * cg], axes=axes), 0, 1)
                            for g in range(groups)], axis=1)
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * nd)
    return np.ascontiguousarray(y, dtype=np.float32)


def zero_insert(x: np.ndarray, stride) -> np.ndarray:
    """Put stride−1 zeros between neighbouring input values on each spatial axis."""
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


@dataclass(frozen=True)
class Step:
    """One position of the sliding window: the output cell, and the input cell each tap reads.

    Input coordinates are in the unpadded input; values outside 0..n−1 fall in the padding.
    """

    out: tuple[int, ...]
    taps: tuple[tuple[int, ...], ...]


def window_taps(op: ConvOp, out: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Input coordinates read by each kernel tap, in ``np.ndindex(*kernel)`` order."""
    starts = [o * s - p[0] for o, s, p in zip(out, op.stride, op.padding)]
    return tuple(tuple(st + j * d for st, j, d in zip(starts, tap, op.dilation))
                 for tap in np.ndindex(*op.kernel))


def steps(op: ConvOp, out_spatial: tuple[int, ...]) -> list[Step]:
    """Every step of the window, in the order the frameworks fill the output (row-major)."""
    if math.prod(out_spatial) > 100_000:
        raise ValueError("too many steps to list; ask for one with window_taps")
    return [Step(out, window_taps(op, out)) for out in np.ndindex(*out_spatial)]
