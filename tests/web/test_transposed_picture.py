"""/transposed at real sizes over HTTP: the scatter at picture level in a lean fragment, the pictures as PNG URLs
(the engine's values on the legend's scale, cache headers, refusals), the lens (one scatter step: the input value,
where its kernel copy lands and what it adds) against app/core/conv.py, and the played blocks by name.

TRANSPOSED_SIZES is the table; tests/browser/test_real_sizes.py opens it too.
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

from app.core.conv import scatter
from app.core.forward import canonical_weights, random_input, readable_weights, run_layer
from app.core.frameworks import build_layer
from app.core.picture import montage
from app.images import diverging
from tests.web.page import HX, alerts, num, plain, section
from tests.web.test_picture import FRAGMENT_GZIP

TRANSPOSED_SIZES = {  # name -> /transposed query
    "dcgan": "type=ConvTranspose2d&in_channels=32&out_channels=16&kernel_size=4&stride=2&padding=1"
             "&input_shape=1,32,28,28",
    "unet": "framework=keras&type=Conv2DTranspose&filters=3&kernel_size=5&strides=2&padding=same"
            "&input_shape=1,32,32,16",
    "audio1d": "type=ConvTranspose1d&in_channels=50&out_channels=20&kernel_size=4&stride=2&input_shape=1,50,300",
    "cifar_up": "type=ConvTranspose2d&in_channels=3&out_channels=8&kernel_size=3&stride=1&padding=1"
                "&input_shape=1,3,32,32",
    "grouped": "type=ConvTranspose2d&in_channels=16&out_channels=16&kernel_size=3&stride=3&groups=4"
               "&output_padding=2&dilation=2&input_shape=1,16,40,24",
}


def fragment(client, query: str) -> str:
    r = client.get("/transposed?" + query, headers=HX)
    assert r.status_code == 200, r.text[:300]
    return r.text


def played(text: str) -> dict:
    return json.loads(html.unescape(re.search(r'data-transposed="([^"]*)"', text).group(1)))


def engine(query: str):
    """The layer of ``query`` on the numbers the view draws (seed 0): op, input (channels first, one example),
    canonical weight (C_in, C_out/g, *k), bias, and the engine's output (channels first)."""
    q = dict(parse_qsl(query))
    framework = q.pop("framework", "torch")
    shape = tuple(int(v) for v in q.pop("input_shape").split(","))
    spec = {"type": q.pop("type")}
    for k, v in q.items():
        spec[k] = tuple(int(p) for p in v.split(",")) if "," in v else int(v) if v.isdigit() else v
    layer = build_layer(framework, spec, shape)
    keras = framework == "keras"
    x = random_input((1, shape[-1], *shape[1:-1]) if keras else shape, 0)
    weights = readable_weights(layer, 0, "random")
    y = run_layer(layer, np.moveaxis(x, 1, -1) if keras else x, weights)
    cw = canonical_weights(layer, weights)[0]
    return layer.stages[0], x[0], cw["weight"], cw.get("bias"), (np.moveaxis(y, -1, 1) if keras else y)[0]


def test_the_default_and_the_presets_stay_at_the_numbers_level(client):
    for q in ("", "framework=torch&type=ConvTranspose2d&in_channels=3&out_channels=3&kernel_size=4&stride=3"
                  "&dilation=3&input_shape=1,3,6,6"):
        text = fragment(client, q)
        assert "picture-stage" not in text and 'id="s-0"' in text and 'id="d0-0"' in text, q


@pytest.mark.parametrize("name", sorted(TRANSPOSED_SIZES))
def test_real_sizes_open_as_pictures_in_a_lean_fragment(client, name):
    text = fragment(client, TRANSPOSED_SIZES[name])
    assert alerts(text) == []
    assert 'class="picture-stage"' in text and 'id="s-0"' not in text and 'id="d0-0"' not in text
    assert all(text.count(f'data-part="{p}"') == 1 for p in ("input", "kernel", "output")) and "data-stage" in text
    size = len(gzip.compress(text.encode()))
    assert size <= FRAGMENT_GZIP, f"{name}: {size:,} bytes gzip"
    d = played(text)
    assert d["first"] == 0 and 0 < len(d["scatter"]) < d["total"]
    assert set(d["scatter"][0]) == {"label", "channel", "stamp", "contribs"}
    assert len(d["picture"]["boxes"]) == len(d["scatter"]) == len(d["picture"]["markers"])
    assert 'data-point="input"' in text  # steps are input values: one points at the input
    assert "Both ways give the same numbers" in plain(text)
    assert float(re.search(r'data-max-diff="([^"]*)"', text).group(1)) < 1e-3


@pytest.mark.parametrize("name", ["dcgan", "unet", "audio1d"])
def test_pictures_are_the_engine_values_on_the_legend_scale(client, name):
    q = TRANSPOSED_SIZES[name]
    text = fragment(client, q)
    op, x, w, b, y = engine(q)
    limits = [num(v.lstrip("−")) for v in re.findall(r'Colour scale of the \w+"><span>([^<]*)</span>', text)]
    urls = sorted({html.unescape(u) for u in re.findall(r'src="(/transposed/picture\?[^"]+)"', text)})
    inp = next(u for u in urls if "part=input" in u and u.endswith("&c=1"))
    out = next(u for u in urls if "part=output" in u and u.endswith("&c=1"))
    for url, values, limit in ((inp, x[1], limits[0]), (out, y[1], limits[1])):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.headers["etag"]
        assert "public" in r.headers["cache-control"] and "max-age" in r.headers["cache-control"]
        pixels = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
        expected = montage(values.astype(np.float64))
        assert pixels.shape[:2] == expected.shape
        np.testing.assert_array_equal(pixels, diverging(expected, limit))


@pytest.mark.parametrize("name, step", [("dcgan", 5000), ("unet", 9000), ("audio1d", 14_999), ("grouped", 3000)])
def test_the_lens_is_the_scatter_step_of_the_core(client, name, step):
    q = TRANSPOSED_SIZES[name]
    r = client.get(f"/transposed/lens?{q}&step={step}")
    assert r.status_code == 200 and 'id="stamp"' in r.text and "max-age" in r.headers["cache-control"]
    op, x, w, b, y = engine(q)
    positions = int(np.prod(x.shape[1:]))
    c, at = divmod(step, positions)
    pos = tuple(int(v) for v in np.unravel_index(at, x.shape[1:]))
    corner = [p * s for p, s in zip(pos, op.stride)]
    sentence = plain(section(r.text, "stamp-text"))
    assert sentence.startswith(f"x[{c}, {', '.join(map(str, pos))}] = ") and f"canvas [{', '.join(map(str, corner))}]" \
        in sentence
    assert num(sentence.split("=")[1].split("times")[0]) == pytest.approx(float(x[(c, *pos)]))
    adds = [num(t) for t in re.findall(r'<td id="k-\d+"[^>]*>([^<]*)</td>', r.text)]
    assert adds == pytest.approx((float(x[(c, *pos)]) * w[c, 0].astype(np.float64)).ravel().tolist(), abs=0.006)
    # and every stamp added up, cropped, plus the bias, is the engine's output (the scatter is the definition)
    canvas = tuple((n - 1) * s + (k - 1) * d + 1 for n, s, k, d in zip(x.shape[1:], op.stride, op.kernel, op.dilation))
    canvas = tuple(max(cv, p[0] + o) for cv, p, o in zip(canvas, op.padding, y.shape[1:]))
    full = scatter(x, w, op, canvas)[(slice(None), *[slice(p[0], p[0] + o) for p, o in zip(op.padding, y.shape[1:])])]
    np.testing.assert_allclose(full + (0 if b is None else b.reshape(-1, *[1] * op.dims)), y, atol=1e-3)


def test_the_lens_and_the_picture_refuse_in_words(client):
    q = TRANSPOSED_SIZES["dcgan"]
    r = client.get(f"/transposed/lens?{q}&step=25088")
    assert r.status_code == 422 and "steps 0 to 25087), got 25088" in r.text and r.headers["cache-control"] == "no-store"
    for extra, words in (("&part=kernel&c=0", "part: one of input, output, got 'kernel'"),
                         ("&part=input&c=32", "c: this layer's input has channels 0 to 31, got 32"),
                         ("&part=output&c=16", "c: this layer's output has channels 0 to 15, got 16")):
        r = client.get(f"/transposed/picture?{q}{extra}")
        assert r.status_code == 422 and words in r.text, r.text
    r = client.get("/transposed/picture?type=ConvTranspose2d&in_channels=64&out_channels=32&kernel_size=4&stride=2"
                   "&padding=1&input_shape=1,64,28,28&part=input&c=0")
    assert r.status_code == 422 and "50,000,000" in r.text
    text = fragment(client, "type=ConvTranspose2d&in_channels=4&out_channels=1&kernel_size=3&input_shape=1,4,300,300")
    assert any("250,000" in a and "limit" in a for a in alerts(text)), alerts(text)


def test_playing_past_the_block_is_the_fragment_of_its_step(client):
    q = TRANSPOSED_SIZES["dcgan"]
    d = played(fragment(client, q + "&step=7000"))
    assert d["first"] <= 7000 < d["first"] + len(d["scatter"])
    st = d["scatter"][7000 - d["first"]]
    assert d["scatter_texts"][st["label"]] == "7000 of 25088: x[8, 26, 0]" and st["channel"] == 8
    assert str(st["channel"]) in d["sources"]  # the input picture of the step's channel


def test_the_numbers_level_marks_its_three_parts_too(client):
    text = fragment(client, "")
    assert "picture-stage" not in text and all(text.count(f'data-part="{p}"') == 1 for p in ("input", "kernel", "output"))


def test_a_lens_of_a_layer_drawn_number_by_number_is_refused_in_words(client):
    r = client.get("/transposed/lens?step=3")
    assert r.status_code == 422 and "drawn number by number" in r.text and r.headers["cache-control"] == "no-store"
