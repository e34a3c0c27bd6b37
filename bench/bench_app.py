"""The app as served, plus a bare Starlette route on the same server: the yardstick for ratios."""
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.main import create_app


async def bare(request):
    return PlainTextResponse("ok")


app = create_app()
app.router.routes.insert(0, Route("/bench/bare", bare))
