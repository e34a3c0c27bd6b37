"""/pool over HTTP: whole page or htmx fragment, the state in either framework's words, shapes by the
frameworks' formulas, every pooled value recomputed here from the numbers the page draws, the divisor
of every average and the reason given for it, ?step=n, every control's bounds, refusals in place.

Every number pinned here comes from the frameworks' documented rules (written out in this file),
from tests/data/questions.json or tests/golden/forward.json.gz (recorded with PyTorch and Keras), or
is recomputed in the test from the input the page shows; never from calling the page's own code.
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

from tests.web import page
from tests.web.page import alerts, get, num, plain, section, shape

DATA = Path(__file__).resolve().parents[1]
QUESTIONS = json.loads((DATA / "data" / "questions.json").read_text())
GOLDEN = json.loads(gzip.decompress((DATA / "golden" / "forward.json.gz").read_bytes()))["cases"]
HX = {"HX-Request": "true"}
MINUS = "\u2212"


# ---------------------------------------------------------------- reading the page

def data(text: str) -> dict:
    return page.data(text, "pool")


def inline(fragment: str) -> str:
    """Text as read: inline tags dropped without adding space."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", fragment))).strip()


def cells(text: str, prefix: str) -> list[tuple[str, str]]:
    """Grid cells `<td id="{prefix}{i}" class="...">text</td>` in index order -> [(class, text)]."""
    found = re.findall(rf'<td id="{re.escape(prefix)}(\d+)"(?: class="([^"]*)")?>([^<]*)</td>', text)
    return [(cls, t) for _, cls, t in sorted(found, key=lambda f: int(f[0]))]


def hx_query(r) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["hx-replace-url"]).query).items()}


def real_input(text: str, channels: int, size: list[int]) -> np.ndarray:
    """The input as drawn: every channel's cells that are neither padding nor past it, row by row."""
    x = []
    for c in range(channels):
        real = [num(t) for cls, t in cells(text, f"x{c}-") if cls not in ("pad", "past")]
        assert len(real) == math.prod(size)
        x.append(np.array(real).reshape(size))
    return np.array(x)


def output_grid(text: str, channels: int, out: list[int]) -> np.ndarray:
    return np.array([[num(t) for _, t in cells(text, f"y{c}-")] for c in range(channels)]).reshape(channels, *out)


# ---------------------------------------------------------------- the frameworks' rules, written out

def torch_out(n, k, s=None, p=0, d=1, ceil=False):
    """torch.nn.MaxPool1d docs: floor or ceil of (n + 2p − d(k − 1) − 1) / s, + 1; with ceil_mode the
    last window must start inside the input or the left padding (aten/src/ATen/native/Pool.h)."""
    s = s or k
    top = n + 2 * p - d * (k - 1) - 1
    out = (-(-top // s) if ceil else top // s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    return out


def keras_out(n, k, s=None, padding="valid"):
    """keras.layers.MaxPooling1D docs: valid: floor((n − k) / s) + 1; same: ceil(n / s)."""
    s = s or k
    return (n - k) // s + 1 if padding == "valid" else -(-n // s)


def keras_same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2  # the odd cell after (TensorFlow)


def pool_by_hand(x, kind, k, s, pads, out, d=None, include_pad=True, divisor=None):
    """Slow definition over one batch item (C, *spatial): max treats padding as −∞; an average sums the
    real cells and divides by divisor_override, or by the window's cells inside the padded input
    (count_include_pad=True), or by its real cells only (False, and Keras)."""
    d = d or [1] * len(k)
    spatial = x.shape[1:]
    y = np.zeros((x.shape[0], *out))
    for o in itertools.product(*(range(n) for n in out)):
        real, inside = [], 0
        for t in itertools.product(*(range(kk) for kk in k)):
            pos = [oi * si - pb + ti * di for oi, si, (pb, _), ti, di in zip(o, s, pads, t, d)]
            if all(-pb <= q < n + pa for q, n, (pb, pa) in zip(pos, spatial, pads)):
                inside += 1
                if all(0 <= q < n for q, n in zip(pos, spatial)):
                    real.append(tuple(pos))
        vals = np.array([[x[(c, *q)] for q in real] for c in range(x.shape[0])])
        if kind == "max":
            y[(slice(None), *o)] = vals.max(axis=1)
        else:
            y[(slice(None), *o)] = vals.sum(axis=1) / (divisor or (inside if include_pad else len(real)))
    return y


class _Form(HTMLParser):
    """The fields #pool-form submits without JavaScript, and every control's attributes."""

    def __init__(self):
        super().__init__()
        self.fields, self.controls, self.inside, self.select, self.options = [], {}, False, None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "pool-form":
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("form") is None:
            self.fields.append((a["name"], a.get("value", "")))
            self.controls[a.get("id", a["name"])] = a
        elif tag == "select" and a.get("name"):
            self.select, self.options = a, []
        elif tag == "option" and self.select is not None:
            self.options.append((a.get("value"), "selected" in a))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            chosen = next((o for o in self.options if o[1]), self.options[0])
            self.fields.append((self.select["name"], chosen[0]))
            self.controls[self.select["id"]] = {**self.select, "options": [v for v, _ in self.options]}
            self.select = None


def form(text: str) -> _Form:
    p = _Form()
    p.feed(text)
    return p


# ---------------------------------------------------------------- full page, fragment, URL

TORCH_2D = "/pool?framework=torch&type=MaxPool2d&kernel_size=3&stride=2&padding=1&input_shape=1,2,7,7"


def test_full_page_and_fragment_share_a_url(client):
    full = get(client, TORCH_2D)
    frag = get(client, TORCH_2D, headers=HX)
    assert "HX-Request" in full.headers["vary"] and "HX-Request" in frag.headers["vary"]
    assert "<html" in full.text and 'id="pool-form"' in full.text and 'aria-label="Main"' in full.text
    assert frag.text.strip().startswith('<div id="live"')
    assert "<html" not in frag.text and 'id="pool-form"' not in frag.text and 'aria-label="Main"' not in frag.text
    expected = [1, 2, torch_out(7, 3, 2, 1), torch_out(7, 3, 2, 1)]
    assert shape(full.text) == shape(frag.text) == expected == [1, 2, 4, 4]  # floor((7 + 2 − 3) / 2) + 1
    restore = get(client, TORCH_2D, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text and 'id="pool-form"' in restore.text and shape(restore.text) == expected


def test_replace_url_is_the_canonical_url_in_each_frameworks_words(client):
    # what the form sends (size per axis, channels, batch): the answer names the URL in the framework's words
    form_query = ("type=AvgPool2d&batch=2&channels=3&size=7&size=6&kernel_size=3&kernel_size=2&stride=2&padding=1"
                  "&ceil_mode=true&count_include_pad=false&divisor_override=&seed=5&step=3")
    r = get(client, "/pool?framework=torch&" + form_query, headers=HX)
    assert urlsplit(r.headers["hx-replace-url"]).path == "/pool"
    assert hx_query(r) == {"framework": "torch", "type": "AvgPool2d", "kernel_size": "3,2", "stride": "2",
                           "padding": "1", "ceil_mode": "true", "count_include_pad": "false",
                           "input_shape": "2,3,7,6", "seed": "5", "step": "3"}
    assert shape(r.text) == [2, 3, torch_out(7, 3, 2, 1, ceil=True), torch_out(6, 2, 2, 1, ceil=True)] == [2, 3, 4, 4]

    keras_form = ("type=MaxPooling2D&batch=2&channels=3&size=7&size=6&kernel_size=3&kernel_size=2&stride=default"
                  "&padding=same&seed=5&step=3")
    r = get(client, "/pool?framework=keras&" + keras_form, headers=HX)
    q = hx_query(r)
    assert q == {"framework": "keras", "type": "MaxPooling2D", "pool_size": "3,2", "padding": "same",
                 "input_shape": "2,7,6,3", "seed": "5", "step": "3"}
    assert not {"kernel_size", "stride", "strides", "ceil_mode", "count_include_pad", "dilation"} & set(q)
    assert shape(r.text) == [2, keras_out(7, 3, padding="same"), keras_out(6, 2, padding="same"), 3] == [2, 3, 3, 3]

    # the canonical URL is a fixed point: it shows the same layer and names itself
    again = get(client, r.headers["hx-replace-url"])
    assert again.headers["hx-replace-url"] == r.headers["hx-replace-url"]
    assert data(again.text) == data(r.text)


def test_keras_aliases_and_strides_name_the_same_layer(client):
    # Q6 writes MaxPool1D, Keras' alias of MaxPooling1D
    r = get(client, "/pool?type=MaxPool1D&pool_size=3&strides=3&input_shape=3,6,4", headers=HX)
    q = hx_query(r)
    assert q["framework"] == "keras" and q["type"] == "MaxPooling1D" and q["strides"] == "3"
    assert shape(r.text) == [3, 2, 4]


def test_embed_pool_is_the_same_view_without_the_site(client):
    full = get(client, "/embed/pool?type=AvgPool1d&kernel_size=3&input_shape=1,1,9&theme=dark&autoplay=1")
    assert 'aria-label="Main"' not in full.text and 'data-theme="dark"' in full.text and 'data-autoplay="1"' in full.text
    assert shape(full.text) == [1, 1, 3]
    frag = get(client, "/embed/pool?type=AvgPool1d&kernel_size=3&input_shape=1,1,9&theme=dark", headers=HX)
    assert frag.headers["hx-replace-url"].startswith("/embed/pool?framework=torch&type=AvgPool1d")
    assert frag.headers["hx-replace-url"].endswith("theme=dark")
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', frag.text) if "type=" in h]
    assert links and all(h.startswith("/embed/pool?") for h in links)  # toggles and steps stay embedded
    assert "Embed this view" not in frag.text


@pytest.mark.parametrize("url", [
    TORCH_2D,
    ("/pool?framework=torch&type=AvgPool2d&kernel_size=2&padding=1&count_include_pad=false&divisor_override=3"
     "&input_shape=1,2,5,6"),
    "/pool?framework=keras&type=AveragePooling1D&pool_size=3&strides=2&padding=same&input_shape=2,11,3",
    "/pool?framework=torch&type=MaxPool1d&kernel_size=3&dilation=2&ceil_mode=true&input_shape=1,1,12",
])
def test_the_form_alone_reproduces_the_page(client, url):
    """Without JavaScript the form is a plain GET: submitting it as rendered shows the same layer."""
    page = get(client, url)
    fields = form(page.text).fields
    names = {n for n, _ in fields}
    assert {"framework", "type", "batch", "channels", "size", "kernel", "stride", "padding", "seed"} <= names
    assert not {"step", "scrub", "speed"} & names  # player controls are not state
    again = get(client, "/pool?" + urlencode(fields))
    assert again.headers["hx-replace-url"] == page.headers["hx-replace-url"]
    assert shape(again.text) == shape(page.text) and data(again.text) == data(page.text)


def test_kind_framework_and_dimension_links_keep_the_layer(client):
    page = get(client, "/pool?framework=torch&type=MaxPool1d&kernel_size=3&stride=2&padding=1&input_shape=2,3,11")
    links = {label: html.unescape(href) for href, label in
             re.findall(r'<a href="(/pool\?[^"]+)"[^>]*>(PyTorch|Keras|Max|Average|1D|2D)</a>', page.text)}
    assert set(links) == {"PyTorch", "Keras", "Max", "Average", "1D", "2D"}
    keras = {k: v[0] for k, v in parse_qs(urlsplit(links["Keras"]).query).items()}
    assert keras == {"framework": "keras", "type": "MaxPooling1D", "pool_size": "3", "strides": "2",
                     "padding": "same", "input_shape": "2,11,3"}  # Keras has no numeric padding
    avg = {k: v[0] for k, v in parse_qs(urlsplit(links["Average"]).query).items()}
    assert avg["type"] == "AvgPool1d" and avg["count_include_pad"] == "true" and "dilation" not in avg
    two = get(client, links["2D"])
    assert shape(two.text) == [2, 3, torch_out(11, 3, 2, 1), torch_out(11, 3, 2, 1)]  # the size carries to both axes


# ---------------------------------------------------------------- shapes

SHAPES = [  # (url, expected output shape by the formulas above)
    ("/pool?type=MaxPool1d&kernel_size=2&input_shape=1,1,9", [1, 1, torch_out(9, 2)]),
    ("/pool?type=MaxPool1d&kernel_size=3&stride=1&padding=1&input_shape=2,3,10", [2, 3, torch_out(10, 3, 1, 1)]),
    ("/pool?type=MaxPool1d&kernel_size=3&stride=2&dilation=2&padding=1&input_shape=1,2,13",
     [1, 2, torch_out(13, 3, 2, 1, d=2)]),
    ("/pool?type=MaxPool1d&kernel_size=2&ceil_mode=true&input_shape=1,1,7", [1, 1, torch_out(7, 2, ceil=True)]),
    ("/pool?type=AvgPool1d&kernel_size=2&stride=2&padding=1&ceil_mode=true&input_shape=1,1,5",
     [1, 1, torch_out(5, 2, 2, 1, ceil=True)]),
    ("/pool?type=AvgPool2d&kernel_size=3,2&stride=2&input_shape=1,2,9,8", [1, 2, torch_out(9, 3, 2), torch_out(8, 2, 2)]),
    ("/pool?type=MaxPool2d&kernel_size=2&ceil_mode=true&input_shape=1,1,16,15",
     [1, 1, torch_out(16, 2, ceil=True), torch_out(15, 2, ceil=True)]),
    ("/pool?framework=keras&type=MaxPooling1D&pool_size=4&input_shape=1,11,2", [1, keras_out(11, 4), 2]),
    ("/pool?framework=keras&type=MaxPooling1D&pool_size=4&strides=3&padding=same&input_shape=1,11,2",
     [1, keras_out(11, 4, 3, "same"), 2]),
    ("/pool?framework=keras&type=AveragePooling2D&pool_size=3,2&strides=2&padding=same&input_shape=4,7,5,1",
     [4, keras_out(7, 3, 2, "same"), keras_out(5, 2, 2, "same"), 1]),
]


@pytest.mark.parametrize("url, expected", SHAPES)
def test_output_shape_follows_the_frameworks_formula(client, url, expected):
    r = get(client, url)
    assert alerts(r.text) == [] and shape(r.text) == expected


def golden_cases():
    """Recorded 1D/2D pooling cases the view can draw (channels-last Keras only; up to 4 channels shown,
    so a recorded 32-channel input is drawn with 2: pooling treats every channel the same)."""
    cases = []
    for case in GOLDEN:
        layer = case["layer"]
        if not re.fullmatch(r"(Max|Avg)Pool[12]d|(Max|Average)Pooling[12]D", layer["type"]) or "data_format" in layer:
            continue
        x_shape = list(np.array(case["input"]).shape)
        out = list(case["output_shape"])
        axis = 1 if case["framework"] == "torch" else -1
        if x_shape[axis] > 4:
            x_shape[axis] = out[axis] = 2
        if any(isinstance(v, list) and len(set(v)) > 1 for k, v in layer.items() if k != "kernel_size" and k != "pool_size"):
            continue  # /pool takes one stride, padding and dilation for every axis (the API takes tuples)
        cases.append(pytest.param(case["framework"], layer, x_shape, out, id=case["id"]))
    return cases


@pytest.mark.parametrize("framework, layer, input_shape, expected", golden_cases())
def test_output_shape_matches_the_recorded_frameworks(client, framework, layer, input_shape, expected):
    params = {"framework": framework, "input_shape": ",".join(map(str, input_shape))}
    for key, value in layer.items():
        params[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value).lower() \
            if isinstance(value, bool) else value
    r = get(client, "/pool?" + urlencode(params, safe=","))
    assert alerts(r.text) == [] and shape(r.text) == expected


def test_the_golden_selection_is_broad():
    types = {p.values[1]["type"] for p in golden_cases()}
    assert types == {"MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "MaxPooling1D", "MaxPooling2D",
                     "AveragePooling1D", "AveragePooling2D"} and len(golden_cases()) >= 100


def formulas(text: str) -> str:
    return inline(re.search(r'<ul class="formulas">(.*?)</ul>', text, re.DOTALL).group(1))


def stride_note(text: str) -> str:
    return inline(section(text, "stride-note"))


# ---------------------------------------------------------------- presets from the questions

def preset_links(client) -> dict[str, str]:
    nav = re.search(r'<nav class="presets[^"]*"[^>]*>(.*?)</nav>', get(client, "/pool").text, re.DOTALL).group(1)
    return {plain(label): html.unescape(href) for href, label in re.findall(r'<a href="([^"]+)">(.*?)</a>', nav)}


def preset(client, prefix: str) -> str:
    [url] = [u for label, u in preset_links(client).items() if label.startswith(prefix)]
    return url


def recorded(question: str, note: str) -> dict:
    [case] = [c for c in QUESTIONS["layers"] if c["question"] == question and c["note"].startswith(note)]
    return case


def test_q2_presets_pool_48_and_49_positions_to_24(client):
    for prefix, note, n, unread in (("Q2 · MaxPool1d(2, stride=2)", "48", 48, []),
                                    ("Q2 · MaxPool1d(2) on length 49", "stride defaults", 49, [48])):
        case = recorded("Q2", note)
        r = get(client, preset(client, prefix))
        got = shape(r.text)
        assert got[0] == case["output_shape"][0] and got[2:] == case["output_shape"][2:] == [24]  # (N, C, 24)
        assert len(data(r.text)["steps"]) == 24  # one played step per output position
        top = n - 1 * (2 - 1) - 1
        assert f"floor({top} / 2) + 1 = {top // 2} + 1 = 24" in formulas(r.text)
        classes = [cls for cls, _ in cells(r.text, "x0-")]
        assert [i for i, c in enumerate(classes) if c == "unreached"] == unread  # no padding: index = position
        if unread:
            assert "the floor leaves input position 48 unread" in formulas(r.text)
            # stride was not given: the page says where the 2 comes from
            assert "stride: not given → kernel_size = 2 (torch.nn.MaxPool1d docs: “Default value is kernel_size”)" \
                in stride_note(r.text)
        else:
            assert "stride=2, given" in stride_note(r.text)


def test_q6_preset_pools_6_positions_to_2(client):
    case = recorded("Q6", "6 -> 2")
    r = get(client, preset(client, "Q6"))
    got = shape(r.text)
    assert got[:2] == case["output_shape"][:2] == [3, 2]  # (N, length, C): 5 channels in Q6, 4 drawn here
    q = hx_query(r)
    assert q["type"] == "MaxPooling1D" and q["pool_size"] == "3" and q["strides"] == "3"
    x = real_input(r.text, 4, [6])
    assert output_grid(r.text, 4, [2]).tolist() == [[x[c, 0:3].max(), x[c, 3:6].max()] for c in range(4)]


def test_count_include_pad_presets_differ_exactly_at_the_padded_windows(client):
    on, off = get(client, preset(client, "AvgPool1d(3")), get(client, preset(client, "… and count_include_pad=False"))
    assert shape(on.text) == shape(off.text) == [1, 2, torch_out(8, 3, 2, 1)] == [1, 2, 4]
    x = real_input(on.text, 2, [8])
    assert (x == real_input(off.text, 2, [8])).all()  # the same numbers
    y_on, y_off = output_grid(on.text, 2, [4]), output_grid(off.text, 2, [4])
    # window 0 covers positions −1..1: one padding cell; windows 1..3 cover 1..3, 3..5, 5..7
    np.testing.assert_allclose(y_on[:, 0], x[:, 0:2].sum(axis=1) / 3, atol=0.006)
    np.testing.assert_allclose(y_off[:, 0], x[:, 0:2].sum(axis=1) / 2, atol=0.006)
    np.testing.assert_allclose(y_on[:, 1:], y_off[:, 1:])


def test_ceil_mode_presets(client):
    adds = get(client, preset(client, "ceil_mode=True adds a window"))
    assert shape(adds.text) == [1, 1, torch_out(7, 2, ceil=True)] == [1, 1, 4]
    text = inline(section(adds.text, "ceil"))
    assert "floor(5 / 2) + 1 = 2 + 1 = 3" in text and "ceil(5 / 2) + 1 = 4" in text
    assert "ceil_mode=True adds 1 window, the last hanging 1 cell past the input" in text
    classes = [cls for cls, _ in cells(adds.text, "x0-")]
    assert classes == [""] * 7 + ["past"]  # the 4th window reads position 6 and hangs one cell past the end
    assert [cls for cls, _ in cells(adds.text, "y0-")] == ["", "", "", "extra"]
    x = real_input(adds.text, 1, [7])
    assert output_grid(adds.text, 1, [4])[0].tolist() == [x[0, 0:2].max(), x[0, 2:4].max(), x[0, 4:6].max(), x[0, 6]]

    nothing = get(client, preset(client, "ceil_mode=True adds nothing"))
    assert shape(nothing.text) == [1, 1, torch_out(5, 2, 2, 1, ceil=True)] == [1, 1, 3]
    text = inline(section(nothing.text, "ceil"))
    # ceil((5 + 2 − 2) / 2) + 1 = 4, but window 4 would start at 3·2 − 1 = 5: the right padding
    assert "ceil(5 / 2) + 1 = 4, but window 4 would start at input position 5, in the right padding" in text
    assert "ceil_mode=True adds nothing here" in text
    assert "so PyTorch drops it: 3" in formulas(nothing.text)
    assert "past" not in [cls for cls, _ in cells(nothing.text, "x0-")]


def test_keras_same_average_divides_by_the_real_cells(client):
    r = get(client, preset(client, "Keras AveragePooling2D"))
    assert shape(r.text) == [1, 3, 3, 1]  # ceil(5 / 2)
    assert keras_same_pads(5, 2, 2) == (0, 1)
    assert "(padding 0 before, 1 after)" in formulas(r.text)
    x = real_input(r.text, 1, [5, 5])
    y = output_grid(r.text, 1, [3, 3])
    assert y[0, 2, 2] == x[0, 4, 4]                                      # one real cell: divided by 1
    assert y[0, 0, 2] == pytest.approx(x[0, 0:2, 4].sum() / 2, abs=0.006)  # two real cells
    assert y[0, 0, 0] == pytest.approx(x[0, 0:2, 0:2].sum() / 4, abs=0.006)


# ---------------------------------------------------------------- every value, recomputed

VALUE_CASES = [  # (url, kind, kernel, stride, pads per axis, dilation, include_pad, divisor)
    ("/pool?type=MaxPool1d&kernel_size=3&stride=2&padding=1&input_shape=1,3,12&seed=3",
     "max", [3], [2], [(1, 1)], [1], True, None),
    ("/pool?type=MaxPool1d&kernel_size=3&stride=1&dilation=2&padding=1&ceil_mode=true&input_shape=1,2,10",
     "max", [3], [1], [(1, 1)], [2], True, None),
    ("/pool?type=MaxPool2d&kernel_size=3,2&stride=2&padding=1&ceil_mode=true&input_shape=1,4,8,7&seed=9",
     "max", [3, 2], [2, 2], [(1, 1), (1, 1)], [1, 1], True, None),
    ("/pool?type=AvgPool1d&kernel_size=3&stride=2&padding=1&ceil_mode=true&input_shape=1,2,8",
     "avg", [3], [2], [(1, 1)], [1], True, None),
    ("/pool?type=AvgPool1d&kernel_size=3&stride=2&padding=1&ceil_mode=true&count_include_pad=false&input_shape=1,2,8",
     "avg", [3], [2], [(1, 1)], [1], False, None),
    ("/pool?type=AvgPool2d&kernel_size=3&stride=2&padding=1&input_shape=1,2,7,6&seed=4",
     "avg", [3, 3], [2, 2], [(1, 1), (1, 1)], [1, 1], True, None),
    ("/pool?type=AvgPool2d&kernel_size=3&stride=2&padding=1&count_include_pad=false&input_shape=1,2,7,6&seed=4",
     "avg", [3, 3], [2, 2], [(1, 1), (1, 1)], [1, 1], False, None),
    ("/pool?type=AvgPool2d&kernel_size=2&stride=1&padding=1&divisor_override=3&input_shape=1,1,4,5",
     "avg", [2, 2], [1, 1], [(1, 1), (1, 1)], [1, 1], True, 3),
    ("/pool?framework=keras&type=MaxPooling1D&pool_size=4&strides=3&padding=same&input_shape=1,11,2",
     "max", [4], [3], [keras_same_pads(11, 4, 3)], [1], False, None),
    ("/pool?framework=keras&type=AveragePooling1D&pool_size=4&strides=1&padding=same&input_shape=1,9,3&seed=2",
     "avg", [4], [1], [keras_same_pads(9, 4, 1)], [1], False, None),
    ("/pool?framework=keras&type=AveragePooling2D&pool_size=3&strides=2&padding=same&input_shape=1,6,7,2",
     "avg", [3, 3], [2, 2], [keras_same_pads(6, 3, 2), keras_same_pads(7, 3, 2)], [1, 1], False, None),
    ("/pool?framework=keras&type=AveragePooling2D&pool_size=2,3&strides=2&input_shape=1,6,7,2",
     "avg", [2, 3], [2, 2], [(0, 0), (0, 0)], [1, 1], False, None),
]


@pytest.mark.parametrize("url, kind, k, s, pads, d, include_pad, divisor", VALUE_CASES)
def test_every_output_is_its_windows_max_or_average(client, url, kind, k, s, pads, d, include_pad, divisor):
    r = get(client, url)
    got = shape(r.text)
    torch = "keras" not in url
    channels, out = (got[1], got[2:]) if torch else (got[-1], got[1:-1])
    size = [int(v) for v in re.search(r"input_shape=([\d,]+)", url).group(1).split(",")]
    size = size[2:] if torch else size[1:-1]
    x = real_input(r.text, channels, size)
    expected = pool_by_hand(x, kind, k, s, pads, out, d, include_pad, divisor)
    y = output_grid(r.text, channels, out)
    np.testing.assert_allclose(y, expected, atol=0.0051)   # printed with two decimals
    d = data(r.text)  # the steps played: each channel's value as the output grid writes it
    played = [[d["texts"][step["values"][c]] for step in d["steps"]] for c in range(channels)]
    assert played == [[t for _, t in sorted(page.cells(r.text, f"y{c}-").items())] for c in range(channels)]
    # padding is drawn as −∞ for max and 0 for an average
    pad_texts = {t for c in range(channels) for cls, t in cells(r.text, f"x{c}-") if cls == "pad"}
    assert pad_texts <= ({f"{MINUS}∞"} if kind == "max" else {"0"})


def test_both_frameworks_show_the_same_numbers_for_the_same_seed(client):
    torch = get(client, "/pool?type=AvgPool2d&kernel_size=2&input_shape=1,3,6,5&seed=17")
    keras = get(client, "/pool?framework=keras&type=AveragePooling2D&pool_size=2&input_shape=1,6,5,3&seed=17")
    assert page.cells(torch.text, "x0-") == page.cells(keras.text, "x0-")
    assert data(torch.text)["texts"] == data(keras.text)["texts"]  # every step written the same
    assert shape(torch.text) == [1, 3, 3, 2] and shape(keras.text) == [1, 3, 2, 3]


# ---------------------------------------------------------------- ?step=n and the arithmetic

def arith_lines(text: str) -> list[str]:
    return [inline(li) for li in re.findall(r"<li>(.*?)</li>", section(text, "arith-lines"), re.DOTALL)]


STEP_CASES = [  # (url, output spatial shape, step)
    ("/pool?type=MaxPool2d&kernel_size=3&stride=2&padding=1&input_shape=1,3,7,7&seed=5", [4, 4], 4),   # [1, 0]
    ("/pool?type=MaxPool1d&kernel_size=2&ceil_mode=true&input_shape=1,2,7", [4], 3),                  # hangs past
    ("/pool?type=AvgPool1d&kernel_size=3&stride=2&padding=1&input_shape=1,2,8", [4], 0),
    ("/pool?type=AvgPool1d&kernel_size=3&stride=2&padding=1&count_include_pad=false&input_shape=1,2,8", [4], 0),
    ("/pool?type=AvgPool1d&kernel_size=3&stride=2&padding=1&ceil_mode=true&input_shape=1,2,8", [5], 4),
    ("/pool?type=AvgPool2d&kernel_size=2&padding=1&divisor_override=5&input_shape=1,1,5,5", [3, 3], 4),
    ("/pool?framework=keras&type=AveragePooling2D&pool_size=2&padding=same&input_shape=1,5,5,2", [3, 3], 8),
    ("/pool?framework=keras&type=AveragePooling1D&pool_size=3&strides=1&input_shape=1,6,2", [4], 2),
]


def window(o, k, s, pads, spatial, d=None):
    """(position, 'real'|'pad'|'past') of every tap of output o's window."""
    d = d or [1] * len(k)
    taps = []
    for t in itertools.product(*(range(kk) for kk in k)):
        pos = tuple(oi * si - pb + ti * di for oi, si, (pb, _), ti, di in zip(o, s, pads, t, d))
        if any(q >= n + pa for q, n, (_, pa) in zip(pos, spatial, pads)):
            taps.append((pos, "past"))
        elif all(0 <= q < n for q, n in zip(pos, spatial)):
            taps.append((pos, "real"))
        else:
            taps.append((pos, "pad"))
    return taps


@pytest.mark.parametrize("url, out, step", STEP_CASES)
def test_step_writes_out_every_channels_window(client, url, out, step):
    r = get(client, f"{url}&step={step}")
    d = data(r.text)
    pos = [int(i) for i in np.unravel_index(step, out)]
    assert f"{step} of {math.prod(out)}: output {pos}" in plain(section(r.text, "step-label"))
    assert re.search(rf'<input type="range" id="scrub" min="0" max="{math.prod(out) - 1}" value="{step}"', r.text)
    assert f"Output {pos} of every channel, written out" in plain(r.text)
    shape_ = [int(v) for v in re.search(r"input_shape=([\d,]+)", url).group(1).split(",")]
    size = shape_[2:] if "keras" not in url else shape_[1:-1]
    kind = "max" if "Max" in url else "avg"
    x = real_input(r.text, d["channels"], size)
    y = output_grid(r.text, d["channels"], out)
    # the geometry from the URL, by the frameworks' rules
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    k = [int(v) for v in (q.get("kernel_size") or q["pool_size"]).split(",")]
    k = k * len(size) if len(k) == 1 else k
    s = [int(q.get("stride", q.get("strides", 0)))] * len(size) if ("stride" in q or "strides" in q) else k
    if q.get("padding") == "same":
        pads = [keras_same_pads(n, kk, ss) for n, kk, ss in zip(size, k, s)]
    else:
        pads = [(int(q.get("padding", 0)),) * 2] * len(size)
    taps = window(pos, k, s, pads, size)
    read = [(p, w) for p, w in taps if w != "past"]
    why = plain(section(r.text, "arith-why"))
    lines = arith_lines(r.text)
    assert len(lines) == d["channels"]
    for c, line in enumerate(lines):
        label, rest = line.split(":", 1)
        assert label == f"channel {c}"
        if kind == "max":
            values = [x[(c, *p)] if w == "real" else -math.inf for p, w in read]
            m = re.fullmatch(r" max\((.*)\) = (\S+), at input position \[([\d, ]+)\](?: \(the first of (\d+) equal values\))?",
                             rest)
            assert m, rest
            shown = [-math.inf if v == f"{MINUS}∞" else num(v) for v in m.group(1).split(", ")]
            assert shown == values
            assert num(m.group(2)) == max(values) == y[(c, *pos)]
            first = read[values.index(max(values))][0]
            assert [int(v) for v in m.group(3).split(", ")] == list(first)
            assert int(m.group(4) or 1) == values.count(max(values))
        else:
            values = [x[(c, *p)] if w == "real" else 0.0 for p, w in read]
            real = sum(w == "real" for _, w in taps)
            inside = len(read)
            if "divisor_override" in q:
                divisor = int(q["divisor_override"])
            elif q.get("framework") == "keras" or q.get("count_include_pad") == "false":
                divisor = real
            else:
                divisor = inside
            m = re.fullmatch(r" \((.*)\) / (\d+) = (\S+) / (\d+) = (\S+)", rest)
            assert m, rest
            assert [num(v) for v in m.group(1).split(" + ")] == values
            assert int(m.group(2)) == int(m.group(4)) == divisor
            assert num(m.group(3)) == sum(values)
            assert num(m.group(5)) == pytest.approx(sum(values) / divisor, abs=0.0051) and num(m.group(5)) == y[(c, *pos)]
            assert why.startswith(f"divisor {divisor}:")
    pads_in = sum(w == "pad" for _, w in taps)
    past = sum(w == "past" for _, w in taps)
    if kind == "max":
        assert ("never win" in why) == bool(pads_in)
    elif "divisor_override" in q:
        assert f"divisor_override={q['divisor_override']} replaces the count" in why
    elif q.get("framework") == "keras":
        assert ("Keras 'same' average pooling divides by the real cells only" in why) == bool(pads_in)
    elif pads_in and q.get("count_include_pad") == "false":
        assert f"count_include_pad=False counts only the {real} real cells" in why
    elif pads_in:
        assert f"count_include_pad=True counts every cell inside the padded input: {real} real + {pads_in} padding" in why
    assert ("past the padded input" in why) == bool(past)


def test_step_links_move_one_frame_and_wrap(client):
    url = "/pool?type=MaxPool1d&kernel_size=2&input_shape=1,1,8"  # 4 windows
    def hrefs(text):
        return {i: parse_qs(urlsplit(html.unescape(h)).query).get("step", ["0"])[0]
                for i, h in re.findall(r'<a class="btn" id="step-(back|forward)" href="([^"]+)"', text)}
    assert hrefs(get(client, url).text) == {"back": "3", "forward": "1"}
    assert hrefs(get(client, url + "&step=3").text) == {"back": "2", "forward": "0"}


def test_step_past_the_last_is_named(client):
    url = "/pool?type=MaxPool1d&kernel_size=2&input_shape=1,1,8"
    r = get(client, url + "&step=4", headers=HX)
    assert any("step" in m and re.search(r"\b4\b", m) and "0 to 3" in m for m in alerts(r.text)), alerts(r.text)
    assert "0 of 4: output [0]" in plain(section(r.text, "step-label"))
    assert client.get(url + "&step=4").status_code == 422
    assert alerts(get(client, url + "&step=3").text) == []


# ---------------------------------------------------------------- bounds

def u(framework="torch", **params) -> str:
    """A /pool URL; PyTorch MaxPool1d(2) on (1, 2, 9) unless told otherwise."""
    words = {"torch": {"type": "MaxPool1d", "kernel_size": 2, "input_shape": "1,2,9"},
             "keras": {"type": "MaxPooling1D", "pool_size": 2, "input_shape": "1,9,2"},
             "form": {"type": "MaxPool1d", "channels": 2, "kernel_size": 2, "size": "9"}}[framework]
    query = {"framework": "keras" if framework == "keras" else "torch", **words, **params}
    return "/pool?" + urlencode({k: v for k, v in query.items() if v is not None}, safe=",")


P2 = {"type": "MaxPool2d", "input_shape": "1,2,7,7"}
A2 = {"type": "AvgPool2d", "input_shape": "1,2,7,7"}
BOUNDS = [  # (inside, outside, field named, value named): one step either side of each bound
    (u("form", batch=8), u("form", batch=9), "batch", "9"),
    (u("form", batch=1), u("form", batch=0), "batch", "0"),
    (u(input_shape="8,2,9"), u(input_shape="9,2,9"), "batch", "9"),
    (u("form", channels=512), u("form", channels=513), "channels", "513"),
    (u("form", channels=1), u("form", channels=0), "channels", "0"),
    (u("keras", input_shape="1,9,512"), u("keras", input_shape="1,9,513"), "channels", "513"),
    (u(input_shape="1,2,16384"), u(input_shape="1,2,16385"), "size", "16385"),
    (u(input_shape="1,2,2"), u(input_shape="1,2,0"), "size", "0"),
    (u(**{**P2, "input_shape": "1,2,16,1024"}), u(**{**P2, "input_shape": "1,2,16,1025"}), "size", "1025"),
    (u(**{"type": "MaxPool3d", "input_shape": "1,1,256,8,8"}), u(**{"type": "MaxPool3d", "input_shape": "1,1,257,8,8"}),
     "size", "257"),
    (u("form", size="16384"), u("form", size="16385"), "size", "16385"),
    (u(kernel_size=8), u(kernel_size=9), "kernel_size", "9"),
    (u(kernel_size=1), u(kernel_size=0), "kernel_size", "0"),
    (u(**P2, kernel_size="2,7"), u(**P2, kernel_size="2,9"), "kernel_size", "9"),
    (u("keras", pool_size=8), u("keras", pool_size=9), "pool_size", "9"),
    (u(stride=8), u(stride=9), "stride", "9"),
    (u(stride=1), u(stride=0), "stride", "0"),
    (u("keras", strides=8), u("keras", strides=9), "strides", "9"),
    (u(kernel_size=8, padding=4), u(kernel_size=8, padding=5), "padding", "5"),
    (u(dilation=3), u(dilation=4), "dilation", "4"),
    (u(dilation=1), u(dilation=0), "dilation", "0"),
    (u(**A2, divisor_override=64), u(**A2, divisor_override=65), "divisor_override", "65"),
    (u(**A2, divisor_override=1), u(**A2, divisor_override=0), "divisor_override", "0"),
    (u(seed=9999), u(seed=10000), "seed", "10000"),
    (u(seed=0), u(seed=-1), "seed", "-1"),
    (u(step=0), u(step=-1), "step", "-1"),
]
INSIDE = [pytest.param(*b, id=f"{b[2]}-{n}") for n, b in enumerate(BOUNDS)]


def names(message: str, field: str, value: str) -> bool:
    return bool(re.search(rf"\b{field}\b", message)) and bool(re.search(rf"(?<![\d-]){re.escape(value)}(?!\d)", message))


@pytest.mark.parametrize("inside, outside, field, value", INSIDE)
def test_value_just_inside_a_bound_works(client, inside, outside, field, value):
    r = get(client, inside)
    assert alerts(r.text) == [] and shape(r.text) is not None


@pytest.mark.parametrize("inside, outside, field, value", INSIDE)
def test_value_just_outside_a_bound_is_named_in_place(client, inside, outside, field, value):
    r = get(client, outside, headers=HX)
    assert r.text.strip().startswith('<div id="live"')
    assert any(names(m, field, value) for m in alerts(r.text)), alerts(r.text)
    assert shape(r.text) is not None  # the rest of the state still draws
    full = client.get(outside)
    assert full.status_code == 422 and "<html" in full.text
    assert any(names(m, field, value) for m in alerts(full.text)), alerts(full.text)


@pytest.mark.parametrize("url", [u(), u(**P2), u(**A2, padding=1), u("keras"), u("keras", type="AveragePooling2D",
                                                                                  input_shape="1,7,7,2")])
def test_the_controls_bounds_are_the_servers_bounds(client, url):
    """Every range and number control's min and max are accepted, one step past them is refused, and
    every option of every select draws a layer (or a refusal the framework would give)."""
    page = get(client, url)
    f = form(page.text)
    base = dict(f.fields)
    multi = {"size": [v for n, v in f.fields if n == "size"], "kernel": [v for n, v in f.fields if n == "kernel"]}
    ranged = {cid: a for cid, a in f.controls.items() if a.get("type") in ("range", "number")}
    assert {"batch", "channels", "size-0", "kernel-0", "seed"} <= set(ranged)
    for cid, a in ranged.items():
        for value, ok in ((a["min"], True), (a["max"], True), (int(a["min"]) - 1, False), (int(a["max"]) + 1, False)):
            fields = {**base, **multi}
            if cid.startswith(("size-", "kernel-")):
                i = int(cid.split("-")[1])
                fields[a["name"]] = [value if j == i else v for j, v in enumerate(multi[a["name"]])]
                fields["kernel"] = fields["kernel"] if cid.startswith("kernel-") else ["1"] * len(multi["kernel"])
            else:
                fields[a["name"]] = value
            fields["padding"] = "0" if "torch" in url else "valid"
            r = client.get("/pool?" + urlencode(fields, doseq=True), headers=HX)
            assert r.status_code == 200
            refused = [m for m in alerts(r.text) if "refuses" not in m]
            assert (refused == []) == ok, (cid, value, alerts(r.text))
    for cid, a in f.controls.items():
        for option in a.get("options", []):
            r = client.get("/pool?" + urlencode({**base, **multi, a["name"]: option}, doseq=True), headers=HX)
            assert r.status_code == 200 and not [m for m in alerts(r.text) if "refuses" not in m], (cid, option)


@pytest.mark.parametrize("param", ["framework", "type", "kind", "dims", "batch", "channels", "size", "input_shape",
                                   "kernel_size", "pool_size", "stride", "strides", "padding", "dilation", "ceil_mode",
                                   "count_include_pad", "divisor_override", "seed", "step"])
@pytest.mark.parametrize("value", ["", "x", "-1", "1e9", "99999999999999999999", "3,3,3,3", "nan", "0.5", "１"])
def test_no_value_gives_a_500(client, param, value):
    for headers in ({}, HX):
        r = client.get("/pool", params={param: value}, headers=headers)
        assert r.status_code in (200, 422), (param, value, r.status_code)


# ---------------------------------------------------------------- refusals, in place

@pytest.mark.parametrize("url, words", [
    # PyTorch: "pad should be at most half of kernel size" (aten/src/ATen/native/Pool.h)
    (u(kernel_size=2, padding=2), ["pad should be at most half of kernel size", "padding=2", "padding ≤ 1"]),
    (u(**P2, kernel_size=3, padding=2), ["at most half", "padding ≤ 1"]),
    # a pool larger than the (padded) input
    (u(kernel_size=5, input_shape="1,2,3"), ["does not fit", "3", "5"]),
    (u("keras", pool_size=4, input_shape="1,3,2"), ["does not fit", "3", "4"]),
    (u(kernel_size=3, dilation=3, input_shape="1,2,6"), ["does not fit", "6", "7"]),  # 3·(3 − 1) + 1 = 7
    (u(**{**P2, "input_shape": "1,2,7,2"}, kernel_size=3), ["does not fit", "2", "3"]),
    # keywords the layer does not have, named by the framework
    (u(type="AvgPool1d", dilation=2), ["AvgPool1d has no keyword 'dilation'"]),
    (u(type="AvgPool1d", divisor_override=2), ["AvgPool1d has no keyword 'divisor_override'"]),
    (u("keras", ceil_mode="true"), ["MaxPooling1D has no keyword 'ceil_mode'"]),
])
def test_invalid_layer_is_explained_in_place(client, url, words):
    for headers in ({}, HX):
        r = get(client, url, headers=headers)  # 200: an answer, not an error
        found = [m for m in alerts(r.text) if "refuses this layer" in m]
        assert len(found) == 1, alerts(r.text)
        for w in words:
            assert re.search(rf"(?<![\w.]){re.escape(w)}(?![\w])", found[0]), (w, found[0])
        assert shape(r.text) is None and 'id="pool-data"' not in r.text
    assert r.text.strip().startswith('<div id="live"')
    assert 'id="layer-code"' in r.text  # the layer as written is still shown


@pytest.mark.parametrize("url, words", [
    (u(padding="same"), ["padding", "'same'", "Keras"]),
    (u("keras", padding="1"), ["padding", "'valid'", "'same'"]),
    (u(type="Conv2d"), ["type", "Conv2d", "MaxPool1d"]),
    (u(type="MaxPool4d"), ["type", "MaxPool4d", "MaxPool1d/2d/3d"]),
    (u(channels=3), ["channels", "3", "2"]),  # input_shape says 2
])
def test_settings_the_view_cannot_take_are_named(client, url, words):
    r = client.get(url, headers=HX)
    found = alerts(r.text)
    assert any(all(w in m for w in words) for m in found), found
    assert shape(r.text) is not None


# ---------------------------------------------------------------- escaping, no HTTP

XSS = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.mark.parametrize("param", ["framework", "type", "kind", "dims", "batch", "channels", "size", "input_shape",
                                   "kernel_size", "pool_size", "stride", "strides", "padding", "dilation", "ceil_mode",
                                   "count_include_pad", "divisor_override", "seed", "step"])
def test_query_values_are_escaped(client, param):
    for headers in ({}, HX):
        r = client.get("/pool", params={param: XSS}, headers=headers)
        assert r.status_code in (200, 422)
        assert "<script>alert" not in r.text and "<img src=x" not in r.text and "'><" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text  # the value is shown, as text
        assert "<" not in r.headers["hx-replace-url"] and "script" not in r.headers["hx-replace-url"]


def test_the_context_builder_runs_without_http():
    import plotly.graph_objects as go
    from starlette.datastructures import QueryParams

    from app.routes.pool import pool_context, read_state
    state, errors = read_state(QueryParams("framework=keras&type=AveragePooling2D&pool_size=2&padding=same"
                                           "&input_shape=1,5,5,3&step=8"))
    assert errors == []
    ctx = pool_context(state)
    assert ctx["out_shape"] == [1, 3, 3, 3] and ctx["step"] == 8 and ctx["out_pos"] == (2, 2)
    assert len(ctx["arithmetic"].lines) == 3
    go.Figure(ctx["figure"])  # plotly's validators accept the figure dict
    one = pool_context(read_state(QueryParams("type=AvgPool1d&kernel_size=3&stride=2&padding=1&input_shape=1,3,9"))[0])
    go.Figure(one["figure"])
    # the 1D figure draws each output across the positions its window covers: window o spans o·2 − 1 .. o·2 + 1
    bars = [t for t in one["figure"]["data"] if t["name"].startswith("output")]
    assert len(bars) == 3 and bars[0]["x"][:2] == [-1 - 0.4, 1 + 0.4] and bars[0]["y"][0] == bars[0]["y"][1]
    played = one["data"]["texts"][one["data"]["steps"][0]["values"][0]]  # output 0 of channel 0, as played
    assert bars[0]["y"][0] == pytest.approx(num(played), abs=0.0051)
    assert "error" in pool_context(read_state(QueryParams("type=MaxPool1d&kernel_size=4&input_shape=1,1,3"))[0])
