"""`/oembed`: the oEmbed endpoint (oembed.com), so a blog platform can turn a Convscope link into
the embedded view. Views advertise it with a discovery <link> (templates/base.html)."""
from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

router = APIRouter(include_in_schema=False)
VIEWS = {"/explore": "a convolution layer, step by step", "/pointwise": "the 1×1 convolution as a channel mix",
         "/groups": "groups, depthwise and separable convolutions", "/cost": "what a convolution costs",
         "/trace": "a model's shapes, layer by layer", "/pool": "max and average pooling, step by step",
         "/transposed": "transposed convolution, step by step", "/image": "a photo through a convolution"}
WIDTH, HEIGHT = 800, 640


@router.get("/oembed")
def oembed(request: Request, url: str = Query(max_length=16_000), maxwidth: int | None = Query(None, ge=50, le=10_000),
           maxheight: int | None = Query(None, ge=50, le=10_000), format: str = "json"):
    if format != "json":
        return JSONResponse({"detail": f"format must be json, got {format!r}"}, status_code=501)
    origin = str(request.base_url).rstrip("/")
    parts = urlsplit(url)
    path = parts.path.removeprefix("/embed")
    if f"{parts.scheme}://{parts.netloc}" != origin or path not in VIEWS:
        return JSONResponse({"detail": "not a Convscope view on this server"}, status_code=404)
    width, height = min(WIDTH, maxwidth or WIDTH), min(HEIGHT, maxheight or HEIGHT)
    title = f"Convscope: {VIEWS[path]}"
    src = f"{origin}/embed{path}" + (f"?{parts.query}" if parts.query else "")
    html = (f'<iframe src="{escape(src)}" title="{escape(title)}" width="{width}" height="{height}" loading="lazy" '
            f'sandbox="allow-scripts" style="border:0"></iframe>')
    return {"version": "1.0", "type": "rich", "provider_name": "Convscope", "provider_url": origin + "/",
            "title": title, "html": html, "width": width, "height": height}
