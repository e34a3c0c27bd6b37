"""render(): the whole page, or only its live block when htmx asks (same URL, same template);
view_response(): a view in the site or embedded in someone's page (/embed/<view>), cacheable.

The app may be served under a prefix (``uvicorn --root-path /convscope`` behind a proxy that strips
it): every URL it writes goes through ``url`` (a template filter and global) or is built here from
``prefix(scope)``, so it carries the prefix; only the embed code and oEmbed are absolute."""
from __future__ import annotations

import asyncio
import functools
import hashlib
import threading
from collections import OrderedDict
from html import escape
from urllib.parse import urlencode

import orjson
from fastapi import Request
from fastapi.responses import Response
from jinja2 import pass_context
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.concurrency import run_in_threadpool

from .assets import TEMPLATES, asset_url
from .display import grid_html

THEMES = ("auto", "light", "dark")
CONTROLS = ("full", "minimal", "none")
EMBED_TITLE = "Convscope: an interactive convolution view"


def prefix(scope) -> str:
    """The path the app is served under ('' at the root, '/convscope' behind a proxy), from the ASGI
    root_path (a mounted app's scope keeps the app's own in app_root_path).

    >>> prefix({"root_path": "/convscope"}), prefix({}), prefix({"root_path": "/a/", "app_root_path": "/a/"})
    ('/convscope', '', '/a')
    """
    return scope.get("app_root_path", scope.get("root_path", "")).rstrip("/")


def route_path(scope) -> str:
    """The request's path inside the app, without the prefix (uvicorn's --root-path puts the prefix in
    ``path``; a test client may not).

    >>> route_path({"root_path": "/c", "path": "/c/embed/explore"}), route_path({"root_path": "/c", "path": "/x"})
    ('/embed/explore', '/x')
    >>> route_path({"root_path": "/c", "path": "/c"}), route_path({"path": "/health"})
    ('/', '/health')
    """
    root, path = prefix(scope), scope["path"]
    if root and (path == root or path.startswith(root + "/")):
        return path[len(root):] or "/"
    return path


@pass_context
def url(context, path: str) -> str:
    """A URL of this app, root-relative under its prefix: ``{{ "/learn"|url }}`` -> /convscope/learn.
    Anything not starting with one "/" (absolute, relative, protocol-relative) is left as it is."""
    request = context.get("request")
    if request is None or not path.startswith("/") or path.startswith("//"):
        return path
    return prefix(request.scope) + path


@pass_context
def prefixed_asset_url(context, name: str) -> str:
    return url(context, asset_url(name))


def embed_code(src: str, script: str, *, title: str = EMBED_TITLE, width: str | int = "100%",
               height: int = 640) -> str:
    """The HTML another page pastes to embed a view: a sandboxed iframe and the host script that
    sizes it. The embed box shows it and oEmbed answers it (the same code in both places).

    >>> code = embed_code("https://h/c/embed/pool?k=2", "https://h/c/static/embed-host.js", width=800)
    >>> print(code)  # doctest: +ELLIPSIS
    <iframe src="https://h/c/embed/pool?k=2" title="Convscope: an interactive convolution view" width="800" ...>
    <script src="https://h/c/static/embed-host.js" async></script>
    """
    return (f'<iframe src="{escape(src)}" title="{escape(title)}" width="{width}" height="{height}" loading="lazy" '
            f'sandbox="allow-scripts" style="border:0"></iframe>\n<script src="{escape(script)}" async></script>')


def host_script(request: Request) -> str:
    """The absolute URL of embed-host.js: unhashed, so embed code pasted long ago keeps working."""
    return f"{request.base_url}static/embed-host.js"


def json_text(value) -> str:
    """``value`` as JSON for an HTML attribute (``{{ x|json }}``; autoescape then escapes it for the attribute):
    what Jinja's ``tojson`` writes (keys sorted; <, >, & and ' as \\u escapes), compact and by orjson, ~10×
    faster than the json module on a view's data; numpy numbers as their values.

    >>> print(json_text({"b": [1, 0.5, None], "a": "<x>"}))
    {"a":"\\u003cx\\u003e","b":[1,0.5,null]}
    """
    text = orjson.dumps(value, default=_json_default,
                        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


def _json_default(value):
    if hasattr(value, "item"):  # a numpy scalar orjson does not take as it is
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


templates = Jinja2Blocks(directory=TEMPLATES)  # *.html only: select_autoescape escapes these
templates.env.auto_reload = False  # compiled once per process: no stat() of each template on every render
templates.env.globals["grid"] = grid_html  # a grid of numbers: {{ grid(slices, label, focusable=true, ruler=...) }}
templates.env.filters["json"] = json_text
templates.env.globals["asset_url"] = prefixed_asset_url
templates.env.globals["url"] = url
templates.env.filters["url"] = url
_DICT_ATTRIBUTES = frozenset(dir(dict))


def _getattr(obj, attribute: str, _jinja=templates.env.getattr):
    """Jinja's ``obj.name``, the same answer, without the AttributeError Jinja raises and catches on every
    lookup in a dict (it tries the attribute first; the views' contexts are dicts): ~10x faster, and a
    picture-level page makes ~300 such lookups."""
    if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
        if attribute in obj:
            return obj[attribute]
        return templates.env.undefined(obj=obj, name=attribute)
    return _jinja(obj, attribute)


templates.env.getattr = _getattr


# the request headers an answer depends on (is_htmx): a shared cache keys its copies by them
VARY = "HX-Request, HX-History-Restore-Request"


def is_htmx(request: Request) -> bool:
    """A partial request from htmx; history restores want the whole page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(request: Request, template: str, context: dict, *, block: str = "live", status_code: int = 200,
           only: str | None = None):
    """The page, its ``block`` when htmx asks (the whole page when the template has none), or always
    only the block ``only`` (a fragment route)."""
    partial = is_htmx(request) and block in templates.get_template(template).blocks
    response = templates.TemplateResponse(request, template, context, status_code=status_code,
                                          block_name=only or (block if partial else None))
    response.headers["Vary"] = VARY
    return response


def embed_options(request: Request) -> dict | None:
    """theme, controls and autoplay of an embedded view (/embed/...); None in the site itself."""
    if not route_path(request.scope).startswith("/embed/"):
        return None
    q = request.query_params
    return {"theme": q.get("theme") if q.get("theme") in THEMES else "auto",
            "controls": q.get("controls") if q.get("controls") in CONTROLS else "full",
            "autoplay": q.get("autoplay") == "1"}


def view_response(request: Request, template: str, context: dict, *, path: str, query: str | None,
                  refused: bool = False, only: str | None = None) -> Response:
    """A view's answer: page or fragment, in the site or embedded, with its canonical URL.

    Deterministic GET answers carry an ETag and a short max-age, so a CDN can absorb a lecture
    hall opening the same link; ``refused`` (a bad value in the URL) is a 422 for a full page.
    ``only``: always that block of the template alone (a fragment of the view with a URL of its own).
    """
    embed = embed_options(request)
    view_path = prefix(request.scope) + ("/embed" if embed else "") + path  # what the page's links and forms ask
    embed_params = {k: ("1" if v is True else v) for k, v in (embed or {}).items()
                    if v not in ("auto", "full", False)}
    own_query = "&".join(p for p in (query, urlencode(embed_params)) if p)
    base = str(request.base_url).rstrip("/")  # scheme, host and prefix the request came through
    embed_url = f"{base}/embed{path}" + (f"?{query}" if query else "")
    ctx = {**context, "embed": embed, "view_path": view_path, "route": path,
           "page_url": f"{base}{path}" + (f"?{query}" if query else ""), "embed_url": embed_url,
           "embed_code": embed_code(embed_url, host_script(request))}
    response = render(request, template, ctx, status_code=422 if refused and not is_htmx(request) else 200, only=only)
    if query is not None:
        response.headers["HX-Replace-Url"] = f"{view_path}?{own_query}" if own_query else view_path
    etag = '"' + hashlib.sha256(response.body).hexdigest()[:20] + '"'
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "public, max-age=300"
    if response.status_code == 200 and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={k: v for k, v in response.headers.items()
                                                  if k.lower() in ("etag", "cache-control", "vary")})
    return response


class ResponseCache:
    """Rendered views by URL: a view is a pure function of its URL, so a lecture hall opening one
    link (or sliding back to a state it saw) is answered without rendering again. Bounded in bytes."""

    def __init__(self, max_bytes: int = 64 * 2**20):
        self.max_bytes, self.bytes, self.entries = max_bytes, 0, OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.bytes = 0

    def put(self, key, response: Response) -> None:
        entry = (response.body, response.status_code, dict(response.headers))
        with self.lock:
            if key in self.entries or len(response.body) > self.max_bytes // 8:
                return
            self.entries[key] = entry
            self.bytes += len(response.body)
            while self.bytes > self.max_bytes:
                _, (body, _, _) = self.entries.popitem(last=False)
                self.bytes -= len(body)


CACHE = ResponseCache()


def cached_view(route):
    """Serve a view route from CACHE when the same URL (and htmx headers) was rendered before.

    The wrapper is async: a hit is a dict lookup on the event loop, without the trip through the
    thread pool that FastAPI gives a plain route; a miss renders there as before, once: requests for a
    URL that is being rendered (a lecture hall opening one link) wait for that render and share it.
    A route with a ``cheap(request) -> bool`` attribute renders the requests it calls cheap (a few ms of
    work) on the event loop instead: the hop to a thread and back cost a small /explore about 1.2 ms of
    server CPU on top of its 6, and a lecture hall's burst is that small page 300 times."""
    rendering: dict = {}  # key -> the future of its answer, while one request renders it (one event loop)

    @functools.wraps(route)
    async def wrapper(request: Request, **params):
        # base_url: the scheme, host and prefix the answer's absolute URLs and links were written for
        key = (str(request.base_url), route_path(request.scope), request.url.query, is_htmx(request))
        entry = CACHE.get(key)
        if entry is None and key in rendering:
            await asyncio.shield(rendering[key])
            entry = CACHE.get(key)
        if entry is None:
            rendering[key] = done = asyncio.get_running_loop().create_future()
            try:
                cheap = getattr(route, "cheap", None)  # the route says whether this request is a few ms of work
                if cheap is not None and cheap(request):
                    response = route(request, **params)
                else:
                    response = await run_in_threadpool(route, request, **params)
                if response.status_code == 200 and "etag" in response.headers:
                    CACHE.put(key, response)
            finally:
                if rendering.get(key) is done:
                    del rendering[key]
                done.set_result(None)
            return response
        body, status, headers = entry
        if request.headers.get("if-none-match") == headers.get("etag"):
            return Response(status_code=304, headers={k: v for k, v in headers.items()
                                                      if k in ("etag", "cache-control", "vary")})
        headers = {k: v for k, v in headers.items() if k != "content-length"}
        return Response(body, status_code=status, headers=headers)
    return wrapper
