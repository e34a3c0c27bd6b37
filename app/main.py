"""create_app(): routers, static files, headers and the error answers."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import api
from app.assets import ROOT, VENDOR, missing_vendor_files
from app.core.limits import MAX_BODY_BYTES
from app.routes import cost, docs, explore, groups, home, pointwise, trace

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")


def create_app() -> FastAPI:
    missing = missing_vendor_files()
    if missing:
        raise RuntimeError(f"front-end assets are missing ({', '.join(missing)}): run `npm ci` (make run does)")
    app = FastAPI(title="Convscope API", version="1", max_body_size=MAX_BODY_BYTES,
                  docs_url=None, redoc_url=None,
                  description="Convolution layers computed exactly as PyTorch and Keras do. See API.md.")
    app.include_router(api.router)
    app.include_router(home.router)
    app.include_router(docs.router)
    app.include_router(explore.router)
    app.include_router(pointwise.router)
    app.include_router(groups.router)
    app.include_router(cost.router)
    app.include_router(trace.router)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=1)  # level 1: most of the gain, a fraction of the CPU

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        path = VENDOR.get(name)
        if path is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

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
        if exc.status_code == 400 and request.url.path.startswith("/api/"):
            return JSONResponse({"detail": [{"loc": ["body"], "type": "json_invalid",
                                             "msg": "the body is not valid JSON (or nests too deeply to read)"}]},
                                status_code=422)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own shape, minus echoed inputs (they can be megabytes)
        detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        return response

    return app


app = create_app()
