"""Grouped convolution's wiring: which input channels each output channel reads."""
from __future__ import annotations

import math


def valid_groups(in_channels: int, out_channels: int) -> list[int]:
    """Both channel counts must be multiples of groups: the divisors of their gcd.

    >>> valid_groups(4, 8), valid_groups(6, 9)
    ([1, 2, 4], [1, 3])
    """
    g = math.gcd(in_channels, out_channels)
    return [d for d in range(1, g + 1) if g % d == 0]


def group_blocks(in_channels: int, out_channels: int, groups: int) -> list[tuple[range, range]]:
    """Per group: its input channels and the output channels that read them (and only them).
    Channels are split into ``groups`` consecutive blocks, as PyTorch and Keras split them.

    >>> group_blocks(4, 6, 2)
    [(range(0, 2), range(0, 3)), (range(2, 4), range(3, 6))]
    """
    per_in, per_out = in_channels // groups, out_channels // groups
    return [(range(g * per_in, (g + 1) * per_in), range(g * per_out, (g + 1) * per_out)) for g in range(groups)]


def group_of(channels: int, groups: int) -> list[int]:
    """Channel -> its group.

    >>> group_of(6, 3)
    [0, 0, 1, 1, 2, 2]
    """
    size = channels // groups
    return [i // size for i in range(channels)]
