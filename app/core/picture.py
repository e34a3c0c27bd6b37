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


def zoom_level(padded: tuple[int, ...], shown: int) -> str:
    """'numbers' when every cell of the shown channels fits at a readable size, else 'picture'.

    >>> zoom_level((8, 8), 2), zoom_level((34, 34), 3), zoom_level((130,), 16), zoom_level((8, 8, 8), 2)
    ('numbers', 'picture', 'picture', 'numbers')
    """
    if max(padded) > READABLE[len(padded)] or math.prod(padded) * shown > READABLE_CELLS:
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


def pending_boxes(step: int, spatial: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """Boxes covering the outputs after ``step`` (row-major order): the rest of its row, the rows below it
    in its slice, and every later slice; the output fills in as the steps play.

    >>> pending_boxes(4, (3, 3))
    [(1, 2, 1, 1), (2, 0, 1, 3)]
    >>> pending_boxes(2, (3,)), pending_boxes(8, (3, 3))
    ([], [])
    >>> pending_boxes(5, (3, 2, 2))
    [(1, 3, 1, 2), (3, 0, 2, 2)]
    """
    index = tuple(int(i) for i in np.unravel_index(step, spatial))
    boxes = []
    top, left = cell_at(index, spatial)
    width, height = spatial[-1], 1 if len(spatial) == 1 else spatial[-2]
    if index[-1] + 1 < width:
        boxes.append((top, left + 1, 1, width - index[-1] - 1))
    if len(spatial) > 1 and index[-2] + 1 < height:
        boxes.append((top + 1, left - index[-1], height - index[-2] - 1, width))
    if len(spatial) == 3:
        boxes += [(*cell_at((z, 0, 0), spatial), height, width) for z in range(index[0] + 1, spatial[0])]
    return boxes


def percent(boxes: list[tuple[int, int, int, int]], size: tuple[int, int]) -> list[list[float]]:
    """Boxes as percentages of the picture (top, left, height, width), as CSS places them.

    >>> percent([(1, 2, 1, 4)], (4, 8))
    [[25.0, 25.0, 25.0, 50.0]]
    """
    h, w = size
    return [[round(100 * t / h, 3), round(100 * lf / w, 3), round(100 * bh / h, 3), round(100 * bw / w, 3)]
            for t, lf, bh, bw in boxes]
