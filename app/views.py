"""The list of views. Each is a GET page at ``path`` and the same view embedded at ``/embed<path>``,
answered from the response cache; the list also writes the nav, the home page's list and oEmbed's
accepted URLs, and the tests take their view lists from it. A new view is one line here plus its
route module (a function of the request), its template and its tests."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI

from .routes import cost, explore, groups, image, pointwise, pool, trace, transposed
from .templating import cached_view, templates


@dataclass(frozen=True)
class View:
    path: str
    nav: str  # the nav's word for it
    title: str  # the home page's link ...
    blurb: str  # ... and what follows it
    about: str  # oEmbed's title: "Convscope: <about>"
    page: Callable  # (request) -> the page, or its live fragment for htmx


VIEWS = (
    View("/explore", "Explore", "Explore a conv layer",
         "every knob, the sliding window and its arithmetic, shapes, weights.",
         "a convolution layer, step by step", explore.explore),
    View("/pool", "Pooling", "Pooling", "max and average windows, default strides, ceil_mode.",
         "max and average pooling, step by step", pool.pool),
    View("/transposed", "Transposed", "Transposed convolution",
         "scatter-and-sum, and the same as a direct conv.", "transposed convolution, step by step",
         transposed.transposed),
    View("/pointwise", "1×1 conv", "The 1×1 convolution", "a Dense layer at every position.",
         "the 1×1 convolution as a channel mix", pointwise.pointwise),
    View("/groups", "Groups", "Groups and depthwise",
         "which channels feed which, and the separable conv's two stages.",
         "groups, depthwise and separable convolutions", groups.groups),
    View("/image", "Images", "Images",
         "a photo (or your own) through a Sobel, blur or random kernel, with the numbers under a movable lens.",
         "a photo through a convolution", image.image_view),
    View("/cost", "Cost", "Cost", "parameters, MACs, bytes moved and the roofline — why fewer FLOPs can run slower.",
         "what a convolution costs", cost.cost_page),
    View("/trace", "Trace a model", "Trace a model",
         "paste Keras or PyTorch code, see every layer's shape and why it does not fit.",
         "a model's shapes, layer by layer", trace.trace_page),
)
BY_PATH = {v.path: v for v in VIEWS}


def add_views(app: FastAPI) -> None:
    """Every view's page and embed routes, and the lists for the templates (the nav, the home page)."""
    for view in VIEWS:
        handler = cached_view(view.page)
        for path in (view.path, "/embed" + view.path):
            app.add_api_route(path, handler, methods=["GET"], include_in_schema=False)
    templates.env.globals["views"] = VIEWS
    templates.env.globals["nav"] = [("/", "Home"), ("/learn", "Learn"), *((v.path, v.nav) for v in VIEWS),
                                    ("/docs", "JSON API")]
