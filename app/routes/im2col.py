"""`/im2col`: a convolution is one matrix multiply.

One sample's padded input unfolded into the patch matrix (``core.conv.im2col``) and the weights as
a matrix (``core.conv.weight_matrix``, block-diagonal for groups), in the framework's own order —
PyTorch ``weight (F, C·kh·kw) × patches (C·kh·kw, L)`` as ``nn.Unfold`` gives, Keras ``patches
(L, kh·kw·C) × kernel (kh·kw·C, F)`` — their product reshaped into the output, and what the patch
matrix costs in memory. The settings are /explore's for 1D and 2D layers (its knob table, reader and
URL); ``step`` is the output position (the patch matrix's column, Keras' row) shown.
"""
from __future__ import annotations

import math

import numpy as np
from fastapi import Request
from starlette.datastructures import QueryParams

from ..core.conv import im2col, pad_input, weight_matrix, window_taps
from ..core.forward import canonical_weights, output_shape, random_input, readable_weights, run_layer
from ..core.frameworks import SpecError, build_layer
from ..core.limits import check_layer_cost
from ..core.shapes import csv
from ..display import fmt, grid
from ..routes import explore
from ..routes.params import controls
from ..templating import view_response

MAX_CELLS = 6_000  # per matrix drawn (patches, weights, their product): every cell is drawn with its number
SHOWN = explore.SHOWN  # input channels drawn as grids
KNOBS = explore.KNOBS  # /explore's settings, in either framework's words
# What the generic tests read (app/views.py: ViewModule)
READS = explore.READS
PAGES = ("type=Conv2d&size=5&size=5&padding=1",)
CHOICES: dict[str, tuple] = {}
AXES = {d: explore.AXES[d] for d in (1, 2)}
canonical_query = explore.canonical_query


def read_state(query: QueryParams):
    """/explore's state, refusing 3D (naming the field that asked for it): this view unfolds 1D and 2D."""
    state, errors = explore.read_state(query)
    errors = [f"type: /im2col unfolds Conv1d/Conv2d (PyTorch) or Conv1D/Conv2D (Keras), got {query['type']!r}"
              if e.startswith("type: /explore") else e for e in errors]
    if state.dims not in AXES:
        field = next((n for n in ("type", "dims", "input_shape") if n in query), "dims")
        errors.append(f"{field}: /im2col unfolds 1D and 2D layers (Conv1d/Conv2d, Conv1D/Conv2D), got "
                      f"{query.get(field, '3')!r}; showing the 2D layer")
        state = explore.switched(state, dims=2)
    return state, errors


def _too_big(state, rows: int, positions: int, filters: int) -> str | None:
    """The refusal when a matrix has more cells than the page draws, naming what to lower."""
    torch = state.framework == "torch"
    words = {"in": "in_channels" if torch else "input channels", "out": "out_channels" if torch else "filters"}
    sizes = {"patch": (rows, positions), "weight": (filters, rows), "product": (filters, positions)}
    what = {"patch": f"the input size, {words['in']} or kernel_size (or raise the stride)",
            "weight": f"{words['out']}, {words['in']} or kernel_size",
            "product": f"{words['out']} or the input size (or raise the stride)"}
    over = [f"the {name} matrix would be {a:,} × {b:,} = {a * b:,} cells: lower {what[name]}"
            for name, (a, b) in sizes.items() if a * b > MAX_CELLS]
    if not over:
        return None
    return f"/im2col draws every matrix cell with its number, at most {MAX_CELLS:,} per matrix; " + "; ".join(over)


def _matrix(values: np.ndarray, row_labels: list[str], col_labels: list[str], *, row: int | None = None,
            col: int | None = None, cell: tuple[int, int] | None = None, off: np.ndarray | None = None) -> dict:
    """A number table: labels, cells formatted here, what is lit (a row, a column or one cell) and the
    cells outside every group's block (``off``)."""
    texts = np.vectorize(fmt, otypes=[object])(values)
    return {"rows": row_labels, "cols": col_labels, "lit_row": row, "lit_col": col,
            "cells": [[{"text": texts[i, j], "lit": i == row or j == col or (i, j) == cell,
                        "off": off is not None and bool(off[i, j])}
                       for j in range(values.shape[1])] for i in range(values.shape[0])]}



def _input_classes(op, size, padded, out_pos) -> np.ndarray:
    """Per padded cell: 'pad' outside the input, 'lit' under the current window."""
    classes = np.full(padded, "pad", dtype=object)
    classes[tuple(slice(b, b + n) for (b, _), n in zip(op.padding, size))] = ""
    for cell in window_taps(op, out_pos):
        at = tuple(i + b for i, (b, _) in zip(cell, op.padding))
        classes[at] = (classes[at] + " lit").strip()
    return classes


def im2col_context(state) -> dict:
    """Everything the page shows: the engine's layer, its patch and weight matrices and their product."""
    ctx = {"s": state, "spec": explore.layer_spec(state), "torch": state.framework == "torch",
           "query": canonical_query(state), "link": lambda **c: canonical_query(state, **c),
           "framework_links": {fw: canonical_query(explore.switched(state, framework=fw)) for fw in ("torch", "keras")},
           "dims_links": {d: canonical_query(explore.switched(state, dims=d)) for d in AXES},
           "axes": AXES[state.dims], "controls": controls(KNOBS, state, AXES[state.dims])}
    try:
        layer = build_layer(state.framework, ctx["spec"], state.input_shape)
        check_layer_cost(layer)
    except SpecError as e:
        return {**ctx, "error": str(e)}
    op = layer.stages[0]
    out_shape = list(output_shape(layer))
    out_spatial = tuple(out_shape[2:] if not layer.channels_last else out_shape[1:-1])
    taps, positions = list(np.ndindex(*op.kernel)), math.prod(out_spatial)
    rows, filters = op.in_channels * len(taps), op.out_channels
    refusal = _too_big(state, rows, positions, filters)
    if refusal:
        return {**ctx, "error": refusal, "too_big": True}
    # the same numbers as /explore: drawn in PyTorch's layout, laid out as the framework keeps them
    x = random_input(state.model_copy(update={"framework": "torch"}).input_shape, state.seed)
    if layer.channels_last:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    weights = readable_weights(layer, state.seed, state.weights)
    y = run_layer(layer, x, weights)
    if state.framework == "torch" and explore.ACTIVATIONS[state.activation]:
        y = run_layer(build_layer("torch", {"type": explore.ACTIVATIONS[state.activation]}, y.shape), y, [])
    y_cf = np.moveaxis(y, -1, 1) if layer.channels_last else y
    x_cf = np.moveaxis(x, -1, 1) if layer.channels_last else x
    cw = canonical_weights(layer, weights)[0]
    w, b = cw["weight"], cw.get("bias")
    xp = pad_input(x_cf[:1], op.padding, op.padding_mode)[0]
    layout = state.framework
    patches, wm = im2col(xp, op, layout), weight_matrix(w, op, layout)
    product = wm @ patches if layout == "torch" else patches @ wm  # (F, L) or (L, F)
    step, step_error = state.step, None
    if step >= positions:
        step_error = f"step: this layer has {positions} output positions (0 to {positions - 1}), got {step}"
        step = 0
    out_pos = tuple(int(i) for i in np.unravel_index(step, out_spatial))
    f = state.f
    cg = op.in_channels // op.groups
    # row labels of the unfolded axis, in the framework's order: PyTorch (channel, tap), Keras (tap, channel)
    if layout == "torch":
        unfolded = [f"c{c} ({csv(t)})" for c in range(op.in_channels) for t in taps]
    else:
        unfolded = [f"({csv(t)}) c{g * cg + c}" for g in range(op.groups) for t in taps for c in range(cg)]
    position_labels = [f"({csv(p)})" for p in np.ndindex(*out_spatial)]
    filter_labels = [f"f{i}" for i in range(filters)]
    off = None
    if op.groups > 1:  # the block-diagonal's fill: a filter against another group's rows
        off = (np.arange(filters) // (filters // op.groups))[:, None] != (np.arange(rows) // (cg * len(taps)))[None, :]
        off = off if layout == "torch" else off.T
    if layout == "torch":
        tables = {"weight": _matrix(wm, filter_labels, unfolded, row=f, off=off),
                  "patches": _matrix(patches, unfolded, position_labels, col=step),
                  "product": _matrix(product, filter_labels, position_labels, cell=(f, step))}
    else:
        tables = {"patches": _matrix(patches, position_labels, unfolded, row=step),
                  "weight": _matrix(wm, unfolded, filter_labels, col=f, off=off),
                  "product": _matrix(product, position_labels, filter_labels, cell=(step, f))}
    shown = range(min(op.in_channels, SHOWN))
    classes = _input_classes(op, state.size, xp.shape[1:], out_pos)
    out_classes = np.full(out_spatial, "", dtype=object)
    out_classes[out_pos] = "lit"
    pre = float(product[(f, step) if layout == "torch" else (step, f)])
    bias = float(b[f]) if b is not None else 0.0
    n_input, n_patch = op.in_channels * math.prod(state.size), patches.size
    return {**ctx, "op": op, "out_shape": out_shape, "input_shape": list(state.input_shape), "step": step,
            "step_error": step_error, "positions": positions, "out_pos": list(out_pos), "f": f,
            "patch_shape": list(patches.shape), "weight_shape": list(wm.shape), "product_shape": list(product.shape),
            "tables": tables, "taps": len(taps), "rows": rows, "cg": cg, "out_spatial": list(out_spatial),
            "inputs": [{"c": c, "grid": grid(xp[c], f"x{c}-", classes)} for c in shown],
            "output": grid(y_cf[0, f], "y-", out_classes),
            "value": {"dot": fmt(pre), "bias": fmt(bias), "pre": fmt(pre + bias),
                      "out": fmt(float(y_cf[(0, f, *out_pos)]))},
            "memory": {"input": n_input, "input_bytes": 4 * n_input, "padded": xp.size, "patch": n_patch,
                       "patch_bytes": 4 * n_patch, "ratio": f"{n_patch / n_input:.1f}",
                       "params": w.size, "dense": wm.size, "macs": w.size * positions,
                       "gemm_macs": wm.size * positions}}


def im2col_view(request: Request):
    state, errors = read_state(request.query_params)
    ctx = im2col_context(state)
    return view_response(request, "im2col.html", {**ctx, "query_errors": errors}, path="/im2col",
                         query=canonical_query(state),
                         refused=bool(errors) or bool(ctx.get("step_error") or ctx.get("too_big")))
