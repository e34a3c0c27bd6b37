"""Arrays -> plotly figure JSON as plain dicts (10× faster than plotly.graph_objects; tests
validate these dicts with plotly.py's own validators)."""
from __future__ import annotations

import math

import numpy as np

FONT = {"family": "system-ui, sans-serif", "size": 11}


def as_2d(a: np.ndarray) -> np.ndarray:
    """1D -> one row; 2D as is; 3D -> its depth slices side by side, a NaN column between them."""
    if a.ndim == 1:
        return a[None, :]
    if a.ndim == 2:
        return a
    gap = np.full((a.shape[1], 1), np.nan)
    parts = []
    for i, s in enumerate(a):
        parts += [s, gap] if i < len(a) - 1 else [s]
    return np.hstack(parts)


def heatmap_grid(panels: list[tuple[str, np.ndarray]], cols: int, *, cell_px: int = 22,
                 colorscale: str = "RdBu", symmetric: bool = True) -> dict:
    """One figure of small heatmaps in a grid (row-major), sharing one colour scale.

    Sizes are laid out in pixels (a title band over each panel), then turned into plotly's
    paper fractions. Row 0 of every array is drawn at the top, as the numbers are printed.
    """
    rows = math.ceil(len(panels) / cols)
    zs = [as_2d(np.asarray(a, dtype=np.float64)) for _, a in panels]
    plot_h = max(z.shape[0] for z in zs) * cell_px
    plot_w = max(max(z.shape[1] for z in zs) * cell_px, 40)
    title_px, pad_px = 30 if any("<br>" in t for t, _ in panels) else 18, 14
    panel_w, panel_h = max(plot_w, 120) + pad_px, plot_h + title_px + pad_px
    width, height = cols * panel_w + 80, rows * panel_h
    lo = float(np.nanmin([np.nanmin(z) for z in zs]))
    hi = float(np.nanmax([np.nanmax(z) for z in zs]))
    if symmetric:
        hi = max(abs(lo), abs(hi), 1e-9)
        lo = -hi
    data, annotations, layout = [], [], {}
    for i, ((title, _), z) in enumerate(zip(panels, zs)):
        r, c = divmod(i, cols)
        axis = "" if i == 0 else str(i + 1)
        left = c * panel_w + (panel_w - plot_w) / 2
        top = r * panel_h + title_px
        domain_x = [left / width, (left + plot_w) / width]
        domain_y = [1 - (top + plot_h) / height, 1 - top / height]
        data.append({"type": "heatmap", "z": np.where(np.isnan(z), None, z).tolist(), "coloraxis": "coloraxis",
                     "xaxis": f"x{axis}", "yaxis": f"y{axis}", "xgap": 1, "ygap": 1,
                     "hovertemplate": f"{title}<br>row %{{y}}, col %{{x}}: %{{z:.3f}}<extra></extra>"})
        hidden = {"showticklabels": False, "showgrid": False, "zeroline": False, "ticks": ""}
        layout[f"xaxis{axis}"] = {**hidden, "domain": domain_x, "anchor": f"y{axis}"}
        layout[f"yaxis{axis}"] = {**hidden, "domain": domain_y, "anchor": f"x{axis}", "autorange": "reversed"}
        annotations.append({"text": title, "showarrow": False, "xref": "paper", "yref": "paper",
                            "x": sum(domain_x) / 2, "y": domain_y[1], "xanchor": "center", "yanchor": "bottom",
                            "font": {**FONT, "size": 10}})
    layout.update({
        "annotations": annotations, "font": FONT, "width": width, "height": height,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0}, "paper_bgcolor": "rgba(0,0,0,0)",
        "coloraxis": {"colorscale": colorscale, "cmin": lo, "cmax": hi,
                      "colorbar": {"thickness": 10, "len": min(1, 200 / height), "x": 1, "xanchor": "right"}},
    })
    return {"data": data, "layout": layout}
