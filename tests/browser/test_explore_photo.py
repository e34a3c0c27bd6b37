"""/explore's photo input in Chromium (issue 20): a 3×224×224 layer at 1440×900 shows the photo as its input
picture (the PNG the page loads correlates with the photo, channel by channel), names the photo and its
credit, and one click on "random numbers" swaps in noise; the select brings the photo back. The lens writes
out the photo's pixels. Screenshots under screenshots/photo/ (the first screen, as a student sees it)."""
import io
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from app.images import photo_input
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import here
from tests.web.page import num

IMAGENET = "type=Conv2d&in_channels=3&out_channels=8&kernel_size=3&stride=2&padding=1&input_shape=1,3,224,224"
LOADED = """() => { const i = document.querySelector('#input-pic'); return i.complete && i.naturalWidth > 0; }"""
SHOTS = SCREENSHOTS / "photo"


def shown_input(page, live_server) -> tuple[str, np.ndarray]:
    """The focused input picture's URL and its pixels' brightness, as the page loaded it."""
    page.wait_for_function(LOADED)
    src = page.locator("#input-pic").get_attribute("src")
    png = page.request.get(live_server + src).body()
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)
    return src, rgb @ [0.299, 0.587, 0.114]


def correlation(picture: np.ndarray, channel: np.ndarray) -> float:
    """Of the picture inside its padding (1 all round) with a channel's values."""
    return float(np.corrcoef(picture[1:-1, 1:-1].ravel(), channel.astype(np.float64).ravel())[0, 1])


@pytest.mark.parametrize("view, size, extra", [("laptop", (1440, 900), ""), ("present", (1280, 720), "&present=1")])
def test_an_imagenet_layer_starts_from_the_photo_and_random_is_one_click_away(context_page, live_server, view, size,
                                                                            extra):
    page = context_page(viewport={"width": size[0], "height": size[1]})
    page.goto(live_server + "/explore?" + IMAGENET + extra)
    photo = photo_input("chelsea", 3, 224, 224)
    src, seen = shown_input(page, live_server)
    assert "input=" not in src and seen.shape == (226, 226)  # padded by 1
    # red channel drawn white (0) to red (1): the brighter the photo, the darker the square
    assert correlation(seen, photo[0]) < -0.98
    expect(page.locator("#input-caption")).to_have_text("channel 0: red, photo of Chelsea the cat")
    note = page.locator(".input-note")
    expect(note).to_be_visible()  # presenting too: the photo's name and credit stay on the page
    expect(note).to_contain_text("Chelsea the cat")
    expect(note).to_contain_text("Stefan van der Walt, CC0")
    expect(page.locator("#input")).to_have_value("photo")
    # the lens writes out the photo's pixels: output [0, 0] reads padded rows 0-2, columns 0-2
    first = page.locator("#arith-lines li").first.inner_text()
    inputs = [num(t.split("×")[0]) for t in first.split(":", 1)[1].rsplit("=", 1)[0].split(" + ")]
    window = np.pad(photo[0], 1)[:3, :3].astype(np.float64).round(2).ravel()
    assert inputs == pytest.approx(window.tolist())
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"imagenet-photo-{view}.png"))
    if view == "laptop":  # the credit, under the stage
        note.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "imagenet-photo-laptop-credit.png"))

    # the deck: the green channel is the photo's green plane
    page.locator('.deck .thumb[data-channel="1"]').click()
    expect(page.locator("#input-caption")).to_have_text("channel 1: green, photo of Chelsea the cat")
    assert correlation(shown_input(page, live_server)[1], photo[1]) < -0.98

    if view == "laptop":
        page.locator('a[data-input="random"]').click()  # one click, on the note's link
    else:  # presenting shows the stage and the knobs, not the note: the knob
        page.select_option("#input", "random")
    expect(page.locator("#input")).to_have_value("random")
    expect(page.locator(".input-note")).to_contain_text("random integers from seed 0")
    page.wait_for_function("() => document.querySelector('#input-pic').src.includes('input=random')")
    src, noise = shown_input(page, live_server)
    assert "input=random" in here(page) and abs(correlation(noise, photo[0])) < 0.1
    expect(page.locator("#input-caption")).to_have_text("channel 0")
    page.screenshot(path=str(SHOTS / f"imagenet-random-{view}.png"))

    page.select_option("#input", "photo")  # and back through the knob
    page.wait_for_function("() => !document.querySelector('#input-pic').src.includes('input=')")
    assert correlation(shown_input(page, live_server)[1], photo[0]) < -0.98
    expect(page.locator(".input-note")).to_contain_text("Chelsea the cat")
    assert "input=" not in here(page)


def test_a_grey_layer_shows_the_grey_photo_and_the_default_layer_stays_random(context_page, live_server):
    page = context_page(viewport={"width": 1440, "height": 900})
    page.goto(live_server + "/explore?type=Conv2d&in_channels=1&out_channels=4&kernel_size=5&input_shape=1,1,64,96")
    _, seen = shown_input(page, live_server)
    grey = photo_input("chelsea", 1, 64, 96)[0].astype(np.float64)
    assert float(np.corrcoef(seen.ravel(), grey.ravel())[0, 1]) < -0.98
    expect(page.locator("#input-caption")).to_have_text("channel 0: grey, photo of Chelsea the cat")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "grey-photo-laptop.png"))
    page.goto(live_server + "/explore")
    assert page.locator(".input-note").count() == 0 and page.locator("#input").count() == 0
    assert re.fullmatch(r"-?\d", page.locator("#x0-0").inner_text().replace("\u2212", "-"))


@pytest.mark.parametrize("view, options, path", [
    ("phone", {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
     "/explore?"),
    ("embed", {"viewport": {"width": 700, "height": 640}}, "/embed/explore?"),
])
def test_the_photo_on_a_phone_and_in_an_embed(context_page, live_server, view, options, path):
    page = context_page(**options)
    page.goto(live_server + path + IMAGENET)
    _, seen = shown_input(page, live_server)
    assert correlation(seen, photo_input("chelsea", 3, 224, 224)[0]) < -0.98
    expect(page.locator("#input-caption")).to_have_text("channel 0: red, photo of Chelsea the cat")
    expect(page.locator(".input-note")).to_contain_text("Stefan van der Walt")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"imagenet-photo-{view}.png"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_photo_page_is_axe_clean(context_page, live_server, scheme):
    from axe_playwright_python.sync_playwright import Axe

    from tests.browser.test_site import WCAG
    page = context_page(color_scheme=scheme, viewport={"width": 1440, "height": 900})
    page.goto(live_server + "/explore?" + IMAGENET)
    shown_input(page, live_server)
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()
