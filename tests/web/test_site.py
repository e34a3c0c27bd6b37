"""What every page shares, over HTTP: the header (nav with /learn, the theme and menu buttons, no
inline script), plotly never named as a page script, the /learn index, /docs inside the site's
frame, and no internal file names shown to readers."""
import re

import pytest

from app.views import VIEWS

PAGES = ["/", "/learn", "/learn/output-length", *(v.path for v in VIEWS), "/docs"]  # every view of app/views.py


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_site_frame_and_no_eager_plotly(client, path):
    body = client.get(path).text
    assert '<header class="site">' in body and 'href="/learn"' in body
    assert 'id="theme-toggle"' in body and 'id="menu-toggle" aria-expanded="false"' in body
    assert '<html lang="en" data-theme="auto">' in body
    assert re.search(r'<script src="/assets/theme\.[0-9a-f]+\.js"></script>', body)  # before the first paint
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)  # no inline script (the CSP forbids them)
    assert not re.search(r"<script[^>]*plotly", body)  # plots.js fetches it near a figure
    assert re.search(r'<meta name="convscope-plotly" content="/assets/plotly\.min\.[0-9a-f]+\.js">', body)


@pytest.mark.parametrize("path", PAGES + ["/learn/1x1-conv"])
def test_an_htmx_request_gets_an_answer_on_every_page(client, path):
    """htmx asks for the live block; a page that has none (the /learn index) answers whole, never 500."""
    r = client.get(path, headers={"HX-Request": "true"})
    assert r.status_code == 200, (path, r.status_code)
    assert r.text.strip()


@pytest.mark.parametrize("path", PAGES)
def test_readers_see_no_internal_file_names(client, path):
    text = re.sub(r"<[^>]+>", " ", client.get(path).text)
    assert not re.search(r"\b(QUESTIONS|API|README)\.md\b", text)
    if path == "/docs":
        assert "API.md" not in client.get("/openapi.json").text


def test_embeds_keep_their_theme_and_have_no_header(client):
    body = client.get("/embed/explore?theme=dark").text
    assert '<html lang="en" data-theme="dark">' in body
    assert "theme-toggle" not in body and '<header class="site">' not in body


def test_learn_index_lists_every_lesson_in_order(client):
    from app.routes.learn import ORDER
    r = client.get("/learn")
    assert r.status_code == 200
    assert re.findall(r'<a href="/learn/([\w-]+)">Q\d', r.text) == ORDER
    assert 'href="/learn" aria-current="page"' in r.text


def test_current_page_is_marked_in_the_nav(client):
    assert 'href="/explore" aria-current="page"' in client.get("/explore").text
    assert 'href="/learn" aria-current="page"' in client.get("/learn/1x1-conv").text
    assert client.get("/cost").text.count('aria-current="page">') >= 1
