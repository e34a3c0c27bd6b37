"""core.conv.scatter_steps (the scatter /transposed plays, one input value at a time) against scatter
(the definition, which the transposed conv's goldens check): after each step the canvas holds exactly
the stamps of the steps so far, and after the last it is the scatter's output channel."""
import numpy as np
import pytest

from app.core.conv import scatter, scatter_steps
from app.core.ops import ConvOp

rng = np.random.default_rng(3)
CASES = []
for _ in range(30):
    dims = int(rng.integers(1, 3))
    groups = int(rng.choice([1, 2]))
    CASES.append(ConvOp(2 * groups, int(rng.integers(1, 3)) * groups, tuple(int(v) for v in rng.integers(1, 4, dims)),
                        tuple(int(v) for v in rng.integers(1, 4, dims)), tuple(int(v) for v in rng.integers(1, 3, dims)),
                        ((0, 0),) * dims, groups=groups, transposed=True))


@pytest.mark.parametrize("op", CASES, ids=lambda op: f"k{op.kernel}s{op.stride}d{op.dilation}g{op.groups}")
def test_the_steps_add_up_to_the_scatter(op):
    size = tuple(int(v) for v in rng.integers(1, 5, op.dims))
    x = rng.integers(-3, 4, size=(op.in_channels, *size)).astype(np.float32)
    w = (rng.integers(-9, 10, size=op.weight_shape) / 10).astype(np.float32)
    canvas = tuple((n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(size, op.stride, op.dilation, op.kernel))
    full = scatter(x, w, op, canvas)
    og, cg = op.out_channels // op.groups, op.in_channels // op.groups
    for o in range(op.out_channels):
        chans = list(range((o // og) * cg, (o // og + 1) * cg))
        expected = np.zeros(canvas)
        steps = 0
        for step, running in scatter_steps(x[chans], w[chans][:, o % og], op, canvas):
            for cell, add in zip(step.stamp, step.adds.ravel()):
                expected[cell] += add
            assert step.value == x[(chans[step.channel], *step.position)]
            np.testing.assert_allclose(running, expected, atol=1e-9)
            steps += 1
        assert steps == cg * int(np.prod(size))
        np.testing.assert_allclose(running, full[o], atol=1e-9)
