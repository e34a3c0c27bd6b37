"""`python -m app.serve`: Convscope in production, as the Procfile and the Dockerfile start it
(`python -m convscope.serve` where it was installed with pip).

uvicorn with lecture-size defaults, read from the environment a platform or container sets:

- ``PORT`` (8000): the port to listen on, on every interface (``HOST`` to change that);
- ``ROOT_PATH`` (none): the sub-path a proxy serves the app under and strips (``/convscope``);
- ``WEB_CONCURRENCY``: worker processes; by default one per CPU the process may use (its CPU
  affinity, and in a container its cgroup CPU quota, not the host's cores);
- ``LIMIT_CONCURRENCY``: connections per worker before uvicorn answers 503 at once; it counts idle
  keep-alive connections (one per open browser), so the default is far above a class;
- ``FORWARDED_ALLOW_IPS`` (``*``): the proxies whose X-Forwarded-Proto/-For are trusted (the
  scheme of the absolute URLs in embed code and oEmbed);
- ``VIEW_THREADS`` (2): views a worker renders at once (its thread pool for sync routes; a page its route
  calls cheap, such as a small /explore, renders on the event loop: app/templating.py, cached_view).

Heavy work is never refused: a view renders in the worker's thread pool and waits there, first come first
served, for a thread. A view is CPU work under one GIL: with 40 threads (the pool's default) rendering a
lecture hall's views at once, each finishes only when nearly all have, and switching costs CPU; two answer
them nearly in the order they came, and one slow view (a large layer) cannot hold up all the others. Each
worker renders every view once before it serves (``application``): cold imports, templates and numpy
made the first answers after a start take 0.4–0.6 s. Idle keep-alive connections (a class's open tabs)
are kept 75 s rather than uvicorn's 5. With several workers, each listens on a socket of its own on the
shared port (SO_REUSEPORT, ``listening_socket``) and this process supervises them (``supervise``): the
kernel spreads a class's connections evenly, where one shared socket gave 93% of them to one worker.
Each worker's BLAS runs one thread (``OPENBLAS_NUM_THREADS``, unless
set): BLAS threads that wait for a busy core spin, and a ResNet-size layer's conv took 56–68 ms instead of
3–12 ms on a loaded 2-core machine.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import socket
import sys
from pathlib import Path

DEFAULT_LIMIT = 10_000  # per worker: a lecture hall is a few hundred browsers
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
KEEP_ALIVE_S = 75  # an open tab's idle connection is kept this long (uvicorn's 5 s makes a class reconnect)
DEFAULT_THREADS = 2  # views rendered at once per worker (see the module's docstring)
WARM_UP = ("/explore?type=Conv1d&in_channels=3&out_channels=2&kernel_size=3&input_shape=1,3,12",
           "/explore?type=Conv3d&in_channels=2&out_channels=2&kernel_size=2&input_shape=1,2,4,4,4",
           "/explore?framework=keras&type=Conv2D&filters=3&kernel_size=3,3&activation=relu&input_shape=1,6,6,2",
           "/explore?type=Conv2d&in_channels=3&out_channels=16&kernel_size=3&padding=1&input_shape=1,3,32,32")


def quota_cpus(cpu_max: str) -> float | None:
    """The CPUs a cgroup v2 ``cpu.max`` ("<quota> <period>", or "max <period>") allows; None: no quota.

    >>> quota_cpus("max 100000"), quota_cpus("200000 100000"), quota_cpus("150000 100000\\n")
    (None, 2.0, 1.5)
    """
    quota, _, period = cpu_max.strip().partition(" ")
    if quota == "max" or not quota.isdigit() or not period.isdigit() or int(period) == 0:
        return None
    return int(quota) / int(period)


def cgroup_cpus(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this process's cgroup (v2, or v1's cfs files), or None where there is none."""
    try:
        return quota_cpus((root / "cpu.max").read_text())
    except OSError:
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def usable_cpus(affinity: int, quota: float | None) -> int:
    """CPUs the process may use: those it may run on, capped by its quota (rounded up, at least 1).

    >>> usable_cpus(64, None), usable_cpus(64, 2.0), usable_cpus(64, 1.5), usable_cpus(2, 8.0), usable_cpus(4, 0.2)
    (64, 2, 2, 2, 1)
    """
    return max(1, min(affinity, math.ceil(quota)) if quota else affinity)


def positive(env: dict, name: str, default: int, top: int) -> int:
    """An integer setting from the environment, or a message that names it, its value and what works.

    >>> positive({"WEB_CONCURRENCY": "4"}, "WEB_CONCURRENCY", 1, 256), positive({}, "PORT", 8000, 65535)
    (4, 8000)
    >>> positive({"PORT": "80a"}, "PORT", 8000, 65535)
    Traceback (most recent call last):
    ValueError: PORT='80a' is not a whole number from 1 to 65535
    """
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= top:
        raise ValueError(f"{name}={value!r} is not a whole number from 1 to {top}")
    return int(value)


def root_path(env: dict) -> str:
    """ROOT_PATH as uvicorn wants it: one leading slash, none trailing ('' for the root).

    >>> root_path({"ROOT_PATH": "convscope/"}), root_path({"ROOT_PATH": "/a/b"}), root_path({"ROOT_PATH": "/"})
    ('/convscope', '/a/b', '')
    >>> root_path({"ROOT_PATH": "/my course"})
    Traceback (most recent call last):
    ValueError: ROOT_PATH='/my course' is not a URL path: use letters, digits and - _ . ~ / (e.g. /convscope)
    """
    value = env.get("ROOT_PATH", "").strip()
    path = "/" + value.strip("/") if value.strip("/") else ""
    if not re.fullmatch(r"(/[A-Za-z0-9._~-]+)*", path):
        raise ValueError(f"ROOT_PATH={value!r} is not a URL path: use letters, digits and - _ . ~ / (e.g. /convscope)")
    return path


def options(env: dict) -> dict:
    """uvicorn's settings for each worker in this environment (uvicorn.Config's keywords).

    >>> options({"ROOT_PATH": "/convscope"})["root_path"], options({})["limit_concurrency"]
    ('/convscope', 10000)
    """
    positive(env, "VIEW_THREADS", DEFAULT_THREADS, 1024)  # checked here: a bad value stops the start with its name
    return {"app": f"{__package__ or 'app'}.serve:application", "factory": True, "root_path": root_path(env),
            "proxy_headers": True, "forwarded_allow_ips": env.get("FORWARDED_ALLOW_IPS", "*"),
            "limit_concurrency": positive(env, "LIMIT_CONCURRENCY", DEFAULT_LIMIT, 10**6),
            "timeout_keep_alive": KEEP_ALIVE_S, "access_log": False}


def command(env: dict, cpus: int) -> list[str]:
    """The same server as a uvicorn command line (what ``main`` runs when there is one worker).

    >>> " ".join(command({"PORT": "5000", "ROOT_PATH": "/convscope"}, cpus=2))  # doctest: +ELLIPSIS
    '-m uvicorn app.serve:application --factory --host 0.0.0.0 --port 5000 --workers 2 --root-path /convscope ...'
    >>> command({"WEB_CONCURRENCY": "3"}, cpus=16)[9]
    '3'
    """
    o = options(env)
    return ["-m", "uvicorn", o["app"], "--factory", "--host", env.get("HOST", "0.0.0.0"),
            "--port", str(positive(env, "PORT", 8000, 65535)),
            "--workers", str(positive(env, "WEB_CONCURRENCY", cpus, 1024)),
            "--root-path", o["root_path"], "--proxy-headers", "--forwarded-allow-ips", o["forwarded_allow_ips"],
            "--limit-concurrency", str(o["limit_concurrency"]), "--timeout-keep-alive", str(o["timeout_keep_alive"]),
            "--no-access-log"]


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket of its own for one worker, on the shared port (SO_REUSEPORT): the kernel spreads new connections
    over the workers' sockets evenly. On one shared socket the worker that wakes first accepts a whole queue
    of them: a lecture hall's 300 tabs, opened at once, went 93% to one worker and 7% to the other."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def supervise(socks: list[socket.socket], settings: dict) -> int:
    """Run a uvicorn worker per socket (forked), start again one that dies, and stop them all on SIGTERM or
    SIGINT; a worker that dies in its first seconds (it cannot start) stops them all: exit status 1."""
    import signal
    import time
    children: dict[int, tuple[int, float]] = {}  # pid -> (socket index, start time)
    state = {"stopping": False, "status": 0}

    def start(i: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            for j, other in enumerate(socks):
                if j != i:
                    other.close()
            import uvicorn
            try:
                uvicorn.Server(uvicorn.Config(**settings)).run(sockets=[socks[i]])
            finally:
                os._exit(0)
        children[pid] = (i, time.monotonic())

    def stop(*_) -> None:
        state["stopping"] = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    for i in range(len(socks)):
        start(i)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        i, started = children.pop(pid, (None, 0.0))
        if i is None or state["stopping"]:
            continue
        if time.monotonic() - started < 10:
            print(f"convscope: a worker could not start (exit status {os.waitstatus_to_exitcode(status)})",
                  file=sys.stderr)
            state["status"] = 1
            stop()
        else:
            start(i)
    return state["status"]


def raise_open_files(wanted: int) -> None:
    """Each connection is a file descriptor: lift the soft limit (often 1024) towards the hard one."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def warm_up(app, paths: list[str]) -> None:
    """Ask ``app`` for each path, as a page and as an htmx fragment, in process; then forget the answers
    (they were written for another host name)."""
    from starlette.testclient import TestClient

    from .templating import CACHE
    client = TestClient(app, raise_server_exceptions=False)
    for path in paths:
        for headers in ({}, {"HX-Request": "true"}):
            client.get(path, headers=headers)
    CACHE.clear()


def application():
    """The app as each worker serves it (``uvicorn --factory``): every view rendered once, and its views
    rendered ``VIEW_THREADS`` at a time, in the order they were asked for."""
    import anyio.to_thread

    from .main import create_app
    from .views import VIEWS
    app = create_app()
    warm_up(app, [v.path for v in VIEWS] + list(WARM_UP))
    threads = positive(dict(os.environ), "VIEW_THREADS", DEFAULT_THREADS, 1024)
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a):
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        async with inner(a) as state:
            yield state

    app.router.lifespan_context = lifespan
    return app


def main() -> None:
    cpus = usable_cpus(len(os.sched_getaffinity(0)), cgroup_cpus())
    env = dict(os.environ)
    try:
        args, settings = command(env, cpus), options(env)
    except ValueError as e:
        sys.exit(f"convscope: {e}")
    raise_open_files(settings["limit_concurrency"] + 256)
    for name in BLAS_THREADS:  # one BLAS thread per worker: the workers are the parallelism
        os.environ.setdefault(name, "1")
    workers = int(args[args.index("--workers") + 1])
    if workers == 1:
        os.execv(sys.executable, [sys.executable, *args])
    host, port = args[args.index("--host") + 1], int(args[args.index("--port") + 1])
    print(f"convscope: {workers} workers on http://{host}:{port}{settings['root_path']}", file=sys.stderr)
    sys.exit(supervise([listening_socket(host, port) for _ in range(workers)], settings))


if __name__ == "__main__":
    main()
