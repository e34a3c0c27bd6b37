"""An embed inside a sandboxed iframe on a foreign origin: it works, resizes, and breaks no policy."""
import http.server
import re
import threading

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app.views import VIEWS
from tests.browser.helpers import WCAG


@pytest.fixture
def host(tmp_path, live_server):
    """A tutorial page on another origin (another port) that embeds Convscope as a reader would."""
    def serve(src: str, height: int = 300, body: str | None = None) -> str:
        body = body or f"""<iframe id="embed" src="{live_server}{src}" title="Convscope: an interactive convolution view"
 width="100%" height="{height}" loading="lazy" sandbox="allow-scripts" style="border:0"></iframe>
<script src="{live_server}/static/embed-host.js" async></script>"""
        (tmp_path / "index.html").write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>My tutorial</title></head><body><main><h1>My tutorial</h1><p>Here is a convolution:</p>
{body}</main></body></html>""")
        handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **kw)  # noqa: E731
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/index.html"
    servers = []
    yield serve
    for s in servers:
        s.shutdown()


def test_sandboxed_embed_rerenders_and_resizes(page, host, problems, shot):
    page.goto(host("/embed/explore?framework=torch&type=Conv2d&in_channels=1&out_channels=2&kernel_size=3,3"
                   "&input_shape=1,1,6,6"))
    frame = page.frame_locator("#embed")
    expect(frame.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 4, 4]")
    expect(page.locator("#embed")).to_have_attribute("data-convscope-sized", "1")  # the resize message arrived
    page.frame(url=re.compile(r"/embed/explore\?")).wait_for_load_state("load")  # its scripts run: knobs answer
    height = page.evaluate("parseInt(document.getElementById('embed').style.height)")
    assert 400 < height <= 4000
    frame.locator(".embed-knobs > summary").click()  # an embed's knobs are one disclosure above its stage
    stride = frame.get_by_label("stride (width)", exact=True)
    stride.focus()
    stride.press("ArrowRight")
    expect(frame.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 4, 2]")
    frame.locator(".embed-more > summary").click()  # and the rest of the view one disclosure under it
    frame.locator(".plot").last.scroll_into_view_if_needed()  # plotly loads as its figures come near
    expect(frame.locator(".plot[data-rendered]")).to_have_count(2)
    assert page.url.startswith("http://127.0.0.1") and "/index.html" in page.url  # the host page never navigated
    shot("embed-foreign-host")


def test_a_host_script_that_arrives_after_the_frame_reported_still_sizes_it(page, host, live_server, problems):
    """embed-host.js is async: on a slow page it starts listening after the frame has sent its height. It asks the
    frames again, and the frame answers."""
    body = f"""<iframe id="embed" src="{live_server}/embed/explore" title="Convscope: an interactive convolution view"
 width="100%" height="300" sandbox="allow-scripts" style="border:0"></iframe>"""
    page.goto(host("", body=body))
    expect(page.frame_locator("#embed").locator("[data-output-shape]")).to_have_count(1)
    page.wait_for_timeout(300)  # the frame's first report went to a page with no listener
    assert page.locator("#embed").get_attribute("data-convscope-sized") is None
    page.evaluate("""(src) => new Promise((done) => { const s = document.createElement("script");
      s.src = src; s.onload = done; document.body.append(s); })""", f"{live_server}/static/embed-host.js")
    expect(page.locator("#embed")).to_have_attribute("data-convscope-sized", "1")
    assert 400 < page.evaluate("parseInt(document.getElementById('embed').style.height)") <= 4000


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_embed_themes_are_accessible(page, live_server, problems, shot, theme):
    page.goto(f"{live_server}/embed/explore?theme={theme}")
    page.locator(".embed-more > summary").click()  # the figures are in the disclosure under the stage
    page.locator(".plot").last.scroll_into_view_if_needed()  # plotly loads as its figures come near
    expect(page.locator(".plot[data-rendered]")).to_have_count(2)
    assert page.locator("header.site").count() == 0 and page.locator("form.knobs").is_hidden()
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()
    shot(f"embed-{theme}")


def test_autoplay_plays_unless_reduced_motion(page, live_server, problems):
    page.goto(f"{live_server}/embed/explore?autoplay=1")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.emulate_media(reduced_motion="reduce")
    page.goto(f"{live_server}/embed/explore?autoplay=1")
    expect(page.locator("#step-label")).to_contain_text("0 of")
    page.wait_for_timeout(800)
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#step-label")).to_contain_text("0 of")


def test_embed_button_gives_a_working_snippet(page, live_server, problems):
    page.goto(f"{live_server}/explore?kernel_size=2")
    page.get_by_text("Embed this view").click()
    snippet = page.locator("#embed-snippet").input_value()
    assert 'sandbox="allow-scripts"' in snippet and 'loading="lazy"' in snippet and "title=" in snippet
    assert f"{live_server}/embed/explore?" in snippet and "kernel_size=2,2" in snippet
    assert f"{live_server}/static/embed-host.js" in snippet


def test_sandboxed_image_embed_moves_its_lens_with_the_servers_fragment(page, host, live_server, problems):
    """/image's lens in an embed on a foreign host: each position is asked of /embed/image/lens (an opaque
    origin's request, allowed by the embed paths' CORS headers) and shows what the server writes there."""
    import urllib.request
    page.goto(host("/embed/image?size=48&kernel=emboss&at=3,3&f=2"))
    frame = page.frame_locator("#embed")
    title = frame.locator("#lens-title")
    expect(title).to_have_text("Under the lens: output [3, 3] of map 2")
    # the title is in the served HTML: wait for the frame's load (its deferred scripts have run) before a key
    page.frame(url=re.compile(r"/embed/image\?")).wait_for_load_state("load")
    frame.locator("#output-frame").focus()
    frame.locator("#output-frame").press("ArrowRight")
    expect(title).to_have_text("Under the lens: output [3, 4] of map 2")
    server = urllib.request.urlopen(f"{live_server}/image/lens?size=48&kernel=emboss&at=3,4&f=2").read().decode()
    cells = re.findall(r"<td>([^<]*)</td>", server)
    assert frame.locator("#lens-body td").all_inner_texts() == cells and len(cells) == 3 * 9


def frame_fit(page) -> dict:
    """The frame's height on the host page and its content's (the root element's box), and how far its
    content scrolls inside it."""
    frame = page.frame_locator("iframe").locator("html")
    return {"frame": page.evaluate("document.querySelector('iframe').getBoundingClientRect().height"),
            "content": frame.evaluate("e => e.getBoundingClientRect().height"),
            "scroll": frame.evaluate("e => e.scrollHeight - e.clientHeight")}


def wait_fit(page, grown_from: float | None = None, shrunk_from: float | None = None) -> dict:
    """Wait until the frame holds its content within 3 px, with nothing left to scroll inside it."""
    fit: dict = {}
    for _ in range(50):
        fit = frame_fit(page)
        if (abs(fit["frame"] - fit["content"]) <= 3 and fit["scroll"] <= 3
                and (grown_from is None or fit["frame"] > grown_from + 40)
                and (shrunk_from is None or fit["frame"] < shrunk_from - 40)):
            return fit
        page.wait_for_timeout(100)
    raise AssertionError(f"the frame does not follow its content: {fit}")


@pytest.mark.parametrize("start", [300, 1600])
def test_the_frame_grows_and_shrinks_with_its_content(page, host, problems, start):
    """From a frame too small and one too large: it takes its content's height, grows when the settings
    open and shrinks back when they close, never scrolling inside."""
    page.goto(host("/embed/explore?framework=torch&type=Conv2d&in_channels=1&out_channels=2&kernel_size=3,3"
                   "&input_shape=1,1,6,6", height=start))
    frame = page.frame_locator("#embed")
    expect(frame.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 4, 4]")
    closed = wait_fit(page, grown_from=start if start < 400 else None, shrunk_from=start if start > 1000 else None)
    frame.locator(".embed-knobs > summary").click()
    opened = wait_fit(page, grown_from=closed["frame"])
    frame.locator(".embed-knobs > summary").click()
    again = wait_fit(page, shrunk_from=opened["frame"])
    assert abs(again["frame"] - closed["frame"]) <= 3, (closed, opened, again)
    frame.locator(".embed-more > summary").click()  # the rest of the view: figures, tables
    more = wait_fit(page, grown_from=again["frame"])
    frame.locator(".embed-more > summary").click()
    assert abs(wait_fit(page, shrunk_from=more["frame"])["frame"] - closed["frame"]) <= 3


VIEWPORT_RULES = """() => {
  const found = [];
  const visit = (rules) => { for (const rule of rules) {
    if (rule.cssRules) visit(rule.cssRules);
    if (!rule.selectorText || !/\\d[sdl]?vh\\b/.test(rule.style.cssText)) continue;
    document.querySelectorAll(rule.selectorText).forEach((el, i) => {
      if (!el.getClientRects().length) return;
      const style = getComputedStyle(el);
      found.push([rule.selectorText + " { " + rule.style.cssText + " } #" + i,
                  [style.height, style.minHeight, style.maxHeight, String(el.getBoundingClientRect().height)]]);
    });
  } };
  for (const sheet of document.styleSheets) visit(sheet.cssRules);
  return Object.fromEntries(found);
}"""


@pytest.mark.parametrize("path", [v.path for v in VIEWS])
def test_nothing_in_an_embed_is_sized_from_the_viewport(page, live_server, problems, path):
    """A rule in vh on a shown element would follow the frame's height, which follows the content: a
    frame could then never shrink. Every embed, its disclosures open, is drawn in a short and a tall
    viewport: no element a vh rule matches may change its size."""
    page.set_viewport_size({"width": 900, "height": 500})
    page.goto(f"{live_server}/embed{path}")
    for summary in page.locator("details:not([open]) > summary").all():
        if summary.is_visible():
            summary.click()
    short = page.evaluate(VIEWPORT_RULES)
    page.set_viewport_size({"width": 900, "height": 1500})
    page.wait_for_timeout(200)
    tall = page.evaluate(VIEWPORT_RULES)
    assert {k: (v, tall.get(k)) for k, v in short.items() if tall.get(k) != v} == {}


def test_a_notebooks_inline_view_follows_its_content(page, host, live_server, problems):
    """convscope.show()'s output as a notebook renders it (the HTML, its script run): the frame takes
    its content's height and follows the settings opening and closing."""
    from app.notebook import inline_html
    body = inline_html(live_server, "/pool?framework=torch&type=MaxPool2d&kernel_size=2&input_shape=1,1,6,6", None, [])
    page.goto(host("", body=body))
    frame = page.frame_locator("iframe")
    expect(frame.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 1, 3, 3]")
    closed = wait_fit(page)
    assert closed["frame"] != 640  # the initial height was left for the content's
    frame.locator(".embed-knobs > summary").click()
    opened = wait_fit(page, grown_from=closed["frame"])
    frame.locator(".embed-knobs > summary").click()
    assert abs(wait_fit(page, shrunk_from=opened["frame"])["frame"] - closed["frame"]) <= 3
