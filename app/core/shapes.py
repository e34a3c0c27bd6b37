"""Output-size arithmetic, padding resolution, and the formula with the numbers substituted.

All shapes here are channels-first: (N, C, *spatial).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..core.ops import ConvOp, Pad, PoolOp, Stage


def effective_kernel(k: int, dilation: int = 1) -> int:
    """Span of a dilated kernel: the taps plus the holes between them.

    >>> effective_kernel(3, dilation=2)
    5
    """
    return dilation * (k - 1) + 1


def output_size(n: int, k: int, *, stride: int = 1, pad: Pad = (0, 0), dilation: int = 1) -> int:
    """Length of one output axis (floor, as the frameworks do).

    >>> output_size(100, 5, stride=2)
    48
    """
    return (n + pad[0] + pad[1] - effective_kernel(k, dilation)) // stride + 1


def pool_output_size(n: int, k: int, *, stride: int, pad: Pad = (0, 0), dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """Pooling output length; ``ceil_mode`` keeps a last partial window if it starts inside the
    input or the left padding (PyTorch's rule, aten/src/ATen/native/Pool.h).

    >>> pool_output_size(5, 2, stride=2), pool_output_size(5, 2, stride=2, ceil_mode=True)
    (2, 3)
    """
    span = n + pad[0] + pad[1] - effective_kernel(k, dilation)
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= n + pad[0]:
        out -= 1
    return out


def transposed_output_size(n: int, k: int, *, stride: int = 1, pad: Pad = (0, 0), dilation: int = 1,
                           output_padding: int = 0) -> int:
    """Transposed conv: the full scatter length, minus the cropped padding, plus output_padding.

    >>> transposed_output_size(4, 3, stride=2, pad=(1, 1), output_padding=1)
    8
    """
    return (n - 1) * stride + effective_kernel(k, dilation) - pad[0] - pad[1] + output_padding


def same_padding(n: int, k: int, *, stride: int = 1, dilation: int = 1) -> Pad:
    """TensorFlow's 'same': output ceil(n / stride); any odd extra padding goes after.

    >>> same_padding(50, 4)
    (1, 2)
    """
    out = -(-n // stride)
    total = max((out - 1) * stride + effective_kernel(k, dilation) - n, 0)
    return total // 2, total - total // 2



def inputs_of_length(out: int, k: int, *, stride: int = 1, pad: Pad | None = (0, 0), dilation: int = 1) -> list[int]:
    """Every input length the conv maps to output length ``out`` (``pad`` None: TensorFlow's 'same'):
    the lengths a transposed conv of this conv could mean, which its output_padding tells apart.

    >>> inputs_of_length(3, 3, stride=2)
    [7, 8]
    >>> inputs_of_length(3, 3, stride=2, pad=None)
    [5, 6]
    """
    span = stride * (out + 1) + effective_kernel(k, dilation)  # past this, every length maps higher
    return [n for n in range(1, span + 1) if conv_length(n, k, stride=stride, pad=pad, dilation=dilation) == out]


def conv_length(n: int, k: int, *, stride: int = 1, pad: Pad | None = (0, 0), dilation: int = 1) -> int:
    """``output_size``, where ``pad`` None is TensorFlow's 'same' (output ceil(n / stride)).

    >>> conv_length(7, 3, stride=2), conv_length(7, 3, stride=2, pad=None)
    (3, 4)
    """
    pad = same_padding(n, k, stride=stride, dilation=dilation) if pad is None else pad
    return output_size(n, k, stride=stride, pad=pad, dilation=dilation)

def stage_output_shape(stage: Stage, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Channels-first output shape of one stage (an activation keeps any shape).

    A 3×3 conv to 8 channels with stride 2 and padding 1 halves 32×32: (32 + 1 + 1 − 3) // 2 + 1 = 16;
    a transposed conv undoes it on one axis: (16 − 1)·2 + 3 − 1 − 1 + output_padding 1 = 32:

    >>> stage_output_shape(ConvOp(3, 8, (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1))), (1, 3, 32, 32))
    (1, 8, 16, 16)
    >>> stage_output_shape(ConvOp(8, 3, (3,), (2,), (1,), ((1, 1),), transposed=True, output_padding=(1,)),
    ...                    (1, 8, 16))
    (1, 3, 32)
    >>> stage_output_shape(PoolOp("max", (2,), (2,), (1,), ((0, 0),), ceil_mode=True), (1, 8, 5))  # ceil(3 / 2) + 1
    (1, 8, 3)
    """
    if not isinstance(stage, (ConvOp, PoolOp)):
        return tuple(shape)
    n, c, *spatial = shape
    if isinstance(stage, ConvOp):
        if stage.transposed:
            sizes = [transposed_output_size(spatial[i], stage.kernel[i], stride=stage.stride[i],
                                            pad=stage.padding[i], dilation=stage.dilation[i],
                                            output_padding=stage.output_padding[i])
                     for i in range(stage.dims)]
        else:
            sizes = [output_size(spatial[i], stage.kernel[i], stride=stage.stride[i],
                                 pad=stage.padding[i], dilation=stage.dilation[i])
                     for i in range(stage.dims)]
        return (n, stage.out_channels, *sizes)
    return (n, c, *[pool_output_size(spatial[i], stage.kernel[i], stride=stage.stride[i], pad=stage.padding[i],
                                     dilation=stage.dilation[i], ceil_mode=stage.ceil_mode)
                    for i in range(stage.dims)])


@dataclass(frozen=True)
class AxisFormula:
    """The output-size formula of one axis with the user's numbers in it."""

    axis: int
    n: int
    k: int
    stride: int
    pad: Pad
    dilation: int
    ceil_mode: bool
    out: int
    unreached: tuple[int, ...]  # input positions that no window reads

    @property
    def text(self) -> str:
        eff = effective_kernel(self.k, self.dilation)
        top = self.n + self.pad[0] + self.pad[1] - eff
        rnd = "ceil" if self.ceil_mode else "floor"
        quotient = -(-top // self.stride) if self.ceil_mode else top // self.stride
        text = (f"{rnd}(({self.n} + {self.pad[0]} + {self.pad[1]} − {self.dilation}·({self.k} − 1) − 1)"
                f" / {self.stride}) + 1 = {rnd}({top} / {self.stride}) + 1 = {quotient} + 1 = {quotient + 1}")
        if quotient + 1 != self.out:  # ceil_mode's extra window would start in the right padding
            text += f" − 1 (a last window may not start past the input and its left padding) = {self.out}"
        return text


def read_positions(out: int, k: int, *, stride: int, pad: Pad, dilation: int) -> set[int]:
    """Input positions (unpadded coordinates) read by any of ``out`` windows on one axis.

    Two 3-wide windows with stride 2 read 0..2 and 2..4; with one cell of left padding, two 2-wide windows
    with stride 3 read −1 (the padding), 0 and 2, 3, and never 1:

    >>> sorted(read_positions(2, 3, stride=2, pad=(0, 0), dilation=1))
    [0, 1, 2, 3, 4]
    >>> sorted(read_positions(2, 2, stride=3, pad=(1, 0), dilation=1))
    [-1, 0, 2, 3]
    """
    return {o * stride - pad[0] + j * dilation for o in range(out) for j in range(k)}


def axis_formulas(stage: ConvOp | PoolOp, spatial: tuple[int, ...]) -> list[AxisFormula]:
    """Per spatial axis: the formula with numbers, and which input positions the floor drops.

    A 3-wide kernel with stride 2 fits twice in 6 (at 0 and 2); the floor drops the last position, 5:

    >>> [row] = axis_formulas(ConvOp(1, 1, (3,), (2,), (1,), ((0, 0),)), (6,))
    >>> print(row.text)
    floor((6 + 0 + 0 − 1·(3 − 1) − 1) / 2) + 1 = floor(3 / 2) + 1 = 1 + 1 = 2
    >>> row.out, row.unreached
    (2, (5,))

    With ``ceil_mode``, a last window that would start in the right padding is dropped:

    >>> [row] = axis_formulas(PoolOp("max", (2,), (2,), (1,), ((1, 1),), ceil_mode=True), (3,))
    >>> print(row.text)
    ceil((3 + 1 + 1 − 1·(2 − 1) − 1) / 2) + 1 = ceil(3 / 2) + 1 = 2 + 1 = 3 − 1 (a last window may not start past
    the input and its left padding) = 2
    """
    ceil = isinstance(stage, PoolOp) and stage.ceil_mode
    rows = []
    for i, n in enumerate(spatial):
        k, s, p, d = stage.kernel[i], stage.stride[i], stage.padding[i], stage.dilation[i]
        out = (pool_output_size(n, k, stride=s, pad=p, dilation=d, ceil_mode=ceil)
               if isinstance(stage, PoolOp) else output_size(n, k, stride=s, pad=p, dilation=d))
        rows.append(AxisFormula(i, n, k, s, p, d, ceil, out, unread_positions(n, max(out, 0), k, s, p, d)))
    return rows


@lru_cache(maxsize=4096)
def unread_positions(n: int, out: int, k: int, stride: int, pad: Pad, dilation: int) -> tuple[int, ...]:
    """The positions of an axis of ``n`` that none of ``out`` windows reads (read_positions' complement),
    remembered: every answer of a view asks it, and a long axis has thousands of positions.

    >>> unread_positions(6, 2, 3, 2, (0, 0), 1)
    (5,)
    """
    seen = read_positions(out, k, stride=stride, pad=pad, dilation=dilation)
    return tuple(x for x in range(n) if x not in seen)


def window_range(n: int, k: int, d: int, pad: int, *, k_max: int, d_max: int) -> tuple[int, int, int]:
    """The knobs' legal range on one axis given the others: the largest kernel and dilation, and the
    smallest input, for which the dilated window d·(k − 1) + 1 fits the padded input n + pad.

    >>> window_range(6, 3, 1, 0, k_max=7, d_max=4)  # (kernel max, dilation max, size min)
    (6, 2, 3)
    >>> window_range(2, 1, 1, 2, k_max=7, d_max=4)  # a 1-wide kernel fits at any dilation
    (4, 4, 1)
    """
    span = n + pad - 1
    return min(k_max, span // d + 1), min(d_max, span // (k - 1)) if k > 1 else d_max, max(1, d * (k - 1) + 1 - pad)


# ---------------------------------------------------------------- lists as the pages write them

def csv(values) -> str:
    """A list as the URL and the knobs write it, commas and no spaces (one value, or a word, as it is).

    >>> csv((1, 4, 300)), csv([3]), csv(2), csv("same")
    ('1,4,300', '3', '2', 'same')
    """
    if isinstance(values, str | int):
        return str(values)
    return ",".join(map(str, values))


def index_text(position) -> str:
    """A position (or a tensor's index) as Python indexes it: in brackets, comma and space between.

    >>> index_text((2, 0, 5)), index_text([7])
    ('[2, 0, 5]', '[7]')
    """
    return "[" + ", ".join(map(str, position)) + "]"
