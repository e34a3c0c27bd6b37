"""Every view in the list (app/views.py) has the shape the generic tests read (``ViewModule``), so that
adding a view there is enough for the knob, bound, XSS, site, stage and embed tests to cover it."""
import re

import pytest
from starlette.datastructures import QueryParams

from app.routes.params import Knob
from app.views import VIEWS, ViewModule
from tests.web.page import alerts, get

DECLARED = [name for name in ViewModule.__annotations__]


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.path)
def test_the_route_module_declares_what_the_generic_tests_read(view):
    module = view.module
    missing = [name for name in DECLARED if not hasattr(module, name)]
    assert not missing, f"{module.__name__} lacks {missing} (app/views.py: ViewModule)"
    assert isinstance(module.KNOBS, tuple) and all(isinstance(k, Knob) for k in module.KNOBS)
    assert all(isinstance(n, str) and n for n in module.READS) and len(set(module.READS)) == len(module.READS)
    assert module.PAGES and all(isinstance(q, str) for q in module.PAGES)
    assert all(isinstance(v, tuple) and v for v in module.CHOICES.values())
    assert all(isinstance(d, int) and len(names) == d for d, names in module.AXES.items())
    if module.KNOBS:  # read and written from the table
        assert callable(module.read_state) and callable(module.canonical_query)
        state, errors = module.read_state(QueryParams(""))
        assert errors == [] and state.framework in ("torch", "keras")
        assert set(module.CHOICES) <= set(module.READS) | set(type(state).model_fields), "a choice it does not read"
        if module.AXES:
            assert state.dims in module.AXES


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.path)
def test_its_pages_open_with_no_message_and_draw_its_form(client, view):
    for query in view.module.PAGES:
        body = get(client, f"{view.path}?{query}").text
        assert alerts(body) == [], (query, alerts(body))
        assert re.search(rf'<form id="{view.form[1:]}"', body), f"{view.path} has no {view.form}"
        if view.player:
            assert "data-stage" in body and 'id="play"' in body

