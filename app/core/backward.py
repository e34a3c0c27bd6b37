"""The backward pass of every layer the engine runs: exact gradients, as autograd computes them.

The gradient of a convolution is itself a convolution, and this module computes it as one, with
the engine's own ``conv_forward``:

- with respect to the input, the transposed convolution of the upstream gradient with the same
  kernel (it lands on the padded input; gradient that lands on reflect, replicate or circular
  padding folds back onto the border cells that padding copied);
- with respect to the weights, the correlation of the (padded) input with the upstream gradient
  (the input slid under the gradient as if it were a kernel);
- with respect to the bias, the sum of the upstream gradient over the batch and every position.

A transposed convolution swaps the first two: its input's gradient is the direct convolution of
the upstream gradient with the same kernel. Max pooling routes each gradient to its window's first
maximum (PyTorch's tie rule; Keras on torch calls the same op), average pooling spreads it evenly
over the window by the divisor. An activation's derivative (autograd's value at its kinks) is
applied to the upstream gradient first. Arrays are channels-first inside, float32 like the frameworks.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.activations import SELU_ALPHA, SELU_SCALE, _erf, _sigmoid, _softplus
from ..core.conv import _NUMPY_PAD_MODE, GROUPED_BLOCK_BYTES, conv_forward, pad_input, window_taps, windows
from ..core.forward import canonical_weights, channels_first_shape, run_stage, stage_shapes
from ..core.frameworks.common import SpecError
from ..core.limits import MAX_WORK
from ..core.ops import Activation, ActOp, ConvOp, Layer, PoolOp
from ..core.pool import _cells_counted, pool_geometry, pool_step
from ..core.shapes import effective_kernel

# --------------------------------------------------------------------------- convolutions


def correlate(inp: np.ndarray, up: np.ndarray, kernel, stride, dilation, groups: int) -> np.ndarray:
    """The weight gradient: dW[o, c, j] = Σ_{n, p} up[n, o, p] · inp[n, o's group's c, p·stride + j·dilation].

    The (padded) input slid under the upstream gradient as under a kernel: the engine's window view
    of ``inp`` (N, C, *out, *kernel) contracted with ``up`` (N, O, *out) over batch and positions,
    one GEMM per group, in blocks of output rows (the copied windows stay small).

    >>> x = np.arange(5, dtype=np.float32).reshape(1, 1, 5)
    >>> correlate(x, np.ones((1, 1, 3), np.float32), (2,), (1,), (1,), 1).tolist()  # 0+1+2, 1+2+3
    [[[3.0, 6.0]]]
    """
    n, c = inp.shape[:2]
    o, out = up.shape[1], up.shape[2:]
    cg, og, taps = c // groups, o // groups, math.prod(kernel)
    v = windows(inp, kernel, stride, dilation)
    row = math.prod(out[1:])
    per_block = max(1, GROUPED_BLOCK_BYTES // (n * c * row * taps * 4))
    dw = np.zeros((groups, og, cg * taps), np.float32)
    for r0 in range(0, out[0], per_block):
        r1 = min(out[0], r0 + per_block)
        cells = (r1 - r0) * row
        a = up[:, :, r0:r1].reshape(n, groups, og, cells).transpose(1, 2, 0, 3).reshape(groups, og, n * cells)
        block = v[(slice(None), slice(None), slice(r0, r1), *[slice(0, m) for m in out[1:]])]
        b = np.ascontiguousarray(block.reshape(n, groups, cg, cells, taps).transpose(1, 0, 3, 2, 4))
        dw += np.matmul(a, b.reshape(groups, n * cells, cg * taps))
    return dw.reshape(o, cg, *kernel)


def fold_padding(gp: np.ndarray, padding, mode: str) -> np.ndarray:
    """The gradient on the padded input -> on the input: the padding's share goes back to the cells
    it copied (zeros padding copied nothing: dropped), one axis at a time, as the padding was made.

    >>> g = np.ones((1, 1, 6), np.float32)  # reflect: the padded cells copy 2, 1 | 0 1 2 | 1
    >>> fold_padding(g, ((2, 1),), "reflect").tolist(), fold_padding(g, ((2, 1),), "zeros").tolist()
    ([[[1.0, 3.0, 2.0]]], [[[1.0, 1.0, 1.0]]])
    """
    if mode == "zeros":
        return np.ascontiguousarray(gp[(slice(None), slice(None),
                                        *[slice(b, gp.shape[2 + i] - a) for i, (b, a) in enumerate(padding)])])
    for i, (b, a) in enumerate(padding):
        n = gp.shape[2 + i] - b - a
        source = np.pad(np.arange(n), (b, a), mode=_NUMPY_PAD_MODE[mode])  # the cell each padded cell copies
        fold = np.zeros((len(source), n), np.float32)
        fold[np.arange(len(source)), source] = 1
        gp = np.moveaxis(np.tensordot(gp, fold, axes=([2 + i], [0])), -1, 2 + i)
    return np.ascontiguousarray(gp, dtype=np.float32)


def conv_backward(x: np.ndarray, w: np.ndarray, g: np.ndarray, op: ConvOp) -> tuple[np.ndarray, dict]:
    """(grad_input, {"weight", "bias"}) of a direct or transposed conv, channels-first.

    >>> op = ConvOp(1, 1, (2,), (1,), (1,), ((0, 0),))
    >>> x, w = np.array([[[1, 2, 3]]], np.float32), np.array([[[10, 1]]], np.float32)
    >>> gx, gw = conv_backward(x, w, np.ones((1, 1, 2), np.float32), op)
    >>> gx.tolist(), gw["weight"].tolist(), gw["bias"].tolist()
    ([[[10.0, 11.0, 1.0]]], [[[3.0, 5.0]]], [2.0])
    """
    nd = op.dims
    grads = {}
    if op.transposed:
        # y = the scatter of x, cropped: its gradient is the direct conv of g, reading from where x landed
        crop = tuple((b, a - extra) for (b, a), extra in zip(op.padding, op.output_padding))
        direct = ConvOp(op.out_channels, op.in_channels, op.kernel, op.stride, op.dilation, crop, groups=op.groups,
                        bias=False)
        gx = conv_forward(g, w, None, direct)
        grads["weight"] = correlate(pad_input(g, crop), x, op.kernel, op.stride, op.dilation, op.groups)
    else:
        padded = [n + b + a for n, (b, a) in zip(x.shape[2:], op.padding)]
        # the rows the floor left unread get no gradient: output_padding lets the transposed conv reach them
        unread = unread_rows(padded, g.shape[2:], op.stride, op.kernel, op.dilation)
        back = ConvOp(op.out_channels, op.in_channels, op.kernel, op.stride, op.dilation, ((0, 0),) * nd,
                      groups=op.groups, bias=False, transposed=True, output_padding=unread)
        gx = fold_padding(conv_forward(g, w, None, back), op.padding, op.padding_mode)
        xp = pad_input(x, op.padding, op.padding_mode)
        grads["weight"] = correlate(xp, g, op.kernel, op.stride, op.dilation, op.groups)
    if op.bias:
        grads["bias"] = g.sum(axis=(0, *range(2, 2 + nd)), dtype=np.float64).astype(np.float32)
    return gx, grads


# --------------------------------------------------------------------------- pooling


def _tap_slices(tap, out, stride, dilation) -> tuple:
    """The padded-input cells that one window tap reads, over every output position."""
    return (slice(None), slice(None), *[slice(j * d, j * d + (o - 1) * s + 1, s)
                                        for j, o, s, d in zip(tap, out, stride, dilation)])


def pool_backward(x: np.ndarray, g: np.ndarray, op: PoolOp) -> np.ndarray:
    """Max: each gradient goes to its window's first maximum (padding never wins). Average: each
    gradient divided by its window's divisor, added to every cell of the window (padding dropped).

    >>> op = PoolOp("max", (2,), (1,), (1,), ((0, 0),))
    >>> pool_backward(np.array([[[1, 3, 3, 2]]], np.float32), np.ones((1, 1, 3), np.float32), op).tolist()
    [[[0.0, 2.0, 1.0, 0.0]]]
    >>> op = PoolOp("avg", (2,), (2,), (1,), ((1, 1),), count_include_pad=False)
    >>> pool_backward(np.ones((1, 1, 3), np.float32), np.ones((1, 1, 2), np.float32), op).tolist()
    [[[1.0, 0.5, 0.5]]]
    """
    spatial = x.shape[2:]
    out, padding = pool_geometry(op, spatial)
    gp = np.zeros((*x.shape[:2], *[n + b + a for n, (b, a) in zip(spatial, padding)]), np.float32)
    taps = list(np.ndindex(*op.kernel))
    if op.kind == "max":
        v = windows(pad_input(x, padding, value=-np.inf), op.kernel, op.stride, op.dilation)
        v = v[(slice(None), slice(None), *[slice(0, o) for o in out])]
        winner = v.reshape(*v.shape[:2 + op.dims], -1).argmax(axis=-1)  # first max in the window, row-major
        for t, tap in enumerate(taps):
            gp[_tap_slices(tap, out, op.stride, op.dilation)] += np.where(winner == t, g, 0)
    else:
        if op.divisor_override:
            divisor = np.float32(op.divisor_override)
        else:
            divisor = np.ones((), dtype=np.int64)
            for i in range(op.dims):
                divisor = np.multiply.outer(divisor, _cells_counted(out[i], spatial[i], op.kernel[i], op.stride[i],
                                                                    op.padding[i], op.dilation[i],
                                                                    op.count_include_pad))
        share = (g / divisor).astype(np.float32)
        for tap in taps:
            gp[_tap_slices(tap, out, op.stride, op.dilation)] += share
    return fold_padding(gp, padding, "zeros")


# --------------------------------------------------------------------------- activations


def _relu(x, max_value=math.inf, negative_slope=0.0, threshold=0.0):
    """Keras' ReLU as its torch backend builds it (keras/src/activations/activations.py ReLU.static_call):
    relu6 is an exclusive hardtanh, a max_value otherwise an inclusive clip, the slope below the threshold."""
    if negative_slope and max_value == math.inf and threshold == 0:
        return np.where(x > 0, 1.0, negative_slope)
    if threshold == 0 and max_value == 6:
        pos = (x > 0) & (x < 6)
    else:
        pos = (x > threshold) & (x <= max_value)
    return pos + negative_slope * (x < threshold)


def _elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    return np.where(x > 0, scale, scale * alpha * input_scale * np.exp(np.minimum(x, 0) * input_scale))


def _gelu_exact(x):
    """Φ(x) + x·φ(x)."""
    return 0.5 * (1 + _erf(x / math.sqrt(2)).astype(np.float64)) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _gelu_tanh(x):
    c = math.sqrt(2 / math.pi)
    inner = c * (x + 0.044715 * x ** 3)
    t = np.tanh(inner)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)


def _softplus_grad(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, 1.0, _sigmoid(beta * x))


def _mish(x):
    sp = _softplus(x)
    t = np.tanh(sp)
    return t + x * (1 - t * t) * _sigmoid(x)


# derivative of each activation at x (float64), with autograd's value at the kinks (torch's *_backward ops)
DERIVATIVES = {
    "linear": lambda x: np.ones_like(x),
    "relu": _relu,
    "relu6": lambda x: ((x > 0) & (x < 6)).astype(np.float64),
    "leaky_relu": lambda x, negative_slope: np.where(x > 0, 1.0, negative_slope),
    "elu": lambda x, alpha: _elu(x, alpha),
    "celu": lambda x, alpha: _elu(x, alpha, input_scale=1 / alpha),
    "selu": lambda x: _elu(x, SELU_ALPHA, SELU_SCALE),
    "gelu": _gelu_exact,
    "gelu_tanh": _gelu_tanh,
    "silu": lambda x: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))),
    "mish": _mish,
    "sigmoid": lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
    "tanh": lambda x: 1 - np.tanh(x) ** 2,
    "softplus": _softplus_grad,
    "softsign": lambda x: 1 / (1 + np.abs(x)) ** 2,
    "hardtanh": lambda x, min_val, max_val: ((x > min_val) & (x < max_val)).astype(np.float64),
    "hard_sigmoid": lambda x: np.where((x > -3) & (x < 3), 1 / 6, 0.0),
    "hard_silu": lambda x: np.where(x <= -3, 0.0, np.where(x < 3, x / 3 + 0.5, 1.0)),  # torch: 0 at −3, 1 at 3
    "exponential": np.exp,
    "log_sigmoid": lambda x: _sigmoid(-x),
    "tanh_shrink": lambda x: np.tanh(x) ** 2,
    "soft_shrink": lambda x, threshold: (np.abs(x) > threshold).astype(np.float64),
    "hard_shrink": lambda x, threshold: (np.abs(x) > threshold).astype(np.float64),
    "squareplus": lambda x, b: (1 + x / np.sqrt(x * x + b)) / 2,
    "sparse_plus": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, (x + 1) / 2)),
}


def activation_backward(act: Activation, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g · f'(x), in float64, rounded once to float32.

    >>> activation_backward(Activation("relu", (("max_value", math.inf), ("negative_slope", 0.0), ("threshold", 0.0))),
    ...                     np.array([-1, 0, 2], np.float32), np.full(3, 5, np.float32)).tolist()
    [0.0, 0.0, 5.0]
    """
    with np.errstate(over="ignore", invalid="ignore"):
        d = DERIVATIVES[act.name](x.astype(np.float64), **dict(act.params))
        return (g.astype(np.float64) * d).astype(np.float32)


# --------------------------------------------------------------------------- a whole layer


def backward_work(layer: Layer) -> int:
    """Multiply-adds of the backward pass's convs, as the engine runs them: the bound checked before
    any work. Per pool, two passes over the windows; per activation, one over the values.

    >>> from app.core.frameworks import build_layer
    >>> backward_work(build_layer("torch", {"type": "Conv1d", "in_channels": 1, "out_channels": 1,
    ...                                     "kernel_size": 2, "stride": 2}, (1, 1, 5)))  # 2·1·2 + 5·1·2
    14
    """
    shapes = stage_shapes(layer)
    work = 0
    for stage, before, after in zip(layer.stages, shapes, shapes[1:]):
        if isinstance(stage, ConvOp):
            taps = math.prod(stage.kernel)
            if stage.transposed:  # the direct conv of g onto the input; the weights' correlation as many
                work += 2 * math.prod(before) * (stage.out_channels // stage.groups) * taps
                continue
            padded = [n + b + a for n, (b, a) in zip(before[2:], stage.padding)]
            work += math.prod(after) * (stage.in_channels // stage.groups) * taps  # the weights': as the forward
            # the input's gradient: a transposed conv, run over the stride-1 grid of the padded input
            work += before[0] * before[1] * math.prod(padded) * (stage.out_channels // stage.groups) * taps
        elif isinstance(stage, PoolOp):
            work += 2 * math.prod(after) * math.prod(stage.kernel)
        else:
            work += math.prod(before)
    return work


def check_backward_cost(layer: Layer) -> None:
    """Refuse a layer whose backward pass exceeds the engine's work limit, naming both numbers."""
    work = backward_work(layer)
    if work > MAX_WORK:
        raise SpecError(f"{layer.type}'s backward pass on input {list(layer.input_shape)} needs {work:,} "
                        f"multiply-adds; the limit is {MAX_WORK:,}: use a smaller input, kernel or channel count",
                        "input")


def _framework_layout(layer: Layer, canonical: list[dict]) -> list[np.ndarray]:
    """Per-stage canonical gradients -> the framework's parameter tensors, in its order and layout."""
    out = []
    for p in layer.params:
        arr = canonical[p.stage][p.kind].reshape(tuple(p.shape[i] for i in p.perm))
        out.append(np.ascontiguousarray(np.transpose(arr, np.argsort(p.perm)), dtype=np.float32))
    return out


def layer_backward(layer: Layer, x: np.ndarray, weights: list[np.ndarray],
                   grad_output: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(output, grad_input, grad_weights) for input ``x``, the framework's ``weights`` and the
    upstream gradient ``grad_output``, all in the framework's layouts; float32.

    >>> from app.core.frameworks import build_layer
    >>> spec = {"type": "Conv1d", "in_channels": 1, "out_channels": 1, "kernel_size": 2}
    >>> layer = build_layer("torch", spec, (1, 1, 3))
    >>> x, w = np.array([[[1, 2, 3]]], np.float32), [np.array([[[10, 1]]], np.float32), np.zeros(1, np.float32)]
    >>> y, gx, gw = layer_backward(layer, x, w, np.array([[[1, 0]]], np.float32))
    >>> y.tolist(), gx.tolist(), [t.tolist() for t in gw]
    ([[[12.0, 23.0]]], [[[10.0, 1.0, 0.0]]], [[[[1.0, 2.0]]], [1.0]])
    """
    to_first = (lambda a: np.moveaxis(a, -1, 1)) if layer.channels_last else (lambda a: a)
    y = np.ascontiguousarray(to_first(np.asarray(x, dtype=np.float32)))
    assert y.shape == channels_first_shape(layer)
    per_stage = canonical_weights(layer, weights)
    inputs = []
    for stage, w in zip(layer.stages, per_stage):
        inputs.append(y)
        y = run_stage(stage, y, w)
    g = np.ascontiguousarray(to_first(np.asarray(grad_output, dtype=np.float32)))
    grads: list[dict] = [{} for _ in layer.stages]
    for i in reversed(range(len(layer.stages))):
        stage, inp = layer.stages[i], inputs[i]
        if isinstance(stage, ConvOp):
            g, grads[i] = conv_backward(inp, per_stage[i]["weight"], g, stage)
        elif isinstance(stage, PoolOp):
            g = pool_backward(inp, g, stage)
        elif isinstance(stage, ActOp):
            g = activation_backward(stage.activation, inp, g)
    to_last = (lambda a: np.moveaxis(a, 1, -1)) if layer.channels_last else (lambda a: a)
    return (np.ascontiguousarray(to_last(y)), np.ascontiguousarray(to_last(g), dtype=np.float32),
            _framework_layout(layer, grads))


# --------------------------------------------------------------------------- the mechanics, as a page shows them


def unread_rows(padded, out, stride, kernel, dilation) -> tuple[int, ...]:
    """Per axis, the padded input's last rows no window reads (the floor of the output size left them):
    they get no gradient, and the transposed conv reaches them only with ``output_padding``.

    >>> unread_rows((6,), (2,), (2,), (3,), (1,))  # windows at 0-2 and 2-4: row 5 is never read
    (1,)
    """
    return tuple(p - ((o - 1) * s + effective_kernel(k, d))
                 for p, o, s, k, d in zip(padded, out, stride, kernel, dilation))


def upstream_grid(g: np.ndarray, op: ConvOp, spatial) -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
    """The upstream gradient (C, *out) as the input's gradient reads it: dilated by the stride (stride − 1
    zeros between neighbours), then padded by dilation·(kernel − 1) − padding on each side (negative: cropped),
    one side more by the rows the floor left unread. For reflect, replicate and circular padding the grid
    lands on the padded input (no padding subtracted): that gradient is folded back afterwards.
    Returns the grid and the (before, after) amounts added per axis.

    >>> op = ConvOp(1, 1, (3,), (2,), (1,), ((1, 1),))  # length 5, stride 2, padding 1: output 3
    >>> grid, pads = upstream_grid(np.array([[1, 2, 3]], np.float32), op, (5,))
    >>> grid.tolist(), pads
    ([[0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0]], ((1, 1),))
    """
    folded = op.padding_mode != "zeros"
    out = g.shape[1:]
    dilated = np.zeros((g.shape[0], *[(o - 1) * s + 1 for o, s in zip(out, op.stride)]), np.float32)
    dilated[(slice(None), *[slice(None, None, s) for s in op.stride])] = g
    padded = [n + b + a for n, (b, a) in zip(spatial, op.padding)]
    unread = unread_rows(padded, out, op.stride, op.kernel, op.dilation)
    pads = tuple((d * (k - 1) - (0 if folded else b), d * (k - 1) - (0 if folded else a) + u)
                 for k, d, (b, a), u in zip(op.kernel, op.dilation, op.padding, unread))
    return pad_input(dilated[None], pads)[0], pads


def flipped_kernel(w: np.ndarray) -> np.ndarray:
    """The kernel as the input's gradient reads it: ``w`` flipped along every spatial axis.

    >>> flipped_kernel(np.arange(6.0).reshape(1, 1, 2, 3)).tolist()
    [[[[5.0, 4.0, 3.0], [2.0, 1.0, 0.0]]]]
    """
    return np.ascontiguousarray(w[(slice(None), slice(None), *[slice(None, None, -1)] * (w.ndim - 2))])


def grad_input_terms(grid: np.ndarray, w: np.ndarray, op: ConvOp, c: int,
                     pos: tuple[int, ...]) -> list[tuple[int, tuple[tuple[float, float], ...]]]:
    """The sum behind one cell of the input's gradient (channel ``c``, position ``pos`` on the grid's output:
    the input, or the padded input when the padding folds): per output channel o of c's group, the
    (upstream gradient, flipped weight) pairs under the flipped, dilated kernel placed at ``pos``.

    >>> op = ConvOp(1, 1, (2,), (1,), (1,), ((0, 0),))  # x = [1, 2, 3], w = [10, 1], g = [1, 0]
    >>> grid, _ = upstream_grid(np.array([[1, 0]], np.float32), op, (3,))
    >>> grad_input_terms(grid, np.array([[[10, 1]]], np.float32), op, 0, (1,))  # g[0]·w[1] + g[1]·w[0]
    [(0, ((1.0, 1.0), (0.0, 10.0)))]
    """
    cg, og = op.in_channels // op.groups, op.out_channels // op.groups
    group, local = divmod(c, cg)
    flipped = flipped_kernel(w)
    taps = list(np.ndindex(*op.kernel))
    cells = [tuple(p + j * d for p, j, d in zip(pos, tap, op.dilation)) for tap in taps]
    return [(o, tuple((float(grid[(o, *cell)]), float(flipped[(o, local, *tap)])) for cell, tap in zip(cells, taps)))
            for o in range(group * og, (group + 1) * og)]


def fold_sources(n: int, pad: tuple[int, int], mode: str) -> np.ndarray:
    """For each cell of one padded axis, the input cell it copies (reflect, replicate, circular).

    >>> fold_sources(3, (2, 1), "reflect").tolist(), fold_sources(3, (1, 1), "circular").tolist()
    ([2, 1, 0, 1, 2, 1], [2, 0, 1, 2, 0])
    """
    return np.pad(np.arange(n), pad, mode=_NUMPY_PAD_MODE[mode])


def fold_terms(gp: np.ndarray, padding, mode: str) -> list[tuple[tuple[int, ...], list[tuple[tuple[int, ...], float]]]]:
    """The fold, cell by cell, for one channel's gradient ``gp`` on the padded input: each input cell that
    padding copied, with every padded cell (its own first) whose gradient comes back to it, and the value.

    >>> fold_terms(np.array([5, 1, 2, 3, 4], np.float32), ((1, 1),), "reflect")  # padded: x1 | x0 x1 x2 | x1
    [((1,), [((2,), 2.0), ((0,), 5.0), ((4,), 4.0)])]
    """
    sizes = [m - b - a for m, (b, a) in zip(gp.shape, padding)]
    sources = [fold_sources(n, p, mode) for n, p in zip(sizes, padding)]
    into: dict[tuple[int, ...], list] = {}
    for cell in np.ndindex(*gp.shape):
        own = all(b <= i < b + n for i, (b, _), n in zip(cell, padding, sizes))
        target = tuple(int(s[i]) for s, i in zip(sources, cell))
        entry = (tuple(int(i) for i in cell), float(gp[cell]))
        into.setdefault(target, []).insert(0, entry) if own else into.setdefault(target, []).append(entry)
    return [(t, terms) for t, terms in sorted(into.items()) if len(terms) > 1]


def grad_weight_terms(xp: np.ndarray, g: np.ndarray, op: ConvOp, f: int, c: int,
                      tap: tuple[int, ...]) -> tuple[tuple[float, float], ...]:
    """The sum behind one weight's gradient, dW[f, c's place in its group, tap], for one example: the padded
    input ``xp`` (C, *padded) read at every output position p (at p·stride + tap·dilation) times g[f, p].

    >>> x = np.array([[1, 2, 3]], np.float32)
    >>> grad_weight_terms(x, np.array([[1, 1]], np.float32), ConvOp(1, 1, (2,), (1,), (1,), ((0, 0),)), 0, 0, (1,))
    ((2.0, 1.0), (3.0, 1.0))
    """
    return tuple((float(xp[(c, *[p * s + j * d for p, s, j, d in zip(pos, op.stride, tap, op.dilation)])]),
                  float(g[(f, *pos)])) for pos in np.ndindex(*g.shape[1:]))


def conv_depends(op: ConvOp, spatial, f: int, out_pos: tuple[int, ...]) -> set[tuple[int, ...]]:
    """The input cells (channel, *position) output ``out_pos`` of filter ``f`` reads: its window over the
    group's channels, a padded cell counted as the input cell it copies (zeros padding: none).

    >>> sorted(conv_depends(ConvOp(1, 1, (3,), (1,), (1,), ((1, 1),), padding_mode="replicate"), (4,), 0, (0,)))
    [(0, 0), (0, 1)]
    """
    cg = op.in_channels // op.groups
    group = f // (op.out_channels // op.groups)
    cells = set()
    for pos in window_taps(op, out_pos):
        if all(0 <= q < n for q, n in zip(pos, spatial)):
            at = pos
        elif op.padding_mode == "zeros":
            continue
        else:  # the input cell that padded cell copies
            at = tuple(int(fold_sources(n, p, op.padding_mode)[q + p[0]]) for q, n, p in zip(pos, spatial, op.padding))
        cells.update((c, *at) for c in range(group * cg, (group + 1) * cg))
    return cells


def pool_shares(x: np.ndarray, g: np.ndarray, op: PoolOp) -> dict[tuple[int, ...], list]:
    """Where each upstream gradient of one channel goes: per input cell, the (output position, upstream value,
    divisor) that land on it — max: the window's first maximum alone (divisor 1), average: every real cell of
    the window, divided by the window's divisor. ``x`` (*spatial) and ``g`` (*out) are one channel.

    >>> op = PoolOp("max", (2,), (1,), (1,), ((0, 0),))
    >>> pool_shares(np.array([1, 3, 3, 2], np.float32), np.array([1, 2, 3], np.float32), op)
    {(1,): [((0,), 1.0, 1), ((1,), 2.0, 1)], (2,): [((2,), 3.0, 1)]}
    """
    shares: dict[tuple[int, ...], list] = {}
    for out_pos in np.ndindex(*g.shape):
        step = pool_step(x[None], op, out_pos)
        if op.kind == "max":
            cells, div = ([step.channels[0].winner] if step.channels[0].winner is not None else []), 1
        else:
            cells, div = [t.pos for t in step.taps if t.where == "real"], step.divisor.value
        for cell in cells:
            shares.setdefault(tuple(int(i) for i in cell), []).append((tuple(int(i) for i in out_pos),
                                                                        float(g[out_pos]), div))
    return dict(sorted(shares.items()))
