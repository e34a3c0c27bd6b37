"""/backprop in a real browser: the upstream choice, clicking an output cell (its inputs and weights light up,
the URL follows), stepping the input gradient and the weights' gradient in place, a stride-2 layer, pooling,
pasting an answer; at 1440×900, 1280×720 presenting, 390×844 touch and embedded at 700×640. Axe finds no
violations; nothing scrolls sideways. Screenshots land in screenshots/backprop/ for people to look at."""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import WCAG, query

SHOTS = SCREENSHOTS / "backprop"
CONV = "/backprop?framework=torch&type=Conv2d&in_channels=2&out_channels=2&kernel_size=3&stride=2&padding=1" \
       "&input_shape=1,2,5,5"
POOL = "/backprop?framework=torch&type=MaxPool2d&kernel_size=2&stride=2&input_shape=1,2,6,6"
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
EMBED = {"viewport": {"width": 700, "height": 640}}


def save(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("options, name", [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_clicking_an_output_cell_backpropagates_from_it(context_page, live_server, options, name):
    page = context_page(**options)
    page.goto(live_server + CONV)
    expect(page.locator("[data-stage] td.dep")).to_have_count(0)
    page.evaluate("window.__kept = 1")
    target = page.locator("#y1-4 a")  # filter 1, output (1, 1): its window reads input rows/cols 1..3
    with page.expect_response(lambda r: "cell=" in r.url and r.request.headers.get("hx-request") == "true"):
        target.click() if name == "laptop" else target.tap()
    expect(page.locator("#y1-4")).to_have_class(re.compile("dep"))
    assert page.evaluate("window.__kept") == 1, "the page reloaded instead of swapping"
    assert query(page)["upstream"] == "cell" and query(page)["cell"] == "13"  # 1·9 + 4: channels first
    expect(page.locator("#dep-count")).to_have_text("18")  # 3×3 window × 2 channels, all inside
    expect(page.locator("[data-part=kernel] td.dep")).to_have_count(18)  # every weight of filter 1
    # the upstream gradient is 1 there alone
    expect(page.locator("#g1-4")).to_have_text("1")
    assert page.locator("[id^=g0-]").all_inner_texts() == ["0"] * 9
    assert no_sideways_scroll(page)
    save(page, f"cell-{name}")
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


def test_keyboard_reaches_an_output_cell_and_the_upstream_choice_redraws(context_page, live_server):
    page = context_page(**LAPTOP)
    page.goto(live_server + CONV)
    link = page.locator("#y0-0 a")
    link.focus()
    with page.expect_response(lambda r: "cell=0" in r.url):
        page.keyboard.press("Enter")
    expect(page.locator("#y0-0")).to_have_class(re.compile("dep"))
    with page.expect_response(lambda r: "upstream=random" in r.url):
        page.select_option("#upstream", "random")
    expect(page.locator("#upstream")).to_have_value("random")
    texts = page.locator("[id^=g0-]").all_inner_texts()
    assert len(set(texts)) > 1, texts  # random integers, not ones
    save(page, "random-laptop")


def test_stepping_moves_the_sum_in_place(context_page, live_server):
    page = context_page(**LAPTOP)
    page.goto(live_server + CONV)
    first = page.locator("#gi-value").inner_text()
    page.evaluate("window.__kept = 1")
    with page.expect_response(lambda r: "step=1" in r.url):
        page.locator("#step-forward").click()
    expect(page.locator("#step-label")).to_contain_text("cell 1 of 50")
    expect(page.locator("#gx0-1")).to_have_class(re.compile("lit"))
    assert page.locator("#gi-value").inner_text() == page.locator("#gx0-1").inner_text()
    with page.expect_response(lambda r: "wstep=1" in r.url):
        page.locator("#wstep-forward").click()
    expect(page.locator("#wstep-label")).to_contain_text("weight 1 of 36")
    assert page.locator("#gw-value").inner_text() == page.locator("#gw0-0-1").inner_text()
    assert page.evaluate("window.__kept") == 1 and first
    # stride 2: the dilated upstream grid has zeros between the gradients
    assert "0" in page.locator("[id^=u0-]").all_inner_texts()
    save(page, "stride2-steps-laptop")


def test_max_pooling_routes_to_winners(context_page, live_server):
    page = context_page(**LAPTOP)
    page.goto(live_server + POOL)
    expect(page.locator("#gi-title")).to_contain_text("winner")
    # with ones upstream, non-overlapping 2×2 windows: exactly one 1 per window, 9 per channel
    values = page.locator("[id^=gx0-]").all_inner_texts()
    assert values.count("1") == 9 and values.count("0") == 27, values
    with page.expect_response(lambda r: "cell=" in r.url):
        page.locator("#y0-0 a").click()
    expect(page.locator("#dep-count")).to_have_text("1")
    save(page, "maxpool-laptop")


def test_pasting_a_wrong_answer_shows_where_it_differs(context_page, live_server):
    page = context_page(**LAPTOP)
    page.goto(live_server + CONV)
    right = [t.replace("\u2212", "-") for c in (0, 1) for t in page.locator(f"[id^=gx{c}-]").all_inner_texts()]
    mine = right[:]
    mine[3] = str(float(mine[3]) + 1)
    page.fill("#paste", " ".join(mine))
    with page.expect_response(lambda r: "paste=" in r.url):
        page.locator("#paste-form button").click()
    expect(page.locator("#compare-summary")).to_contain_text("1 of 50 numbers differ")
    expect(page.locator("table.compare tr.wrong")).to_have_count(1)
    save(page, "paste-laptop")
    # a knob change keeps the pasted numbers: compared again against the new layer's gradient
    with page.expect_response(lambda r: "upstream=random" in r.url and "paste=" in r.url):
        page.select_option("#upstream", "random")
    expect(page.locator("#compare-summary")).to_contain_text("of 50 numbers differ")
    assert page.locator("#paste").input_value().split() == mine
    assert query(page)["paste_as"] == "grad_input"


def test_presenting_and_the_embed(context_page, live_server):
    page = context_page(**PROJECTOR)
    page.goto(live_server + CONV + "&present=1")
    expect(page.locator("body.presenting")).to_have_count(1)
    expect(page.locator("[data-stage]").first).to_be_in_viewport()
    save(page, "present-1280")
    embed = context_page(**EMBED)
    embed.goto(live_server + "/embed" + CONV.removeprefix("/backprop").join(["/backprop", ""]))
    embed.locator("[data-stage]").first.wait_for()
    with embed.expect_response(lambda r: "cell=" in r.url):
        embed.locator("#y0-0 a").click()
    expect(embed.locator("#y0-0")).to_have_class(re.compile("dep"))
    assert no_sideways_scroll(embed)
    save(embed, "embed-700")


def test_the_lesson_embeds_the_view_and_its_tries_change_it(context_page, live_server):
    page = context_page(**LAPTOP)
    page.goto(live_server + "/learn/backprop-conv")
    frame = page.frame_locator("iframe.lesson-view")
    expect(frame.locator("#gx0-3")).to_have_text("1.8")  # the answer's ∂L/∂x = [0.3, 0, −0.3, 1.8]
    expect(page.locator(".answer")).to_contain_text("[0.3, 0, −0.3, 1.8]")
    page.get_by_role("link", name=re.compile("^Click an output instead")).click()
    expect(frame.locator("#y0-1")).to_have_class(re.compile("dep"))
    expect(frame.locator("#dep-count")).to_have_text("2")
    save(page, "lesson-laptop")


REAL = "/backprop?framework=torch&type=Conv2d&in_channels=16&out_channels=16&kernel_size=3&stride=2&padding=1" \
       "&input_shape=1,16,56,56&upstream=random"


def visible_px(page, selector: str) -> tuple[float, float]:
    """The width and height of the element's part inside the first screen."""
    return page.evaluate("""(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
      return [Math.min(r.right, innerWidth) - Math.max(r.left, 0), Math.min(r.bottom, innerHeight) - Math.max(r.top, 0)]; }""",
                         selector)


@pytest.mark.parametrize("options, name, suffix", [(LAPTOP, "laptop", ""), (PROJECTOR, "present-1280", "&present=1"),
                                                   (PHONE, "phone", ""), (EMBED, "embed-700", "")])
def test_a_real_size_layer_is_pictures_and_a_click_on_the_output_picks_the_cell(context_page, live_server, options,
                                                                                name, suffix):
    page = context_page(**options)
    url = REAL + suffix
    page.goto(live_server + ("/embed" + url if name.startswith("embed") else url))
    stage = page.locator(".picture-stage")
    expect(stage).to_have_count(1)
    for part in ("input", "kernel", "output"):
        expect(stage.locator(f"[data-part={part}]")).to_be_visible()
        if name != "phone":  # a phone stacks the parts: each is a scroll away
            w, h = visible_px(page, f".picture-stage [data-part={part}]")
            assert w >= 60 and h >= 60, (part, w, h)
    page.evaluate("window.__kept = 1")
    frame = page.locator("#output-frame")
    frame.scroll_into_view_if_needed()
    box = page.locator("#output-pic").bounding_box()
    at = (box["x"] + box["width"] * 21.5 / 28, box["y"] + box["height"] * 7.5 / 28)  # the centre of output [7, 21]
    with page.expect_response(lambda r: "cell=" in r.url and r.request.headers.get("hx-request") == "true"):
        if name == "phone":
            page.touchscreen.tap(*at)
        else:
            page.mouse.click(*at)
    expect(page.locator("#window-boxes .window-box")).to_have_count(1)
    assert page.evaluate("window.__kept") == 1, "the page reloaded instead of swapping"
    if not name.startswith("embed"):
        assert query(page)["upstream"] == "cell" and query(page)["cell"] == str(7 * 28 + 21)
    expect(page.locator("#gi-value")).not_to_be_empty()
    with page.expect_response(lambda r: "step=1" in r.url):
        page.locator("#step-forward").click()
    expect(page.locator("#step-label")).to_contain_text("cell 1 of 50176")
    assert no_sideways_scroll(page)
    page.locator("#window-boxes").scroll_into_view_if_needed()
    save(page, f"real-{name}")
    if name == "laptop":
        results = Axe().run(page, options=WCAG)
        assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("url, name, out", [
    ("/backprop?framework=keras&type=Conv1D&filters=8&kernel_size=3&padding=same&input_shape=1,50,300", "conv1d", (50,)),
    ("/backprop?framework=torch&type=MaxPool2d&kernel_size=2&stride=2&input_shape=1,16,56,56", "maxpool", (28, 28)),
])
def test_real_size_1d_and_pooling_pictures_take_a_click(context_page, live_server, url, name, out):
    page = context_page(**LAPTOP)
    page.goto(live_server + url)
    for part in ("input", "kernel", "output"):
        w, h = visible_px(page, f".picture-stage [data-part={part}]")
        assert w >= 60 and h >= 60, (part, w, h)
    box = page.locator("#output-pic").bounding_box()
    fx, fy = 0.5 / out[-1] + 10 / out[-1], 0.5 if len(out) == 1 else 3.5 / out[0]
    with page.expect_response(lambda r: "cell=" in r.url):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
    expected = 10 if len(out) == 1 else 3 * out[-1] + 10
    expect(page.locator("#window-boxes .window-box")).to_have_count(1)
    expect(page).to_have_url(re.compile(rf"[?&]cell={expected}(&|$)"))
    page.locator("#step-reached").click()
    expect(page.locator("#step-reached")).to_have_count(0)
    assert no_sideways_scroll(page)
    save(page, f"real-{name}-laptop")
    if name == "maxpool":  # a channel's thumbnail shows its output: a click there picks a cell of that channel
        page.locator("[data-part=input] .thumb[data-channel='4']").click()
        expect(page.locator("#output-pic")).to_have_attribute("src", re.compile(r"part=output&c=4"))
        page.locator("#output-pic").scroll_into_view_if_needed()
        box = page.locator("#output-pic").bounding_box()
        with page.expect_response(lambda r: "cell=" in r.url):
            page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        expect(page).to_have_url(re.compile(rf"[?&]cell={4 * 28 * 28 + expected}(&|$)"))
        expect(page.locator("#output-pic")).to_have_attribute("src", re.compile(r"part=output&c=4"))


# ------------------------------------------------------------------ the lens answers the pointer and the keys

GX = "/backprop?framework=torch&type=Conv2d&in_channels=3&out_channels=8&kernel_size=3&padding=1" \
     "&input_shape=1,3,32,32&upstream=random&seed=2"
GX_SPEC = {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "padding": 1}


def expected_lens(spec, in_shape, seed=2):
    """grad_input from /api/backward on the page's numbers, and a function writing cell (c, i, j)'s lens lines
    with app/core/backward.py's terms."""
    import numpy as np
    from fastapi.testclient import TestClient

    from app.core.backward import grad_input_terms, upstream_grid
    from app.core.forward import canonical_weights, readable_weights
    from app.core.frameworks import build_layer
    from app.display import fmt, term
    from app.main import create_app
    from tests.web.test_backprop import api
    with TestClient(create_app()) as client:  # the same app as the live server's, in process
        answer = api(client, "torch", spec, in_shape, "random", seed=seed)
    gx = np.asarray(answer["grad_input"], np.float32)[0]
    g = np.asarray(answer["grad_output"], np.float32)[0]
    layer = build_layer("torch", spec, in_shape)
    w = canonical_weights(layer, readable_weights(layer, seed, "random"))[0]["weight"]
    op = layer.stages[0]
    up, _ = upstream_grid(g, op, gx.shape[1:])

    def lines(cell):
        return [f"from output channel {o}: " + " + ".join(term(a, b) for a, b in t) + " = " + fmt(sum(a * b for a, b in t))
                for o, t in grad_input_terms(up, w, op, cell[0], cell[1:])]
    return gx, lines, fmt


def cell_centre(page, frame: str, rows: int, cols: int, i: int, j: int) -> tuple[float, float]:
    box = page.locator(f"{frame} img").bounding_box()
    return box["x"] + box["width"] * (j + .5) / cols, box["y"] + box["height"] * (i + .5) / rows


def marker_cell(page, marker: str, frame: str, rows: int, cols: int) -> tuple[int, int]:
    """The cell the marker's top left corner lies on (a marker narrower than 3 px is drawn 3 px wide)."""
    m, box = page.locator(marker).bounding_box(), page.locator(f"{frame} img").bounding_box()
    return (int((m["y"] - box["y"]) / box["height"] * rows + .01), int((m["x"] - box["x"]) / box["width"] * cols + .01))


def lens_says(page, gx, lines, fmt, cell) -> None:
    expect(page.locator("#gi-value")).to_have_text(fmt(gx[cell]))
    expect(page.locator("#step-label")).to_contain_text(f"channel {cell[0]}, position [{', '.join(map(str, cell[1:]))}]")
    assert page.locator("#lens-lines li").all_inner_texts() == lines(cell)


@pytest.mark.parametrize("options, name", [(LAPTOP, "laptop"), (PROJECTOR, "present-1280"), (PHONE, "phone"),
                                           (EMBED, "embed-700")])
def test_pointing_tapping_and_the_arrow_keys_move_the_grad_input_lens(context_page, live_server, options, name):
    gx, lines, fmt = expected_lens(GX_SPEC, (1, 3, 32, 32))
    page = context_page(**options)
    url = GX + ("&present=1" if name.startswith("present") else "")
    page.goto(live_server + ("/embed" + url if name.startswith("embed") else url))
    lens_says(page, gx, lines, fmt, (0, 0, 0))
    page.evaluate("window.__kept = 1")
    page.locator("#gx-frame").scroll_into_view_if_needed()
    asked = []
    page.on("request", lambda r: "/backprop/lens?" in r.url and asked.append(r.url))
    if name != "phone":  # pointing: the lens follows the pointer, the URL keeps the written cell
        page.mouse.move(*cell_centre(page, "#gx-frame", 32, 32, 17, 9))
        lens_says(page, gx, lines, fmt, (0, 17, 9))
        assert marker_cell(page, "#gx-marker", "#gx-frame", 32, 32) == (17, 9)
        assert "step" not in query(page)
        page.mouse.move(*cell_centre(page, "#gx-frame", 32, 32, 3, 30))
        lens_says(page, gx, lines, fmt, (0, 3, 30))
        page.mouse.move(5, 5)  # away from the picture: back to the cell the page wrote
        lens_says(page, gx, lines, fmt, (0, 0, 0))
        page.mouse.click(*cell_centre(page, "#gx-frame", 32, 32, 17, 9))
    else:
        page.touchscreen.tap(*cell_centre(page, "#gx-frame", 32, 32, 17, 9))
    lens_says(page, gx, lines, fmt, (0, 17, 9))
    assert query(page)["step"] == str(17 * 32 + 9)  # a click or tap keeps it: URL = state
    assert marker_cell(page, "#gx-marker", "#gx-frame", 32, 32) == (17, 9)
    if name != "phone":
        page.mouse.move(5, 5)
        lens_says(page, gx, lines, fmt, (0, 17, 9))
    # the arrow keys (Shift: 10) move the written cell, stopping at the edges
    page.locator("#gx-frame").focus()
    for key, cell in (("ArrowRight", (0, 17, 10)), ("Shift+ArrowDown", (0, 27, 10)), ("Shift+ArrowDown", (0, 31, 10)),
                      ("Shift+ArrowLeft", (0, 31, 0)), ("ArrowLeft", (0, 31, 0)), ("ArrowUp", (0, 30, 0))):
        page.keyboard.press(key)
        lens_says(page, gx, lines, fmt, cell)
        assert query(page)["step"] == str(cell[1] * 32 + cell[2])
    assert marker_cell(page, "#gx-marker", "#gx-frame", 32, 32) == (30, 0)
    assert asked, "the lens of a cell the page did not write comes from GET /backprop/lens"
    assert page.evaluate("window.__kept") == 1, "the page reloaded instead of swapping the lens"
    assert page.evaluate("document.activeElement.id") == "gx-frame"
    assert page.locator("#lens").get_attribute("aria-live") == "polite"
    # the swapped lens's own links still swap the page in place (htmx wired them)
    with page.expect_response(lambda r: f"step={30 * 32 + 1}" in r.url and r.request.headers.get("hx-request")):
        page.locator("#step-forward").click()
    lens_says(page, gx, lines, fmt, (0, 30, 1))
    assert page.evaluate("window.__kept") == 1
    assert no_sideways_scroll(page)
    page.locator("#gx-frame").scroll_into_view_if_needed()
    save(page, f"gx-lens-{name}")
    if name == "laptop":
        results = Axe().run(page, options=WCAG)
        assert results.violations_count == 0, results.generate_report()


def test_the_output_picture_takes_the_keyboard(context_page, live_server):
    """Focused (by Tab, with a visible outline), the arrow keys move the output's marker (Shift: 10) and say
    where it is; Enter sends a gradient of 1 from the cell under it; no request until Enter."""
    from tests.browser.helpers import tab_to
    page = context_page(**LAPTOP)
    page.goto(live_server + REAL)
    cells = []
    page.on("request", lambda r: "cell=" in r.url and cells.append(r.url))
    page.locator("#output-frame").scroll_into_view_if_needed()
    page.mouse.move(*cell_centre(page, "#output-frame", 28, 28, 5, 7))  # pointing: the marker on that cell
    assert marker_cell(page, "#marker-boxes .marker-box", "#output-frame", 28, 28) == (5, 7)
    page.mouse.move(5, 5)
    expect(page.locator("#marker-boxes .marker-box")).to_be_hidden()  # no cell picked yet: no marker
    tab_to(page, "output-frame", limit=200)
    frame = page.locator("#output-frame")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    assert "arrow keys" in frame.get_attribute("aria-label") and "Enter" in frame.get_attribute("aria-label")
    for key in ("ArrowRight", "ArrowRight", "ArrowDown", "Shift+ArrowRight", "Shift+ArrowDown", "ArrowLeft"):
        page.keyboard.press(key)
    expect(page.locator("#pick-status")).to_have_text(re.compile(r"^output \[11, 11\] of channel 0 under the marker"))
    assert marker_cell(page, "#marker-boxes .marker-box", "#output-frame", 28, 28) == (11, 11)
    assert cells == [] and "cell" not in query(page)
    page.keyboard.press("Shift+ArrowUp")  # stops at the top edge
    expect(page.locator("#pick-status")).to_contain_text("[1, 11]")  # 11 − 10
    page.keyboard.press("Shift+ArrowUp")
    expect(page.locator("#pick-status")).to_contain_text("[0, 11]")
    save(page, "output-keys-laptop")
    with page.expect_response(lambda r: "cell=11" in r.url and r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("Enter")
    expect(page.locator("#window-boxes .window-box")).to_have_count(1)
    assert query(page)["upstream"] == "cell" and query(page)["cell"] == "11"
    # output [0, 11] at stride 2, padding 1 reads padded rows 0-2, columns 22-24 of the 58×58 padded input
    expect(page.locator("#window-boxes .window-box")).to_have_attribute(
        "style", re.compile(rf"top: 0(\.0)?%; left: {round(100 * 22 / 58, 3)}%"))
    assert marker_cell(page, "#marker-boxes .marker-box", "#output-frame", 28, 28) == (0, 11)


def test_a_ceil_mode_window_stays_on_the_grey_picture(context_page, live_server):
    page = context_page(**LAPTOP)
    url = "/backprop?framework=torch&type=MaxPool2d&kernel_size=3&stride=2&padding=1&ceil_mode=true" \
          "&input_shape=1,4,40,40"
    page.goto(live_server + url)
    expect(page.locator(".picture-stage")).to_have_count(1)
    expect(page.locator(".hint").first).to_contain_text("past it what ceil_mode's last window reaches")
    page.locator("#output-frame").scroll_into_view_if_needed()
    with page.expect_response(lambda r: "cell=440" in r.url):  # 21×21 outputs: the last one
        page.mouse.click(*cell_centre(page, "#output-frame", 21, 21, 20, 20))
    window = page.locator("#window-boxes .window-box")
    expect(window).to_have_count(1)
    w, pic = window.bounding_box(), page.locator("#input-pic").bounding_box()
    assert w["x"] + w["width"] <= pic["x"] + pic["width"] + 1 and w["y"] + w["height"] <= pic["y"] + pic["height"] + 1
    # its lower right corner: the grey cells past the padded input (the PNG's last row and column)
    png = page.request.get(live_server + page.locator("#input-pic").get_attribute("src"))
    assert png.ok and int.from_bytes(png.body()[16:20], "big") == 43
    # ∂L/∂input's picture answers the pointer here too: the lens of the cell only the ceil_mode window read
    import numpy as np
    from fastapi.testclient import TestClient

    from app.display import fmt
    from app.main import create_app
    from tests.web.test_backprop import api
    with TestClient(create_app()) as client:
        one = np.zeros((1, 4, 21, 21), np.float32)
        one[0, 0, 20, 20] = 1  # the page's upstream: 1 at the clicked cell (channel 0's last)
        gx = np.asarray(api(client, "torch", {"type": "MaxPool2d", "kernel_size": 3, "stride": 2, "padding": 1,
                                              "ceil_mode": True}, (1, 4, 40, 40), one)["grad_input"])[0]
    page.locator("#gx-frame").scroll_into_view_if_needed()
    for i, j in ((39, 39), (38, 39), (39, 38), (0, 0)):
        page.mouse.move(*cell_centre(page, "#gx-frame", 40, 40, i, j))
        expect(page.locator("#step-label")).to_contain_text(f"position [{i}, {j}]")
        expect(page.locator("#gi-value")).to_have_text(fmt(gx[0, i, j]))
    assert float(gx[0, 38:, 38:].sum()) == 1  # the one gradient went to that window's winner
    page.locator("#input-pic").scroll_into_view_if_needed()
    save(page, "ceil-mode-laptop")


def test_a_1d_grad_input_picture_takes_the_pointer_and_the_keys(context_page, live_server):
    spec = {"type": "Conv1d", "in_channels": 4, "out_channels": 6, "kernel_size": 5, "stride": 2, "padding": 2}
    gx, lines, fmt = expected_lens(spec, (1, 4, 300))
    page = context_page(**LAPTOP)
    page.goto(live_server + "/backprop?framework=torch&type=Conv1d&in_channels=4&out_channels=6&kernel_size=5"
                            "&stride=2&padding=2&input_shape=1,4,300&upstream=random&seed=2&step=600")  # channel 2
    lens_says(page, gx, lines, fmt, (2, 0))
    page.locator("#gx-frame").scroll_into_view_if_needed()
    page.mouse.move(*cell_centre(page, "#gx-frame", 1, 300, 0, 123))
    lens_says(page, gx, lines, fmt, (2, 123))
    page.mouse.click(*cell_centre(page, "#gx-frame", 1, 300, 0, 123))
    assert query(page)["step"] == str(2 * 300 + 123)
    page.locator("#gx-frame").focus()
    for key, j in (("ArrowRight", 124), ("ArrowDown", 124), ("Shift+ArrowLeft", 114)):
        page.keyboard.press(key)
        lens_says(page, gx, lines, fmt, (2, j))
    assert marker_cell(page, "#gx-marker", "#gx-frame", 1, 300) == (0, 114)
    save(page, "gx-lens-1d-laptop")
