"""What the browser plays is what the server renders: each view's data attribute carries every step
already written (texts, lit cells), made by the functions that render ?step=n, so the two cannot drift.
Here every played step is compared with the server's own page for ?step=n; and no script under static/
formats a number or does window index arithmetic in the played views or /image's lens any more (issue 12,
part 4; the lens's fragment against the page: tests/web/test_image.py)."""
import re
from pathlib import Path

import pytest

from tests.web import page
from tests.web.page import get, plain, section

STATIC = Path(__file__).resolve().parents[2] / "static"


def inline(fragment: str) -> str:
    """Text as read: inline tags dropped without adding space."""
    return plain(re.sub(r"<[^>]+>", "", fragment)) if "<" in fragment else plain(fragment)


def items(text: str, element_id: str) -> list[str]:
    return [inline(li) for li in re.findall(r"<li[^>]*>(.*?)</li>", section(text, element_id), re.DOTALL)]


def steps_to_check(total: int) -> list[int]:
    return sorted({0, 1 % total, total // 2, total - 1})


# ---------------------------------------------------------------- /pool

POOL = [
    "/pool?type=MaxPool2d&kernel_size=3&stride=2&padding=1&input_shape=1,3,7,7&seed=5",
    "/pool?type=MaxPool1d&kernel_size=2&ceil_mode=true&input_shape=1,2,7",
    "/pool?type=AvgPool1d&kernel_size=3&stride=2&padding=1&ceil_mode=true&input_shape=1,2,8",
    "/pool?type=AvgPool1d&kernel_size=3&stride=2&padding=1&count_include_pad=false&input_shape=1,2,8",
    "/pool?type=AvgPool2d&kernel_size=2&padding=1&divisor_override=5&input_shape=1,1,5,5",
    "/pool?framework=keras&type=AveragePooling2D&pool_size=2&padding=same&input_shape=1,5,5,2",
    "/pool?type=MaxPool2d&kernel_size=2,3&stride=1,2&dilation=2,1&padding=1&input_shape=1,2,7,8&seed=3",
    "/pool?type=MaxPool1d&kernel_size=2&input_shape=1,1,6&seed=4",  # ties are likely among few values
]


@pytest.mark.parametrize("url", POOL)
def test_pool_plays_what_the_server_renders_for_each_step(client, url):
    d = page.data(get(client, url).text, "pool")
    T = d["texts"]
    for step in steps_to_check(len(d["steps"])):
        r = get(client, f"{url}&step={step}")
        st = d["steps"][step - d["first"]]  # named fields (app/routes/stage.py: Played)
        lit, winners = st["cells"], st["winners"]
        assert T[st["label"]] == plain(section(r.text, "step-label"))
        assert T[st["title"]] == plain(section(r.text, "arith-title"))
        assert T[st["why"]] == plain(section(r.text, "arith-why"))
        played = ["".join(T[st[k][c]] for k in ("heads", "values", "afters")) for c in range(d["channels"])]
        assert [plain(p) for p in played] == items(r.text, "arith-lines")
        drawn = page.cells(r.text, "x0-")
        assert lit and all(cell in drawn for cell in lit)  # the window's cells are drawn cells
        for c, cell in enumerate(winners):  # each maximum is the drawn cell holding the line's value
            if cell >= 0:
                assert cell in lit and page.cells(r.text, f"x{c}-")[cell] == T[st["values"][c]]


# ---------------------------------------------------------------- the scripts

PLAYED = ("pool.js", "explore.js", "pointwise.js", "transposed.js")  # the views that play server-written steps
SERVED = (*PLAYED, "image.js", "player.js")  # and the lens that swaps in the server's fragment, and the shared module


@pytest.mark.parametrize("name", SERVED)
def test_no_script_formats_numbers_or_does_window_arithmetic(name):
    """The scripts look up or swap in what the server wrote: no number formatting, no window index arithmetic
    (stride, dilation, padding), no sums of products, and the shared module has no formatting or index helpers."""
    banned = [r"toFixed", r"toPrecision", r"toLocaleString", r"Intl\.", r"\bfmt\b", r"\bcellText\b", r"\bterm\(",
              r"\bwrap\(", r"\bunravel\b", r"\bravel\b", r"\bprod\(", r"\*\s*d\.(stride|dilation)", r"d\.padding\[",
              r"\.(stride|dilation|pad|padded)\b", r"\bsum\s*\+=", r"Math\.floor\(\s*\w+\s*/"]
    found = [b for b in banned if re.search(b, (STATIC / name).read_text())]
    assert not found, found


def test_the_shared_module_offers_no_formatting_or_index_helpers():
    shared = (STATIC / "player.js").read_text()
    assert not [name for name in ("fmt", "wrap", "term", "unravel", "ravel", "prod") if re.search(rf"\b{name}\b", shared)]


# ---------------------------------------------------------------- /explore

EXPLORE = [
    "/explore?framework=torch&type=Conv2d&in_channels=3&out_channels=4&kernel_size=3,2&stride=2&padding=1"
    "&dilation=2&input_shape=1,3,9,8&activation=relu&f=2",
    "/explore?framework=keras&type=Conv1D&filters=3&kernel_size=4&padding=same&input_shape=1,7,2&seed=4",
    "/explore?framework=keras&type=Conv3D&filters=2&kernel_size=2&strides=2&input_shape=1,5,4,5,2&f=1",
    "/explore?framework=torch&type=Conv1d&in_channels=12&out_channels=2&kernel_size=2&input_shape=1,12,5",
    "/explore?framework=torch&type=Conv2d&in_channels=4&out_channels=4&groups=2&kernel_size=3&input_shape=1,4,5,5&f=3",
]


def explore_step(d: dict, step: int) -> dict:
    T = d["texts"]
    label, title, lines, total = d["steps"][step - d["first"]]
    return {"label": T[label], "title": T[title],
            "lines": [T[lines[i]] + T[lines[i + 1]] for i in range(0, len(lines), 2)],
            "total": "".join(T[i] for i in total)}


def explore_checked(client, url: str, d: dict, step: int):
    r = get(client, f"{url}&step={step}")
    played = explore_step(d, step)
    assert played["label"] == plain(section(r.text, "step-label"))
    assert played["title"] == plain(re.search(r'id="arith".*?<h3>(.*?)</h3>', r.text, re.DOTALL).group(1))
    assert [plain(t) for t in played["lines"]] == items(r.text, "arith-lines")
    assert plain(played["total"]) == plain(section(r.text, "arith-total"))
    # the window: every drawn channel's lit cells are drawn cells, one per kernel tap
    window = [d["origins"][step] + o for o in d["offsets"]]
    for c in d["channels"]:
        drawn = page.cells(r.text, f"x{c}-")
        assert all(cell in drawn for cell in window)
        assert len(page.cells(r.text, f"w{c}-")) == len(d["offsets"])
    # and each product of channel c's line reads the cell the window lights there
    c = d["channels"][0]
    drawn = page.cells(r.text, f"x{c}-")
    terms = items(r.text, "arith-lines")[0].split(": ", 1)[1].rsplit(" = ", 1)[0].split(" + ")
    assert [t.split("×")[0].strip("()") for t in terms] == [drawn[cell].strip("()") for cell in window]


@pytest.mark.parametrize("url", EXPLORE)
def test_explore_plays_what_the_server_renders_for_each_step(client, url):
    d = page.data(get(client, url).text, "explore")
    assert d["first"] == 0 and len(d["steps"]) == d["total"] == len(d["origins"])  # small layers: every step
    for step in steps_to_check(d["total"]):
        explore_checked(client, url, d, step)


def test_a_large_explore_layer_plays_in_blocks_each_written_by_the_server(client):
    """Too many products to write out every step in one fragment: the fragment holds the block of steps
    around ?step=n, and the fragment for a step of another block holds that block."""
    from app.routes.explore import PLAYED_TERMS

    url = ("/explore?framework=torch&type=Conv2d&in_channels=8&out_channels=2&kernel_size=7&padding=4"
           "&input_shape=1,8,6,6")  # still drawn as numbers (padded 14×14): the largest such layer with blocks
    d = page.data(get(client, url).text, "explore")
    total, block = d["total"], len(d["steps"])
    assert total == 8 * 8 and d["first"] == 0 and 1 <= block < total and block * 49 * 8 <= PLAYED_TERMS < (block + 1) * 49 * 8
    for step in (0, block - 1, block, total - 1):
        there = page.data(get(client, f"{url}&step={step}").text, "explore")
        assert there["first"] <= step < there["first"] + len(there["steps"]) and there["first"] % block == 0
        explore_checked(client, url, there, step)


# ---------------------------------------------------------------- /pointwise

POINTWISE = [
    "/pointwise?framework=torch&type=Conv1d&in_channels=4&out_channels=3&kernel_size=1&input_shape=1,4,6",
    "/pointwise?framework=torch&type=Conv1d&in_channels=4&out_channels=3&kernel_size=1&input_shape=1,4,6"
    "&activation=relu&seed=11",
    "/pointwise?framework=keras&type=Conv1D&filters=3&kernel_size=1&activation=tanh&use_bias=false&input_shape=1,6,4",
    "/pointwise?framework=keras&type=Conv1D&filters=64&kernel_size=1&activation=relu&input_shape=2,10,100",
    "/pointwise?framework=torch&type=Conv1d&in_channels=20&out_channels=17&kernel_size=1&input_shape=3,20,9&seed=5",
]


def lit_cells(text: str, prefix: str) -> list[int]:
    return sorted(int(i) for i, cls in re.findall(rf'<td id="{prefix}(\d+)" class="([^"]*)"', text) if "lit" in cls)


@pytest.mark.parametrize("url", POINTWISE)
def test_pointwise_plays_what_the_server_renders_for_each_step(client, url):
    d = page.data(get(client, url).text, "pointwise")
    T = d["texts"]
    for step in steps_to_check(len(d["steps"])):
        r = get(client, f"{url}&step={step}")
        label, xs, ys, lines, side = d["steps"][step]
        assert T[label] == plain(section(r.text, "step-label"))
        assert xs == lit_cells(r.text, "x-") and ys == lit_cells(r.text, "y-")  # the columns the server marks
        played = ["".join(T[i] for i in lines[k:k + 4]) for k in range(0, len(lines), 4)]
        assert [plain(p) for p in played] == items(r.text, "arith-lines")
        assert [T[i] for i in side] == [plain(section(r.text, f"{kind}-{o}")) for o in range(len(side) // 2)
                                        for kind in ("conv", "dense")]


# ---------------------------------------------------------------- /transposed

TRANSPOSED = [
    "/transposed?framework=torch&type=ConvTranspose2d&in_channels=2&out_channels=2&kernel_size=3&stride=2"
    "&padding=1&output_padding=1&input_shape=1,2,3,3",
    "/transposed?framework=torch&type=ConvTranspose2d&in_channels=2&out_channels=3&kernel_size=3,2&stride=2,3"
    "&dilation=1,2&padding=0,1&input_shape=1,2,3,2&o=2",
    "/transposed?framework=keras&type=Conv1DTranspose&filters=2&kernel_size=3&strides=2&padding=same&input_shape=1,4,2",
    "/transposed?framework=torch&type=ConvTranspose1d&in_channels=3&out_channels=3&groups=3&kernel_size=2"
    "&dilation=2&bias=false&input_shape=1,3,5&o=1",
]


def classed(text: str, prefix: str, cls: str) -> list[int]:
    return sorted(int(i) for i, c in re.findall(rf'<td id="{prefix}(\d+)" class="([^"]*)"', text) if cls in c.split())


def rich_text(pieces: list[dict], T: list[str]) -> str:
    return "".join(T[p["text"]] for p in pieces)


@pytest.mark.parametrize("url", TRANSPOSED)
def test_transposed_plays_what_the_server_renders_for_each_step_and_window(client, url):
    d = page.data(get(client, url).text, "transposed")
    S, D = d["scatter_texts"], d["direct_texts"]
    canvas = {i: S[d["canvas0"]] for i in range(len(page.cells(get(client, url).text, "s-")))}
    out = {k: S[d["y0"]] for k in range(len(d["window"]))}
    for step, st in enumerate(d["scatter"]):  # named fields (app/routes/stage.py: Played)
        label, stamp, (ch, i), contrib, stamped = st["label"], st["stamp"], st["input"], st["contribs"], st["stamped"]
        for cell, text in zip(st["canvas_cells"], st["canvas_texts"]):  # the texts as the browser replays them
            canvas[cell] = S[text]
        for cell, text in zip(st["out_cells"], st["out_texts"]):
            out[cell] = S[text]
        if step not in steps_to_check(len(d["scatter"])):
            continue
        r = get(client, f"{url}&step={step}")
        assert S[label] == plain(section(r.text, "step-label"))
        assert plain(rich_text(stamp, S)) == plain(section(r.text, "stamp-text"))
        assert [S[t] for t in contrib] == [t for _, t in sorted(page.cells(r.text, "k-").items())]
        assert canvas == page.cells(r.text, "s-") and out == page.cells(r.text, "y-")
        assert sorted(stamped) == classed(r.text, "s-", "lit") and [i] == classed(r.text, f"x{ch}-", "lit")
        assert [k for k, last in enumerate(d["last"]) if last > step] == classed(r.text, "y-", "pending")
    for pos in steps_to_check(len(d["direct"])):
        r = get(client, f"{url}&pos={pos}")
        w = d["direct"][pos]
        label, title, cells, lines, total = w["label"], w["title"], w["cells"], w["lines"], w["total"]
        assert D[label] == plain(section(r.text, "pos-label"))
        assert D[title] == plain(section(r.text, "direct-title-pos"))
        assert [plain(rich_text(line, D)) for line in lines] == items(r.text, "direct-lines")
        server_zero = [re.findall(r'<span( class="zero")?>', li) for li in
                       re.findall(r"<li>(.*?)</li>", section(r.text, "direct-lines"), re.DOTALL)]
        assert [[bool(z) for z in spans] for spans in server_zero] == [
            [p["kind"] == "zero" for p in line if p["kind"] in ("product", "zero")] for line in lines]
        assert plain(rich_text(total, D)) == plain(section(r.text, "direct-total"))
        for c in d["channels"]:
            assert sorted(set(cells)) == classed(r.text, f"d{c}-", "lit")
