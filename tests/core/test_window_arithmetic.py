"""window_arithmetic (every step of a block at once) against the plain loops it replaced: the inputs each
tap reads, the weights, and each channel's sum added tap by tap as a person (and Python's sum) adds them."""
import itertools

import numpy as np
import pytest

from app.core.conv import conv_forward, pad_input, step_arithmetic, window_arithmetic, window_cells
from app.core.ops import ConvOp

CASES = [  # (dims, in, out, kernel, stride, dilation, padding, groups)
    (1, 3, 2, (3,), (1,), (1,), ((0, 0),), 1),
    (1, 4, 4, (4,), (3,), (2,), ((2, 1),), 2),
    (2, 2, 2, (3, 3), (1, 1), (1, 1), ((0, 0), (0, 0)), 1),
    (2, 6, 4, (2, 3), (2, 1), (1, 2), ((1, 1), (0, 2)), 2),
    (2, 4, 4, (3, 3), (1, 2), (2, 1), ((1, 1), (1, 1)), 4),
    (3, 2, 3, (2, 2, 2), (1, 1, 2), (1, 2, 1), ((0, 0), (1, 0), (0, 1)), 1),
]


def reference(xp, w, op, f, out):
    """The loops step_arithmetic ran before it was vectorised (the numbers the page showed)."""
    cg = op.in_channels // op.groups
    group = f // (op.out_channels // op.groups)
    taps = list(np.ndindex(*op.kernel))
    origin = [o * s for o, s in zip(out, op.stride)]
    cells = [tuple(st + j * d for st, j, d in zip(origin, tap, op.dilation)) for tap in taps]
    rows = []
    for local in range(cg):
        terms = [(float(xp[(group * cg + local, *cell)]), float(w[(f, local, *tap)])) for cell, tap in zip(cells, taps)]
        rows.append((terms, float(sum(x * k for x, k in terms))))
    return rows


@pytest.mark.parametrize("case", CASES)
def test_every_step_of_a_block_matches_the_loops_and_the_engine(case):
    dims, cin, cout, kernel, stride, dilation, padding, groups = case
    op = ConvOp(cin, cout, kernel, stride, dilation, padding, groups=groups)
    rng = np.random.default_rng(sum(kernel) + cin)
    x = rng.integers(-3, 4, size=(1, cin, *[7] * dims)).astype(np.float32)
    w = (rng.integers(-9, 10, size=(cout, cin // groups, *kernel)) / 10).astype(np.float32)
    b = (rng.integers(-9, 10, size=cout) / 10).astype(np.float32)
    xp = pad_input(x, padding)[0]
    y = conv_forward(x, w, b, op)[0]
    out_spatial = y.shape[1:]
    outs = np.array(list(itertools.product(*map(range, out_spatial))))
    for f in range(cout):
        xs, k, sums = window_arithmetic(xp, w, op, f, outs)
        assert xs.shape == (len(outs), cin // groups, np.prod(kernel)) and sums.dtype == np.float64
        for s, out in enumerate(map(tuple, outs)):
            rows = reference(xp, w, op, f, out)
            assert xs[s].tolist() == [[x for x, _ in terms] for terms, _ in rows]
            assert k.tolist() == [[kv for _, kv in terms] for terms, _ in rows]
            assert sums[s].tolist() == [total for _, total in rows]  # bit for bit: the same order of additions
            one = step_arithmetic(xp, w, b, op, f, out)
            assert [(c.terms, c.total) for c in one.channels] == [(tuple(map(tuple, t)), total) for t, total in rows]
            assert one.total == pytest.approx(float(y[(f, *out)]), abs=1e-5)


def test_window_cells_name_the_cells_each_tap_reads():
    op = ConvOp(1, 1, (2, 3), (2, 1), (1, 2), ((0, 0), (0, 0)))
    padded = (6, 9)
    origins, offsets = window_cells(op, padded, [[0, 0], [2, 3], [1, 4]])
    for origin, (oy, ox) in zip(origins, [(0, 0), (2, 3), (1, 4)]):
        cells = sorted(int(origin + t) for t in offsets)
        expected = sorted(np.ravel_multi_index((oy * 2 + j, ox + 2 * i), padded) for j in range(2) for i in range(3))
        assert cells == expected
