"""Layers with a different setting on each axis, written in PyTorch's and Keras' words, open in the
view that draws them with the framework's output shape (recorded by tests/golden/record_axes.py)."""
import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.web.page import alerts, get, shape

CASES = json.loads((Path(__file__).parents[1] / "golden" / "per_axis.json").read_text())["cases"]
HX = {"HX-Request": "true"}


def url(case: dict) -> str:
    """The link a tutorial (or a /trace row) writes: the layer's keywords, tuples as 'a,b'."""
    words = {k: ",".join(map(str, v)) if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else v
             for k, v in case["layer"].items()}
    query = urlencode({"framework": case["framework"], **words,
                       "input_shape": ",".join(map(str, case["input_shape"]))}, safe=",")
    return f"/{case['view']}?{query}"


def test_the_table_is_per_axis_in_both_frameworks_and_every_view():
    asymmetric = [c for c in CASES if any(isinstance(v, list) and len(set(v)) > 1 for v in c["layer"].values())]
    assert len(asymmetric) >= 60
    assert {(c["view"], c["framework"]) for c in asymmetric} == {
        (v, f) for v in ("explore", "pool", "transposed") for f in ("torch", "keras")}
    assert any(len(c["input_shape"]) == 5 for c in asymmetric)  # 3D too


@pytest.mark.parametrize("case", CASES, ids=[url(c) for c in CASES])
def test_opens_with_the_frameworks_output_shape(client, case):
    r = get(client, url(case))
    assert alerts(r.text) == [], alerts(r.text)
    assert shape(r.text) == case["output_shape"]
    canonical = get(client, url(case), headers=HX).headers["HX-Replace-Url"]
    again = get(client, canonical)  # the canonical URL is the same state
    assert shape(again.text) == case["output_shape"]
    assert get(client, canonical, headers=HX).headers["HX-Replace-Url"] == canonical


@pytest.mark.parametrize("view, words, once", [
    ("explore", "framework=torch&type=Conv2d&kernel_size=3&padding=1,1&input_shape=1,2,6,6", "padding=1&"),
    ("pool", "framework=torch&type=MaxPool2d&kernel_size=2,2&stride=1,1&input_shape=1,2,6,6", "kernel_size=2&stride=1&"),
    ("transposed", "framework=torch&type=ConvTranspose2d&kernel_size=3&stride=2,2&dilation=1,1&input_shape=1,2,3,3",
     "stride=2&"),
])
def test_a_value_every_axis_has_is_said_once(client, view, words, once):
    canonical = get(client, f"/{view}?{words}", headers=HX).headers["HX-Replace-Url"]
    assert once in canonical + "&", canonical


@pytest.mark.parametrize("link, field, value", [
    ("/explore?framework=torch&type=Conv2d&kernel_size=3&padding=1,2,3&input_shape=1,2,6,6", "padding", "'1,2,3'"),
    ("/explore?framework=torch&type=Conv2d&kernel_size=3&padding=0,5&input_shape=1,2,6,6", "padding", "'0,5'"),
    ("/pool?framework=torch&type=MaxPool2d&kernel_size=2&stride=1,9&input_shape=1,2,6,6", "stride", "'1,9'"),
    ("/pool?framework=torch&type=MaxPool2d&kernel_size=2&dilation=0,1&input_shape=1,2,6,6", "dilation", "'0,1'"),
    ("/transposed?framework=torch&type=ConvTranspose2d&kernel_size=3&output_padding=1,3&input_shape=1,2,3,3",
     "output_padding", "'1,3'"),
])
def test_a_wrong_tuple_is_named_with_what_works(client, link, field, value):
    found = alerts(get(client, link, status=422).text)
    assert any(field in m and value in m and "per axis" in m for m in found), found


def test_the_form_picks_a_word_or_numbers_for_every_axis(client):
    """/explore 2D in PyTorch: one padding control per axis; 'same' picked on one axis applies to all,
    and a number picked while they showed 'same' gives the other axis 0."""
    base = "/explore?framework=torch&type=Conv2d&kernel_size=3&input_shape=1,2,6,6"
    to_same = get(client, base + "&padding=same&padding=1&padding_was=1", headers=HX).headers["HX-Replace-Url"]
    assert "padding=same" in to_same
    to_numbers = get(client, base + "&padding=same&padding=2&padding_was=same", headers=HX).headers["HX-Replace-Url"]
    assert "padding=0,2" in to_numbers
