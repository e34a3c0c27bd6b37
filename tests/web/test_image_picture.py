"""/image on the stage component over HTTP: its pictures as PNG URLs (/image/picture: the photo as the layer reads
it, each channel, each map on the legend's scale, the maps as one colour image), their cache headers and
refusals, the embed's twins, and the fragment's weight. The numbers: tests/web/test_image.py."""
import base64
import gzip
import html
import io
import re

import numpy as np
import pytest
from PIL import Image
from starlette.datastructures import QueryParams

from app.core.conv import pad_input
from app.images import diverging, sample
from app.routes.image import image_context, read_state
from tests.web.page import HX, get
from tests.web.test_image import encoded, post
from tests.web.test_picture import FRAGMENT_GZIP

LAYERS = [  # conv with padding (zeros, reflect), groups=1 with four filters and ReLU, pooling, Keras 'same' strided
    "size=64&kernel=sobel_x&padding=2",
    "size=96&kernel=emboss&padding=3&padding_mode=reflect&stride=2",
    "size=128&groups=1&out_channels=4&kernel=random&seed=2&bias=true&bias_value=-9&activation=relu&f=3",
    "type=MaxPool2d&kernel_size=3&stride=3&size=112",
    "framework=keras&type=Conv2D&filters=3&kernel_size=5&strides=2&padding=same&kernel=gaussian&size=256",
]


def urls(text: str) -> list[str]:
    return sorted({html.unescape(u) for u in re.findall(r'src="(/image/picture\?[^"]+)"', text)})


def pixels(client, url: str) -> np.ndarray:
    r = client.get(url)
    assert r.status_code == 200, (url, r.text)
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "public, max-age=86400" and r.headers["etag"]
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))


def state(query: str):
    s, errors = read_state(QueryParams(query))
    assert errors == []
    return s


@pytest.mark.parametrize("query", LAYERS)
def test_every_picture_is_the_engines_numbers(client, query):
    """Each picture of the page, fetched by its URL, is one pixel per value: the input as the layer reads it
    (padding included), a channel in its colour, a map on the legend's scale (app/images.py: diverging)."""
    text = get(client, "/image?" + query, headers=HX).text
    found = urls(text)
    s = state(query)
    ctx = image_context(s)
    y, limit = ctx["output"], ctx["limit"]
    rgb = sample(s.image, s.size).transpose(2, 0, 1).astype(np.float32)[None]
    op = ctx["layer"].stages[0]
    xp = pad_input(rgb, op.padding, op.padding_mode)[0] if s.kind == "conv" else rgb[0]
    seen = set()
    for url in found:
        part, c = re.search(r"&part=(\w+)&c=(\d+)$", url).groups()
        got, c = pixels(client, url), int(c)
        seen.add((part, c))
        if part == "photo":
            assert np.array_equal(got, xp.transpose(1, 2, 0).astype(np.uint8))
        elif part == "input":
            tinted = np.zeros(xp.shape[1:] + (3,), np.uint8)
            tinted[..., c] = xp[c]
            assert np.array_equal(got, tinted)
        elif part == "output":
            assert np.array_equal(got, diverging(y[c], limit))
        else:
            assert part == "composite" and np.array_equal(got, np.clip(np.rint(y.transpose(1, 2, 0)), 0, 255))
    maps = {("output", i) for i in range(y.shape[0])}
    assert {("photo", 0), ("input", 0), ("input", 1), ("input", 2)} | maps <= seen
    assert ("composite", 0) in seen or (s.kind == "conv" and s.groups == 1)
    assert f"+{ctx['picture']['output_limit']}" in text  # the legend says the scale the maps are drawn on
    assert all("at=" not in u and "&f=" not in u for u in found)  # every position and map reuses the pictures


@pytest.mark.parametrize("query", LAYERS)
def test_the_fragment_is_lean(client, query):
    r = client.get("/image?" + query, headers=HX)
    assert r.status_code == 200 and "data:image" not in r.text  # a sample's pictures are URLs, cached apart
    assert len(gzip.compress(r.content)) <= FRAGMENT_GZIP


def test_the_embed_draws_the_same_pictures_and_their_embed_twins_answer_too(client):
    text = get(client, "/embed/image?size=64").text
    found = urls(text)
    assert len(found) >= 8 and found == urls(get(client, "/image?size=64").text)
    for u in found[:3]:
        twin = client.get("/embed" + u)
        assert twin.status_code == 200 and twin.content == client.get(u).content
        assert twin.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("query, words", [
    ("size=64&part=kernel&c=0", "part: one of photo, input, output, composite, got 'kernel'"),
    ("size=64&part=output&c=3", "c: output pictures of this layer are 0 to 2, got 3"),
    ("size=64&part=input&c=3", "c: input pictures of this layer are 0, 1, 2 (R, G, B), got 3"),
    ("size=64&part=photo&c=1", "c: photo pictures of this layer are 0, got 1"),
    ("size=64&groups=1&out_channels=2&part=composite&c=0", "composite pictures of this layer are none"),
    ("size=64&part=output&c=x", "c: a channel or filter number"),
    ("size=64&part=output", "c: a channel or filter number (0, 1, …), got ''"),
    ("size=999&part=output&c=0", "size: Input should be less than or equal to 256"),
    ("kernel=sobel_x&kernel_size=1&part=output&c=0", "3×3 kernel; choose kernel_size 3 or more, got 1"),
    ("size=16&padding=0&kernel_size=7&dilation=4&part=output&c=0", "kernel"),
])
def test_a_refused_picture_names_the_field_the_value_and_what_works(client, query, words):
    for path in ("/image/picture", "/embed/image/picture"):
        r = client.get(f"{path}?{query}")
        assert r.status_code == 422 and r.headers["cache-control"] == "no-store"
        assert r.text.startswith("The picture cannot be drawn: ") and words in r.text, r.text


def test_your_image_is_drawn_in_the_page_never_at_a_url(client):
    """An upload is in no URL: its pictures ride in the answer (data: URLs) and the lens is a POST."""
    r = post(client, encoded("PNG", (120, 90)), "size=64&kernel=sharpen", HX)
    assert r.status_code == 200 and "/image/picture" not in r.text
    photo = re.search(r'id="input-pic" src="(data:image/png;base64,[^"]+)"', r.text)
    assert photo and r.headers["cache-control"] == "no-store"
    full = Image.open(io.BytesIO(base64.b64decode(photo.group(1).split(",")[1])))
    assert full.size == (64 + 2, 48 + 2)  # the photo as the layer reads it (padding 1)
    thumbs = re.findall(r'class="thumb"[^>]*>\s*<img src="data:image/png;base64,([^"]+)"', r.text)
    assert len(thumbs) == 4 + 3  # RGB, R, G, B; three maps: each carried once more, scaled down
    assert all(max(Image.open(io.BytesIO(base64.b64decode(t))).size) <= 48 for t in thumbs)
