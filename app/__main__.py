"""`convscope` and `python -m convscope`: serve the app at localhost and open it in the browser."""
from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
import threading
import time
import webbrowser

from . import __version__
from .serve import root_path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="convscope", description="Serve Convscope, the convolution visualizer, "
                                     "and open it in the browser.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s; "
                        "0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")),
                        help="worker processes (default: $WEB_CONCURRENCY or 1)")
    parser.add_argument("--root-path", default=os.environ.get("ROOT_PATH", ""),
                        help="the path prefix a proxy serves Convscope under, e.g. /convscope (default: $ROOT_PATH or "
                        "none); every URL the app writes carries it")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--version", action="version", version=f"convscope {__version__}")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be from 1 to 65535, got {args.port}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    try:
        args.root_path = root_path({"ROOT_PATH": args.root_path})
    except ValueError as e:
        parser.error(str(e).replace("ROOT_PATH=", "--root-path "))
    return args


def port_problem(host: str, port: int) -> str | None:
    """Why this address cannot be listened on (in use, not allowed, unknown), or None: asked before
    anything is printed, so a busy port is the first and only thing the user reads."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
            sock.bind(address)
    except socket.gaierror:
        return f"--host {host} is not an address of this machine"
    except PermissionError:
        return f"port {port} needs administrator rights here: choose one above 1023, e.g. --port 8000"
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return (f"port {port} on {host} is already in use (another Convscope, or another program): "
                    f"stop it, or choose another port, e.g. --port {port + 1 if port < 65535 else 8000}")
        return f"cannot listen on {host}:{port}: {e.strerror or e}"
    return None


def open_when_up(host: str, port: int, url: str, timeout: float = 30) -> None:
    """Open the browser once the server accepts connections (not before: it would show an error)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
        except OSError:
            time.sleep(0.2)
            continue
        webbrowser.open(url)
        return


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import uvicorn

    if (problem := port_problem(args.host, args.port)) is not None:
        print(f"convscope: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(1)
    local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    url = f"http://{local}:{args.port}{args.root_path}/"
    print(f"Convscope {__version__} at {url}  (Ctrl+C to stop)", flush=True)
    if not args.no_browser:
        threading.Thread(target=open_when_up, args=(local, args.port, url), daemon=True).start()
    # an import string, so --workers can start more processes; __package__ is `convscope` when installed
    uvicorn.run(f"{__package__}.main:app", host=args.host, port=args.port, workers=args.workers,
                root_path=args.root_path, proxy_headers=True, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
