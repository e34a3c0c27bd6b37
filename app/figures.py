"""Arrays -> plotly figure JSON as plain dicts (10× faster than plotly.graph_objects; tests
validate these dicts with plotly.py's own validators)."""
from __future__ import annotations

import math

import numpy as np

from .core.cost import Cost, Machine
from .core.groups import group_blocks, group_of
from .core.ops import PoolOp
from .core.shapes import effective_kernel

COLOURS = 8  # group colours cycle through static/groups.css .g0 … .g7
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


# ---------------------------------------------------------------- groups: channels wired by a grouped conv

def _spread(n: int, top: float, height: float) -> list[int]:
    """n node positions centred in equal slots over [top, top + height], in whole pixels (slots are ≥ 3.6 px,
    so no two nodes share one; short numbers keep the thousands of edge paths small)."""
    return [round(top + (i + 0.5) * height / n) for i in range(n)]


EDGES_DRAWN = 2_048  # more pairs than this in a stage: each group is one band (its inputs all join its outputs)
NODES_DRAWN = 128  # more channels than this in a column: a bar labelled at its ends instead of one dot each


def _band(x0: float, x1: float, ins: range, outs: range, top: float, height: float, n_in: int, n_out: int) -> str:
    """The band of one group: from its input channels' span on the left to its outputs' span on the right."""
    a, b = (round(top + i * height / n_in, 1) for i in (ins[0], ins[-1] + 1))
    c, d = (round(top + o * height / n_out, 1) for o in (outs[0], outs[-1] + 1))
    return f"M{x0} {a}L{x1} {c}L{x1} {d}L{x0} {b}Z"


def connection_graph(columns: list[tuple[str, int]], stages: list[tuple[str, int]]) -> dict:
    """Channels as nodes in columns (left to right) and one edge per (input, output) pair a weight
    connects: an output channel of a stage with G groups reads the input channels of its group only.
    A stage with more than EDGES_DRAWN pairs (or a column of more than NODES_DRAWN channels) draws each
    group as one band instead, and a column of more than NODES_DRAWN channels is a bar: a real-size
    layer stays a picture of a few hundred pixels and a few kilobytes.

    >>> g = connection_graph([("in", 4), ("out", 8)], [("groups=2", 2)])
    >>> g["edge_count"], [e["count"] for e in g["edges"]], g["banded"]
    (16, [8, 8], False)
    >>> g = connection_graph([("in", 512), ("out", 1024)], [("groups=512", 512)])
    >>> g["edge_count"], len(g["edges"]), g["banded"], g["height"], [c["bar"] is not None for c in g["columns"]]
    (1024, 512, True, 524, [True, True])
    """
    most = max(n for _, n in columns)
    gap = 28 if most <= 16 else 460 / most  # readable labels when small; 460 px from 17 channels up
    top, height, step, left = 34, most * gap, 250, 110
    xs = [left + i * step for i in range(len(columns))]
    ys = [_spread(n, top, height) for _, n in columns]
    groups = [g for _, g in stages]
    node_groups = [group_of(columns[0][1], groups[0])] + [group_of(n, g) for (_, n), g in zip(columns[1:], groups)]
    cols = []
    for c, ((title, n), x, y) in enumerate(zip(columns, xs, ys)):
        labelled = range(n) if n <= 16 else (0, n - 1)
        side = "start" if c == len(columns) - 1 else "end"
        drawn = n <= NODES_DRAWN
        cols.append({"title": title, "n": n, "x": x, "r": min(6.0, gap / 2.6), "anchor": side,
                     "label_dx": 10 if side == "start" else -10,
                     "bar": None if drawn else {"y": top, "h": round(height, 1)},
                     "nodes": [{"c": i, "y": y[i], "group": node_groups[c][i] % COLOURS, "label": i in labelled}
                               for i in range(n) if drawn or i in labelled]})
    edges, labels, banded = [], [], False
    for s, (name, g) in enumerate(stages):
        n_in, n_out = columns[s][1], columns[s + 1][1]
        band = n_out * (n_in // g) > EDGES_DRAWN or max(n_in, n_out) > NODES_DRAWN
        banded |= band
        opacity = round(min(0.9, max(0.12, 1.8 / math.sqrt(n_in // g))), 2)  # many edges into one node: fainter
        for grp, (ins, outs) in enumerate(group_blocks(n_in, n_out, g)):
            if band:
                d = _band(xs[s] + 7, xs[s + 1] - 7, ins, outs, top, height, n_in, n_out)
            else:
                d = "".join(f"M{xs[s] + 7} {ys[s][i]}L{xs[s + 1] - 7} {ys[s + 1][o]}" for o in outs for i in ins)
            edges.append({"stage": s, "group": grp, "colour": grp % COLOURS, "d": d, "count": len(ins) * len(outs),
                          "opacity": 0.45 if band else opacity, "band": band})
        labels.append({"x": (xs[s] + xs[s + 1]) / 2, "text": name})
    bottom = top + height + 22
    return {"width": xs[-1] + 90, "height": round(bottom + 8), "label_y": round(bottom), "columns": cols,
            "edges": edges, "stage_labels": labels, "edge_count": sum(e["count"] for e in edges), "banded": banded,
            "top": top, "span": round(height, 1)}


def connection_matrix(n_in: int, n_out: int, groups: int) -> dict:
    """The C_out × C_in matrix of (output, input) pairs with a weight: one coloured block per group.

    Cells are square (at most ~220 px a side) unless that would leave one side under 48 px (3 inputs
    against 1,024 outputs): then that side's cells are wider, so the matrix can still be seen.

    >>> m = connection_matrix(3, 1024, 1)
    >>> m["w"], m["h"], m["blocks"][0]["w"] * m["blocks"][0]["h"] == m["w"] * m["h"]
    (48.0, 220.0, True)
    """
    cell = min(22.0, 220 / max(n_in, n_out))
    cw, ch = (min(22.0, max(cell, 48 / n)) for n in (n_in, n_out))
    blocks = [{"x": round(ins[0] * cw, 4), "y": round(outs[0] * ch, 4), "w": round(len(ins) * cw, 4),
               "h": round(len(outs) * ch, 4), "colour": grp % COLOURS}
              for grp, (ins, outs) in enumerate(group_blocks(n_in, n_out, groups))]
    lines = min(cw, ch) >= 6  # cell borders only where they stay visible
    return {"cell": cell, "w": round(n_in * cw, 3), "h": round(n_out * ch, 3), "blocks": blocks,
            "rows": [round(i * ch, 1) for i in range(1, n_out)] if lines else [],
            "cols": [round(i * cw, 1) for i in range(1, n_in)] if lines else [],
            "n_in": n_in, "n_out": n_out, "groups": groups, "pairs": n_out * (n_in // groups)}


def pool_line_figure(x: np.ndarray, y: np.ndarray, op: PoolOp) -> dict:
    """1D: each channel's input as a line over its positions, and every output drawn as a bar across the
    positions its window covers (max pooling traces the upper envelope, average a smoothed copy)."""
    channels, n = x.shape
    (pb, pa), s, span = op.padding[0], op.stride[0], effective_kernel(op.kernel[0], op.dilation[0])
    panel, gap = 110, 34
    height = channels * (panel + gap)
    data, layout, annotations = [], {}, []
    lo, hi = float(min(x.min(), y.min())) - 0.5, float(max(x.max(), y.max())) + 0.5
    for c in range(channels):
        axis = "" if c == 0 else str(c + 1)
        top = c * (panel + gap) + gap
        domain = [1 - (top + panel) / height, 1 - top / height]
        seg_x, seg_y = [], []
        for o, v in enumerate(y[c]):
            start = o * s - pb
            seg_x += [max(start, -pb) - 0.4, min(start + span - 1, n - 1 + pa) + 0.4, None]
            seg_y += [float(v), float(v), None]
        data.append({"type": "scatter", "x": list(range(n)), "y": x[c].tolist(), "mode": "lines+markers",
                     "name": "input", "legendgroup": "input", "showlegend": c == 0, "xaxis": f"x{axis}",
                     "yaxis": f"y{axis}", "line": {"color": "#8a93a6", "width": 1.5}, "marker": {"size": 5},
                     "hovertemplate": f"channel {c}, input position %{{x}}: %{{y}}<extra></extra>"})
        data.append({"type": "scatter", "x": seg_x, "y": seg_y, "mode": "lines", "name": "output, across its window",
                     "legendgroup": "output", "showlegend": c == 0, "xaxis": f"x{axis}", "yaxis": f"y{axis}",
                     "line": {"color": "#d9480f", "width": 3},
                     "hovertemplate": f"channel {c} output: %{{y:.2f}}<extra></extra>"})
        layout[f"xaxis{axis}"] = {"domain": [0, 1], "anchor": f"y{axis}", "range": [-pb - 0.6, n - 1 + pa + 0.6],
                                  "zeroline": False, "dtick": 1 if n <= 24 else 4, "tickfont": {"size": 9}}
        layout[f"yaxis{axis}"] = {"domain": domain, "anchor": f"x{axis}", "range": [lo, hi], "zeroline": True,
                                  "tickfont": {"size": 9}}
        annotations.append({"text": f"channel {c}", "showarrow": False, "xref": "paper", "yref": "paper", "x": 0,
                            "xanchor": "left", "y": domain[1], "yanchor": "bottom", "font": {**FONT, "size": 10}})
    layout.update({"annotations": annotations, "font": FONT, "height": height + 20, "width": 720,
                   "margin": {"l": 30, "r": 10, "t": 10, "b": 20}, "paper_bgcolor": "rgba(0,0,0,0)",
                   "plot_bgcolor": "rgba(0,0,0,0)", "legend": {"orientation": "h", "x": 1, "xanchor": "right",
                                                              "y": 1, "yanchor": "bottom"}})
    return {"data": data, "layout": layout}


def roofline_figure(machine: Machine, points: dict[str, Cost]) -> dict:
    """Attainable GFLOP/s against arithmetic intensity (log-log), the roof, and each op on it."""
    xs = [0.05 * 1.25 ** i for i in range(60)]
    roof = [min(machine.peak_gflops, x * machine.bandwidth_gbs) for x in xs]
    data = [{"type": "scatter", "mode": "lines", "x": xs, "y": roof, "name": "roof: min(peak, intensity × bandwidth)",
             "line": {"color": "#1d2330", "width": 2}, "hoverinfo": "skip"}]
    colors = {"standard": "#2f5fd0", "depthwise": "#d05f2f", "pointwise": "#8a4bb0", "separable": "#2f9d5f"}
    for name, c in points.items():
        y = min(machine.peak_gflops, c.intensity * machine.bandwidth_gbs)
        data.append({"type": "scatter", "mode": "markers+text", "x": [c.intensity], "y": [y], "name": name,
                     "text": [name], "textposition": "top center", "marker": {"size": 12, "color": colors[name]},
                     "hovertemplate": f"{name}: %{{x:.3g}} FLOP/byte, at most %{{y:.4g}} GFLOP/s<extra></extra>"})
    return {"data": data, "layout": {
        "height": 380, "margin": {"l": 70, "r": 20, "t": 20, "b": 50}, "showlegend": False,
        "font": {"family": "system-ui, sans-serif", "size": 12}, "paper_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"type": "log", "title": {"text": "arithmetic intensity (FLOP per byte moved)"}},
        "yaxis": {"type": "log", "title": {"text": "attainable GFLOP/s"}}}}
