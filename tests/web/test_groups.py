"""/groups over HTTP: whole page or htmx fragment, the canonical URL, which inputs feed which outputs,
weight shapes, parameters and MACs for every valid groups value, the depthwise-separable stages
against the standard conv (Q3), refused groups explained in place, every control's bounds, escaping.

Expected numbers come from the frameworks' formulas written out here, or from tests/data/questions.json
(recorded with PyTorch and Keras); never from the page's own code.
"""
import doctest
import html
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.web.page import get, plain, shape

QUESTIONS = json.loads((Path(__file__).resolve().parents[1] / "data" / "questions.json").read_text())
HX = {"HX-Request": "true"}
SMALL = "/groups?framework=torch&type=Conv2d&in_channels=4&out_channels=8&kernel_size=3&padding=1&groups=2" \
        "&input_shape=1,4,8,8"


# ---------------------------------------------------------------- reading the page

def alerts(text: str) -> list[str]:
    return [re.sub(r" ([,.])", r"\1", plain(a)) for a in re.findall(r'role="alert">(.*?)</div>', text, re.DOTALL)]


def number(text: str) -> int:
    return int(plain(text).replace(",", ""))


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def drawn_pairs(text: str) -> list[list[tuple[int, int]]]:
    """The graph's edges as (input channel, output channel) pairs per stage, read from the SVG geometry:
    each path segment 'Mx1 y1Lx2 y2' joins the nodes (circles) at those heights in neighbouring columns."""
    svg = re.search(r'<svg class="graph".*?</svg>', text, re.DOTALL).group(0)
    columns = []
    for body in re.findall(r'<g class="nodes" data-column="\d+">(.*?)</g>', svg, re.DOTALL):
        columns.append({float(cy): int(c) for cy, c in re.findall(r'<circle [^>]*cy="([\d.]+)"[^>]*data-channel="(\d+)"', body)})
    counts = [int(n) for n in re.findall(r'class="col-title"[^>]*>[^<]*\((\d+)\)</text>', svg)]
    top, span = (float(v) for v in re.search(r'<g class="edges" data-top="([\d.]+)" data-span="([\d.]+)"', svg).groups())
    centres = [[top + (i + 0.5) * span / n for i in range(n)] for n in counts]  # where channel i sits in its column
    stages = [[] for _ in counts[1:]]
    for kind, stage, d in re.findall(r'<path class="edge( band)?[^"]*"[^>]*data-layer="(\d+)"[^>]*d="([^"]*)"', svg):
        s = int(stage)
        if kind:  # a band "Mx0 aLx1 cLx1 dLx0 bZ": every input between a and b joins every output between c and d
            a, c, d_, b = (float(v) for v in re.findall(r"[ML][\d.]+ ([\d.]+)", d))
            ins = [i for i, y in enumerate(centres[s]) if a < y < b]
            outs = [o for o, y in enumerate(centres[s + 1]) if c < y < d_]
            stages[s] += [(i, o) for o in outs for i in ins]
            continue
        for y1, y2 in re.findall(r"M[\d.]+ ([\d.]+)L[\d.]+ ([\d.]+)", d):
            stages[s].append((columns[s][float(y1)], columns[s + 1][float(y2)]))
    return stages


def expected_pairs(c_in: int, c_out: int, groups: int) -> set[tuple[int, int]]:
    """Output o reads input c exactly when both sit in the same block of consecutive channels."""
    return {(c, o) for o in range(c_out) for c in range(c_in) if c // (c_in // groups) == o // (c_out // groups)}


def table_rows(text: str, table_id: str, key: str) -> dict[str, list[str]]:
    body = re.search(rf'<table[^>]*id="{table_id}".*?</table>', text, re.DOTALL).group(0)
    rows = {}
    for value, row in re.findall(rf'<tr data-{key}="([^"]+)"[^>]*>(.*?)</tr>', body, re.DOTALL):
        rows[value] = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)
    return rows


def current_rows(text: str, table_id: str) -> list[str]:
    body = re.search(rf'<table[^>]*id="{table_id}".*?</table>', text, re.DOTALL).group(0)
    return re.findall(r'<tr data-\w+="([^"]+)" class="current"', body)


def select_options(text: str, select_id: str) -> list[tuple[str, bool, str]]:
    body = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', text, re.DOTALL).group(1)
    return [(v, bool(sel), plain(t)) for v, sel, t in re.findall(r'<option value="([^"]*)"( selected)?>(.*?)</option>', body)]


def out_size(n, k, p):
    """PyTorch's formula; 'same' (stride 1) keeps n."""
    return n if p == "same" else n + 2 * int(p if p != "valid" else 0) - k + 1


class _Form(HTMLParser):
    """The (name, value) pairs #groups-form submits without JavaScript, and its controls' attributes."""

    def __init__(self):
        super().__init__()
        self.fields, self.controls, self.inside, self.select, self.chosen = [], {}, False, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "groups-form":
            self.inside = True
        if not self.inside:
            return
        if tag in ("input", "select") and a.get("name"):
            self.controls[a["name"]] = a
        if tag == "input" and a.get("name"):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.chosen = a["name"], None
        elif tag == "option" and self.select and (self.chosen is None or "selected" in a):
            self.chosen = a["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            self.fields.append((self.select, self.chosen))
            self.select = None


def form(text: str) -> _Form:
    f = _Form()
    f.feed(text)
    return f


# ---------------------------------------------------------------- full page, fragment, URL

def test_full_page_and_fragment_share_a_url(client):
    full = get(client, SMALL)
    frag = get(client, SMALL, headers=HX)
    assert "HX-Request" in full.headers["vary"] and "HX-Request" in frag.headers["vary"]
    assert "<html" in full.text and 'id="groups-form"' in full.text
    assert frag.text.strip().startswith('<div id="live"')
    assert "<html" not in frag.text and 'id="groups-form"' not in frag.text and "<nav" not in frag.text
    assert shape(full.text) == shape(frag.text) == [1, 8, 8, 8]  # padding 1 keeps 8×8
    restore = get(client, SMALL, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text and 'id="groups-form"' in restore.text and shape(restore.text) == [1, 8, 8, 8]


def test_fragment_refreshes_the_groups_choices_outside_the_live_part(client):
    """The groups select sits in the form (not swapped): the fragment replaces it out of band, so its
    options always list the divisors of gcd(in_channels, out_channels)."""
    frag = get(client, "/groups?framework=torch&type=Conv2d&in_channels=6&out_channels=9&groups=3&input_shape=1,6,8,8",
               headers=HX)
    assert re.search(r'<div class="knob" id="groups-knob" hx-swap-oob="true">\s*<label for="groups">groups</label>\s*'
                     r'<select id="groups" name="groups"', frag.text)
    assert [(v, s) for v, s, _ in select_options(frag.text, "groups")] == [("1", False), ("3", True)]
    full = get(client, "/groups?framework=torch&type=Conv2d&in_channels=6&out_channels=9&groups=3&input_shape=1,6,8,8")
    assert full.text.count('id="groups"') == 1 and "hx-swap-oob" not in full.text
    assert "hx-swap-oob" not in get(client, "/groups?type=separable", headers=HX).text  # no groups select there
    assert [v for v, _, _ in select_options(full.text, "groups")] == ["1", "3"]


def test_replace_url_is_the_canonical_url_in_each_frameworks_words(client):
    sent = "type=Conv2d&batch=2&channels=6&height=7&width=9&filters=12&kernel_size=5&padding=2&groups=3&bias=false"
    r = get(client, "/groups?framework=torch&" + sent, headers=HX)
    url = r.headers["hx-replace-url"]
    assert urlsplit(url).path == "/groups"
    assert query(url) == {"framework": "torch", "type": "Conv2d", "in_channels": "6", "out_channels": "12",
                          "kernel_size": "5", "padding": "2", "groups": "3", "bias": "false", "input_shape": "2,6,7,9"}
    keras = get(client, "/groups?framework=keras&" + sent.replace("Conv2d", "Conv2D").replace("padding=2", "padding=same"),
                headers=HX).headers["hx-replace-url"]
    assert query(keras) == {"framework": "keras", "type": "Conv2D", "filters": "12", "kernel_size": "5",
                            "padding": "same", "groups": "3", "use_bias": "false", "input_shape": "2,7,9,6"}
    separable = get(client, "/groups?framework=torch&type=separable&channels=6&filters=12&depth_multiplier=2",
                    headers=HX).headers["hx-replace-url"]
    q = query(separable)
    assert q["type"] == "separable" and q["depth_multiplier"] == "2" and "groups" not in q
    # the canonical URL is a fixed point and shows the same layer
    for u in (url, keras, separable):
        again = get(client, u)
        assert again.headers["hx-replace-url"] == u and alerts(again.text) == []
    assert shape(get(client, url).text) == [2, 12, 7, 9]   # 7 + 4 − 5 + 1 = 7, 9 + 4 − 5 + 1 = 9
    assert shape(get(client, keras).text) == [2, 7, 9, 12]  # Keras 'same', channels last


@pytest.mark.parametrize("url", [
    SMALL,
    "/groups?framework=keras&type=Conv2D&filters=6&kernel_size=2&padding=same&groups=3&input_shape=3,5,6,9",
    "/groups?framework=keras&type=SeparableConv2D&filters=5&kernel_size=3&depth_multiplier=2&input_shape=1,8,8,3",
    ("/groups?framework=torch&type=separable&in_channels=3&out_channels=4&kernel_size=3&padding=same&use_bias=false"
    "&input_shape=1,3,6,6"),
])
def test_the_form_alone_reproduces_the_page(client, url):
    """Without JavaScript the form is a plain GET: submitting it as rendered shows the same state."""
    page = get(client, url)
    fields = form(page.text).fields
    again = get(client, "/groups?" + urlencode(fields))
    assert again.headers["hx-replace-url"] == page.headers["hx-replace-url"]
    assert shape(again.text) == shape(page.text) is not None


def test_framework_and_mode_links_keep_the_sizes(client):
    page = get(client, "/groups?framework=torch&type=Conv2d&in_channels=6&out_channels=12&kernel_size=3&padding=1"
                       "&groups=3&input_shape=2,6,5,5")
    links = {plain(label): html.unescape(href) for href, label in
             re.findall(r'<a href="(/groups\?[^"]+)"\s*(?:aria-current="page")?>([^<]+)</a>', page.text)}
    keras = query(links["Keras"])
    assert keras == {"framework": "keras", "type": "Conv2D", "filters": "12", "kernel_size": "3", "padding": "same",
                     "groups": "3", "use_bias": "true", "input_shape": "2,5,5,6"}  # padding 1 at k3 is 'same'
    separable = query(links["Depthwise-separable"])
    assert separable["type"] == "separable" and separable["in_channels"] == "6" and separable["out_channels"] == "12"
    assert shape(get(client, links["Keras"]).text) == [2, 5, 5, 12]


# ---------------------------------------------------------------- connectivity

@pytest.mark.parametrize("c_in, c_out, groups", [(4, 8, 1), (4, 8, 2), (4, 8, 4), (6, 9, 3), (12, 12, 4),
                                                  (32, 32, 32), (64, 128, 1), (64, 128, 16), (1, 1, 1),
                                                  (256, 512, 1), (512, 1024, 512), (3, 1024, 1), (200, 400, 8)])
def test_graph_draws_exactly_the_pairs_a_weight_connects(client, c_in, c_out, groups):
    r = get(client, f"/groups?framework=torch&type=Conv2d&in_channels={c_in}&out_channels={c_out}&groups={groups}"
                    f"&kernel_size=1&input_shape=1,{c_in},2,2")
    [pairs] = drawn_pairs(r.text)
    assert len(pairs) == c_out * c_in // groups  # one edge per weight slice: C_out · C_in/groups
    assert set(pairs) == expected_pairs(c_in, c_out, groups) and len(set(pairs)) == len(pairs)
    assert f'data-edge-count="{c_out * c_in // groups}"' in r.text
    reads = c_in // groups
    sentence = plain(re.search(r'<p class="reads">(.*?)</p>', r.text, re.DOTALL).group(1))
    assert f"Each output channel reads in_channels/groups = {c_in}/{groups} = {reads} input channel" in sentence
    label = html.unescape(re.search(r'<svg class="graph"[^>]*aria-label="([^"]*)"', r.text).group(1))
    assert f"{c_in} input channels" in label and f"{c_out} output channels" in label
    assert f"{c_out * c_in // groups} edges" in label and 'role="img"' in r.text
    # the matrix: one coloured block per group, of (C_out/G) × (C_in/G) cells, together 1/G of the whole
    matrix = re.search(r'<svg class="matrix".*?</svg>', r.text, re.DOTALL).group(0)
    blocks = re.findall(r'<rect class="block[^"]*" x="[^"]*" y="[^"]*" width="([^"]*)" height="([^"]*)"', matrix)
    frame = re.search(r'<rect class="matrix-frame" x="0" y="0" width="([^"]*)" height="([^"]*)"', matrix)
    assert len(blocks) == groups
    area = sum(float(w) * float(h) for w, h in blocks)
    assert area == pytest.approx(float(frame.group(1)) * float(frame.group(2)) / groups, rel=1e-3)


def test_group_lines_name_each_groups_channels(client):
    r = get(client, SMALL)
    lines = [plain(li) for li in re.findall(r"<li>(.*?)</li>",
                                             re.search(r'<ul class="group-lines">(.*?)</ul>', r.text, re.DOTALL).group(1))]
    assert lines == ["group 0: input channels 0–1 → output channels 0–3",
                     "group 1: input channels 2–3 → output channels 4–7"]


# ---------------------------------------------------------------- weights, parameters, MACs

CASES = [  # framework, C_in, C_out, k, padding, spatial, batch, bias
    ("torch", 4, 8, 3, "1", (8, 8), 1, True),
    ("torch", 12, 18, 5, "0", (9, 7), 2, False),
    ("keras", 8, 16, 3, "valid", (6, 10), 3, True),
    ("keras", 24, 36, 2, "same", (5, 5), 1, True),
    ("torch", 64, 128, 7, "3", (16, 16), 1, True),
]


def grouped_url(framework, c_in, c_out, k, padding, spatial, batch, bias, groups):
    h, w = spatial
    if framework == "torch":
        words = {"type": "Conv2d", "in_channels": c_in, "out_channels": c_out, "bias": str(bias).lower(),
                 "input_shape": f"{batch},{c_in},{h},{w}"}
    else:
        words = {"type": "Conv2D", "filters": c_out, "use_bias": str(bias).lower(), "input_shape": f"{batch},{h},{w},{c_in}"}
    return "/groups?" + urlencode({"framework": framework, **words, "kernel_size": k, "padding": padding,
                                   "groups": groups}, safe=",")


@pytest.mark.parametrize("framework, c_in, c_out, k, padding, spatial, batch, bias", CASES)
def test_every_valid_groups_value_has_its_weight_shape_params_and_macs(client, framework, c_in, c_out, k, padding,
                                                                       spatial, batch, bias):
    valid = [g for g in range(1, c_in + 1) if c_in % g == 0 and c_out % g == 0]
    h_out, w_out = (out_size(n, k, padding) for n in spatial)
    for shown in valid:
        r = get(client, grouped_url(framework, c_in, c_out, k, padding, spatial, batch, bias, shown))
        rows = table_rows(r.text, "groups-table", "groups")
        assert list(rows) == [str(g) for g in valid]
        assert current_rows(r.text, "groups-table") == [str(shown)]
        for g in valid:
            _name, reads, weight, params, macs, share = rows[str(g)]
            per_group = c_in // g
            expected_weight = [c_out, per_group, k, k] if framework == "torch" else [k, k, per_group, c_out]
            assert int(plain(reads)) == per_group
            assert plain(weight) == str(expected_weight)
            assert number(params) == c_out * per_group * k * k + (c_out if bias else 0)
            assert number(macs) == batch * h_out * w_out * c_out * per_group * k * k
            assert plain(share) == ("1" if g == 1 else f"1/{g}")
        # the shown layer: weight (and bias) shapes in the framework's layout, params and MACs
        per_group = c_in // shown
        weight = [c_out, per_group, k, k] if framework == "torch" else [k, k, per_group, c_out]
        assert f'<code class="weight-shape">{weight}</code>' in r.text
        assert (f'<code class="weight-shape">[{c_out}]</code>' in r.text) == bias
        assert number(re.search(r'<strong id="params">(.*?)</strong>', r.text).group(1)) == \
            c_out * per_group * k * k + (c_out if bias else 0)
        assert number(re.search(r'<strong id="macs">(.*?)</strong>', r.text).group(1)) == \
            batch * h_out * w_out * c_out * per_group * k * k
        out = [batch, c_out, h_out, w_out] if framework == "torch" else [batch, h_out, w_out, c_out]
        assert shape(r.text) == out


def test_depthwise_needs_out_channels_a_multiple_of_in_channels(client):
    r = get(client, "/groups?framework=torch&type=Conv2d&in_channels=6&out_channels=9&groups=3&input_shape=1,6,8,8")
    assert list(table_rows(r.text, "groups-table", "groups")) == ["1", "3"]
    assert "Depthwise (groups = in_channels = 6) needs out_channels to be a multiple of 6" in plain(r.text)
    r = get(client, "/groups?framework=torch&type=Conv2d&in_channels=6&out_channels=12&groups=6&input_shape=1,6,8,8")
    assert list(table_rows(r.text, "groups-table", "groups")) == ["1", "2", "3", "6"]
    assert "(depthwise)" in plain(r.text)


# ---------------------------------------------------------------- Q3: depthwise-separable

def recorded(framework: str, note_start: str) -> dict:
    [case] = [c for c in QUESTIONS["layers"] if c["question"] == "Q3" and c["framework"] == framework
              and c["note"].startswith(note_start)]
    return case


def preset(client, start: str) -> str:
    nav = re.search(r'<nav class="presets"[^>]*>(.*?)</nav>', get(client, "/groups").text, re.DOTALL).group(1)
    [href] = [html.unescape(h) for h, label in re.findall(r'<a href="([^"]+)">(.*?)</a>', nav)
              if plain(label).startswith(start)]
    return href


def stage_rows(text: str) -> dict[str, dict]:
    out = {}
    for name, cells in table_rows(text, "stages-table", "layer").items():
        _, weights, output, params, macs = cells
        out[name] = {"weights": [json.loads(s) for s in re.findall(r'<code class="weight-shape">(.*?)</code>', weights)],
                     "output": json.loads(plain(output)), "params": number(params), "macs": number(macs)}
    return out


def test_q3_pytorch_stages_match_the_recorded_layers(client):
    r = get(client, preset(client, "Q3 · PyTorch"))
    assert alerts(r.text) == []
    stages = stage_rows(r.text)
    depthwise, pointwise, standard = recorded("torch", "depthwise"), recorded("torch", "pointwise"), recorded("torch", "standard")
    assert stages["depthwise"]["params"] == depthwise["params"] == 320
    assert stages["depthwise"]["weights"] == depthwise["weight_shapes"] == [[32, 1, 3, 3], [32]]
    assert stages["pointwise"]["params"] == pointwise["params"] == 1056
    assert stages["pointwise"]["weights"] == pointwise["weight_shapes"] == [[32, 32, 1, 1], [32]]
    assert stages["standard"]["params"] == standard["params"] == 9248
    assert stages["standard"]["weights"] == standard["weight_shapes"]
    assert stages["separable"]["params"] == 320 + 1056  # two PyTorch convs: two biases
    batch, h, w = 10, 16, 16  # the preset's input (the recorded 64×64 only changes MACs, not parameters)
    assert stages["depthwise"]["output"] == stages["pointwise"]["output"] == [batch, 32, h, w]
    assert "intermediate [10, 32, 16, 16]" in plain(r.text)


def test_q3_keras_separable_matches_the_recorded_layer(client):
    r = get(client, preset(client, "Q3 · SeparableConv2D"))
    assert alerts(r.text) == []
    case = recorded("keras", "both stages")
    stages = stage_rows(r.text)
    assert stages["separable"]["params"] == case["params"] == 1344
    assert stages["depthwise"]["weights"] + stages["pointwise"]["weights"] == case["weight_shapes"]
    assert stages["depthwise"]["params"] == 3 * 3 * 32  # no bias on the depthwise stage in Keras
    assert stages["pointwise"]["params"] == 1056
    assert stages["standard"]["params"] == recorded("torch", "standard")["params"] == 9248
    assert shape(r.text) == [10, 16, 16, 32]


@pytest.mark.parametrize("framework, c_in, c_out, k, m, padding", [
    ("keras", 32, 32, 3, 1, "same"), ("torch", 32, 64, 3, 1, "1"), ("torch", 16, 128, 5, 1, "0"),
    ("keras", 8, 20, 7, 2, "valid"), ("torch", 3, 7, 1, 4, "same"),
])
def test_separable_macs_and_the_ratio_against_the_standard_conv(client, framework, c_in, c_out, k, m, padding):
    batch, h, w = 2, 12, 10
    if framework == "torch":
        words = {"type": "separable", "in_channels": c_in, "out_channels": c_out, "input_shape": f"{batch},{c_in},{h},{w}"}
    else:
        words = {"type": "SeparableConv2D", "filters": c_out, "input_shape": f"{batch},{h},{w},{c_in}"}
    r = get(client, "/groups?" + urlencode({"framework": framework, **words, "kernel_size": k, "padding": padding,
                                            "depth_multiplier": m}, safe=","))
    stages = stage_rows(r.text)
    positions = batch * out_size(h, k, padding) * out_size(w, k, padding)
    assert stages["depthwise"]["macs"] == positions * c_in * m * k * k       # one k×k filter per intermediate channel
    assert stages["pointwise"]["macs"] == positions * c_in * m * c_out       # a C_in·m dot product per output value
    assert stages["standard"]["macs"] == positions * k * k * c_in * c_out
    assert stages["separable"]["macs"] == positions * (k * k * c_in * m + c_in * m * c_out)
    bias = c_out + (c_in * m if framework == "torch" else 0)
    assert stages["separable"]["params"] == k * k * c_in * m + c_in * m * c_out + bias
    depthwise = [c_in * m, 1, k, k] if framework == "torch" else [k, k, c_in, m]
    pointwise = [c_out, c_in * m, 1, 1] if framework == "torch" else [1, 1, c_in * m, c_out]
    assert stages["depthwise"]["weights"][0] == depthwise and stages["pointwise"]["weights"][0] == pointwise
    ratio = re.search(r'<p class="math" id="ratio">(.*?)</p>', r.text, re.DOTALL).group(1)
    shown = float(re.search(r"<strong>([\d.]+)</strong>", ratio).group(1))
    assert shown == pytest.approx(m * (1 / c_out + 1 / k ** 2), abs=5e-4)
    assert shown == pytest.approx(stages["separable"]["macs"] / stages["standard"]["macs"], abs=5e-4)
    formula = f"{m}·(1/{c_out} + 1/{k}²)" if m > 1 else f"1/{c_out} + 1/{k}²"
    assert formula in plain(ratio)
    [depthwise_edges, pointwise_edges] = drawn_pairs(r.text)
    assert sorted(depthwise_edges) == [(c, c * m + j) for c in range(c_in) for j in range(m)]
    assert set(pointwise_edges) == {(i, o) for i in range(c_in * m) for o in range(c_out)}


def test_q3_ratio_with_the_users_numbers(client):
    r = get(client, preset(client, "Q3 · SeparableConv2D"))
    ratio = plain(re.search(r'<p class="math" id="ratio">(.*?)</p>', r.text, re.DOTALL).group(1))
    assert "1/32 + 1/3² = 0.03125 + 0.1111 = 0.1424" in ratio  # 1/32 + 1/9 = 0.14236…


# ---------------------------------------------------------------- refused groups

@pytest.mark.parametrize("url, valid", [
    ("/groups?framework=torch&type=Conv2d&in_channels=6&out_channels=8&groups=4&input_shape=1,6,8,8", [1, 2]),
    ("/groups?framework=torch&type=Conv2d&in_channels=8&out_channels=12&groups=8&input_shape=1,8,8,8", [1, 2, 4]),
    ("/groups?framework=keras&type=Conv2D&filters=6&groups=4&input_shape=1,8,8,8", [1, 2]),
    ("/groups?framework=keras&type=Conv2D&filters=8&groups=3&input_shape=1,8,8,6", [1, 2]),
])
def test_groups_that_do_not_divide_both_are_explained_with_the_valid_choices(client, url, valid):
    for headers in ({}, HX):
        r = get(client, url, headers=headers)  # an answer, not a refusal of the request: 200 both ways
        [alert] = alerts(r.text)
        assert "divisible" in alert and "groups" in alert
        assert f"Valid choices: {', '.join(f'groups={g}' for g in valid)}." in alert
        links = re.findall(r'<a href="(/groups\?[^"]+)">groups=(\d+)</a>', r.text)
        assert [int(g) for _, g in links] == valid
        for href, g in links:
            assert query(html.unescape(href))["groups"] == g
        assert shape(r.text) is None and 'class="graph"' not in r.text
        assert list(table_rows(r.text, "groups-table", "groups")) == [str(g) for g in valid]
    options = select_options(r.text, "groups")  # the fragment's out-of-band choices: valid ones, the refused one flagged
    refused = query(url)["groups"]
    assert [v for v, _, _ in options] == [*map(str, valid), refused]
    assert options[-1] == (refused, True, f"{refused} (does not divide both)")


def test_a_window_that_does_not_fit_is_explained(client):
    r = get(client, "/groups?framework=torch&type=Conv2d&in_channels=4&out_channels=4&kernel_size=7&padding=0"
                    "&groups=1&input_shape=1,4,5,5", headers=HX)
    [alert] = alerts(r.text)
    assert "does not fit" in alert and "kernel_size" in alert
    assert 'id="groups-table"' not in r.text


# ---------------------------------------------------------------- bounds

def u(kind="torch", **params) -> str:
    """A /groups URL; torch Conv2d(4, 8, 3, groups=2) on (1, 4, 8, 8) unless told otherwise."""
    words = {"torch": {"type": "Conv2d", "in_channels": 4, "out_channels": 8, "groups": 2, "input_shape": "1,4,8,8"},
             "keras": {"type": "Conv2D", "filters": 8, "groups": 2, "input_shape": "1,8,8,4"},
             "form": {"type": "Conv2d", "channels": 4, "filters": 8, "groups": 2, "height": 8, "width": 8},
             "sep": {"type": "separable", "in_channels": 4, "out_channels": 8, "input_shape": "1,4,8,8"}}[kind]
    q = {"framework": "keras" if kind == "keras" else "torch", **words, "kernel_size": 3, **params}
    return "/groups?" + urlencode({k: v for k, v in q.items() if v is not None}, safe=",")


BOUNDS = [  # (inside, outside, field named, value named): one step either side of each control's bound
    (u("form", batch=16), u("form", batch=17), "batch", "17"),
    (u("form", batch=1), u("form", batch=0), "batch", "0"),
    (u(input_shape="16,4,8,8"), u(input_shape="17,4,8,8"), "batch", "17"),
    (u("form", channels=512, groups=1), u("form", channels=513, groups=1), "channels", "513"),
    (u("form", channels=1, groups=1), u("form", channels=0, groups=1), "channels", "0"),
    (u(in_channels=512, input_shape="1,512,8,8"), u(in_channels=513, input_shape="1,513,8,8"), "channels", "513"),
    (u("keras", input_shape="1,8,8,512"), u("keras", input_shape="1,8,8,513"), "channels", "513"),
    (u(out_channels=1024), u(out_channels=1025), "out_channels", "1025"),
    (u(out_channels=2), u(out_channels=0), "out_channels", "0"),
    (u("keras", filters=1024), u("keras", filters=1025), "filters", "1025"),
    (u("form", height=1024, width=1024), u("form", height=1025), "height", "1025"),
    (u("form", width=1, height=1, kernel_size=1), u("form", width=0), "width", "0"),
    (u(input_shape="1,4,1024,1024"), u(input_shape="1,4,1024,1025"), "width", "1025"),
    (u("keras", input_shape="1,1024,1024,4"), u("keras", input_shape="1,1025,1024,4"), "height", "1025"),
    (u(kernel_size=7), u(kernel_size=8), "kernel_size", "8"),
    (u(kernel_size=1), u(kernel_size=0), "kernel_size", "0"),
    (u(kernel_size="7,7"), u(kernel_size="8,8"), "kernel_size", "8"),
    (u(groups=1), u(groups=0), "groups", "0"),
    (u(in_channels=512, out_channels=512, groups=512, input_shape="1,512,8,8"),
     u(in_channels=512, out_channels=512, groups=513, input_shape="1,512,8,8"), "groups", "513"),
    (u("sep", depth_multiplier=4), u("sep", depth_multiplier=5), "depth_multiplier", "5"),
    (u("sep", depth_multiplier=1), u("sep", depth_multiplier=0), "depth_multiplier", "0"),
    (u(padding=3), u(padding=4), "padding", "4"),
    (u("keras", padding="same"), u("keras", padding="full"), "padding", "full"),
    (u(bias="false"), u(bias="maybe"), "bias", "maybe"),
    (u(), u(type="Conv3d"), "type", "Conv3d"),
    (u(), u(framework="jax"), "framework", "jax"),
]
INSIDE = [pytest.param(*b, id=f"{b[2]}-{n}") for n, b in enumerate(BOUNDS)]


def names(message: str, field: str, value: str) -> bool:
    return bool(re.search(rf"\b{field}\b", message)) and bool(re.search(rf"(?<![\d-]){re.escape(value)}(?!\d)", message))


@pytest.mark.parametrize("inside, outside, field, value", INSIDE)
def test_value_just_inside_a_bound_works(client, inside, outside, field, value):
    r = get(client, inside)
    assert alerts(r.text) == [] and shape(r.text) is not None


@pytest.mark.parametrize("inside, outside, field, value", INSIDE)
def test_value_just_outside_a_bound_is_named(client, inside, outside, field, value):
    r = get(client, outside, headers=HX)
    assert r.status_code == 200 and r.text.strip().startswith('<div id="live"')
    assert any(names(m, field, value) for m in alerts(r.text)), alerts(r.text)
    full = client.get(outside)
    assert full.status_code == 422 and "<html" in full.text
    assert any(names(m, field, value) for m in alerts(full.text)), alerts(full.text)


@pytest.mark.parametrize("url", [SMALL, u("sep"), u("keras")])
def test_the_controls_bounds_are_the_servers_bounds(client, url):
    """Every range and number control's min and max are accepted; one step past them is refused."""
    controls = form(get(client, url).text).controls
    ranged = {name: a for name, a in controls.items() if a.get("type") in ("range", "number")}
    assert {"batch", "channels", "height", "width", "filters", "kernel_size"} <= set(ranged)
    base = dict(form(get(client, url).text).fields)
    for name, a in ranged.items():
        for value, ok in ((a["min"], True), (a["max"], True), (int(a["min"]) - 1, False), (int(a["max"]) + 1, False)):
            fields = {**base, name: value, "groups": 1, "kernel_size": 1 if name != "kernel_size" else value}
            r = client.get("/groups?" + urlencode(fields), headers=HX)
            assert r.status_code == 200
            assert (alerts(r.text) == []) == ok, (name, value, alerts(r.text))


def test_the_groups_select_offers_only_divisors(client):
    for c_in, c_out, expected in ((4, 8, ["1", "2", "4"]), (12, 18, ["1", "2", "3", "6"]), (7, 5, ["1"]),
                                  (64, 128, ["1", "2", "4", "8", "16", "32", "64"])):
        r = get(client, u(in_channels=c_in, out_channels=c_out, groups=1, input_shape=f"1,{c_in},8,8"))
        options = select_options(r.text, "groups")
        assert [v for v, _, _ in options] == expected
        assert options[0][2] == "1 (standard conv)"
        assert (options[-1][2] == f"{c_in} (depthwise)") == (c_out % c_in == 0 and c_in > 1)


@pytest.mark.parametrize("param", ["framework", "type", "batch", "channels", "in_channels", "height", "width",
                                   "input_shape", "filters", "out_channels", "kernel_size", "padding", "groups",
                                   "depth_multiplier", "bias", "use_bias"])
@pytest.mark.parametrize("value", ["", "x", "-1", "1e9", "99999999999999999999", "3,3,3,3", "nan", "0.5", "１"])
def test_no_value_gives_a_500(client, param, value):
    for headers in ({}, HX):
        r = client.get("/groups", params={param: value}, headers=headers)
        assert r.status_code in (200, 422), (param, value, r.status_code)


@pytest.mark.parametrize("param", ["framework", "type", "padding", "input_shape", "kernel_size", "groups", "bias",
                                   "in_channels", "filters"])
def test_query_values_are_escaped(client, param):
    payload = '"><script>alert(1)</script><svg onload=alert(2)>'
    for headers in ({}, HX):
        r = client.get("/groups", params={param: payload}, headers=headers)
        assert "<script>alert" not in r.text and "<svg onload" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text  # named in the alert, as text


def test_module_doctests():
    """The wiring's doctests (valid_groups, group_blocks run with app/core's) and the graph's."""
    from app import figures
    result = doctest.testmod(figures)
    assert result.attempted >= 2 and result.failed == 0


def test_context_builder_works_without_http():
    from app.routes.groups import GroupsState, groups_context
    ctx = groups_context(GroupsState(channels=6, filters=12, groups=3, kernel_size=3, padding="1"))
    assert ctx["stage"].params == 12 * 2 * 3 * 3 + 12
    assert ctx["graph"]["edge_count"] == 12 * 2
    ctx = groups_context(GroupsState(channels=6, filters=12, groups=4))
    assert ctx["error_field"] == "groups" and [g for g, _ in ctx["choice_links"]] == [1, 2, 3, 6]
    ctx = groups_context(GroupsState(framework="keras", separable=True, channels=32, filters=32, padding="same"))
    assert ctx["total"]["params"] == 1344 and math.isclose(float(ctx["ratio"]["value"]), 1 / 32 + 1 / 9, abs_tol=5e-4)
