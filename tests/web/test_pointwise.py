"""/pointwise over HTTP: whole page or htmx fragment, the state in either framework's words, the Q1
preset against the recorded framework numbers, the 1×1 conv = Dense-per-position proof checked from
the page's own numbers, ?step=n, every control's bounds, escaping.

Expected numbers come from tests/data/questions.json (recorded with PyTorch and Keras), from the
definitions (params = C_in·C_out + C_out, MACs = N·L·C_in·C_out), or are recomputed here with loops
from the input, weights and bias the view computed with (its context), never from the page's own code.
"""
import html
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from starlette.datastructures import QueryParams

from app.routes import pointwise
from tests.web import page
from tests.web.page import alerts, cells, get, num, plain, section, shape

QUESTIONS = json.loads((Path(__file__).resolve().parents[1] / "data" / "questions.json").read_text())
HX = {"HX-Request": "true"}
SMALL = "/pointwise?framework=torch&type=Conv1d&in_channels=4&out_channels=3&kernel_size=1&input_shape=1,4,6"
KERAS_SMALL = "/pointwise?framework=keras&type=Conv1D&filters=3&kernel_size=1&input_shape=1,6,4"


# ---------------------------------------------------------------- reading the page

def data(text: str) -> dict:
    return page.data(text, "pointwise")


def numbers(url: str) -> dict:
    """The input, weights, bias and output the view computed for ``url`` (its context's; the page only
    sends the browser the played steps)."""
    state, _ = pointwise.read_state(QueryParams(urlsplit(url).query))
    return {**pointwise.pointwise_context(state)["numbers"], "activation": state.activation}


def lit(text: str, prefix: str) -> set[int]:
    return {int(i) for i in re.findall(rf'<td id="{re.escape(prefix)}(\d+)" class="lit"', text)}


def matrix(flat: list, rows: int, cols: int) -> list[list[float]]:
    return [flat[r * cols:(r + 1) * cols] for r in range(rows)]


ACT = {"linear": lambda v: v, "relu": lambda v: max(v, 0.0), "tanh": math.tanh,
       "sigmoid": lambda v: 1 / (1 + math.exp(-v))}


def by_hand(d: dict) -> list[list[float]]:
    """y[o][t] = act(sum_c W[o][c] · x[c][t] + b[o]): a Dense layer on each position's channel vector."""
    x, w = matrix(d["x"], d["cin"], d["positions"]), matrix(d["w"], d["cout"], d["cin"])
    return [[ACT[d["activation"]](sum(w[o][c] * x[c][t] for c in range(d["cin"])) + d["b"][o])
             for t in range(d["positions"])] for o in range(d["cout"])]


# ---------------------------------------------------------------- full page, fragment, URL

def test_full_page_and_fragment_share_a_url(client):
    full = get(client, SMALL)
    frag = get(client, SMALL, headers=HX)
    assert "HX-Request" in full.headers["vary"] and "HX-Request" in frag.headers["vary"]
    assert "<html" in full.text and 'id="pointwise-form"' in full.text
    assert frag.text.strip().startswith('<div id="live"')
    assert "<html" not in frag.text and 'id="pointwise-form"' not in frag.text and "<nav" not in frag.text
    assert shape(full.text) == shape(frag.text) == [1, 3, 6]  # (N, C_out, L): the positions stay
    restore = get(client, SMALL, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text and 'id="pointwise-form"' in restore.text and shape(restore.text) == [1, 3, 6]


def query_of(r) -> dict:
    url = urlsplit(r.headers["hx-replace-url"])
    assert url.path == "/pointwise"
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def test_replace_url_is_the_canonical_url_in_each_frameworks_words(client):
    form = "type=Conv1d&kernel_size=1&batch=2&positions=7&channels=5&filters=4&bias=false&activation=tanh" \
           "&weights=ones&seed=12&step=3"
    r = get(client, "/pointwise?framework=torch&" + form, headers=HX)
    assert query_of(r) == {"framework": "torch", "type": "Conv1d", "in_channels": "5", "out_channels": "4",
                           "kernel_size": "1", "bias": "false", "activation": "tanh", "input_shape": "2,5,7",
                           "weights": "ones", "seed": "12", "step": "3"}
    r = get(client, "/pointwise?framework=keras&" + form.replace("Conv1d", "Conv1D"), headers=HX)
    q = query_of(r)
    assert q == {"framework": "keras", "type": "Conv1D", "filters": "4", "kernel_size": "1", "use_bias": "false",
                 "activation": "tanh", "input_shape": "2,7,5", "weights": "ones", "seed": "12", "step": "3"}
    # the canonical URL is a fixed point: it shows the same layer and names itself
    again = get(client, r.headers["hx-replace-url"])
    assert again.headers["hx-replace-url"] == r.headers["hx-replace-url"]
    assert shape(again.text) == [2, 7, 4] and data(again.text) == data(r.text)
    # no query at all: the small layer, named in full
    assert get(client, "/pointwise").headers["hx-replace-url"] == \
        "/pointwise?framework=torch&type=Conv1d&in_channels=4&out_channels=3&kernel_size=1&bias=true&input_shape=1,4,6"


class _Form(HTMLParser):
    """The (name, value) pairs #pointwise-form submits without JavaScript."""

    def __init__(self):
        super().__init__()
        self.fields, self.inside, self.select = [], False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.inside = self.inside or (tag == "form" and a.get("id") == "pointwise-form")
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = [a["name"], None]
        elif tag == "option" and self.select and (self.select[1] is None or "selected" in a):
            self.select[1] = a["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            self.fields.append(tuple(self.select))
            self.select = None


@pytest.mark.parametrize("url", [SMALL + "&activation=relu&seed=7", KERAS_SMALL + "&use_bias=false&weights=ones"])
def test_the_form_alone_reproduces_the_page(client, url):
    page = get(client, url)
    parser = _Form()
    parser.feed(page.text)
    names = {n for n, _ in parser.fields}
    assert {"framework", "type", "kernel_size", "batch", "positions", "channels", "filters", "bias", "activation",
            "weights", "seed"} == names  # the player's step, scrub and speed are not part of the form
    again = get(client, "/pointwise?" + urlencode(parser.fields))
    assert again.headers["hx-replace-url"] == page.headers["hx-replace-url"]
    assert data(again.text) == data(page.text)


# ---------------------------------------------------------------- Q1, recorded by the frameworks

def preset_links(client) -> dict[str, str]:
    nav = re.search(r'<nav class="presets"[^>]*>(.*?)</nav>', get(client, "/pointwise").text, re.DOTALL).group(1)
    return {plain(label): html.unescape(href) for href, label in re.findall(r'<a href="([^"]+)">(.*?)</a>', nav)}


def recorded_q1(framework: str) -> dict:
    [case] = [c for c in QUESTIONS["layers"] if c["question"] == "Q1" and c["framework"] == framework]
    return case


def strong_number(text: str, element_id: str) -> int:
    return int(section(text, element_id).replace(",", ""))


def test_q1_preset_matches_the_recorded_keras_and_pytorch_numbers(client):
    [url] = [u for label, u in preset_links(client).items() if label.startswith("Q1")]
    keras = recorded_q1("keras")
    r = get(client, url)
    assert alerts(r.text) == []
    assert keras["layer"] == {"type": "Conv1D", "filters": 64, "kernel_size": 1, "activation": "relu"}
    assert shape(r.text) == keras["output_shape"] == [2, 10, 64]  # the preset uses the recorded batch
    table = re.search(r'<table class="shapes">(.*?)</table>', r.text, re.DOTALL).group(1)
    assert f"<code>{keras['input_shape']}</code>" in table
    for s in keras["weight_shapes"]:  # kernel (1, 100, 64), bias (64,)
        assert f"<code>{s}</code>" in table
    assert strong_number(r.text, "params") == keras["params"] == 100 * 64 + 64
    assert strong_number(r.text, "macs") == 2 * 10 * 100 * 64  # N·L·C_in·C_out

    # the same layer in PyTorch's words, one link away
    torch_url = html.unescape(re.search(r'<a href="([^"]+)" data-framework="torch"', r.text).group(1))
    torch = recorded_q1("torch")
    t = get(client, torch_url)
    assert shape(t.text) == torch["output_shape"] == [2, 64, 10]
    table = re.search(r'<table class="shapes">(.*?)</table>', t.text, re.DOTALL).group(1)
    assert f"<code>{torch['input_shape']}</code>" in table
    for s in torch["weight_shapes"]:
        assert f"<code>{s}</code>" in table
    assert strong_number(t.text, "params") == torch["params"]
    assert query_of(t)["activation"] == "relu"  # a separate nn.ReLU() after the conv
    assert data(t.text) == data(r.text)  # the same numbers in both frameworks


def test_q1_states_how_the_conv_weights_become_the_dense_weights(client):
    [url] = [u for label, u in preset_links(client).items() if label.startswith("Q1")]
    text = plain(section(get(client, url).text, "dense"))
    assert "kernel has shape (1, 100, 64) ; kernel[0] , shape (100, 64) , is the Dense kernel" in text
    assert "conv.weight has shape (64, 100, 1) ; conv.weight[:, :, 0] , shape (64, 100) , is linear.weight" in text
    code = {fw: html.unescape(section(get(client, url).text, f"code-{fw}")) for fw in ("torch", "keras")}
    assert "nn.Conv1d(100, 64, kernel_size=1" in code["torch"] and "nn.Linear(100, 64" in code["torch"]
    assert "linear.weight.copy_(conv.weight[:, :, 0])" in code["torch"] and "nn.ReLU()" in code["torch"]
    assert "Conv1D(filters=64, kernel_size=1, use_bias=True, activation='relu')" in code["keras"]
    assert "Dense(64, use_bias=True, activation='relu')" in code["keras"]
    assert "dense.set_weights([kernel[0], bias])" in code["keras"]
    assert re.search(r'<pre id="code-torch" tabindex="0">', get(client, url).text)


# ---------------------------------------------------------------- the proof: Dense per position

@pytest.mark.parametrize("url", [
    SMALL,
    SMALL + "&activation=relu&seed=3",
    KERAS_SMALL + "&activation=sigmoid&use_bias=false",
    "/pointwise?framework=keras&type=Conv1D&filters=64&kernel_size=1&activation=relu&input_shape=2,10,100",
    ("/pointwise?framework=torch&type=Conv1d&in_channels=20&out_channels=17&kernel_size=1&activation=tanh"
     "&input_shape=3,20,9&seed=5"),
])
def test_the_output_is_a_dense_layer_applied_at_every_position(client, url):
    r = get(client, url)
    d = {**data(r.text), **numbers(url)}
    expected = by_hand(d)
    shown = matrix(d["y"], d["cout"], d["positions"])
    for o in range(d["cout"]):
        for t in range(d["positions"]):
            assert shown[o][t] == pytest.approx(expected[o][t], rel=2e-6, abs=1e-5), (o, t)  # float32
    # the printed grid says the same (two decimals), for the channels it prints
    grid = cells(r.text, "y-")
    assert len(grid) == min(16, d["cout"]) * d["positions"]
    for i, text in grid.items():
        o, t = divmod(i, d["positions"])
        assert num(text) == pytest.approx(expected[o][t], abs=0.0051)
    # the side-by-side at position 0, and the largest difference the page states
    for o in range(min(16, d["cout"])):
        conv, dense = num(section(r.text, f"conv-{o}")), num(section(r.text, f"dense-{o}"))
        assert conv == dense == pytest.approx(expected[o][0], abs=0.0051)
    diff = float(re.search(r'data-max-diff="([^"]+)"', r.text).group(1))
    largest = max(abs(v) for row in expected for v in row)
    assert 0 <= diff <= 1e-6 * max(1, largest) * d["cin"]  # float32 round-off; a wrong weight is off by ≥ 0.01
    assert f"over all {d['cout'] * d['positions'] * int(shape(r.text)[0]):,} output values" in plain(r.text)


def test_the_weights_of_ones_preset_sums_each_column(client):
    [url] = [u for label, u in preset_links(client).items() if "ones" in label]
    r = get(client, url)
    x = {i: num(v) for i, v in cells(r.text, "x-").items()}
    for i, v in cells(r.text, "y-").items():
        t = i % 6
        assert num(v) == sum(x[c * 6 + t] for c in range(4))


# ---------------------------------------------------------------- ?step=n written out

def arithmetic_lines(text: str) -> list[str]:
    return [plain(li) for li in re.findall(r"<li>(.*?)</li>", section(text, "arith-lines"), re.DOTALL)]


LINE = re.compile(r"y\[(\d+), (\d+)\] = (.*?)(?: \+ \((\d+) more products, channels (\d+)–(\d+): ([^)]*)\))?"
                  r"(?: \+ bias \(([^)]*)\))? = (\S+)(?: → (\w+)\((\S+)\) = (\S+))?$")


@pytest.mark.parametrize("url, step", [
    (SMALL, 4),
    (SMALL + "&activation=relu&seed=11", 5),
    (KERAS_SMALL + "&activation=tanh&use_bias=false", 2),
    ("/pointwise?framework=keras&type=Conv1D&filters=64&kernel_size=1&activation=relu&input_shape=2,10,100", 7),
])
def test_step_in_the_url_writes_out_that_position(client, url, step):
    r = get(client, f"{url}&step={step}")
    d = {**data(r.text), **numbers(url)}
    L, cin, cout = d["positions"], d["cin"], d["cout"]
    assert d["step"] == step
    assert plain(section(r.text, "step-label")) == f"t = {step} of 0–{L - 1}"
    assert lit(r.text, "x-") == {c * L + step for c in range(min(16, cin))}  # the column read ...
    assert lit(r.text, "y-") == {o * L + step for o in range(min(16, cout))}  # ... and the column written
    lines = arithmetic_lines(r.text)
    assert len(lines) == min(8, cout)
    x, w = matrix(d["x"], cin, L), matrix(d["w"], cout, cin)
    expected = by_hand(d)
    for o, line in enumerate(lines):
        m = LINE.match(line)
        assert m, line
        assert (int(m[1]), int(m[2])) == (o, step)
        terms = [t.split("×") for t in m[3].split(" + ")]
        assert [(num(a), num(b)) for a, b in terms] == [(w[o][c], x[c][step]) for c in range(min(8, cin))]
        total = sum(num(a) * num(b) for a, b in terms)
        if cin > 8:
            assert (int(m[4]), int(m[5]), int(m[6])) == (cin - 8, 8, cin - 1)
            rest = sum(w[o][c] * x[c][step] for c in range(8, cin))
            assert num(m[7]) == pytest.approx(rest, abs=0.0051)
            total += num(m[7])
        else:
            assert m[4] is None
        if "bias=false" in url:
            assert m[8] is None
        else:
            assert num(m[8]) == d["b"][o]
            total += num(m[8])
        assert num(m[9]) == pytest.approx(total, abs=0.011)
        value = num(m[12]) if m[10] else num(m[9])
        if m[10]:
            assert m[10] == d["activation"] and m[11] == m[9]
        assert value == pytest.approx(expected[o][step], abs=0.0051)
        if o < 16:  # the line ends in the number the output grid shows at that position
            assert value == num(cells(r.text, "y-")[o * L + step])
    text = plain(section(r.text, "arith"))
    if cout > 8:
        assert f"Output channels 8–{cout - 1} are computed the same way" in text
    if cin > 8:
        assert f"the other {cin - 8} arrive as one sum" in text


def test_step_links_move_one_position_and_wrap(client):
    def hrefs(text):
        return {k: parse_qs(urlsplit(html.unescape(h)).query).get("step", ["0"])[0]
                for k, h in re.findall(r'<a class="btn" id="step-(back|forward)" href="([^"]+)"', text)}
    assert hrefs(get(client, SMALL).text) == {"back": "5", "forward": "1"}
    assert hrefs(get(client, SMALL + "&step=5").text) == {"back": "4", "forward": "0"}


# ---------------------------------------------------------------- bounds

def u(framework="torch", **params) -> str:
    """A /pointwise URL; Conv1d(4, 3, 1) on (1, 4, 6) unless told otherwise."""
    words = {"torch": {"type": "Conv1d", "in_channels": 4, "out_channels": 3, "kernel_size": 1,
                       "input_shape": "1,4,6"},
             "keras": {"type": "Conv1D", "filters": 3, "kernel_size": 1, "input_shape": "1,6,4"},
             "form": {"type": "Conv1d", "kernel_size": 1, "batch": 1, "positions": 6, "channels": 4, "filters": 3}}
    query = {"framework": "keras" if framework == "keras" else "torch", **words[framework], **params}
    return "/pointwise?" + urlencode({k: v for k, v in query.items() if v is not None}, safe=",")


BOUNDS = [  # (inside, outside, field named, value named): one step either side of each control's bound
    (u("form", batch=4), u("form", batch=5), "batch", "5"),
    (u("form", batch=1), u("form", batch=0), "batch", "0"),
    (u(input_shape="4,4,6"), u(input_shape="5,4,6"), "input_shape", "5"),
    (u("form", positions=16384, channels=1), u("form", positions=16385), "positions", "16385"),
    (u("form", positions=1), u("form", positions=0), "positions", "0"),
    (u(input_shape="1,4,16384"), u(input_shape="1,4,16385"), "input_shape", "16385"),
    (u("keras", input_shape="1,16384,4"), u("keras", input_shape="1,16385,4"), "input_shape", "16385"),
    (u("keras", input_shape="1,1,4"), u("keras", input_shape="1,0,4"), "input_shape", "0"),
    (u("form", channels=2048), u("form", channels=2049), "channels", "2049"),
    (u("form", channels=1), u("form", channels=0), "channels", "0"),
    (u(in_channels=2048, input_shape="1,2048,6"), u(in_channels=2049, input_shape="1,2049,6"), "input_shape", "2049"),
    (u("keras", input_shape="1,6,2048"), u("keras", input_shape="1,6,2049"), "input_shape", "2049"),
    (u(out_channels=2048), u(out_channels=2049), "out_channels", "2049"),
    (u(out_channels=1), u(out_channels=0), "out_channels", "0"),
    (u("keras", filters=2048), u("keras", filters=2049), "filters", "2049"),
    (u("form", filters=1), u("form", filters=0), "filters", "0"),
    (u(seed=9999), u(seed=10000), "seed", "10000"),
    (u(seed=0), u(seed=-1), "seed", "-1"),
    (u(step=5), u(step=6), "step", "6"),  # 6 positions: 0..5
    (u(step=0), u(step=-1), "step", "-1"),
    (u(input_shape="1,4,64", step=63), u(input_shape="1,4,64", step=64), "step", "64"),
    (u(input_shape="1,4,16384", step=16383), u(input_shape="1,4,16384", step=16384), "step", "16384"),
    (u(out_channels=3, f=2), u(out_channels=3, f=3), "f", "3"),
    (u(kernel_size=1), u(kernel_size=3), "kernel_size", "3"),
    (u(type="Conv1d"), u(type="Conv2d"), "type", "Conv2d"),
    (u("keras", activation="tanh"), u("keras", activation="gelu"), "activation", "gelu"),
    (u(activation="sigmoid"), u(activation="softmax"), "activation", "softmax"),
    (u(weights="ones"), u(weights="zeros"), "weights", "zeros"),
    (u(bias="false"), u(bias="maybe"), "bias", "maybe"),
    (u("keras", use_bias="false"), u("keras", use_bias="maybe"), "use_bias", "maybe"),
    (KERAS_SMALL, SMALL.replace("framework=torch", "framework=jax"), "framework", "jax"),
    (u(input_shape="1,4,6"), u(input_shape="1,4,6,6"), "input_shape", "1,4,6,6"),
]
INSIDE = [pytest.param(*b, id=f"{b[2]}-{n}") for n, b in enumerate(BOUNDS)]
OUTSIDE = [pytest.param(*b, id=f"{b[2]}={b[3]}-{n}") for n, b in enumerate(BOUNDS)]


def names(message: str, field: str, value: str) -> bool:
    value_named = re.search(rf"(?<![\d-]){re.escape(value)}(?![\d,])", message)
    return bool(re.search(rf"\b{field}\b", message)) and bool(value_named)


@pytest.mark.parametrize("inside, outside, field, value", INSIDE)
def test_value_just_inside_a_bound_works(client, inside, outside, field, value):
    r = client.get(inside)
    assert r.status_code == 200, alerts(r.text)
    assert alerts(r.text) == [] and shape(r.text) is not None


@pytest.mark.parametrize("inside, outside, field, value", OUTSIDE)
def test_value_just_outside_a_bound_is_named_in_the_fragment(client, inside, outside, field, value):
    r = client.get(outside, headers=HX)
    assert r.status_code == 200  # swapped in place like any answer
    assert r.text.strip().startswith('<div id="live"')
    found = alerts(r.text)
    assert any(names(m, field, value) for m in found), found
    assert shape(r.text) is not None  # the rest of the state still draws


@pytest.mark.parametrize("inside, outside, field, value", OUTSIDE)
def test_value_just_outside_a_bound_is_422_for_a_full_page(client, inside, outside, field, value):
    r = client.get(outside)
    assert r.status_code == 422, alerts(r.text)
    assert "<html" in r.text
    assert any(names(m, field, value) for m in alerts(r.text)), alerts(r.text)


@pytest.mark.parametrize("url, what_works", [
    (u("form", positions=16385), "from 1 to 16384"),
    (u(out_channels=2049), "from 1 to 2048"),
    (u("form", batch=5), "from 1 to 4"),
    (u(step=6), "from 0 to 5"),
    (u(activation="gelu"), "'linear', 'relu', 'sigmoid', 'tanh'"),
    (u(kernel_size=3), "must be 1"),
])
def test_messages_say_what_works(client, url, what_works):
    assert any(what_works in m for m in alerts(client.get(url).text)), alerts(client.get(url).text)


def test_in_channels_that_disagree_with_the_input_are_explained(client):
    r = client.get(u(in_channels=3))  # input_shape 1,4,6 has 4 channels
    found = alerts(r.text)
    assert r.status_code == 422
    assert any("in_channels" in m and re.search(r"\b3\b", m) and re.search(r"\b4\b", m) for m in found), found
    assert data(r.text)["cin"] == 4


@pytest.mark.parametrize("param", ["framework", "type", "batch", "positions", "channels", "in_channels", "filters",
                                   "out_channels", "kernel_size", "bias", "use_bias", "activation", "input_shape",
                                   "weights", "seed", "step"])
@pytest.mark.parametrize("value", ["", "x", "-1", "1e9", "99999999999999999999", "3,3,3,3", "nan", "0.5", "１"])
def test_no_value_gives_a_500(client, param, value):
    for headers in ({}, HX):
        r = client.get("/pointwise", params={param: value}, headers=headers)
        assert r.status_code in (200, 422), (param, value, r.status_code)


XSS = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.mark.parametrize("param", ["framework", "type", "batch", "positions", "channels", "in_channels", "filters",
                                   "out_channels", "kernel_size", "bias", "use_bias", "activation", "input_shape",
                                   "weights", "seed", "step"])
def test_query_values_are_escaped(client, param):
    for headers in ({}, HX):
        r = client.get("/pointwise", params={param: XSS}, headers=headers)
        assert r.status_code in (200, 422)
        assert "<script>alert" not in r.text and "<img src=x" not in r.text and "'><" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text  # the value is shown, as text
        assert "<" not in r.headers["hx-replace-url"] and "script" not in r.headers["hx-replace-url"]


# ---------------------------------------------------------------- both frameworks, one engine

@pytest.mark.parametrize("extra", ["", "&activation=relu&seed=42", "&weights=ones", "&bias=false&step=3"])
def test_both_frameworks_show_the_same_numbers_for_the_same_seed(client, extra):
    torch_url = "/pointwise?framework=torch&type=Conv1d&in_channels=5&out_channels=4&kernel_size=1" \
                "&input_shape=2,5,7" + extra
    keras_url = "/pointwise?framework=keras&type=Conv1D&filters=4&kernel_size=1&input_shape=2,7,5" + \
        extra.replace("bias=false", "use_bias=false")
    t, k = get(client, torch_url), get(client, keras_url)
    assert shape(t.text) == [2, 4, 7] and shape(k.text) == [2, 7, 4]  # each in its own layout
    assert data(t.text) == data(k.text)
    for prefix in ("x-", "w-", "b-", "y-"):
        assert cells(t.text, prefix) == cells(k.text, prefix) != {}
    assert arithmetic_lines(t.text) == arithmetic_lines(k.text)


def test_the_context_builder_runs_without_http():
    import plotly.graph_objects as go

    from app.routes.pointwise import PointwiseState, pointwise_context
    ctx = pointwise_context(PointwiseState(framework="keras", batch=2, positions=10, channels=100, filters=64,
                                           activation="relu"))
    assert ctx["out_shape"] == recorded_q1("keras")["output_shape"]
    assert ctx["params"] == recorded_q1("keras")["params"]
    assert ctx["macs"] == 2 * 10 * 100 * 64
    assert ctx["max_diff"] <= 1e-4 and ctx["compared"] == 2 * 10 * 64  # round-off on outputs up to ~30
    assert len(ctx["lines"]) == 8 and all(len(line["terms"]) == 8 for line in ctx["lines"])
    assert ctx["w_grid"] is None  # 64 × 100: a heatmap, not a grid of numbers
    for fig in ctx["figures"].values():
        go.Figure(fig)  # plotly.py's validators accept the hand-built dicts (shapes included)
    small = pointwise_context(PointwiseState())
    assert len(small["w_grid"]) == 3 and len(small["w_grid"][0]) == 4
