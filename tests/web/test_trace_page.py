"""/trace over HTTP: the whole page or the htmx fragment from one URL, the question examples (Q5's
Keras Conv3D with its fit check, Q2's Conv1d stack), unresolved names asked for with `var_<name>`
fields, a failing row with the arithmetic, explore links that open /explore on the right layer and
input, escaping of every parameter, and bad shapes named.

Expected rows come from tests/golden/traces.json (real Keras / PyTorch) or from the frameworks'
formulas written out here.
"""
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

MODELS = {m["id"]: m for m in json.loads(
    (Path(__file__).resolve().parents[1] / "golden" / "traces.json").read_text())["models"]}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
Q2_CODE = ("model = nn.Sequential(\n    nn.Conv1d(16, 32, kernel_size=5, stride=2),\n    nn.ReLU(),\n"
           "    nn.MaxPool1d(2, stride=2),\n    nn.Dropout(0.25),\n)\n")
LENET_WRONG = MODELS["torch-error-lenet-wrong-linear-in-features"]["code"]  # nn.Linear(16 * 4 * 4, 120)


# ----------------------------------------------------------------- a small DOM

class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def raw(self) -> str:
        return "".join(c if isinstance(c, str) else c.raw() for c in self.children)

    def text(self) -> str:
        return re.sub(r"\s+", " ", self.raw()).strip()

    def all(self, tag=None, **attrs) -> list["Node"]:
        found, stack = [], list(reversed(self.children))
        while stack:
            node = stack.pop()
            if isinstance(node, str):
                continue
            if (tag is None or node.tag == tag) and all(
                    (node.attrs.get(k.rstrip("_").replace("_", "-")) == v) if v is not True
                    else (k.rstrip("_").replace("_", "-") in node.attrs) for k, v in attrs.items()):
                found.append(node)
            stack.extend(reversed(node.children))
        return found

    def one(self, tag=None, **attrs) -> "Node":
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}>"
        return found[0]

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.node = Node("#root", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.node)
        self.node.children.append(node)
        if tag not in VOID:
            self.node = node

    def handle_startendtag(self, tag, attrs):
        self.node.children.append(Node(tag, attrs, self.node))

    def handle_endtag(self, tag):
        node = self.node
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.node = node.parent

    def handle_data(self, data):
        self.node.children.append(data)


def dom(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    return builder.root


def live(html: str) -> Node:
    return dom(html).one(id="live")


def rows(html: str) -> list[dict]:
    """The traced rows: output shape (JSON), the cells' text and the links."""
    out = []
    for tr in live(html).all("tr", data_output_shape=True):
        cells = [c.text() for c in tr.children if not isinstance(c, str) and c.tag in ("td", "th")]
        out.append({"shape": json.loads(tr.attrs["data-output-shape"]), "cells": cells, "text": tr.text(),
                    "links": [a.attrs["href"] for a in tr.all("a")]})
    return out


def number(text: str) -> int:
    return int(text.replace(",", ""))


def example_links(client) -> dict[str, str]:
    page = dom(client.get("/trace").text)
    nav = page.one("nav", aria_label="Examples")
    return {a.text(): a.attrs["href"] for a in nav.all("a")}


def example(client, question: str) -> str:
    links = [href for title, href in example_links(client).items() if title.startswith(question)]
    assert len(links) == 1, example_links(client)
    return links[0]


def query(**params) -> str:
    return "/trace?" + urlencode(params)


# ================================================================= page and fragment

def test_page_and_fragment_share_a_url(client):
    url = query(framework="torch", code=Q2_CODE, input_shape="4,16,100")
    full = client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert full.status_code == fragment.status_code == 200
    for r in (full, fragment):
        assert "HX-Request" in [v.strip() for v in r.headers["vary"].split(",")]
    assert "<html" in full.text and "<html" not in fragment.text
    assert fragment.text.strip().startswith('<div id="live"')
    form = dom(full.text).one("form", id="trace-form")
    assert form.attrs["method"].lower() == "get" and form.attrs["action"] == "/trace"
    assert form.one("textarea", name="code").raw().lstrip("\n") == Q2_CODE  # the code, as pasted
    assert dom(fragment.text).all("form") == []  # the form is outside the swapped part
    assert [r["shape"] for r in rows(full.text)] == [r["shape"] for r in rows(fragment.text)] == \
        [[4, 32, 48], [4, 32, 48], [4, 32, 24], [4, 32, 24]]
    restore = client.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_empty_page_has_the_form_and_the_examples(client):
    r = client.get("/trace")
    assert r.status_code == 200
    page = dom(r.text)
    assert page.one("textarea", id="code").attrs["name"] == "code"
    for name in ("framework", "input_shape", "x_shape", "y_shape"):
        field = page.one(id=name)
        assert field.attrs["name"] == name and page.one("label", for_=name)
    assert {"Q5", "Q2"} <= {title.split(":")[0] for title in example_links(client)}
    assert rows(r.text) == []


# ================================================================= the questions

def test_q5_example_traces_like_keras_and_explains_the_sample_counts(client):
    url = example(client, "Q5")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params["framework"] == "keras" and "Conv3D" in params["code"]
    r = client.get(url)
    assert r.status_code == 200
    recorded = MODELS["keras-q5-conv3d"]["layers"]
    got = rows(r.text)
    assert [row["shape"] for row in got] == [layer["output_shape"] for layer in recorded]  # None batch: null
    assert len(got) == 8 and all(row["shape"][0] is None for row in got)
    for row, layer in zip(got, recorded):
        assert layer["type"] in row["text"]
        assert str(layer["output_shape"]) in row["text"]  # shown as Keras prints it: [None, …]
        assert f"{layer['params']:,}" in row["cells"]
    assert "[None, 31, 31, 7, 16]" in got[0]["text"] and "[None, 8064]" in got[4]["text"]
    text = live(r.text).text()
    assert "4,150,529" in text
    assert "420,420 = 7 × 60,060" in text                        # docs/QUESTIONS.md Q5
    assert "(60060, 33, 33, 7, 1)" in text                       # what x should look like


def test_q5_fit_check_says_when_the_data_fits(client):
    url = example(client, "Q5")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    params.update(x_shape="60060,33,33,7,1", y_shape="60060,1")
    text = live(client.get("/trace?" + urlencode(params)).text).text()
    assert "420,420" not in text and "60,060 samples" in text and "✗" not in text


def test_q2_example_shows_the_batch_as_given(client):
    r = client.get(example(client, "Q2"))
    assert r.status_code == 200
    got = rows(r.text)
    length = (100 + 2 * 0 - 1 * (5 - 1) - 1) // 2 + 1  # docs/QUESTIONS.md Q2: 48
    assert [row["shape"] for row in got] == [[4, 32, length], [4, 32, length], [4, 32, length // 2],
                                              [4, 32, length // 2]]
    assert [row["shape"] for row in got] == [layer["output_shape"] for layer in
                                              MODELS["torch-q2-conv1d-sequential"]["layers"]]
    assert "[4, 32, 48]" in got[0]["text"] and "None" not in live(r.text).text()
    assert "2,592" in got[0]["cells"]


@pytest.mark.parametrize("model_id", [m for m in MODELS if "error" not in MODELS[m]])
def test_every_recorded_model_renders_its_recorded_rows(client, model_id):
    m = MODELS[model_id]
    params = {"framework": m["framework"], "code": m["code"],
              **{f"var_{k}": v for k, v in (m.get("variables") or {}).items()},
              **({"model": m["build"]} if m.get("build") and not m.get("default") else {})}  # the factory asked for
    if not m.get("input_from_code"):
        params["input_shape"] = ",".join("None" if v is None else str(v) for v in m["input_shape"])
    r = client.get(query(**params))
    assert r.status_code == 200
    got = rows(r.text)
    recorded = m["layers"]
    if m["framework"] == "torch":  # the recording has module calls only; the page also shows F.relu & co
        got = [row for row in got if any(f"({layer['name']})" in row["cells"][1] for layer in recorded)]
    else:  # Keras lists a branching model's layers by depth; the page, in the order they run: match by name
        names = [f"({layer['name']})" for layer in recorded]
        if all(sum(n in row["cells"][1] for n in names) == 1 for row in got):
            got = sorted(got, key=lambda row: next(i for i, n in enumerate(names) if n in row["cells"][1]))
    assert [row["shape"] for row in got] == [layer["output_shape"] for layer in recorded]
    assert f"{m['total_params']:,}" in live(r.text).text()


# ================================================================= unresolved names

def test_unresolved_name_is_asked_for_with_a_var_field(client):
    code = MODELS["keras-q5-conv3d-depth-variables"]["code"]
    for headers in ({}, {"HX-Request": "true"}):
        r = client.get(query(framework="keras", code=code), headers=headers)
        assert r.status_code == 200
        part = live(r.text)
        for name in ("depth_1", "depth_2", "num_hidden"):
            field = part.one("input", name=f"var_{name}")
            assert field.attrs.get("form") == "trace-form" or any(a.tag == "form" for a in field.ancestors())
            assert part.one("label", for_=field.attrs["id"]).text() == name
        assert rows(r.text) == []
    r = client.get(query(framework="keras", code=code, var_depth_1=16, var_depth_2=32, var_num_hidden=512))
    got = rows(r.text)
    assert [row["shape"] for row in got] == [layer["output_shape"] for layer in
                                              MODELS["keras-q5-conv3d-depth-variables"]["layers"]]
    assert "4,150,529" in live(r.text).text()
    kept = live(r.text).all("input", name="var_depth_1")  # the value travels with the next request
    assert kept and all(field.attrs.get("value") == "16" for field in kept)


def test_partly_supplied_names_ask_only_for_the_rest(client):
    code = MODELS["keras-q5-conv3d-depth-variables"]["code"]
    r = client.get(query(framework="keras", code=code, var_depth_1=16, var_depth_2=32))
    part = live(r.text)
    assert part.one("input", name="var_num_hidden").attrs.get("value", "") == ""
    assert rows(r.text) == []


def test_a_value_that_is_not_a_number_is_named(client):
    """Variables take strings too (padding='same'): a word where the layer needs a number is the layer's refusal."""
    code = Q2_CODE.replace("16, 32", "channels, 32")
    r = client.get(query(framework="torch", code=code, input_shape="4,16,100", var_channels="sixteen"))
    assert r.status_code == 200
    assert "in_channels" in live(r.text).text() and "sixteen" in live(r.text).text()
    assert live(r.text).one("input", name="var_channels")


# ================================================================= a model that does not fit

def test_failing_row_shows_where_and_the_arithmetic(client):
    r = client.get(query(framework="torch", code=LENET_WRONG, input_shape="4,3,32,32"))
    assert r.status_code == 200
    got = rows(r.text)
    assert got[-1]["shape"] == [4, 16 * 5 * 5]  # torch.flatten(x, 1) of (4, 16, 5, 5)
    assert [row["shape"] for row in got if "(" in row["cells"][1]] == \
        [layer["output_shape"] for layer in MODELS["torch-error-lenet-wrong-linear-in-features"]["layers"]]
    table = live(r.text).one("table")
    failing = [tr for tr in table.all("tr") if "data-output-shape" not in tr.attrs and tr.all(role="alert")]
    assert len(failing) == 1
    row = failing[0]
    assert row.attrs.get("class"), "the failing row is marked for highlighting"
    text = row.text()
    assert "Linear" in text and "fc1" in text
    assert "[4, 400]" in text and "256" in text and "400" in text  # arrived 16·5·5, needed 16·4·4
    body_rows = [tr for tr in table.all("tr") if tr.parent.tag == "tbody"]
    assert body_rows[-1] is row  # nothing after the failing layer
    assert "2,872" in live(r.text).text()  # 456 + 2,416 (conv1, conv2): the total up to the failure


def test_code_that_is_not_python_is_explained_in_place(client):
    r = client.get(query(framework="torch", code="model = nn.Sequential(\n    nn.Linear(3, 2),\n",
                         input_shape="1,3"))
    assert r.status_code == 200
    alert = live(r.text).all(role="alert")
    assert alert and "line" in alert[0].text() and rows(r.text) == []


# ================================================================= explore links

def explore_links(client, params):
    r = client.get(query(**params))
    got = rows(r.text)
    previous = [None, *[row["shape"] for row in got]]
    links = []
    for i, row in enumerate(got):
        for href in row["links"]:
            assert href.startswith(("/explore?", "/pool?")), href  # a conv opens /explore, a pooling layer /pool
            links.append((row, previous[i], href))
    return got, links


@pytest.mark.parametrize("model_id", ["torch-q2-conv1d-sequential", "torch-lenet-tutorial-flatten",
                                      "torch-conv2d-channel-variables", "keras-mnist-convnet-sequential-list",
                                      "keras-q6-conv1d-sentence-functional", "keras-conv3d-video-same-padding",
                                      "keras-reshape-permute-conv1d-causal"])
def test_explore_links_open_the_layer_on_its_real_input(client, model_id):
    m = MODELS[model_id]
    params = {"framework": m["framework"], "code": m["code"],
              **{f"var_{k}": v for k, v in (m.get("variables") or {}).items()},
              **({"model": m["build"]} if m.get("build") and not m.get("default") else {})}  # the factory asked for
    if not m.get("input_from_code"):
        params["input_shape"] = ",".join("None" if v is None else str(v) for v in m["input_shape"])
    _, links = explore_links(client, params)
    assert any(href.startswith("/explore?") for _, _, href in links), "a conv row links to /explore"
    model_input = m["input_shape"]
    for row, before, href in links:
        q = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
        assert row["cells"][1].split()[0] == q["type"]
        assert re.fullmatch(r"Conv[123][dD]" if href.startswith("/explore?") else r"(Max|Avg|Average)Pool(ing)?[123][dD]",
                            q["type"]), href
        assert q["framework"] == m["framework"]
        arrived = before if before is not None else model_input
        assert [int(v) for v in q["input_shape"].split(",")] == [1, *arrived[1:]]  # batch 1, the real input
        page = client.get(href)
        assert page.status_code == 200, href
        shown = json.loads(dom(page.text).all(data_output_shape=True)[0].attrs["data-output-shape"])
        assert shown == [1, *row["shape"][1:]], href


def test_only_conv_and_pooling_rows_link_to_a_view(client):
    """AlexNet at 224×224: its convs open /explore and its max pools /pool (both take real sizes); the
    adaptive pool, ReLUs, dropout and linear layers link nowhere."""
    m = MODELS["torch-alexnet-features-avgpool-classifier"]
    _, links = explore_links(client, {"framework": "torch", "code": m["code"],
                                      "input_shape": ",".join(map(str, m["input_shape"]))})
    kinds = {(row["cells"][1].split("(")[0].strip(), href.split("?")[0]) for row, _, href in links}
    assert kinds == {("Conv2d", "/explore"), ("MaxPool2d", "/pool")}, kinds


# ================================================================= escaping and bad input

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.mark.parametrize("params", [
    {"code": XSS},
    {"code": "</textarea><script>alert(1)</script>"},
    {"code": f"model = nn.Sequential(nn.Linear(3, 2))  # {XSS}", "framework": "torch", "input_shape": "1,3"},
    {"code": f"model = nn.Sequential(nn.Linear({XSS!r}, 2))", "framework": "torch", "input_shape": "1,3"},
    {"code": Q2_CODE, "framework": "torch", "input_shape": XSS},
    {"code": Q2_CODE, "framework": "torch", "input_shape": "4,16,100", "x_shape": XSS},
    {"code": Q2_CODE, "framework": "torch", "input_shape": "4,16,100", "y_shape": XSS},
    {"code": Q2_CODE.replace("16, 32", "c, 32"), "framework": "torch", "input_shape": "4,16,100", "var_c": XSS},
    {"code": Q2_CODE.replace("16, 32", "c, 32"), "framework": "torch", "input_shape": "4,16,100", f"var_{XSS}": "3"},
    {"code": Q2_CODE, "framework": XSS, "input_shape": "4,16,100"},  # not echoed at all
], ids=["code", "code-closes-textarea", "code-comment", "code-string", "input_shape", "x_shape", "y_shape",
        "var-value", "var-name", "framework"])
def test_every_parameter_comes_back_escaped(client, params):
    for headers in ({}, {"HX-Request": "true"}):
        r = client.get(query(**params), headers=headers)
        assert r.status_code in (200, 422)
        assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text
        assert "</textarea><script>" not in r.text
    full = client.get(query(**params)).text
    if params.get("framework") != XSS:
        assert ESCAPED in full or "&lt;script&gt;" in full  # the payload is shown, as text


@pytest.mark.parametrize("field, value, named", [
    ("input_shape", "4,abc,100", "input_shape"),
    ("input_shape", "4,0,100", "input_shape"),
    ("input_shape", "1,2,3,4,5,6,7,8,9", "input_shape"),
    ("input_shape", "4,None,100", "input_shape"),
    ("input_shape", "4,16,99999999999", "input_shape"),
    ("x_shape", "420420,33,x", "x shape"),
    ("y_shape", "-5,1", "y shape"),
])
def test_bad_shapes_are_named_in_a_422_page(client, field, value, named):
    params = {"framework": "torch", "code": Q2_CODE, "input_shape": "4,16,100", field: value}
    r = client.get(query(**params))
    assert r.status_code == 422 and "<html" in r.text
    alerts = " ".join(a.text() for a in live(r.text).all(role="alert"))
    assert named in alerts and value in alerts
    assert dom(r.text).one(id=field).attrs.get("value") == value  # kept in the form, to be corrected
    fragment = client.get(query(**params), headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and named in fragment.text  # htmx swaps 2xx answers only


def test_code_over_the_length_cap_is_explained(client):
    r = client.get(query(framework="torch", code="#" * 20_001, input_shape="1,3"))
    assert r.status_code in (200, 422)
    assert "20,000" in live(r.text).text() and rows(r.text) == []


@pytest.mark.parametrize("code", [
    "(" * 10_000 + ")" * 10_000,
    "model = nn.Sequential(nn.Linear(" + "+".join(["a"] * 5_000) + ", 3))",
    "model = nn.Sequential(nn.Linear(10**10**10, 3))",
    "model = nn.Sequential(nn.Linear(3, 2))\x00",
], ids=["parens", "chain", "power-tower", "nul"])
def test_hostile_code_is_explained_in_place(client, code):
    r = client.get(query(framework="torch", code=code, input_shape="1,3"))
    assert r.status_code == 200
    assert live(r.text).all(role="alert") and rows(r.text) == []


@pytest.mark.parametrize("code, shape", [
    ("model = nn.Sequential(nn.Linear(1" + "0" * 400 + ", 3))", "1,3"),
    ("model = nn.Sequential(nn.Upsample(scale_factor=0))", "1,2,3"),
    ("model = nn.Sequential(nn.Conv2d(3, 2, -(3, 3)))", "1,3,8,8"),
], ids=["400-digits", "upsample-scale-0", "unary-minus-tuple"])
def test_code_the_core_crashes_on_is_not_a_500(client, code, shape):
    r = client.get(query(framework="torch", code=code, input_shape=shape))
    assert r.status_code in (200, 422)


def test_pool_rows_link_to_the_pool_view(client):
    code = "model = nn.Sequential(nn.Conv1d(1, 2, 3), nn.MaxPool1d(2))"
    r = client.get("/trace", params={"code": code, "input_shape": "4,1,20"})
    links = re.findall(r'href="(/pool\?[^"]+)"', r.text)
    assert len(links) == 1
    pool = client.get(html.unescape(links[0]))
    assert pool.status_code == 200 and 'data-output-shape="[1, 2, 9]"' in pool.text  # (20 − 2) // 2


# ================================================================= the data flow, drawn when it branches

def test_a_branching_model_draws_its_flow_with_shapes_on_the_edges(client):
    m = MODELS["keras-guide-toy-resnet"]
    r = client.get(query(framework="keras", code=m["code"]))
    part = live(r.text)
    boxes = [n for n in part.all("li") if n.attrs.get("data-row") is not None]
    assert len(boxes) == len(m["layers"])
    adds = [b for b in boxes if "merge" in b.attrs.get("class", "")]
    assert len(adds) == 2  # the two layers.add
    first = adds[0].text()
    assert "[None, 9, 9, 64]" in first and first.count("[None, 9, 9, 64]") >= 3  # two edges in, one out
    assert any(a.attrs["href"].startswith("#flow-") for b in boxes for a in b.all("a"))  # skips link ahead
    links = [a.attrs["href"] for b in boxes for a in b.all("a")]
    assert "#row-0" in links and any(h.startswith("/explore?") for h in links)  # to the table row, to the view
    assert part.one("tr", id="row-0")
    chain = client.get(query(framework="torch", code=Q2_CODE, input_shape="4,16,100"))
    assert not [n for n in live(chain.text).all("li") if n.attrs.get("data-row") is not None]  # a chain: no graph


def test_merge_rows_show_each_incoming_shape(client):
    m = MODELS["keras-guide-toy-resnet"]
    got = rows(client.get(query(framework="keras", code=m["code"])).text)
    add = next(row for row in got if row["cells"][1].startswith("Add"))
    assert add["text"].count("[None, 9, 9, 64]") >= 3  # from #…, from #…, and the output


def test_a_paste_with_several_models_offers_a_choice(client):
    m = MODELS["torch-dcgan-discriminator-opt-variables"]
    params = {"framework": "torch", "code": m["code"], "input_shape": "2,100,1,1",
              **{f"var_{k}": v for k, v in m["variables"].items()}}
    whole = client.get(query(**params)).text
    assert 'name="model"' in whole and "Generator" in whole and "Discriminator" in whole
    chosen = rows(client.get(query(**params, model="netG")).text)
    assert chosen[-1]["shape"] == [2, 3, 64, 64]  # the generator's image
    assert f"{MODELS['torch-dcgan-generator-opt-variables']['total_params']:,}" in client.get(
        query(**params, model="netG")).text
