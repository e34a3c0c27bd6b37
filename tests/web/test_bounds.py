"""Each view's knobs take their ranges from the view's one declaration (BOUNDS in its route module):
the controls carry them, the highest value opens, one past it is refused naming the field."""
import re

import pytest

from app.routes import explore, pool, transposed
from tests.web.page import alerts, get

VIEWS = {  # view -> (its module, 2D pages in the form's words, knobs whose control range follows another knob)
    "/explore": (explore, ["/explore?type=Conv2d&size=9&size=9&padding=0"], {"f", "step", "kernel", "dilation"}),
    "/pool": (pool, ["/pool?type=AvgPool2d&size=9&size=9&divisor_override=2", "/pool?type=MaxPool2d&size=9&size=9"],
              {"step"}),
    "/transposed": (transposed, ["/transposed?type=ConvTranspose2d&size=3&size=3"], {"o", "step", "pos"}),
}
CASES = [(view, key) for view, (module, _, _) in VIEWS.items() for key in module.BOUNDS]


def controls(page: str, key: str) -> list[str]:
    """The control tags for a knob: one (id=key) or one per axis (id=key-0, key-1)."""
    return re.findall(rf'<(?:input|select)[^>]*\bid="{key}(?:-\d)?"[^>]*>(?:.*?</select>)?', page, re.DOTALL)


@pytest.mark.parametrize("view, key", [(v, k) for v, k in CASES if k not in VIEWS[v][2]])
def test_the_controls_carry_the_declared_range(client, view, key):
    module, urls, _ = VIEWS[view]
    lo, hi = module.BOUNDS[key]
    tags = [tag for url in urls for tag in controls(get(client, url).text, key)]
    assert tags, f"{view} draws no control for {key}"
    for tag in tags:
        if tag.startswith("<select"):
            numbers = [int(v) for v in re.findall(r'<option value="(\d+)"', tag)]
            assert max(numbers) == hi and min(numbers) <= max(lo, 1), (key, numbers)
        else:
            assert f'max="{hi}"' in tag and f'min="{lo}"' in tag, tag


@pytest.mark.parametrize("view, key", [c for c in CASES if c[1] not in ("step", "pos", "size")])
def test_one_past_the_declared_range_is_refused_by_name(client, view, key):
    module, (url, *_), _ = VIEWS[view]
    lo, hi = module.BOUNDS[key]
    words = {"kernel": "kernel_size"}.get(key, key)
    r = get(client, f"{url}&{words}={hi + 1}", status=422)
    found = alerts(r.text)
    assert any(key in m and str(hi + 1) in m for m in found), found
