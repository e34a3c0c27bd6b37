"""/backprop over HTTP: every gradient the page draws equals POST /api/backward's answer for the same input,
weights and upstream gradient (the API is held to recorded autograd in tests/golden/backward.json.gz); the
upstream choices; a clicked output cell's highlighted inputs and weights against a reference loop; the
written-out sums add up to the drawn cells; the fold; pooling's routing; pasted numbers compared cell by cell;
bad input refused with a message naming the field. The mechanics (app/core/backward.py) against the engine's
conv_backward on random layers."""
import math
import re

import numpy as np
import pytest

from app.core.backward import (
    conv_backward,
    fold_padding,
    fold_terms,
    grad_input_terms,
    grad_weight_terms,
    upstream_grid,
)
from app.core.conv import pad_input
from app.core.forward import output_shape, random_input, readable_weights
from app.core.frameworks import build_layer
from app.core.ops import ConvOp
from app.display import fmt
from app.routes import backprop
from tests.web.page import HX, alerts, cells, get, num, plain, section, shape

CONV = "/backprop?framework=torch&type=Conv2d&in_channels=2&out_channels=2&kernel_size=3&stride=2&padding=1" \
       "&input_shape=1,2,5,5"
LAYERS = [  # (query, spec, input shape in the framework's layout)
    (CONV, {"type": "Conv2d", "in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1},
     (1, 2, 5, 5)),
    ("/backprop?framework=torch&type=Conv2d&in_channels=2&out_channels=2&kernel_size=2,3&stride=1,2&padding=1"
     "&dilation=2,1&groups=2&padding_mode=reflect&input_shape=1,2,6,7",
     {"type": "Conv2d", "in_channels": 2, "out_channels": 2, "kernel_size": [2, 3], "stride": [1, 2], "padding": 1,
      "dilation": [2, 1], "groups": 2, "padding_mode": "reflect"}, (1, 2, 6, 7)),
    ("/backprop?framework=torch&type=Conv1d&in_channels=3&out_channels=2&kernel_size=3&stride=3&padding=2"
     "&padding_mode=circular&bias=false&input_shape=1,3,11",
     {"type": "Conv1d", "in_channels": 3, "out_channels": 2, "kernel_size": 3, "stride": 3, "padding": 2,
      "padding_mode": "circular", "bias": False}, (1, 3, 11)),
    ("/backprop?framework=keras&type=Conv2D&filters=3&kernel_size=3&strides=2&padding=same&activation=tanh"
     "&input_shape=1,6,6,2",
     {"type": "Conv2D", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "tanh"},
     (1, 6, 6, 2)),
    ("/backprop?framework=keras&type=Conv1D&filters=2&kernel_size=2&padding=causal&dilation_rate=2&activation=relu"
     "&input_shape=1,9,2",
     {"type": "Conv1D", "filters": 2, "kernel_size": 2, "padding": "causal", "dilation_rate": 2,
      "activation": "relu"}, (1, 9, 2)),
    ("/backprop?framework=torch&type=MaxPool2d&kernel_size=3&stride=2&padding=1&input_shape=1,2,7,6",
     {"type": "MaxPool2d", "kernel_size": 3, "stride": 2, "padding": 1}, (1, 2, 7, 6)),
    ("/backprop?framework=torch&type=AvgPool1d&kernel_size=3&stride=2&padding=1&input_shape=1,2,9",
     {"type": "AvgPool1d", "kernel_size": 3, "stride": 2, "padding": 1}, (1, 2, 9)),
    ("/backprop?framework=keras&type=AveragePooling2D&pool_size=2&strides=2&padding=same&input_shape=1,5,5,2",
     {"type": "AveragePooling2D", "pool_size": 2, "strides": 2, "padding": "same"}, (1, 5, 5, 2)),
    ("/backprop?framework=keras&type=MaxPooling1D&pool_size=3&strides=1&input_shape=1,8,3",
     {"type": "MaxPooling1D", "pool_size": 3, "strides": 1}, (1, 8, 3)),
    ("/backprop?framework=torch&type=AvgPool2d&kernel_size=3&stride=2&padding=1&ceil_mode=true"
     "&count_include_pad=false&input_shape=1,2,6,6",
     {"type": "AvgPool2d", "kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
      "count_include_pad": False}, (1, 2, 6, 6)),
    ("/backprop?framework=torch&type=AvgPool2d&kernel_size=2&stride=2&ceil_mode=true&divisor_override=3"
     "&input_shape=1,1,5,5",
     {"type": "AvgPool2d", "kernel_size": 2, "stride": 2, "ceil_mode": True, "divisor_override": 3}, (1, 1, 5, 5)),
    ("/backprop?framework=torch&type=MaxPool1d&kernel_size=2&stride=2&ceil_mode=true&input_shape=1,2,7",
     {"type": "MaxPool1d", "kernel_size": 2, "stride": 2, "ceil_mode": True}, (1, 2, 7)),
    ("/backprop?framework=keras&type=AveragePooling1D&pool_size=3&strides=2&padding=same&input_shape=1,8,2",
     {"type": "AveragePooling1D", "pool_size": 3, "strides": 2, "padding": "same"}, (1, 8, 2)),
]


def drawn(text: str, prefix: str, count: int) -> list[float]:
    found = cells(text, prefix)
    assert sorted(found) == list(range(count)), (prefix, sorted(found))
    return [num(found[i]) for i in range(count)]


def api(client, framework, spec, in_shape, upstream, seed=0, weights="random") -> dict:
    """/api/backward on the page's numbers: the input drawn in PyTorch's layout from the seed, the readable
    weights, the upstream gradient the page says it used."""
    layer = build_layer(framework, spec, in_shape)
    torch_shape = (1, in_shape[-1], *in_shape[1:-1]) if framework == "keras" else in_shape
    x = random_input(torch_shape, seed)
    if framework == "keras":
        x = np.moveaxis(x, 1, -1)
    body = {"framework": framework, "layer": spec, "input": x.tolist(),
            "weights": [w.tolist() for w in readable_weights(layer, seed, weights)] if layer.params else [],
            "grad_output": upstream if isinstance(upstream, str) else upstream.tolist(), "seed": seed}
    r = client.post("/api/backward", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def cf(a, framework):
    a = np.asarray(a, dtype=np.float32)
    return np.moveaxis(a, -1, 1) if framework == "keras" else a


@pytest.mark.parametrize("url, spec, in_shape", LAYERS, ids=[s["type"] + str(i) for i, (_, s, _) in enumerate(LAYERS)])
@pytest.mark.parametrize("upstream", ["ones", "random"])
def test_every_drawn_gradient_is_the_apis(client, url, spec, in_shape, upstream):
    framework = "keras" if "keras" in url else "torch"
    text = get(client, f"{url}&upstream={upstream}&seed=3").text
    assert alerts(text) == []
    answer = api(client, framework, spec, in_shape, upstream, seed=3)
    assert shape(text) == answer["output_shape"]
    g, gx = cf(answer["grad_output"], framework)[0], cf(answer["grad_input"], framework)[0]
    for o in range(g.shape[0]):
        assert drawn(text, f"g{o}-", g[o].size) == [num(fmt(v)) for v in g[o].ravel()]
    y = cf(answer["output"], framework)[0]
    for o in range(y.shape[0]):
        got = re.findall(rf'<td id="y{o}-(\d+)"[^>]*><a[^>]*>([^<]*)</a>', text)
        assert [num(t) for _, t in got] == [num(fmt(v)) for v in y[o].ravel()]
    for c in range(gx.shape[0]):
        assert drawn(text, f"gx{c}-", gx[c].size) == [num(fmt(v)) for v in gx[c].ravel()], c
    if answer["grad_weights"]:
        layer = build_layer(framework, spec, in_shape)
        from app.core.forward import canonical_weights
        canonical = canonical_weights(layer, [np.asarray(w, np.float32) for w in answer["grad_weights"]])[0]
        gw = canonical["weight"]
        for f in range(gw.shape[0]):
            for c in range(gw.shape[1]):
                assert drawn(text, f"gw{f}-{c}-", gw[f, c].size) == [num(fmt(v)) for v in gw[f, c].ravel()]
        for f, v in enumerate(canonical.get("bias", [])):
            assert num(plain(section(text, f"gb{f}"))) == num(fmt(v))


def test_the_upstream_choices(client):
    ones = get(client, CONV).text
    assert set(cells(ones, "g0-").values()) == {"1"}
    random = get(client, CONV + "&upstream=random&seed=5").text
    expected = random_input((1, 2, 3, 3), 5)[0]
    assert drawn(random, "g1-", 9) == [num(fmt(v)) for v in expected[1].ravel()]
    cell = get(client, CONV + "&upstream=cell&cell=13").text
    values = [drawn(cell, f"g{o}-", 9) for o in (0, 1)]
    assert values[1][4] == 1 and sum(map(sum, values)) == 1  # output channel 1, position (1, 1)


def reference_window(spec_padding, size, kernel, stride, dilation, out_pos):
    """The input cells a conv output reads, by a plain loop (zeros padding: the padded ones read nothing)."""
    cells = set()
    for tap in np.ndindex(*kernel):
        at = [o * s - p + j * d for o, s, p, j, d in zip(out_pos, stride, spec_padding, tap, dilation)]
        if all(0 <= a < n for a, n in zip(at, size)):
            cells.add(tuple(at))
    return cells


def lit_cells(text: str, prefix: str, cls: str = "dep") -> set[int]:
    return {int(i) for i, a in re.findall(rf'<td id="{re.escape(prefix)}(\d+)"([^>]*)>', text) if cls in a}


@pytest.mark.parametrize("cell", [0, 4, 8, 13, 17])
def test_a_clicked_cell_lights_exactly_what_it_depended_on(client, cell):
    text = get(client, CONV + f"&upstream=cell&cell={cell}").text
    f, flat = divmod(cell, 9)
    out_pos = divmod(flat, 3)
    expected = reference_window((1, 1), (5, 5), (3, 3), (2, 2), (1, 1), out_pos)
    padded = {(r + 1) * 7 + (c + 1) for r, c in expected}  # the drawn grid is the padded 7×7
    for c in (0, 1):
        lit = lit_cells(text, f"x{c}-")
        assert {i for i in lit if 0 < i // 7 < 6 and 0 < i % 7 < 6} == padded, (cell, c)
    # every weight of filter f (both channels) and no other filter's
    for g in (0, 1):
        for c in (0, 1):
            assert lit_cells(text, f"w{g}-{c}-") == (set(range(9)) if g == f else set())
    assert f"<strong id=\"dep-count\">{2 * len(expected)}</strong>" in text
    # the backward pass from that cell alone: grad_input is nonzero only there (random weights: none is 0 here)
    nonzero = {i for c in (0, 1) for i, t in cells(text, f"gx{c}-").items() if num(t) != 0}
    assert nonzero <= {r * 5 + c for r, c in expected}


def test_a_clicked_max_pool_cell_depends_on_its_winner_alone(client):
    url = "/backprop?framework=torch&type=MaxPool2d&kernel_size=2&stride=2&input_shape=1,1,4,4"
    text = get(client, url + "&upstream=cell&cell=3").text
    x = random_input((1, 1, 4, 4), 0)[0, 0]
    window = x[2:4, 2:4]
    r, c = divmod(int(window.argmax()), 2)  # the first maximum, row-major, as both frameworks take it
    assert lit_cells(text, "x0-") == {(2 + r) * 4 + 2 + c}
    assert num(cells(text, "gx0-")[(2 + r) * 4 + 2 + c]) == 1


def sum_of(line: str) -> float:
    """The value of a written-out sum 'a×b + c×d + ...' (the page's minus signs and parentheses)."""
    total = 0.0
    for part in plain(line).split(" + "):
        a, _, b = part.partition("×")
        total += num(a) * (num(b) if b else 1)
    return total


@pytest.mark.parametrize("url", [LAYERS[0][0], LAYERS[1][0], LAYERS[2][0]])
@pytest.mark.parametrize("step", [0, 7, 19])
def test_the_written_sums_add_up_to_the_drawn_cells(client, url, step):
    text = get(client, f"{url}&upstream=random&step={step}&wstep={step % 6}").text
    arith = re.search(r"<h3>Cell \[[^\]]*\] written out</h3>(.*?)</div>", text, re.DOTALL).group(1)
    lines = re.findall(r"<li>from output channel \d+: (.*?) = <strong>([^<]*)</strong></li>", arith)
    assert lines
    for expr, value in lines:
        assert sum_of(expr) == pytest.approx(num(value), abs=0.006)
    total = num(plain(section(text, "gi-value")))
    assert sum(num(v) for _, v in lines) == pytest.approx(total, abs=0.02)
    weight = re.search(r"written out</h3>\s*<p>(.*?) = <strong id=\"gw-value\">([^<]*)</strong>", text, re.DOTALL)
    assert sum_of(weight.group(1)) == pytest.approx(num(weight.group(2)), abs=0.006)


def test_the_fold_brings_the_paddings_gradient_back_to_the_border(client):
    text = get(client, LAYERS[1][0] + "&upstream=random").text
    assert "The fold: reflect padding" in text
    blocks = re.findall(r'<div class="arith"><h4>channel (\d+)</h4><ol>(.*?)</ol>', text, re.DOTALL)
    assert [c for c, _ in blocks] == ["0", "1"]
    for channel, block in blocks:
        gx = cells(text, f"gx{channel}-")
        lines = re.findall(r"<li>input \[(\d+), (\d+)\]: (.*?) = <strong>([^<]*)</strong></li>", block)
        assert lines
        for r, c, parts, total in lines:
            values = [num(p.split(" (")[0]) for p in plain(parts).split(" + ")]
            assert sum(values) == pytest.approx(num(total), abs=0.02)
            assert total == gx[int(r) * 7 + int(c)]


def test_average_pooling_spreads_by_the_divisor(client):
    """AvgPool1d(3, stride 2, padding 1) on length 9: window 0 reads −1..1, window 1 reads 1..3 (count_include_pad:
    each divides by 3). Cell 2 gets window 1's share alone, cell 1 both windows'."""
    for step, windows, value in ((2, ["1"], 1 / 3), (1, ["0", "1"], 2 / 3)):
        text = get(client, LAYERS[6][0] + f"&step={step}").text
        line = re.search(r"<p>([^<]*)<strong id=\"gi-value\">([^<]*)</strong>", text)
        assert re.findall(r"1/3 \(output \[(\d)\]\)", plain(line.group(1))) == windows
        assert num(line.group(2)) == num(fmt(value))


def test_pasting_your_answer_shows_where_it_differs(client):
    text = get(client, CONV).text
    right = [num(t) for c in (0, 1) for t in drawn(text, f"gx{c}-", 25) for t in [fmt(t)]]
    mine = list(right)
    mine[7] += 1
    checked = get(client, CONV + "&paste_as=grad_input&paste=" + "+".join(map(str, mine)), status=200).text
    assert "<strong>1</strong> of 50 numbers differ" in checked
    assert len(re.findall(r'<tr class="wrong">', checked)) == 1
    weights = get(client, CONV + "&paste_as=grad_weight&paste=" + ",".join(["0"] * 36), status=200).text
    assert "numbers differ from grad_weight" in weights or "All 36 numbers match" in weights
    upstream = get(client, CONV + "&paste_as=grad_output&paste=" + "+".join(["2"] * 18)).text
    assert set(cells(upstream, "g0-").values()) == {"2"} and "your pasted numbers" in upstream


@pytest.mark.parametrize("query, field", [
    ("&upstream=cell&cell=18", "cell"),
    ("&paste=1,2,3", "paste"),
    ("&paste=1,__import__('os').system('x')", "paste"),
    ("&paste_as=grad_output&paste=" + "+".join(["1e999x"] * 18), "paste"),
    ("&step=50", "step"),
    ("&wstep=36", "wstep"),
    ("&in_channels=513", "channels"),
    ("&out_channels=129", "out_channels"),
    ("&type=Conv3d", "type"),
    ("&size=1025&size=5", "size"),
    ("&paste=" + "1+" * 2100, "paste"),
])
def test_bad_input_is_refused_naming_the_field(client, query, field):
    r = get(client, CONV + query, status=422)
    found = alerts(r.text)
    assert any(m.startswith(field) or f"{field}:" in m for m in found), found
    assert "Traceback" not in r.text


@pytest.mark.parametrize("query, words", [
    ("type=Conv2d&in_channels=2&out_channels=2&kernel_size=3&input_shape=1,2,400,400",
     ("input has 320,000 values", "250,000")),
    ("type=Conv2d&in_channels=128&out_channels=128&kernel_size=3&input_shape=1,128,20,20",
     ("backward pass", "multiply-adds", "50,000,000")),  # its forward (47.8M) is allowed
    ("type=MaxPool1d&kernel_size=1&stride=1&input_shape=1,512,500", ("input has 256,000 values", "250,000")),
])
def test_a_layer_over_the_engines_limits_is_refused_naming_the_limit(client, query, words):
    found = alerts(get(client, "/backprop?framework=torch&" + query, status=422).text)
    assert any(all(w in m for w in words) for m in found), found


def test_pool_padding_words_are_refused_for_pytorch(client):
    r = get(client, "/backprop?framework=torch&type=MaxPool2d&kernel_size=2&padding=same&input_shape=1,1,4,4",
            status=422)
    assert any("padding" in m and "same" in m for m in alerts(r.text))


def test_the_parser_never_evaluates():
    assert backprop.parse_numbers("[1, 2]", 2)[0].tolist() == [1.0, 2.0]
    for text in ("1+1 2", "0x10 1", "nan 1", "inf 1", "1_000 1", "True 1"):
        numbers, error = backprop.parse_numbers(text, 2)
        assert numbers is None and error.startswith("paste:"), text


def test_the_shapes_of_every_gradient(client):
    text = get(client, "/backprop?framework=keras&type=Conv2D&filters=3&kernel_size=2,3&input_shape=1,5,6,2").text
    shapes = plain(section(text, "shapes"))
    assert "grad_input [1, 5, 6, 2]" in shapes and "gradient of kernel [2, 3, 2, 3]" in shapes
    assert "gradient of bias [3]" in shapes and "grad_output (upstream) [1, 4, 4, 3]" in shapes


def test_a_fragment_for_htmx(client):
    r = client.get(CONV + "&step=3", headers=HX)
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="live"')
    assert "step=3" in r.headers["HX-Replace-Url"]


@pytest.mark.parametrize("seed", range(60))
def test_the_mechanics_equal_the_engines_backward(seed):
    """upstream_grid + grad_input_terms (then fold_terms) and grad_weight_terms, on random layers, against
    conv_backward (the engine /api/backward runs)."""
    rng = np.random.default_rng(seed)
    out = [0]
    while min(out) < 1:  # draw until the window fits the padded input
        nd = int(rng.integers(1, 3))
        k, s, d = ([int(v) for v in rng.integers(1, hi, nd)] for hi in (4, 4, 3))
        n = [int(v) for v in rng.integers(4, 9, nd)]
        mode = ["zeros", "reflect", "replicate", "circular"][int(rng.integers(4))]
        pad = tuple((int(p), int(p)) for p in rng.integers(0, 3, nd))
        groups = int(rng.integers(1, 3))
        padded = [m + 2 * p for m, (p, _) in zip(n, pad)]
        out = [(p - (dd * (kk - 1) + 1)) // ss + 1 for p, kk, ss, dd in zip(padded, k, s, d)]
    op = ConvOp(2 * groups, 2 * groups, tuple(k), tuple(s), tuple(d), pad, padding_mode=mode, groups=groups)
    x = rng.integers(-3, 4, (1, op.in_channels, *n)).astype(np.float32)
    w = rng.integers(-3, 4, (op.out_channels, 2, *k)).astype(np.float32)
    g = rng.integers(-3, 4, (1, op.out_channels, *out)).astype(np.float32)
    gx, gw = conv_backward(x, w, g, op)
    grid, _ = upstream_grid(g[0], op, n)
    shape_ = [m - dd * (kk - 1) for m, kk, dd in zip(grid.shape[1:], k, d)]
    assert shape_ == (padded if mode != "zeros" else n)
    gp = np.zeros((op.in_channels, *shape_), np.float32)
    for c in range(op.in_channels):
        for pos in np.ndindex(*shape_):
            gp[(c, *pos)] = sum(a * b for _, t in grad_input_terms(grid, w, op, c, pos) for a, b in t)
    if mode == "zeros":
        np.testing.assert_allclose(gp, gx[0], atol=1e-4)
    else:
        np.testing.assert_allclose(fold_padding(gp[None], pad, mode)[0], gx[0], atol=1e-4)
        for c in range(op.in_channels):
            for target, terms in fold_terms(gp[c], pad, mode):
                assert sum(v for _, v in terms) == pytest.approx(float(gx[(0, c, *target)]), abs=1e-4)
    xp = pad_input(x, pad, mode)[0]
    for f in range(op.out_channels):
        for local in range(2):
            c = f // 2 * 2 + local if groups == 2 else local
            for tap in np.ndindex(*k):
                value = sum(a * b for a, b in grad_weight_terms(xp, g[0], op, f, c, tap))
                assert value == pytest.approx(float(gw["weight"][(f, local, *tap)]), abs=1e-4)
    assert math.isfinite(float(gw["bias"].sum()))


def test_the_layer_links_switch_in_the_frameworks_words(client):
    text = get(client, CONV).text
    assert "type=MaxPool2d" in text and "type=AvgPool2d" in text
    keras = get(client, "/backprop?framework=keras&type=MaxPooling2D&pool_size=2&strides=2&input_shape=1,4,4,1").text
    assert alerts(keras) == [] and shape(keras) == [1, 2, 2, 1]
    layer = build_layer("keras", {"type": "MaxPooling2D", "pool_size": 2, "strides": 2}, (1, 4, 4, 1))
    assert list(output_shape(layer)) == [1, 2, 2, 1]


@pytest.mark.parametrize("url", [CONV, CONV.replace("stride=2", "stride=1").replace("input_shape=1,2,5,5", "input_shape=1,2,4,4"),
                                 "/backprop?framework=torch&type=Conv1d&in_channels=2&out_channels=3&kernel_size=2"
                                 "&stride=3&input_shape=1,2,9"])
def test_the_transposed_link_opens_the_same_layer_on_transposed(client, url):
    """The input's gradient is a transposed conv of the upstream gradient with the same weights: /transposed
    opens that layer (its numbers are its own: it takes the layer, not these gradients) and its output has the
    input's shape."""
    text = get(client, url).text
    link = re.search(r'href="(/transposed\?[^"]*)"', text).group(1).replace("&amp;", "&")
    page = get(client, link).text
    assert alerts(page) == []
    layer_input = re.search(r"input_shape=([\d,]+)", url).group(1).split(",")
    assert shape(page)[2:] == [int(n) for n in layer_input[2:]]


def test_the_lesson_numbers_are_the_engines_and_its_view_shows_them(client):
    """"Backprop through a convolution is two convolutions": its numbers equal /api/backward's on the same input,
    weights and upstream gradient (the ones its embedded view draws), and its shapes the engine's."""
    from app.routes.learn import LESSONS
    lesson = LESSONS["backprop-conv"]
    facts = lesson.facts
    r = client.post("/api/backward", json={
        "framework": "torch", "layer": {"type": "Conv1d", "in_channels": 1, "out_channels": 1, "kernel_size": 2},
        "input": [[facts["x"]]], "weights": [[[facts["w"]]], [float(np.float32(-0.9))]],
        "grad_output": [[facts["g"]]]})
    answer = r.json()
    f32 = lambda a: np.asarray(a, np.float32).ravel()  # noqa: E731
    np.testing.assert_array_equal(f32(answer["grad_input"]), f32(facts["grad_input"]))
    np.testing.assert_array_equal(f32(answer["grad_weights"][0]), f32(facts["grad_weight"]))
    np.testing.assert_array_equal(f32(answer["grad_weights"][1]), f32(facts["grad_bias"]))
    assert facts["x"] == [1, 2, -3, 2] and facts["g"] == [1, -2, 3]  # the pasted upstream gradient
    text = get(client, "/learn/backprop-conv").text
    for phrase in ("[0.3, 0, −0.3, 1.8]", "= −12", "= 14", "(1, 8, 4, 4)", "(8, 3, 3, 3)", "(8,)"):
        assert phrase in text, phrase
    view = re.search(r'<iframe class="lesson-view" name="lesson-view" src="([^"]+)"', text).group(1)
    shown = get(client, view.replace("&amp;", "&")).text
    assert drawn(shown, "gx0-", 4) == [num(fmt(v)) for v in facts["grad_input"]]
    assert drawn(shown, "gw0-0-", 2) == facts["grad_weight"]
    tries = re.findall(r'<a href="([^"]+)" target="lesson-view">', text)
    assert len(tries) == 3
    for url in tries:
        assert alerts(get(client, url.replace("&amp;", "&")).text) == []
    big = build_layer("torch", {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "stride": 2},
                      (1, 3, 9, 9))
    assert facts["shapes"]["grad_output"] == list(output_shape(big)) == [1, 8, 4, 4]


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "gelu"])
def test_a_pytorch_activation_module_comes_first_in_the_backward_pass(client, activation):
    """PyTorch's activation is a module after the conv: the page's ∂L/∂(pre) is the upstream gradient times the
    activation's derivative at the drawn pre-activation values, and the conv's gradients are /api/backward's for
    that gradient (autograd through nn.Sequential(conv, act) gives the same)."""
    from app.core.backward import DERIVATIVES
    spec = {"type": "Conv2d", "in_channels": 2, "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": 1}
    text = get(client, CONV + f"&activation={activation}&upstream=random&seed=2").text
    assert alerts(text) == []
    g = random_input((1, 2, 3, 3), 2)[0]
    layer = build_layer("torch", spec, (1, 2, 5, 5))
    x = random_input((1, 2, 5, 5), 2)
    weights = readable_weights(layer, 2, "random")
    pre = backprop.run_stage(layer.stages[0], x, {"weight": weights[0], "bias": weights[1]})[0]
    g_pre = (g * DERIVATIVES[activation](pre.astype(np.float64))).astype(np.float32)
    for o in (0, 1):
        assert drawn(text, f"p{o}-", 9) == [num(fmt(v)) for v in pre[o].ravel()]
        assert drawn(text, f"gp{o}-", 9) == [num(fmt(v)) for v in g_pre[o].ravel()]
    answer = api(client, "torch", spec, (1, 2, 5, 5), g_pre[None], seed=2)
    gx = np.asarray(answer["grad_input"], np.float32)[0]
    for c in (0, 1):
        assert drawn(text, f"gx{c}-", 25) == [num(fmt(v)) for v in gx[c].ravel()]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("cell", [0, 2, 4])
def test_a_clicked_cell_depends_on_the_cells_its_padding_copied(client, mode, cell):
    """Conv1d(1, 1, 3, padding=2) in a copying mode on length 6: the window of output ``cell`` reads padded cells
    cell..cell+2; each padded cell is a copy of an input cell (numpy's pad of the indices, the reference), so
    those input cells are what the output depended on — and, with weights of ones, exactly where the
    backward pass from that cell alone lands."""
    url = (f"/backprop?framework=torch&type=Conv1d&in_channels=1&out_channels=1&kernel_size=3&padding=2"
           f"&padding_mode={mode}&weights=ones&input_shape=1,1,6&upstream=cell&cell={cell}")
    text = get(client, url).text
    numpy_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    source = np.pad(np.arange(6), 2, mode=numpy_mode)
    expected = {int(source[cell + j]) for j in range(3)}
    lit = lit_cells(text, "x0-")
    assert {i - 2 for i in lit if 2 <= i < 8} == expected, (lit, expected)
    assert {i for i in lit if not 2 <= i < 8} == {cell + j for j in range(3)} - set(range(2, 8))  # the window's pads
    assert f'<strong id="dep-count">{len(expected)}</strong>' in text
    landed = {i for i, t in cells(text, "gx0-").items() if num(t) != 0}
    assert landed == expected


# ------------------------------------------------------------------ real sizes: pictures + lens

REAL = [  # (query, spec, input shape in the framework's layout, the step's input-gradient cell (c, *pos))
    ("framework=torch&type=Conv2d&in_channels=3&out_channels=8&kernel_size=3&padding=1&input_shape=1,3,32,32",
     {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "padding": 1}, (1, 3, 32, 32),
     (2, 17, 9)),
    ("framework=torch&type=Conv2d&in_channels=16&out_channels=16&kernel_size=3&stride=2&padding=1"
     "&input_shape=1,16,56,56",
     {"type": "Conv2d", "in_channels": 16, "out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1},
     (1, 16, 56, 56), (5, 30, 41)),
    ("framework=keras&type=Conv1D&filters=8&kernel_size=3&padding=same&input_shape=1,50,300",
     {"type": "Conv1D", "filters": 8, "kernel_size": 3, "padding": "same"}, (1, 50, 300), (299, 20)),
    ("framework=torch&type=Conv2d&in_channels=3&out_channels=8&kernel_size=5&dilation=2&groups=1&padding=3"
     "&input_shape=1,3,32,32",
     {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 5, "dilation": 2, "padding": 3},
     (1, 3, 32, 32), (0, 0, 31)),
]


def real_page(client, query, step, **extra):
    url = "/backprop?" + query + f"&upstream=random&seed=2&step={step}" + "".join(f"&{k}={v}" for k, v in extra.items())
    return get(client, url).text


@pytest.mark.parametrize("query, spec, in_shape, at", REAL, ids=[s["type"] + str(i) for i, (_, s, _, _) in
                                                                  enumerate(REAL)])
def test_real_size_lens_is_the_apis_grad_input(client, query, spec, in_shape, at):
    framework = "keras" if "keras" in query else "torch"
    layer = build_layer(framework, spec, in_shape)
    from app.core.forward import canonical_weights
    cf_in = cf(np.zeros(in_shape), framework).shape[1:]
    step = int(np.ravel_multi_index(at, cf_in))
    text = real_page(client, query, step)
    assert alerts(text) == []
    assert "picture-stage" in text and all(f'data-part="{p}"' in text for p in ("input", "kernel", "output"))
    assert '<td id="gx0-' not in text  # no grid of numbers for the gradients at this size
    answer = api(client, framework, spec, in_shape, "random", seed=2)
    gx = cf(answer["grad_input"], framework)[0]
    g = cf(answer["grad_output"], framework)[0]
    assert num(plain(section(text, "gi-value"))) == num(fmt(gx[at]))
    w = canonical_weights(layer, [np.asarray(v, np.float32) for v in readable_weights(layer, 2, "random")])[0]["weight"]
    op = layer.stages[0]
    up, _ = upstream_grid(g, op, cf_in[1:])
    expected = grad_input_terms(up, w, op, at[0], at[1:])
    lines = re.findall(r"<li>(from output channel \d+: [^<]*)<strong>([^<]*)</strong></li>", section(text, "lens"))
    assert [(head, value) for head, value in lines] == [
        (f"from output channel {o}: " + " + ".join(backprop.term(a, b) for a, b in t) + " = ",
         fmt(sum(a * b for a, b in t))) for o, t in expected]
    # the products written are the ones that make the API's grad_input there (zeros padding: nothing folds)
    assert math.isclose(sum(a * b for _, t in expected for a, b in t), float(gx[at]), rel_tol=1e-4, abs_tol=1e-4)
    assert len(lines) == w.shape[0]


def test_real_size_pooling_lens_routes_to_the_winner(client):
    query = "framework=torch&type=MaxPool2d&kernel_size=2&stride=2&input_shape=1,16,56,56"
    spec, in_shape = {"type": "MaxPool2d", "kernel_size": 2, "stride": 2}, (1, 16, 56, 56)
    answer = api(client, "torch", spec, in_shape, "random", seed=2)
    gx, g = np.asarray(answer["grad_input"])[0], np.asarray(answer["grad_output"])[0]
    x = random_input(in_shape, 2)[0]
    for c, i, j in ((3, 20, 31), (15, 55, 0)):
        text = real_page(client, query, int(np.ravel_multi_index((c, i, j), (16, 56, 56))))
        assert "picture-stage" in text and alerts(text) == []
        assert num(plain(section(text, "gi-value"))) == num(fmt(gx[c, i, j]))
        window = x[c, i // 2 * 2:i // 2 * 2 + 2, j // 2 * 2:j // 2 * 2 + 2]
        won = np.argmax(window) == (i % 2) * 2 + j % 2  # PyTorch: the first maximum
        lens = plain(section(text, "lens-lines"))
        assert (f"output [{i // 2}, {j // 2}]: this cell won its window" in lens) == bool(won), lens
        assert (gx[c, i, j] == g[c, i // 2, j // 2]) == bool(won)


def test_real_size_picture_urls_are_cacheable_pngs_and_refuse_bad_parts(client):
    query = REAL[1][0]  # 16 channels: each filter's 144 weights (and their gradients) drawn as pictures
    text = real_page(client, query, 0, upstream="cell", cell=16 * 28 * 28 - 1)
    srcs = sorted({s.replace("&amp;", "&") for s in re.findall(r'src="(/backprop/picture\?[^"]*)"', text)})
    parts = {re.search(r"part=(\w+)", s)[1] for s in srcs}
    assert parts >= {"input", "kernel", "output", "upstream", "grad_input", "grad_weight"}, parts
    for src in srcs:
        r = client.get(src)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png", src
        assert "max-age" in r.headers["cache-control"] and r.headers.get("etag")
        width, height = int.from_bytes(r.content[16:20], "big"), int.from_bytes(r.content[20:24], "big")
        part = re.search(r"part=(\w+)", src)[1]
        assert (height, width) == {"input": (58, 58), "output": (28, 28), "upstream": (28, 28),
                                   "grad_input": (56, 56), "kernel": (16, 9), "grad_weight": (16, 9)}[part], src
    base = "/backprop/picture?" + query
    for bad, field in (("&part=bias&c=0", "part"), ("&part=input&c=16", "c:"), ("&part=output&c=x", "c:"),
                       ("&part=input&c=0&in_channels=256&input_shape=1,256,56,56", "limit")):
        r = client.get(base + bad)
        assert r.status_code == 422 and field in r.text and "Traceback" not in r.text, (bad, r.text)
    r = client.get("/backprop/picture?framework=torch&type=MaxPool2d&kernel_size=2&input_shape=1,2,40,40"
                   "&part=kernel&c=0")
    assert r.status_code == 422 and "part" in r.text


def test_real_size_clicked_cell_draws_its_window_and_its_filter(client):
    query = REAL[1][0]
    n_out = 28 * 28
    text = real_page(client, query, 0, upstream="cell", cell=9 * n_out + 5 * 28 + 7)
    assert alerts(text) == []
    boxes = re.findall(r'class="window-box" style="top: ([\d.]+)%; left: ([\d.]+)%', section(text, "window-boxes"))
    # output [5, 7] at stride 2 reads padded rows 10-12, columns 14-16 of the 58×58 padded input
    assert [(float(t), float(lf)) for t, lf in boxes] == [(round(100 * 10 / 58, 3), round(100 * 14 / 58, 3))]
    assert re.search(r'<img id="output-pic" src="[^"]*part=output&amp;c=9"', text)  # filter 9's output, large
    assert 'data-cell-first="7056"' in text  # filter 9's first cell: the browser adds the pointed cell's index


@pytest.mark.parametrize("query", [q for q, *_ in REAL] + ["framework=torch&type=AvgPool2d&kernel_size=3&stride=1"
                                                          "&padding=1&input_shape=1,64,56,56"])
def test_real_size_fragment_is_lean(client, query):
    import gzip
    r = get(client, "/backprop?" + query + "&upstream=cell&cell=3", headers=HX)
    assert "picture-stage" in r.text
    assert len(gzip.compress(r.content)) <= 120_000, len(gzip.compress(r.content))


def test_the_default_page_stays_numbers(client):
    text = get(client, "/backprop").text
    assert "picture-stage" not in text and '<td id="gx0-0"' in text


def test_real_size_lens_jumps_to_a_cell_the_clicked_output_reached(client):
    query = REAL[1][0]  # stride 2, padding 1: output [5, 7] of filter 9 reads rows 9-11, columns 13-15 of all 16
    text = real_page(client, query, 0, upstream="cell", cell=9 * 28 * 28 + 5 * 28 + 7)
    link = re.search(r'id="step-reached" href="([^"]*)"', text)[1].replace("&amp;", "&")
    step = int(re.search(r"[?&]step=(\d+)", link)[1])
    c, i, j = np.unravel_index(step, (16, 56, 56))
    assert 9 <= i <= 11 and 13 <= j <= 15
    assert "144 input cells" in plain(section(text, "lens"))
    reached = get(client, link).text
    assert "step-reached" not in reached and num(plain(section(reached, "gi-value"))) != 0


def test_pooling_options_are_knobs_in_the_url_and_divide_as_the_framework(client):
    base = "/backprop?framework=torch&type=AvgPool2d&kernel_size=2&stride=2&input_shape=1,1,5,5"
    text = get(client, base + "&ceil_mode=true&divisor_override=3&step=24").text
    for name in ("ceil_mode", "count_include_pad", "divisor_override"):
        assert f'name="{name}"' in text
    assert "ceil_mode=true" in text and "divisor_override=3" in text  # URL = state
    # input [4, 4] is read only by the ceil_mode window [2, 2]: its 1 divided by the override, 3
    assert plain(section(text, "gi-value")) == fmt(1 / 3)
    assert "1/3 (output [2, 2])" in plain(text)
    floor = get(client, base + "&step=24").text
    assert "no window reads this cell" in plain(floor) and plain(section(floor, "gi-value")) == "0"
    keras = get(client, "/backprop?framework=keras&type=AveragePooling2D&pool_size=2&ceil_mode=true"
                        "&input_shape=1,4,4,1", status=422).text
    assert any("ceil_mode" in m for m in alerts(keras))


@pytest.mark.parametrize("mode, border", [("reflect", ((1, 1, 1), (2, 2, 30))), ("replicate", ((1, 0, 0), (2, 31, 5))),
                                          ("circular", ((1, 0, 0), (2, 1, 31)))])
def test_real_size_lens_shows_the_fold_that_makes_the_apis_grad_input(client, mode, border):
    spec = {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "padding": 2,
            "padding_mode": mode}
    query = ("framework=torch&type=Conv2d&in_channels=3&out_channels=8&kernel_size=3&padding=2"
             f"&padding_mode={mode}&input_shape=1,3,32,32")
    answer = api(client, "torch", spec, (1, 3, 32, 32), "random", seed=2)
    gx = np.asarray(answer["grad_input"], np.float32)[0]
    g = np.asarray(answer["grad_output"], np.float32)[0]
    layer = build_layer("torch", spec, (1, 3, 32, 32))
    from app.core.forward import canonical_weights
    w = canonical_weights(layer, readable_weights(layer, 2, "random"))[0]["weight"]
    op = layer.stages[0]
    up, _ = upstream_grid(g, op, (32, 32))
    for at in (*border, (0, 16, 16)):  # cells the padding copied (reflect: not the edge itself), and one it did not
        text = real_page(client, query, int(np.ravel_multi_index(at, (3, 32, 32))))
        assert num(plain(section(text, "gi-value"))) == num(fmt(gx[at]))
        if at == (0, 16, 16):  # far from the border: no padded copy of it
            assert 'id="lens-fold"' not in text
            continue
        fold = plain(section(text, "lens-fold"))
        copies = re.findall(r"(\(?[−\d.]+\)?) \((itself|padded \[(\d+), (\d+)\])\)", fold)
        assert copies[0][1] == "itself" and len(copies) > 1, fold
        total = 0.0
        for value, _, i, j in copies:  # each copy's sum, recomputed here from the API's arrays
            cell = (at[1] + 2, at[2] + 2) if not i else (int(i), int(j))
            exact = sum(a * b for _, t in grad_input_terms(up, w, op, at[0], cell) for a, b in t)
            assert num(value) == num(fmt(exact))
            total += exact
        assert math.isclose(total, float(gx[at]), rel_tol=1e-4, abs_tol=1e-4), (fold, gx[at])


# ------------------------------------------------------------------ the lens at any cell (issue 24: pointing, keys)


def lens_lines(text: str) -> list[tuple[str, str]]:
    return re.findall(r"<li>(from output channel \d+: [^<]*)<strong>([^<]*)</strong></li>", text)


@pytest.mark.parametrize("query, spec, in_shape, at", REAL[:3], ids=["Conv2d-32", "Conv2d-56-stride2", "Conv1D-300"])
def test_the_lens_url_writes_out_any_cell_as_the_api(client, query, spec, in_shape, at):
    """What the page fetches when the reader points at ∂L/∂input's picture outside the cell the page wrote:
    /backprop/lens?…&step=n, the lens block alone, with the same sums as the page at ?step=n and the API's
    grad_input there; its marker's row and column; a step past the layer refused naming the field."""
    framework = "keras" if "keras" in query else "torch"
    layer = build_layer(framework, spec, in_shape)
    from app.core.forward import canonical_weights
    answer = api(client, framework, spec, in_shape, "random", seed=2)
    gx, g = cf(answer["grad_input"], framework)[0], cf(answer["grad_output"], framework)[0]
    w = canonical_weights(layer, readable_weights(layer, 2, "random"))[0]["weight"]
    op = layer.stages[0]
    spatial = gx.shape[1:]
    up, _ = upstream_grid(g, op, spatial)
    page = real_page(client, query, 0)
    lens_url = re.search(r'data-lens-url="([^"]*)"', page)[1].replace("&amp;", "&")
    assert lens_url.startswith("/backprop/lens?") and "step=" not in lens_url
    corners = [(0, *[0] * len(spatial)), (gx.shape[0] - 1, *[n - 1 for n in spatial]), at]
    for cell in corners:
        step = int(np.ravel_multi_index(cell, gx.shape))
        r = client.get(lens_url + f"&step={step}")
        assert r.status_code == 200, r.text
        text = r.text
        assert "picture-stage" not in text and text.count('id="lens"') == 1  # the lens alone, not the page
        assert num(plain(section(text, "gi-value"))) == num(fmt(gx[cell]))
        expected = grad_input_terms(up, w, op, cell[0], cell[1:])
        assert lens_lines(text) == [(f"from output channel {o}: " + " + ".join(backprop.term(a, b) for a, b in t)
                                     + " = ", fmt(sum(a * b for a, b in t))) for o, t in expected]
        lens = re.search(r'<div class="arith lens" id="lens"[^>]*>', text)[0]
        row, col = (cell[1], cell[2]) if len(spatial) == 2 else (0, cell[1])
        assert f'data-step="{step}"' in lens and f'data-row="{row}"' in lens and f'data-col="{col}"' in lens
        assert f'data-first="{cell[0] * math.prod(spatial)}"' in lens
        assert lens_lines(section(real_page(client, query, step), "lens")) == lens_lines(text)  # as the page
    r = client.get(lens_url + f"&step={gx.size}")
    assert r.status_code == 422 and "step:" in r.text and f"0 to {gx.size - 1}" in r.text


def test_the_pooling_lens_url_routes_to_the_winner(client):
    query = "framework=torch&type=MaxPool2d&kernel_size=3&stride=2&ceil_mode=true&input_shape=1,4,40,40"
    spec, in_shape = {"type": "MaxPool2d", "kernel_size": 3, "stride": 2, "ceil_mode": True}, (1, 4, 40, 40)
    answer = api(client, "torch", spec, in_shape, "random", seed=2)
    gx = np.asarray(answer["grad_input"])[0]
    lens_url = re.search(r'data-lens-url="([^"]*)"', real_page(client, query, 0))[1].replace("&amp;", "&")
    for cell in ((3, 39, 39), (1, 0, 17), (2, 20, 38)):
        text = get(client, lens_url + f"&step={int(np.ravel_multi_index(cell, gx.shape))}").text
        assert num(plain(section(text, "gi-value"))) == num(fmt(gx[cell]))


def test_a_ceil_mode_window_past_the_padding_is_drawn_on_grey(client):
    """ceil_mode's last window hangs past the padded input: the input picture reaches as far, grey (NaN) there,
    as /pool's picture, so the window's box stays on the picture."""
    query = "framework=torch&type=MaxPool2d&kernel_size=3&stride=2&padding=1&ceil_mode=true&input_shape=1,4,40,40"
    # out = ceil((40 + 2 − 3) / 2) + 1 = 21: the last window starts at padded 40 and ends at 43 > 42 = 40 + 2·1
    state, errors = backprop.read_state(backprop.QueryParams(query))
    assert errors == []
    picture, _ = backprop.picture_of(state, "input", 3)
    assert picture.shape == (43, 43)
    assert np.isnan(picture[0]).all() and np.isnan(picture[:, 0]).all()  # the padding before
    assert np.isnan(picture[41:]).all() and np.isnan(picture[:, 41:]).all()  # the padding after and past it
    assert not np.isnan(picture[1:41, 1:41]).any()
    text = real_page(client, query, 0, upstream="cell", cell=4 * 21 * 21 - 1)  # channel 3's last output
    boxes = re.findall(r'class="window-box" style="top: ([\d.]+)%; left: ([\d.]+)%; height: ([\d.]+)%; width: '
                       r'([\d.]+)%', section(text, "window-boxes"))
    assert [tuple(float(v) for v in b) for b in boxes] == [(round(100 * 40 / 43, 3), round(100 * 40 / 43, 3),
                                                             round(100 * 3 / 43, 3), round(100 * 3 / 43, 3))]
    assert "grey: padding, and past it" in plain(text)
    floor = real_page(client, query.replace("&ceil_mode=true", ""), 0)
    assert "grey: padding, no value" in plain(floor)  # padding alone is grey too
    assert backprop.picture_of(backprop.read_state(backprop.QueryParams(query.replace("&ceil_mode=true", "")))[0],
                               "input", 0)[0].shape == (42, 42)
