"""/im2col over HTTP: the patch matrix, the weight matrix and their product as the page draws them,
against the engine (conv_forward on the same sample and weights) and against the windows of the input
the page itself draws; the shapes against nn.Unfold's formula (C·kh·kw × L, L the product of the
output lengths ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1); Keras' order as a permutation of the same numbers;
groups as a block-diagonal product; refusals (3D, too-large matrices, a step past the last).

The engine itself is tested against PyTorch and Keras recordings (tests/core/test_golden.py)."""
import html
import json
import math
import re

import numpy as np
import pytest

from app.core.conv import conv_forward
from app.core.forward import canonical_weights, random_input, readable_weights
from app.core.frameworks import build_layer
from tests.web.page import HX, alerts, cells, get, num, section

TORCH = "/im2col?framework=torch&type=Conv2d&in_channels=2&out_channels=3&kernel_size=3&stride=2&padding=1" \
        "&dilation=1&input_shape=1,2,5,6&step=4&f=1"


def matrix(text: str, table_id: str) -> np.ndarray:
    """A drawn matrix's cells (the td's, row by row) as numbers."""
    body = section(text, table_id)
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", tr) for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.DOTALL)]
    return np.array([[num(t) for t in r] for r in rows if r])


def lit(text: str, table_id: str) -> list[tuple[int, int]]:
    body = section(text, table_id)
    rows = [re.findall(r"<td([^>]*)>", tr) for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.DOTALL)]
    return [(i, j) for i, r in enumerate(r for r in rows if r) for j, a in enumerate(r) if "lit" in a]


def attr(text: str, name: str):
    return json.loads(html.unescape(re.search(rf'data-{name}="([^"]*)"', text).group(1)))


def out_len(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def engine(framework, spec, input_shape, seed=0):
    """The engine's output for the page's sample and weights (seed 0, random tenths), channels-first,
    before the bias: what the product matrix must hold."""
    layer = build_layer(framework, spec, input_shape)
    torch_shape = input_shape if framework == "torch" else (input_shape[0], input_shape[-1], *input_shape[1:-1])
    x = random_input(torch_shape, seed)
    w = canonical_weights(layer, readable_weights(layer, seed))[0]
    return conv_forward(x[:1], w["weight"], None, layer.stages[0])[0], w.get("bias")


CASES = [  # (url, framework, spec, input_shape)
    (TORCH, "torch", {"type": "Conv2d", "in_channels": 2, "out_channels": 3, "kernel_size": 3, "stride": 2,
                      "padding": 1}, (1, 2, 5, 6)),
    ("/im2col?framework=torch&type=Conv1d&in_channels=3&out_channels=4&kernel_size=2&dilation=2&padding=same"
     "&input_shape=2,3,9", "torch", {"type": "Conv1d", "in_channels": 3, "out_channels": 4, "kernel_size": 2,
                                     "dilation": 2, "padding": "same"}, (2, 3, 9)),
    ("/im2col?framework=torch&type=Conv2d&in_channels=4&out_channels=6&kernel_size=2,3&groups=2&input_shape=1,4,4,5",
     "torch", {"type": "Conv2d", "in_channels": 4, "out_channels": 6, "kernel_size": (2, 3), "groups": 2},
     (1, 4, 4, 5)),
    ("/im2col?framework=keras&type=Conv2D&filters=3&kernel_size=2&strides=2&padding=same&input_shape=1,5,5,2",
     "keras", {"type": "Conv2D", "filters": 3, "kernel_size": 2, "strides": 2, "padding": "same"}, (1, 5, 5, 2)),
    ("/im2col?framework=keras&type=Conv1D&filters=4&kernel_size=3&groups=2&input_shape=1,7,4",
     "keras", {"type": "Conv1D", "filters": 4, "kernel_size": 3, "groups": 2}, (1, 7, 4)),
]


@pytest.mark.parametrize("url, framework, spec, input_shape", CASES)
def test_the_product_is_the_engines_output(client, url, framework, spec, input_shape):
    text = get(client, url).text
    y, _ = engine(framework, spec, input_shape)
    filters, positions = y.shape[0], math.prod(y.shape[1:])
    product = matrix(text, "product-matrix")
    expected = y.reshape(filters, positions)
    expected = expected if framework == "torch" else expected.T
    assert product.shape == expected.shape
    np.testing.assert_allclose(product, expected, atol=0.0051)  # drawn with two decimals
    patches, weights = matrix(text, "patch-matrix"), matrix(text, "weight-matrix")
    np.testing.assert_allclose(weights @ patches if framework == "torch" else patches @ weights, expected, atol=0.0051)


@pytest.mark.parametrize("url, framework, spec, input_shape", CASES)
def test_the_shapes_are_unfolds(client, url, framework, spec, input_shape):
    """PyTorch: weight (F, C·k…) × patches (C·k…, L); Keras: patches (L, k…·C) × kernel (k…·C, F)."""
    text = get(client, url).text
    channels = input_shape[1] if framework == "torch" else input_shape[-1]
    y, _ = engine(framework, spec, input_shape)
    filters, length = y.shape[0], math.prod(y.shape[1:])
    kernel = spec["kernel_size"]
    taps = math.prod(kernel) if isinstance(kernel, tuple) else kernel ** (len(input_shape) - 2)
    unfolded = channels * taps
    torch_shapes = {"patch-shape": [unfolded, length], "weight-shape": [filters, unfolded]}
    for name, shape in torch_shapes.items():
        assert attr(text, name) == (shape if framework == "torch" else shape[::-1]), name


def test_the_shapes_follow_the_output_length_formula(client):
    text = get(client, TORCH).text
    length = out_len(5, 3, 2, 1, 1) * out_len(6, 3, 2, 1, 1)  # 3 · 3
    assert attr(text, "patch-shape") == [2 * 3 * 3, length] and attr(text, "weight-shape") == [3, 18]
    assert attr(text, "output-shape") == [1, 3, 3, 3]


def test_each_patch_column_is_the_window_of_the_drawn_input(client):
    """Column l of the patch matrix, read from the page, is window l of the padded input the page draws
    (channel-major, then taps row-major: nn.Unfold's order)."""
    text = get(client, TORCH).text
    padded = [np.array([num(t) for _, t in sorted(cells(text, f"x{c}-").items())]).reshape(7, 8) for c in range(2)]
    patches = matrix(text, "patch-matrix")
    for col, (oy, ox) in enumerate(np.ndindex(3, 3)):
        window = [padded[c][oy * 2 + i, ox * 2 + j] for c in range(2) for i in range(3) for j in range(3)]
        assert list(patches[:, col]) == window, col


def test_keras_is_the_same_numbers_permuted(client):
    """The same layer in Keras' words: patches (L, kh·kw·C) are PyTorch's transposed with each row's
    (channel, tap) reordered to (tap, channel); the kernel matrix likewise; the product transposed."""
    keras = TORCH.replace("framework=torch&type=Conv2d&in_channels=2&out_channels=3", "framework=keras&type=Conv2D"
                          "&filters=3").replace("stride=2&padding=1&dilation=1", "strides=2&padding=same") \
        .replace("input_shape=1,2,5,6", "input_shape=1,5,6,2")
    kt, tt = get(client, keras).text, get(client, TORCH).text
    # 'same' at stride 2 on 5×6 pads (1, 1) and (0, 1) (TensorFlow: the odd one after): compare through the engine
    p_keras, w_keras = matrix(kt, "patch-matrix"), matrix(kt, "weight-matrix")
    assert p_keras.shape == (9, 18) and w_keras.shape == (18, 3)
    w_torch = matrix(tt, "weight-matrix")  # same seed, same canonical weights
    perm = [c * 9 + t for t in range(9) for c in range(2)]  # Keras row (tap, channel) <- PyTorch (channel, tap)
    np.testing.assert_array_equal(w_keras, w_torch[:, perm].T)
    y, _ = engine("keras", {"type": "Conv2D", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
                  (1, 5, 6, 2))
    np.testing.assert_allclose(matrix(kt, "product-matrix"), y.reshape(3, -1).T, atol=0.0051)


def test_groups_are_a_block_diagonal_weight_matrix(client):
    text = get(client, CASES[2][0]).text
    w = matrix(text, "weight-matrix")  # (6, 4·6): filters 0–2 read channels 0–1, filters 3–5 channels 2–3
    assert w.shape == (6, 24)
    assert not w[:3, 12:].any() and not w[3:, :12].any()
    assert len(re.findall(r'<td class="[^"]*\boff"', section(text, "weight-matrix"))) == 2 * 3 * 12  # greyed


def test_the_current_step_is_lit_in_every_matrix_and_the_input(client):
    text = get(client, TORCH).text  # step 4: output (1, 1); filter 1
    patch_lit, weight_lit, product_lit = (lit(text, t) for t in ("patch-matrix", "weight-matrix", "product-matrix"))
    assert {j for _, j in patch_lit} == {4} and len(patch_lit) == 18
    assert {i for i, _ in weight_lit} == {1} and len(weight_lit) == 18
    assert product_lit == [(1, 4)]
    lit_input = [i for c in range(2) for i in re.findall(rf'<td id="x{c}-(\d+)" class="[^"]*lit', text)]
    # the window at output (1, 1), stride 2: padded rows 2–4, columns 2–4 of an 8-wide grid, both channels
    assert sorted(map(int, lit_input)) == sorted([r * 8 + c for r in (2, 3, 4) for c in (2, 3, 4)] * 2)
    assert re.search(r'<td id="y-4" class="lit">', text)


def test_the_step_links_move_the_column(client):
    text = get(client, TORCH).text
    forward = re.search(r'id="step-forward"[^>]*href="([^"]+)"', text).group(1)
    back = re.search(r'id="step-back"[^>]*href="([^"]+)"', text).group(1)
    assert "step=5" in html.unescape(forward) and "step=3" in html.unescape(back)
    fragment = get(client, html.unescape(forward), headers=HX).text
    assert fragment.lstrip().startswith('<div id="live"') and {j for _, j in lit(fragment, "patch-matrix")} == {5}


def test_the_value_adds_the_bias_then_the_activation(client):
    url = TORCH + "&activation=relu"
    text = get(client, url).text
    y, b = engine("torch", CASES[0][2], (1, 2, 5, 6))
    pre = float(y[1].reshape(-1)[4] + b[1])
    line = re.sub(r"<[^>]+>", "", re.search(r'<p class="value">(.*?)</p>', text, re.DOTALL).group(1))
    numbers = [num(t) for t in re.findall(r"−?\d+(?:\.\d+)?", line.replace("(", " ").replace(")", " "))]
    assert numbers[-1] == pytest.approx(max(pre, 0), abs=0.0051)
    assert numbers[-2] == pytest.approx(pre, abs=0.0051) and "relu" in line


def test_memory_is_the_patch_matrix_against_the_input(client):
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", get(client, TORCH).text))
    assert "60 values, 240 bytes" in text  # 2·5·6 input values
    assert "162 values, 648 bytes" in text and "2.7×" in text  # 18 × 9 patch matrix


@pytest.mark.parametrize("query, field", [("type=Conv3d", "type"), ("dims=3", "dims"),
                                          ("framework=keras&input_shape=1,4,4,4,2", "input_shape")])
def test_3d_is_refused_naming_the_field(client, query, field):
    r = get(client, f"/im2col?{query}", status=422)
    found = alerts(r.text)
    assert any(f"{field}: /im2col unfolds 1D and 2D" in m for m in found), found
    assert attr(r.text, "output-shape")[2:] and len(attr(r.text, "output-shape")) in (3, 4)


def test_a_large_layer_is_refused_in_place_naming_the_limit(client):
    url = "/im2col?framework=torch&type=Conv2d&in_channels=16&out_channels=8&kernel_size=3&input_shape=1,16,20,20"
    r = get(client, url, status=422)
    found = " ".join(alerts(r.text))
    assert "6,000" in found and f"{16 * 9:,} × {18 * 18:,}" in found and "in_channels" in found
    assert get(client, url, headers=HX).status_code == 200
    keras = get(client, "/im2col?framework=keras&type=Conv1D&filters=128&kernel_size=7&input_shape=1,100,8",
                status=422).text
    assert "filters" in " ".join(alerts(keras))


def test_a_step_past_the_last_is_refused(client):
    r = get(client, TORCH.replace("step=4", "step=9"), status=422)
    assert any("step" in m and "9" in m and "0 to 8" in m for m in alerts(r.text))


def test_another_layer_type_is_refused_in_this_views_words(client):
    found = alerts(get(client, "/im2col?type=Dense", status=422).text)
    assert any("type: /im2col unfolds Conv1d/Conv2d" in m and "'Dense'" in m for m in found), found


def test_it_embeds(client):
    text = get(client, TORCH.replace("/im2col", "/embed/im2col")).text
    assert attr(text, "patch-shape") == [18, 9] and '<header class="site">' not in text
    assert re.search(r'id="step-forward"[^>]*href="/embed/im2col\?', text)


def test_keras_patches_are_pytorchs_rows_reordered(client):
    """At stride 1 Keras 'same' pads a 3×3 kernel by 1 on each side, as PyTorch padding=1: the same
    sample gives Keras patches = PyTorch patches with rows (channel, tap) -> (tap, channel), transposed."""
    torch_url = "/im2col?framework=torch&type=Conv2d&in_channels=2&out_channels=3&kernel_size=3&padding=1" \
                "&input_shape=1,2,4,5&seed=7"
    keras_url = "/im2col?framework=keras&type=Conv2D&filters=3&kernel_size=3&padding=same&input_shape=1,4,5,2&seed=7"
    p_torch, p_keras = matrix(get(client, torch_url).text, "patch-matrix"), matrix(get(client, keras_url).text,
                                                                                   "patch-matrix")
    perm = [c * 9 + t for t in range(9) for c in range(2)]
    assert p_torch.shape == (18, 20) and p_keras.shape == (20, 18)
    np.testing.assert_array_equal(p_keras, p_torch[perm].T)
