"""Numbers and texts as the pages print them: formatted once, in Python. The browser plays steps from
what these write (each view's data attribute); it formats nothing itself."""
from __future__ import annotations

import re

import numpy as np
from markupsafe import Markup, escape

_SPECIAL = re.compile("[<>&\"']")  # what HTML escaping changes
_FORMATTED: dict[float, str] = {}  # fmt's answers: the views' values repeat (integers, tenths and their sums)


def fmt(v: float) -> str:
    """Two decimals at most, no trailing zeros, a real minus sign."""
    text = _FORMATTED.get(v)
    if text is None:
        text = f"{v:.2f}".rstrip("0").rstrip(".")
        text = "0" if text in ("-0", "") else text.replace("-", "−")
        if len(_FORMATTED) < 100_000:
            _FORMATTED[v] = text
    return text


def shape_text(dims) -> str:
    """A shape as Python prints a tuple, a named axis bare: what the lessons write, never a list's repr.

    >>> shape_text(["batch", 10, 64]), shape_text([1, 100, 64]), shape_text([32])
    ('(batch, 10, 64)', '(1, 100, 64)', '(32,)')
    """
    items = [str(d) for d in dims]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def fmts(values: np.ndarray, factors: bool = False) -> list[str]:
    """fmt of every value, in the array's (row-major) order (``factors``: as factors of a product). The texts
    already written are read from fmt's (fmt_factor's) memory in one pass; only the others are written.

    >>> fmts(np.array([[0.5, -0.004], [0.5, 2.0]], np.float32)), fmts(np.array([-1.5, 2]), factors=True)
    (['0.5', '0', '0.5', '2'], ['(−1.5)', '2'])
    """
    numbers = np.asarray(values).ravel().tolist()
    known, write = (_FACTORS, fmt_factor) if factors else (_FORMATTED, fmt)
    texts = list(map(known.get, numbers))
    if None in texts:
        texts = [write(v) if t is None else t for t, v in zip(texts, numbers)]
    return texts


_FACTORS: dict[float, str] = {}


def fmt_factor(v: float) -> str:
    """factor(fmt(v)), remembered: a product's factor (a negative one in parentheses).

    >>> fmt_factor(-0.5), fmt_factor(2.0)
    ('(−0.5)', '2')
    """
    text = _FACTORS.get(v)
    if text is None:
        text = factor(fmt(v))
        if len(_FACTORS) < 100_000:
            _FACTORS[v] = text
    return text


def factor(text: str) -> str:
    """A formatted number as a factor of a product: a negative one in parentheses."""
    return f"({text})" if text.startswith("−") else text


def term(x: float, w: float) -> str:
    """One product of the arithmetic, negatives in parentheses."""
    return f"{fmt_factor(x)}×{fmt_factor(w)}"


def grid(values: np.ndarray, prefix: str, classes: np.ndarray | None = None) -> list:
    """Depth slices -> rows -> cells {id, text, cls}: the shape grid_html draws (1D/2D/3D)."""
    vol = values.reshape((1,) * (3 - values.ndim) + values.shape)
    cls = None if classes is None else classes.reshape(vol.shape)
    texts = fmts(vol)
    classes = [""] * vol.size if cls is None else cls.ravel().tolist()
    depth, rows, cols = vol.shape
    return [[[{"id": f"{prefix}{i}", "text": texts[i], "cls": classes[i]} for i in range(row, row + cols)]
             for row in range(z * rows * cols, (z + 1) * rows * cols, cols)] for z in range(depth)]


def grid_html(slices: list, label: str, focusable: bool = False, ruler: list | None = None) -> Markup:
    """A grid of numbers as HTML (the templates call it as ``grid``): a table per
    depth slice, a cell per value with its id, class and text, escaped; ``focusable`` cells are in the tab
    order; ``ruler`` (one list of labels per axis): the positions above the columns and, in 2D/3D, beside the
    rows. Written here rather than in the template: a grid is the most cells a page has.

    >>> print(grid_html(grid(np.array([[1.0, -2.5]]), "y-"), "output", focusable=True))
    <BLANKLINE>
    <div class="slices" role="group" aria-label="output">
    <BLANKLINE>
      <table class="grid">
    <BLANKLINE>
        <tr><td id="y-0" tabindex="0">1</td><td id="y-1" tabindex="0">−2.5</td></tr>
    <BLANKLINE>
      </table>
    <BLANKLINE>
    </div>
    <BLANKLINE>
    >>> print(grid_html(grid(np.array([[1.0, 2.0]]), "x-"), "input", ruler=[["0"], ["−1", "0"]]).strip())
    <div class="slices" role="group" aria-label="input">
    <BLANKLINE>
      <table class="grid">
        <tr class="ruler"><td class="corner"></td><th scope="col">−1</th><th scope="col">0</th></tr>
        <tr><th scope="row">0</th><td id="x-0">1</td><td id="x-1">2</td></tr>
    <BLANKLINE>
      </table>
    <BLANKLINE>
    </div>
    """
    tab = ' tabindex="0"' if focusable else ""
    escaped: dict[str, str] = {}  # a grid's texts and classes repeat: each escaped once
    # numbers, ids and classes need no escaping: checked once for the whole grid, not cell by cell
    plain = not _SPECIAL.search("".join(c["id"] + c["text"] + c["cls"] for rows in slices for row in rows for c in row))

    def html(text: str) -> str:
        if text not in escaped:
            escaped[text] = str(escape(text))
        return escaped[text]

    out = [f'\n<div class="slices" role="group" aria-label="{escape(label)}">\n  ']
    beside = ruler[-2] if ruler and len(ruler) > 1 else None
    above = "" if not ruler else ('<tr class="ruler">' + ('<td class="corner"></td>' if beside else "")
                                  + "".join(f'<th scope="col">{html(str(i))}</th>' for i in ruler[-1]) + "</tr>")
    for z, rows in enumerate(slices):
        caption = f"<caption>depth {z}</caption>" if len(slices) > 1 else ""
        out.append(f'\n  <table class="grid">\n    {caption}{above}\n    ')
        for r, row in enumerate(rows):
            out.append("<tr>" if beside is None else f'<tr><th scope="row">{html(str(beside[r]))}</th>')
            if plain:
                out.append("".join(f'<td id="{c["id"]}" class="{c["cls"]}"{tab}>{c["text"]}</td>' if c["cls"] else
                                   f'<td id="{c["id"]}"{tab}>{c["text"]}</td>' for c in row))
            else:
                for c in row:
                    cls = f' class="{html(c["cls"])}"' if c["cls"] else ""
                    out.append(f'<td id="{html(c["id"])}"{cls}{tab}>{html(c["text"])}</td>')
            out.append("</tr>\n    ")
        out.append("\n  </table>\n  ")
    out.append("\n</div>\n")
    return Markup("".join(out))


class Strings:
    """A table of distinct strings for a view's data attribute: each text is sent once and the steps
    refer to it by index, so a sentence shared by many steps costs one number per step.

    >>> t = Strings(); [t("a"), t("b"), t("a")], t.table
    ([0, 1, 0], ['a', 'b'])
    """

    def __init__(self) -> None:
        self._index: dict[str, int] = {}  # in the order first seen: the table

    def __call__(self, text: str) -> int:
        return self._index.setdefault(text, len(self._index))

    @property
    def table(self) -> list[str]:
        return list(self._index)
