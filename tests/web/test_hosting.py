"""Headers per route, caching, page weight and oEmbed: what a host, a CDN and an embedding page rely on."""
import gzip
import re

import pytest

from app.assets import asset_url
from app.views import VIEWS as LISTED

VIEWS = [v.path for v in LISTED] + ["/"]
EMBEDS = ["/embed" + v.path for v in LISTED]


@pytest.mark.parametrize("path", VIEWS + ["/docs", "/health", asset_url("app.css")])
def test_site_routes_may_be_framed_only_by_the_site(client, path):
    r = client.get(path)
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and r.headers["x-frame-options"] == "SAMEORIGIN"
    assert "unsafe-eval" not in csp and "script-src 'self';" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in r.headers["permissions-policy"]
    assert "set-cookie" not in r.headers


@pytest.mark.parametrize("path", EMBEDS)
def test_embeds_may_be_framed_anywhere_and_answer_cross_origin(client, path):
    r = client.get(path, headers={"Origin": "null"})
    assert r.status_code == 200
    assert "frame-ancestors *" in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers
    assert r.headers["access-control-allow-origin"] == "*"
    assert "HX-Replace-Url" in r.headers["access-control-expose-headers"]
    assert "set-cookie" not in r.headers
    assert 'class="embed' in r.text and 'aria-label="Main"' not in r.text  # no site header
    pre = client.options(path, headers={"Origin": "null", "Access-Control-Request-Method": "GET",
                                        "Access-Control-Request-Headers": "hx-request,hx-current-url"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-headers"] == "*"


def test_embed_options_travel_with_the_state(client):
    r = client.get("/embed/explore?theme=dark&controls=minimal&autoplay=1&kernel_size=2",
                   headers={"HX-Request": "true"})
    assert r.headers["hx-replace-url"].startswith("/embed/explore?framework=torch")
    assert r.headers["hx-replace-url"].endswith("theme=dark&controls=minimal&autoplay=1")
    full = client.get("/embed/explore?theme=dark&controls=none&autoplay=1").text
    assert 'data-theme="dark"' in full and "controls-none" in full and 'data-autoplay="1"' in full
    odd = client.get("/embed/explore?theme=<x>&controls=all").text
    assert 'data-theme="auto"' in odd and "controls-full" in odd


def test_pages_are_cacheable_and_revalidate(client):
    r = client.get("/explore?kernel_size=2")
    assert "max-age=300" in r.headers["cache-control"] and r.headers["etag"]
    assert "HX-Request" in r.headers["vary"]
    again = client.get("/explore?kernel_size=2", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    frag = client.get("/explore?kernel_size=2", headers={"HX-Request": "true"})
    assert frag.headers["etag"] != r.headers["etag"]  # fragment and page differ
    other = client.get("/explore?kernel_size=2", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


def test_assets_are_immutable_and_plotly_precompressed(client):
    url = asset_url("plotly.min.js")
    assert re.fullmatch(r"/assets/plotly\.min\.[0-9a-f]{10}\.js", url)
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip" and "immutable" in r.headers["cache-control"]
    assert int(r.headers["content-length"]) < 600_000  # ~496 KB compressed, not 1.5 MB
    assert client.get(url.replace(url.split(".")[-2], "0000000000")).status_code == 404  # a stale hash


def compressed_size(client, path: str) -> int:
    r = client.get(path, headers={"Accept-Encoding": "identity"})
    return len(gzip.compress(r.content, compresslevel=6))


def test_first_view_of_explore_is_under_150_kb_without_plotly(client):
    """Plotly is fetched by static/plots.js when a figure comes near the viewport, never with the page."""
    page = client.get("/explore").text
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)
    assert any("htmx" in a for a in assets) and not any("plotly" in a for a in assets)
    total = len(gzip.compress(page.encode(), compresslevel=6)) + sum(compressed_size(client, a) for a in assets)
    assert total <= 150_000, total


@pytest.mark.parametrize("path", ["/explore?kernel_size=2", "/cost", "/groups", "/pointwise", "/trace"])
def test_views_advertise_oembed(client, path):
    html = client.get(path).text
    href = re.search(r'<link rel="alternate" type="application/json\+oembed"[^>]*href="([^"]+)"', html).group(1)
    r = client.get(href.replace("&amp;", "&"))
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "rich" and body["version"] == "1.0"
    assert '<iframe src="http://testserver/embed' in body["html"] and 'sandbox="allow-scripts"' in body["html"]


def test_oembed_obeys_sizes_and_refuses_what_is_not_ours(client):
    ok = client.get("/oembed", params={"url": "http://testserver/cost?batch=2", "maxwidth": 400, "maxheight": 300})
    assert (ok.json()["width"], ok.json()["height"]) == (400, 300) and 'width="400"' in ok.json()["html"]
    assert client.get("/oembed", params={"url": "https://elsewhere.example/explore"}).status_code == 404
    assert client.get("/oembed", params={"url": "http://testserver/docs"}).status_code == 404
    assert client.get("/oembed", params={"url": "http://testserver/explore", "format": "xml"}).status_code == 501
    quoted = client.get("/oembed", params={"url": 'http://testserver/explore?x="><script>'}).json()["html"]
    assert "<script>" not in quoted


def test_no_route_sets_a_cookie(client):
    for path in [*VIEWS, *EMBEDS, "/docs", "/openapi.json", "/oembed?url=http://testserver/explore"]:
        assert "set-cookie" not in client.get(path).headers
    r = client.post("/api/forward", json={"framework": "torch", "layer": {"type": "ReLU"}, "input": [[1.0]]})
    assert "set-cookie" not in r.headers


# --- under a prefix (uvicorn --root-path /convscope behind a proxy that strips it) ---------------------
# The test client is given the prefix as uvicorn gives it: in root_path, and in front of every path.
# tests/browser/test_hosting.py runs the same app behind a real nginx.

PREFIX = "/convscope"
URL_ATTRIBUTE = re.compile(r'\b(href|src|action|hx-get|hx-post|content|data-[\w-]+)="(/[^"]*)"')


@pytest.fixture(scope="module")
def prefixed():
    from fastapi.testclient import TestClient

    from app.main import app
    with TestClient(app, root_path=PREFIX, base_url="https://dept.example.edu") as c:
        yield c


def lesson_paths():
    from app.routes.learn import LESSONS
    return ["/learn/" + slug for slug in LESSONS]


def app_urls(html: str) -> list[str]:
    """Every root-relative URL an answer writes into an attribute."""
    return [u.replace("&amp;", "&") for _, u in URL_ATTRIBUTE.findall(html)]


@pytest.mark.parametrize("path", VIEWS + EMBEDS + ["/learn", "/docs", *lesson_paths()])
def test_every_url_a_page_writes_carries_the_prefix(prefixed, path):
    for htmx in (False, True):
        r = prefixed.get(PREFIX + path, headers={"HX-Request": "true"} if htmx else {})
        assert r.status_code == 200
        urls = app_urls(r.text)
        assert urls or htmx
        wrong = [u for u in urls if not u.startswith(PREFIX + "/")]
        assert not wrong, f"{path} (htmx={htmx}) writes URLs without the prefix: {wrong[:5]}"
        assert not re.search(r'="(?:https?:)?//(?!dept\.example\.edu/convscope/)[^"]*"', r.text.replace("http://www.w3.org", ""))
        if "hx-replace-url" in r.headers:
            assert r.headers["hx-replace-url"].startswith(PREFIX + "/")


def test_the_urls_written_under_a_prefix_answer(prefixed):
    """Assets, links, forms, htmx and oEmbed discovery: each URL the explore page writes answers 200."""
    seen = set()
    for path in ("/", "/explore?kernel_size=2", "/embed/explore", "/docs", "/learn"):
        for u in app_urls(prefixed.get(PREFIX + path).text):
            if u not in seen:
                seen.add(u)
                assert prefixed.get(u).status_code == 200, u
    assert any("/assets/htmx" in u for u in seen) and any(u.startswith(PREFIX + "/oembed?") for u in seen)
    assert any("/assets/swagger-ui-bundle" in u for u in seen) and f"{PREFIX}/openapi.json" in seen


def test_absolute_urls_carry_the_scheme_host_and_prefix(prefixed):
    page = prefixed.get(PREFIX + "/pool?kernel_size=2").text
    script = f"https://dept.example.edu{PREFIX}/static/embed-host.js"
    assert f"&lt;iframe src=&#34;https://dept.example.edu{PREFIX}/embed/pool?" in page or \
        f'&lt;iframe src="https://dept.example.edu{PREFIX}/embed/pool?' in page
    assert script in page
    assert prefixed.get(script).status_code == 200
    embed = prefixed.get(PREFIX + "/embed/pool").text
    assert f'href="https://dept.example.edu{PREFIX}/pool?' in embed  # "open the full view"


def test_oembed_under_a_prefix_answers_with_the_embed_box_code(prefixed):
    page_url = f"https://dept.example.edu{PREFIX}/cost?batch=2"
    r = prefixed.get(PREFIX + "/oembed", params={"url": page_url})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["provider_url"] == f"https://dept.example.edu{PREFIX}/"
    src = f"https://dept.example.edu{PREFIX}/embed/cost?batch=2"
    assert body["html"].startswith(f'<iframe src="{src}"')
    assert f'<script src="https://dept.example.edu{PREFIX}/static/embed-host.js" async></script>' in body["html"]
    # the same code as the page's embed box (the box shows it escaped; sizes aside)
    from html import unescape
    box = unescape(re.search(r'<textarea id="embed-snippet"[^>]*>(.*?)</textarea>',
                             prefixed.get(PREFIX + "/cost?batch=2").text, re.S).group(1))
    def shape(code):  # the code with its state and sizes taken out
        return re.sub(r'(src="[^"?]*)\?[^"]*"|(width|height|title)="[^"]*"', r"\1 \2", code)
    assert shape(box) == shape(body["html"]) and box.startswith(f'<iframe src="{src.split("?")[0]}?')
    # its /embed form too; the view's path without the prefix, another host, another prefix: not ours
    assert prefixed.get(PREFIX + "/oembed", params={"url": src}).status_code == 200
    for other in ("https://dept.example.edu/cost", f"https://dept.example.edu/other{PREFIX}/cost",
                  f"https://elsewhere.example{PREFIX}/cost", f"https://dept.example.edu{PREFIX}/docs"):
        r = prefixed.get(PREFIX + "/oembed", params={"url": other})
        assert r.status_code == 404 and ("oEmbed answers for" in r.text or "not on this server" in r.text), other


@pytest.mark.parametrize("query", ["kernel_size=999", "stride=0", "framework=caffe"])
def test_oembed_refuses_a_state_the_view_refuses(client, query):
    view = client.get(f"/explore?{query}")
    assert view.status_code == 422
    r = client.get("/oembed", params={"url": f"http://testserver/explore?{query}"})
    assert r.status_code == 422 and "Explore view refuses this state" in r.json()["detail"]
    assert client.get("/oembed", params={"url": "http://testserver/explore?kernel_size=3"}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/learn", "/docs", *lesson_paths()])
def test_no_oembed_discovery_where_oembed_does_not_answer(client, path):
    html = client.get(path).text
    assert "json+oembed" not in html


def test_discovery_links_answer_for_every_view(prefixed):
    for view in LISTED:
        html = prefixed.get(PREFIX + view.path).text
        href = re.search(r'type="application/json\+oembed"[^>]*href="([^"]+)"', html).group(1).replace("&amp;", "&")
        assert href.startswith(PREFIX + "/oembed?")
        assert prefixed.get(href).status_code == 200, view.path


def test_the_response_cache_keeps_prefixes_and_hosts_apart(client, prefixed):
    from fastapi.testclient import TestClient

    from app.main import app
    path = "/groups?groups=2&in_channels=4&out_channels=4"
    for _ in range(2):  # the second round is answered from the cache
        plain = client.get(path)
        under = prefixed.get(PREFIX + path)
        other = TestClient(app, root_path="/other").get("/other" + path, headers={"HX-Request": "true"})
        assert f"{PREFIX}/" not in plain.text and 'action="/groups"' in plain.text
        assert f'action="{PREFIX}/groups"' in under.text and "https://dept.example.edu" in under.text
        assert under.headers["hx-replace-url"].startswith(PREFIX + "/groups?")
        assert other.headers["hx-replace-url"].startswith("/other/groups?") and PREFIX not in other.text


def test_the_openapi_schema_names_the_prefix_as_its_server(client, prefixed):
    assert prefixed.get(PREFIX + "/openapi.json").json()["servers"] == [{"url": PREFIX}]
    assert "servers" not in client.get("/openapi.json").json()  # the prefix never leaks to the root
    assert prefixed.get(PREFIX + "/docs").text.count(f'data-openapi="{PREFIX}/openapi.json"') == 1


def test_redirects_keep_the_prefix(prefixed):
    r = prefixed.get(PREFIX + "/explore/?kernel_size=2", follow_redirects=False)
    assert r.status_code in (301, 307, 308)
    assert r.headers["location"] == f"https://dept.example.edu{PREFIX}/explore?kernel_size=2"


def test_a_proxy_that_does_not_strip_the_prefix_is_understood(prefixed):
    """uvicorn puts the prefix in front of the path it receives: /convscope/convscope/explore."""
    r = prefixed.get(PREFIX + PREFIX + "/explore?kernel_size=2")
    assert r.status_code == 200 and f'action="{PREFIX}/explore"' in r.text


# --- HEAD on every GET route ---------------------------------------------------------------------------

def get_routes(routes=None):
    """Every GET path the app routes (walking included routers), with example path parameters."""
    from starlette.routing import Mount

    from app.main import app
    for route in app.routes if routes is None else routes:
        if hasattr(route, "original_router"):  # FastAPI's included router
            yield from get_routes(route.original_router.routes)
        elif isinstance(route, Mount):
            yield route.path + "/embed-host.js"
        elif "GET" in getattr(route, "methods", ()):
            yield route.path


def example_path(path: str) -> str:
    from app.routes.learn import LESSONS
    return path.replace("{slug}", next(iter(LESSONS))).replace("{name}", asset_url("app.css").split("/")[-1])


ROUTES = sorted(set(get_routes()))


def test_the_route_walk_finds_every_kind_of_route():
    assert {"/", "/health", "/docs", "/learn", "/learn/{slug}", "/assets/{name}", "/oembed", "/openapi.json",
            "/static/embed-host.js"} <= set(ROUTES)
    assert {v.path for v in LISTED} | {"/embed" + v.path for v in LISTED} <= set(ROUTES)


@pytest.mark.parametrize("path", ROUTES)
def test_head_answers_every_get_route_with_its_headers_and_no_body(client, path):
    queries = {"/oembed": "?url=http://testserver/explore",
               "/transposed/lens": "?type=ConvTranspose1d&kernel_size=3&input_shape=1,2,100&step=3",  # picture level
               "/explore/figure": "?figure=weights"}
    bare = path.removeprefix("/embed")
    query = "?part=input&c=0" if bare.endswith("/picture") else queries.get(bare, "")  # every stage's pictures
    url = example_path(path) + query
    for headers in ({}, {"Accept-Encoding": "gzip"}, {"HX-Request": "true"}):
        get, head = client.get(url, headers=headers), client.head(url, headers=headers)
        assert get.status_code == 200 and head.status_code == 200, (url, get.status_code, head.status_code)
        assert head.content == b""
        skip = {"date"}
        assert {k: v for k, v in head.headers.items() if k not in skip} == \
            {k: v for k, v in get.headers.items() if k not in skip}, url


def test_the_url_helpers_doctests_pass():
    import doctest

    import app.templating
    result = doctest.testmod(app.templating)
    assert result.attempted >= 4 and result.failed == 0


def test_an_upload_and_its_lens_answer_under_the_prefix(prefixed):
    from pathlib import Path
    picture = (Path(__file__).resolve().parents[2] / "app" / "samples" / "coffee.png").read_bytes()
    r = prefixed.post(PREFIX + "/image?kernel=sobel_y&size=64", content=picture,
                      headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200
    urls = app_urls(r.text)
    assert urls and all(u.startswith(PREFIX + "/") for u in urls), urls
    lens = re.search(r'data-lens="([^"]+)"', r.text).group(1).replace("&amp;", "&")
    assert lens.startswith(PREFIX + "/image/lens?")
    assert prefixed.post(f"{lens}&at=3,3&f=0", content=picture).status_code == 200


def test_embeds_under_the_prefix_keep_their_framing_and_cross_origin_headers(prefixed):
    r = prefixed.get(PREFIX + "/embed/explore", headers={"Origin": "null"})
    assert "frame-ancestors *" in r.headers["content-security-policy"] and r.headers["access-control-allow-origin"] == "*"
    pre = prefixed.options(PREFIX + "/embed/explore", headers={"Origin": "null", "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 204
    site = prefixed.get(PREFIX + "/explore")
    assert "frame-ancestors 'self'" in site.headers["content-security-policy"]


def test_the_convscope_command_serves_under_its_root_path():
    """`convscope --root-path /convscope` (here `python -m app`): the banner names the prefixed URL, and pages
    reached directly or through a proxy that keeps the prefix write every URL under it; a bad prefix is
    refused by name before anything starts."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bad = subprocess.run([sys.executable, "-m", "app", "--root-path", "/my course", "--no-browser"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--root-path '/my course' is not a URL path" in bad.stderr
    proc = subprocess.Popen([sys.executable, "-m", "app", "--root-path", "convscope/", "--no-browser",
                             "--port", str(port)], stdout=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/convscope/" in banner, banner
        for _ in range(150):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/convscope/explore", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert 'href="/convscope/pool"' in page and 'hx-get="/convscope/explore"' in page
        assert not re.search(r'(?:href|src|hx-get|action)="/(?!convscope/)', page)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
