"""The list of views. Each is a GET page at ``path`` and the same view embedded at ``/embed<path>``,
answered from the response cache; the list also writes the nav and the home page's list, oEmbed
(``/oembed``, oembed.com) answers for exactly these, and the tests take their view lists from it.
A new view is one line here plus its route module (a function of the request), its template and
its tests."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from .routes import backprop, cost, explore, groups, im2col, image, pointwise, pool, trace, transposed
from .templating import cached_view, embed_code, host_script, prefix, templates


class ViewModule(Protocol):
    """What a view's route module (``app/routes/<view>.py``) declares. The generic tests (knobs, bounds,
    XSS, site, stage, embeds) read these, so a view in the list below is covered by all of them;
    ``tests/web/test_views.py`` holds every listed module to this shape. A module with knobs also has
    ``read_state(query) -> (state, errors)`` and ``canonical_query(state, **changes) -> str``, and its
    state has ``framework`` (and ``dims`` when ``AXES`` is not empty: ``check_axes`` reads it)."""

    KNOBS: tuple  # every setting (routes/params.py: Knob), in the constructor's order; () for none
    READS: tuple[str, ...]  # query names read besides the knobs' names and the state's fields
    PAGES: tuple[str, ...]  # queries the generic tests open; together their 2D pages draw every bounded knob
    CHOICES: dict[str, tuple]  # query names no knob reads (kind, type), with the values the knob tests try
    AXES: dict[int, list[str]]  # the spatial axes' names by dimensions; {}: the view has no dimension switch


@dataclass(frozen=True)
class View:
    path: str
    nav: str  # the nav's word for it
    title: str  # the home page's link ...
    blurb: str  # ... and what follows it
    about: str  # oEmbed's title: "Convscope: <about>"
    page: Callable  # (request) -> the page, or its live fragment for htmx
    module: ModuleType  # its route module: a ViewModule
    player: bool = False  # its stage plays the window step by step (the shared player: play, step, present)

    @property
    def form(self) -> str:
        """The CSS selector of the view's knob form (every view's form is ``#<view>-form``)."""
        return f"#{self.path.strip('/')}-form"


VIEWS = (
    View("/explore", "Explore", "Explore a conv layer",
         "every knob, the sliding window and its arithmetic, shapes, weights.",
         "a convolution layer, step by step", explore.explore, explore, player=True),
    View("/pool", "Pooling", "Pooling", "max and average windows, default strides, ceil_mode.",
         "max and average pooling, step by step", pool.pool, pool, player=True),
    View("/transposed", "Transposed", "Transposed convolution",
         "scatter-and-sum, and the same as a direct conv.", "transposed convolution, step by step",
         transposed.transposed, transposed, player=True),
    View("/pointwise", "1×1 conv", "The 1×1 convolution", "a Dense layer at every position.",
         "the 1×1 convolution as a channel mix", pointwise.pointwise, pointwise, player=True),
    View("/groups", "Groups", "Groups and depthwise",
         "which channels feed which, and the separable conv's two stages.",
         "groups, depthwise and separable convolutions", groups.groups, groups),
    View("/im2col", "im2col", "im2col", "a convolution as one matrix multiply: the patch matrix, the weight matrix, "
         "and their product.", "a convolution as one matrix multiply", im2col.im2col_view, im2col),
    View("/backprop", "Backprop", "Backprop", "the gradients of a conv or pooling layer as convolutions, every sum "
         "written out; click an output to see what it depended on.", "backprop through a convolution, step by step",
         backprop.backprop_view, backprop),
    View("/image", "Images", "Images",
         "a photo (or your own) through a Sobel, blur or random kernel, with the numbers under a movable lens.",
         "a photo through a convolution", image.image_view, image),
    View("/cost", "Cost", "Cost", "parameters, MACs, bytes moved and the roofline — why fewer FLOPs can run slower.",
         "what a convolution costs", cost.cost_page, cost),
    View("/trace", "Trace a model", "Trace a model",
         "paste Keras or PyTorch code, see every layer's shape and why it does not fit.",
         "a model's shapes, layer by layer", trace.trace_page, trace),
)
BY_PATH = {v.path: v for v in VIEWS}


HANDLERS = {v.path: cached_view(v.page) for v in VIEWS}
OEMBED_WIDTH, OEMBED_HEIGHT = 800, 640


def oembed_target(request: Request, url: str) -> tuple[View, str] | str:
    """The view and query a URL given to /oembed names, or why it names none: it must be a view of
    this server, under its prefix (the page or its /embed form; http and https alike)."""
    parts = urlsplit(url)
    root = prefix(request.scope)
    if parts.scheme not in ("http", "https") or parts.netloc != request.base_url.netloc:
        return f"{url!r} is not on this server: give the address of a view on {request.base_url.netloc}"
    path = parts.path.removeprefix(root) if parts.path.startswith(root + "/") else None
    view = BY_PATH.get((path or "").removeprefix("/embed"))
    if view is None:
        return (f"{parts.path!r} is not a Convscope view: oEmbed answers for "
                + ", ".join(root + v.path for v in VIEWS))
    return view, quote(parts.query, safe="/?:@&=+$,;%!*'()~[]")  # as a browser would send it


async def refusal(request: Request, view: View, query: str) -> Response | None:
    """The embedded view's answer to this state when it refuses it (a 422: a value out of range), else
    None. Rendered by the view itself (and kept in the response cache for the iframe that follows)."""
    scope = {**request.scope, "method": "GET", "path": prefix(request.scope) + "/embed" + view.path,
             "raw_path": None, "query_string": query.encode(),
             "headers": [(k, v) for k, v in request.scope["headers"]
                         if k not in (b"hx-request", b"hx-history-restore-request", b"if-none-match")]}
    scope["raw_path"] = scope["path"].encode()
    answer = await HANDLERS[view.path](Request(scope))
    return answer if answer.status_code != 200 else None


async def oembed(request: Request, url: str = Query(max_length=16_000),
                 maxwidth: int | None = Query(None, ge=50, le=10_000),
                 maxheight: int | None = Query(None, ge=50, le=10_000), format: str = "json"):
    """oEmbed for a view's URL: the same embed code as the view's "Embed this view" box."""
    if format != "json":
        return JSONResponse({"detail": f"format must be json, got {format!r}"}, status_code=501)
    target = oembed_target(request, url)
    if isinstance(target, str):
        return JSONResponse({"detail": target}, status_code=404)
    view, query = target
    refused = await refusal(request, view, query)
    if refused is not None:
        return JSONResponse({"detail": f"the {view.nav} view refuses this state ({refused.status_code}): "
                                       "open the URL to see which values are out of range"},
                            status_code=422 if refused.status_code == 422 else 404)
    width, height = min(OEMBED_WIDTH, maxwidth or OEMBED_WIDTH), min(OEMBED_HEIGHT, maxheight or OEMBED_HEIGHT)
    title = f"Convscope: {view.about}"
    base = str(request.base_url).rstrip("/")
    src = f"{base}/embed{view.path}" + (f"?{query}" if query else "")
    return {"version": "1.0", "type": "rich", "provider_name": "Convscope", "provider_url": base + "/",
            "title": title, "html": embed_code(src, host_script(request), title=title, width=width, height=height),
            "width": width, "height": height}


def add_views(app: FastAPI) -> None:
    """Every view's page and embed routes, /oembed for them, and the lists for the templates (the nav,
    the home page, where oEmbed discovery links go)."""
    for view in VIEWS:
        for path in (view.path, "/embed" + view.path):
            app.add_route(path, HANDLERS[view.path], methods=["GET"], include_in_schema=False)
    app.add_api_route("/oembed", oembed, methods=["GET"], include_in_schema=False)
    templates.env.globals["views"] = VIEWS
    templates.env.globals["oembed_paths"] = frozenset(BY_PATH)
    templates.env.globals["nav"] = [("/", "Home"), ("/learn", "Learn"), *((v.path, v.nav) for v in VIEWS),
                                    ("/docs", "JSON API")]
