"""/cost over HTTP: the Q3 comparison with the user's sizes, one URL for page and fragment."""
import re

import pytest


def numbers(html: str, attr: str) -> dict[str, float]:
    """Per op row (data-op), the value of a data attribute inside it."""
    rows = re.findall(r'<tr class="[^"]*" data-op="(\w+)">(.*?)</tr>', html, re.S)
    return {op: float(re.search(rf'{attr}="([^"]+)"', row).group(1)) for op, row in rows}


def test_page_and_fragment_share_a_url(client):
    full = client.get("/cost")
    frag = client.get("/cost", headers={"HX-Request": "true"})
    assert full.status_code == frag.status_code == 200
    assert "<html" in full.text and frag.text.strip().startswith('<div id="live"')
    assert "HX-Request" in full.headers["vary"]
    assert frag.headers["hx-replace-url"].startswith("/cost?framework=torch&type=Conv2d&in_channels=32&out_channels=32")


@pytest.mark.parametrize("channels", [32, 64, 128])
def test_q3_rows_match_hand_counts(client, channels):
    html = client.get(f"/cost?in_channels={channels}&out_channels={channels}&kernel_size=3"
                      f"&input_shape=10,{channels},512,512").text
    macs = numbers(html, "data-macs")
    positions = 10 * 512 * 512
    assert macs["standard"] == 9 * channels * channels * positions
    assert macs["depthwise"] == 9 * channels * positions
    assert macs["pointwise"] == channels * channels * positions
    assert macs["separable"] == macs["depthwise"] + macs["pointwise"]
    params = numbers(html, "data-params")
    assert params["standard"] == 9 * channels * channels + channels
    assert params["separable"] == (9 * channels + channels) + (channels * channels + channels)  # two biases in torch
    total = numbers(html, "data-bytes")
    tensor = positions * channels * 4
    assert total["separable"] == 4 * tensor + params["separable"] * 4  # in, out, intermediate written + read
    ratio = float(re.search(r'data-mac-ratio="([^"]+)"', html).group(1))
    assert ratio == pytest.approx(1 / channels + 1 / 9, abs=1e-6)
    assert f"1/{channels} + 1/3² = {1 / channels + 1 / 9:.3f}" in html


def test_keras_words_and_layout(client):
    r = client.get("/cost?framework=keras&filters=64&kernel_size=3&input_shape=10,512,512,32")
    assert r.status_code == 200
    assert 'data-output-shape="[10, 512, 512, 64]"' in r.text
    params = numbers(r.text, "data-params")
    assert params["separable"] == 9 * 32 + 32 * 64 + 64  # Keras' SeparableConv2D: one bias
    assert params["standard"] == 9 * 32 * 64 + 64
    assert "filters=64" in r.headers["hx-replace-url"] and "input_shape=10,512,512,32" in r.headers["hx-replace-url"]


def test_measured_numbers_of_the_question_are_shown(client):
    html = client.get("/cost").text
    for t in ("0.78 s", "0.9 s", "0.97 s", "1.42 s", "1.57 s", "1.67 s"):
        assert t in html


def test_machine_changes_the_bound(client):
    slow = client.get("/cost?peak_gflops=300&bandwidth_gbs=40").text
    assert "7.5" in slow  # ridge = 300 / 40
    assert "memory" in slow and "compute" in slow


def test_impossible_layers_are_explained_in_place(client):
    r = client.get("/cost?stride=2&padding=same", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "padding=&#39;same&#39; is not supported for strided" in r.text
    r = client.get("/cost?kernel_size=9&input_shape=1,4,4,4&padding=valid", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "does not fit" in r.text


@pytest.mark.parametrize("query, field", [("batch=0", "batch"), ("kernel_size=16", "kernel_size"), ("peak_gflops=-1", "peak_gflops"),
                                          ("dtype_bytes=3", "dtype_bytes"), ("padding=full", "padding")])
def test_out_of_range_values_are_named(client, query, field):
    r = client.get("/cost?" + query)
    assert r.status_code == 422 and f"{field}:" in r.text


def test_query_values_are_escaped(client):
    r = client.get("/cost", params={"padding": "<script>alert(1)</script>", "framework": "<b>x</b>"})
    assert "<script>alert(1)" not in r.text and "<b>x</b>" not in r.text
