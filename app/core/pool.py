"""Max and average pooling, channels-first, with the frameworks' padding and ceil_mode rules."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.conv import pad_input, window_taps, windows
from ..core.ops import PoolOp
from ..core.shapes import effective_kernel, pool_output_size


def _cells_counted(out: int, n: int, k: int, s: int, pad, d: int, include_pad: bool) -> np.ndarray:
    """Per output position on one axis: how many of the window's taps an average divides by."""
    lo, hi = (-pad[0], n + pad[1]) if include_pad else (0, n)
    taps = np.arange(out)[:, None] * s - pad[0] + np.arange(k)[None, :] * d
    return ((taps >= lo) & (taps < hi)).sum(axis=1)


def pool_geometry(op: PoolOp, spatial: tuple[int, ...]) -> tuple[list[int], tuple[tuple[int, int], ...]]:
    """The output size per axis, and the padding that makes every window exist: ceil_mode's last
    window may hang past the padding, so the padding after is widened to reach its end.

    >>> pool_geometry(PoolOp("max", (2,), (2,), (1,), ((0, 0),), ceil_mode=True), (5,))
    ([3], ((0, 1),))
    """
    out = [pool_output_size(spatial[i], op.kernel[i], stride=op.stride[i], pad=op.padding[i],
                            dilation=op.dilation[i], ceil_mode=op.ceil_mode) for i in range(op.dims)]
    padding = tuple((pb, max(pa, (o - 1) * s + effective_kernel(k, d) - n - pb))
                    for (pb, pa), o, s, k, d, n in zip(op.padding, out, op.stride, op.kernel, op.dilation, spatial))
    return out, padding


def pool_forward(x: np.ndarray, op: PoolOp) -> np.ndarray:
    """Max: padding never wins (−∞). Average: sum of the real cells over the counted cells.

    MaxPool1d(2) on 1 5 2 0 7 keeps 5 and 2 (the 7 is left over); AvgPool1d(2, padding=1) divides by 2 in every
    window, padding included (count_include_pad=True): (0 + 1)/2, (5 + 2)/2, (0 + 7)/2.

    >>> from app.core.frameworks import build_layer
    >>> x = np.array([[[1., 5, 2, 0, 7]]])
    >>> pool_forward(x, build_layer("torch", {"type": "MaxPool1d", "kernel_size": 2}, (1, 1, 5)).stages[0]).tolist()
    [[[5.0, 2.0]]]
    >>> avg = build_layer("torch", {"type": "AvgPool1d", "kernel_size": 2, "padding": 1}, (1, 1, 5)).stages[0]
    >>> pool_forward(x, avg).tolist()
    [[[0.5, 3.5, 3.5]]]
    """
    n_axes = op.dims
    spatial = x.shape[2:]
    out, padding = pool_geometry(op, spatial)
    fill = -np.inf if op.kind == "max" else 0.0
    taps = tap_slices(pad_input(x, padding, value=fill), op, out)
    if op.kind == "max":
        y = next(taps).copy()
        for part in taps:
            np.maximum(y, part, out=y)
        return np.ascontiguousarray(y, dtype=np.float32)
    total = np.zeros((*x.shape[:2], *out))
    for part in taps:  # float64: a window of float32 values (within ~2^20 of each other) adds up exactly in any order
        total += part
    if op.divisor_override:
        return (total / op.divisor_override).astype(np.float32)
    divisor = np.ones((), dtype=np.float64)
    for i in range(n_axes):
        counts = _cells_counted(out[i], spatial[i], op.kernel[i], op.stride[i], op.padding[i],
                                op.dilation[i], op.count_include_pad)
        divisor = np.multiply.outer(divisor, counts)
    return (total / divisor).astype(np.float32)


def tap_slices(padded: np.ndarray, op: PoolOp, out: tuple[int, ...]):
    """Each window tap's strided slice of the padded input (conv.windows' view at one tap): the value that tap
    reads at every output position (pool_forward goes tap by tap: ~10x faster than reducing the view of every
    window over its non-contiguous window axes).

    >>> op = PoolOp("max", (2,), (2,), (1,), ((0, 0),))
    >>> [t.tolist() for t in tap_slices(np.array([[[1., 5, 2, 0, 7]]]), op, (2,))]
    [[[[1.0, 2.0]]], [[[5.0, 0.0]]]]
    """
    v = windows(padded, op.kernel, op.stride, op.dilation)[(slice(None), slice(None), *[slice(0, o) for o in out])]
    for tap in np.ndindex(*op.kernel):
        yield v[(Ellipsis, *tap)]


@dataclass(frozen=True)
class Tap:
    """One cell of the window: its input coordinates (negative or past the end in the padding) and
    where it lies: 'real' input, 'pad' (inside the padded input) or 'past' (beyond the padding: only a
    ceil_mode window reaches there, and no framework reads or counts it)."""

    pos: tuple[int, ...]
    where: str


def pool_window(op: PoolOp, spatial: tuple[int, ...], out_pos: tuple[int, ...]) -> tuple[Tap, ...]:
    """The window of output ``out_pos``, tap by tap, each placed: real input, padding, or past it.

    >>> [t.where for t in pool_window(PoolOp("max", (3,), (2,), (1,), ((1, 1),)), (4,), (0,))]
    ['pad', 'real', 'real']
    >>> [t.where for t in pool_window(PoolOp("max", (2,), (2,), (1,), ((0, 0),), ceil_mode=True), (5,), (2,))]
    ['real', 'past']
    """
    taps = []
    for pos in window_taps(op, out_pos):
        if any(q >= n + p[1] for q, n, p in zip(pos, spatial, op.padding)):
            where = "past"
        elif all(0 <= q < n for q, n in zip(pos, spatial)):
            where = "real"
        else:
            where = "pad"
        taps.append(Tap(pos, where))
    return tuple(taps)


@dataclass(frozen=True)
class Divisor:
    """What an average divides one window by, and the rule that says so: ``override`` (divisor_override),
    ``padded`` (count_include_pad: every cell inside the padded input) or ``real`` (real cells only, as
    Keras and count_include_pad=False do). ``real``, ``pad`` and ``past`` count the window's cells."""

    value: int
    rule: str
    real: int
    pad: int
    past: int


def divisor(op: PoolOp, taps: tuple[Tap, ...]) -> Divisor:
    """The divisor of an average over this window (the one pool_forward divides by).

    >>> taps = pool_window(PoolOp("avg", (3,), (2,), (1,), ((1, 1),)), (4,), (0,))
    >>> divisor(PoolOp("avg", (3,), (2,), (1,), ((1, 1),)), taps)
    Divisor(value=3, rule='padded', real=2, pad=1, past=0)
    >>> divisor(PoolOp("avg", (3,), (2,), (1,), ((1, 1),), count_include_pad=False), taps).value
    2
    """
    real, pad, past = (sum(t.where == w for t in taps) for w in ("real", "pad", "past"))
    if op.divisor_override:
        return Divisor(op.divisor_override, "override", real, pad, past)
    if op.count_include_pad:
        return Divisor(real + pad, "padded", real, pad, past)
    return Divisor(real, "real", real, pad, past)


@dataclass(frozen=True)
class PoolChannel:
    """One channel's output at a window: the cells as the framework reads them (−∞ for max, 0 for an
    average in the padding; cells past it are not read), the value, and for max the first maximum's
    input position (None when only padding is read) with how many cells hold it."""

    channel: int
    values: tuple[float, ...]
    value: float
    winner: tuple[int, ...] | None = None
    ties: int = 1


@dataclass(frozen=True)
class PoolStep:
    """Every channel's output at one window; ``divisor`` for an average."""

    taps: tuple[Tap, ...]
    channels: tuple[PoolChannel, ...]
    divisor: Divisor | None


def pool_step(x: np.ndarray, op: PoolOp, out_pos: tuple[int, ...]) -> PoolStep:
    """The numbers behind every channel's output at ``out_pos``; ``x`` is one batch item, channels first.
    Max takes the first maximum in the window's order (as both frameworks report it).

    >>> x = np.array([[1.0, 4.0, 4.0, 2.0]])
    >>> step = pool_step(x, PoolOp("max", (3,), (1,), (1,), ((0, 0),)), (0,))
    >>> step.channels[0].value, step.channels[0].winner, step.channels[0].ties
    (4.0, (1,), 2)
    >>> pool_step(x, PoolOp("avg", (2,), (2,), (1,), ((1, 0),)), (0,)).channels[0]
    PoolChannel(channel=0, values=(0.0, 1.0), value=0.5, winner=None, ties=1)
    """
    taps = pool_window(op, x.shape[1:], out_pos)
    read = [t for t in taps if t.where != "past"]
    fill = -np.inf if op.kind == "max" else 0.0
    channels = []
    div = None if op.kind == "max" else divisor(op, taps)
    table = np.full((x.shape[0], len(read)), fill)  # every channel's values at once, padding as the fill
    real = [i for i, t in enumerate(read) if t.where == "real"]
    if real:
        table[:, real] = x[(slice(None), *zip(*(read[i].pos for i in real)))]
    for c, row in enumerate(table.tolist()):
        values = tuple(row)
        if op.kind == "max":
            best = max(values)
            winner = read[values.index(best)].pos if best > -np.inf else None
            channels.append(PoolChannel(c, values, best, winner, values.count(best)))
        else:
            channels.append(PoolChannel(c, values, sum(values) / div.value))
    return PoolStep(taps, tuple(channels), div)
