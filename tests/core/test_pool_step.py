"""core.pool.pool_step (what the views write out for one window) against pool_forward (what the API
and the goldens check against the frameworks): the same value at every output of random pooling layers,
with the same divisor and the first maximum as the winner."""
import numpy as np
import pytest

from app.core.ops import PoolOp
from app.core.pool import pool_forward, pool_step
from app.core.shapes import pool_output_size

OPS = []
rng = np.random.default_rng(7)
for _ in range(60):
    dims = int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, dims))
    pad = tuple((int(rng.integers(0, kk // 2 + 1)),) * 2 for kk in k)
    OPS.append(PoolOp(str(rng.choice(["max", "avg"])), k, tuple(int(v) for v in rng.integers(1, 4, dims)),
                      tuple(int(v) for v in rng.integers(1, 3, dims)) if rng.random() < 0.3 else (1,) * dims, pad,
                      ceil_mode=bool(rng.random() < 0.4), count_include_pad=bool(rng.random() < 0.5),
                      divisor_override=int(rng.integers(1, 5)) if rng.random() < 0.2 else None))


@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.kind}{op.kernel}s{op.stride}d{op.dilation}p{op.padding}"
                         f"{'c' if op.ceil_mode else ''}{'i' if op.count_include_pad else ''}{op.divisor_override}")
def test_each_window_written_out_is_the_engines_output(op):
    spatial = tuple(int(v) for v in rng.integers(4, 8, op.dims))
    x = np.random.default_rng(1).integers(-3, 4, size=(2, *spatial)).astype(np.float32)
    if any(pool_output_size(n, k, stride=s, pad=p, dilation=d, ceil_mode=op.ceil_mode) < 1
           for n, k, s, p, d in zip(spatial, op.kernel, op.stride, op.padding, op.dilation)):
        pytest.skip("no window fits this input")
    y = pool_forward(x[None], op)[0]
    for pos in np.ndindex(*y.shape[1:]):
        step = pool_step(x, op, pos)
        for c, ch in enumerate(step.channels):
            assert np.float32(ch.value) == pytest.approx(y[(c, *pos)], abs=1e-6), (pos, c)
            if op.kind == "max" and ch.winner is not None:
                assert x[(c, *ch.winner)] == y[(c, *pos)]
                read = [t for t in step.taps if t.where != "past"]  # the cells past the padding are not read
                first = [t.pos for t, v in zip(read, ch.values) if v == ch.value][0]
                assert ch.winner == first
