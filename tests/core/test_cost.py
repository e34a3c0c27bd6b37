"""The cost model: parameters equal the frameworks' counts; MACs and bytes equal hand counts."""
import gzip
import json
import math
from pathlib import Path

import pytest

from app.core.cost import MACHINES, Cost, Machine, chain_cost, layer_cost, lower_bound_seconds
from app.core.forward import output_shape
from app.core.frameworks import build_layer

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = json.loads(gzip.decompress((ROOT / "golden" / "forward.json.gz").read_bytes()))["cases"]
QUESTIONS = json.loads((ROOT / "data" / "questions.json").read_text())["layers"]


def shape_of(nested) -> tuple[int, ...]:
    shape = []
    while isinstance(nested, list):
        shape.append(len(nested))
        nested = nested[0] if nested else None
    return tuple(shape)


@pytest.mark.parametrize("case", GOLDEN, ids=[c["id"] for c in GOLDEN])
def test_params_equal_the_recorded_weights(case):
    """Every recorded layer's own weights (torch parameters, Keras get_weights()) counted."""
    layer = build_layer(case["framework"], case["layer"], shape_of(case["input"]))
    assert layer_cost(layer).params == sum(math.prod(shape_of(w)) for w in case["weights"])


@pytest.mark.parametrize("case", QUESTIONS, ids=lambda c: f"{c['question']}-{c['layer']['type']}")
def test_params_equal_the_questions(case):
    assert layer_cost(build_layer(case["framework"], case["layer"], tuple(case["input_shape"]))).params == case["params"]


# (framework, layer, input shape, MACs by hand, why)
MACS = [
    ("torch", {"type": "Conv1d", "in_channels": 16, "out_channels": 32, "kernel_size": 5, "stride": 2}, (4, 16, 100),
     4 * 48 * 32 * 16 * 5, "Q2: 48 outputs × 32 filters × 16 channels × 5 taps, batch 4"),
    ("torch", {"type": "Conv2d", "in_channels": 8, "out_channels": 4, "kernel_size": 3, "groups": 2}, (1, 8, 6, 6),
     16 * 4 * 4 * 9, "groups: each output reads 8/2 = 4 channels"),
    ("keras", {"type": "Conv1D", "filters": 64, "kernel_size": 1, "activation": "relu"}, (2, 10, 100),
     2 * 10 * 64 * 100, "Q1: a Dense(64) per position; the activation adds no MACs"),
    ("torch", {"type": "ConvTranspose2d", "in_channels": 3, "out_channels": 2, "kernel_size": 3, "stride": 2},
     (1, 3, 4, 4), 16 * 3 * 2 * 9, "each of 16·3 input values scatters through 9 taps to 2 outputs"),
    ("keras", {"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 2, "padding": "same"}, (1, 5, 5, 3),
     25 * 6 * 9, "6 output channels, each reads one input channel through 9 taps"),
    ("keras", {"type": "SeparableConv2D", "filters": 4, "kernel_size": 3, "padding": "same"}, (1, 5, 5, 3),
     25 * 3 * 9 + 25 * 4 * 3, "depthwise 3×9 per position, then a 3→4 1×1 conv"),
    ("torch", {"type": "MaxPool2d", "kernel_size": 2}, (1, 3, 4, 4), 0, "pooling compares, it does not multiply"),
    ("torch", {"type": "GELU"}, (1, 3, 4, 4), 0, "activations do not multiply-accumulate"),
]


@pytest.mark.parametrize("framework, spec, shape, macs, why", MACS, ids=[m[4] for m in MACS])
def test_macs_by_hand(framework, spec, shape, macs, why):
    assert layer_cost(build_layer(framework, spec, shape)).macs == macs


def test_bytes_of_a_separable_conv_include_the_intermediate_twice():
    layer = build_layer("keras", {"type": "SeparableConv2D", "filters": 4, "kernel_size": 3, "padding": "same"},
                        (2, 5, 5, 3))
    c = layer_cost(layer, dtype_bytes=2)
    assert (c.input_bytes, c.output_bytes) == (2 * 25 * 3 * 2, 2 * 25 * 4 * 2)
    assert c.weight_bytes == (27 + 12 + 4) * 2
    assert c.intermediate_bytes == 2 * (2 * 25 * 3) * 2  # written, then read back
    assert c.total_bytes == c.input_bytes + c.weight_bytes + c.output_bytes + c.intermediate_bytes
    assert c.intensity == pytest.approx(2 * c.macs / c.total_bytes)


def test_a_fused_activation_moves_no_extra_bytes():
    plain = layer_cost(build_layer("keras", {"type": "Conv2D", "filters": 4, "kernel_size": 3}, (1, 6, 6, 2)))
    relu = layer_cost(build_layer("keras", {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
                                  (1, 6, 6, 2)))
    assert plain == relu


def test_keras_separable_equals_the_torch_pair():
    keras = layer_cost(build_layer("keras", {"type": "SeparableConv2D", "filters": 32, "kernel_size": 3,
                                             "padding": "same"}, (10, 64, 64, 32)))
    dw = build_layer("torch", {"type": "Conv2d", "in_channels": 32, "out_channels": 32, "kernel_size": 3,
                               "padding": 1, "groups": 32, "bias": False}, (10, 32, 64, 64))
    pw = build_layer("torch", {"type": "Conv2d", "in_channels": 32, "out_channels": 32, "kernel_size": 1},
                     output_shape(dw))
    assert chain_cost([dw, pw]) == keras


@pytest.mark.parametrize("channels", [32, 64, 128])
def test_q3_mac_ratio_is_one_over_c_plus_one_over_k_squared(channels):
    shape = (10, channels, 512, 512)
    std = layer_cost(build_layer("torch", {"type": "Conv2d", "in_channels": channels, "out_channels": channels,
                                           "kernel_size": 3, "padding": 1}, shape))
    sep = layer_cost(build_layer("keras", {"type": "SeparableConv2D", "filters": channels, "kernel_size": 3,
                                           "padding": "same", "data_format": "channels_first"}, shape))
    assert sep.macs / std.macs == pytest.approx(1 / channels + 1 / 9)
    assert std.macs == 9 * channels * channels * 512 * 512 * 10
    assert sep.total_bytes > 1.9 * std.total_bytes  # the intermediate: written and read back


def test_roofline_bound_picks_the_slower_side():
    machine = Machine("m", peak_gflops=100, bandwidth_gbs=10)
    assert machine.ridge == 10
    compute_heavy = Cost(params=0, macs=10**9, input_bytes=10**6, weight_bytes=0, output_bytes=0, intermediate_bytes=0)
    seconds, bound = lower_bound_seconds(compute_heavy, machine)
    assert (seconds, bound) == (pytest.approx(0.02), "compute")  # 2 GFLOP at 100 GFLOP/s
    memory_heavy = Cost(params=0, macs=10**6, input_bytes=10**9, weight_bytes=0, output_bytes=0, intermediate_bytes=0)
    assert lower_bound_seconds(memory_heavy, machine) == (pytest.approx(0.1), "memory")  # 1 GB at 10 GB/s
    assert all(m.peak_gflops > 0 and m.bandwidth_gbs > 0 for m in MACHINES)
