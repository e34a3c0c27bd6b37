"""Convscope under a sub-path behind a real nginx, driven in Chromium: deploy/nginx.conf (rendered
with the ports and paths this test picks) maps /convscope/ to the app started as in production
(`python -m app.serve` with ROOT_PATH=/convscope, so uvicorn --root-path). Pages and their assets
load (every failed response fails a test: conftest's `problems`), a knob swaps the fragment, the
embed code works on another site, oEmbed answers, HEAD answers, views are cached by nginx."""
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from playwright.sync_api import expect

from app.routes.learn import LESSONS
from app.views import VIEWS
from tests.browser.helpers import here

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "/convscope"
# the values of deploy/nginx.conf this test replaces (each must be there, or the file changed under it)
CONF_VALUES = ("listen 8080;", "server 127.0.0.1:8000;", "/var/cache/nginx/convscope", "/var/log/nginx/convscope")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.2)


def render_conf(app_port: int, nginx_port: int, tmp: Path) -> str:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for value in CONF_VALUES:
        assert value in conf, f"deploy/nginx.conf no longer has {value!r}: update tests/browser/test_hosting.py"
    return (conf.replace("listen 8080;", f"listen 127.0.0.1:{nginx_port};")
            .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
            .replace("/var/cache/nginx/convscope", str(tmp / "cache"))
            .replace("/var/log/nginx/convscope", str(tmp / "log")))


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """(the site's URL through nginx, e.g. http://127.0.0.1:PORT/convscope, the app's own URL)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():  # a missing proxy is a failure, never a skip
        pytest.fail("nginx not found: `scripts/setup.sh --test` installs Debian's nginx")
    tmp = tmp_path_factory.mktemp("nginx")
    app_port, nginx_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(app_port), "HOST": "127.0.0.1", "ROOT_PATH": PREFIX, "WEB_CONCURRENCY": "1"}
    app = subprocess.Popen([sys.executable, "-m", "app.serve"], cwd=ROOT, env=env, start_new_session=True)
    (tmp / "nginx.conf").write_text(render_conf(app_port, nginx_port, tmp))
    (tmp / "cache").mkdir()  # as `mkdir -p /var/cache/nginx/convscope` in production
    user = " user root;" if os.geteuid() == 0 else ""  # as root nginx's workers would be nobody: the files are root's
    proxy = subprocess.Popen([nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log"),
                              "-g", f"daemon off; pid {tmp / 'nginx.pid'};{user}"], start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{app_port}/health", app, "the app (python -m app.serve)")
        site = f"http://127.0.0.1:{nginx_port}{PREFIX}"
        wait_for(site + "/health", proxy, "nginx")
        yield site, f"http://127.0.0.1:{app_port}"
    finally:
        stop(proxy)
        stop(app)


def fetch(url: str, method: str = "GET", headers: dict | None = None):
    request = urllib.request.Request(url, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.status, r.headers, r.read()  # headers: case-insensitive


PAGES = ["/", "/learn", "/learn/" + next(iter(LESSONS)), "/docs", *(v.path for v in VIEWS),
         "/embed/explore", "/embed/pool"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_and_their_assets_load_under_the_prefix(page, proxied, problems, path):
    site, _ = proxied
    urls = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(site + path)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof window.htmx") == "object"  # the scripts loaded (a 404 fails `problems`)
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # and app.css
    same_site = [u for u in urls if u.startswith(site.split(PREFIX)[0])]
    assert same_site and all(u.startswith(site + "/") for u in same_site), same_site  # nothing asked outside /convscope/
    links = page.eval_on_selector_all("a[href^='/'], form[action^='/'], [hx-get^='/']",
                                      "els => els.map(e => e.getAttribute('href') || e.getAttribute('action')"
                                      " || e.getAttribute('hx-get'))")
    assert all(u.startswith(PREFIX + "/") for u in links), [u for u in links if not u.startswith(PREFIX + "/")]


def test_a_knob_swaps_the_fragment_and_the_address_keeps_the_prefix(page, proxied, problems):
    site, _ = proxied
    page.goto(site + "/explore?framework=torch&type=Conv2d&in_channels=2&out_channels=2&kernel_size=3"
                     "&input_shape=1,2,6,6")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 4, 4]")
    stride = page.get_by_label("stride (width)", exact=True)
    stride.focus()
    with page.expect_response(lambda r: f"{PREFIX}/explore?" in r.url and r.request.headers.get("hx-request")) as answer:
        page.keyboard.press("ArrowRight")
    assert answer.value.status == 200
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 4, 2]")
    expect(stride).to_be_focused()  # swapped in place, not a page load
    assert here(page).startswith(site + "/explore?") and "stride=" in here(page)  # HX-Replace-Url under the prefix
    page.reload()
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 4, 2]")


def test_the_api_docs_load_the_schema_and_try_it_under_the_prefix(page, proxied, problems):
    site, _ = proxied
    page.goto(site + "/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator("select option, .servers").first.inner_text().strip().startswith(PREFIX)


@pytest.fixture
def blog(tmp_path):
    """A page on another origin that pastes the given HTML, as a blog would."""
    servers = []

    def serve(body: str) -> str:
        (tmp_path / "index.html").write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>My course</title></head><body><main><h1>Week 3</h1>{body}</main></body></html>""")
        handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **kw)  # noqa: E731
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/index.html"
    yield serve
    for s in servers:
        s.shutdown()


def check_embedded(page, host_url: str) -> None:
    page.goto(host_url)
    frame = page.frame_locator("iframe")
    expect(frame.locator("[data-output-shape]")).to_have_count(1)
    expect(page.locator("iframe")).to_have_attribute("data-convscope-sized", "1")  # embed-host.js loaded and sized it
    page.frame(url=re.compile(r"/embed/")).wait_for_load_state("load")  # the frame's scripts run: its knobs answer
    frame.locator(".embed-knobs > summary").click()
    kernel = frame.get_by_label("kernel_size (width)", exact=True)
    before = frame.locator("[data-output-shape]").get_attribute("data-output-shape")
    kernel.focus()
    kernel.press("ArrowRight")  # the embed's own htmx request, cross-origin, under the prefix
    expect(frame.locator("[data-output-shape]")).not_to_have_attribute("data-output-shape", before)


def test_the_embed_code_works_on_another_site(page, proxied, blog, problems):
    site, _ = proxied
    page.goto(site + "/explore?kernel_size=2")
    page.get_by_text("Embed this view").click()
    code = page.locator("#embed-snippet").input_value()
    assert f'<iframe src="{site}/embed/explore?' in code and f'<script src="{site}/static/embed-host.js"' in code
    check_embedded(page, blog(code))


def test_oembed_is_discovered_and_its_html_works_on_another_site(page, proxied, blog, problems):
    site, _ = proxied
    page.goto(site + "/explore?kernel_size=2")
    href = page.locator('link[rel="alternate"][type="application/json+oembed"]').get_attribute("href")
    assert unquote(href).startswith(f"{PREFIX}/oembed?url={site}/explore?")
    status, _, body = fetch(site.removesuffix(PREFIX) + href)
    answer = json.loads(body)
    assert status == 200 and answer["provider_url"] == site + "/"
    assert answer["html"].startswith(f'<iframe src="{site}/embed/explore?') and "kernel_size=2,2" in answer["html"]
    check_embedded(page, blog(answer["html"]))
    refused = urllib.request.Request(f"{site}/oembed?url={quote(site + '/explore?kernel_size=999')}")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(refused, timeout=30)
    assert e.value.code == 422


@pytest.mark.parametrize("path", ["/", "/explore", "/embed/pool", "/health", "/learn", "/docs", "/openapi.json",
                                  "/static/embed-host.js", "/oembed?url=SITE/cost"])
def test_head_through_the_proxy(proxied, path):
    site, _ = proxied
    url = site + path.replace("SITE", quote(site, safe=""))
    head_status, head_headers, head_body = fetch(url, "HEAD")
    get_status, get_headers, _ = fetch(url)
    assert head_status == get_status == 200 and head_body == b""
    assert head_headers["Content-Type"] == get_headers["Content-Type"]


def test_the_bare_prefix_and_a_trailing_slash_redirect_under_it(proxied):
    site, _ = proxied
    for path, to in (("", f"{PREFIX}/"), ("/explore/?kernel_size=2", f"{site}/explore?kernel_size=2")):
        request = urllib.request.Request(site + path)
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as e:
            opener.open(request, timeout=30)
        assert e.value.code in (301, 307, 308) and e.value.headers["Location"] == to, (path, e.value.headers["Location"])
        assert fetch(site + path)[0] == 200


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_nginx_caches_views_by_url_and_htmx_headers(proxied):
    site, _ = proxied
    url = f"{site}/pool?kernel_size=2&stride=1"  # no one asked for it before (the cache is this module's own)
    statuses = [fetch(url)[1].get("X-Cache-Status") for _ in range(2)]
    assert statuses == ["MISS", "HIT"]
    _, fragment_headers, fragment = fetch(url, headers={"HX-Request": "true"})  # not the page's copy
    assert fragment_headers["X-Cache-Status"] == "MISS" and not fragment.lstrip().startswith(b"<!doctype")
    assert fragment_headers["HX-Replace-Url"].startswith(PREFIX + "/pool?")
    _, page_headers, page_body = fetch(url)
    assert page_headers["X-Cache-Status"] == "HIT" and page_body.lstrip().startswith(b"<!doctype")
    assert fetch(site + "/health")[1].get("X-Cache-Status") in ("MISS", "BYPASS", None)  # never stored


def test_https_behind_a_tls_proxy_writes_https_urls(proxied):
    """The proxy says the request came over TLS (X-Forwarded-Proto, trusted by app.serve's
    --proxy-headers): embed code and oEmbed say https, with the host the request named."""
    _, app_url = proxied
    headers = {"X-Forwarded-Proto": "https", "Host": "dept.example.edu"}
    _, _, body = fetch(app_url + "/cost?batch=3", headers=headers)
    assert "https://dept.example.edu/convscope/embed/cost?" in body.decode()
    assert "https://dept.example.edu/convscope/static/embed-host.js" in body.decode()
    url = quote("https://dept.example.edu/convscope/cost?batch=3", safe="")
    _, _, answer = fetch(f"{app_url}/oembed?url={url}", headers=headers)
    assert re.search(r'src="https://dept\.example\.edu/convscope/embed/cost\?batch=3"', json.loads(answer)["html"])
