"""/explore over HTTP: whole page or htmx fragment, the state in either framework's words, every
control's bounds, invalid layers explained in place, ?step=n rendered on the server.

Every number pinned here comes from the frameworks' formulas, from tests/data/questions.json
(recorded with PyTorch and Keras), or is recomputed in the test from the input, weights and bias
that the page shows; never from calling the page's own code.
"""
import html
import itertools
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import numpy as np
import pytest
from starlette.datastructures import QueryParams

from tests.web import page
from tests.web.page import alerts, cells, get, num, plain, section, shape

QUESTIONS = json.loads((Path(__file__).resolve().parents[1] / "data" / "questions.json").read_text())
API_EXAMPLE = "/explore?framework=keras&type=Conv1D&filters=100&kernel_size=4&padding=same&input_shape=1,50,300"
HX = {"HX-Request": "true"}


# ---------------------------------------------------------------- reading the page

def data(text: str) -> dict:
    return page.data(text, "explore")


def drawn(text: str, kernel: list[int], padded: list[int]) -> dict:
    """The numbers the page draws: the shown input channels (padded), each one's kernel slice and the bias,
    all exact (inputs are small integers, weights and bias tenths)."""
    chans = sorted({int(c) for c in re.findall(r'<td id="x(\d+)-0"', text)})
    x = np.array([[num(t) for _, t in sorted(cells(text, f"x{c}-").items())] for c in chans]).reshape(len(chans), *padded)
    w = np.array([[num(t) for _, t in sorted(cells(text, f"w{c}-").items())] for c in chans]).reshape(len(chans), *kernel)
    b = num(re.search(r"bias \(([^)]*)\)", plain(section(text, "arith-total"))).group(1))
    return {"channels": chans, "x": x, "w": w, "b": b}


def grid_shape(text: str, label: str, dims: int) -> list[int]:
    """The shape of the first grid whose aria-label starts with label: (depth,) rows, cells per row."""
    block = re.search(rf'aria-label="{label}[^"]*">(.*?)</div>', text, re.DOTALL).group(1)
    tables = re.findall(r"<table.*?</table>", block, re.DOTALL)
    rows = re.findall(r"<tr>(.*?)</tr>", tables[0], re.DOTALL)
    return [len(tables), len(rows), rows[0].count("<td")][3 - dims:]


def cell_classes(text: str, prefix: str) -> dict[int, str]:
    return {int(i): c for i, c in re.findall(rf'<td id="{re.escape(prefix)}(\d+)"(?: class="([^"]*)")?', text)}


def out_size(n, k, s=1, p=0, d=1):
    """PyTorch's documented formula (numeric padding, both sides)."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


class _Form(HTMLParser):
    """The fields #explore-form submits without JavaScript: (name, value) pairs in document order.
    An <option> without a value attribute submits its text, as browsers do."""

    def __init__(self):
        super().__init__()
        self.fields, self.inside, self.select, self.options, self.option = [], False, None, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "explore-form":
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("form") is None:
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name") and a.get("form") is None:
            self.select, self.options = a["name"], []
        elif tag == "option" and self.select is not None:
            self.option = [a.get("value"), "selected" in a, ""]
            self.options.append(self.option)

    def handle_data(self, text):
        if self.option is not None:
            self.option[2] += text

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "option":
            self.option = None
        elif tag == "select" and self.select is not None:
            chosen = next((o for o in self.options if o[1]), self.options[0])
            self.fields.append((self.select, chosen[0] if chosen[0] is not None else chosen[2].strip()))
            self.select = None


def form_fields(text: str) -> list[tuple[str, str]]:
    p = _Form()
    p.feed(text)
    return p.fields


def conv_by_hand(x: np.ndarray, w: np.ndarray, b: float, stride, dilation, out):
    """y[o] = sum_c sum_t x[c, o·s + t·d] · w[c, t] + b, over the padded input x (C, *padded)."""
    y = np.zeros(out)
    for o in itertools.product(*(range(n) for n in out)):
        total = b
        for t in itertools.product(*(range(k) for k in w.shape[1:])):
            pos = tuple(oi * s + ti * d for oi, ti, s, d in zip(o, t, stride, dilation))
            total += float((x[(slice(None), *pos)] * w[(slice(None), *t)]).sum())
        y[o] = total
    return y


# ---------------------------------------------------------------- full page, fragment, URL

def test_full_page_and_fragment_share_a_url(client):
    url = "/explore?framework=torch&type=Conv2d&in_channels=2&out_channels=3&kernel_size=3&stride=2&input_shape=1,2,9,9"
    full = get(client, url)
    frag = get(client, url, headers=HX)
    assert "HX-Request" in full.headers["vary"] and "HX-Request" in frag.headers["vary"]
    assert "<html" in full.text and 'id="explore-form"' in full.text
    assert frag.text.strip().startswith('<div id="live"')
    assert "<html" not in frag.text and 'id="explore-form"' not in frag.text and 'aria-label="Main"' not in frag.text
    assert shape(full.text) == shape(frag.text) == [1, 3, out_size(9, 3, s=2), out_size(9, 3, s=2)] == [1, 3, 4, 4]
    restore = get(client, url, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text and 'id="explore-form"' in restore.text
    assert shape(restore.text) == [1, 3, 4, 4]


@pytest.mark.parametrize("url, words, shape_", [
    ("/explore?framework=torch&type=Conv2d&in_channels=1&out_channels=2&kernel_size=1,3&stride=1,2&dilation=2,1"
     "&input_shape=1,1,6,9", {"stride": "1,2", "dilation": "2,1"}, [1, 2, 6, 4]),
    # (Keras refuses strides > 1 together with dilation_rate > 1, even on different axes)
    ("/explore?framework=keras&type=Conv2D&filters=2&kernel_size=1,3&strides=1,2&input_shape=1,6,9,1",
     {"strides": "1,2", "dilation_rate": "1"}, [1, 6, 4, 2]),
    # the form sends one value per axis; all equal, the URL says it once, as people write stride=2
    ("/explore?framework=torch&type=Conv2d&kernel_size=3&stride=2&stride=2&dilation=1&dilation=1&input_shape=1,2,7,7",
     {"stride": "2", "dilation": "1"}, [1, 2, 3, 3]),
])
def test_stride_and_dilation_per_axis(client, url, words, shape_):
    """(6 − 2·0 − 1)/1 + 1 = 6 rows and (9 − 1·2 − 1)/2 + 1 = 4 columns."""
    r = get(client, url, headers=HX)
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["hx-replace-url"]).query).items()}
    assert {k: q[k] for k in words} == words
    assert shape(r.text) == shape_


def test_replace_url_is_the_canonical_url_in_each_frameworks_words(client):
    # what the form sends (size, channels, stride): the answer names the URL in the framework's words
    form = "type=Conv2d&batch=2&channels=3&size=7&size=9&filters=4&kernel_size=3&kernel_size=2&stride=2&dilation=1" \
           "&padding=1&groups=1&bias=false&seed=12&step=3"
    r = get(client, "/explore?framework=torch&" + form, headers=HX)
    url = urlsplit(r.headers["hx-replace-url"])
    assert url.path == "/explore"
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert q == {"framework": "torch", "type": "Conv2d", "in_channels": "3", "out_channels": "4",
                 "kernel_size": "3,2", "stride": "2", "padding": "1", "dilation": "1", "groups": "1",
                 "bias": "false", "padding_mode": "zeros", "input_shape": "2,3,7,9", "seed": "12", "step": "3"}

    keras_form = form.replace("type=Conv2d", "type=Conv2D").replace("padding=1", "padding=same")
    r = get(client, "/explore?framework=keras&" + keras_form, headers=HX)
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["hx-replace-url"]).query).items()}
    assert q == {"framework": "keras", "type": "Conv2D", "filters": "4", "kernel_size": "3,2", "strides": "2",
                 "padding": "same", "dilation_rate": "1", "groups": "1", "use_bias": "false",
                 "input_shape": "2,7,9,3", "seed": "12", "step": "3"}
    assert not {"in_channels", "out_channels", "stride", "dilation", "bias", "padding_mode"} & set(q)

    # the canonical URL is a fixed point: it shows the same layer and names itself
    first = get(client, "/explore?framework=keras&" + keras_form)
    again = get(client, r.headers["hx-replace-url"])
    assert again.headers["hx-replace-url"] == r.headers["hx-replace-url"]
    assert shape(again.text) == shape(first.text) == [2, 4, 5, 4]  # (N, H, W, filters), Keras 'same': ceil(7/2), ceil(9/2)
    assert data(again.text) == data(first.text)


@pytest.mark.parametrize("url", [
    "/explore?framework=torch&type=Conv1d&in_channels=3&out_channels=2&kernel_size=3&input_shape=1,3,10",
    "/explore?framework=keras&type=Conv2D&filters=2&kernel_size=3,2&strides=2&input_shape=1,7,6,3",
    "/explore?framework=torch&type=Conv3d&in_channels=2&out_channels=2&kernel_size=2&padding=1&input_shape=1,2,4,5,3",
    "/explore?framework=keras&type=Conv3D&filters=3&kernel_size=2&padding=same&input_shape=1,3,4,5,2",
])
def test_the_form_alone_reproduces_the_page(client, url):
    """Without JavaScript the form is a plain GET: submitting it as rendered shows the same layer."""
    page = get(client, url)
    fields = form_fields(page.text)
    names = [n for n, _ in fields]
    assert {"framework", "type", "batch", "channels", "size", "filters", "kernel", "stride", "dilation",
            "padding", "groups", "bias", "activation", "seed", "f"} <= set(names)
    assert "step" not in names and "scrub" not in names and "speed" not in names  # player controls are not state
    again = get(client, "/explore?" + urlencode(fields))
    assert again.headers["hx-replace-url"] == page.headers["hx-replace-url"]
    assert shape(again.text) == shape(page.text)
    assert data(again.text) == data(page.text)


@pytest.mark.parametrize("url, expected", [
    ("/explore?type=Conv1d", [1, 2, 4]),          # defaults: 2 channels, 2 filters, size 6, kernel 3
    ("/explore?type=Conv3D", [1, 4, 4, 4, 2]),
])
def test_a_type_alone_is_a_complete_state(client, url, expected):
    r = client.get(url)
    assert r.status_code == 200, alerts(r.text)
    assert alerts(r.text) == [] and shape(r.text) == expected


# ---------------------------------------------------------------- shapes, presets, recorded numbers

def test_api_md_example_url(client):
    r = get(client, API_EXAMPLE)
    assert 'data-output-shape="[1, 50, 100]"' in r.text  # Keras 'same', stride 1: ceil(50 / 1) = 50
    assert "(padding 1 before, 2 after)" in r.text        # 4 − 1 = 3 padded: 1 before, 2 after


def preset_links(client) -> dict[str, str]:
    nav = re.search(r'<nav class="presets"[^>]*>(.*?)</nav>', get(client, "/explore").text, re.DOTALL).group(1)
    return {plain(label): html.unescape(href) for href, label in re.findall(r'<a href="([^"]+)">(.*?)</a>', nav)}


def recorded(question: str, framework: str, layer_type: str, filters: int) -> dict:
    [case] = [c for c in QUESTIONS["layers"] if c["question"] == question and c["framework"] == framework
              and c["layer"]["type"] == layer_type and c["layer"].get("filters", c["layer"].get("out_channels")) == filters]
    return case


def shown_number(text: str, label: str) -> int:
    return int(re.search(rf"{label}:? <strong>([\d,]+)</strong>", text).group(1).replace(",", ""))


@pytest.mark.parametrize("prefix, question, framework, layer_type, filters, formula", [
    pytest.param("Q2", "Q2", "torch", "Conv1d", 32, "floor(95 / 2) + 1 = 47 + 1 = 48", id="Q2"),  # (100 − 4 − 1) / 2
    pytest.param("Q4", "Q4", "keras", "Conv2D", 32, "floor(25 / 1) + 1 = 25 + 1 = 26", id="Q4"),  # 28 − 2 − 1
    pytest.param("Q6 · Conv1D(100", "Q6", "keras", "Conv1D", 100, "floor(49 / 1) + 1 = 49 + 1 = 50",  # 50 + 3 − 3 − 1
                 id="Q6"),
])
def test_presets_match_the_recorded_framework_numbers(client, prefix, question, framework, layer_type, filters,
                                                      formula):
    [url] = [u for label, u in preset_links(client).items() if label.startswith(prefix)]
    case = recorded(question, framework, layer_type, filters)
    r = get(client, url)
    assert alerts(r.text) == []
    got = shape(r.text)
    batch = got[0]
    assert got == [batch, *case["output_shape"][1:]]  # recorded with a larger batch; the rest is the same
    assert shown_number(r.text, "Parameters") == case["params"]
    assert formula in plain(re.search(r'<ul class="formulas">(.*?)</ul>', r.text, re.DOTALL).group(1))
    table = re.search(r'<table class="shapes">(.*?)</table>', r.text, re.DOTALL).group(1)
    for s in case["weight_shapes"]:
        assert f"<code>{s}</code>" in table, (s, plain(table))
    # MACs = output positions × filters × (input channels / groups) × kernel taps, for the batch
    layer = case["layer"]
    k = layer["kernel_size"] if isinstance(layer["kernel_size"], list) else [layer["kernel_size"]]
    channels = case["input_shape"][1] if framework == "torch" else case["input_shape"][-1]
    spatial = got[2:] if framework == "torch" else got[1:-1]
    assert shown_number(r.text, "whole batch") == batch * math.prod(spatial) * filters * channels * math.prod(k)


def test_q4_states_both_weight_layouts(client):
    [url] = [u for label, u in preset_links(client).items() if label.startswith("Q4")]
    r = get(client, url)
    keras = recorded("Q4", "keras", "Conv2D", 32)["weight_shapes"][0]
    torch = recorded("Q4", "torch", "Conv2d", 32)["weight_shapes"][0]
    assert (keras, torch) == ([3, 3, 5, 32], [32, 5, 3, 3])
    weights = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", re.search(r'<h2 id="weights-title">.*?</section>',
                                                                   r.text, re.DOTALL).group(0)))
    assert f"conv.weight, shape {torch}" in weights
    assert f"kernel[:, :, c, f] of kernel, bias = conv.get_weights(), shape {keras}" in weights
    assert "conv.weight[f, c]" in weights


def test_kernel_of_ones_preset_outputs_are_window_sums(client):
    [url] = [u for label, u in preset_links(client).items() if "kernel of ones" in label]
    case = QUESTIONS["kernel_of_ones"]
    small = recorded("Q6", "keras", "Conv1D", 5)
    for f in (0, 4):
        r = get(client, url + f"&f={f}")
        assert shape(r.text) == small["output_shape"] == [3, 6, 5]
        assert shown_number(r.text, "Parameters") == small["params"] == 50
        d = drawn(r.text, [3], [8])  # 3 input channels, 8 positions, 'valid': no padding
        x = d["x"]
        y = [num(t) for _, t in sorted(cells(r.text, "y-").items())]
        assert y == [x[:, i:i + 3].sum() for i in range(6)]
        assert (d["w"] == 1).all() and d["b"] == 0
    # the recorded Keras numbers say the same of their input: each output is its window's sum
    rx = np.array(case["input"])
    assert np.array(case["output"])[..., 0].tolist() == [[rx[n, i:i + 3].sum() for i in range(6)] for n in range(3)]


# ---------------------------------------------------------------- both vocabularies

LAYERS = [  # (torch words, keras words, input spatial, kernel, stride, padding words, expected spatial out)
    pytest.param({"type": "Conv1d", "in_channels": 3, "out_channels": 4, "kernel_size": "3", "stride": 2},
                 {"type": "Conv1D", "filters": 4, "kernel_size": "3", "strides": 2, "padding": "valid"},
                 [11], 3, [5], id="1d-stride2"),  # floor((11 − 3) / 2) + 1 = 5
    pytest.param({"type": "Conv2d", "in_channels": 2, "out_channels": 3, "kernel_size": "3,2", "dilation": 2, "padding": "same"},
                 {"type": "Conv2D", "filters": 3, "kernel_size": "3,2", "dilation_rate": 2, "padding": "same"},
                 [7, 9], 2, [7, 9], id="2d-same-dilated"),  # stride 1 'same': n
    pytest.param({"type": "Conv3d", "in_channels": 2, "out_channels": 2, "kernel_size": "2,3,1", "stride": 2},
                 {"type": "Conv3D", "filters": 2, "kernel_size": "2,3,1", "strides": 2, "padding": "valid"},
                 [5, 6, 4], 2, [2, 2, 2], id="3d-stride2"),  # floor(3/2)+1, floor(3/2)+1, floor(3/2)+1
]


def _urls(torch_words, keras_words, spatial, channels):
    sp = ",".join(map(str, spatial))
    return ("/explore?" + urlencode({"framework": "torch", **torch_words, "input_shape": f"1,{channels},{sp}"}),
            "/explore?" + urlencode({"framework": "keras", **keras_words, "input_shape": f"1,{sp},{channels}"}))


@pytest.mark.parametrize("torch_words, keras_words, spatial, channels, expected", LAYERS)
def test_both_vocabularies_give_the_same_layer(client, torch_words, keras_words, spatial, channels, expected):
    t_url, k_url = _urls(torch_words, keras_words, spatial, channels)
    t, k = get(client, t_url), get(client, k_url)
    assert alerts(t.text) == alerts(k.text) == []
    filters = keras_words["filters"]
    assert shape(t.text) == [1, filters, *expected]
    assert shape(k.text) == [1, *expected, filters]
    kernel = [int(v) for v in keras_words["kernel_size"].split(",")]
    params = filters * channels * math.prod(kernel) + filters
    assert shown_number(t.text, "Parameters") == shown_number(k.text, "Parameters") == params
    assert shown_number(t.text, "whole batch") == shown_number(k.text, "whole batch") \
        == math.prod(expected) * filters * channels * math.prod(kernel)
    assert f"<code>{[filters, channels, *kernel]}</code>" in t.text      # PyTorch weight (O, I, *k)
    assert f"<code>{[*kernel, channels, filters]}</code>" in k.text      # Keras kernel (*k, I, O)
    formulas = lambda text: re.search(r'<ul class="formulas">(.*?)</ul>', text, re.DOTALL).group(1)
    assert plain(formulas(t.text)) == plain(formulas(k.text))
    # and the labels speak each framework's words
    assert '<label for="filters">out_channels</label>' in t.text and '<label for="stride-0">stride' in t.text
    assert '<label for="filters">filters</label>' in k.text and '<label for="stride-0">strides' in k.text


@pytest.mark.parametrize("torch_words, keras_words, spatial, channels, expected", LAYERS)
def test_both_vocabularies_give_the_same_numbers(client, torch_words, keras_words, spatial, channels, expected):
    t_url, k_url = _urls(torch_words, keras_words, spatial, channels)
    t, k = get(client, t_url).text, get(client, k_url).text
    assert cells(t, "x0-") == cells(k, "x0-")  # the drawn channels-first padded input of filter 0
    assert cells(t, "y-") == cells(k, "y-")  # filter 0's output map, channels-first in both
    assert data(t)["texts"] == data(k)["texts"]  # every played step written the same


# ---------------------------------------------------------------- the numbers are right

@pytest.mark.parametrize("url, stride, dilation, padded, out", [
    (("/explore?framework=torch&type=Conv1d&in_channels=3&out_channels=2&kernel_size=4&stride=3&padding=2"
      "&input_shape=1,3,13&seed=5"), [3], [1], [17], [5]),  # floor((13 + 4 − 3 − 1) / 3) + 1 = 5
    (("/explore?framework=torch&type=Conv2d&in_channels=2&out_channels=3&kernel_size=3,2&stride=2&dilation=2"
      "&padding=1&input_shape=1,2,9,8&f=2&activation=relu"), [2, 2], [2, 2], [11, 10], [4, 4]),
    ("/explore?framework=keras&type=Conv2D&filters=2&kernel_size=2&strides=2&padding=same&input_shape=1,5,5,3&f=1",
     [2, 2], [1, 1], [6, 6], [3, 3]),  # ceil(5/2) = 3; total pad (3 − 1)·2 + 2 − 5 = 1
    ("/explore?framework=keras&type=Conv3D&filters=2&kernel_size=2,3,2&input_shape=1,3,4,5,3&seed=9",
     [1, 1, 1], [1, 1, 1], [3, 4, 5], [2, 2, 4]),
    ("/explore?framework=torch&type=Conv2d&in_channels=4&out_channels=4&groups=2&kernel_size=3&input_shape=1,4,5,5&f=3",
     [1, 1], [1, 1], [5, 5], [3, 3]),
])
def test_output_recomputed_from_the_shown_input_and_weights(client, url, stride, dilation, padded, out):
    r = get(client, url)
    f = int(parse_qs(urlsplit(url).query).get("f", ["0"])[0])
    kernel = [int(v) for v in parse_qs(urlsplit(url).query)["kernel_size"][0].split(",")]
    kernel = kernel * len(out) if len(kernel) == 1 else kernel
    d = drawn(r.text, kernel, padded)  # the drawn grids: input per channel, kernel per channel, the bias
    x, w = d["x"], d["w"]
    pre = conv_by_hand(x, w, d["b"], stride, dilation, out)
    y = np.maximum(pre, 0) if "activation=relu" in url else pre
    shown = np.array([num(t) for _, t in sorted(cells(r.text, "y-").items())]).reshape(out)
    assert np.abs(shown - y).max() <= 0.0051  # the grid shows two decimals
    assert len(data(r.text)["origins"]) == math.prod(out)  # one played window per output
    if "groups=2" in url:
        # filter 3 of 4 with 2 groups: the second group, input channels 2 and 3
        assert d["channels"] == [2, 3] and "reads input channels 2–3 (group 1 of 2)" in plain(r.text)
    assert f"The sliding window: filter {f}" in r.text


@pytest.mark.parametrize("mode, left, right", [
    ("zeros", lambda v: 0, lambda v: 0),
    ("reflect", lambda v: v[1], lambda v: v[-2]),
    ("replicate", lambda v: v[0], lambda v: v[-1]),
    ("circular", lambda v: v[-1], lambda v: v[0]),
])
def test_padding_is_drawn_distinct_and_filled_by_the_padding_mode(client, mode, left, right):
    r = get(client, "/explore?framework=torch&type=Conv1d&in_channels=1&out_channels=1&kernel_size=3&padding=1"
                    f"&padding_mode={mode}&input_shape=1,1,7&seed=3")
    shown = [num(t) for _, t in sorted(cells(r.text, "x0-").items())]
    assert len(shown) == 9  # 7 + 1 + 1
    inner = shown[1:-1]
    assert (shown[0], shown[-1]) == (left(inner), right(inner))
    classes = cell_classes(r.text, "x0-")
    assert [i for i, c in classes.items() if c and "pad" in c.split()] == [0, 8]
    assert shape(r.text) == [1, 1, 7]


def test_floor_leaves_unread_positions_visible(client):
    r = get(client, "/explore?framework=torch&type=Conv1d&in_channels=1&out_channels=1&kernel_size=3&stride=2"
                    "&input_shape=1,1,10")
    assert shape(r.text) == [1, 1, out_size(10, 3, s=2)] == [1, 1, 4]  # windows start at 0, 2, 4, 6
    formula = plain(re.search(r'<ul class="formulas">(.*?)</ul>', r.text, re.DOTALL).group(1))
    assert "floor(7 / 2) + 1" in formula and formula.count("= 4") == 1
    assert "input position 9 unread" in formula  # the last window covers 6..8
    classes = cell_classes(r.text, "x0-")
    assert [i for i, c in classes.items() if c == "unreached"] == [9]


def test_keras_causal_pads_before_only(client):
    r = get(client, "/explore?framework=keras&type=Conv1D&filters=2&kernel_size=3&dilation_rate=2&padding=causal"
                    "&input_shape=1,6,1")
    assert shape(r.text) == [1, 6, 2]
    assert "(padding 4 before, 0 after)" in r.text  # (3 − 1) · 2 = 4, all on the left
    classes = cell_classes(r.text, "x0-")
    assert [i for i, c in classes.items() if c == "pad"] == [0, 1, 2, 3]


# ---------------------------------------------------------------- ?step=n

STEP_CASES = [
    (("/explore?framework=torch&type=Conv2d&in_channels=3&out_channels=4&kernel_size=3,2&stride=2&padding=1"
      "&dilation=2&input_shape=1,3,9,8&activation=relu&f=2"), [4, 4], 11),  # unravel(11, (4, 4)) = (2, 3)
    ("/explore?framework=keras&type=Conv1D&filters=3&kernel_size=4&padding=same&input_shape=1,7,2&seed=4", [7], 6),
    ("/explore?framework=keras&type=Conv3D&filters=2&kernel_size=2&strides=2&input_shape=1,5,4,5,2&f=1", [2, 2, 2], 5),
    ("/explore?framework=torch&type=Conv1d&in_channels=12&out_channels=2&kernel_size=2&input_shape=1,12,5", [4], 3),
]


def parse_arithmetic(text: str):
    lines = re.findall(r"<li>(.*?)</li>", section(text, "arith-lines"), re.DOTALL)
    per_channel = []
    for li in lines:
        label, rest = plain(li).split(":", 1)
        terms_text, total = rest.rsplit("=", 1)
        terms = [tuple(num(v) for v in t.split("×")) for t in terms_text.split(" + ") if "×" in t]
        per_channel.append((label, terms, num(total)))
    return per_channel, plain(section(text, "arith-total"))


@pytest.mark.parametrize("url, out, step", STEP_CASES)
def test_step_renders_that_frame_on_the_server(client, url, out, step):
    r = get(client, f"{url}&step={step}")
    pos = [int(i) for i in np.unravel_index(step, out)]
    total_steps = math.prod(out)
    assert f"{step} of {total_steps}: output {pos}" in plain(section(r.text, "step-label"))
    assert re.search(rf'<input type="range" id="scrub" min="0" max="{total_steps - 1}" value="{step}"', r.text)
    f = int(parse_qs(urlsplit(url).query).get("f", ["0"])[0])
    assert f"Output {pos} of filter {f}, written out" in plain(r.text)

    q = parse_qs(urlsplit(url).query)
    kernel = [int(v) for v in q["kernel_size"][0].split(",")]
    kernel = kernel * len(out) if len(kernel) == 1 else kernel
    stride = [int(v) for v in q.get("stride", q.get("strides", ["1"]))[0].split(",")]
    stride = stride * len(out) if len(stride) == 1 else stride
    dilation = [int(v) for v in q.get("dilation", ["1"])[0].split(",")]
    dilation = dilation * len(out) if len(dilation) == 1 else dilation
    d = drawn(r.text, kernel, grid_shape(r.text, "input channel", len(out)))
    chans, x, w = d["channels"], d["x"], d["w"]
    per_channel, total_line = parse_arithmetic(r.text)
    sums = 0.0
    for i, c in enumerate(chans):
        label, terms, shown_sum = per_channel[i]
        assert label == f"channel {c}"
        taps = list(itertools.product(*(range(k) for k in kernel)))
        assert len(terms) == len(taps)
        for (xv, wv), t in zip(terms, taps):
            cell = tuple(p * s + ti * dl for p, s, ti, dl in zip(pos, stride, t, dilation))
            assert xv == x[(i, *cell)], (c, t, cell)
            assert wv == pytest.approx(round(float(w[(i, *t)]), 2), abs=1e-9)
        channel_sum = sum(a * b for a, b in terms)
        assert shown_sum == pytest.approx(channel_sum, abs=0.006)
        sums += channel_sum
    if len(per_channel) > len(chans):  # channels beyond the drawn eight arrive as one sum
        [(label, terms, rest)] = per_channel[len(chans):]
        assert label == f"channels {chans[-1] + 1}–11" and terms == []
        sums += rest
    bias = num(re.search(r"bias \(([^)]*)\)", total_line).group(1))
    assert bias == d["b"]
    values = [num(v) for v in re.findall(r"<strong>([^<]*)</strong>", section(r.text, "arith-total"))]
    assert values[0] == pytest.approx(sums + bias, abs=0.011)
    expected = max(values[0], 0) if "activation=relu" in url else values[0]
    assert values[-1] == pytest.approx(expected, abs=1e-9)
    # the arithmetic ends in the very number the output grid shows at that position
    assert num(cells(r.text, "y-")[step]) == values[-1]


def test_step_links_move_one_frame_and_wrap(client):
    url = "/explore?framework=torch&type=Conv1d&in_channels=1&out_channels=1&kernel_size=3&input_shape=1,1,6"
    first = get(client, url)
    hrefs = {i: html.unescape(h) for i, h in re.findall(r'<a class="btn" id="step-(back|forward)" href="([^"]+)"', first.text)}
    assert parse_qs(urlsplit(hrefs["back"]).query)["step"] == ["3"]  # 4 outputs: back from 0 wraps to 3
    assert parse_qs(urlsplit(hrefs["forward"]).query)["step"] == ["1"]
    last = get(client, url + "&step=3")
    hrefs = {i: html.unescape(h) for i, h in re.findall(r'<a class="btn" id="step-(back|forward)" href="([^"]+)"', last.text)}
    assert parse_qs(urlsplit(hrefs["back"]).query)["step"] == ["2"]
    assert "step" not in parse_qs(urlsplit(hrefs["forward"]).query)  # back to 0, the default


# ---------------------------------------------------------------- bounds

def u(framework="torch", **params) -> str:
    """An /explore URL; PyTorch Conv2d(2, 2, 3) on (1, 2, 6, 6) unless told otherwise."""
    words = {"torch": {"type": "Conv2d", "in_channels": 2, "out_channels": 2, "kernel_size": 3,
                       "input_shape": "1,2,6,6"},
             "keras": {"type": "Conv2D", "filters": 2, "kernel_size": 3, "input_shape": "1,6,6,2"},
             "form": {"type": "Conv2d", "channels": 2, "filters": 2, "kernel_size": 3, "size": "6,6"}}[framework]
    query = {"framework": "keras" if framework == "keras" else "torch", **words, **params}
    return "/explore?" + urlencode({k: v for k, v in query.items() if v is not None}, safe=",")


BASE = u()
C1 = {"type": "Conv1d"}
C3 = {"type": "Conv3d"}
BOUNDS = [  # (inside, outside, field named, value named): one step either side of each control's bound
    (u("form", batch=8), u("form", batch=9), "batch", "9"),
    (u("form", batch=1), u("form", batch=0), "batch", "0"),
    (u(input_shape="8,2,6,6"), u(input_shape="9,2,6,6"), "batch", "9"),
    (u("form", channels=512), u("form", channels=513), "channels", "513"),
    (u("form", channels=1), u("form", channels=0), "channels", "0"),
    (u(in_channels=512, input_shape="1,512,6,6"), u(in_channels=513, input_shape="1,513,6,6"), "channels", "513"),
    (u(out_channels=128), u(out_channels=129), "out_channels", "129"),
    (u(out_channels=1), u(out_channels=0), "out_channels", "0"),
    (u("keras", filters=128), u("keras", filters=129), "filters", "129"),
    (u(**C1, input_shape="1,2,6"), u(**C1, input_shape="1,2,0"), "size", "0"),
    (u(input_shape="1,2,1024,100"), u(input_shape="1,2,1025,100"), "size", "1025"),  # the engine's limits bound the rest
    (u(input_shape="1,2,1,1", kernel_size=1), u(input_shape="1,2,1,0", kernel_size=1), "size", "0"),
    (u(**C3, input_shape="1,2,256,20,20"), u(**C3, input_shape="1,2,20,257,20"), "size", "257"),
    (u(**C3, input_shape="1,2,1,1,1", kernel_size=1), u(**C3, input_shape="1,2,0,1,1", kernel_size=1), "size", "0"),
    (u("form", size="100,1024"), u("form", size="100,1025"), "size", "1025"),
    (u(kernel_size=7, input_shape="1,2,8,8"), u(kernel_size=8, input_shape="1,2,8,8"), "kernel", "8"),
    (u(kernel_size="3,7", input_shape="1,2,8,8"), u(kernel_size="3,8", input_shape="1,2,8,8"), "kernel", "8"),
    (u(kernel_size=1), u(kernel_size=0), "kernel", "0"),
    (u(**C3, input_shape="1,2,8,8,8", kernel_size=7), u(**C3, input_shape="1,2,8,8,8", kernel_size="7,7,8"),
     "kernel", "8"),
    (u(stride=4), u(stride=5), "stride", "5"),
    (u(stride=1), u(stride=0), "stride", "0"),
    (u("keras", strides=4), u("keras", strides=5), "stride", "5"),
    (u(dilation=4, input_shape="1,2,9,9"), u(dilation=5, input_shape="1,2,9,9"), "dilation", "5"),
    (u(dilation=1), u(dilation=0), "dilation", "0"),
    (u("keras", dilation_rate=4, input_shape="1,9,9,2"), u("keras", dilation_rate=5, input_shape="1,9,9,2"),
     "dilation", "5"),
    (u(groups=1), u(groups=0), "groups", "0"),
    (u(seed=9999), u(seed=10000), "seed", "10000"),
    (u(seed=0), u(seed=-1), "seed", "-1"),
    (u(out_channels=3, f=2), u(out_channels=3, f=3), "f", "3"),
    (u(f=0), u(f=-1), "f", "-1"),
    (u(step=0), u(step=-1), "step", "-1"),
]
SIZE_1D = (u(**C1, input_shape="1,2,16384"), u(**C1, input_shape="1,2,16385"), "size", "16385")
INSIDE = [pytest.param(*b[:2], *b[2:], id=f"{b[2]}-{n}") for n, b in enumerate(BOUNDS)] + [
    pytest.param(*SIZE_1D, id="size-1d-16384")]
OUTSIDE = [pytest.param(*b, id=f"{b[2]}={b[3]}-{n}") for n, b in enumerate([*BOUNDS, SIZE_1D])]


def names(message: str, field: str, value: str) -> bool:
    return bool(re.search(rf"\b{field}\b", message)) and bool(re.search(rf"(?<![\d-]){re.escape(value)}(?!\d)", message))


@pytest.mark.parametrize("inside, outside, field, value", INSIDE)
def test_value_just_inside_a_bound_works(client, inside, outside, field, value):
    r = client.get(inside)
    assert r.status_code == 200, alerts(r.text)
    assert alerts(r.text) == [] and shape(r.text) is not None


@pytest.mark.parametrize("inside, outside, field, value", OUTSIDE)
def test_value_just_outside_a_bound_is_named_in_the_fragment(client, inside, outside, field, value):
    r = client.get(outside, headers=HX)
    assert r.status_code == 200
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


STEP_BOUND = ("&step=15", "&step=16", "step", "16")  # 6×6 input, kernel 3: 4×4 = 16 steps, 0..15


def test_step_below_the_number_of_steps_works_and_the_next_is_named(client):
    inside, outside, field, value = STEP_BOUND
    r = get(client, BASE + inside)
    assert alerts(r.text) == [] and "15 of 16: output [3, 3]" in plain(r.text)
    r = get(client, BASE + outside, headers=HX)
    assert any(names(m, field, value) for m in alerts(r.text)), alerts(r.text)
    assert "0 of 16: output [0, 0]" in plain(section(r.text, "step-label"))


def test_step_past_the_last_is_422_for_a_full_page(client):
    r = client.get(BASE + STEP_BOUND[1])
    assert r.status_code == 422


@pytest.mark.parametrize("param", ["framework", "type", "batch", "channels", "in_channels", "size", "input_shape",
                                   "filters", "out_channels", "kernel_size", "stride", "strides", "dilation",
                                   "dilation_rate", "padding", "padding_mode", "groups", "bias", "use_bias",
                                   "activation", "weights", "seed", "f", "step", "dims"])
@pytest.mark.parametrize("value", ["", "x", "-1", "1e9", "99999999999999999999", "3,3,3,3", "nan", "0.5", "１"])
def test_no_value_gives_a_500(client, param, value):
    for headers in ({}, HX):
        r = client.get("/explore", params={param: value}, headers=headers)
        assert r.status_code in (200, 422), (param, value, r.status_code)


# ---------------------------------------------------------------- invalid layers, in place

@pytest.mark.parametrize("url, words", [
    ("/explore?type=Conv2d&kernel_size=7&input_shape=1,2,5,5", ["the window does not fit", "5", "7"]),
    ("/explore?type=Conv2d&kernel_size=3&dilation=3&input_shape=1,2,6,6", ["the window does not fit", "6", "7"]),
    ("/explore?type=Conv2d&kernel_size=7&padding=1&input_shape=1,2,4,4", ["the window does not fit", "6", "7"]),
    ("/explore?framework=keras&type=Conv1D&filters=2&kernel_size=5&dilation_rate=2&input_shape=1,8,1",
     ["does not fit", "8", "9"]),  # window 2·(5 − 1) + 1 = 9 > 8
    ("/explore?type=Conv2d&in_channels=6&out_channels=6&groups=4&kernel_size=3&input_shape=1,6,6,6",
     ["groups", "6", "4", "[1, 2, 3, 6]"]),
    ("/explore?type=Conv2d&in_channels=6&out_channels=4&groups=3&kernel_size=3&input_shape=1,6,6,6",
     ["groups", "4", "3", "[1, 2]"]),  # groups must divide both 6 and 4
    pytest.param("/explore?framework=keras&type=Conv2D&filters=12&groups=4&kernel_size=3&input_shape=1,6,6,6",
                 ["groups", "6", "4", "[1, 2, 3, 6]"], id="keras-groups"),
    ("/explore?type=Conv2d&padding=same&stride=2&kernel_size=3&input_shape=1,2,6,6", ["'same'", "stride", "2"]),
    ("/explore?framework=keras&type=Conv2D&filters=2&kernel_size=3&padding=causal&input_shape=1,6,6,2",
     ["causal", "Conv1D"]),
])
def test_invalid_layer_is_explained_in_place(client, url, words):
    for headers in ({}, HX):
        r = get(client, url, headers=headers)  # 200: an answer, not an error
        found = [m for m in alerts(r.text) if "cannot run" in m]
        assert len(found) == 1, alerts(r.text)
        for w in words:
            assert re.search(rf"(?<![\w.]){re.escape(w)}(?![\w])", found[0]), (w, found[0])
        assert shape(r.text) is None and 'id="explore-data"' not in r.text
    assert r.text.strip().startswith('<div id="live"')


def test_in_channels_that_disagree_with_the_input_are_explained(client):
    r = client.get(u(in_channels=3))  # input_shape 1,2,6,6 has 2 channels
    found = alerts(r.text)
    assert any("in_channels" in m and re.search(r"\b3\b", m) and re.search(r"\b2\b", m) for m in found), found


# ---------------------------------------------------------------- escaping, focusable cells

XSS = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.mark.parametrize("param", ["framework", "type", "batch", "channels", "in_channels", "size", "input_shape",
                                   "filters", "out_channels", "kernel_size", "stride", "strides", "dilation",
                                   "dilation_rate", "padding", "padding_mode", "groups", "bias", "use_bias",
                                   "activation", "weights", "seed", "f", "step"])
def test_query_values_are_escaped(client, param):
    for headers in ({}, HX):
        r = client.get("/explore", params={param: XSS}, headers=headers)
        assert r.status_code in (200, 422)
        assert "<script>alert" not in r.text and "<img src=x" not in r.text and "'><" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text  # the value is shown, as text
        assert "<" not in r.headers["hx-replace-url"] and "script" not in r.headers["hx-replace-url"]


def test_output_cells_are_focusable(client):
    r = get(client, BASE)
    tds = re.findall(r'<td id="y-\d+"[^>]*>', r.text)
    assert len(tds) == 16 and all('tabindex="0"' in td for td in tds), tds[:2]


@pytest.mark.parametrize("stride, dilation, warned", [("1,2", "2,1", True), ("2", "2", True), ("2", "1", False),
                                                      ("1", "3", False)])
def test_the_keras_code_says_when_keras_refuses_the_layer(client, stride, dilation, warned):
    """PyTorch runs stride 2 with dilation 2; Keras raises a ValueError: its code panel must say so."""
    r = get(client, f"/explore?framework=torch&type=Conv2d&in_channels=1&out_channels=1&kernel_size=3&stride={stride}"
                    f"&dilation={dilation}&input_shape=1,1,12,12")
    assert ("Keras refuses strides &gt; 1 together with dilation_rate &gt; 1" in r.text) == warned


def test_a_small_layer_renders_on_the_event_loop_and_a_larger_one_in_the_thread_pool(client, monkeypatch):
    """app/templating.py: cached_view asks the route (explore.cheap) whether a request is a few ms of work: a small
    numbers-level layer skips the hop to a thread; a picture-level layer, or one past CHEAP_MACS, renders there."""
    import app.templating as templating
    from app.routes import explore

    pooled = []
    real = templating.run_in_threadpool

    async def spy(route, request, **params):
        pooled.append(request.url.query)
        return await real(route, request, **params)

    monkeypatch.setattr(templating, "run_in_threadpool", spy)
    templating.CACHE.clear()
    small = "seed=8642"  # the default layer: 576 multiply-adds, every number drawn
    wide = "type=Conv2d&in_channels=8&out_channels=4&kernel_size=3&input_shape=1,8,9,9&seed=8642"  # 8,064, drawn
    photo = "type=Conv2d&in_channels=3&out_channels=16&kernel_size=3&padding=1&input_shape=1,3,32,32&seed=8642"
    for query, threaded in ((small, False), (wide, True), (photo, True)):
        for headers in ({}, {"HX-Request": "true"}):
            pooled.clear()
            r = client.get(f"/explore?{query}", headers=headers)
            assert r.status_code == 200 and 'data-part="output"' in r.text
            assert pooled == ([query] if threaded else []), (query, headers)
    facts = explore.layer_facts(explore.read_state(QueryParams(wide))[0])
    assert facts["level"] == "numbers" and facts["macs"] > explore.CHEAP_MACS
