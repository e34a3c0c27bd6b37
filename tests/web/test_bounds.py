"""Each view's knobs take their ranges from the view's one declaration (its KNOBS table): the
controls carry them, the highest value opens, one past it is refused naming the field."""
import re

import pytest
from starlette.datastructures import QueryParams

from app.views import VIEWS as LISTED
from tests.web.page import alerts, get

# view -> (its module, its pages in the form's words): every listed view with knobs (app/views.py)
VIEWS = {v.path: (v.module, [f"{v.path}?{q}" for q in v.module.PAGES]) for v in LISTED if v.module.KNOBS}
CASES = [pytest.param(view, knob, id=f"{view}-{knob.field}") for view, (module, _) in VIEWS.items()
         for knob in {k.field: k for k in module.KNOBS if k.bounds}.values()]


def controls(page: str, key: str) -> list[str]:
    """The control tags for a knob: one (id=key) or one per axis (id=key-0, key-1)."""
    return re.findall(rf'<(?:input|select)[^>]*\bid="{key}(?:-\d)?"[^>]*>(?:.*?</select>)?', page, re.DOTALL)


@pytest.mark.parametrize("view, knob", [c for c in CASES if not c.values[1].per_axis])
def test_the_state_model_takes_the_knobs_bounds(view, knob):
    module, _ = VIEWS[view]
    model = type(module.read_state(QueryParams(""))[0])
    limits = {type(m).__name__: m for m in model.model_fields[knob.field].metadata}
    assert (limits["Ge"].ge, limits["Le"].le) == knob.range(2)


@pytest.mark.parametrize("view, knob", [c for c in CASES if c.values[1].widget not in (None, "slot")
                                           and not c.values[1].top])
def test_the_controls_carry_the_declared_range(client, view, knob):
    module, urls = VIEWS[view]
    lo, hi = knob.range(2)  # the pages are 2D
    tags = [tag for url in urls for tag in controls(get(client, url).text, knob.field)]
    assert tags, f"{view} draws no control for {knob.field}"
    for tag in tags:
        if tag.startswith("<select"):
            numbers = [int(v) for v in re.findall(r'<option value="(\d+)"', tag)]
            assert max(numbers) == hi and min(numbers) <= max(lo, 1), (knob.field, numbers)
        else:
            assert f'max="{hi}"' in tag and f'min="{lo}"' in tag, tag


@pytest.mark.parametrize("view, knob", [c for c in CASES if c.values[1].field not in ("step", "pos", "size")])
def test_one_past_the_declared_range_is_refused_by_name(client, view, knob):
    module, (url, *_) = VIEWS[view]
    lo, hi = knob.range(2)
    word = knob.torch or knob.field
    r = get(client, f"{url}&{word}={hi + 1}", status=422)
    found = alerts(r.text)
    assert any(f" {word}: " in f" {m}" and str(hi + 1) in m for m in found), found  # the URL's word, named back


@pytest.mark.parametrize("url, named", [
    ("/explore?input_shape=9,2,6,6", "input_shape[0] (batch): "),
    ("/explore?framework=keras&type=Conv2D&filters=2&kernel_size=3&input_shape=1,6,6,900", "input_shape[-1] (channels): "),
    ("/explore?input_shape=1,2,6000,6", "input_shape[2:] (size): "),
    ("/pool?input_shape=1,2,999999", "input_shape[2:] (size): "),
    ("/transposed?framework=keras&type=Conv2DTranspose&filters=2&kernel_size=3&input_shape=1,3,3,900",
     "input_shape[-1] (channels): "),
])
def test_a_value_read_from_input_shape_is_refused_by_its_place_there(client, url, named):
    found = alerts(get(client, url, status=422).text)
    assert any(named in m for m in found), found
