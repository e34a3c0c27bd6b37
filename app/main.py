"""create_app(): routers, static files, headers and the error answers."""
from __future__ import annotations

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import api
from .assets import PRECOMPRESSED, STATIC, gzipped, hashed_names, missing_vendor_files, source
from .core.limits import MAX_BODY_BYTES
from .routes import docs, explore, home, image, learn
from .templating import prefix, route_path
from .views import add_views

# NumPy asks the kernel for transparent huge pages on every array of 4 MB or more (madvise). Where the kernel
# compacts memory to honour that on the spot (THP defrag "madvise", a common default), a fresh large array stalls:
# drawing a 2,048 × 2,048 layer's weights took 200-280 ms in a serving process, 20-35 ms without the advice.
# (NUMPY_MADVISE_HUGEPAGE=0 does the same, when set before NumPy is imported.)
_multiarray = getattr(getattr(np, "_core", None), "multiarray", None)
if hasattr(_multiarray, "_set_madvise_hugepage"):
    _multiarray._set_madvise_hugepage(False)

# plotly needs inline styles and data: images (heatmaps); no script is ever inline or eval'd
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {}")
# htmx reads these on every response; a cross-origin answer must expose them or the browser logs errors
HTMX_RESPONSE_HEADERS = ", ".join(f"HX-{h}" for h in ("Trigger", "Location", "Refresh", "Redirect", "Push", "Push-Url",
                                                     "Replace-Url", "Retarget", "Reswap", "Reselect",
                                                     "Trigger-After-Swap", "Trigger-After-Settle"))
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


def security_headers(path: str) -> dict[str, str]:
    """Per route: embeds may be framed by any page, everything else only by ours.

    Embedded views run in a sandboxed iframe with an opaque origin, so their htmx requests are
    cross-origin: GETs are allowed from anywhere (no cookies exist to leak) and preflights answered.
    """
    common = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin",
              "Permissions-Policy": PERMISSIONS}
    if not path.startswith("/embed/"):
        return {"Content-Security-Policy": CSP.format("'self'"), "X-Frame-Options": "SAMEORIGIN", **common}
    return {"Content-Security-Policy": CSP.format("*"), "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Headers": "*",
            "Access-Control-Max-Age": "86400", "Access-Control-Expose-Headers": HTMX_RESPONSE_HEADERS, **common}


def too_large(size: int | None) -> JSONResponse:
    """413 in the shape of every other refusal; ``size`` is None for a body sent without a length."""
    what = f"{size:,} bytes; the limit is" if size is not None else "over the limit of"
    return JSONResponse({"detail": [{"loc": ["body"], "type": "too_large",
                                     "msg": f"the request body is {what} {MAX_BODY_BYTES:,} bytes: send a "
                                            "smaller input (the element limits are lower still)"}]}, status_code=413)


def unstripped(scope) -> dict:
    """The scope as if the proxy had stripped the prefix: uvicorn's --root-path prepends the prefix to
    the path, so a proxy that passes /convscope/explore on unchanged arrives as /convscope/convscope/explore."""
    root, path = prefix(scope), scope["path"]
    if root and path.startswith(root + root + "/"):
        raw = scope.get("raw_path") or path.encode()
        return {**scope, "path": path[len(root):], "raw_path": raw[len(root.encode()):]}
    return scope


class Outermost:
    """The first and last layer of every request, outside even FastAPI's own: the security headers
    go on every answer (also the 413s and 500s those layers send themselves), embed preflights are
    answered, a Content-Length over the limit is refused before anything reads the body, and HEAD is
    answered on every GET route: the GET's status and headers, without its body."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        scope = unstripped(scope)
        path = route_path(scope)
        headers = security_headers(path)
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(headers)
            elif head:  # the body's messages become one empty one; Content-Length stays the GET's
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return await too_large(int(length))(scope, receive, send_with_headers)
        if scope["method"] == "OPTIONS" and path.startswith("/embed/"):
            return await Response(status_code=204)(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)


class Convscope(FastAPI):
    def build_middleware_stack(self):
        return Outermost(super().build_middleware_stack())


def create_app() -> FastAPI:
    missing = missing_vendor_files()
    if missing:
        raise RuntimeError(f"front-end assets are missing ({', '.join(missing)}): run `npm ci` (make run does)")
    app = Convscope(title="Convscope API", version="1", max_body_size=MAX_BODY_BYTES,
                  docs_url=None, redoc_url=None, openapi_url=None,
                  description="Convolution layers computed exactly as PyTorch and Keras do: shapes, outputs, costs and "
                              "model traces. Every route can be tried below.")
    app.include_router(api.router)
    app.include_router(home.router)
    app.include_router(docs.router)
    add_views(app)  # and /oembed, which answers for them
    app.include_router(learn.router)
    app.include_router(image.router)  # the upload (POST); its GET pages come from the view list
    app.include_router(explore.router)  # /explore/picture and /explore/lens (the picture level)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # level 1: most of the gain, a fraction of the CPU
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=1)

    @app.get("/assets/{name}", include_in_schema=False)
    def asset(name: str, request: Request) -> Response:
        original = hashed_names().get(name)
        if original is None:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
        media = "text/css" if name.endswith(".css") else "text/javascript"
        if original in PRECOMPRESSED and "gzip" in request.headers.get("accept-encoding", ""):
            return Response(gzipped(original), media_type=media, headers={**headers, "Content-Encoding": "gzip"})
        return FileResponse(source(original), media_type=media, headers=headers)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        """The schema (built once) with this request's prefix as its server, so /docs' "Try it out"
        asks /convscope/api/...; FastAPI's own route would keep the first request's prefix for all."""
        root = prefix(request.scope)
        return JSONResponse({**app.openapi(), **({"servers": [{"url": root}]} if root else {})})

    @app.get("/health", include_in_schema=False)
    def health() -> dict:
        return {"ok": True}

    @app.exception_handler(api.APIError)
    def api_error(_: Request, exc: api.APIError) -> JSONResponse:
        return JSONResponse({"detail": [{"loc": ["body", *exc.loc], "msg": exc.message, "type": "value_error"}]},
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI answers 400 for a body json.loads cannot read (e.g. nesting past the recursion limit)
        if exc.status_code == 413:  # a body sent without a Content-Length, stopped as it passed the limit
            return too_large(None)
        if exc.status_code == 400 and route_path(request.scope).startswith("/api/"):
            return JSONResponse({"detail": [{"loc": ["body"], "type": "json_invalid",
                                             "msg": "the body is not valid JSON (or nests too deeply to read)"}]},
                                status_code=422)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own shape, minus echoed inputs (they can be megabytes)
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    return app


app = create_app()
