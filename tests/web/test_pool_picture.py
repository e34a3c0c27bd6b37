"""/pool at real sizes over HTTP: the zoom level chosen by size, the pictures as PNG URLs (the engine's values
on the legend's scale, cache headers, refusals), the lens's arithmetic against app/core/pool.py (pool_step and
pool_forward), the played blocks with named fields, and the fragment's weight.

POOL_SIZES is the table of pooling layers students bring; tests/browser/test_real_sizes.py opens the same table.
"""
import gzip
import html
import io
import json
import re
from urllib.parse import parse_qsl

import numpy as np
import pytest
from PIL import Image

from app.core.forward import random_input, run_layer
from app.core.frameworks import build_layer
from app.core.picture import montage
from app.core.pool import pool_forward, pool_step
from app.images import diverging
from tests.web.page import HX, alerts, num, plain, section
from tests.web.test_picture import FRAGMENT_GZIP

# name -> /pool query: the real sizes, and invented ones
POOL_SIZES = {
    "cifar": "type=MaxPool2d&kernel_size=2&input_shape=1,3,32,32",
    "resnet": "type=AvgPool2d&kernel_size=3&stride=2&padding=1&input_shape=1,32,56,56",
    "clip3d": "type=MaxPool3d&kernel_size=2&input_shape=1,3,16,32,32",
    "embedding": "framework=keras&type=MaxPooling1D&pool_size=3&input_shape=1,300,50",  # 50 channels × 300
    "keras_same": "framework=keras&type=AveragePooling2D&pool_size=3&strides=2&padding=same&input_shape=1,75,61,8",
    "ceil": "type=MaxPool2d&kernel_size=3&stride=2&ceil_mode=true&input_shape=1,64,112,28",  # ResNet's stem pool
    "divisor": "type=AvgPool3d&kernel_size=2,3,3&padding=0,1,1&divisor_override=7&input_shape=2,4,8,24,30",
    "long1d": "type=AvgPool1d&kernel_size=4&stride=3&padding=2&count_include_pad=false&input_shape=1,2,5000",
}


def fragment(client, query: str) -> str:
    r = client.get("/pool?" + query, headers=HX)
    assert r.status_code == 200, r.text[:300]
    return r.text


def picture_urls(text: str) -> list[str]:
    return sorted({html.unescape(u) for u in re.findall(r'src="(/pool/picture\?[^"]+)"', text)})


def played(text: str) -> dict:
    return json.loads(html.unescape(re.search(r'data-pool="([^"]*)"', text).group(1)))


def engine(query: str):
    """The layer of ``query`` on the numbers the view draws (seed 0): its op, the first example's input
    (channels first) and the engine's output."""
    q = dict(parse_qsl(query))
    framework = q.pop("framework", "torch")
    shape = tuple(int(v) for v in q.pop("input_shape").split(","))
    spec = {"type": q.pop("type")}
    for k, v in q.items():
        spec[k] = tuple(int(p) for p in v.split(",")) if "," in v else int(v) if v.isdigit() else \
            {"true": True, "false": False}.get(v, v)
    layer = build_layer(framework, spec, shape)
    keras = framework == "keras"
    x = random_input((shape[0], shape[-1], *shape[1:-1]) if keras else shape, 0)
    y = run_layer(layer, np.moveaxis(x, 1, -1) if keras else x, [])
    return layer.stages[0], x[0], (np.moveaxis(y, -1, 1) if keras else y)[0]


def test_the_default_and_the_presets_stay_at_the_numbers_level(client):
    for q in ("", "framework=torch&type=MaxPool1d&kernel_size=2&stride=2&input_shape=4,2,48",
              "type=MaxPool3d&kernel_size=2&input_shape=1,2,4,4,4"):
        text = fragment(client, q)
        assert "picture-stage" not in text and 'id="x0-0"' in text and 'id="y0-0"' in text, q


@pytest.mark.parametrize("name", sorted(POOL_SIZES))
def test_real_sizes_open_as_pictures_in_a_lean_fragment(client, name):
    text = fragment(client, POOL_SIZES[name])
    assert alerts(text) == []
    assert 'class="picture-stage"' in text and 'id="x0-0"' not in text and 'id="y0-0"' not in text
    assert all(text.count(f'data-part="{p}"') == 1 for p in ("input", "kernel", "output")) and "data-stage" in text
    size = len(gzip.compress(text.encode()))
    assert size <= FRAGMENT_GZIP, f"{name}: {size:,} bytes gzip"
    urls = picture_urls(text)
    assert any("part=input" in u for u in urls) and any("part=output" in u for u in urls)
    d = played(text)
    assert d["first"] == 0 and 0 < len(d["steps"]) <= d["total"] and "cells" not in d["steps"][0]
    assert len(d["picture"]["boxes"]) == len(d["steps"])


@pytest.mark.parametrize("name", ["cifar", "clip3d", "embedding", "ceil", "divisor"])
def test_pictures_are_the_engine_values_on_the_legend_scale(client, name):
    q = POOL_SIZES[name]
    text = fragment(client, q)
    op, x, y = engine(q)
    np.testing.assert_array_equal(pool_forward(x[None], op)[0], y)  # the engine is the core's pooling
    limits = [num(v.lstrip("−")) for v in re.findall(r'Colour scale of the \w+"><span>([^<]*)</span>', text)]
    urls = picture_urls(text)
    inp = next(u for u in urls if "part=input" in u and u.endswith("&c=1"))
    out = next(u for u in urls if "part=output" in u and u.endswith("&c=1"))
    for url, values, limit in ((inp, x[1], limits[0]), (out, y[1], limits[1])):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.headers["etag"]
        assert "max-age" in r.headers["cache-control"] and "public" in r.headers["cache-control"]
        pixels = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
        if "part=input" in url:  # drawn with its padding (and ceil_mode's overhang) around it, grey
            before = [p[0] for p in op.padding]
            drawn = np.full([b - a for a, b in zip(*_extent(op, x.shape[1:], y.shape[1:]))], np.nan)
            drawn[tuple(slice(b, b + n) for b, n in zip(before, x.shape[1:]))] = values
            values = drawn
        expected = montage(values)
        assert pixels.shape[:2] == expected.shape
        real = ~np.isnan(expected)
        np.testing.assert_array_equal(pixels[real], diverging(np.where(real, expected, 0), limit)[real])
        assert (pixels[~real] == 128).all()


def _extent(op, spatial, out):
    """(lows, highs) of the drawn input coordinates per axis, as pool.py draws them (written again here)."""
    lows = [-p[0] for p in op.padding]
    highs = [max(n + p[1], (o - 1) * s - p[0] + (k - 1) * d + 1)
             for p, n, o, s, k, d in zip(op.padding, spatial, out, op.stride, op.kernel, op.dilation)]
    return lows, highs


@pytest.mark.parametrize("name, step", [("cifar", 200), ("resnet", 700), ("clip3d", 1500), ("embedding", 77),
                                        ("keras_same", 600), ("ceil", 700), ("divisor", 300), ("long1d", 1600)])
def test_the_lens_writes_out_the_core_arithmetic(client, name, step):
    q = POOL_SIZES[name]
    r = client.get(f"/pool/lens?{q}&step={step}")
    assert r.status_code == 200 and r.text.lstrip().startswith('<div class="arith" id="arith"')
    assert "max-age" in r.headers["cache-control"]
    op, x, y = engine(q)
    at = tuple(int(v) for v in np.unravel_index(step, y.shape[1:]))
    core = pool_step(x, op, at)
    assert f"Output {list(at)} of every channel" in plain(r.text)
    lines = [plain(li) for li in re.findall(r"<li>(.*?)</li>", section(r.text, "arith-lines"), re.DOTALL)]
    assert len(lines) == min(8, x.shape[0])
    for c, line in enumerate(lines):
        ch = core.channels[c]
        assert line.startswith(f"channel {c}: {'max' if op.kind == 'max' else '('}")
        value = num(re.search(r"= ([^=,]*?)(, at input|$)", line).group(1))
        assert value == pytest.approx(float(y[(c, *at)]), abs=0.006) and value == pytest.approx(ch.value, abs=0.006)
        if op.kind == "avg":
            assert f"/ {core.divisor.value} = " in line  # the divisor the core counts
        else:
            assert f"at input position {list(ch.winner)}" in line
    why = plain(section(r.text, "arith-why"))
    assert why and (op.kind == "max" or f"divisor {core.divisor.value}" in why)


def test_the_lens_and_the_picture_refuse_in_words(client):
    q = POOL_SIZES["cifar"]
    r = client.get(f"/pool/lens?{q}&step=256")
    assert r.status_code == 422 and "step: this layer has 256 steps (0 to 255), got 256" in r.text
    assert r.headers["cache-control"] == "no-store"
    for extra, words in (("&part=kernel&c=0", "part: one of input, output, got 'kernel'"),
                         ("&part=input&c=3", "c: this layer has channels 0 to 2, got 3"),
                         ("&part=output&c=x", "c: a channel or filter number")):
        r = client.get(f"/pool/picture?{q}{extra}")
        assert r.status_code == 422 and words in r.text and r.headers["cache-control"] == "no-store", r.text
    r = client.get("/pool/picture?type=MaxPool2d&kernel_size=2&input_shape=1,4,300,300&part=input&c=0")
    assert r.status_code == 422 and "250,000" in r.text


def test_sizes_past_the_engine_limits_are_refused_naming_the_limit(client):
    text = fragment(client, "type=MaxPool2d&kernel_size=2&input_shape=1,3,300,300")
    assert any("250,000" in a and "limit" in a for a in alerts(text)), alerts(text)
    text = fragment(client, "type=AvgPool3d&kernel_size=2&input_shape=1,8,64,64,64")
    assert any("250,000" in a for a in alerts(text)), alerts(text)


def test_a_block_outside_the_first_is_the_fragment_of_its_step(client):
    q = POOL_SIZES["resnet"]
    d = played(fragment(client, q + "&step=500"))
    assert d["first"] <= 500 < d["first"] + len(d["steps"]) and d["total"] == 28 * 28
    step = d["steps"][500 - d["first"]]
    assert set(step) == {"label", "title", "why", "heads", "values", "afters"}
    assert d["texts"][step["label"]] == "500 of 784: output [17, 24]"


@pytest.mark.parametrize("query", ["", "type=AvgPool2d&kernel_size=3&padding=1&input_shape=1,3,9,9",
                                   "type=MaxPool3d&kernel_size=2&input_shape=1,2,4,4,4"])
def test_the_numbers_level_marks_its_three_parts_too(client, query):
    text = fragment(client, query)
    assert "picture-stage" not in text and all(text.count(f'data-part="{p}"') == 1 for p in ("input", "kernel", "output"))
