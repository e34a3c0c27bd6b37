"""The stage at picture level, for any stage view: its pictures and its lens at URLs of their own, and the
context templates/_partials/stage.html draws.

A view declares once (``StageView``) how to read its URL, how to build its context for the lens alone, and how
to produce the tensor of one part (input, kernel, output) for one channel or filter; ``serve`` then answers

- ``GET /<view>/picture?<the view's query>&part=…&c=n``: a PNG, one pixel per value on the diverging scale the
  page's legend shows (app/images.py: heat_png; a view's photo as it is), cacheable (a pure function of its URL);
- ``GET /<view>/lens?<the view's query>&step=n``: the template's ``lens`` block alone (the step's arithmetic and
  where its window falls), for a position outside the played block;
- ``GET /<view>/figure?<the view's query>&figure=name`` (views that declare ``figure``): one plotly figure as
  JSON, cacheable like a picture, which static/plots.js fetches when the figure comes near the screen, so a knob
  move's fragment carries none of a figure's numbers;

each also under ``/embed``, and a bad query is a 422 with the reason in words. ``router`` holds every view's
routes (app/main.py includes it).
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from ..core.frameworks import SpecError
from ..core.picture import GAP, frame_px, picture_limit, picture_size, step_boxes, tiles
from ..display import Strings, fmt
from ..images import heat_png, photo_png
from ..templating import cached_view, view_response

PARTS = ("input", "kernel", "output")
PICTURE_CACHE = "public, max-age=86400"  # a picture is a pure function of its URL
PICTURE_PX = 320  # the focused channel's picture is drawn at most this many CSS px on its long side
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class StageView:
    """What a stage view declares for its picture level.

    ``read_state(query) -> (state, errors)``; ``context(state, lens=True) -> dict`` (with ``error`` or
    ``step_error`` when the layer or the step is refused, ``lens_error`` when the view has no lens for it);
    ``picture(state, part, c) -> (2D array, scale end)`` (or a uint8 (h, w, 3) photo, drawn as it is),
    raising SpecError (with the field) for what it refuses; ``template``'s block ``lens`` is the lens;
    ``figure(state, name) -> dict`` (optional): a plotly figure of the layer, SpecError for what it refuses."""

    path: str
    template: str
    read_state: Callable
    context: Callable
    picture: Callable
    parts: tuple[str, ...] = PARTS
    figure: Callable | None = None


def refused(reasons: list[str], what: str) -> Response:
    return PlainTextResponse(f"The {what} cannot be drawn: " + "; ".join(reasons), status_code=422,
                             headers={"Cache-Control": "no-store"})


def picture_answer(view: StageView, request: Request) -> Response:
    """A PNG of one part of the view's layer; 422 with the reasons in words for a bad query."""
    state, errors = view.read_state(request.query_params)
    part, c = request.query_params.get("part", ""), request.query_params.get("c", "")
    if part not in view.parts:
        errors.append(f"part: one of {', '.join(view.parts)}, got {part!r}")
    if not c.isdigit() or len(c) > 6:
        errors.append(f"c: a channel or filter number (0, 1, …), got {c!r}")
    if not errors:
        try:
            picture, limit = view.picture(state, part, int(c))
        except SpecError as e:
            errors.append(str(e))
    if errors:
        return refused(errors, "picture")
    return cacheable(png(picture, limit), "image/png")


def cacheable(body: bytes, media_type: str) -> Response:
    """An answer that is a pure function of its URL: cached by browsers and proxies, with its ETag."""
    return Response(body, media_type=media_type, headers={
        "Cache-Control": PICTURE_CACHE, "ETag": '"' + hashlib.sha256(body).hexdigest()[:20] + '"'})


def png(picture: np.ndarray, limit: float) -> bytes:
    """A picture as PNG bytes: values on the diverging scale ±limit, or a uint8 (h, w, 3) photo as it is."""
    return photo_png(picture) if picture.ndim == 3 else heat_png(picture, limit)


def lens_answer(view: StageView, request: Request) -> Response:
    """The lens of ``step`` alone, as the page writes it; 422 naming the field for a refused query or step
    (never a silent step 0)."""
    state, errors = view.read_state(request.query_params)
    ctx = view.context(state, lens=True)
    reasons = [*errors, *(ctx[k] for k in ("error", "step_error", "lens_error") if ctx.get(k))]
    if reasons:
        return refused(reasons, "lens")
    return view_response(request, view.template, {**ctx, "query_errors": errors}, path=view.path, query=None,
                         only="lens")


def figure_answer(view: StageView, request: Request) -> Response:
    """One figure of the view's layer as plotly JSON; 422 with the reasons in words for a bad query."""
    state, errors = view.read_state(request.query_params)
    if not errors:
        try:
            figure = view.figure(state, request.query_params.get("figure", ""))
        except SpecError as e:
            errors.append(str(e))
    if errors:
        return refused(errors, "figure")
    return cacheable(orjson.dumps(figure, option=orjson.OPT_SERIALIZE_NUMPY), "application/json")


def serve(view: StageView) -> StageView:
    """Add ``/<view>/picture``, ``/<view>/lens`` and (if declared) ``/<view>/figure``, and their ``/embed``
    twins, to ``router``."""
    answers = {"picture": picture_answer, "lens": lens_answer, **({"figure": figure_answer} if view.figure else {})}
    for name, answer in answers.items():
        route = functools.partial(answer, view)
        route.__name__ = f"{view.path[1:]}_{name}"
        for prefix in ("", "/embed"):
            router.add_api_route(f"{prefix}{view.path}/{name}", cached_view(route), methods=["GET"])
    return view


def picture_url(path: str, query: str, part: str, c: int) -> str:
    """The URL of one picture: the view's query without the step or the focus, so every step and every focused
    channel reuses the cached image."""
    return f"{path}/picture?{query}&part={part}&c={c}"


def picture_stage(*, in_block: np.ndarray, out_block: np.ndarray, in_spatial: tuple[int, ...],
                  out_spatial: tuple[int, ...], geometry: tuple, block: range, step: int, inputs: list[dict],
                  outputs: list[dict], rows: int = 0, kernel_src: str | None = None, pad: list[int] | None = None,
                  kernel_taps: int = 3, where: Callable[[range], dict] | None = None, point: str = "output") -> dict:
    """What templates/_partials/stage.html draws at picture level: sizes (CSS px) of the input's and output's
    pictures, their colour scales (``in_block``, ``out_block``: the values the pictures draw), the output's
    layout (for pointing at it), and where the played ``block``'s windows fall (``geometry``: stride, kernel,
    dilation, in the drawn input's cells; ``now``: the shown ``step``'s).
    ``inputs``: [{c, src, ...}] the input deck, first focused; ``outputs``: [{f, src, link}] the output deck;
    ``rows``: a 1D input drawn as that many channel rows (``kernel_src``: its kernel's picture).
    ``where(steps) -> {boxes, markers, pending}`` replaces the sliding window's boxes (a scatter's: its input
    value and its stamp); ``point``: the part whose picture is pointed at to pick a step ('input' for a scatter,
    whose steps are input values; the page maps the cell to a step)."""
    where = where or (lambda steps: step_boxes(*geometry, in_spatial, out_spatial, steps, rows))
    in_size = (rows, in_spatial[0]) if rows else picture_size(in_spatial)
    out_size = picture_size(out_spatial)
    (in_w, in_h), (out_w, out_h) = frame_px(in_size, out_size, rows, PICTURE_PX)
    return {
        "rows": rows, "in_px": (in_w, in_h), "out_px": (out_w, out_h), "in_size": in_size, "out_size": out_size,
        "inputs": inputs, "kernel_src": kernel_src, "kernel_px": (min(112, max(48, kernel_taps * 16)), in_h),
        "outputs": outputs, "input_limit": fmt(picture_limit(in_block)), "output_limit": fmt(picture_limit(out_block)),
        "layout": {"out": list(out_spatial), "tiles": list(tiles(out_spatial)), "gap": GAP}, "pad": pad or [],
        "in_layout": {"out": list(in_spatial), "tiles": list(tiles(in_spatial)), "gap": GAP}, "point": point,
        "boxes": where(block), "now": where(range(step, step + 1)),
    }


class Played:
    """The steps a page plays, each a dict of named fields (static/*.js read them by name): text fields (str,
    or a list of str) become indices into one table of distinct texts (``texts``), numbers stay numbers.

    >>> p = Played(); p.step(label="0 of 2", cells=[3, 4], lines=["a", "b", "a"])
    {'label': 0, 'cells': [3, 4], 'lines': [1, 2, 1]}
    >>> p.texts
    ['0 of 2', 'a', 'b']
    """

    def __init__(self) -> None:
        self._strings = Strings()

    @property
    def texts(self) -> list[str]:
        return self._strings.table

    def step(self, **fields) -> dict:
        return {name: self._text(value) for name, value in fields.items()}

    def text(self, text: str) -> int:
        """One text's index (a field built by hand, e.g. rich text's pieces)."""
        return self._strings(text)

    def _text(self, value):
        if isinstance(value, str):
            return self._strings(value)
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return [self._strings(v) for v in value]
        return value
