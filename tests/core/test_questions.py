"""The six questions' numbers (docs/QUESTIONS.md, recorded from PyTorch 2.13 and Keras 3.15) come out of the engine."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from app.core.forward import output_shape, run_layer
from app.core.frameworks import build_layer

DATA = json.loads((Path(__file__).resolve().parents[1] / "data" / "questions.json").read_text())


@pytest.mark.parametrize("case", DATA["layers"], ids=lambda c: f"{c['question']}-{c['framework']}-{c['layer']['type']}")
def test_shapes_params_and_weight_shapes(case):
    layer = build_layer(case["framework"], case["layer"], tuple(case["input_shape"]))
    assert list(output_shape(layer)) == case["output_shape"]
    assert [list(s) for s in layer.weight_shapes] == case["weight_shapes"]
    assert sum(math.prod(s) for s in layer.weight_shapes) == case["params"]


def test_q6_kernel_of_ones_sums_each_window():
    case = DATA["kernel_of_ones"]
    x = np.array(case["input"], dtype=np.float32)
    layer = build_layer(case["framework"], case["layer"], x.shape)
    y = run_layer(layer, x, [np.array(w, dtype=np.float32) for w in case["weights"]])
    assert y.tolist() == case["output"]
    # and by hand: output t of any filter is the sum of input rows t..t+2
    assert y[0, 0, 0] == x[0, 0:3].sum() == 25


def test_q2_stack_shapes():
    """Conv1d(16, 32, 5, stride=2) -> ReLU -> MaxPool1d(2, stride=2) on (4, 16, 100)."""
    shape = (4, 16, 100)
    for spec, expected in [({"type": "Conv1d", "in_channels": 16, "out_channels": 32, "kernel_size": 5, "stride": 2}, (4, 32, 48)),
                           ({"type": "ReLU"}, (4, 32, 48)),
                           ({"type": "MaxPool1d", "kernel_size": 2, "stride": 2}, (4, 32, 24))]:
        shape = output_shape(build_layer("torch", spec, shape))
        assert shape == expected


def test_q6_same_pads_one_before_two_after():
    layer = build_layer("keras", {"type": "Conv1D", "filters": 100, "kernel_size": 4, "padding": "same"}, (1, 50, 300))
    assert layer.stages[0].padding == ((1, 2),)
