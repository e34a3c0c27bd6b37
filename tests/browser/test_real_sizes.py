"""/explore, /pool and /transposed at real sizes in Chromium: the layers students bring (tests/web/test_picture.py: REAL_SIZES) open
as pictures with the three parts of the stage on the first screen at the laptop, the projector presenting,
the phone and an embed; the lens (pointed at, clicked, moved by the arrow keys) writes out the engine's
arithmetic (recomputed with a plain loop over the engine's input and weights); the deck and a knob change
the pictures in place. Screenshots land in screenshots/real-*.png (the first screen, as a reader sees it)."""
import gzip
import re

import numpy as np
import pytest
from playwright.sync_api import expect

from app.core.pool import pool_step
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import here
from tests.web.page import num
from tests.web.test_picture import FRAGMENT_GZIP, REAL_SIZES, reference
from tests.web.test_pool_picture import POOL_SIZES
from tests.web.test_pool_picture import engine as pool_engine
from tests.web.test_transposed_picture import TRANSPOSED_SIZES
from tests.web.test_transposed_picture import engine as transposed_engine

VIEWS = {  # name -> (context options, path, extra query)
    "laptop": ({"viewport": {"width": 1440, "height": 900}}, "/explore?", ""),
    "present": ({"viewport": {"width": 1280, "height": 720}}, "/explore?", "&present=1"),
    "phone": ({"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
               "device_scale_factor": 2}, "/explore?", ""),
    "embed": ({"viewport": {"width": 700, "height": 640}}, "/embed/explore?", ""),
}
SEEN = 60  # px of each part, both ways, on the first screen
PICTURES_LOADED = """() => [...document.querySelectorAll('.pic-frame img')].every((i) => i.complete && i.naturalWidth > 0)"""
ON_SCREEN = """(part) => {
  const r = document.querySelector(`[data-stage] [data-part=${part}]`).getBoundingClientRect();
  return [Math.min(r.right, innerWidth) - Math.max(r.left, 0), Math.min(r.bottom, innerHeight) - Math.max(r.top, 0)];
}"""


def open_layer(context_page, live_server, name: str, view: str = "laptop"):
    options, path, extra = VIEWS[view]
    page = context_page(**options)
    page.goto(live_server + path + REAL_SIZES[name] + extra)
    page.wait_for_function(PICTURES_LOADED)
    return page


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("name", sorted(REAL_SIZES))
def test_the_three_parts_show_on_the_first_screen(context_page, live_server, name, view):
    page = open_layer(context_page, live_server, name, view)
    assert page.locator("[data-stage] .picture-stage").count() == 1
    for part in ("input", "kernel", "output"):
        width, height = page.evaluate(ON_SCREEN, part)
        assert width >= SEEN and height >= SEEN, f"{name} at {view}: {part} shows {width:.0f}×{height:.0f} px"
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 1  # nothing scrolls sideways
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"real-{name}-{view}.png"))


def lens_numbers(page) -> tuple[str, list[float], float, float]:
    """The lens as the page shows it: its title, each shown channel's sum, the bias and the value."""
    title = page.locator("#arith h3").inner_text()
    sums = [num(t.rsplit("=", 1)[1]) for t in page.locator("#arith-lines li").all_inner_texts() if t.startswith("channel ")]
    total = page.locator("#arith-total").inner_text()
    return title, sums, num(re.search(r"bias \(([^)]*)\)", total).group(1)), num(total.rsplit("=", 1)[1])


def check_lens(page, query: str, step: int, f: int = 0):
    ref = reference(query, step, f)
    expect(page.locator("#arith h3")).to_contain_text(f"Output {ref['out']} of filter {f}")
    title, sums, bias, value = lens_numbers(page)
    assert sums == pytest.approx([round(s, 2) for s in ref["sums"][:len(sums)]], abs=0.006) and sums
    assert bias == pytest.approx(ref["bias"]) and value == pytest.approx(ref["value"], abs=0.006)


def point_at(page, out: tuple[int, int], shape: tuple[int, int]):
    """Move the pointer over output cell ``out`` of a 2D output ``shape`` (where it is drawn)."""
    box = page.locator("#output-pic").bounding_box()
    page.mouse.move(box["x"] + (out[1] + 0.5) * box["width"] / shape[1], box["y"] + (out[0] + 0.5) * box["height"] / shape[0])


@pytest.mark.parametrize("name, out, shape", [("cifar", (20, 9), (32, 32)), ("resnet", (40, 50), (56, 56)),
                                              ("strided", (30, 17), (48, 40))])
def test_the_lens_follows_the_pointer_the_click_and_the_keys_with_the_engine_arithmetic(
        context_page, live_server, name, out, shape):
    page = open_layer(context_page, live_server, name)
    query = REAL_SIZES[name]
    check_lens(page, query, 0)
    step = out[0] * shape[1] + out[1]  # far outside the played block: the server's lens fragment
    point_at(page, out, shape)
    check_lens(page, query, step)
    assert "step=" not in here(page)  # pointing previews; the player stays where it was
    page.mouse.move(1, 1)
    check_lens(page, query, 0)
    point_at(page, out, shape)
    page.mouse.down()
    page.mouse.up()  # a click goes to that step (the fragment of its block)
    expect(page.locator("#step-label")).to_contain_text(f"{step} of {shape[0] * shape[1]}")
    page.wait_for_function(PICTURES_LOADED)
    page.mouse.move(1, 1)
    check_lens(page, query, step)
    page.locator("#output-frame").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#step-label")).to_contain_text(f"{step + 1} of")
    check_lens(page, query, step + 1)
    page.keyboard.press("ArrowDown")
    expect(page.locator("#step-label")).to_contain_text(f"{step + 1 + shape[1]} of")
    check_lens(page, query, step + 1 + shape[1])
    assert f"step={step + 1 + shape[1]}" in here(page)


def test_playing_moves_the_window_and_fills_the_output(context_page, live_server):
    page = open_layer(context_page, live_server, "cifar")
    before = page.locator("#window-boxes span").first.get_attribute("style")
    pending = page.locator("#pending-boxes span").first.get_attribute("style")
    page.locator("#step-forward").click()
    expect(page.locator("#step-label")).to_contain_text("1 of 1024")
    assert page.locator("#window-boxes span").first.get_attribute("style") != before
    assert page.locator("#pending-boxes span").first.get_attribute("style") != pending
    check_lens(page, REAL_SIZES["cifar"], 1)


def test_the_deck_focuses_a_channel_and_a_filter_and_a_knob_redraws_in_place(context_page, live_server, shot):
    page = open_layer(context_page, live_server, "resnet")
    page.screenshot(path=str(SCREENSHOTS / "real-knob-before.png"))
    page.locator("[data-part=input] .thumb[data-channel='3']").click()
    expect(page.locator("#input-pic")).to_have_attribute("src", re.compile(r"part=input&c=3$"))
    expect(page.locator(".kernel-card[data-channel='3']")).to_be_visible()
    expect(page.locator(".kernel-card[data-channel='0']")).to_be_hidden()
    page.locator("[data-part=output] .thumb", has_text="5").click()  # a filter: the server's fragment
    expect(page.locator("#window-title")).to_contain_text("filter 5")
    expect(page.locator("#output-pic")).to_have_attribute("src", re.compile(r"part=output&c=5$"))
    old = page.locator("#input-pic").get_attribute("src")
    page.locator("#seed").fill("7")
    page.locator("#seed").dispatch_event("input")
    expect(page.locator("#input-pic")).not_to_have_attribute("src", old)
    page.wait_for_function(PICTURES_LOADED)
    assert "seed=7" in page.locator("#input-pic").get_attribute("src")
    expect(page.locator("#window-title")).to_contain_text("filter 5")  # the knob kept the filter the deck chose
    page.wait_for_function("() => [...document.querySelectorAll('.deck img')].every((i) => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(SCREENSHOTS / "real-knob-after.png"))
    answer = page.request.get(page.url, headers={"HX-Request": "true"})
    assert answer.ok and len(gzip.compress(answer.body())) <= FRAGMENT_GZIP


# ---------------------------------------------------------------- /pool (tests/web/test_pool_picture.py: POOL_SIZES)

def open_stage(context_page, live_server, view_path: str, query: str, view: str = "laptop"):
    options, path, extra = VIEWS[view]
    page = context_page(**options)
    page.goto(live_server + path.replace("/explore", view_path) + query + extra)
    page.wait_for_function(PICTURES_LOADED)
    return page


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("name", sorted(POOL_SIZES))
def test_pool_the_three_parts_show_on_the_first_screen(context_page, live_server, name, view):
    page = open_stage(context_page, live_server, "/pool", POOL_SIZES[name], view)
    assert page.locator("[data-stage] .picture-stage").count() == 1
    for part in ("input", "kernel", "output"):
        width, height = page.evaluate(ON_SCREEN, part)
        assert width >= SEEN and height >= SEEN, f"/pool {name} at {view}: {part} shows {width:.0f}×{height:.0f} px"
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 1  # nothing scrolls sideways
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"real-pool-{name}-{view}.png"))


def pool_lens(page, query: str, step: int):
    """The lens shows output ``step`` of every written channel: each line's value is the core's (pool_step)."""
    op, x, y = pool_engine(query)
    at = tuple(int(v) for v in np.unravel_index(step, y.shape[1:]))
    expect(page.locator("#arith-title")).to_have_text(f"Output {list(at)} of every channel, written out")
    core = pool_step(x[:8], op, at)
    lines = page.locator("#arith-lines li").all_inner_texts()
    assert len(lines) == len(core.channels)
    for line, ch in zip(lines, core.channels):
        assert num(re.search(r"= ([^=,]*?)(, at input|$)", line).group(1)) == pytest.approx(ch.value, abs=0.006)


@pytest.mark.parametrize("name, out", [("cifar", (12, 9)), ("resnet", (20, 25)), ("embedding", (80,))])
def test_pool_the_lens_follows_the_pointer_the_click_and_the_keys(context_page, live_server, name, out):
    query = POOL_SIZES[name]
    page = open_stage(context_page, live_server, "/pool", query)
    shape = pool_engine(query)[2].shape[1:]
    pool_lens(page, query, 0)
    step = int(np.ravel_multi_index(out, shape))  # outside the played block: the server's lens
    box = page.locator("#output-pic").bounding_box()
    x = box["x"] + (out[-1] + 0.5) * box["width"] / shape[-1]
    y = box["y"] + ((out[0] + 0.5) * box["height"] / shape[0] if len(shape) > 1 else box["height"] / 2)
    page.mouse.move(x, y)
    pool_lens(page, query, step)
    assert "step=" not in here(page)
    page.mouse.move(1, 1)
    pool_lens(page, query, 0)
    page.mouse.click(x, y)  # a click goes to that step (the fragment of its block)
    expect(page.locator("#step-label")).to_contain_text(f"{step} of {int(np.prod(shape))}")
    page.wait_for_function(PICTURES_LOADED)
    page.mouse.move(1, 1)
    pool_lens(page, query, step)
    page.locator("#output-frame").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#step-label")).to_contain_text(f"{step + 1} of")
    pool_lens(page, query, step + 1)


def test_pool_the_deck_focuses_a_channel_in_and_out_and_playing_moves_the_window(context_page, live_server):
    page = open_stage(context_page, live_server, "/pool", POOL_SIZES["resnet"])
    page.locator("[data-part=input] .thumb[data-channel='5']").click()
    expect(page.locator("#input-pic")).to_have_attribute("src", re.compile(r"part=input&c=5$"))
    expect(page.locator("#output-pic")).to_have_attribute("src", re.compile(r"part=output&c=5$"))
    before = page.locator("#window-boxes span").first.get_attribute("style")
    page.locator("#step-forward").click()
    expect(page.locator("#step-label")).to_contain_text("1 of 784")
    assert page.locator("#window-boxes span").first.get_attribute("style") != before
    pool_lens(page, POOL_SIZES["resnet"], 1)
    answer = page.request.get(page.url, headers={"HX-Request": "true"})
    assert answer.ok and len(gzip.compress(answer.body())) <= FRAGMENT_GZIP


# ---------------------------------------------------------------- /transposed (tests/web/test_transposed_picture.py)

@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("name", sorted(TRANSPOSED_SIZES))
def test_transposed_the_three_parts_show_on_the_first_screen(context_page, live_server, name, view):
    page = open_stage(context_page, live_server, "/transposed", TRANSPOSED_SIZES[name], view)
    assert page.locator("[data-stage] .picture-stage").count() == 1
    for part in ("input", "kernel", "output"):
        width, height = page.evaluate(ON_SCREEN, part)
        assert width >= SEEN and height >= SEEN, f"/transposed {name} at {view}: {part} shows {width:.0f}×{height:.0f}"
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 1
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"real-transposed-{name}-{view}.png"))


def stamp_lens(page, query: str, step: int):
    """The lens shows scatter step ``step``: its input value and what it adds (value × its kernel into output 0)."""
    op, x, w, b, y = transposed_engine(query)
    c, at = divmod(step, int(np.prod(x.shape[1:])))
    pos = tuple(int(v) for v in np.unravel_index(at, x.shape[1:]))
    expect(page.locator("#stamp-text")).to_contain_text(f"x[{c}, {', '.join(map(str, pos))}] = ")
    adds = [num(t) for t in page.locator("#stamp td[id^='k-']").all_inner_texts()]
    assert adds == pytest.approx((float(x[(c, *pos)]) * w[c, 0].astype(np.float64)).ravel().tolist(), abs=0.006)


def test_transposed_the_lens_follows_the_pointer_on_the_input_the_click_the_keys_and_the_deck(context_page, live_server):
    query = TRANSPOSED_SIZES["dcgan"]  # 32 channels of 28×28: steps are input values, channel by channel
    page = open_stage(context_page, live_server, "/transposed", query)
    stamp_lens(page, query, 0)
    box = page.locator("#input-pic").bounding_box()
    at = lambda r, c: (box["x"] + (c + 0.5) * box["width"] / 28, box["y"] + (r + 0.5) * box["height"] / 28)  # noqa: E731
    page.mouse.move(*at(20, 9))  # far outside the played block: the server's lens
    stamp_lens(page, query, 20 * 28 + 9)
    assert "step=" not in here(page)
    page.mouse.move(1, 1)
    stamp_lens(page, query, 0)
    page.locator("[data-part=input] .thumb[data-channel='3']").click()  # channel 3: its picture, its kernel
    expect(page.locator("#input-pic")).to_have_attribute("src", re.compile(r"part=input&c=3$"))
    expect(page.locator(".kernel-card[data-channel='3']")).to_be_visible()
    page.mouse.click(*at(5, 6))  # a click on channel 3's picture goes to that step
    step = 3 * 784 + 5 * 28 + 6
    expect(page.locator("#step-label")).to_contain_text(f"{step} of 25088: x[3, 5, 6]")
    page.wait_for_function(PICTURES_LOADED)
    page.mouse.move(1, 1)
    stamp_lens(page, query, step)
    page.locator("#input-frame").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#step-label")).to_contain_text(f"{step + 28} of 25088: x[3, 6, 6]")
    stamp_lens(page, query, step + 28)
    page.locator("#step-forward").click()
    expect(page.locator("#step-label")).to_contain_text(f"{step + 29} of")
    stamp_lens(page, query, step + 29)
    answer = page.request.get(page.url, headers={"HX-Request": "true"})
    assert answer.ok and len(gzip.compress(answer.body())) <= FRAGMENT_GZIP
