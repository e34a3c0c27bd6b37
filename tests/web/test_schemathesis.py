"""Schemathesis against /openapi.json, with the ASGI app in-process.

Every operation is fuzzed through all of Schemathesis' phases (schema examples, coverage, fuzzing;
positive and negative data) with every built-in check enabled (not_a_server_error,
status_code_conformance, content_type_conformance, response_headers_conformance,
response_schema_conformance, positive_data_acceptance, negative_data_rejection,
missing_required_header, unsupported_method, …), plus:

- ``max_response_time``: every response within 2 s, in-process (the bound is generous on purpose:
  the largest allowed request takes ~0.1–0.3 s; 2 s catches a request that escapes the limits);
- ``refusal_names_the_field``: a 422 is FastAPI's shape, ``detail[*].loc`` starting at ``body``
  with a message.

One deliberate change to a default: ``positive_data_acceptance`` also accepts 422. The schema
says what JSON is well formed (``LayerSpec`` is ``{"type": str, **keywords}``, ``input`` a list);
which layers, keywords and shapes the framework accepts cannot be written in JSON Schema, and
docs/API.md answers those with a 422 that names the field. Generated "valid" bodies are mostly such
layers (``type: "0"``, ``input: []``), so without this every operation would fail on the contract
itself. A 5xx is still a failure through not_a_server_error.

Generated bodies almost never describe a layer that runs, so ``test_valid_requests`` sends
requests that do (docs/API.md's examples, every family of layer, the largest allowed) through the
same checks: that is where response_schema_conformance and the time bound bite.
"""
import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import PositiveDataAcceptanceConfig

from app.core.code import MAX_CHARS
from app.core.limits import MAX_INPUT_ELEMENTS, MAX_WORK
from app.main import app

MAX_SECONDS = 2.0
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
schema.config.checks.update(max_response_time=MAX_SECONDS)
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "3xx", "401", "403", "404", "409", "422", "429"])


def refusal_names_the_field(ctx, response, case):
    """A 422 is {"detail": [{"loc": ["body", ...], "msg": "...", "type": "..."}, ...]}."""
    if response.status_code != 422:
        return
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail, detail
    for item in detail:
        assert isinstance(item["loc"], list) and item["loc"] and item["loc"][0] == "body", item
        assert isinstance(item["msg"], str) and item["msg"], item


@schema.parametrize()
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api(case):
    case.call_and_validate(additional_checks=[refusal_names_the_field])


def _ones(*shape):
    return np.ones(shape).tolist()


FORWARD = {
    "torch Conv2d (docs/API.md)": {"framework": "torch", "layer": {"type": "Conv2d", "in_channels": 3, "out_channels": 4,
                                                              "kernel_size": 3, "stride": 2}, "input": _ones(1, 3, 7, 7)},
    "keras Conv1D same relu (README)": {
        "framework": "keras", "layer": {"type": "Conv1D", "filters": 2, "kernel_size": 3, "padding": "same",
                                        "activation": "relu"},
        "input": [[[1, 2], [3, 4], [5, 6], [7, 8]]], "seed": 0},
    "torch Conv1d given weights": {"framework": "torch", "layer": {"type": "Conv1d", "in_channels": 1, "out_channels": 1,
                                                                   "kernel_size": 2, "bias": False},
                                   "input": [[[1, 2, 3]]], "weights": [[[[1, 1]]]]},
    "torch ConvTranspose2d": {"framework": "torch", "layer": {"type": "ConvTranspose2d", "in_channels": 2,
                                                              "out_channels": 3, "kernel_size": 3, "stride": 2,
                                                              "output_padding": 1}, "input": _ones(1, 2, 4, 4)},
    "torch MaxPool1d ceil_mode": {"framework": "torch", "layer": {"type": "MaxPool1d", "kernel_size": 2,
                                                                  "ceil_mode": True}, "input": _ones(1, 1, 5)},
    "torch AvgPool3d": {"framework": "torch", "layer": {"type": "AvgPool3d", "kernel_size": 2},
                        "input": _ones(1, 1, 4, 4, 4)},
    "keras SeparableConv2D": {"framework": "keras", "layer": {"type": "SeparableConv2D", "filters": 4,
                                                              "kernel_size": 3}, "input": _ones(1, 5, 5, 2)},
    "keras DepthwiseConv1D": {"framework": "keras", "layer": {"type": "DepthwiseConv1D", "kernel_size": 3},
                              "input": _ones(2, 6, 3)},
    "keras exponential overflow is null": {"framework": "keras", "layer": {"type": "Conv1D", "filters": 1,
                                                                           "kernel_size": 1, "activation": "exponential"},
                                           "input": [[[1e6]]], "weights": [[[[1.0]]], [0.0]]},
    # the largest allowed: MAX_INPUT_ELEMENTS values in, exactly MAX_WORK multiply-adds
    "largest allowed Conv1d": {"framework": "torch", "layer": {"type": "Conv1d", "in_channels": 250,
                                                               "out_channels": MAX_WORK // MAX_INPUT_ELEMENTS,
                                                               "kernel_size": 1},
                               "input": _ones(1, 250, MAX_INPUT_ELEMENTS // 250)},
}
COST = {
    "torch Conv2d": {"framework": "torch", "layer": {"type": "Conv2d", "in_channels": 32, "out_channels": 64,
                                                     "kernel_size": 3, "padding": "same"},
                     "input_shape": [10, 32, 512, 512]},
    "keras SeparableConv2D unknown batch": {"framework": "keras", "layer": {"type": "SeparableConv2D", "filters": 64,
                                                                            "kernel_size": 3},
                                            "input_shape": [None, 224, 224, 32], "dtype_bytes": 2},
    "huge shapes, nothing computed": {"framework": "torch", "layer": {"type": "Conv1d", "in_channels": 2**20,
                                                                      "out_channels": 2**20, "kernel_size": 2**10},
                                      "input_shape": [2**20, 2**20, 2**20]},
}
TRACE_CODE = ("model = models.Sequential()\n"
              "model.add(layers.Conv3D(16, (3, 3, 1), input_shape=(33, 33, 7, 1)))\n"
              "model.add(layers.MaxPooling3D((2, 2, 1)))\nmodel.add(layers.Flatten())\nmodel.add(layers.Dense(10))\n")
TRACE = {
    "layers (docs/API.md)": {"framework": "torch", "input_shape": [4, 16, 100],
                        "layers": [{"type": "Conv1d", "in_channels": 16, "out_channels": 32, "kernel_size": 5,
                                    "stride": 2}, {"type": "ReLU"}, {"type": "MaxPool1d", "kernel_size": 2},
                                   {"type": "Flatten"}, {"type": "Linear", "in_features": None, "out_features": 10}]},
    "keras code": {"framework": "keras", "code": TRACE_CODE},
    "torch nn.Module": {"code": "import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n"
                                "        super().__init__()\n        self.conv = nn.Conv2d(3, 8, 3)\n"
                                "        self.fc = nn.Linear(8 * 30 * 30, 10)\n    def forward(self, x):\n"
                                "        x = torch.relu(self.conv(x))\n        return self.fc(torch.flatten(x, 1))\n",
                        "input_shape": [2, 3, 32, 32]},
    "shapes that do not fit": {"framework": "torch", "input_shape": [1, 3, 8],
                               "layers": [{"type": "Conv1d", "in_channels": 4, "out_channels": 2, "kernel_size": 3}]},
    "unresolved names": {"framework": "keras", "code": "model = keras.Sequential([layers.Conv2D(depth_1, 3, "
                                                       "input_shape=(28, 28, 1))])\n"},
    "unresolved names given": {"framework": "keras", "variables": {"depth_1": 16},
                               "code": "model = keras.Sequential([layers.Conv2D(depth_1, 3, input_shape=(28, 28, 1))])\n"},
    # the largest allowed code: MAX_CHARS characters
    "largest allowed code": {"framework": "keras", "code": (TRACE_CODE + "#" * MAX_CHARS)[:MAX_CHARS]},
}
VALID = [("/api/forward", name, body) for name, body in FORWARD.items()] + \
        [("/api/cost", name, body) for name, body in COST.items()] + \
        [("/api/trace", name, body) for name, body in TRACE.items()]


@pytest.mark.parametrize("path, body", [(p, b) for p, _, b in VALID], ids=[f"{p} {n}" for p, n, _ in VALID])
def test_valid_requests(path, body):
    case = schema[path]["POST"].Case(body=body, media_type="application/json")
    response = case.call_and_validate(additional_checks=[refusal_names_the_field])
    assert response.status_code == 200, response.text[:500]
