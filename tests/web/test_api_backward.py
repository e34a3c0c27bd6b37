"""POST /api/backward over HTTP: autograd's gradients (tests/golden/record_backward.py) through the
endpoint, the upstream-gradient choices, the limits and the refusals, and its OpenAPI entry."""
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from app.core.limits import MAX_BODY_BYTES, MAX_WORK

CASES = json.loads(gzip.decompress((Path(__file__).resolve().parents[1] / "golden" / "backward.json.gz")
                                   .read_bytes()))["cases"]
CONV = {"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2}
BODY_KEYS = ("framework", "layer", "input", "weights", "grad_output")


def post(client, **body):
    return client.post("/api/backward", json={"framework": "torch", "layer": CONV,
                                              "input": np.zeros((1, 3, 7, 7)).tolist(), **body})


def detail(r) -> tuple[list, str]:
    assert r.status_code == 422, r.text
    d = r.json()["detail"][0]
    return d["loc"], d["msg"]


def close(got, want) -> None:
    want = np.array(want, dtype=np.float32)
    got = np.array(got, dtype=np.float32)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5 * max(1.0, float(np.abs(want).max(initial=0))))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_the_endpoint_answers_what_autograd_computed(client, case):
    r = client.post("/api/backward", json={k: case[k] for k in BODY_KEYS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["output_shape"] == case["output_shape"]
    close(body["output"], case["output"])
    close(body["grad_input"], case["grad_input"])
    assert len(body["grad_weights"]) == len(case["grad_weights"])
    for got, want in zip(body["grad_weights"], case["grad_weights"]):
        close(got, want)
    assert body["grad_output"] == case["grad_output"] and body["weights"] == case["weights"]


def test_a_conv1d_by_hand(client):
    """y = [1·10 + 2·1, 2·10 + 3·1]; a gradient of 1 on y[0] alone reaches x[0], x[1] through the
    kernel (grad_input [10, 1, 0]) and the weights through the window it read (grad_weight [1, 2])."""
    r = client.post("/api/backward", json={
        "framework": "torch", "layer": {"type": "Conv1d", "in_channels": 1, "out_channels": 1, "kernel_size": 2},
        "input": [[[1, 2, 3]]], "weights": [[[[10, 1]]], [0]], "grad_output": [[[1, 0]]]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["output"] == [[[12.0, 23.0]]]
    assert body["grad_input"] == [[[10.0, 1.0, 0.0]]]
    assert body["grad_weights"] == [[[[1.0, 2.0]]], [1.0]]


def test_grad_output_defaults_to_ones(client):
    x = np.random.default_rng(0).integers(-3, 4, (1, 3, 7, 7)).tolist()
    default = post(client, input=x, seed=3).json()
    ones = post(client, input=x, seed=3, grad_output=np.ones((1, 4, 3, 3)).tolist()).json()
    assert default["grad_output"] == np.ones((1, 4, 3, 3)).tolist()
    assert default == ones
    # with ones upstream the bias gradient counts the output positions
    assert default["grad_weights"][1] == [9.0] * 4


def test_random_grad_output_is_drawn_from_seed(client):
    x = np.ones((1, 3, 7, 7)).tolist()
    first = post(client, input=x, seed=5, grad_output="random").json()
    g = np.array(first["grad_output"])
    assert g.shape == (1, 4, 3, 3) and set(np.unique(g)) <= set(range(-3, 4)) and len(np.unique(g)) > 1
    assert post(client, input=x, seed=5, grad_output="random").json() == first
    assert post(client, input=x, seed=6, grad_output="random").json()["grad_output"] != first["grad_output"]
    again = post(client, input=x, weights=first["weights"], grad_output=first["grad_output"]).json()
    assert again["grad_input"] == first["grad_input"] and again["grad_weights"] == first["grad_weights"]


def test_keras_gradients_come_in_get_weights_order_and_layout(client):
    layer = {"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "padding": "same", "activation": "relu"}
    r = client.post("/api/backward", json={"framework": "keras", "layer": layer, "input": np.ones((1, 5, 5, 3)).tolist()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert np.array(body["grad_input"]).shape == (1, 5, 5, 3)
    assert [np.array(g).shape for g in body["grad_weights"]] == [np.array(w).shape for w in body["weights"]] \
        == [(3, 3, 3, 1), (1, 1, 3, 2), (2,)]


def test_a_layer_without_weights_has_no_weight_gradients(client):
    r = client.post("/api/backward", json={"framework": "torch", "layer": {"type": "MaxPool1d", "kernel_size": 2},
                                           "input": [[[1, 5, 5, 2]]], "grad_output": [[[3, 4]]]})
    assert r.json()["grad_weights"] == [] and r.json()["grad_input"] == [[[0.0, 3.0, 4.0, 0.0]]]


@pytest.mark.parametrize("body, loc, words", [
    ({"grad_output": np.ones((1, 4, 3, 4)).tolist()}, ["body", "grad_output"],
     ["grad_output", "must have shape [1, 4, 3, 3]", "got [1, 4, 3, 4]"]),
    ({"grad_output": [[1, 2], [3]]}, ["body", "grad_output"], ["grad_output", "rectangular"]),
    ({"grad_output": [[[[1e39] * 3] * 3] * 4]}, ["body", "grad_output"], ["grad_output", "finite"]),
    ({"layer": {**CONV, "groups": 2}}, ["body", "layer", "groups"], ["in_channels=3", "groups=2"]),
    ({"layer": {**CONV, "kernel_size": 9}}, ["body", "layer", "kernel_size"], ["does not fit", "[7, 7]"]),
    ({"input": [[[1, 2], [3]]]}, ["body", "input"], ["rectangular"]),
    ({"weights": [[1.0]]}, ["body", "weights"], ["takes 2 weight tensors"]),
])
def test_refusals_name_the_field_the_value_and_what_works(client, body, loc, words):
    got_loc, msg = detail(post(client, **body))
    assert got_loc == loc
    for w in words:
        assert w in msg, msg


def test_an_unknown_grad_output_word_is_refused_by_the_schema(client):
    r = post(client, grad_output="zeros")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "grad_output"]


def test_the_backward_work_limit_is_checked_before_any_work(client):
    """A strided conv's forward is cheap, its input gradient runs over the whole input: refused, with numbers."""
    layer = {"type": "Conv2d", "in_channels": 2, "out_channels": 16, "kernel_size": 9, "stride": 9}
    x = np.zeros((1, 2, 351, 351), dtype=np.float32).tolist()
    assert client.post("/api/forward", json={"framework": "torch", "layer": layer, "input": x}).status_code == 200
    loc, msg = detail(client.post("/api/backward", json={"framework": "torch", "layer": layer, "input": x}))
    assert loc == ["body", "input"] and "backward pass" in msg and "323,279,424 multiply-adds" in msg \
        and f"{MAX_WORK:,}" in msg


def test_the_forward_limits_apply(client):
    loc, msg = detail(post(client, input=np.zeros((4, 3, 200, 200)).tolist()))
    assert loc == ["body", "input"] and "480,000 values" in msg
    r = client.post("/api/backward", content=b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_openapi_documents_backward(client):
    schema = client.get("/openapi.json").json()
    op = schema["paths"]["/api/backward"]["post"]
    assert "BackwardRequest" in json.dumps(op["requestBody"]) and "BackwardResponse" in json.dumps(op["responses"]["200"])
    for status in ("413", "422"):
        assert op["responses"][status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Refusal"}
    request = schema["components"]["schemas"]["BackwardRequest"]["properties"]
    assert "ones" in request["grad_output"]["description"] and "seed" in request["grad_output"]["description"]
    response = schema["components"]["schemas"]["BackwardResponse"]["properties"]
    assert {"output", "output_shape", "grad_input", "grad_weights"} <= set(response)
    assert "get_weights()" in response["grad_weights"]["description"]


@pytest.mark.parametrize("seed", [True, "1", 1.5, -1])
def test_seed_must_be_a_non_negative_integer(client, seed):
    r = post(client, seed=seed)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "seed"]
