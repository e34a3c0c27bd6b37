"""Numbers as the pages print them: formatted once, in Python, and in step with static/explore.js."""
from __future__ import annotations

import numpy as np


def fmt(v: float) -> str:
    """Two decimals at most, no trailing zeros, a real minus sign (static/player.js: fmt)."""
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace("-", "−")


def term(x: float, w: float) -> str:
    """One product of the arithmetic, negatives in parentheses (static/player.js: term)."""
    wrap = lambda v: f"({fmt(v)})" if fmt(v).startswith("−") else fmt(v)  # noqa: E731
    return f"{wrap(x)}×{wrap(w)}"


def grid(values: np.ndarray, prefix: str, classes: np.ndarray | None = None) -> list:
    """Depth slices -> rows -> cells {id, text, cls}: the shape every grid macro draws (1D/2D/3D)."""
    vol = values.reshape((1,) * (3 - values.ndim) + values.shape)
    cls = None if classes is None else classes.reshape(vol.shape)
    texts = np.vectorize(fmt, otypes=[object])(vol)
    flat = np.arange(vol.size).reshape(vol.shape)
    return [[[{"id": f"{prefix}{flat[z, y, x]}", "text": texts[z, y, x], "cls": "" if cls is None else cls[z, y, x]}
              for x in range(vol.shape[2])] for y in range(vol.shape[1])] for z in range(vol.shape[0])]
