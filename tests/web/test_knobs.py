"""Every view's knob table (KNOBS) against its own reading and writing: a state read from any query the
form could send (in the form's names or either framework's words) writes a canonical URL that reads back
to the same state (every knob its layer has) and the same URL, with no message; the URL says each
per-axis value once when every axis has it; the form draws exactly the table's knobs."""
import random
import re

import pytest
from starlette.datastructures import QueryParams

from app.views import VIEWS as LISTED
from tests.web.page import get

# module -> (the dimensions it draws, the fields no knob sets with their choices): every listed view with knobs
VIEWS = {v.module: (tuple(v.module.AXES) or (None,), v.module.CHOICES) for v in LISTED if v.module.KNOBS}
SEEDS = range(120)


def value(knob, state, dims: int, rng: random.Random) -> str:
    """A value the knob's control could send (or a URL in the framework's words could hold)."""
    if knob.widget in ("select", "slot", "fixed") and knob.options:
        options = knob.options(state, 0) if callable(knob.options) else knob.options
        choice = rng.choice(list(options))
        return str(choice[0] if isinstance(choice, tuple) else choice)
    if knob.widget == "bool":
        return rng.choice(["true", "false"])
    if knob.bounds is None:
        return ""
    lo, hi = knob.range(dims or 1)
    if knob.field in ("step", "pos"):
        hi = min(hi, 3)  # the layer may have fewer steps: the view refuses more, which is another test
    if knob.per_axis:
        axes = [rng.randint(lo, hi) for _ in range(dims)]
        return ",".join(map(str, axes if rng.random() < 0.7 else axes[:1]))
    return str(rng.randint(lo, int(hi)))


def random_query(module, seed: int) -> str:
    rng = random.Random(seed)
    all_dims, extra = VIEWS[module]
    dims, framework = rng.choice(all_dims), rng.choice(["torch", "keras"])
    params = [("framework", framework)] + ([("dims", str(dims))] if dims else [])
    params += [(key, rng.choice(choices)) for key, choices in extra.items()]
    state = module.read_state(QueryParams(params))[0]
    for knob in module.KNOBS:
        if knob.only in (None, framework) and rng.random() < 0.6:
            text = value(knob, state, dims, rng)
            if text:
                name = rng.choice([n for n in (knob.word(framework), knob.field) if n])
                params.append((name, text))
    return str(QueryParams(params))


CASES = [pytest.param(m, s, id=f"{m.__name__.rsplit('.', 1)[1]}-{s}") for m in VIEWS for s in SEEDS]


@pytest.mark.parametrize("module, seed", CASES)
def test_the_canonical_url_reads_back_to_the_same_state(module, seed):
    query = random_query(module, seed)
    state, _ = module.read_state(QueryParams(query))
    url = module.canonical_query(state)
    again, errors = module.read_state(QueryParams(url))
    assert errors == [], (query, url)
    assert module.canonical_query(again) == url
    # the knobs this layer has, as the reader sees them (a knob written from another value, as /image's
    # out_channels from groups and filters, is held by the URL's fixed point above)
    live = {k.field for k in module.KNOBS if k.shows(state) and (k.widget or not k.value)}
    hidden = {k.field for k in module.KNOBS} - live
    assert again.model_dump(exclude=hidden) == state.model_dump(exclude=hidden), (query, url)
    for knob in module.KNOBS:
        word = knob.word(state.framework)
        axes = getattr(state, knob.field) if knob.per_axis else None
        if not knob.listed and word and isinstance(axes, tuple) and word in QueryParams(url):
            once = str(axes[0]) if len(set(axes)) == 1 else ",".join(map(str, axes))
            assert QueryParams(url)[word] == once, (knob.field, url)


PAGES = ["", "framework=keras", "dims=1", "dims=3", "framework=keras&dims=1", "kind=avg&dims=2", "type=separable"]


@pytest.mark.parametrize("module", list(VIEWS), ids=lambda m: m.__name__.rsplit(".", 1)[1])
@pytest.mark.parametrize("query", PAGES)
def test_the_knob_strip_is_the_table(client, module, query):
    """The form's controls are the table's knobs that the state's layer has, in the table's order (a
    per-axis knob once per axis), each sending its field's name."""
    view = module.__name__.rsplit(".", 1)[1]
    state, errors = module.read_state(QueryParams(query))
    if errors:
        pytest.skip(f"/{view} has no {query}")
    form = re.search(r"<form[^>]*knob[^>]*>(.*?)</form>", get(client, f"/{view}?{query}").text, re.DOTALL).group(1)
    sent = re.findall(r'<(?:select|input type="(?:range|number)")[^>]*\bname="([^"]+)"', form)
    axes = len(module.AXES[state.dims]) if module.AXES else 1
    expected = [k.field for k in module.KNOBS if k.widget not in (None, "fixed") and k.shows(state)
                for _ in range(axes if k.per_axis else 1)]
    assert sent == expected
