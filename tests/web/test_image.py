"""/image over HTTP: states in both frameworks' words, the engine against the recorded frameworks,
the lens arithmetic, refusals that name the field, and hostile uploads (never a 5xx, bounded time).
"""
import base64
import html
import io
import json
import re
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from starlette.datastructures import QueryParams

from app.images import MAX_UPLOAD_BYTES, ImageError, decode_upload, sample, sniff
from app.routes.image import PRESETS, image_context, kernel_of, read_state
from tests.web.page import HX, alerts, get, num, plain, shape

GOLDEN = json.loads((Path(__file__).resolve().parents[1] / "golden" / "image.json").read_text())["cases"]
SAMPLES = Path(__file__).resolve().parents[2] / "app" / "samples"


def state(query: str):
    s, errors = read_state(QueryParams(query))
    assert errors == []
    return s


def encoded(fmt: str, size=(40, 30), mode="RGB", **kw) -> bytes:
    rng = np.random.default_rng(1)
    channels = {"RGB": 3, "RGBA": 4, "L": None, "LA": 2, "CMYK": 4}[mode]
    shape = (size[1], size[0]) + ((channels,) if channels else ())
    im = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


# --- the engine against PyTorch and Keras -------------------------------------------------------------

@pytest.mark.parametrize("case", GOLDEN, ids=[c["id"] for c in GOLDEN])
def test_output_matches_the_recorded_framework(case):
    ctx = image_context(state(case["query"]))
    assert "error" not in ctx, ctx.get("error")
    assert ctx["out_shape"] == case["output_shape"]
    y = ctx["output"]  # (maps, H, W) channels first
    framework_layout = y[None] if case["query"].startswith("framework=torch") else np.moveaxis(y, 0, -1)[None]
    flat = framework_layout.ravel().astype(np.float64)
    scale = max(1.0, abs(case["min"]), abs(case["max"]))
    for i, v in case["samples"]:
        assert flat[i] == pytest.approx(v, rel=1e-4, abs=2e-5 * scale), i
    assert flat.sum() == pytest.approx(case["sum"], rel=1e-4, abs=1e-3 * scale)
    assert flat.min() == pytest.approx(case["min"], abs=2e-5 * scale)
    assert flat.max() == pytest.approx(case["max"], abs=2e-5 * scale)


def test_the_recording_covers_both_frameworks_and_pooling():
    ids = " ".join(c["id"] for c in GOLDEN)
    assert ids.count("torch-") >= 6 and ids.count("keras-") >= 6 and "pool" in ids


def test_page_states_the_recorded_shape(client):
    for case in GOLDEN[:4]:
        assert shape(get(client, "/image?" + case["query"]).text) == case["output_shape"]


# --- states, words and refusals ---------------------------------------------------------------------

def test_default_page_and_canonical_url_in_each_frameworks_words(client):
    r = get(client, "/image")
    assert shape(r.text) == [1, 3, 64, 96]
    url = r.headers["hx-replace-url"]
    assert "type=Conv2d" in url and "out_channels=3" in url and "padding_mode=zeros" in url
    r = get(client, "/image?framework=keras")
    url = r.headers["hx-replace-url"]
    assert "type=Conv2D" in url and "filters=3" in url and "strides=1" in url and "padding=same" in url
    assert shape(r.text) == [1, 64, 96, 3]


def test_stride_and_padding_change_the_size():
    base = image_context(state("size=64"))
    assert base["out_hw"] == base["in_hw"] == (42, 64)
    strided = image_context(state("size=64&stride=2"))
    assert strided["out_hw"] == (21, 32)
    valid = image_context(state("size=64&padding=0&kernel_size=5&kernel=box"))
    assert valid["out_hw"] == (38, 60)
    for ctx in (base, strided, valid):  # the same pixel scale for the (padded) input and the maps
        pic = ctx["picture"]
        assert pic["out_px"][0] / pic["out_size"][1] == pytest.approx(pic["in_px"][0] / pic["in_size"][1], rel=0.02)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_runs_in_both_frameworks(client, name):
    for fw in ("torch", "keras"):
        r = get(client, f"/image?framework={fw}&kernel={name}&size=32")
        assert alerts(r.text) == []


def test_presets_are_the_classic_kernels():
    assert kernel_of(state("kernel=sobel_x")).tolist() == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert kernel_of(state("kernel=gaussian&kernel_size=3")).tolist() == [[1 / 16, 2 / 16, 1 / 16],
                                                                            [2 / 16, 4 / 16, 2 / 16],
                                                                            [1 / 16, 2 / 16, 1 / 16]]
    assert kernel_of(state("kernel=box&kernel_size=5")).sum() == pytest.approx(1)
    big = kernel_of(state("kernel=laplacian&kernel_size=5"))
    assert big[1:4, 1:4].tolist() == [[0, 1, 0], [1, -4, 1], [0, 1, 0]] and big.sum() == 0


def test_identity_gives_the_image_back():
    ctx = image_context(state("kernel=identity&size=32"))
    x = sample("chelsea", 32).transpose(2, 0, 1)
    assert np.array_equal(ctx["output"], x.astype(np.float32))


def test_edited_cells_make_the_kernel_custom_and_a_new_preset_wins(client):
    cells = "&".join(f"weights={v}" for v in (-1, 0, 1, -2, 0, 2, -1, 0, 1))
    same = read_state(QueryParams(f"kernel=sobel_x&from=sobel_x&{cells}"))[0]
    assert same.kernel == "sobel_x" and same.weights == ()
    edited = read_state(QueryParams(f"kernel=sobel_x&from=sobel_x&{cells.replace('weights=-2', 'weights=-3')}"))[0]
    assert edited.kernel == "custom" and edited.weights[3] == -3
    chosen = read_state(QueryParams(f"kernel=laplacian&from=sobel_x&{cells.replace('weights=-2', 'weights=-3')}"))[0]
    assert chosen.kernel == "laplacian" and chosen.weights == ()
    r = get(client, f"/image?kernel=sobel_x&from=sobel_x&{cells.replace('weights=-2', 'weights=-3')}")
    assert "kernel=custom" in r.headers["hx-replace-url"] and "weights=-1,0,1,-3,0,2,-1,0,1" in r.headers["hx-replace-url"]


def test_random_kernel_is_seeded():
    a, b = kernel_of(state("kernel=random&seed=3")), kernel_of(state("kernel=random&seed=3"))
    assert np.array_equal(a, b) and not np.array_equal(a, kernel_of(state("kernel=random&seed=4")))


def test_rgb_to_filters_turns_the_kernel():
    ctx = image_context(state("groups=1&out_channels=2&kernel=sobel_x&size=32"))
    w = ctx["w"]  # (filters, channels, k, k)
    assert np.array_equal(w[1, 0], np.rot90(w[0, 0])) and np.array_equal(w[0, 0], w[0, 2])
    assert ctx["out_shape"] == [1, 2, 21, 32]


def test_lens_arithmetic_is_the_engines():
    ctx = image_context(state("groups=1&out_channels=2&kernel=sobel_y&size=48&at=10,12&f=1&bias=true&bias_value=5"
                              "&activation=relu"))
    lens = ctx["lens"]
    assert lens["at"] == (10, 12) and lens["f"] == 1 and len(lens["channels"]) == 3
    sums = [num(ch["sum"]) for ch in lens["channels"]]
    engine = float(ctx["output"][1, 10, 12])
    assert sum(sums) + 5 == pytest.approx(num(lens["pre"]), abs=0.02)
    assert num(lens["value"]) == pytest.approx(engine, abs=0.005)
    for ch in lens["channels"]:  # products are pixel × weight, cell by cell
        for prow, wrow, xrow in zip(ch["products"], ch["weights"], ch["pixels"]):
            for p, w, x in zip(prow, wrow, xrow):
                assert num(p) == pytest.approx(num(w) * num(x), abs=0.01)


def test_pool_lens():
    ctx = image_context(state("type=MaxPool2d&kernel_size=3&stride=3&size=48&at=2,3&f=2"))
    window = np.array([[num(v) for v in row] for row in ctx["lens"]["channels"][0]["pixels"]])
    assert ctx["lens"]["op"] == f"max = {int(window.max())}" and ctx["output"][2, 2, 3] == window.max()
    x = sample("chelsea", 48)[6:9, 9:12, 2]
    assert np.array_equal(window, x)


# --- the lens fragment: the page's own section, for any position ----------------------------------------

def lens_section(text: str) -> str:
    """The #lens section as the answer has it (the page's, or the fragment alone)."""
    m = re.search(r'<section class="lens" id="lens".*?</section>', text, re.DOTALL)
    assert m, "no #lens section"
    return m.group(0)


LENSES = [  # (the view's query, at, f): conv with stride, dilation, padding, bias and ReLU; max and avg pooling
    ("size=48&kernel=sobel_y&stride=2&dilation=2&padding=3&padding_mode=reflect", "4,7", 1),
    ("size=48&groups=1&out_channels=3&kernel=random&seed=5&kernel_size=5&padding=2&bias=true&bias_value=-7.5"
     "&activation=relu", "0,23", 2),
    ("framework=keras&type=Conv2D&filters=2&groups=1&kernel_size=3&strides=3&padding=same&kernel=emboss&size=64",
     "13,20", 1),
    ("type=MaxPool2d&kernel_size=3&stride=2&size=64", "19,30", 2),
    ("framework=keras&type=AveragePooling2D&pool_size=4&strides=3&size=64", "0,0", 0),
    ("size=32&kernel=custom&weights=0.3333,-1,0.125,2,0,0,1,1,-0.5", "10,15", 0),
]


@pytest.mark.parametrize("query, at, f", LENSES)
def test_the_lens_fragment_is_the_pages_lens(client, query, at, f):
    page = get(client, f"/image?{query}&at={at}&f={f}")
    fragment = get(client, f"/image/lens?{query}&at={at}&f={f}")
    assert lens_section(fragment.text) == lens_section(page.text)
    assert f"output [{at.replace(',', ', ')}] of map {f}" in plain(fragment.text)
    assert "<html" not in fragment.text and 'id="live"' not in fragment.text and "data:image" not in fragment.text
    assert fragment.headers["cache-control"].startswith("public") and "etag" in fragment.headers
    embedded = get(client, f"/embed/image/lens?{query}&at={at}&f={f}")  # an embed asks its own path
    assert lens_section(embedded.text) == lens_section(page.text)
    assert embedded.headers["access-control-allow-origin"] == "*"


def test_the_page_says_where_to_ask_for_the_lens_and_where_to_draw_it(client):
    text = get(client, "/image?size=48&stride=2&padding=1&kernel_size=5&dilation=2&at=3,4&f=2").text
    lens_url = html.unescape(re.search(r'id="stage" data-lens="([^"]*)"', text).group(1))
    assert lens_url.startswith("/image/lens?") and "at=" not in lens_url and "&f=2" in lens_url  # the map shown
    assert lens_section(get(client, f"{lens_url}&at=3,4").text) == lens_section(text)
    section = lens_section(text)  # the window starts 3·2 − 1 = 5 rows and 4·2 − 1 = 7 columns in; 48 px drawn at 5×
    assert 'data-at="3,4" data-f="2"' in section
    now = json.loads(html.unescape(re.search(r'data-now="([^"]*)"', section).group(1)))
    # padded input 32 + 2 rows × 48 + 2 columns; output (34 − 9) // 2 + 1 = 13 × (50 − 9) // 2 + 1 = 21: the 9×9
    # window (5 taps, 2 apart) starts at padded row 3·2 = 6 and column 4·2 = 8; the marker is output [3, 4]
    assert now["boxes"][0] == [[round(100 * 6 / 34, 3), round(100 * 8 / 50, 3), round(100 * 9 / 34, 3), 18.0]]
    assert now["markers"][0] == [round(100 * 3 / 13, 3), round(100 * 4 / 21, 3), round(100 / 13, 3), round(100 / 21, 3)]
    assert now["pending"] == [[]]  # the whole map is drawn: nothing is veiled
    drawn = 'style="top: {}%; left: {}%; height: {}%; width: {}%"'
    assert drawn.format(*now["boxes"][0][0]) in text and drawn.format(*now["markers"][0]) in text
    embed = get(client, "/embed/image?size=48").text
    assert 'data-lens="/embed/image/lens?' in embed


@pytest.mark.parametrize("query, words", [
    ("size=32&at=21,0", "at: the output is 21×32, so the lens goes from 0,0 to 20,31; got 21,0"),
    ("size=32&at=-1,3", "at: the output is 21×32, so the lens goes from 0,0 to 20,31; got -1,3"),
    ("size=32&at=3", "at: the lens position is an output row and column, two whole numbers as at=10,12; got '3'"),
    ("size=32&at=a,b", "got 'a,b'"),
    ("size=32&at=3,3&f=3", "f: the map shown must be below 3, got 3"),
    ("size=32&groups=1&out_channels=2&at=3,3&f=2", "f: the map shown must be below 2, got 2"),
    ("size=32&at=3,3&f=x", "f: Input should be a valid integer"),
    ("size=32&at=3,3&stride=9", "stride: Input should be less than or equal to 4, got '9'"),
    ("kernel=sobel_x&kernel_size=1", "3×3 kernel; choose kernel_size 3 or more, got 1"),
])
def test_a_refused_lens_names_the_field_the_value_and_what_works(client, query, words):
    for path in ("/image/lens", "/embed/image/lens"):  # the stage's refusal: the reasons, as plain text
        r = get(client, f"{path}?{query}", status=422)
        assert r.text.startswith("The lens cannot be drawn: ") and words in r.text, r.text
        assert r.headers["content-type"].startswith("text/plain") and r.headers["cache-control"] == "no-store"


def test_the_lens_on_your_image_is_the_pages_lens(client):
    """The page keeps your image downscaled (data-kept); POSTing that copy with the lens query gives the lens
    of the page the upload rendered, for any position."""
    first = post(client, encoded("PNG", (300, 200)), "size=64&kernel=sharpen&stride=2&padding=2&at=5,9&f=1", HX)
    kept = base64.b64decode(first.text.split('data-kept="data:image/png;base64,')[1].split('"')[0])
    lens_url = html.unescape(re.search(r'id="stage" data-lens="([^"]*)"', first.text).group(1))
    assert "&f=1" in lens_url  # the map the page shows
    r = client.post(f"{lens_url}&at=5,9", content=kept, headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200 and lens_section(r.text) == lens_section(first.text)
    assert r.headers["cache-control"] == "no-store" and "etag" not in r.headers
    sample_lens = get(client, f"{lens_url}&at=5,9")  # a sample's lens differs: the picture is the body's
    assert lens_section(sample_lens.text) != lens_section(r.text)
    again = post(client, kept, "size=64&kernel=sharpen&stride=2&padding=2&at=12,30&f=1", HX)
    r = client.post(f"{lens_url}&at=12,30", content=kept)
    assert lens_section(r.text) == lens_section(again.text)


@pytest.mark.parametrize("name", ["empty", "html", "png-truncated", "too-many-bytes"])
def test_a_lens_post_without_a_picture_is_refused_with_the_uploads_words(client, name):
    body, words = HOSTILE[name]
    r = client.post("/image/lens?size=32&at=1,1", content=body)
    assert r.status_code == 422 and r.headers["cache-control"] == "no-store"
    assert r.headers["content-type"].startswith("text/plain")  # never markup: nothing of the body comes back
    assert "Your image was not used" in r.text and words in r.text and "<script>alert" not in r.text


def test_a_lens_post_over_the_app_limit_is_413_and_embeds_take_no_picture(client):
    assert client.post("/image/lens?at=1,1", content=b"\0" * 4_100_000).status_code == 413
    assert client.post("/embed/image/lens?at=1,1", content=encoded("PNG", (20, 20))).status_code == 405


@pytest.mark.parametrize("query, field, words", [
    ("stride=0", "stride", "greater than or equal to 1"),
    ("kernel_size=9", "kernel_size", "less than or equal to 7"),
    ("size=999", "size", "less than or equal to 256"),
    ("image=lena", "image", "chelsea"),
    ("kernel=blur", "kernel", "sobel_x"),
    ("groups=2", "groups", "2 does not divide 3"),
    ("framework=keras&padding=2", "padding", "'valid' or 'same'"),
    ("type=Conv3d", "type", "Conv2d"),
    ("f=3", "f", "below 3"),
    ("weights=1,x", "weights", "weights"),
    ("kernel=custom&weights=" + ",".join(["900"] * 9), "weights", "between −255 and 255"),
])
def test_bad_values_are_named_with_what_works(client, query, field, words):
    r = get(client, "/image?" + query, status=422)
    text = " ".join(alerts(r.text))
    assert f"{field}:" in text and words in text, text
    assert get(client, "/image?" + query, headers=HX).status_code == 200  # htmx swaps the explanation


@pytest.mark.parametrize("query, words", [
    ("kernel=sobel_x&kernel_size=1", "3×3 kernel; choose kernel_size 3 or more, got 1"),
    ("image=astronaut&size=256&groups=1&out_channels=4", "the limit is 250,000"),
    ("size=16&padding=0&kernel_size=7&dilation=4", "kernel"),
    ("padding=same&stride=2", "padding"),
])
def test_layers_that_cannot_run_are_explained(client, query, words):
    r = get(client, "/image?" + query)
    text = " ".join(alerts(r.text))
    assert "cannot run" in text and words in text, text


def test_lens_outside_the_output_is_refused_and_reset(client):
    r = get(client, "/image?size=32&at=99,0", status=422)
    assert "at: the output is 21×32" in " ".join(alerts(r.text))
    assert "at=" not in r.headers["hx-replace-url"]


def test_fragment_and_embed(client):
    frag = get(client, "/image?kernel=emboss", headers=HX)
    assert frag.text.lstrip().startswith('<div id="live"') and "<html" not in frag.text
    assert "HX-Request" in frag.headers["vary"]
    embed = get(client, "/embed/image?kernel=emboss&theme=dark")
    assert 'data-theme="dark"' in embed.text and 'id="upload"' not in embed.text
    assert "frame-ancestors *" in embed.headers["content-security-policy"]


def test_oembed_knows_the_view(client):
    r = client.get("/oembed", params={"url": "http://testserver/image?kernel=emboss", "format": "json"})
    assert r.status_code == 200 and "/embed/image?kernel=emboss" in r.json()["html"]
    page = get(client, "/image").text
    assert 'type="application/json+oembed"' in page


def test_sample_licences_are_recorded_beside_the_images():
    readme = (SAMPLES / "README.md").read_text()
    for name in ("astronaut", "coffee", "chelsea"):
        assert f"`{name}.png`" in readme
        with Image.open(SAMPLES / f"{name}.png") as im:
            assert max(im.size) == 256 and im.mode == "RGB"
    assert "public domain" in readme.lower() and "CC0" in readme


# --- uploads -------------------------------------------------------------------------------------------

def post(client, body: bytes, query: str = "", headers=None):
    t = time.process_time()
    r = client.post("/image" + (f"?{query}" if query else ""), content=body,
                    headers={"Content-Type": "application/octet-stream", **(headers or {})})
    assert r.status_code < 500
    assert time.process_time() - t < 3, "an upload took too long"
    return r


@pytest.mark.parametrize("fmt, kw", [("PNG", {}), ("JPEG", {"quality": 90}), ("WEBP", {"lossless": True})])
def test_upload_each_format(client, fmt, kw):
    r = post(client, encoded(fmt, (400, 300), **kw), "kernel=sobel_y&size=64", HX)
    assert r.status_code == 200 and alerts(r.text) == []
    assert shape(r.text) == [1, 3, 48, 64]
    assert 'data-kept="data:image/png;base64,' in r.text
    assert r.headers["cache-control"] == "no-store" and "etag" not in r.headers
    assert "hx-replace-url" not in r.headers  # an upload is not in the address
    assert "not in the address" in plain(r.text)
    assert "Embed this view" not in r.text


def test_upload_is_scaled_to_256_and_modes_are_converted(client):
    for mode in ("RGBA", "L", "LA"):
        rgb = decode_upload(encoded("PNG", (600, 100), mode=mode))
        assert rgb.shape == (43, 256, 3) and rgb.dtype == np.uint8
    assert decode_upload(encoded("JPEG", (300, 200), mode="CMYK")).shape == (171, 256, 3)
    assert decode_upload(encoded("PNG", (20, 10))).shape == (10, 20, 3)  # never scaled up
    buf = io.BytesIO()
    Image.fromarray((np.arange(200 * 300).reshape(200, 300) * 3).astype(np.uint16)).save(buf, format="PNG")
    sixteen = decode_upload(buf.getvalue())
    assert sixteen.shape == (171, 256, 3) and sixteen.max() == 255
    buf = io.BytesIO()
    Image.new("P", (50, 40)).save(buf, format="PNG", transparency=0)
    assert decode_upload(buf.getvalue()).tolist()[0][0] == [255, 255, 255]  # transparent -> on white
    buf = io.BytesIO()
    red, blue = Image.new("RGB", (60, 40), "red"), Image.new("RGB", (60, 40), "blue")
    red.save(buf, format="WEBP", save_all=True, append_images=[blue], lossless=True)
    assert decode_upload(buf.getvalue())[0, 0].tolist() == [255, 0, 0]  # an animation: its first frame


def test_lossless_formats_have_a_lower_pixel_limit_than_jpeg():
    """A JPEG decodes at 1/8 scale; a PNG or WebP decodes every pixel, so it may declare fewer."""
    with pytest.raises(ImageError, match="limit for a PNG is 8,294,400 pixels"):
        decode_upload(huge_header_png(4000, 3000))
    a = np.zeros((3000, 4000, 3), np.uint8)
    a[::7] = 200
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=50)
    t = time.process_time()
    assert decode_upload(buf.getvalue()).shape == (192, 256, 3)
    assert time.process_time() - t < 2


def test_the_kept_image_round_trips(client):
    first = post(client, encoded("JPEG", (500, 500)), "size=256", HX)
    kept = first.text.split('data-kept="data:image/png;base64,')[1].split('"')[0]
    import base64
    again = post(client, base64.b64decode(kept), "size=128&stride=2", HX)
    assert shape(again.text) == [1, 3, 64, 64]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_header_png(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 100)) + \
        _png_chunk(b"IEND", b"")


def bomb_png() -> bytes:
    """8000 × 8000 of zeros: a few kB compressed, 192 MB decoded."""
    raw = zlib.compress(b"\0" * (1 + 8000 * 3) * 100, 9)
    ihdr = struct.pack(">IIBBBBB", 8000, 8000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", raw) + _png_chunk(b"IEND", b"")


GOOD_PNG = encoded("PNG", (64, 48))
GOOD_JPEG = encoded("JPEG", (64, 48))
HOSTILE = {
    "empty": (b"", "empty"),
    "text": (b"hello, this is not an image at all", "not a PNG, JPEG or WebP"),
    "html": (b"<html><script>alert(1)</script></html>", "not a PNG, JPEG or WebP"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "not a PNG, JPEG or WebP"),
    "gif": (encoded("GIF", (10, 10), mode="L"), "GIF"),
    "bmp": (encoded("BMP", (10, 10)), "not a PNG, JPEG or WebP"),
    "png-signature-only": (b"\x89PNG\r\n\x1a\n", "could not be decoded"),
    "png-truncated": (GOOD_PNG[:len(GOOD_PNG) // 2], "could not be decoded"),
    "png-bad-crc": (GOOD_PNG[:40] + bytes([GOOD_PNG[40] ^ 0xFF]) + GOOD_PNG[41:], "could not be decoded"),
    "jpeg-truncated": (GOOD_JPEG[:len(GOOD_JPEG) // 3], "could not be decoded"),
    "jpeg-header-only": (b"\xff\xd8\xff\xe0" + b"\0" * 20, "could not be decoded"),
    "jpeg-mislabelled-as-png-body": (b"\xff\xd8\xff" + GOOD_PNG, "could not be decoded"),
    "webp-riff-garbage": (b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 20, "could not be decoded"),
    "huge-dimensions": (huge_header_png(100_000, 100_000), "limit of 16,777,216"),
    "zero-width": (huge_header_png(0, 10), "could not be decoded"),
    "decompression-bomb": (bomb_png(), "8,000 × 8,000 pixels"),
    "too-many-bytes": (b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_UPLOAD_BYTES, "the limit is 3,000,000"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_uploads_get_a_clear_message(client, name):
    body, words = HOSTILE[name]
    for headers in (HX, {}):
        r = post(client, body, "kernel=sobel_x", headers)
        assert r.status_code == 422, (name, r.status_code)
        text = " ".join(alerts(r.text))
        assert "Your image was not used" in text and words in text, (name, text)
        assert "<script>alert" not in r.text
        assert r.headers["cache-control"] == "no-store"


def test_fuzzed_uploads_never_fail_the_server(client):
    """Random byte flips and cuts of valid files: decoded, or refused with an ImageError; never anything else."""
    rng = np.random.default_rng(7)
    seeds = [GOOD_PNG, GOOD_JPEG, encoded("WEBP", (64, 48), quality=80), encoded("PNG", (30, 30), mode="RGBA")]
    t = time.monotonic()
    for i in range(240):
        data = bytearray(seeds[i % len(seeds)])
        for _ in range(int(rng.integers(1, 6))):
            data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        if i % 3 == 0:
            data = data[:int(rng.integers(1, len(data)))]
        try:
            rgb = decode_upload(bytes(data))
            assert rgb.ndim == 3 and rgb.shape[2] == 3 and max(rgb.shape[:2]) <= 256
        except ImageError as e:
            assert str(e)
    assert time.monotonic() - t < 20
    for _ in range(12):  # and through HTTP
        post(client, bytes(rng.integers(0, 256, int(rng.integers(0, 4000)), dtype=np.uint8)))


def test_body_over_the_app_limit_is_413(client):
    r = client.post("/image", content=b"\0" * 4_100_000)
    assert r.status_code == 413


def test_sniff_reads_content_not_names():
    assert sniff(GOOD_PNG) == "PNG" and sniff(GOOD_JPEG) == "JPEG"
    with pytest.raises(ImageError):
        sniff(b"GIF89a....")


def test_uploads_are_not_written_to_disk(client, tmp_path, monkeypatch):
    """Decoding touches no file: open() for writing is never called during an upload."""
    import builtins
    real_open = builtins.open
    writes = []

    def watching(file, mode="r", *a, **kw):
        if any(c in mode for c in "wax+"):
            writes.append(file)
        return real_open(file, mode, *a, **kw)
    monkeypatch.setattr(builtins, "open", watching)
    post(client, encoded("PNG", (300, 200)), "size=64", HX)
    assert writes == []


def test_random_knob_combinations_never_fail(client):
    """Any mix of the controls' values (and a few out of range) answers 200 or 422 with words, fast."""
    rng = np.random.default_rng(11)
    choices = {
        "framework": ["torch", "keras"], "type": ["Conv2d", "MaxPool2d", "AvgPool2d", "Conv2D", "MaxPooling2D"],
        "image": ["chelsea", "coffee", "astronaut"], "size": [16, 32, 48, 112, 256, 300],
        "kernel": ["identity", "box", "gaussian", "sharpen", "sobel_y", "outline", "random", "custom"],
        "kernel_size": [1, 2, 3, 4, 5, 7, 8], "groups": [1, 3], "out_channels": [1, 2, 4, 5],
        "stride": [1, 2, 3, 4], "dilation": [1, 2, 4], "padding": ["0", "1", "3", "same", "valid"],
        "padding_mode": ["zeros", "reflect", "replicate", "circular"], "bias": ["true", "false"],
        "bias_value": ["-40", "0.5"], "activation": ["linear", "relu"], "scale": ["auto", "255"], "f": [0, 1, 2],
        "at": ["0,0", "3,4", "200,1"], "weights": ["1,2,3", "0.5,-1,0.5,1,2,1,0,0,0"],
    }
    t = time.monotonic()
    for _ in range(150):
        q = {k: v[int(rng.integers(len(v)))] for k, v in choices.items() if rng.random() < 0.6}
        r = client.get("/image", params=q)
        assert r.status_code in (200, 422), (q, r.status_code)
        if r.status_code == 422:
            assert alerts(r.text), q
    assert time.monotonic() - t < 60


def test_the_forms_lens_position_is_kept_inside_the_output(client):
    r = get(client, "/image?size=96&stride=2&lens=60,90,2")  # output 32×48: the lens moves to the edge, no error
    assert alerts(r.text) == []
    assert "at=31,47" in r.headers["hx-replace-url"] and "f=2" in r.headers["hx-replace-url"]
    assert "output [31, 47] of map 2" in plain(r.text)
    r = get(client, "/image?groups=1&out_channels=1&lens=5,6,2")
    assert "output [5, 6] of map 0" in plain(r.text) and alerts(r.text) == []
    assert "lens" not in r.headers["hx-replace-url"]


def test_your_image_is_kept_through_a_layer_that_cannot_run(client):
    r = post(client, encoded("PNG", (64, 64)), "kernel=sobel_x&kernel_size=1", HX)
    assert "cannot run" in " ".join(alerts(r.text)) and 'data-kept="data:image/png;base64,' in r.text
    r = post(client, encoded("PNG", (64, 64)), "size=16&padding=0&kernel_size=7&dilation=4", HX)
    assert "cannot run" in " ".join(alerts(r.text)) and 'data-kept="data:image/png;base64,' in r.text


def test_keras_has_no_padding_mode_and_says_so(client):
    r = client.get("/image?framework=keras&type=Conv2D&padding_mode=reflect")
    assert r.status_code == 422
    assert "padding_mode" in r.text and "reflect" in r.text and "Keras" in r.text
