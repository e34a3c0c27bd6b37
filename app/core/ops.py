"""Canonical operations: every setting explicit, no framework words.

A framework layer (``Conv2D(32, 3, padding="same")``, ``nn.MaxPool1d(2)``) is translated by
``app.core.frameworks`` into a ``Layer``: a chain of these stages in channels-first layout. The
engine, the shape arithmetic and the cost model only ever see this module's types.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

Pad = tuple[int, int]  # (before, after) on one spatial axis


@dataclass(frozen=True)
class Activation:
    """An elementwise function; ``params`` are its numeric settings (alpha, slope, ...)."""

    name: str
    params: tuple[tuple[str, float], ...] = ()

    def param(self, key: str) -> float:
        return dict(self.params)[key]


@dataclass(frozen=True)
class ConvOp:
    """Cross-correlation (no kernel flip), as every framework computes it.

    Direct: weight (out_channels, in_channels/groups, *kernel).
    Transposed: weight (in_channels, out_channels/groups, *kernel) (PyTorch's layout); ``padding``
    is what is cropped from the full output, ``output_padding`` what is added at the end.
    """

    in_channels: int
    out_channels: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[Pad, ...]
    padding_mode: str = "zeros"  # zeros | reflect | replicate | circular
    groups: int = 1
    bias: bool = True
    transposed: bool = False
    output_padding: tuple[int, ...] = ()

    @property
    def dims(self) -> int:
        return len(self.kernel)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups, *self.kernel)
        return (self.out_channels, self.in_channels // self.groups, *self.kernel)

    @property
    def params(self) -> int:
        return math.prod(self.weight_shape) + (self.out_channels if self.bias else 0)


@dataclass(frozen=True)
class PoolOp:
    """Max or average pooling over each channel separately.

    ``padding`` is (before, after) per axis; ``ceil_mode`` may add one more window per axis that
    hangs past the padding. ``count_include_pad``: an average divides by the window's cells inside
    the padded input (True) or by its cells inside the real input only (False).
    """

    kind: str  # "max" | "avg"
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[Pad, ...]
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: int | None = None  # PyTorch AvgPool2d/3d: divide every window by this instead

    @property
    def dims(self) -> int:
        return len(self.kernel)


@dataclass(frozen=True)
class ActOp:
    activation: Activation


Stage = ConvOp | PoolOp | ActOp


@dataclass(frozen=True)
class Param:
    """One tensor of a framework's weights: its shape there, and where it goes in the stages.

    The framework tensor is transposed by ``perm`` and reshaped to the stage's canonical shape.
    """

    name: str  # e.g. "weight", "bias", "depthwise_kernel"
    stage: int
    kind: str  # "weight" | "bias"
    shape: tuple[int, ...]
    perm: tuple[int, ...]


@dataclass(frozen=True)
class Layer:
    """A framework layer, built for one input shape: canonical stages plus its own layout."""

    type: str
    framework: str
    input_shape: tuple[int, ...]  # in the framework's layout, batch included
    channels_last: bool
    stages: tuple[Stage, ...]
    params: tuple[Param, ...] = ()

    @property
    def weight_shapes(self) -> list[tuple[int, ...]]:
        return [p.shape for p in self.params]
