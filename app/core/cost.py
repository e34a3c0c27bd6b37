"""What layers cost: parameters, multiply-accumulates, bytes moved, arithmetic intensity, and the
lower-bound time on a machine (the roofline model: Williams, Waterman & Patterson, 2009).

Bytes are the minimum traffic: every tensor read or written once. Elementwise activations are
fused into the op before them (no traffic of their own); between two convolution stages (a
depthwise-separable conv) the intermediate tensor is written and read back.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.forward import stage_shapes
from ..core.ops import ConvOp, Layer, PoolOp


@dataclass(frozen=True)
class Cost:
    params: int
    macs: int
    input_bytes: int
    weight_bytes: int
    output_bytes: int
    intermediate_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.weight_bytes + self.output_bytes + self.intermediate_bytes

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def intensity(self) -> float:
        """FLOPs per byte moved."""
        return self.flops / self.total_bytes if self.total_bytes else 0.0


def stage_macs(stage, before: tuple[int, ...], after: tuple[int, ...]) -> int:
    """Multiply-accumulates of one stage for the whole batch (bias adds not counted).

    >>> stage_macs(ConvOp(16, 32, (5,), (2,), (1,), ((0, 0),)), (4, 16, 100), (4, 32, 48))
    491520
    """
    if not isinstance(stage, ConvOp):
        return 0  # pooling compares or adds, activations map: no multiply-accumulates
    per_tap = math.prod(stage.kernel)
    if stage.transposed:  # every input value is scattered to its group's outputs through every tap
        return math.prod(before) * (stage.out_channels // stage.groups) * per_tap
    return math.prod(after) * (stage.in_channels // stage.groups) * per_tap


def chain_cost(layers: list[Layer], dtype_bytes: int = 4) -> Cost:
    """The cost of layers run one after another (one layer is a chain of one).

    A depthwise 3×3 conv then a pointwise 1×1 conv to 8 channels: 3·6·6·9 = 972 plus 8·6·6·3 = 864 MACs, and
    the 3×6×6 tensor between them is written and read back (2·108·4 = 864 bytes):

    >>> from app.core.frameworks import build_layer
    >>> depthwise = build_layer("torch", {"type": "Conv2d", "in_channels": 3, "out_channels": 3, "kernel_size": 3,
    ...                                   "groups": 3}, (1, 3, 8, 8))
    >>> pointwise = build_layer("torch", {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 1},
    ...                         (1, 3, 6, 6))
    >>> chain_cost([depthwise, pointwise])
    Cost(params=62, macs=1836, input_bytes=768, weight_bytes=248, output_bytes=1152, intermediate_bytes=864)
    """
    stages = []
    for layer in layers:
        s = stage_shapes(layer)
        stages += [(stage, before, after) for stage, before, after in zip(layer.stages, s, s[1:])]
    macs = sum(stage_macs(*t) for t in stages)
    params = sum(math.prod(p.shape) for layer in layers for p in layer.params)
    # a tensor between two stages is written then read, unless the next stage is elementwise
    intermediate = sum(2 * math.prod(after) for (_, _, after), (nxt, _, _) in zip(stages, stages[1:])
                       if isinstance(nxt, (ConvOp, PoolOp)))
    first, last = stage_shapes(layers[0])[0], stage_shapes(layers[-1])[-1]  # an identity layer has no stages
    return Cost(params, macs, math.prod(first) * dtype_bytes, params * dtype_bytes, math.prod(last) * dtype_bytes,
                intermediate * dtype_bytes)


def layer_cost(layer: Layer, dtype_bytes: int = 4) -> Cost:
    """The cost of one layer (``chain_cost`` of a chain of one).

    A 3×3 conv from 3 to 8 channels on 32×32: 8·3·3·3 weights + 8 biases; 8·30·30 outputs of 27 products each;
    (3·32·32 + 224 + 8·30·30) float32 values moved:

    >>> from app.core.frameworks import build_layer
    >>> cost = layer_cost(build_layer("torch", {"type": "Conv2d", "in_channels": 3, "out_channels": 8,
    ...                                         "kernel_size": 3}, (1, 3, 32, 32)))
    >>> cost.params, cost.macs, cost.flops, cost.total_bytes, round(cost.intensity, 2)
    (224, 194400, 388800, 41984, 9.26)
    """
    return chain_cost([layer], dtype_bytes)


@dataclass(frozen=True)
class Machine:
    """A machine as the roofline sees it: peak FP32 GFLOP/s and memory bandwidth in GB/s.

    >>> Machine("Laptop CPU", 300, 40).ridge  # FLOP/byte: below this an op waits on memory
    7.5
    """

    name: str
    peak_gflops: float  # FP32
    bandwidth_gbs: float

    @property
    def ridge(self) -> float:
        """The arithmetic intensity (FLOP/byte) above which an op can be compute-bound."""
        return self.peak_gflops / self.bandwidth_gbs


# Rounded datasheet figures (FP32 peak, memory bandwidth); the page lets people edit them.
MACHINES = (
    Machine("Laptop CPU (4 cores, AVX2)", 300, 40),
    Machine("Server CPU (32 cores, AVX-512)", 3000, 200),
    Machine("GPU, GTX 1080 class (2016)", 8900, 320),
    Machine("GPU, A100 (2020)", 19500, 1555),
)


def lower_bound_seconds(cost: Cost, machine: Machine) -> tuple[float, str]:
    """The roofline's floor: the larger of compute time and memory time, and which one it is.

    The same conv (388,800 FLOPs over 41,984 bytes, 9.26 FLOP/byte) is compute-bound on a laptop whose ridge is
    300 / 40 = 7.5 FLOP/byte, and memory-bound on a server whose ridge is 3,000 / 200 = 15:

    >>> from app.core.frameworks import build_layer
    >>> cost = layer_cost(build_layer("torch", {"type": "Conv2d", "in_channels": 3, "out_channels": 8,
    ...                                         "kernel_size": 3}, (1, 3, 32, 32)))
    >>> lower_bound_seconds(cost, Machine("Laptop CPU", 300, 40))  # 388,800 / 300e9 s > 41,984 / 40e9 s
    (1.296e-06, 'compute')
    >>> lower_bound_seconds(cost, Machine("Server CPU", 3000, 200))  # 388,800 / 3e12 s < 41,984 / 200e9 s
    (2.0992e-07, 'memory')
    """
    compute = cost.flops / (machine.peak_gflops * 1e9)
    memory = cost.total_bytes / (machine.bandwidth_gbs * 1e9)
    return (compute, "compute") if compute >= memory else (memory, "memory")
