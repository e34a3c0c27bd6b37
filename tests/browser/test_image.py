"""/image in a real browser: a sample and an upload driven through presets and knobs (shapes
checked against the recorded PyTorch/Keras outputs), the lens's arithmetic against the engine's
(the server's rendering of the same position), keyboard and pointer, axe in light and dark,
screenshots at laptop, projector, phone and embed sizes.
"""
import base64
import html
import io
import json
import re
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import expect

from tests.browser.helpers import WCAG, here, output_shape, query

GOLDEN = {c["id"]: c for c in json.loads((Path(__file__).resolve().parents[1] / "golden" / "image.json")
                                         .read_text())["cases"]}


def ready(page):
    expect(page.locator("#live.image-view #lens-body .lens-channel").first).to_be_visible()
    page.wait_for_function("document.querySelector('#lens-title').textContent.includes('Under the lens')")


def settle(page, action):
    """Do something that swaps #live, and wait for the new fragment's script to run (the view's own answer:
    a lens fragment answered meanwhile is not it). The old #live is marked first: the answer's arrival is
    not its swap, and the old fragment would pass `ready` too."""
    page.eval_on_selector("#live", "el => { el.dataset.stale = '1'; }")
    with page.expect_response(lambda r: urlsplit(r.url).path in ("/image", "/embed/image")):
        action()
    expect(page.locator("#live[data-stale]")).to_have_count(0)
    ready(page)


def slide(page, selector: str, value: int):
    """Move a range input as a person's drag ends: the value, then input and change events."""
    page.eval_on_selector(selector, "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true}));"
                                     " el.dispatchEvent(new Event('change', {bubbles: true})); }", str(value))


def server_lens(live_server, url) -> str:
    body = urllib.request.urlopen(live_server + url).read().decode()
    head = re.search(r'<h3 id="lens-title">(.*?)</h3>', body, re.DOTALL).group(1)
    lens = re.search(r'<div id="lens-body"[^>]*>(.*?)</section>', body, re.DOTALL).group(1)
    return re.sub(r"\s+", " ", html.unescape(head)).strip(), re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", lens)))


def png(w, h, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def upload_mine(page, live_server, tmp_path):
    """/image at 64 px with a 400×200 upload of yours shown."""
    page.goto(live_server + "/image?size=64")
    ready(page)
    path = tmp_path / "mine.png"
    path.write_bytes(png(400, 200))
    settle(page, lambda: page.set_input_files("#upload", str(path)))


def test_sample_through_presets_and_knobs_matches_the_frameworks(page, live_server, problems):
    case = GOLDEN["torch-sobel-x-per-channel"]
    page.goto(live_server + "/image?size=64")
    ready(page)
    assert output_shape(page) == case["output_shape"]
    # to the recorded emboss case: chelsea at 96 px, groups=1, four filters, stride 3, padding 0
    case = GOLDEN["torch-emboss-rgb-4-filters-stride3"]
    settle(page, lambda: page.select_option("#kernel", "emboss"))
    settle(page, lambda: page.select_option("#groups", "1"))
    settle(page, lambda: slide(page, "#filters", 4))
    settle(page, lambda: page.select_option("#padding", "0"))
    settle(page, lambda: slide(page, "#stride", 3))
    settle(page, lambda: slide(page, "#size", 96))
    assert output_shape(page) == case["output_shape"]
    assert page.locator("[data-part=output] .thumb").count() == 4  # the deck: one thumbnail per map
    q = query(page)
    assert q["kernel"] == "emboss" and q["out_channels"] == "4" and q["stride"] == "3" and q["groups"] == "1"
    # the same layer in Keras' words
    case = GOLDEN["keras-emboss-rgb-4-filters-stride3"]
    settle(page, lambda: page.click("nav.segmented a:has-text('Keras')"))
    assert output_shape(page) == case["output_shape"]
    assert query(page)["filters"] == "4" and query(page)["strides"] == "3"
    # pooling on the same image
    case = GOLDEN["keras-maxpool-2"]
    page.goto(live_server + "/image?framework=keras&size=64")
    ready(page)
    settle(page, lambda: page.select_option("#kind", "max"))
    settle(page, lambda: slide(page, "#kernel_size", 2))
    settle(page, lambda: slide(page, "#stride", 2))
    assert output_shape(page) == case["output_shape"]
    assert "max =" in page.locator("#lens-total").inner_text()


def test_lens_arithmetic_is_the_engines(page, live_server, problems):
    url = "/image?groups=1&out_channels=2&kernel=sobel_y&size=48&bias=true&bias_value=5&activation=relu"
    page.goto(live_server + url)
    ready(page)
    settle(page, lambda: page.locator("[data-part=output] .thumb[data-filter='1']").click())  # the deck: map 1
    assert query(page)["f"] == "1"
    url += "&f=1"
    pic = page.locator("#output-pic")
    box = pic.bounding_box()
    zoom = pic.evaluate("img => img.width / img.naturalWidth")
    pic.click(position={"x": 12 * zoom + 1, "y": 7 * zoom + 1})
    assert query(page)["at"] == "7,12" and query(page)["f"] == "1"
    head, server = server_lens(live_server, url + "&at=7,12")
    assert page.locator("#lens-title").inner_text() == head == "Under the lens: output [7, 12] of map 1"
    assert re.sub(r"\s+", "", page.locator("#lens-body").inner_text()) == server
    # the written-out numbers add up: products are pixel × weight, and the total is the engine's output
    total = page.locator("#lens-total").inner_text()
    sums = [float(s.replace("\u2212", "-")) for s in page.locator(".lens-channel p strong").all_inner_texts()]
    pre = float(total.split("=")[1].split("→")[0].strip().replace("\u2212", "-"))
    assert sum(sums) + 5 == pytest.approx(pre, abs=0.02)
    # hovering another pixel shows its arithmetic; leaving goes back to the pinned one
    page.mouse.move(box["x"] + 3 * zoom + 1, box["y"] + 2 * zoom + 1)
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [2, 3] of map 1")
    page.mouse.move(0, 0)
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [7, 12] of map 1")
    # a knob changed: the lens stays where it was put
    settle(page, lambda: page.select_option("#kernel", "sobel_x"))
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [7, 12] of map 1")
    assert query(page)["at"] == "7,12" and query(page)["kernel"] == "sobel_x"


def test_keyboard_moves_the_lens(page, live_server, problems):
    page.goto(live_server + "/image?size=32&at=5,5&f=2")
    ready(page)
    page.locator("#output-frame").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Shift+ArrowLeft")
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [6, 0] of map 2")
    assert query(page)["at"] == "6,0"
    _, server = server_lens(live_server, "/image?size=32&at=6,0&f=2")
    assert re.sub(r"\s+", "", page.locator("#lens-body").inner_text()) == server


def lens_text(page) -> tuple[str, str]:
    return page.locator("#lens-title").inner_text(), re.sub(r"\s+", "", page.locator("#lens-body").inner_text())


def test_hover_and_arrow_keys_show_the_servers_lens(page, live_server, problems):
    """The browser computes no lens: hovering a pixel and pressing an arrow key swap in what the server writes
    for that position (a conv with stride, dilation and padding, ReLU and bias), and the window and the markers
    move where the server says."""
    url = ("/image?size=64&kernel=random&seed=3&stride=2&dilation=2&padding=3&padding_mode=reflect"
           "&groups=1&out_channels=2&bias=true&bias_value=-20&activation=relu&f=1")
    page.goto(live_server + url)
    ready(page)
    start = lens_text(page)
    pic = page.locator("#output-pic")
    box = pic.bounding_box()
    zoom = pic.evaluate("img => img.width / img.naturalWidth")
    page.mouse.move(box["x"] + 9 * zoom + zoom / 2, box["y"] + 4 * zoom + zoom / 2)  # output [4, 9] of map 1
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [4, 9] of map 1")
    assert lens_text(page) == server_lens(live_server, url + "&at=4,9") != start
    assert "at" not in query(page)  # hovering shows; it does not move the lens
    window = "() => [...document.querySelectorAll('#window-boxes span, #marker-boxes span')].map((b) => b.getAttribute('style'))"
    before = page.evaluate(window)
    page.mouse.click(box["x"] + 10 * zoom + zoom / 2, box["y"] + 4 * zoom + zoom / 2)  # pinned at [4, 10]
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [4, 10] of map 1")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [5, 10] of map 1")
    assert lens_text(page) == server_lens(live_server, url + "&at=5,10")
    assert query(page)["at"] == "5,10" and query(page)["f"] == "1"
    assert page.locator("#lens-field").get_attribute("value") == "5,10,1"
    # the window and the marker where the server's page draws them for [5, 10]
    there = urllib.request.urlopen(live_server + url + "&at=5,10").read().decode()
    drawn = [re.search(rf'id="{i}">(<span[^>]*>)', there).group(1) for i in ("window-boxes", "marker-boxes")]
    styles = [re.search(r'style="([^"]*)"', d).group(1).replace("%", "% ").split() for d in drawn]
    now = page.evaluate(window)
    assert now != before and len(now) == 2
    for got, want in zip(now, styles):  # the same percentages (the browser writes them its own way)
        assert re.findall(r"-?[\d.]+", got) == re.findall(r"-?[\d.]+", " ".join(want)), (got, want)
    # the pointer leaves: the pinned lens, not the last one hovered
    page.mouse.move(box["x"] + 20 * zoom + zoom / 2, box["y"] + 12 * zoom + zoom / 2)
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [12, 20] of map 1")
    page.mouse.move(0, 0)
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [5, 10] of map 1")
    # at the map's edge the arrow keys stop there (bounds kept by the script; the server refuses outside)
    page.keyboard.press("Shift+ArrowLeft")
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [5, 0] of map 1")
    # pooling: max, written by the server
    page.goto(live_server + "/image?type=MaxPool2d&kernel_size=3&stride=3&size=48&f=2")
    ready(page)
    page.locator("#output-frame").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#lens-title")).to_have_text(re.compile(r"output \[\d+, \d+\] of map 2"))
    head, server = server_lens(live_server, f"/image?type=MaxPool2d&kernel_size=3&stride=3&size=48&f=2&at={query(page)['at']}")
    expect(page.locator("#lens-title")).to_have_text(head)
    assert re.sub(r"\s+", "", page.locator("#lens-body").inner_text()) == server and "max=" in server


def test_edit_a_kernel_cell(page, live_server, problems):
    page.goto(live_server + "/image?size=32&kernel=sobel_x")
    ready(page)
    cell = page.locator(".kernel-cells input").nth(4)
    cell.fill("3")
    settle(page, lambda: cell.dispatch_event("change"))
    assert query(page)["kernel"] == "custom" and query(page)["weights"] == "-1,0,1,-2,3,2,-1,0,1"
    expect(page.locator("#kernel")).to_have_value("custom")


def test_upload_through_presets_and_knobs(page, live_server, problems, tmp_path, shot):
    upload_mine(page, live_server, tmp_path)
    assert page.locator("#live").get_attribute("data-kept").startswith("data:image/png;base64,")
    assert output_shape(page) == [1, 3, 32, 64]
    expect(page.locator("#upload-status")).to_contain_text("not in the link")
    # knobs keep your image: it is re-sent, never put in the address
    settle(page, lambda: slide(page, "#stride", 2))
    assert output_shape(page) == [1, 3, 16, 32]
    settle(page, lambda: page.select_option("#kernel", "gaussian"))
    settle(page, lambda: slide(page, "#size", 128))
    assert output_shape(page) == [1, 3, 32, 64]
    assert page.locator("#live[data-kept]").count() == 1 and "mine" not in here(page) and "base64" not in here(page)
    assert page.locator("#lens-body .lens-channel").count() == 1  # the lens works on your image too
    settle(page, lambda: page.locator("[data-part=output] .thumb[data-filter='1']").click())  # the deck re-sends it
    assert page.locator("#live[data-kept]").count() == 1
    expect(page.locator("#lens-title")).to_contain_text("of map 1")
    page.locator("#output-frame").focus()
    page.keyboard.press("ArrowLeft")
    at = query(page)["at"]  # one column left of where the lens was kept through the knobs
    expect(page.locator("#lens-title")).to_have_text(f"Under the lens: output [{at.replace(',', ', ')}] of map 1")
    kept = base64.b64decode(page.locator("#live").get_attribute("data-kept").split(",")[1])
    lens_url = page.locator("#stage").get_attribute("data-lens")
    mine = urllib.request.urlopen(urllib.request.Request(live_server + lens_url + f"&at={at}", data=kept)).read()
    body = re.search(r'<div id="lens-body"[^>]*>(.*?)</section>', mine.decode(), re.DOTALL).group(1)
    assert re.sub(r"\s+", "", page.locator("#lens-body").inner_text()) == \
        re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", body)))
    shot("image-upload")
    # the framework switch keeps it too
    settle(page, lambda: page.click("nav.segmented a:has-text('Keras')"))
    assert output_shape(page) == [1, 32, 64, 3] and page.locator("#live[data-kept]").count() == 1
    # a sample again
    settle(page, lambda: page.select_option("#image", "coffee"))
    assert page.locator("#live[data-kept]").count() == 0
    assert output_shape(page) == [1, 43, 64, 3]  # stride 2, padding same


def test_upload_the_last_change_wins(page, live_server, problems, tmp_path):
    """Two knob changes in a row with your image: the first answer, even when it comes last, is not shown."""
    upload_mine(page, live_server, tmp_path)
    # the next POST's answer is held back 800 ms, so it would land after the one asked for after it
    page.evaluate("""() => { const real = window.fetch; let slow = true;
        window.fetch = async (url, opts) => { const r = await real(url, opts);
            if (opts && opts.method === "POST" && !String(url).includes("/lens") && slow) {
                slow = false; await new Promise((ok) => setTimeout(ok, 800)); }
            return r; }; }""")
    page.eval_on_selector("#live", "el => { el.dataset.stale = '1'; }")
    slide(page, "#stride", 2)
    slide(page, "#size", 128)
    expect(page.locator("#live[data-stale]")).to_have_count(0)
    ready(page)
    page.wait_for_timeout(1200)  # past the held-back answer
    assert output_shape(page) == [1, 3, 32, 64]  # stride 2 at 128 px, not stride 2 at 64 px


def test_upload_that_fails_says_so(page, live_server, tmp_path):
    """A re-send of your image that gets no answer, or a 413, says so by the upload control and keeps the view."""
    upload_mine(page, live_server, tmp_path)
    shape = output_shape(page)
    answer = {"now": lambda route: route.abort()}  # no answer at all, as when the network drops

    def resend(route):
        posted = route.request.method == "POST" and urlsplit(route.request.url).path == "/image"
        answer["now"](route) if posted else route.continue_()
    page.route("**/image?*", resend)
    slide(page, "#stride", 2)
    expect(page.locator("#upload-status")).to_have_text("Your image could not be sent; try again.")
    answer["now"] = lambda route: route.fulfill(status=413, body="too large")
    slide(page, "#stride", 3)
    expect(page.locator("#upload-status")).to_have_text(
        "Your image was not used: the file is larger than the server accepts.")
    assert output_shape(page) == shape and not page.locator("#live.htmx-request").count()


def test_paste_an_image(page, live_server, problems):
    page.goto(live_server + "/image")
    ready(page)
    b64 = base64.b64encode(png(120, 80, seed=3)).decode()
    settle(page, lambda: page.evaluate("""b64 => {
      const bin = atob(b64), a = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([a], "pasted.png", {type: "image/png"}));
      document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true}));
    }""", b64))
    assert page.locator("#live[data-kept]").count() == 1
    assert output_shape(page) == [1, 3, 64, 96]
    # the lens reads your pixels: what the server writes for your image at that position
    page.locator("#output-frame").focus()
    page.keyboard.press("ArrowUp")
    expect(page.locator("#lens-title")).to_have_text("Under the lens: output [31, 48] of map 0")


def test_a_bad_upload_is_explained_and_the_view_stays(page, live_server, tmp_path):
    page.goto(live_server + "/image?size=64")
    ready(page)
    bad = tmp_path / "cat.png"
    bad.write_bytes(b"<svg><script>alert(1)</script></svg>")
    page.set_input_files("#upload", str(bad))
    expect(page.locator("#upload-status")).to_contain_text("not a PNG, JPEG or WebP")
    assert output_shape(page) == [1, 3, 42, 64]
    trunc = tmp_path / "half.png"
    trunc.write_bytes(png(100, 100)[:500])
    page.set_input_files("#upload", str(trunc))
    expect(page.locator("#upload-status")).to_contain_text("could not be decoded")


@pytest.mark.parametrize("url", ["/image?kernel=sobel_x", "/image?type=AvgPool2d&kernel_size=3&stride=2",
                                 "/embed/image?kernel=gaussian&theme=light",
                                 "/embed/image?kernel=laplacian&theme=dark&groups=1&out_channels=2"])
def test_no_wcag22_violations(page, live_server, problems, url):
    page.goto(live_server + url)
    ready(page)
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("name, url, size", [
    ("image-laptop", "/image?kernel=sobel_x&at=20,30", (1440, 900)),
    ("image-projector", "/image?framework=keras&kernel=emboss&groups=1&filters=2&strides=2&at=10,14", (1280, 720)),
    ("image-phone", "/image?kernel=box&dilation=3&size=64&at=10,20", (390, 844)),
    ("image-embed", "/embed/image?kernel=outline&size=64&activation=relu", (700, 640)),
    ("image-embed-dark", "/embed/image?theme=dark&type=MaxPool2d&kernel_size=4&stride=4&size=128", (700, 640)),
])
def test_screenshots(page, live_server, problems, shot, name, url, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(live_server + url)
    ready(page)
    page.screenshot(path=str(shot(name + "-full").parent / f"{name}.png"))  # the first screen, as people see it
    assert shot(name + "-full").stat().st_size > 10_000


def test_the_maps_stand_beside_the_picture_on_a_laptop(page, live_server, problems):
    """The input and its maps in one row at 1440×900 (the stepping views' stage grid once stacked them in a
    narrow column, leaving the lens below the fold), with the lens's numbers on the first screen."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server + "/image?kernel=sobel_x")
    ready(page)
    tops = page.evaluate("[...document.querySelectorAll('[data-stage] [data-part]')].map(f => f.getBoundingClientRect().top)")
    assert len(tops) == 3 and max(tops) - min(tops) < 2, tops
    assert page.locator("#lens-body td").first.bounding_box()["y"] < 900


def test_the_stage_and_its_parts_and_the_embed_folds_its_knobs(page, live_server, problems):
    """The view's live container is the stage (data-stage), its parts the picture (input), the lens (the window's
    pixels, the kernel, the products: kernel) and the first map (output), each drawn; an embed folds its knobs
    into one closed disclosure above the pictures, as the other embeds do."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server + "/image?kernel=sobel_x")
    ready(page)
    stage = page.locator("[data-stage]")
    expect(stage).to_have_count(1)
    assert stage.get_attribute("id") == "stage" and stage.locator(".picture-stage").count() == 1
    for part in ("input", "kernel", "output"):
        box = stage.locator(f"[data-part={part}]").bounding_box()
        assert box and box["width"] >= 60 and box["height"] >= 60 and box["y"] + 60 < 900, (part, box)
    page.set_viewport_size({"width": 700, "height": 640})
    page.goto(live_server + "/embed/image?kernel=sobel_x")
    ready(page)
    fold = page.locator("details.embed-knobs")
    expect(fold).to_have_count(1)
    assert fold.get_attribute("open") is None and page.locator("#image-form").is_hidden()
    assert fold.bounding_box()["y"] < page.locator("[data-part=input]").bounding_box()["y"]  # above the pictures
    fold.locator("summary").click()
    expect(page.locator("#image-form")).to_be_visible()
    minimal = page.context.new_page()
    minimal.goto(live_server + "/embed/image?kernel=sobel_x&controls=minimal")
    expect(minimal.locator("[data-part=output]")).to_be_visible()
    assert minimal.locator("details.embed-knobs").is_hidden()
    minimal.close()
