"""Headers per route, caching, page weight and oEmbed: what a host, a CDN and an embedding page rely on."""
import gzip
import re

import pytest

from app.assets import asset_url

VIEWS = ["/explore", "/pool", "/transposed", "/pointwise", "/groups", "/cost", "/trace", "/image", "/"]
EMBEDS = ["/embed/explore", "/embed/pool", "/embed/transposed", "/embed/pointwise", "/embed/groups", "/embed/cost",
          "/embed/trace", "/embed/image"]


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


def test_first_view_of_explore_is_under_100_kb_before_plotly(client):
    page = client.get("/explore").text
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)
    assert any("htmx" in a for a in assets) and any("plotly" in a for a in assets)
    total = len(gzip.compress(page.encode(), compresslevel=6))
    total += sum(compressed_size(client, a) for a in assets if "plotly" not in a)
    assert total <= 100_000, total
    assert re.search(r'<script src="/assets/plotly[^"]*" async', page)  # plotly never blocks the first render


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
