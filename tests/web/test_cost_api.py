"""POST /api/cost: the contract of docs/API.md."""
import pytest


def post(client, **body):
    return client.post("/api/cost", json={"framework": "torch", **body})


def test_q3_separable_in_keras_words_with_an_unknown_batch(client):
    r = client.post("/api/cost", json={"framework": "keras", "input_shape": [None, 64, 64, 32],
                                       "layer": {"type": "SeparableConv2D", "filters": 32, "kernel_size": 3,
                                                 "padding": "same"}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["output_shape"] == [None, 64, 64, 32]
    assert body["params"] == 1344  # docs/QUESTIONS.md / questions.json
    assert body["macs"] == 64 * 64 * 32 * 9 + 64 * 64 * 32 * 32
    b = body["bytes"]
    assert b == {"input": 64 * 64 * 32 * 4, "weights": 1344 * 4, "output": 64 * 64 * 32 * 4,
                 "intermediate": 2 * 64 * 64 * 32 * 4, "total": b["input"] + b["weights"] + b["output"] + b["intermediate"]}
    assert body["arithmetic_intensity"] == pytest.approx(2 * body["macs"] / b["total"])


def test_q2_conv_and_dtype(client):
    r = post(client, layer={"type": "Conv1d", "in_channels": 16, "out_channels": 32, "kernel_size": 5, "stride": 2},
             input_shape=[4, 16, 100], dtype_bytes=2)
    body = r.json()
    assert body["output_shape"] == [4, 32, 48] and body["params"] == 2592
    assert body["bytes"]["input"] == 4 * 16 * 100 * 2 and body["bytes"]["weights"] == 2592 * 2


def test_real_model_sizes_are_fine_because_nothing_is_computed(client):
    r = post(client, layer={"type": "Conv2d", "in_channels": 128, "out_channels": 128, "kernel_size": 3, "padding": 1},
             input_shape=[10, 128, 512, 512])
    assert r.status_code == 200 and r.json()["macs"] == 9 * 128 * 128 * 512 * 512 * 10


@pytest.mark.parametrize("body, loc, words", [
    ({"input_shape": [1, 3, 0, 8], "layer": {"type": "Conv2d", "in_channels": 3, "out_channels": 1, "kernel_size": 1}},
     ["body", "input_shape", 2], ["input_shape[2]", "got 0"]),
    ({"input_shape": [1, None, 8, 8], "layer": {"type": "Conv2d", "in_channels": 3, "out_channels": 1, "kernel_size": 1}},
     ["body", "input_shape", 1], ["only the batch may be null"]),
    ({"input_shape": [1, 3, 8, 8], "layer": {"type": "Conv2d", "in_channels": 3, "out_channels": 1, "kernel_size": 9}},
     ["body", "layer", "kernel_size"], ["does not fit"]),
    ({"input_shape": [1, 3, 8, 8], "layer": {"type": "Conv2d", "in_channels": 3, "out_channels": 1, "kernel_size": 1},
      "dtype_bytes": 3}, ["body", "dtype_bytes"], []),
])
def test_refusals(client, body, loc, words):
    r = post(client, **body)
    assert r.status_code == 422, r.text
    d = r.json()["detail"][0]
    assert d["loc"] == loc
    for w in words:
        assert w in d["msg"]
