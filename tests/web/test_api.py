"""POST /api/forward over HTTP: the contract of docs/API.md, the limits, and the refusals."""
import json

import numpy as np
import pytest

from app.core.limits import MAX_BODY_BYTES

CONV = {"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 2}


def post(client, **body):
    return client.post("/api/forward", json={"framework": "torch", "layer": CONV, **body})


def detail(r) -> tuple[list, str]:
    assert r.status_code == 422, r.text
    d = r.json()["detail"][0]
    return d["loc"], d["msg"]


def test_weights_drawn_from_seed_are_returned_and_reproduce_the_output(client):
    x = np.arange(2 * 3 * 7 * 7, dtype=np.float32).reshape(2, 3, 7, 7) / 50
    r = post(client, input=x.tolist(), seed=7)
    assert r.status_code == 200
    body = r.json()
    assert body["output_shape"] == [2, 4, 3, 3]
    assert np.array(body["output"]).shape == (2, 4, 3, 3)
    w, b = (np.array(t, dtype=np.float32) for t in body["weights"])
    assert w.shape == (4, 3, 3, 3) and b.shape == (4,)
    again = post(client, input=x.tolist(), weights=body["weights"]).json()
    assert again["output"] == body["output"]
    # by hand: output [0, 1, 0, 0] reads the top-left 3×3 window of every channel
    expected = (w[1] * x[0, :, 0:3, 0:3]).sum() + b[1]
    assert body["output"][0][1][0][0] == pytest.approx(float(expected), rel=1e-5)
    assert post(client, input=x.tolist(), seed=8).json()["weights"] != body["weights"]
    assert post(client, input=x.tolist(), seed=7).json() == body


def test_keras_layout_and_weight_order(client):
    layer = {"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "padding": "same"}
    x = np.ones((1, 5, 5, 3)).tolist()
    r = client.post("/api/forward", json={"framework": "keras", "layer": layer, "input": x})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["output_shape"] == [1, 5, 5, 2]
    assert [np.array(w).shape for w in body["weights"]] == [(3, 3, 3, 1), (1, 1, 3, 2), (2,)]


@pytest.mark.parametrize("body, loc, words", [
    ({"layer": {**CONV, "padding": "same"}}, ["body", "layer", "padding"], ["padding='same'", "stride"]),
    ({"layer": {**CONV, "groups": 2}}, ["body", "layer", "groups"], ["in_channels=3", "groups=2"]),
    ({"layer": {**CONV, "kernal_size": 3}}, ["body", "layer", "kernal_size"], ["no keyword 'kernal_size'", "kernel_size"]),
    ({"layer": {**CONV, "stride": 0}}, ["body", "layer", "stride"], ["stride", "from 1 to", "0"]),
    ({"layer": {**CONV, "kernel_size": 9}}, ["body", "layer", "kernel_size"], ["does not fit", "[7, 7]"]),
    ({"layer": {**CONV, "padding_mode": "mirror"}}, ["body", "layer", "padding_mode"], ["'reflect'", "'mirror'"]),
    ({"layer": {"type": "Conv2D", "filters": 4, "kernel_size": 3}}, ["body", "layer", "type"], ["unknown PyTorch layer type 'Conv2D'"]),
    ({"layer": {**CONV, "in_channels": 4, "groups": 1}}, ["body", "layer", "in_channels"], ["4 channels", "got 3"]),
    ({"input": [[[1, 2], [3]]]}, ["body", "input"], ["rectangular"]),
    ({"input": [[["a"]]]}, ["body", "input"], ["rectangular"]),
    ({"input": [[[[1e39] * 7] * 7] * 3]}, ["body", "input"], ["finite"]),
    ({"input": [[[[1.0] * 7] * 7] * 3], "weights": [[1.0]]}, ["body", "weights"], ["takes 2 weight tensors"]),
    ({"input": [[[[1.0] * 7] * 7] * 3], "weights": [np.zeros((3, 3, 3, 4)).tolist(), [0] * 4]},
     ["body", "weights", 0], ["must have shape [4, 3, 3, 3]", "got [3, 3, 3, 4]"]),
])
def test_refusals_name_the_field_the_value_and_what_works(client, body, loc, words):
    payload = {"input": np.zeros((1, 3, 7, 7)).tolist(), **body}
    got_loc, msg = detail(post(client, **payload))
    assert got_loc == loc
    for w in words:
        assert w in msg, msg


def test_keras_refusals(client):
    r = client.post("/api/forward", json={"framework": "keras", "input": np.zeros((1, 8, 8, 3)).tolist(),
                                          "layer": {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "causal"}})
    loc, msg = detail(r)
    assert loc == ["body", "layer", "padding"] and "'causal' is only for Conv1D" in msg
    r = client.post("/api/forward", json={"framework": "keras", "input": np.zeros((1, 8, 8, 3)).tolist(),
                                          "layer": {"type": "AveragePooling2D"}})
    loc, msg = detail(r)
    assert loc == ["body", "layer", "pool_size"] and "requires 'pool_size'" in msg


def test_unknown_framework_is_a_422(client):
    r = client.post("/api/forward", json={"framework": "jax", "layer": CONV, "input": [[[[0]]]]})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "framework"]


def test_work_limit_is_checked_before_any_work(client):
    big = {"type": "Conv2d", "in_channels": 64, "out_channels": 128, "kernel_size": 7, "padding": 3}
    x = np.zeros((1, 64, 32, 32), dtype=np.float32).tolist()  # 65,536 values: under the input limit
    r = client.post("/api/forward", json={"framework": "torch", "layer": big, "input": x})
    loc, msg = detail(r)
    assert loc == ["body", "input"] and "411,041,792 multiply-adds" in msg and "50,000,000" in msg
    r = client.post("/api/forward", json={"framework": "torch", "layer": {**big, "out_channels": 512}, "input": x})
    loc, msg = detail(r)
    assert loc == ["body", "input"] and "524,288 values" in msg


def test_input_limit(client):
    r = post(client, input=np.zeros((4, 3, 200, 200)).tolist())
    loc, msg = detail(r)
    assert loc == ["body", "input"] and "480,000 values" in msg and "250,000" in msg


def test_body_over_the_limit_is_413(client):
    r = client.post("/api/forward", content=b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000, b'{"framework": "torch", "layer": ' + b"[" * 50_000,
                                 b"not json", b'{"framework": "torch", "layer": {"type": "Conv1d"}, "input": ' + b"[" * 20 + b"1" + b"]" * 20 + b"}"])
def test_malformed_bodies_are_422_not_500(client, raw):
    r = client.post("/api/forward", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text[:200]


@pytest.mark.parametrize("path", ["/api/forward", "/api/trace", "/api/cost"])
def test_openapi_documents_the_refusals(client, path):
    schema = client.get("/openapi.json").json()
    responses = schema["paths"][path]["post"]["responses"]
    for status in ("413", "422"):
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Refusal"}
    assert set(schema["components"]["schemas"]["Refusal"]["properties"]) == {"detail"}


def test_openapi_documents_forward(client):
    schema = client.get("/openapi.json").json()
    op = schema["paths"]["/api/forward"]["post"]
    assert "ForwardRequest" in json.dumps(op["requestBody"])
    assert "ForwardResponse" in json.dumps(op["responses"]["200"])
    assert "/" not in schema["paths"]  # pages are not API


def test_docs_page_and_its_assets_are_served(client):
    page = client.get("/docs")
    assert page.status_code == 200 and 'id="swagger-ui"' in page.text
    from app.assets import asset_url
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "htmx.min.js", "plotly.min.js", "app.css"):
        r = client.get(asset_url(name))
        assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    assert client.get("/assets/package.json").status_code == 404
    assert client.get("/assets/..%2Fpyproject.toml").status_code == 404


TWO_BRANCHES = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3)
        self.b = nn.Conv2d(3, 4, 5)

    def forward(self, x):
        return self.a(x), self.b(x)
"""


def test_two_branches_from_one_input_are_followed_as_data_flow(client):
    """Two branches from one input run fine in PyTorch: each conv reads the input, none is guessed to follow the
    other (issue 14: never a wrong shape, never a failure that is not real)."""
    r = client.post("/api/trace", json={"framework": "torch", "code": TWO_BRANCHES, "input_shape": [1, 3, 8, 8]})
    body = r.json()
    assert r.status_code == 200 and body["ok"], body
    assert [(row["name"], row["output_shape"], row["inputs"]) for row in body["layers"]] == [
        ("a", [1, 8, 8 - 3 + 1, 8 - 3 + 1], [-1]), ("b", [1, 4, 8 - 5 + 1, 8 - 5 + 1], [-1])]
    chain = TWO_BRANCHES.replace("return self.a(x), self.b(x)", "return self.b(self.a(x))")
    r = client.post("/api/trace", json={"framework": "torch", "code": chain, "input_shape": [1, 3, 8, 8]})
    message = r.json()["error"]["message"]
    assert "in_channels" in message and "may not be real" not in message  # a chain: the mismatch is real
