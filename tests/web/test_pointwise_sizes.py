"""/pointwise at real sizes over HTTP: the zoom level chosen by size, the pictures as PNG URLs (bytes, pixels,
cache headers, refusals), the lens's arithmetic (the page's, its played block's and the lens fragment's) against a
plain loop over the input and weights the engine draws, the bounds at the engine's limits, the fragment's weight.

REAL_SIZES is the table of layers students bring; the browser tests (tests/browser/test_pointwise_sizes.py) open
the same table.
"""
import gzip
import html
import io
import json
import math
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode

import numpy as np
import pytest
from PIL import Image
from starlette.datastructures import QueryParams

from app.core.forward import canonical_weights, random_input, readable_weights, run_layer
from app.core.frameworks import build_layer
from app.images import diverging
from app.routes import pointwise
from tests.web import page
from tests.web.page import HX, alerts, num, plain, section

# name -> /pointwise query: real layers (a 2D map's positions flattened, as a 1×1 conv sees them) and invented ones
REAL_SIZES = {
    # ResNet-50's first bottleneck: its 1×1 64 → 64 over the 56×56 map
    "resnet": "framework=torch&type=Conv1d&in_channels=64&out_channels=64&kernel_size=1&input_shape=1,64,3136",
    # a 50-word sentence of 300-d embeddings mixed into 100 features (Keras, relu)
    "embedding": "framework=keras&type=Conv1D&filters=100&kernel_size=1&activation=relu&input_shape=1,50,300",
    # MobileNet v1's pointwise 128 → 256 over its 28×28 map
    "mobilenet": "framework=torch&type=Conv1d&in_channels=128&out_channels=256&kernel_size=1&input_shape=1,128,784",
    # ResNet-50's last stage: 2,048 channels reduced to 256 over the 7×7 map, no bias, then ReLU (a module)
    "deep": "framework=torch&type=Conv1d&in_channels=2048&out_channels=256&kernel_size=1&bias=false"
            "&input_shape=1,2048,49&activation=relu",
    # half a second of 16 kHz audio, 4 channels → 8, in Keras with tanh, a batch of 2
    "audio": "framework=keras&type=Conv1D&filters=8&kernel_size=1&activation=tanh&input_shape=2,8000,4",
}
# the layers the issue names that are over the engine's limits (refused, the limit named)
OVER = {
    "resnet-reduce": ("framework=torch&type=Conv1d&in_channels=256&out_channels=64&kernel_size=1&input_shape=1,256,3136",
                      "the limit is 250,000"),  # 802,816 input values
    "mobilenet-first": ("framework=torch&type=Conv1d&in_channels=32&out_channels=64&kernel_size=1"
                        "&input_shape=1,32,12544", "the limit is 250,000"),  # 401,408 input values
    "macs": ("framework=torch&type=Conv1d&in_channels=2048&out_channels=512&kernel_size=1&input_shape=1,2048,49",
             "the limit is 50,000,000"),  # 51,380,224 multiply-adds
    "output": ("framework=torch&type=Conv1d&in_channels=16&out_channels=2048&kernel_size=1&input_shape=1,16,200",
               "the limit is 250,000"),  # 409,600 output values
}
FRAGMENT_GZIP = 120_000
ACT = {"linear": lambda v: v, "relu": lambda v: max(v, 0.0), "tanh": math.tanh}


def layer_of(query: str) -> dict:
    """The layer of ``query`` on the numbers the view draws (seed 0), from the core engine (channels first, batch
    item 0): x (C, L), w (F, C), b, y (F, L) and the activation."""
    q = dict(parse_qsl(query))
    framework = q.pop("framework", "torch")
    activation = q.pop("activation", "linear") if framework == "torch" else q.get("activation", "linear")
    seed = int(q.pop("seed", 0))
    shape = tuple(int(v) for v in q.pop("input_shape").split(","))
    spec = {k: int(v) if v.isdigit() else {"true": True, "false": False}.get(v, v) for k, v in q.items()}
    layer = build_layer(framework, spec, shape)
    keras = framework == "keras"
    torch_shape = (shape[0], shape[2], shape[1]) if keras else shape
    x = random_input(torch_shape, seed)  # drawn in PyTorch's layout (the view's rule: same numbers in both)
    weights = readable_weights(layer, seed, "random")
    y = run_layer(layer, np.moveaxis(x, 1, -1) if keras else x, weights)
    y = np.moveaxis(y, -1, 1) if keras else y
    if not keras and activation != "linear":  # PyTorch's activation: a module after the conv, by its definition
        y = np.vectorize(ACT[activation])(y.astype(np.float64)).astype(np.float32)
    cw = canonical_weights(layer, weights)[0]
    w = cw["weight"][:, :, 0]
    b = cw.get("bias", np.zeros(w.shape[0], dtype=np.float32))
    return {"x": x[0], "w": w, "b": b, "y": y[0], "activation": activation, "bias": "bias" in cw}


def reference(query: str, t: int, f: int) -> dict:
    """y[f, t] written out by a plain loop: each channel's product w[f, c]·x[c, t], their sum, then (with a bias)
    the sum plus the bias, then (with an activation) the value; the engine computes that value."""
    d = layer_of(query)
    products = [float(d["w"][f, c]) * float(d["x"][c, t]) for c in range(d["x"].shape[0])]
    total = [sum(products)]
    pre = total[0] + float(d["b"][f])
    if d["bias"]:
        total.append(pre)
    if d["activation"] != "linear":
        total.append(ACT[d["activation"]](pre))
    assert float(d["y"][f, t]) == pytest.approx(ACT[d["activation"]](pre), abs=1e-4)  # the engine agrees
    terms = [(float(d["w"][f, c]), float(d["x"][c, t])) for c in range(d["x"].shape[0])]
    return {"products": products, "total": total, "terms": terms}


def positions(query: str) -> int:
    shape = [int(v) for v in dict(parse_qsl(query))["input_shape"].split(",")]
    return shape[1] if "keras" in query else shape[2]


def fragment(client, query: str) -> str:
    r = client.get("/pointwise?" + query, headers=HX)
    assert r.status_code == 200, r.text[:300]
    return r.text


def products_of(block: str) -> list[str]:
    """The lens's products as it writes them (one text, a line per channel): each line's "term = product", after
    checking that line c names channel c."""
    lines = block.split("\n")
    for c, line in enumerate(lines):
        assert re.match(rf"c{c}: +\S", line), f"line {c} does not name channel {c}: {line!r}"
    return [line.split(":", 1)[1].strip() for line in lines]


def lens_of(text: str) -> dict:
    """The lens as a page or a lens fragment writes it: the title's (filter, position), each product's term and
    value, the total's numbers."""
    f, t = (int(v) for v in re.search(r'<h3 id="arith-title"[^>]*>y\[(\d+), (\d+)\]', text).groups())
    items = products_of(html.unescape(section(text, "lens-products")))
    terms = [tuple(num(v) for v in re.match(r"\(?([^()×]+)\)?×\(?([^()=]+)\)? = ", i).groups()) for i in items]
    total = [num(v) for v in re.findall(r"<strong>([^<]*)</strong>", section(text, "lens-total"))]
    return {"f": f, "t": t, "terms": terms, "products": [num(i.rsplit("=", 1)[1]) for i in items], "total": total}


def check(shown: dict, ref: dict):
    flat = lambda pairs: [v for pair in pairs for v in pair]  # noqa: E731
    assert flat(shown["terms"]) == pytest.approx(flat(ref["terms"]), abs=1e-6)  # W[f, c] × x[c, t], channel c
    assert shown["products"] == pytest.approx(ref["products"], abs=0.0051)
    assert shown["total"] == pytest.approx(ref["total"], abs=0.0051)


def picture_urls(text: str) -> dict[str, str]:
    return {re.search(r"part=(\w+)", u)[1]: u for u in
            (html.unescape(u) for u in re.findall(r'src="(/pointwise/picture\?[^"]+)"', text))}


# ---------------------------------------------------------------- the zoom level

@pytest.mark.parametrize("query, level", [
    ("", "numbers"),  # the default: the page as it was
    ("framework=keras&type=Conv1D&filters=64&kernel_size=1&activation=relu&input_shape=2,10,100", "numbers"),  # Q1
    ("type=Conv1d&in_channels=128&out_channels=128&kernel_size=1&input_shape=1,128,64", "numbers"),  # the old caps
    ("type=Conv1d&in_channels=4&out_channels=3&kernel_size=1&input_shape=1,4,65", "picture"),
    ("type=Conv1d&in_channels=129&out_channels=3&kernel_size=1&input_shape=1,129,6", "picture"),
    *((q, "picture") for q in REAL_SIZES.values()),
])
def test_the_zoom_level_follows_the_size(client, query, level):
    text = fragment(client, query)
    assert ('class="picture-stage"' in text) == (level == "picture")
    assert ('id="x-table"' in text) == (level == "numbers")
    for part in ("input", "kernel", "output"):
        assert f'data-part="{part}"' in text or level == "numbers"
    assert alerts(text) == []


@pytest.mark.parametrize("name", sorted(REAL_SIZES))
def test_a_real_layer_is_a_small_fragment_and_page(client, name):
    text = fragment(client, REAL_SIZES[name])
    assert len(gzip.compress(text.encode())) <= FRAGMENT_GZIP
    assert len(gzip.compress(client.get("/pointwise?" + REAL_SIZES[name]).content)) <= FRAGMENT_GZIP + 20_000
    assert "data-plot" not in text  # the pictures are image URLs, not numbers in the page


class LiveRegions(HTMLParser):
    """The ids of the elements inside an aria-live region, and of the live regions themselves."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "col", "source", "wbr", "area", "base", "embed", "track"}

    def __init__(self) -> None:
        super().__init__()
        self.stack, self.inside, self.live = [], set(), set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if any(live for _, live in self.stack) and attrs.get("id"):
            self.inside.add(attrs["id"])
        if "aria-live" in attrs and attrs.get("id"):
            self.live.add(attrs["id"])
        if tag not in self.VOID:
            self.stack.append((tag, "aria-live" in attrs and attrs["aria-live"] != "off"))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass


@pytest.mark.parametrize("name", sorted(REAL_SIZES))
def test_a_screen_reader_hears_the_lens_title_and_total_not_every_product(client, name):
    """The lens's products (a line per input channel, up to 2,048) are read when focused, never announced as a
    whole at each step; the title and the total are announced."""
    regions = LiveRegions()
    regions.feed(fragment(client, REAL_SIZES[name]))
    assert {"arith-title", "lens-total"} <= regions.live
    assert "lens-products" not in regions.inside


# ---------------------------------------------------------------- the pictures

def legends(text: str) -> dict[str, float]:
    """Each picture's colour scale end, as its legend writes it."""
    found = re.findall(r'aria-label="Colour scale of the (\w+)"><span>−([\d.]+)</span>', text)
    return {{"weights": "kernel"}.get(name, name): float(limit) for name, limit in found}


@pytest.mark.parametrize("name", sorted(REAL_SIZES))
def test_the_pictures_are_cacheable_pngs_of_x_w_and_y_on_their_legends_scales(client, name):
    d = layer_of(REAL_SIZES[name])
    text = fragment(client, REAL_SIZES[name])
    urls, scales = picture_urls(text), legends(text)
    assert sorted(urls) == sorted(scales) == ["input", "kernel", "output"]
    for part, values in (("input", d["x"]), ("kernel", d["w"]), ("output", d["y"])):
        r = client.get(urls[part])
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.headers["cache-control"] == "public, max-age=86400" and r.headers["etag"]
        assert "step=" not in urls[part] and "&f=" not in urls[part]  # every step shares the picture
        img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
        assert img.shape[:2] == values.shape  # one pixel per value: rows are channels or filters
        expected = diverging(values.astype(np.float64), scales[part]).astype(int)
        assert np.abs(img.astype(int) - expected).max() <= 1  # float32 values: a colour level either way at most


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_the_kernels_picture_keeps_its_url_when_the_length_or_batch_moves(client, framework):
    """The weights do not depend on the input's length or batch: moving those knobs keeps the kernel picture's URL,
    so the browser keeps a 2,048 × 2,048 matrix's picture; it still draws the page's weights, on its legend's scale."""
    base = dict(parse_qsl(REAL_SIZES["deep"] if framework == "torch" else REAL_SIZES["embedding"]))
    urls = []
    for batch, length in ((1, 49), (1, 40), (2, 24)):
        shape = (batch, base["input_shape"].split(",")[1], length) if framework == "torch" else \
            (batch, length, base["input_shape"].split(",")[2])
        query = urlencode({**base, "input_shape": ",".join(map(str, shape))}, safe=",")
        text = fragment(client, query)
        urls.append(picture_urls(text)["kernel"])
        r = client.get(urls[-1])
        assert r.status_code == 200
        img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
        expected = diverging(layer_of(query)["w"].astype(np.float64), legends(text)["kernel"]).astype(int)
        assert img.shape == expected.shape and np.abs(img.astype(int) - expected).max() <= 1
    assert urls[0] == urls[1] == urls[2]
    other = urlencode({**base, "seed": "5"}, safe=",")  # other weights: another picture
    assert picture_urls(fragment(client, other))["kernel"] != urls[0]


@pytest.mark.parametrize("change, field", [
    ({"part": "weights"}, "part"), ({"part": ""}, "part"), ({"c": "1"}, "c"), ({"c": "x"}, "c"),
    ({"input_shape": "1,64,0"}, "input_shape"), ({"out_channels": "2049"}, "out_channels"),
])
def test_a_bad_picture_query_is_422_naming_the_field(client, change, field):
    query = dict(parse_qsl(REAL_SIZES["resnet"]), part="input", c="0")
    r = client.get("/pointwise/picture?" + urlencode({**query, **change}, safe=","))
    assert r.status_code == 422 and field in r.text and r.headers["cache-control"] == "no-store", r.text


@pytest.mark.parametrize("name", sorted(OVER))
def test_a_layer_over_the_limits_is_refused_with_the_limit_named(client, name):
    query, limit = OVER[name]
    text = fragment(client, query)
    assert any(limit in m and "cannot run" in m for m in alerts(text)), alerts(text)
    for part in ("input", "kernel", "output"):
        r = client.get(f"/pointwise/picture?{query}&part={part}&c=0")
        assert r.status_code == 422 and limit in r.text
    r = client.get(f"/pointwise/lens?{query}&step=0")
    assert r.status_code == 422 and limit in r.text


# ---------------------------------------------------------------- the lens

@pytest.mark.parametrize("name, t, f", [("resnet", 0, 0), ("resnet", 3000, 63), ("embedding", 49, 99),
                                        ("mobilenet", 500, 131), ("deep", 48, 255), ("audio", 7_999, 7)])
def test_the_pages_lens_is_the_engines_arithmetic(client, name, t, f):
    text = fragment(client, REAL_SIZES[name] + f"&step={t}&f={f}")
    shown = lens_of(text)
    assert (shown["f"], shown["t"]) == (f, t)
    check(shown, reference(REAL_SIZES[name], t, f))
    assert plain(section(text, "step-label")) == f"t = {t} of 0–{positions(REAL_SIZES[name]) - 1}"


@pytest.mark.parametrize("name, t, f", [("resnet", 2500, 40), ("embedding", 7, 3), ("deep", 10, 100)])
def test_the_lens_fragment_is_the_engines_arithmetic(client, name, t, f):
    r = client.get(f"/pointwise/lens?{REAL_SIZES[name]}&step={t}&f={f}")
    assert r.status_code == 200 and r.text.strip().startswith('<div class="arith pw-lens" id="arith"')
    shown = lens_of(r.text)
    assert (shown["f"], shown["t"]) == (f, t)
    check(shown, reference(REAL_SIZES[name], t, f))
    now = json.loads(html.unescape(re.search(r'data-now="([^"]+)"', r.text)[1]))  # where y[f, t] is drawn
    filters = int(re.search(r"(?:out_channels|filters)=(\d+)", REAL_SIZES[name])[1])
    assert now["markers"][0][:2] == pytest.approx([100 * f / filters, 100 * t / positions(REAL_SIZES[name])], abs=0.001)


@pytest.mark.parametrize("name", ["embedding", "mobilenet"])
def test_the_played_block_writes_what_the_server_writes_for_each_step(client, name):
    text = fragment(client, REAL_SIZES[name] + "&step=12&f=5")
    d = page.data(text, "pointwise")
    assert d["level"] == "picture" and d["first"] <= 12 < d["first"] + len(d["steps"])
    T = d["texts"]
    for i, step in enumerate(d["steps"]):
        t = d["first"] + i
        ref = reference(REAL_SIZES[name], t, 5)
        assert T[step["title"]].startswith(f"y[5, {t}]")
        assert T[step["label"]] == f"t = {t} of 0–{d['positions'] - 1}"
        products = [num(p.rsplit("=", 1)[1]) for p in products_of(T[step["products"]])]
        assert products == pytest.approx(ref["products"], abs=0.0051)
        assert [num(T[v]) for v in step["total"][1::2]] == pytest.approx(ref["total"], abs=0.0051)
        # the boxes: the column read, y[5, t] and the columns to come, as percentages of the pictures
        length = d["positions"]
        assert d["picture"]["boxes"][i][0][1] == pytest.approx(100 * t / length, abs=0.001)
        assert d["picture"]["markers"][i][:2] == pytest.approx([100 * 5 / d["filters"], 100 * t / length], abs=0.001)
    written = [len(T[s["products"]].split("\n")) for s in d["steps"]]
    assert sum(written) <= max(pointwise.LENS_TERMS, written[0])


def test_the_lens_works_at_the_numbers_level_too(client):
    query = "framework=torch&type=Conv1d&in_channels=4&out_channels=3&kernel_size=1&input_shape=1,4,6"
    r = client.get(f"/pointwise/lens?{query}&step=5&f=2")
    assert r.status_code == 200
    check(lens_of(r.text), reference(query, 5, 2))


@pytest.mark.parametrize("extra, field", [("&step=3136", "step"), ("&f=64", "f"), ("&step=-1", "step")])
def test_a_lens_outside_the_layer_is_422_naming_the_field(client, extra, field):
    r = client.get(f"/pointwise/lens?{REAL_SIZES['resnet']}{extra}")
    assert r.status_code == 422 and r.text.count(field) >= 1 and "got" in r.text


# ---------------------------------------------------------------- bounds at the engine's limits

def u(**params) -> str:
    return urlencode({"framework": "torch", "type": "Conv1d", "kernel_size": 1, **params}, safe=",")


@pytest.mark.parametrize("inside, outside, field, value", [
    (u(input_shape="1,1,16384", in_channels=1), u(input_shape="1,1,16385", in_channels=1), "input_shape", "16385"),
    (u(input_shape="1,2048,6", in_channels=2048), u(input_shape="1,2049,6", in_channels=2049), "input_shape", "2049"),
    (u(input_shape="1,4,6", out_channels=2048), u(input_shape="1,4,6", out_channels=2049), "out_channels", "2049"),
    (u(input_shape="1,4,16384", step=16383), u(input_shape="1,4,16384", step=16384), "step", "16384"),
    (u(input_shape="1,4,100", out_channels=8, f=7), u(input_shape="1,4,100", out_channels=8, f=8), "f", "8"),
])
def test_the_bounds_are_the_engines(client, inside, outside, field, value):
    r = client.get("/pointwise?" + inside, headers=HX)
    assert r.status_code == 200 and alerts(r.text) == [], alerts(r.text)
    found = alerts(client.get("/pointwise?" + outside, headers=HX).text)
    assert any(field in m and value in m for m in found), found


def test_the_context_builder_draws_a_real_layer_without_http():
    state, errors = pointwise.read_state(QueryParams(REAL_SIZES["resnet"] + "&step=9&f=3"))
    ctx = pointwise.pointwise_context(state)
    assert errors == [] and ctx["level"] == "picture" and ctx["max_diff"] <= 1e-4
    assert ctx["picture"]["in_px"] == (480, 128) and ctx["picture"]["w"]["px"] == (128, 128)  # 2 px a channel
    assert ctx["macs"] == 3136 * 64 * 64 and ctx["params"] == 64 * 64 + 64


@pytest.mark.parametrize("query", [  # the largest answers each level can give
    "type=Conv1d&in_channels=128&out_channels=128&kernel_size=1&input_shape=4,128,64&activation=tanh",  # numbers
    "framework=keras&type=Conv1D&filters=128&kernel_size=1&activation=sigmoid&input_shape=4,64,128",
    "type=Conv1d&in_channels=2048&out_channels=2048&kernel_size=1&input_shape=1,2048,11",  # the widest lens
    "type=Conv1d&in_channels=1&out_channels=15&kernel_size=1&input_shape=1,1,16384",  # the longest input
    "type=Conv1d&in_channels=37&out_channels=37&kernel_size=1&input_shape=1,37,6000&step=5999&f=36",  # the last block
])
def test_any_knob_moves_fragment_is_within_the_budget(client, query):
    text = fragment(client, query)
    assert alerts(text) == [] and len(gzip.compress(text.encode())) <= FRAGMENT_GZIP


@pytest.mark.parametrize("query", ["", REAL_SIZES["embedding"]])
def test_the_stage_names_its_three_parts_at_either_level(client, query):
    text = fragment(client, query)
    stage = text[text.index("data-stage"):]
    for part in ("input", "kernel", "output"):
        assert stage.count(f'data-part="{part}"') == 1, part
