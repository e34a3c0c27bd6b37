"""/explore's photo input (issue 20): image-like layers at picture level start from one of /image's photos.

The array against the photo cropped and scaled by a reference path written here (numpy block means of the
PNG read afresh), the option's default by layer kind, the URL round trip, the lens's arithmetic on a photo
against a plain loop and the engine, the input picture against the photo, the numbers level on a photo, and
bad values named with what works.
"""
import html
import io
import re
from urllib.parse import parse_qsl

import numpy as np
import pytest
from PIL import Image

from app.core.forward import canonical_weights, random_input, readable_weights, run_layer
from app.core.frameworks import build_layer
from app.images import SAMPLE_DIR, photo_input
from tests.web.page import HX, alerts, cells, num, plain, section

CIFAR = "type=Conv2d&in_channels=3&out_channels=16&kernel_size=3&padding=1&input_shape=1,3,64,64"
GREY = "type=Conv2d&in_channels=1&out_channels=4&kernel_size=5&input_shape=1,1,48,80"
KERAS = "framework=keras&type=Conv2D&filters=8&kernel_size=3,3&input_shape=1,40,40,3"
SMALL = "type=Conv2d&in_channels=3&out_channels=2&kernel_size=3&input_shape=1,3,6,6"  # numbers level


def reference_photo(channels: int, height: int, width: int) -> np.ndarray:
    """chelsea.png read afresh, the centred crop with the layer's aspect, block means over whole blocks (the
    sizes below divide the crop exactly), 0..1 in hundredths."""
    rgb = np.asarray(Image.open(SAMPLE_DIR / "chelsea.png").convert("RGB"), dtype=np.float64)
    h, w = rgb.shape[:2]
    if w * height > h * width:
        ch, cw = h, round(h * width / height)
    else:
        ch, cw = round(w * height / width), w
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = rgb[top:top + ch, left:left + cw]
    planes = crop.transpose(2, 0, 1) if channels == 3 else (crop @ [0.299, 0.587, 0.114])[None]
    fy, fx = ch // height, cw // width
    assert (fy * height, fx * width) == (ch, cw)
    means = planes.reshape(channels, height, fy, width, fx).mean(axis=(2, 4))
    return np.round(means / 255, 2)


def fragment(client, query: str) -> str:
    r = client.get("/explore?" + query, headers=HX)
    assert r.status_code == 200, r.text[:300]
    return r.text


def page(client, query: str) -> str:
    r = client.get("/explore?" + query)
    assert r.status_code == 200, r.text[:300]
    return r.text


def selected_input(text: str) -> str | None:
    m = re.search(r'<select id="input" name="input">(.*?)</select>', text, re.DOTALL)
    return m and re.search(r'<option value="(\w+)" selected>', m.group(1)).group(1)


def input_picture(client, text: str, c: int = 0) -> tuple[str, np.ndarray]:
    url = next(html.unescape(u) for u in re.findall(r'src="(/explore/picture\?[^"]+)"', text)
               if "part=input" in u and u.endswith(f"&amp;c={c}"))
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    return url, np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"), dtype=np.float64)


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ [0.299, 0.587, 0.114]


# ---------------------------------------------------------------- the array

@pytest.mark.parametrize("channels, height, width", [(3, 85, 85), (1, 85, 85), (3, 34, 128), (1, 170, 256),
                                                     (3, 17, 17), (1, 5, 8)])
def test_the_input_is_the_photo_cropped_and_box_scaled(channels, height, width):
    x = photo_input("chelsea", channels, height, width)
    ref = reference_photo(channels, height, width)
    assert x.shape == ref.shape == (channels, height, width) and x.dtype == np.float32
    diff = np.abs(x.astype(np.float64) - ref)
    assert diff.max() <= 0.0100001  # a mean on a rounding tie may round the other way
    assert np.mean(diff < 1e-6) >= 0.99


def test_enlarging_repeats_pixels_and_other_channel_counts_are_refused():
    crop, big = photo_input("chelsea", 1, 170, 170), photo_input("chelsea", 1, 340, 340)
    assert np.abs(crop - reference_photo(1, 170, 170)).max() <= 0.0100001  # the crop as it is (ties may round up)
    for dy in (0, 1):
        for dx in (0, 1):
            np.testing.assert_array_equal(big[:, dy::2, dx::2], crop)
    with pytest.raises(ValueError, match="1 \\(grey\\) or 3"):
        photo_input("chelsea", 2, 8, 8)


# ---------------------------------------------------------------- the default, by layer kind

@pytest.mark.parametrize("query, kind", [
    (CIFAR, "photo"),  # RGB at picture level
    (GREY, "photo"),  # grey at picture level
    (KERAS, "photo"),  # channels last, same rule
    (SMALL, "random"),  # RGB that fits as numbers: the small integers stay
    ("type=Conv2d&in_channels=1&out_channels=1&kernel_size=3&input_shape=1,1,8,8", "random"),
    ("type=Conv2d&in_channels=3&out_channels=3&kernel_size=3&groups=3&input_shape=1,3,40,40", "photo"),
    ("type=Conv2d&in_channels=1&out_channels=4&kernel_size=1,5&input_shape=1,1,2,1000", "random"),  # a strip
    ("type=Conv2d&in_channels=1&out_channels=4&kernel_size=3&input_shape=1,1,20,300", "random"),  # 15:1
    ("type=Conv2d&in_channels=1&out_channels=4&kernel_size=3&input_shape=1,1,20,80", "photo"),  # 4:1
])
def test_the_default_input_by_layer_kind(client, query, kind):
    text = page(client, query)
    assert alerts(text) == [] and selected_input(text) == kind
    note = plain(re.search(r'<p class="input-note">(.*?)</p>', text).group(1))
    if kind == "photo":
        assert "Chelsea the cat" in note and "Stefan van der Walt" in note and "CC0" in note
        assert "Use random numbers instead" in note
    else:
        assert "random integers from seed 0" in note and "Use a photo instead" in note


@pytest.mark.parametrize("query", [
    "",  # the default layer: 2 channels
    "type=Conv2d&in_channels=2&out_channels=2&kernel_size=3&input_shape=1,2,64,64",
    "type=Conv2d&in_channels=4&out_channels=2&kernel_size=3&input_shape=1,4,64,64",
    "type=Conv3d&in_channels=3&out_channels=2&kernel_size=3&input_shape=1,3,8,32,32",  # a clip
    "type=Conv1d&in_channels=3&out_channels=2&kernel_size=3&input_shape=1,3,900",
    "type=Conv1d&in_channels=1&out_channels=2&kernel_size=3&input_shape=1,1,900",
])
def test_layers_that_are_not_images_stay_random_with_no_input_knob(client, query):
    text = page(client, query)
    assert alerts(text) == [] and selected_input(text) is None and "input-note" not in text
    assert 'name="input"' not in text
    asked = fragment(client, query + "&input=photo")  # asked for anyway (a form sent before a channel change)
    assert alerts(asked) == [] and "input-note" not in asked


# ---------------------------------------------------------------- URL = state

def test_the_option_round_trips_through_the_canonical_url(client):
    for query, written in [(CIFAR, None), (CIFAR + "&input=photo", None), (CIFAR + "&input=random", "random"),
                           (SMALL, None), (SMALL + "&input=photo", "photo"), (SMALL + "&input=random", None)]:
        r = client.get("/explore?" + query, headers=HX)
        url = r.headers["hx-replace-url"]
        assert dict(parse_qsl(url.split("?", 1)[1])).get("input") == written, (query, url)
        again = client.get(url, headers=HX)
        assert again.headers["hx-replace-url"] == url and again.text == r.text
    photo, random = fragment(client, CIFAR), fragment(client, CIFAR + "&input=random")
    a, b = input_picture(client, photo)[0], input_picture(client, random)[0]
    assert "input=" not in a and "&input=random" in b  # the pictures are a pure function of their URL
    # the page's link to the other input is that input's canonical URL
    link = html.unescape(re.search(r'<a href="([^"]+)" data-input="random">', photo).group(1))
    assert client.get(link, headers=HX).headers["hx-replace-url"] == link


def test_a_photo_asked_for_survives_a_size_the_numbers_fit_and_a_dimension_switch(client):
    big = fragment(client, CIFAR)
    form = "type=Conv2d&in_channels=3&out_channels=16&kernel_size=3&padding=1&size=6&size=6&input=photo"
    small = page(client, form)  # the form shrinks the layer, sending the select's value
    assert selected_input(small) == "photo" and 'id="x0-0"' in small and "picture-stage" in big
    to_3d = html.unescape(re.search(r'<a [^>]*href="([^"]*type=Conv3d[^"]*)"', small).group(1))
    assert "input=" not in to_3d
    back = html.unescape(re.search(r'<a [^>]*href="([^"]*type=Conv2d[^"]*)"', fragment(client, to_3d.split("?")[1]))
                         .group(1))
    assert "input=" not in back  # back in 2D: the layer's default again


# ---------------------------------------------------------------- the numbers the page shows

def engine(query: str, x: np.ndarray) -> tuple:
    """The layer of ``query`` (PyTorch words) run by the engine on ``x`` with the view's weights (seed 0)."""
    q = dict(parse_qsl(query))
    q.pop("input", None)
    shape = tuple(int(v) for v in q.pop("input_shape").split(","))
    spec = {"type": q.pop("type")}
    spec.update({k: int(v) for k, v in q.items()})
    layer = build_layer("torch", spec, shape)
    weights = readable_weights(layer, 0, "random")
    cw = canonical_weights(layer, weights)[0]
    return layer.stages[0], run_layer(layer, x, weights), cw["weight"], cw["bias"]


@pytest.mark.parametrize("step, f", [(0, 0), (2080, 5), (4095, 15)])
def test_the_lens_on_a_photo_is_the_engine_arithmetic_on_the_photo(client, step, f):
    x = photo_input("chelsea", 3, 64, 64)[None].astype(np.float32)
    op, y, w, b = engine(CIFAR, x)
    xp = np.pad(x[0], [(0, 0), *op.padding])
    out = np.unravel_index(step, y.shape[2:])
    r = client.get(f"/explore/lens?{CIFAR}&step={step}&f={f}")
    assert r.status_code == 200
    lines = [plain(li) for li in re.findall(r"<li>(.*?)</li>", section(r.text, "arith-lines"), re.DOTALL)]
    assert len(lines) == 3
    for c, line in enumerate(lines):
        window = xp[c, out[0]:out[0] + 3, out[1]:out[1] + 3].reshape(-1)
        terms = line.split(":", 1)[1].rsplit("=", 1)[0].split(" + ")
        inputs = [num(t.split("×")[0]) for t in terms]
        assert inputs == pytest.approx(window.astype(np.float64).round(2).tolist(), abs=1e-9)  # the photo's pixels
        loop = sum(float(a) * float(k) for a, k in zip(window, w[f, c].reshape(-1)))
        assert num(line.rsplit("=", 1)[1]) == pytest.approx(loop, abs=0.006)
    total = plain(section(r.text, "arith-total"))
    assert num(total.rsplit("=", 1)[1]) == pytest.approx(float(y[(0, f, *out)]), abs=0.006)
    assert num(re.search(r"bias \(([^)]*)\)", total).group(1)) == pytest.approx(float(b[f]))
    # and random is one word away: other numbers
    other = client.get(f"/explore/lens?{CIFAR}&step={step}&f={f}&input=random")
    assert other.status_code == 200 and section(other.text, "arith-lines") != section(r.text, "arith-lines")


def test_the_input_picture_is_the_photo_and_random_is_noise(client):
    text = fragment(client, GREY)
    _, png = input_picture(client, text)
    photo = photo_input("chelsea", 1, 48, 80)[0].astype(np.float64)
    assert png.shape[:2] == photo.shape
    # 0 is white and the scale's end full red: the brighter the pixel, the darker its square
    r = np.corrcoef(luma(png).ravel(), photo.ravel())[0, 1]
    assert r < -0.98, r
    # against the photo itself, read afresh and scaled by Pillow to the same size
    seen = np.asarray(Image.open(SAMPLE_DIR / "chelsea.png").convert("L").crop((0, 8, 256, 162)).resize((80, 48)))
    assert np.corrcoef(luma(png).ravel(), seen.ravel())[0, 1] < -0.9
    _, noise = input_picture(client, fragment(client, GREY + "&input=random"))
    assert abs(np.corrcoef(luma(noise).ravel(), seen.ravel())[0, 1]) < 0.2
    # each RGB channel is drawn from its own plane
    rgb = fragment(client, CIFAR)
    for c in range(3):
        _, plane = input_picture(client, rgb, c)
        x = np.pad(photo_input("chelsea", 3, 64, 64)[c], 1).astype(np.float64)
        assert np.corrcoef(luma(plane).ravel(), x.ravel())[0, 1] < -0.98


def test_the_numbers_level_on_a_photo_shows_the_photo_and_runs_on_it(client):
    text = fragment(client, SMALL + "&input=photo")
    x = photo_input("chelsea", 3, 6, 6)
    for c in range(3):
        shown = cells(text, f"x{c}-")
        assert [num(shown[i]) for i in range(36)] == pytest.approx(x[c].astype(np.float64).round(2).ravel().tolist())
    _, y, _, _ = engine(SMALL, x[None].astype(np.float32))
    out = cells(text, "y-")
    assert [num(out[i]) for i in range(16)] == pytest.approx(y[0, 0].ravel().tolist(), abs=0.006)
    rand = cells(fragment(client, SMALL), "x0-")
    assert [num(rand[i]) for i in range(36)] == random_input((1, 3, 6, 6), 0)[0, 0].ravel().tolist()


# ---------------------------------------------------------------- bad values

@pytest.mark.parametrize("path", ["/explore?", "/explore/lens?", "/explore/picture?part=input&c=0&"])
def test_a_bad_input_value_is_named_with_what_works(client, path):
    r = client.get(path + CIFAR + "&input=noise")
    assert r.status_code == 422, r.text[:300]
    assert "input" in r.text and "noise" in r.text and "photo" in r.text and "random" in r.text
