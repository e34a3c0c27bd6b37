"""A stage at real sizes: which zoom level fits, and where cells and windows fall in a drawn picture.

A tensor's spatial block is drawn as one 2D picture, one pixel per cell: 1D as a row (or a stack of
rows), 2D as itself, 3D as its depth slices tiled left to right, top to bottom, one pixel apart.
Positions are (top, left, height, width) in picture pixels; the page turns them into percentages of
the drawn picture, so the browser places boxes without knowing any stride, padding or window.
"""
from __future__ import annotations

import math

import numpy as np

READABLE = {1: 40, 2: 14, 3: 8}  # the longest padded axis drawn as numbers (~50 px cells, 16 px type)
READABLE_CELLS = 2_000  # numbers drawn for every shown channel together
GAP = 1  # pixels between the depth slices of a 3D picture


def zoom_level(padded: tuple[int, ...], shown: int, readable: dict[int, int] | None = None) -> str:
    """'numbers' when every cell of the shown channels fits at a readable size, else 'picture' (``readable``: the
    longest axis drawn as numbers per dimensionality, when a view's cells are narrower than READABLE's).

    >>> zoom_level((8, 8), 2), zoom_level((34, 34), 3), zoom_level((130,), 16), zoom_level((8, 8, 8), 2)
    ('numbers', 'picture', 'picture', 'numbers')
    >>> zoom_level((60,), 2), zoom_level((60,), 2, {1: 72})
    ('picture', 'numbers')
    """
    if max(padded) > (readable or READABLE)[len(padded)] or math.prod(padded) * shown > READABLE_CELLS:
        return "picture"
    return "numbers"


def tiles(spatial: tuple[int, ...]) -> tuple[int, int]:
    """(rows, columns) of depth slices in the picture of a block of this shape (1D, 2D: one tile).

    >>> tiles((5,)), tiles((7, 9)), tiles((16, 8, 8)), tiles((3, 4, 4))
    ((1, 1), (1, 1), (4, 4), (2, 2))
    """
    if len(spatial) < 3:
        return 1, 1
    cols = math.ceil(math.sqrt(spatial[0]))
    return math.ceil(spatial[0] / cols), cols


def picture_size(spatial: tuple[int, ...]) -> tuple[int, int]:
    """(height, width) in pixels of the picture of a block.

    >>> picture_size((5,)), picture_size((7, 9)), picture_size((16, 8, 8)), picture_size((3, 4, 4))
    ((1, 5), (7, 9), (35, 35), (9, 9))
    """
    if len(spatial) == 1:
        return 1, spatial[0]
    if len(spatial) == 2:
        return spatial[0], spatial[1]
    rows, cols = tiles(spatial)
    return rows * spatial[1] + (rows - 1) * GAP, cols * spatial[2] + (cols - 1) * GAP


def montage(block: np.ndarray) -> np.ndarray:
    """A 1D/2D/3D block as one 2D float picture; NaN between the slices of a 3D block.

    >>> montage(np.arange(3.0)).tolist()
    [[0.0, 1.0, 2.0]]
    >>> montage(np.arange(8.0).reshape(2, 2, 2)).tolist()
    [[0.0, 1.0, nan, 4.0, 5.0], [2.0, 3.0, nan, 6.0, 7.0]]
    """
    if block.ndim < 3:
        return np.asarray(block, dtype=np.float64).reshape(picture_size(block.shape))
    out = np.full(picture_size(block.shape), np.nan)
    for z in range(block.shape[0]):
        top, left = cell_at((z, 0, 0), block.shape)
        out[top:top + block.shape[1], left:left + block.shape[2]] = block[z]
    return out


def cell_at(index: tuple[int, ...], spatial: tuple[int, ...]) -> tuple[int, int]:
    """(top, left) pixel of one cell in the picture.

    >>> cell_at((4,), (9,)), cell_at((2, 3), (5, 5)), cell_at((5, 1, 2), (16, 8, 8))
    ((0, 4), (2, 3), (10, 11))
    """
    if len(index) == 1:
        return 0, index[0]
    if len(index) == 2:
        return index[0], index[1]
    cols = tiles(spatial)[1]
    r, c = divmod(index[0], cols)
    return r * (spatial[1] + GAP) + index[1], c * (spatial[2] + GAP) + index[2]


def window_boxes(corner: tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...],
                 spatial: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """The window whose first tap is at ``corner`` (padded coordinates) as boxes (top, left, height, width):
    its extent in each depth slice it reads (one box in 1D and 2D).

    >>> window_boxes((2, 3), (3, 3), (1, 2), (9, 9))
    [(2, 3, 3, 5)]
    >>> window_boxes((0, 1, 1), (2, 3, 3), (2, 1, 1), (4, 5, 5))
    [(1, 1, 3, 3), (7, 1, 3, 3)]
    """
    extent = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    if len(corner) < 3:
        top, left = cell_at(corner, spatial)
        return [(top, left, 1 if len(corner) == 1 else extent[0], extent[-1])]
    return [(*cell_at((corner[0] + i * dilation[0], corner[1], corner[2]), spatial), extent[1], extent[2])
            for i in range(kernel[0])]


def pending_boxes(step: int, spatial: tuple[int, ...], slices: list | None = None) -> list[tuple[int, int, int, int]]:
    """Boxes covering the outputs after ``step`` (row-major order): the rest of its row, the rows below it
    in its slice, and every later slice; the output fills in as the steps play. ``slices``: slice_boxes(spatial),
    when the caller asks for many steps.

    >>> pending_boxes(4, (3, 3))
    [(1, 2, 1, 1), (2, 0, 1, 3)]
    >>> pending_boxes(2, (3,)), pending_boxes(8, (3, 3))
    ([], [])
    >>> pending_boxes(5, (3, 2, 2))
    [(1, 3, 1, 2), (3, 0, 2, 2)]
    """
    index = unravel(step, spatial)
    boxes = []
    top, left = cell_at(index, spatial)
    width, height = spatial[-1], 1 if len(spatial) == 1 else spatial[-2]
    if index[-1] + 1 < width:
        boxes.append((top, left + 1, 1, width - index[-1] - 1))
    if len(spatial) > 1 and index[-2] + 1 < height:
        boxes.append((top + 1, left - index[-1], height - index[-2] - 1, width))
    if len(spatial) == 3:
        boxes += (slices or slice_boxes(spatial))[index[0] + 1:]
    return boxes


def slice_boxes(spatial: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """The box of each depth slice of a 3D block's picture.

    >>> slice_boxes((3, 2, 2))
    [(0, 0, 2, 2), (0, 3, 2, 2), (3, 0, 2, 2)]
    """
    return [(*cell_at((z, 0, 0), spatial), spatial[1], spatial[2]) for z in range(spatial[0])]


def percent(boxes: list[tuple[int, int, int, int]], size: tuple[int, int]) -> list[list[float]]:
    """Boxes as percentages of the picture (top, left, height, width), as CSS places them.

    >>> percent([(1, 2, 1, 4)], (4, 8))
    [[25.0, 25.0, 25.0, 50.0]]
    """
    return percents([boxes], size)[0]


def fit(size: tuple[int, int], px: int) -> tuple[int, int]:
    """CSS (width, height) of a picture of ``size`` (height, width) pixels, its long side about ``px``, whole
    multiples of a pixel from 2× up (crisp cells).

    A thin picture is stretched to at least 64 px across (cells need not be square), so it can be seen and pointed at.

    >>> fit((32, 32), 320), fit((34, 34), 320), fit((195, 195), 320), fit((1, 5), 320), fit((2, 1500), 320)
    ((320, 320), (306, 306), (320, 320), (320, 64), (320, 64))
    """
    h, w = size
    scale = px / max(h, w)
    if scale >= 2:
        scale = math.floor(scale)
    return max(64, round(w * scale)), max(64, round(h * scale))


def frame_px(in_size: tuple[int, int], out_size: tuple[int, int], rows: int = 0,
             px: int = 320) -> tuple[tuple[int, int], tuple[int, int]]:
    """CSS (width, height) of the input's and the output's pictures: the input's long side about ``px``, the
    output on the same scale (a strided output stays large enough to point at); ``rows``: a 1D input drawn as
    that many channel rows, stretched to a readable height.

    >>> frame_px((34, 34), (32, 32)), frame_px((56, 56), (28, 28))
    (((306, 306), (288, 288)), ((280, 280), (140, 140)))
    >>> frame_px((4, 2000), (1, 662), rows=4)
    ((320, 60), (120, 48))
    """
    in_w, in_h = fit(in_size, px)
    scale = in_w / in_size[1]
    out_w, out_h = max(64, round(out_size[1] * scale)), max(64, round(out_size[0] * scale))
    if max(out_w, out_h) < 120:  # a strided output stays large enough to point at
        out_w, out_h = fit(out_size, 240)
    if rows:  # 1D: a row per channel, stretched to a readable height (cells need not be square)
        in_w = fit((1, in_size[1]), px)[0]
        in_h, out_h = min(240, max(60, rows * 4)), 48
        out_w = max(120, round(out_size[1] * in_w / in_size[1]))
    return (in_w, in_h), (out_w, out_h)


def picture_limit(values: np.ndarray) -> float:
    """The colour scale's end, rounded to 2 decimals as the legend writes it: the 99.5th percentile of the
    magnitudes (a few extreme values are clipped rather than washing the rest out to white), or the largest
    when that is 0; 1 when all are 0 (or none is finite). 0 is white, negatives blue, positives red.

    >>> picture_limit(np.array([0.0, -3, 2])), picture_limit(np.zeros(3)), picture_limit(np.r_[np.ones(999), 50])
    (2.99, 1.0, 1.0)
    >>> picture_limit(np.array([np.nan, -np.inf]))
    1.0
    """
    magnitudes = np.abs(values) if values.size else np.zeros(1)
    if not np.isfinite(magnitudes.max()):  # a NaN or an infinity: leave them out
        magnitudes = magnitudes[np.isfinite(magnitudes)]
    if not magnitudes.size:
        return 1.0
    top = high_percentile(magnitudes, 99.5) or float(magnitudes.max(initial=0.0))
    return round(top, 2) or 1.0


def high_percentile(values: np.ndarray, q: float) -> float:
    """np.percentile(values, q) (its linear interpolation between the two values ranked around q) for a high q,
    without ordering all of them: the two are found among the values at or above a cut read from an evenly spaced
    sample (all the values when that keeps too few). About 10× faster on 100,000 values; the picture views ask it
    on every answer.

    >>> v = np.random.default_rng(0).normal(size=100_000)
    >>> [bool(np.isclose(high_percentile(a, q), np.percentile(a, q), rtol=0, atol=1e-12))
    ...  for a in (v, np.abs(v), np.round(v), v[:50]) for q in (99.5, 90, 100)]
    [True, True, True, True, True, True, True, True, True, True, True, True]
    """
    values = values.ravel()
    n = values.size
    at = q / 100 * (n - 1)
    lo = int(at)
    hi = min(lo + 1, n - 1)
    if n > 10_000:
        sample = values[:: n // 2_000]
        cut = np.partition(sample, int(sample.size * 0.98))[int(sample.size * 0.98)]
        kept = values >= cut
        below = n - np.count_nonzero(kept)  # every value left out ranks before every value kept
        if below <= lo and hi < n - np.count_nonzero(values > cut):  # both rank among the values equal to the cut
            return float(cut)
        if below <= lo:  # (taking by index is ~3x faster than by the boolean mask)
            values, lo, hi = values[np.flatnonzero(kept)], lo - below, hi - below
    ranked = np.partition(values, [lo, hi])
    return float(ranked[lo] + (ranked[hi] - ranked[lo]) * (at - int(at)))


def step_boxes(stride: tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...],
               in_spatial: tuple[int, ...], out_spatial: tuple[int, ...], steps: range, rows: int = 0) -> dict:
    """Where each step of ``steps`` falls in the pictures, as percentages: the window on the input picture
    (``in_spatial``: the drawn input, whose cell 0 is where output 0's window starts; ``rows``: a 1D input drawn
    as that many channel rows), the output marker and the outputs still to come.

    >>> b = step_boxes((2,), (3,), (1,), (9,), (4,), range(1, 2))
    >>> b["boxes"], b["markers"], b["pending"]
    ([[[0.0, 22.222, 100.0, 33.333]]], [[0.0, 25.0, 100.0, 25.0]], [[[0.0, 50.0, 100.0, 50.0]]])
    """
    if rows:
        in_size = (rows, in_spatial[0])
    else:
        in_size = picture_size(in_spatial)
    out_size = picture_size(out_spatial)
    boxes, markers, pending = [], [], []
    slices = slice_boxes(out_spatial) if len(out_spatial) == 3 else None
    for i in steps:
        at = unravel(i, out_spatial)
        corner = tuple(a * s for a, s in zip(at, stride))
        if rows:
            boxes.append(window_boxes((0, corner[0]), (rows, kernel[0]), (1, dilation[0]), (rows, in_spatial[0])))
        else:
            boxes.append(window_boxes(corner, kernel, dilation, in_spatial))
        markers.append([(*cell_at(at, out_spatial), 1, 1)])
        pending.append(pending_boxes(i, out_spatial, slices))
    return {"boxes": percents(boxes, in_size), "markers": [m[0] for m in percents(markers, out_size)],
            "pending": percents(pending, out_size)}


def unravel(index: int, spatial: tuple[int, ...]) -> tuple[int, ...]:
    """np.unravel_index of one position, as Python ints (a step's place in the output, row-major).

    >>> unravel(7, (2, 3, 2)), unravel(4, (5,))
    ((1, 0, 1), (4,))
    """
    at = []
    for n in reversed(spatial):
        index, i = divmod(index, n)
        at.append(i)
    return tuple(reversed(at))


def percents(groups: list[list[tuple[int, int, int, int]]], size: tuple[int, int]) -> list[list[list[float]]]:
    """percent of each group of boxes, computed at once (a played block's steps: hundreds of boxes in 3D).

    >>> percents([[(1, 2, 1, 4)], [], [(0, 0, 2, 2), (2, 4, 2, 4)]], (4, 8))
    [[[25.0, 25.0, 25.0, 50.0]], [], [[0.0, 0.0, 50.0, 25.0], [50.0, 50.0, 50.0, 50.0]]]
    """
    flat = [box for group in groups for box in group]
    if not flat:
        return [[] for _ in groups]
    h, w = size
    values = np.round(100 * np.array(flat, dtype=np.float64) / (h, w, h, w), 3).tolist()
    out, start = [], 0
    for group in groups:
        out.append(values[start:start + len(group)])
        start += len(group)
    return out


def scatter_boxes(stride: tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...],
                  crop: tuple[int, ...], in_spatial: tuple[int, ...], out_spatial: tuple[int, ...],
                  steps: range) -> dict:
    """A transposed conv's scatter at picture level (1D, 2D), where each step of ``steps`` (input values, channel
    by channel, row-major) falls, as percentages: the input value (``boxes``: one cell of the input picture) and
    where its kernel copy lands on the output (``markers``: canvas cells from position·stride, less what padding
    ``crop``s before, clipped to the output; zero size when all of it is cropped). No output waits as a box
    (``pending`` empty): the output drawn is the finished one.

    >>> b = scatter_boxes((2, 2), (3, 3), (1, 1), (1, 1), (4, 4), (7, 7), range(5, 6))  # x[1, 1] of 4×4
    >>> b["boxes"], b["markers"], b["pending"]
    ([[[25.0, 25.0, 25.0, 25.0]]], [[14.286, 14.286, 42.857, 42.857]], [[]])
    >>> scatter_boxes((2,), (3,), (1,), (4,), (4,), (3,), range(0, 1))["markers"]
    [[0.0, 0.0, 0.0, 0.0]]
    """
    positions = math.prod(in_spatial)
    in_size, out_size = picture_size(in_spatial), picture_size(out_spatial)
    boxes, markers = [], []
    for i in steps:
        pos = tuple(int(v) for v in np.unravel_index(i % positions, in_spatial))
        boxes.append(percent([(*cell_at(pos, in_spatial), 1, 1)], in_size))
        lo = [max(0, p * s - c) for p, s, c in zip(pos, stride, crop)]
        hi = [min(n, p * s - c + (k - 1) * d + 1) for p, s, c, k, d, n in zip(pos, stride, crop, kernel, dilation,
                                                                               out_spatial)]
        if any(h <= lw for lw, h in zip(lo, hi)):
            markers.append([0.0, 0.0, 0.0, 0.0])
            continue
        top, left = cell_at(tuple(lo), out_spatial)
        height = 1 if len(lo) == 1 else hi[0] - lo[0]
        markers.append(percent([(top, left, height, hi[-1] - lo[-1])], out_size)[0])
    return {"boxes": boxes, "markers": markers, "pending": [[] for _ in steps]}
