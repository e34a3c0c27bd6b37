"""/explore at real sizes over HTTP: the zoom level chosen by size, the pictures as PNG URLs (bytes, cache
headers, refusals), the lens fragment's arithmetic against the engine (recomputed here with a plain loop
over the input and weights the engine draws), and the fragment's weight.

REAL_SIZES is the table of layers students bring; the browser tests (tests/browser/test_real_sizes.py)
open the same table.
"""
import gzip
import html
import io
import math
import re
from urllib.parse import parse_qsl

import numpy as np
import pytest
from PIL import Image

from app.core.forward import canonical_weights, random_input, readable_weights, run_layer
from app.core.frameworks import build_layer
from app.core.picture import montage, picture_size
from app.images import diverging
from tests.web.page import HX, alerts, num, plain, section

# name -> /explore query: the layers of the issue, and some invented ones
REAL_SIZES = {
    # input=random: an image-like layer at picture level starts from a photo (tests/web/test_explore_photo.py)
    "cifar": "type=Conv2d&in_channels=3&out_channels=16&kernel_size=3&padding=1&input_shape=1,3,32,32&input=random",
    "resnet": "type=Conv2d&in_channels=32&out_channels=32&kernel_size=3&padding=1&input_shape=1,32,56,56",
    "clip3d": "type=Conv3d&in_channels=3&out_channels=8&kernel_size=3&input_shape=1,3,16,48,48",
    "embedding": "framework=keras&type=Conv1D&filters=100&kernel_size=4&padding=same&activation=relu&input_shape=1,50,300",
    "strided": "framework=keras&type=Conv2D&filters=24&kernel_size=5,5&strides=2,2&dilation_rate=1&padding=same"
               "&input_shape=1,96,80,6",
    "wide1d": "type=Conv1d&in_channels=4&out_channels=8&kernel_size=7&stride=3&dilation=2&input_shape=1,4,2000",
    "thin2d": "type=Conv2d&in_channels=1&out_channels=4&kernel_size=1,5&input_shape=1,1,2,1000&input=random",  # a strip
}
FRAGMENT_GZIP = 120_000
STAGE_VIEWS = ("/explore", "/pool", "/transposed")  # the views served at picture level by app/routes/stage.py


def fragment(client, query: str) -> str:
    r = client.get("/explore?" + query, headers=HX)
    assert r.status_code == 200, r.text[:300]
    return r.text


def picture_urls(text: str) -> list[str]:
    return sorted({html.unescape(u) for u in re.findall(r'src="(/explore/picture\?[^"]+)"', text)})


def reference(query: str, step: int, f: int = 0) -> dict:
    """The layer of ``query`` on the numbers the views draw (seed 0), from the core engine, and the output at
    ``step`` of filter ``f`` written out by a plain loop: per input channel of the filter's group, its sum of
    input × weight over the window; the bias; the output the engine computes there."""
    q = dict(parse_qsl(query))
    framework = q.pop("framework", "torch")
    assert q.pop("input", "random") == "random"  # the random integers drawn here
    shape = tuple(int(v) for v in q.pop("input_shape").split(","))
    spec = {"type": q.pop("type")}
    for k, v in q.items():
        spec[k] = tuple(int(p) for p in v.split(",")) if "," in v else int(v) if v.isdigit() else v
    layer = build_layer(framework, spec, shape)
    keras = framework == "keras"
    torch_shape = (shape[0], shape[-1], *shape[1:-1]) if keras else shape
    x = random_input(torch_shape, 0)  # drawn in PyTorch's layout (the view's rule: same numbers in both)
    xf = np.moveaxis(x, 1, -1) if keras else x
    weights = readable_weights(layer, 0, "random")
    y = run_layer(layer, xf, weights)
    y = np.moveaxis(y, -1, 1) if keras else y
    cw = canonical_weights(layer, weights)[0]
    w, b = cw["weight"], cw.get("bias")
    op = layer.stages[0]
    xp = np.pad(x[0], [(0, 0), *op.padding])  # zeros padding
    out = tuple(int(v) for v in np.unravel_index(step, y.shape[2:]))
    cg = w.shape[1]
    first = f // (op.out_channels // op.groups) * cg
    sums = []
    for local in range(cg):
        total = 0.0
        for tap in np.ndindex(*op.kernel):
            cell = tuple(o * s + t * d for o, s, t, d in zip(out, op.stride, tap, op.dilation))
            total += float(xp[(first + local, *cell)]) * float(w[(f, local, *tap)])
        sums.append(total)
    return {"out": list(out), "sums": sums, "bias": 0.0 if b is None else float(b[f]),
            "value": float(y[(0, f, *out)]), "xp": xp, "y": y[0]}


# ---------------------------------------------------------------- zoom level

def test_default_layer_stays_at_the_numbers_level(client):
    for dims in ("Conv1d", "Conv2d", "Conv3d"):
        text = fragment(client, f"type={dims}")
        assert "picture-stage" not in text and 'id="x0-0"' in text and 'id="y-0"' in text
        assert all(f'data-part="{p}"' in text for p in ("input", "kernel", "output"))


@pytest.mark.parametrize("name", sorted(REAL_SIZES))
def test_real_sizes_open_as_pictures_in_a_lean_fragment(client, name):
    text = fragment(client, REAL_SIZES[name])
    assert alerts(text) == []
    assert 'class="picture-stage"' in text and 'id="x0-0"' not in text and 'id="y-0"' not in text
    assert all(text.count(f'data-part="{p}"') == 1 for p in ("input", "kernel", "output"))
    assert "data-stage" in text
    size = len(gzip.compress(text.encode()))
    assert size <= FRAGMENT_GZIP, f"{name}: {size:,} bytes gzip"
    urls = picture_urls(text)
    assert any("part=input" in u for u in urls) and any("part=output" in u for u in urls)


def test_picture_urls_do_not_change_with_the_step_or_the_filter(client):
    q = REAL_SIZES["cifar"]
    a, b = picture_urls(fragment(client, q)), picture_urls(fragment(client, q + "&step=300&f=3"))
    assert a == b


def test_sizes_past_the_old_caps_run_and_past_the_engine_limits_are_refused_naming_the_limit(client):
    text = fragment(client, "type=Conv2d&in_channels=1&out_channels=1&kernel_size=3&input_shape=1,1,400,600")
    assert alerts(text) == [] and "picture-stage" in text
    text = fragment(client, "type=Conv2d&in_channels=3&out_channels=4&kernel_size=3&input_shape=1,3,300,300")
    assert any("250,000" in a and "limit" in a for a in alerts(text)), alerts(text)
    text = fragment(client, "type=Conv3d&in_channels=3&out_channels=8&kernel_size=3&input_shape=1,3,16,64,64")
    assert any("250,000" in a for a in alerts(text)), alerts(text)
    text = fragment(client, "type=Conv2d&in_channels=64&out_channels=64&kernel_size=7&padding=3&input_shape=1,64,56,56")
    assert any("50,000,000" in a for a in alerts(text)), alerts(text)


# ---------------------------------------------------------------- the pictures

@pytest.mark.parametrize("name", ["cifar", "clip3d", "embedding"])
def test_pictures_are_the_engine_values_on_the_legend_scale(client, name):
    q = REAL_SIZES[name]
    text = fragment(client, q)
    ref = reference(q, 0)
    urls = picture_urls(text)
    inp = next(u for u in urls if "part=input" in u and u.endswith("&c=0"))
    out = next(u for u in urls if "part=output" in u and u.endswith("&c=1"))
    in_limit = num(re.search(r'Colour scale of the input"><span>([^<]*)</span>', text).group(1).lstrip("−"))
    out_limit = num(re.search(r'Colour scale of the output"><span>([^<]*)</span>', text).group(1).lstrip("−"))
    assert in_limit == 3  # the input's integers reach ±3
    # the output's scale ends at the 99.5th percentile of its magnitudes (a few extremes clip)
    assert out_limit == pytest.approx(np.percentile(np.abs(ref["y"]), 99.5), abs=0.005)
    assert np.mean(np.abs(ref["y"]) > out_limit) <= 0.006  # (the legend rounds to 2 decimals)
    for url, values, limit in ((inp, ref["xp"][0] if ref["xp"].ndim > 2 else ref["xp"], in_limit),
                               (out, ref["y"][1], out_limit)):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert "max-age" in r.headers["cache-control"] and "public" in r.headers["cache-control"]
        assert r.content.startswith(b"\x89PNG\r\n\x1a\n") and r.headers["etag"]
        pixels = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
        if values.ndim == 1:
            values = values[None]
        expected = montage(values) if values.ndim == 3 else values
        assert pixels.shape[:2] == (picture_size(values.shape) if values.ndim == 3 else values.shape)
        drawn = ~np.isnan(expected)
        np.testing.assert_array_equal(pixels[drawn], diverging(np.where(drawn, expected, 0), limit)[drawn])


def test_a_picture_is_the_same_bytes_each_time_and_answers_if_none_match(client):
    url = picture_urls(fragment(client, REAL_SIZES["resnet"]))[0]
    a, b = client.get(url), client.get(url)
    assert a.content == b.content and a.headers["etag"] == b.headers["etag"]
    assert client.get(url, headers={"If-None-Match": a.headers["etag"]}).status_code == 304


@pytest.mark.parametrize("extra, words", [
    ("&part=weights&c=0", "part: one of input, kernel, output"),
    ("&part=input&c=3", "c: this layer's input has channels 0 to 2, got 3"),
    ("&part=output&c=99", "c: this layer's output has filters 0 to 15, got 99"),
    ("&part=output&c=-1", "c: a channel or filter number"),
    ("&part=output", "c: a channel or filter number"),
    ("&part=kernel&c=0", "part: the kernel is drawn as a picture for 1D layers only"),
])
def test_a_bad_picture_query_is_a_422_in_words(client, extra, words):
    r = client.get("/explore/picture?" + REAL_SIZES["cifar"] + extra)
    assert r.status_code == 422 and words in r.text and r.headers["cache-control"] == "no-store"


def test_a_picture_of_a_layer_over_the_limits_is_refused_before_any_work(client):
    r = client.get("/explore/picture?type=Conv2d&in_channels=3&out_channels=4&kernel_size=3"
                   "&input_shape=1,3,300,300&part=input&c=0")
    assert r.status_code == 422 and "250,000" in r.text


# ---------------------------------------------------------------- the lens

@pytest.mark.parametrize("name, step, f", [("cifar", 700, 3), ("resnet", 3000, 5), ("clip3d", 20_000, 2),
                                           ("embedding", 31, 7), ("strided", 900, 0), ("wide1d", 600, 1)])
def test_the_lens_writes_out_the_engine_arithmetic(client, name, step, f):
    q = REAL_SIZES[name]
    r = client.get(f"/explore/lens?{q}&step={step}&f={f}")
    assert r.status_code == 200 and r.text.lstrip().startswith('<div class="arith" id="arith"')
    ref = reference(q, step, f)
    assert f"Output {ref['out']} of filter {f}" in plain(r.text)
    lines = re.findall(r"<li>(.*?)</li>", section(r.text, "arith-lines"), re.DOTALL)
    shown = [ln for ln in lines if plain(ln).startswith("channel ")]
    assert shown and len(shown) == min(8, len(ref["sums"]))
    for i, line in enumerate(shown):
        text = plain(line)
        assert text.startswith(f"channel {i}:") or text.startswith("channel ")
        assert num(text.rsplit("=", 1)[1]) == pytest.approx(round(ref["sums"][int(text.split()[1].rstrip(":"))], 2),
                                                               abs=0.006)
    rest = [plain(ln) for ln in lines if plain(ln).startswith("channels ")]
    if rest:
        assert num(rest[0].rsplit("=", 1)[1]) == pytest.approx(sum(ref["sums"][len(shown):]), abs=0.006)
    total = plain(section(r.text, "arith-total"))
    assert num(re.search(r"bias \(([^)]*)\)", total).group(1)) == pytest.approx(ref["bias"])
    assert num(total.rsplit("=", 1)[1]) == pytest.approx(ref["value"], abs=0.006)


def test_the_lens_is_cached_and_its_boxes_are_placed_by_the_server(client):
    q = REAL_SIZES["resnet"]
    r = client.get(f"/explore/lens?{q}&step=57")
    assert r.status_code == 200 and "max-age" in r.headers["cache-control"]
    now = html.unescape(re.search(r'data-now="([^"]*)"', r.text).group(1))
    # output 57 = row 1, column 1 of 56×56; the window's corner is padded cell (1, 1) of 58×58
    assert '"markers": [[1.786, 1.786, 1.786, 1.786]]' in now
    assert '"boxes": [[[1.724, 1.724, 5.172, 5.172]]]' in now


def test_the_fragment_plays_a_block_with_its_boxes(client):
    text = fragment(client, REAL_SIZES["resnet"] + "&step=2000")
    d = __import__("json").loads(html.unescape(re.search(r'data-explore="([^"]*)"', text).group(1)))
    assert d["first"] <= 2000 < d["first"] + len(d["steps"]) and d["total"] == 56 * 56
    assert len(d["picture"]["boxes"]) == len(d["steps"]) == len(d["picture"]["markers"])
    assert "origins" not in d  # the numbers level's cells: not drawn here
    assert math.prod((56, 56)) > len(d["steps"])


@pytest.mark.parametrize("extra, words", [
    ("&step=1024", "step: this layer has 1024 steps per filter (0 to 1023), got 1024"),
    ("&step=99999", "got 99999"),
    ("&f=16", "f: the filter shown must be below filters=16, got 16"),
])
def test_a_lens_out_of_range_is_a_422_naming_the_field_and_its_range_not_step_0(client, extra, words):
    r = client.get("/explore/lens?" + REAL_SIZES["cifar"] + extra)
    assert r.status_code == 422 and words in r.text and r.headers["cache-control"] == "no-store", r.text
    assert client.get("/explore/lens?" + REAL_SIZES["cifar"] + "&step=1023").status_code == 200



def test_every_stage_view_serves_its_pictures_and_lens_from_one_router(client):
    from app.routes import stage
    paths = {r.path for r in stage.router.routes}
    for view in STAGE_VIEWS:
        for what in ("picture", "lens"):
            assert f"{view}/{what}" in paths and f"/embed{view}/{what}" in paths


def test_the_1d_picture_says_what_is_drawn_and_names_no_empty_channel_range(client):
    text = plain(fragment(client, REAL_SIZES["embedding"]))  # 50 channels, all drawn as rows, 8 written out
    assert "all are drawn (a row each), the first 8 written out" in text and "the first 8 are drawn" not in text
    few = fragment(client, "type=Conv1d&in_channels=3&out_channels=4&kernel_size=3&input_shape=1,3,900")
    assert "picture-stage" in few and "data-more-label" not in few and "the first" not in plain(few)
    many = fragment(client, REAL_SIZES["resnet"])  # 2D: the deck draws the first 8
    assert "the first 8 are drawn" in plain(many) and 'data-more-label="channels 8–31"' in many
