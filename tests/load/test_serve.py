"""How app.serve's workers share their time: a URL a lecture hall asks for at once is rendered once, and a
worker has rendered its views before it serves."""
import asyncio
import concurrent.futures
import threading
import time

from starlette.requests import Request
from starlette.responses import Response

from app.templating import CACHE, cached_view


def run(coroutine):
    """asyncio.run in a thread of its own: in the full session Playwright's sync API leaves an event loop
    running in this one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()

def request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/x", "root_path": "", "query_string": query.encode(),
                    "headers": [], "server": ("t", 80), "scheme": "http"})


def test_a_url_asked_for_by_many_at_once_is_rendered_once():
    calls = []

    def slow_view(req: Request) -> Response:
        calls.append(threading.get_ident())
        time.sleep(0.2)
        return Response(f"view {req.url.query}", headers={"etag": f'"{req.url.query}"'})

    view = cached_view(slow_view)

    async def hall():
        return await asyncio.gather(*(view(request("q=1" if i % 2 else f"q=new{i // 10}")) for i in range(40)))

    answers = run(hall())
    assert [a.body for a in answers[1::2]] == [b"view q=1"] * 20  # every one answered, with the same answer
    assert len(calls) == 1 + 4  # q=1 once, and each of q=new0 .. q=new3 once (all asked for at the same time)
    CACHE.clear()


def test_an_uncacheable_answer_is_rendered_for_each_request():
    calls = []

    def refusing_view(req: Request) -> Response:
        calls.append(1)
        return Response("no", status_code=422)

    view = cached_view(refusing_view)

    async def hall():
        return await asyncio.gather(*(view(request("bad=1")) for _ in range(5)))

    assert [a.status_code for a in run(hall())] == [422] * 5 and len(calls) == 5


def test_a_worker_renders_every_view_before_it_serves(monkeypatch):
    import app.serve
    asked = []
    monkeypatch.setattr(app.serve, "warm_up", lambda application, paths: asked.extend(paths))
    application = app.serve.application()
    from app.views import VIEWS
    assert {v.path for v in VIEWS} <= set(asked) and any("Conv3d" in p for p in asked)
    assert application.router.lifespan_context is not None


def test_warming_up_leaves_no_answer_in_the_cache():
    import app.serve
    from app.main import create_app
    app.serve.warm_up(create_app(), ["/explore", "/pool"])
    assert not CACHE.entries


def test_each_worker_listens_on_a_socket_of_its_own_on_one_port():
    from app.serve import listening_socket
    first = listening_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = listening_socket("127.0.0.1", port)  # SO_REUSEPORT: the kernel shares the port's connections out
    assert second.getsockname()[1] == port
    first.close()
    second.close()


def test_the_server_asks_for_no_huge_pages():
    """NumPy's huge-page advice on every array of 4 MB or more made fresh large arrays stall in the kernel's memory
    compaction (THP defrag 'madvise'): a 2,048 × 2,048 layer's weights took 200-280 ms instead of 20-35. The app
    turns the advice off wherever it is served."""
    import numpy as np

    import app.main  # noqa: F401

    assert np._core.multiarray._get_madvise_hugepage() is False
