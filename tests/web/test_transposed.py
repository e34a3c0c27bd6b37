"""/transposed over HTTP: whole page or htmx fragment, the state in either framework's words, the
output size by each framework's formula, the scatter and the direct convolution recomputed here
from the numbers the page shows, recorded framework outputs, every control's bounds, invalid
settings explained in place, escaping, and the forward conv whose shape it inverts.

Expected numbers come from the frameworks' documented formulas, from tests/golden/forward.json.gz
(recorded with PyTorch and Keras), or are recomputed in this file by plain loops from the input,
weights and bias the page prints; never from the page's own code.
"""
import gzip
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

from app.routes.transposed import read_state, transposed_context
from tests.web.page import alerts, cells, get, num, plain, section, shape

HX = {"HX-Request": "true"}
GOLDEN = json.loads(gzip.decompress((Path(__file__).resolve().parents[1] / "golden" / "forward.json.gz")
                                    .read_bytes()))["cases"]


# ---------------------------------------------------------------- reading the page

def classes(text: str, prefix: str) -> dict[int, set[str]]:
    return {int(i): set((c or "").split()) for i, c in
            re.findall(rf'<td id="{re.escape(prefix)}(\d+)"(?: class="([^"]*)")?', text)}


def array(text: str, prefix: str, shape_) -> np.ndarray:
    found = cells(text, prefix)
    assert sorted(found) == list(range(math.prod(shape_))), (prefix, sorted(found)[:5], shape_)
    return np.array([num(found[i]) for i in range(len(found))]).reshape(shape_)


def bias_shown(text: str) -> float:
    m = re.search(r'id="bias-value">([^<]*)<', text)
    return 0.0 if m is None else num(m.group(1))


# ---------------------------------------------------------------- the frameworks' definitions, written here

def torch_length(n, k, s=1, p=0, op=0, d=1):
    """torch.nn.ConvTranspose2d docs: H_out = (H_in − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1."""
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def keras_length(n, k, s=1, padding="valid", op=None, d=1):
    """keras/src/ops/operation_utils.py compute_conv_transpose_output_shape, k dilated first."""
    k = d * (k - 1) + 1
    if op is None:
        return n * s + max(k - s, 0) if padding == "valid" else n * s
    return (n - 1) * s + k - 2 * (k // 2 if padding == "same" else 0) + op


def keras_crop_before(n, k, s, padding, d, length):
    """TensorFlow's transposed 'same' is the gradient of the forward 'same' conv on the output
    length: that conv pads max((n − 1)·s + k − L, 0) in all, half (rounded down) before."""
    k = d * (k - 1) + 1
    return max((n - 1) * s + k - length, 0) // 2 if padding == "same" else 0


def scatter_by_hand(x, w, b, stride, dilation, crop_before, out):
    """y[j] = b + Σ_c Σ_i Σ_t x[c, i] · w[c, t] over every (i, t) with i·stride + t·dilation − crop = j.
    x: (C, *n), w: (C, *k) (the kernels that feed this output channel)."""
    y = np.full(out, float(b))
    for c in range(x.shape[0]):
        for i in itertools.product(*(range(n) for n in x.shape[1:])):
            for t in itertools.product(*(range(k) for k in w.shape[1:])):
                j = tuple(ii * s + tt * d - p for ii, tt, s, d, p in zip(i, t, stride, dilation, crop_before))
                if all(0 <= jj < o for jj, o in zip(j, out)):
                    y[j] += x[(c, *i)] * w[(c, *t)]
    return y


def conv_by_hand(x, w, b, dilation, out):
    """Direct, stride 1: y[j] = b + Σ_c Σ_t x[c, j + t·dilation] · w[c, t]."""
    y = np.full(out, float(b))
    for j in itertools.product(*(range(o) for o in out)):
        for c in range(x.shape[0]):
            for t in itertools.product(*(range(k) for k in w.shape[1:])):
                y[j] += x[(c, *(jj + tt * d for jj, tt, d in zip(j, t, dilation)))] * w[(c, *t)]
    return y


def u(framework="torch", **params) -> str:
    """A /transposed URL: PyTorch ConvTranspose2d(2, 2, 3, stride=2) on (1, 2, 3, 3) unless told otherwise."""
    words = {"torch": {"type": "ConvTranspose2d", "in_channels": 2, "out_channels": 2, "kernel_size": 3,
                       "stride": 2, "input_shape": "1,2,3,3"},
             "keras": {"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2,
                       "input_shape": "1,3,3,2"},
             "form": {"type": "ConvTranspose2d", "channels": 2, "filters": 2, "kernel_size": 3, "stride": 2,
                      "size": "3,3"}}[framework]
    query = {"framework": "keras" if framework == "keras" else "torch", **words, **params}
    return "/transposed?" + urlencode({k: v for k, v in query.items() if v is not None}, safe=",")


# ---------------------------------------------------------------- page, fragment, URL, embed

def test_full_page_and_fragment_share_a_url(client):
    url = u(padding=1, output_padding=1)
    full = get(client, url)
    frag = get(client, url, headers=HX)
    assert "HX-Request" in full.headers["vary"] and "HX-Request" in frag.headers["vary"]
    assert "<html" in full.text and 'id="transposed-form"' in full.text
    assert frag.text.strip().startswith('<div id="live"')
    assert "<html" not in frag.text and 'id="transposed-form"' not in frag.text and 'aria-label="Main"' not in frag.text
    assert shape(full.text) == shape(frag.text) == [1, 2, torch_length(3, 3, 2, 1, 1), torch_length(3, 3, 2, 1, 1)] \
        == [1, 2, 6, 6]
    restore = get(client, url, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text and 'id="transposed-form"' in restore.text and shape(restore.text) == [1, 2, 6, 6]


def test_replace_url_is_the_canonical_url_in_each_frameworks_words(client):
    form = ("type=ConvTranspose2d&channels=3&size=4&size=5&filters=2&kernel_size=3&kernel_size=2&stride=2"
            "&padding=1&output_padding=1&dilation=1&groups=1&bias=false&seed=12&o=1&step=3")
    r = get(client, "/transposed?framework=torch&" + form, headers=HX)
    url = urlsplit(r.headers["hx-replace-url"])
    assert url.path == "/transposed"
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert q == {"framework": "torch", "type": "ConvTranspose2d", "in_channels": "3", "out_channels": "2",
                 "kernel_size": "3,2", "stride": "2", "padding": "1", "output_padding": "1", "groups": "1",
                 "bias": "false", "dilation": "1", "input_shape": "1,3,4,5", "seed": "12", "o": "1", "step": "3"}
    assert shape(r.text) == [1, 2, torch_length(4, 3, 2, 1, 1), torch_length(5, 2, 2, 1, 1)] == [1, 2, 8, 9]

    keras_form = form.replace("ConvTranspose2d", "Conv2DTranspose").replace("padding=1&output", "padding=same&output") \
        .replace("&groups=1", "")
    r = get(client, "/transposed?framework=keras&" + keras_form, headers=HX)
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["hx-replace-url"]).query).items()}
    assert q == {"framework": "keras", "type": "Conv2DTranspose", "filters": "2", "kernel_size": "3,2",
                 "strides": "2", "padding": "same", "output_padding": "1", "dilation_rate": "1", "use_bias": "false",
                 "input_shape": "1,4,5,3", "seed": "12", "o": "1", "step": "3"}
    assert not {"in_channels", "out_channels", "stride", "dilation", "bias", "groups"} & set(q)
    assert shape(r.text) == [1, keras_length(4, 3, 2, "same", 1), keras_length(5, 2, 2, "same", 1), 2] == [1, 8, 9, 2]

    # the canonical URL is a fixed point: the same layer, naming itself
    again = get(client, r.headers["hx-replace-url"])
    assert again.headers["hx-replace-url"] == r.headers["hx-replace-url"] and shape(again.text) == [1, 8, 9, 2]
    # Keras' default output_padding is None, which it leaves out of the URL
    r = get(client, u("keras", padding="same"), headers=HX)
    assert "output_padding" not in parse_qs(urlsplit(r.headers["hx-replace-url"]).query)
    assert shape(r.text) == [1, 6, 6, 2]  # 'same', None: n·strides


class _Form(HTMLParser):
    """The fields #transposed-form submits without JavaScript, in document order."""

    def __init__(self):
        super().__init__()
        self.fields, self.inside, self.select, self.options = [], False, None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "transposed-form":
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("form") is None:
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self.select, self.options = a["name"], []
        elif tag == "option" and self.select is not None:
            self.options.append((a["value"], "selected" in a))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            self.fields.append((self.select, next((v for v, sel in self.options if sel), self.options[0][0])))
            self.select = None


@pytest.mark.parametrize("url", [u(padding=1, output_padding=1, seed=5),
                                 u("keras", padding="same", output_padding=1, o=1),
                                 u("keras", type="Conv1DTranspose", input_shape="1,5,2", kernel_size=4),
                                 u(type="ConvTranspose1d", input_shape="1,3,4", in_channels=3, out_channels=3,
                                   groups=3, dilation=2, stride=1, kernel_size=2, bias="false")])
def test_the_form_alone_reproduces_the_page(client, url):
    page = get(client, url)
    p = _Form()
    p.feed(page.text)
    names = {n for n, _ in p.fields}
    assert {"framework", "type", "channels", "size", "filters", "kernel", "stride", "padding", "output_padding",
            "dilation", "bias", "weights", "seed", "o"} <= names
    assert not {"step", "pos", "scrub", "speed"} & names  # the players are not state
    again = get(client, "/transposed?" + urlencode(p.fields))
    assert again.headers["hx-replace-url"] == page.headers["hx-replace-url"]
    assert shape(again.text) == shape(page.text) and cells(again.text, "y-") == cells(page.text, "y-")


def test_embed_works_and_keeps_its_options(client):
    r = get(client, "/embed/transposed?theme=dark&controls=minimal&autoplay=1&" + u()[len("/transposed?"):])
    assert 'class="embed controls-minimal"' in r.text and 'data-theme="dark"' in r.text and 'data-autoplay="1"' in r.text
    assert 'aria-label="Main"' not in r.text and shape(r.text) == [1, 2, 7, 7]
    assert "frame-ancestors *" in r.headers["content-security-policy"]
    frag = get(client, "/embed/transposed?autoplay=1&" + u(stride=3)[len("/transposed?"):], headers=HX)
    assert frag.headers["hx-replace-url"].startswith("/embed/transposed?framework=torch")
    assert frag.headers["hx-replace-url"].endswith("&autoplay=1")
    assert 'hx-get="/embed/transposed"' in r.text  # the form stays in the embed
    bare = get(client, "/embed/transposed")
    assert shape(bare.text) == [1, 2, 7, 7]  # the default layer: ConvTranspose2d(2, 2, 3, stride=2) on 3×3
    assert get(client, u()).headers["etag"]


# ---------------------------------------------------------------- output sizes

TORCH_SHAPES = [  # (n per axis, k per axis, stride, padding, output_padding, dilation)
    ([3, 3], [2, 2], 2, 0, 0, 1),   # 2·2 + 2 − 1 = 6: the ×2 upsampling
    ([3, 3], [3, 3], 2, 1, 1, 1),   # DCGAN: 2n
    ([6, 2], [4, 4], 3, 3, 2, 1),   # the largest stride with the most padding: 15 − 6 + 3 + 3 = 15; 3
    ([5, 4], [3, 2], 1, 0, 1, 2),   # output_padding 1 ≥ stride 1, allowed below dilation 2
    ([6, 6], [4, 4], 3, 0, 2, 3),   # the largest output: 5·3 + 3·3 + 2 + 1 = 27
    ([4], [3], 2, 1, 0, 1),
    ([1], [1], 1, 0, 0, 1),         # the smallest
]


@pytest.mark.parametrize("n, k, s, p, op, d", TORCH_SHAPES)
def test_torch_output_size_is_the_documented_formula(client, n, k, s, p, op, d):
    dims = len(n)
    r = get(client, u(type=f"ConvTranspose{dims}d", in_channels=1, out_channels=2, kernel_size=",".join(map(str, k)),
                      stride=s, padding=p, output_padding=op, dilation=d, input_shape=",".join(map(str, [1, 1, *n]))))
    out = [torch_length(nn, kk, s, p, op, d) for nn, kk in zip(n, k)]
    assert shape(r.text) == [1, 2, *out]
    formulas = plain(section(r.text, "formulas"))
    for nn, kk, o in zip(n, k, out):
        assert f"({nn} − 1)·{s} − 2·{p} + {d}·({kk} − 1) + {op} + 1 = {o}" in formulas


KERAS_SHAPES = [  # (n, k, strides, padding, output_padding, dilation_rate)
    (4, 3, 2, "valid", None, 1),   # n·s + max(k − s, 0) = 8 + 1
    (4, 2, 3, "valid", None, 1),   # k < s: n·s = 12, no overlap
    (4, 3, 2, "same", None, 1),    # n·s = 8
    (4, 3, 2, "same", 0, 1),       # with a number, the formula changes: 6 + 3 − 2 + 0 = 7
    (4, 4, 2, "same", 1, 1),       # 6 + 4 − 4 + 1 = 7
    (5, 3, 1, "valid", 0, 3),      # dilated: k = 7; 4 + 7 + 0 = 11
    (6, 4, 3, "valid", 2, 1),      # 15 + 4 + 2 = 21
]


@pytest.mark.parametrize("n, k, s, padding, op, d", KERAS_SHAPES)
def test_keras_output_size_follows_its_rules(client, n, k, s, padding, op, d):
    r = get(client, u("keras", type="Conv1DTranspose", filters=1, kernel_size=k, strides=s, padding=padding,
                      output_padding=op, dilation_rate=d, input_shape=f"1,{n},2"))
    length = keras_length(n, k, s, padding, op, d)
    assert shape(r.text) == [1, length, 1]
    used = plain(section(r.text, "formulas"))
    assert used.endswith(f"= {length}"), used
    rule = re.search(r'<tr class="tc-rule-used"><td>(.*?)</td><td>(.*?)</td>', r.text)
    assert rule.groups() == (f"'{padding}'", "None" if op is None else "p")  # the rule row that applies is marked


# ---------------------------------------------------------------- the numbers: scatter and direct, recomputed here

CASES = [  # (url, framework, n, k, stride, padding words, output_padding, dilation, in, out, groups)
    pytest.param(u(), "torch", [3, 3], [3, 3], 2, 0, 0, 1, 2, 2, 1, id="default"),
    pytest.param(u(in_channels=2, out_channels=1, padding=1, output_padding=1), "torch", [3, 3], [3, 3], 2, 1, 1, 1,
                 2, 1, 1, id="dcgan"),
    pytest.param(u(kernel_size=2, in_channels=1, out_channels=1, input_shape="1,1,3,3"), "torch", [3, 3], [2, 2], 2,
                 0, 0, 1, 1, 1, 1, id="upsample"),
    pytest.param(u(type="ConvTranspose1d", in_channels=1, out_channels=1, kernel_size=3, stride=1, dilation=2,
                   input_shape="1,1,4"), "torch", [4], [3], 1, 0, 0, 2, 1, 1, 1, id="dilated"),
    pytest.param(u(type="ConvTranspose1d", in_channels=3, out_channels=3, groups=3, kernel_size=4, stride=3,
                   padding=3, output_padding=2, input_shape="1,3,5", seed=7), "torch", [5], [4], 3, 3, 2, 1, 3, 3, 3,
                 id="groups-crop"),
    pytest.param(u(type="ConvTranspose2d", in_channels=1, out_channels=2, kernel_size="1,1", stride=2, padding=1,
                   output_padding=1, input_shape="1,1,3,2", weights="ones"), "torch", [3, 2], [1, 1], 2, 1, 1, 1, 1,
                 2, 1, id="k1-crop-more-than-kernel"),  # the direct conv's padding is negative: it crops
    pytest.param(u(type="ConvTranspose1d", in_channels=2, out_channels=1, kernel_size=2, stride=1, padding=0,
                   output_padding=1, dilation=2, input_shape="1,2,3"), "torch", [3], [2], 1, 0, 1, 2, 2, 1, 1,
                 id="outpad-past-scatter"),  # one position beyond the scatter: zeros plus the bias
    pytest.param(u("keras", padding="same"), "keras", [3, 3], [3, 3], 2, "same", None, 1, 2, 2, 1, id="keras-same"),
    pytest.param(u("keras", type="Conv1DTranspose", filters=3, kernel_size=4, strides=2, padding="same",
                   output_padding=0, input_shape="1,5,1", seed=3), "keras", [5], [4], 2, "same", 0, 1, 1, 3, 1,
                 id="keras-same-even"),
    pytest.param(u("keras", kernel_size="2,3", strides=3, padding="valid", output_padding=2, input_shape="1,2,3,3"),
                 "keras", [2, 3], [2, 3], 3, "valid", 2, 1, 3, 2, 1, id="keras-valid-outpad"),
    # height: k = 1, 'same' crops 2·0 and output_padding 2 adds two zero rows past the scatter; width:
    # k = 4 crops 2·2 − 2 = 2 (one at each end): cells past the scatter in height but cropped in width are crops
    pytest.param(u("keras", kernel_size="1,4", strides=3, padding="same", output_padding=2, input_shape="1,2,3,1",
                   filters=1), "keras", [2, 3], [1, 4], 3, "same", 2, 1, 1, 1, 1, id="keras-extra-and-crop"),
]


def _lengths(framework, n, k, s, padding, op, d):
    if framework == "torch":
        return [torch_length(nn, kk, s, padding, op, d) for nn, kk in zip(n, k)]
    return [keras_length(nn, kk, s, padding, op, d) for nn, kk in zip(n, k)]


def _crops(framework, n, k, s, padding, d, out):
    if framework == "torch":
        return [padding] * len(n)
    return [keras_crop_before(nn, kk, s, padding, d, o) for nn, kk, o in zip(n, k, out)]


@pytest.mark.parametrize("url, framework, n, k, s, padding, op, d, cin, cout, groups", CASES)
def test_scatter_output_recomputed_from_the_numbers_shown(client, url, framework, n, k, s, padding, op, d, cin, cout,
                                                          groups):
    out = _lengths(framework, n, k, s, padding, op, d)
    crop = _crops(framework, n, k, s, padding, d, out)
    cg = cin // groups
    steps = cg * math.prod(n)
    for o in range(cout):
        r = get(client, f"{url}&o={o}&step={steps - 1}")  # the last step: every stamp is in
        assert shape(r.text) == ([1, cout, *out] if framework == "torch" else [1, *out, cout])
        first = o // (cout // groups) * cg
        chans = list(range(first, first + cg))
        x = np.stack([array(r.text, f"x{c}-", n) for c in chans])
        w = np.stack([array(r.text, f"w{c}-", k) for c in chans])
        assert set(np.unique(x)) <= set(range(-3, 4))                       # small integers
        assert np.allclose(w * 10, np.round(w * 10))                        # tenths
        expected = scatter_by_hand(x, w, bias_shown(r.text), [s] * len(n), [d] * len(n), crop, out)
        shown = array(r.text, "y-", out)
        np.testing.assert_allclose(shown, np.round(expected, 2), atol=0.006)
        assert not any("pending" in c for c in classes(r.text, "y-").values())
        # the other way, on the same page: the same numbers
        np.testing.assert_allclose(array(r.text, "z-", out), shown, atol=0.006)
        diff = float(re.search(r'data-max-diff="([^"]+)"', r.text).group(1))
        assert 0 <= diff < 1e-5


@pytest.mark.parametrize("url, framework, n, k, s, padding, op, d, cin, cout, groups", CASES)
def test_running_sum_at_a_step(client, url, framework, n, k, s, padding, op, d, cin, cout, groups):
    """?step=n: the canvas holds the stamps of the input values 0..n (channel by channel, row-major),
    uncropped; the stamp of value n is marked; outputs still waiting for a stamp are marked pending."""
    out = _lengths(framework, n, k, s, padding, op, d)
    crop = _crops(framework, n, k, s, padding, d, out)
    full = [(nn - 1) * s + d * (kk - 1) + 1 for nn, kk in zip(n, k)]
    canvas = [max(f, c + o) for f, c, o in zip(full, crop, out)]
    cg = cin // groups
    positions = math.prod(n)
    step = (cg * positions) // 2
    r = get(client, f"{url}&step={step}")
    x = np.stack([array(r.text, f"x{c}-", n) for c in range(cg)])
    w = np.stack([array(r.text, f"w{c}-", k) for c in range(cg)])
    running = np.zeros(canvas)
    last = np.full(canvas, -1)
    for t_step in range(cg * positions):
        c, i = divmod(t_step, positions)
        i = np.unravel_index(i, n)
        for t in itertools.product(*(range(kk) for kk in k)):
            cell = tuple(ii * s + tt * d for ii, tt in zip(i, t))
            last[cell] = t_step
            if t_step <= step:
                running[cell] += x[(c, *i)] * w[(c, *t)]
    np.testing.assert_allclose(array(r.text, "s-", canvas), np.round(running, 2), atol=0.006)
    c_now, i_now = divmod(step, positions)
    i_now = np.unravel_index(i_now, n)
    stamped = {int(np.ravel_multi_index(tuple(ii * s + tt * d for ii, tt in zip(i_now, t)), canvas))
               for t in itertools.product(*(range(kk) for kk in k))}
    cls = classes(r.text, "s-")
    assert {i for i, c in cls.items() if "lit" in c} == stamped
    kept = {int(np.ravel_multi_index(j, canvas)) for j in itertools.product(*(range(c, c + o) for c, o in zip(crop, out)))}
    assert {i for i, c in cls.items() if "crop" in c} == set(range(math.prod(canvas))) - kept
    past = {i for i in kept if any(j >= f for j, f in zip(np.unravel_index(i, canvas), full))}
    assert {i for i, c in cls.items() if "extra" in c} == past
    assert {i for i, c in classes(r.text, f"x{c_now}-").items() if "lit" in c} == {int(np.ravel_multi_index(i_now, n))}
    # the output is the kept canvas plus the bias, pending where a later stamp still adds
    outputs = array(r.text, "y-", out)
    for j in itertools.product(*(range(o) for o in out)):
        cell = tuple(jj + c for jj, c in zip(j, crop))
        assert outputs[j] == pytest.approx(round(running[cell] + bias_shown(r.text), 2), abs=0.006)
    pending = {i for i, c in classes(r.text, "y-").items() if "pending" in c}
    assert pending == {int(np.ravel_multi_index(j, out)) for j in itertools.product(*(range(o) for o in out))
                       if last[tuple(jj + c for jj, c in zip(j, crop))] > step}
    label = plain(section(r.text, "step-label"))
    assert label == f"{step} of {cg * positions}: x[{c_now}, {', '.join(map(str, i_now))}]"
    assert f"x[{c_now}, {', '.join(map(str, i_now))}] = {plain(section(r.text, 'stamp-text')).split(' = ')[1].split()[0]}" \
        in plain(section(r.text, "stamp-text"))
    assert num(plain(section(r.text, "stamp-text")).split(" = ")[1].split()[0]) == x[(c_now, *i_now)]
    contribution = array(r.text, "k-", k)
    np.testing.assert_allclose(contribution, np.round(x[(c_now, *i_now)] * w[c_now], 2), atol=0.006)


@pytest.mark.parametrize("url, framework, n, k, s, padding, op, d, cin, cout, groups", CASES)
def test_direct_convolution_recomputed_from_the_numbers_shown(client, url, framework, n, k, s, padding, op, d, cin,
                                                              cout, groups):
    """The stretched input: the input values stride apart, zeros between (class inserted), padded by
    dilation·(k − 1) − crop on each side (class pad; negative crops), the extra output_padding at
    the end; the kernel flipped; a stride-1 conv of the two gives the page's output."""
    out = _lengths(framework, n, k, s, padding, op, d)
    crop = _crops(framework, n, k, s, padding, d, out)
    cg = cin // groups
    o = cout - 1
    pos = math.prod(out) // 2
    r = get(client, f"{url}&o={o}&pos={pos}")
    first = o // (cout // groups) * cg
    chans = list(range(first, first + cg))
    before = [d * (kk - 1) - c for kk, c in zip(k, crop)]
    stretched = [(nn - 1) * s + 1 for nn in n]
    padded = [o_ + d * (kk - 1) for o_, kk in zip(out, k)]  # a stride-1 conv of span d·(k − 1) + 1 gives `out`
    for c in chans:
        x = array(r.text, f"x{c}-", n)
        xp = array(r.text, f"d{c}-", padded)
        expected = np.zeros(padded)
        kind = np.full(padded, "pad", dtype=object)
        for idx in itertools.product(*(range(p) for p in padded)):
            raw = [i - b for i, b in zip(idx, before)]  # position in the stretched input
            if all(0 <= rr < st for rr, st in zip(raw, stretched)):
                if all(rr % s == 0 for rr in raw):
                    expected[idx], kind[idx] = x[tuple(rr // s for rr in raw)], "value"
                else:
                    kind[idx] = "inserted"
        np.testing.assert_array_equal(xp, expected)
        got = classes(r.text, f"d{c}-")
        for idx in itertools.product(*(range(p) for p in padded)):
            flat = int(np.ravel_multi_index(idx, padded))
            assert ({"inserted", "pad"} & got[flat]) == ({kind[idx]} - {"value"}), (c, idx, got[flat])
        w = array(r.text, f"w{c}-", k)
        flipped = array(r.text, f"f{c}-", k)
        np.testing.assert_array_equal(flipped, w[tuple(slice(None, None, -1) for _ in k)])
    xs = np.stack([array(r.text, f"d{c}-", padded) for c in chans])
    ws = np.stack([array(r.text, f"f{c}-", k) for c in chans])
    expected = conv_by_hand(xs, ws, bias_shown(r.text), [d] * len(k), out)
    np.testing.assert_allclose(array(r.text, "z-", out), np.round(expected, 2), atol=0.006)
    # the window at `pos`, written out: one product per tap, per channel, then the bias
    q = np.unravel_index(pos, out)
    assert {i for i, c in classes(r.text, "z-").items() if "current" in c} == {pos}
    where = ", ".join(str(int(v)) for v in q)
    assert plain(section(r.text, "pos-label")) == f"{pos} of {math.prod(out)}: output [{where}]"
    assert plain(section(r.text, "direct-title-pos")) == f"Output [{where}], written out"
    window = {int(np.ravel_multi_index(tuple(qq + tt * d for qq, tt in zip(q, t)), padded))
              for t in itertools.product(*(range(kk) for kk in k))}
    assert {i for i, c in classes(r.text, f"d{chans[0]}-").items() if "lit" in c} == window
    lines = re.findall(r"<li>(.*?)</li>", section(r.text, "direct-lines"), re.DOTALL)
    assert len(lines) == len(chans)
    total = 0.0
    for li, c, xc, wc in zip(lines, chans, xs, ws):
        label, rest = plain(li).split(":", 1)
        assert label == f"channel {c}"
        terms_text, shown_sum = rest.rsplit("=", 1)
        terms = [tuple(num(v) for v in t.split("×")) for t in terms_text.split(" + ")]
        taps = list(itertools.product(*(range(kk) for kk in k)))
        assert terms == [(xc[tuple(qq + tt * d for qq, tt in zip(q, t))], wc[t]) for t in taps]
        faded = [bool(z) for z, _ in re.findall(r'<span( class="zero")?>([^<]*)</span>', li)]
        assert faded == [kind[tuple(qq + tt * d for qq, tt in zip(q, t))] != "value" for t in taps]  # zeros read
        assert num(shown_sum) == pytest.approx(sum(a * b for a, b in terms), abs=0.006)
        total += sum(a * b for a, b in terms)
    value = num(re.findall(r"<strong>([^<]*)</strong>", section(r.text, "direct-total"))[-1])
    assert value == pytest.approx(total + bias_shown(r.text), abs=0.011)
    assert value == num(cells(r.text, "z-")[pos])


GOLDEN_2D = [c for c in GOLDEN if c["layer"]["type"] in ("ConvTranspose2d", "Conv2DTranspose")
             and len(c["input"]) == 1 and "data_format" not in c["layer"]]


def _golden_state(case):
    x = np.array(case["input"], dtype=np.float32)
    query = {"framework": case["framework"], **{k: ",".join(map(str, v)) if isinstance(v, list) else
                                                str(v).lower() if isinstance(v, bool) else v
                                                for k, v in case["layer"].items()},
             "input_shape": ",".join(map(str, x.shape))}
    return read_state(QueryParams(urlencode(query)))


FITS = [c for c in GOLDEN_2D if not _golden_state(c)[1]]  # inside the view's bounds: 1–3 channels, kernel ≤ 4, ...


def test_enough_recorded_cases_fit_the_view():
    assert len(FITS) >= 20 and {c["framework"] for c in FITS} == {"torch", "keras"}
    assert any(c["layer"].get("output_padding") for c in FITS) and any(c["layer"].get("dilation") or
                                                                        c["layer"].get("dilation_rate") for c in FITS)


@pytest.mark.parametrize("case", FITS, ids=[c["id"] for c in FITS])
def test_recorded_framework_outputs_through_the_context_builder(case):
    """The recorded input and weights fed through the view's own context builder: both ways of
    computing (the scatter and the direct conv) give what PyTorch / Keras gave, channel by channel."""
    state, errors = _golden_state(case)
    assert errors == []
    x = np.array(case["input"], dtype=np.float32)
    weights = [np.array(w, dtype=np.float32) for w in case["weights"]]
    expected = np.array(case["output"], dtype=np.float64)[0]
    if case["framework"] == "keras":
        expected = np.moveaxis(expected, -1, 0)
    for o in range(expected.shape[0]):
        ctx = transposed_context(state.model_copy(update={"o": o}), x=x, weights=weights)
        assert "error" not in ctx, ctx.get("error")
        assert ctx["out_shape"] == case["output_shape"]
        out = ctx["numbers"]["out"]
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(np.array(ctx["numbers"]["y"]).reshape(out), expected[o], atol=2e-5 * scale, rtol=1e-4)
        np.testing.assert_allclose(np.array(ctx["numbers"]["z"]).reshape(out), expected[o], atol=2e-5 * scale, rtol=1e-4)
        assert ctx["max_diff"] < 1e-4 * scale


# ---------------------------------------------------------------- layouts and the inverse conv

@pytest.mark.parametrize("framework, url, weight", [
    ("torch", u(in_channels=3, out_channels=2, kernel_size="3,2", input_shape="1,3,3,3", o=1), [3, 2, 3, 2]),
    ("torch", u(in_channels=3, out_channels=3, groups=3, kernel_size=2, input_shape="1,3,3,3", o=2), [3, 1, 2, 2]),
    ("keras", u("keras", filters=3, kernel_size="3,2", input_shape="1,3,3,2", o=1), [3, 2, 3, 2]),
])
def test_weight_layouts_and_their_slices(client, framework, url, weight):
    r = get(client, url)
    assert plain(section(r.text, "weight-shape")) == str(weight)
    table = plain(re.search(r'<table class="shapes tc-layouts">(.*?)</table>', r.text, re.DOTALL).group(1))
    cin = 3 if "in_channels=3" in url else 2
    cout = 2 if "out_channels=2" in url else 3
    groups = 3 if "groups=3" in url else 1
    k = [3, 2] if "3,2" in url else [2, 2]
    assert f"up.weight [{cin}, {cout // groups}, {k[0]}, {k[1]}]" in table
    assert f"up.kernel [{k[0]}, {k[1]}, {cout}, {cin}]" in table
    assert "weight[c, o" in table and "kernel[:, :, o, c]" in table
    o = int(parse_qs(urlsplit(url).query)["o"][0])
    first = o // (cout // groups) * (cin // groups)
    heading = re.findall(r"<h4>(.*?)</h4>", section(r.text, "scatter"))
    if framework == "torch":
        assert f"weight[{first}, {o % (cout // groups)}]" in heading
    else:
        assert f"kernel[:, :, {o}, 0]" in heading and f"kernel[:, :, {o}, 1]" in heading


def test_explore_link_round_trips_the_shape(client):
    for url, words in [(u(padding=1, output_padding=1, in_channels=2, out_channels=3), "torch"),
                       (u(type="ConvTranspose1d", in_channels=1, out_channels=2, kernel_size=3, stride=3,
                          input_shape="1,1,5"), "torch"),
                       (u("keras", padding="same", kernel_size=3, strides=2), "keras"),
                       (u("keras", type="Conv1DTranspose", filters=1, kernel_size=2, strides=3, padding="valid",
                          input_shape="1,4,2"), "keras")]:
        r = get(client, url)
        link = html.unescape(re.search(r'<a href="([^"]+)" id="explore-link"', r.text).group(1))
        q = parse_qs(urlsplit(link).query)
        assert urlsplit(link).path == "/explore" and q["framework"] == [words]
        assert q["input_shape"] == [",".join(map(str, shape(r.text)))]  # applied to this layer's output
        forward = get(client, link)
        assert alerts(forward.text) == []
        in_shape = [int(v) for v in parse_qs(urlsplit(url).query)["input_shape"][0].split(",")]
        assert shape(forward.text) == in_shape  # the forward conv gives back this layer's input shape
        assert plain(section(r.text, "inverse-shape")) == str(in_shape)


def test_the_ambiguity_output_padding_resolves_is_named(client):
    # Conv2d(k=3, stride=2, padding=1) maps heights 5 and 6 both to 3: floor((L + 2 − 3) / 2) + 1
    assert [L for L in range(1, 12) if (L + 2 - 3) // 2 + 1 == 3] == [5, 6]
    for op, length in ((0, 5), (1, 6)):
        r = get(client, u(in_channels=2, out_channels=1, padding=1, output_padding=op))
        text = plain(section(r.text, "inverse"))
        assert "maps heights 5, 6 all to 3" in text and f"this layer gives {length}" in text
        assert "output_padding picks which" in text
    # stride 1: one length only
    r = get(client, u(stride=1))
    assert "only height 5 maps to 3: no ambiguity" in plain(section(r.text, "inverse"))
    # output_padding 1 ≥ stride 1 (allowed under dilation 2): the conv does not give the input back
    r = get(client, u(type="ConvTranspose1d", in_channels=1, out_channels=1, kernel_size=2, stride=1, dilation=2,
                      output_padding=1, input_shape="1,1,3"))
    length = torch_length(3, 2, 1, 0, 1, 2)  # 2 + 2 + 1 + 1 = 6
    back = (length - 2 - 1) // 1 + 1           # Conv1d(k=2, dilation=2) on 6: 4
    assert shape(r.text) == [1, 1, 6] and back == 4
    text = plain(section(r.text, "inverse"))
    assert f"turns {length} into {back}, not 3" in text and "[1, 1, 4]" in text and "not this layer's input" in text


# ---------------------------------------------------------------- presets, framework switch

def preset_links(client) -> dict[str, str]:
    nav = re.search(r'<nav class="presets"[^>]*>(.*?)</nav>', get(client, "/transposed").text, re.DOTALL).group(1)
    return {plain(label): html.unescape(href) for href, label in re.findall(r'<a href="([^"]+)">(.*?)</a>', nav)}


@pytest.mark.parametrize("start, expected", [
    ("2×2 kernel, stride 2", [1, 1, torch_length(3, 2, 2), torch_length(3, 2, 2)]),          # 6: ×2
    ("3×3, stride 2, padding 1, output_padding 1", [1, 1, torch_length(3, 3, 2, 1, 1), torch_length(3, 3, 2, 1, 1)]),
    ("1D · Keras", [1, keras_length(4, 3, 2, "same"), 1]),                                     # 4·2 = 8
    ("Dilated", [1, 1, torch_length(4, 3, 1, 0, 0, 2)]),                                       # 3 + 4 + 1 = 8
])
def test_presets(client, start, expected):
    [url] = [v for label, v in preset_links(client).items() if label.startswith(start)]
    r = get(client, url)
    assert alerts(r.text) == [] and shape(r.text) == expected


@pytest.mark.parametrize("url, same_numbers", [
    (u(kernel_size=2), True), (u("keras", kernel_size=2), True),  # nothing cropped: the same canvas, the same output
    # the same size, cropped differently: PyTorch's padding=1 crops one position at each end and
    # output_padding=1 gives the last one back; Keras' 'same' crops only at the end (TensorFlow's rule)
    (u(padding=1, output_padding=1), False), (u("keras", padding="same"), False)])
def test_framework_switch_keeps_the_output_size(client, url, same_numbers):
    r = get(client, url)
    links = {name: html.unescape(href) for href, name in
             re.findall(r'<a href="([^"]+)"[^>]*>(PyTorch|Keras)</a>', r.text)}
    other = links["Keras" if "framework=torch" in url else "PyTorch"]
    again = get(client, other)
    mine, theirs = shape(r.text), shape(again.text)
    spatial = (lambda s_, torch: s_[2:] if torch else s_[1:-1])
    assert spatial(mine, "framework=torch" in url) == spatial(theirs, "framework=torch" in other)
    assert (cells(again.text, "y-") == cells(r.text, "y-")) == same_numbers
    if not same_numbers:
        keras = r.text if "framework=keras" in url else again.text
        assert "the odd one at the end, as TensorFlow does" in plain(keras)


# ---------------------------------------------------------------- bounds

BOUNDS = [  # (inside, outside, field named, value named): one step either side of each control's bound
    (u("form", channels=512, groups=1), u("form", channels=513), "channels", "513"),
    (u("form", channels=1), u("form", channels=0), "channels", "0"),
    (u(in_channels=512, input_shape="1,512,3,3"), u(in_channels=513, input_shape="1,513,3,3"), "channels", "513"),
    (u(out_channels=512), u(out_channels=513), "out_channels", "513"),
    (u(out_channels=1), u(out_channels=0), "out_channels", "0"),
    (u("keras", filters=512), u("keras", filters=513), "filters", "513"),
    (u(input_shape="1,2,6,1024", kernel_size=1), u(input_shape="1,2,6,1025"), "size", "1025"),
    (u(input_shape="1,2,1,1", kernel_size=1), u(input_shape="1,2,1,0", kernel_size=1), "size", "0"),
    (u("form", size="1024,6"), u("form", size="1025,6"), "size", "1025"),
    (u(type="ConvTranspose1d", input_shape="1,2,16384", kernel_size=1), u(type="ConvTranspose1d", input_shape="1,2,16385"),
     "size", "16385"),
    (u(kernel_size=7), u(kernel_size=8), "kernel", "8"),
    (u(kernel_size="1,4"), u(kernel_size="0,4"), "kernel", "0"),
    (u(stride=4), u(stride=5), "stride", "5"),
    (u(stride=1), u(stride=0), "stride", "0"),
    (u("keras", strides=4), u("keras", strides=5), "strides", "5"),
    (u(padding=3, kernel_size=4), u(padding=4, kernel_size=4), "padding", "'4'"),
    (u(padding=0), u(padding=-1), "padding", "'-1'"),
    (u(output_padding=2, stride=3), u(output_padding=3, stride=3), "output_padding", "3"),
    (u(output_padding=0), u(output_padding=-1), "output_padding", "-1"),
    (u(dilation=3, stride=1), u(dilation=4, stride=1), "dilation", "4"),
    (u(dilation=1), u(dilation=0), "dilation", "0"),
    (u("keras", dilation_rate=3, strides=1), u("keras", dilation_rate=4, strides=1), "dilation", "4"),
    (u(groups=2, in_channels=2, out_channels=2), u(groups=513), "groups", "513"),
    (u(groups=1), u(groups=0), "groups", "0"),
    (u(seed=9999), u(seed=10000), "seed", "10000"),
    (u(seed=0), u(seed=-1), "seed", "-1"),
    (u(out_channels=512, o=511), u(out_channels=512, o=512), "o", "512"),
    (u(out_channels=2, o=1), u(out_channels=2, o=2), "o", "2"),  # o is below out_channels
    (u(o=0), u(o=-1), "o", "-1"),
    (u(step=17), u(step=18), "step", "18"),       # 2 channels × 3×3 values: steps 0..17
    (u(step=0), u(step=-1), "step", "-1"),
    (u(pos=48), u(pos=49), "pos", "49"),          # 7×7 outputs: windows 0..48
    (u(pos=0), u(pos=-1), "pos", "-1"),
]
IDS = [f"{b[2]}={b[3]}-{n}" for n, b in enumerate(BOUNDS)]


def names(message: str, field: str, value: str) -> bool:
    return bool(re.search(rf"\b{field}\b", message)) and bool(re.search(rf"(?<![\d-]){re.escape(value)}(?!\d)", message))


@pytest.mark.parametrize("inside, outside, field, value", BOUNDS, ids=IDS)
def test_value_just_inside_a_bound_works(client, inside, outside, field, value):
    r = client.get(inside)
    assert r.status_code == 200, alerts(r.text)
    assert alerts(r.text) == [] and shape(r.text) is not None


@pytest.mark.parametrize("inside, outside, field, value", BOUNDS, ids=IDS)
def test_value_just_outside_a_bound_is_named_in_the_fragment_and_422_for_a_page(client, inside, outside, field, value):
    r = client.get(outside, headers=HX)
    assert r.status_code == 200 and r.text.strip().startswith('<div id="live"')
    found = alerts(r.text)
    assert any(names(m, field, value) for m in found), found
    assert shape(r.text) is not None  # the rest of the state still draws
    page = client.get(outside)
    assert page.status_code == 422 and "<html" in page.text
    assert any(names(m, field, value) for m in alerts(page.text)), alerts(page.text)


def test_controls_carry_the_models_bounds(client):
    page = get(client, u()).text
    for name, lo, hi in (("channels", 1, 512), ("filters", 1, 512), ("size-0", 1, 1024), ("size-1", 1, 1024),
                         ("kernel-0", 1, 7), ("kernel-1", 1, 7), ("stride-0", 1, 4), ("stride-1", 1, 4),
                         ("dilation-0", 1, 3), ("dilation-1", 1, 3),
                         ("groups", 1, 512), ("seed", 0, 9999), ("o", 0, 1)):
        tag = re.search(rf'<input [^>]*id="{name}"[^>]*>', page).group(0)
        assert f'min="{lo}"' in tag and f'max="{hi}"' in tag, tag
    options = lambda sel, text: re.findall(r'<option value="([^"]*)"', re.search(
        rf'<select id="{sel}"[^>]*>(.*?)</select>', text, re.DOTALL).group(1))
    assert options("padding-0", page) == ["0", "1", "2", "3"] and options("output_padding-1", page) == ["0", "1", "2"]
    keras = get(client, u("keras")).text
    assert options("padding", keras) == ["valid", "same"] and options("output_padding-0", keras) == ["None", "0", "1", "2"]
    assert 'id="groups"' not in keras  # Keras' transposed convs have no groups


@pytest.mark.parametrize("param", ["framework", "type", "channels", "in_channels", "size", "input_shape", "filters",
                                   "out_channels", "kernel_size", "stride", "strides", "dilation", "dilation_rate",
                                   "padding", "output_padding", "groups", "bias", "use_bias", "weights", "seed", "o",
                                   "step", "pos", "dims"])
@pytest.mark.parametrize("value", ["", "x", "-1", "1e9", "99999999999999999999", "3,3,3,3", "nan", "0.5", "１"])
def test_no_value_gives_a_500(client, param, value):
    for headers in ({}, HX):
        r = client.get("/transposed", params={param: value}, headers=headers)
        assert r.status_code in (200, 422), (param, value, r.status_code)


# ---------------------------------------------------------------- invalid settings, in place

@pytest.mark.parametrize("url, words", [
    (u(stride=2, output_padding=2), ["output_padding", "smaller than either stride or dilation", "2"]),
    (u(stride=1, dilation=1, output_padding=1), ["output_padding", "stride", "dilation"]),
    (u("keras", strides=2, output_padding=2), ["output_padding", "strictly less than strides", "2"]),
    (u("keras", strides=2, dilation_rate=2), ["strides > 1", "dilation_rate > 1"]),
    (u(input_shape="1,2,1,1", kernel_size=1, stride=1, padding=1), ["crops away the whole output", "padding"]),
    (u(in_channels=3, out_channels=2, groups=3, input_shape="1,3,3,3"), ["divisible by groups", "[1]"]),
    (u(padding="same"), ["padding", "same"]),
])
def test_invalid_setting_is_explained_in_place(client, url, words):
    for headers in ({}, HX):
        r = get(client, url, headers=headers)  # 200: an answer, not an error
        found = [m for m in alerts(r.text) if "cannot run" in m]
        assert len(found) == 1, alerts(r.text)
        for w in words:
            assert w in found[0], (w, found[0])
        assert shape(r.text) is None and 'id="transposed-data"' not in r.text
        assert 'id="transposed-form"' in r.text or headers  # the form stays, to fix it
    assert r.text.strip().startswith('<div id="live"')


def test_output_padding_refusal_says_why(client):
    r = get(client, u(stride=2, output_padding=2))
    [alert] = [m for m in alerts(r.text) if "cannot run" in m]
    assert "chooses among the output sizes" in alert


# ---------------------------------------------------------------- escaping

XSS = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.mark.parametrize("param", ["framework", "type", "channels", "in_channels", "size", "input_shape", "filters",
                                   "out_channels", "kernel_size", "stride", "strides", "dilation", "dilation_rate",
                                   "padding", "output_padding", "groups", "bias", "use_bias", "weights", "seed", "o",
                                   "step", "pos"])
def test_query_values_are_escaped(client, param):
    for headers in ({}, HX):
        r = client.get("/transposed", params={param: XSS}, headers=headers)
        assert r.status_code in (200, 422)
        assert "<script>alert" not in r.text and "<img src=x" not in r.text and "'><" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text  # the value is shown, as text
        assert "<" not in r.headers["hx-replace-url"] and "script" not in r.headers["hx-replace-url"]


def test_output_cells_are_focusable(client):
    r = get(client, u())
    for prefix in ("y-", "z-"):
        tds = re.findall(rf'<td id="{prefix}\d+"[^>]*>', r.text)
        assert len(tds) == 49 and all('tabindex="0"' in td for td in tds), tds[:2]


def test_keras_none_on_every_axis_is_keras_default_output_padding():
    """The 2D Keras form sends output_padding once per axis: None on both axes is Keras' None (it was
    refused as 'None,None'), numbers are numbers."""
    base = [("framework", "keras"), ("type", "Conv2DTranspose"), ("strides", "2"), ("padding", "same")]
    state, errors = read_state(QueryParams(base + [("output_padding", "None"), ("output_padding", "None")]))
    assert errors == [] and state.output_padding is None
    state, errors = read_state(QueryParams(base + [("output_padding", "1"), ("output_padding", "0")]))
    assert errors == [] and state.output_padding == (1, 0)
