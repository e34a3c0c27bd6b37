"""/image on the shared stage component in Chromium: photos of every size the view takes open with the three
parts of the stage (input, kernel, output) on the first screen at the laptop (1440×900), the projector
presenting (1280×720, ?present=1), the phone (390×844, touch: a knob on screen with the output) and an embed
(700×640, its knobs folded); the lens, pointed at, clicked and moved by the keys, writes the engine's numbers and
the window lands where the server says; the decks focus a channel and a map. Screenshots land in
screenshots/image/ (the first screen, as a reader sees it)."""
import re

import pytest
from playwright.sync_api import expect
from starlette.datastructures import QueryParams

from app.routes.image import image_context, read_state
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import here
from tests.web.page import num

VIEWS = {  # name -> (context options, path, extra query)
    "laptop": ({"viewport": {"width": 1440, "height": 900}}, "/image?", ""),
    "present": ({"viewport": {"width": 1280, "height": 720}}, "/image?", "&present=1"),
    "phone": ({"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
               "device_scale_factor": 2}, "/image?", ""),
    "embed": ({"viewport": {"width": 700, "height": 640}}, "/embed/image?", ""),
}
LAYERS = {  # name -> the view's query: small and large photos, four filters, pooling, Keras 'same' strided
    "default": "kernel=sobel_x",
    "tiny-4-filters": "size=16&groups=1&out_channels=4&kernel=random&seed=1&kernel_size=5&padding=2",
    "full-256": "size=256&kernel=gaussian&kernel_size=7&padding=3&padding_mode=reflect",
    "pool": "type=MaxPool2d&kernel_size=2&stride=2&size=224&image=astronaut",
    "keras-strided": "framework=keras&type=Conv2D&filters=2&groups=1&kernel_size=7&strides=3&padding=same"
                     "&kernel=random&seed=4&size=256&image=coffee&bias=true&bias_value=-12.5&activation=relu",
}
SEEN = 60  # px of each part, both ways, on the first screen
DIR = SCREENSHOTS / "image"
PICTURES_LOADED = "() => [...document.querySelectorAll('.pic-frame img')].every((i) => i.complete && i.naturalWidth > 0)"
ON_SCREEN = """(part) => {
  const r = document.querySelector(`[data-stage] [data-part=${part}]`).getBoundingClientRect();
  return [Math.min(r.right, innerWidth) - Math.max(r.left, 0), Math.min(r.bottom, innerHeight) - Math.max(r.top, 0)];
}"""
KNOB = """() => [...document.querySelectorAll('#image-form input:not([type=hidden]), #image-form select')].find((k) => {
  const r = k.getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight && !k.closest('details:not([open])');
}) ? true : false"""


def open_image(context_page, live_server, query: str, view: str = "laptop"):
    options, path, extra = VIEWS[view]
    page = context_page(**options)
    page.goto(live_server + path + query + extra)
    page.wait_for_function(PICTURES_LOADED)
    return page


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_the_three_parts_show_on_the_first_screen(context_page, live_server, name, view):
    page = open_image(context_page, live_server, LAYERS[name], view)
    assert page.locator("[data-stage] .picture-stage").count() == 1
    for part in ("input", "kernel", "output"):
        width, height = page.evaluate(ON_SCREEN, part)
        assert width >= SEEN and height >= SEEN, f"{name} at {view}: {part} shows {width:.0f}×{height:.0f} px"
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 1  # nothing scrolls sideways
    if view == "phone":  # a knob, ready to move, on screen with the output
        assert page.evaluate(KNOB), "no knob on the phone's first screen"
    if view == "embed":  # the knobs folded into one closed line above the pictures, as the other embeds
        fold = page.locator("details.embed-knobs")
        assert fold.get_attribute("open") is None
        assert fold.bounding_box()["y"] < page.locator("[data-part=input]").bounding_box()["y"]
    if view == "present":
        expect(page.locator("body.presenting")).to_have_count(1)
        fonts = page.evaluate("""() => [...document.querySelectorAll('[data-stage] *')].filter((e) =>
            e.childNodes.length && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()) &&
            e.getBoundingClientRect().width > 0 && !e.closest('.visually-hidden'))
            .map((e) => parseFloat(getComputedStyle(e).fontSize))""")
        assert fonts and min(fonts) >= 18, min(fonts)
    DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DIR / f"{name}-{view}.png"))


def engine(query: str, at: tuple[int, int]):
    """The page's context for the lens at ``at`` (the engine's maps, and where the server puts the window)."""
    state, errors = read_state(QueryParams(f"{query}&at={at[0]},{at[1]}"))
    assert errors == []
    return state, image_context(state)


def check_lens(page, query: str, at: tuple[int, int]):
    """The lens shows output ``at`` of the map shown: its value is the engine's, its channels' sums and the bias
    add up to the value before ReLU, and the window and the marker are where the server draws them."""
    state, ctx = engine(query, at)
    expect(page.locator("#lens-title")).to_have_text(f"Under the lens: output [{at[0]}, {at[1]}] of map {state.f}")
    total = page.locator("#lens-total").inner_text()
    expected = float(ctx["output"][state.f, at[0], at[1]])
    assert num(total.rsplit("=", 1)[1]) == pytest.approx(expected, rel=1e-3, abs=0.006), (total, expected)
    if state.kind == "conv":  # the channels' sums + bias = the value before ReLU (the first in bold)
        sums = [num(v) for v in page.locator(".lens-channel p strong").all_inner_texts()]
        bias = num(re.search(r"bias (\S+) =", total).group(1))
        pre = num(page.locator("#lens-total strong").first.inner_text())
        assert len(sums) == 3 // state.groups and sum(sums) + bias == pytest.approx(pre, rel=1e-3, abs=0.02)
    else:  # pooling: the window's pixels, the map's own channel
        pixels = [num(v) for v in page.locator(".lens-channel td").all_inner_texts()]
        assert len(pixels) == state.kernel_size ** 2 and (state.kind != "max" or max(pixels) == expected)
    window = page.evaluate("() => [...document.querySelectorAll('#window-boxes span')].map((b) => "
                           "[b.style.top, b.style.left, b.style.height, b.style.width].map(parseFloat))")
    assert window == [pytest.approx(b, abs=1e-3) for b in ctx["now"]["boxes"][0]]


@pytest.mark.parametrize("name, at", [("keras-strided", (30, 61)), ("tiny-4-filters", (0, 15)), ("pool", (60, 20))])
def test_the_lens_follows_the_pointer_the_click_and_the_keys(context_page, live_server, name, at):
    query = LAYERS[name]
    page = open_image(context_page, live_server, query)
    state, ctx = engine(query, (0, 0))
    ho, wo = ctx["out_hw"]
    check_lens(page, query, (ho // 2, wo // 2))  # the lens opens on the middle of the map
    box = page.locator("#output-pic").bounding_box()
    x, y = box["x"] + (at[1] + 0.5) * box["width"] / wo, box["y"] + (at[0] + 0.5) * box["height"] / ho
    page.mouse.move(x, y)
    check_lens(page, query, at)
    assert "at=" not in here(page)  # pointing previews; the lens stays where it was put
    page.mouse.move(1, 1)
    check_lens(page, query, (ho // 2, wo // 2))
    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(rf"at={at[0]}(,|%2C){at[1]}(&|$)"))
    page.mouse.move(1, 1)
    check_lens(page, query, at)
    page.locator("#output-frame").focus()
    page.keyboard.press("ArrowRight")  # at the right edge it stays there
    check_lens(page, query, (at[0], min(at[1] + 1, wo - 1)))
    page.keyboard.press("Shift+ArrowUp")
    check_lens(page, query, (max(0, at[0] - 10), min(at[1] + 1, wo - 1)))


def test_the_decks_focus_a_channel_and_a_map(context_page, live_server):
    query = LAYERS["keras-strided"]
    page = open_image(context_page, live_server, query)
    expect(page.locator("#input-pic")).to_have_attribute("src", re.compile(r"part=photo&c=0$"))
    page.locator("[data-part=input] .thumb[data-channel='G']").click()
    expect(page.locator("#input-pic")).to_have_attribute("src", re.compile(r"part=input&c=1$"))
    expect(page.locator("#input-caption")).to_have_text("G: the green channel")
    expect(page.locator("[data-part=input] .thumb[data-channel='G']")).to_have_attribute("aria-pressed", "true")
    page.locator("[data-part=output] .thumb[data-filter='1']").click()  # a map: the server's fragment
    expect(page.locator("[data-part=output] h3")).to_have_text("Map 1")
    expect(page.locator("#output-pic")).to_have_attribute("src", re.compile(r"part=output&c=1$"))
    page.wait_for_function(PICTURES_LOADED)
    assert "f=1" in here(page)
    state, ctx = engine(query + "&f=1", (0, 0))
    check_lens(page, query + "&f=1", (ctx["out_hw"][0] // 2, ctx["out_hw"][1] // 2))
    DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DIR / "deck-map-1.png"))
