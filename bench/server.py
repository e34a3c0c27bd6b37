"""Start and stop a real uvicorn for a benchmark (one BLAS/OpenMP thread per worker, no access log)."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def uvicorn(app: str = "bench.bench_app:app", workers: int = 1, cpu: str | None = "0", extra: list[str] = ()):
    """Yield (base URL, process); pinned to `cpu` with taskset when there is one (the load generator
    then gets the other core)."""
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--workers",
           str(workers), "--no-access-log", "--log-level", "warning", *extra]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", cpu, *cmd]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("uvicorn did not start") from None
            time.sleep(0.1)
    try:
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def procfile_command() -> str:
    """The web command of the Procfile, as a platform runs it."""
    line = next(li for li in (ROOT / "Procfile").read_text().splitlines() if li.startswith("web:"))
    return line.removeprefix("web:").strip()


@contextlib.contextmanager
def procfile(workers: int | None = 2, env: dict | None = None):
    """Yield (base URL, process) of the Procfile's command in a shell, as a platform starts it: PORT set (and
    WEB_CONCURRENCY when ``workers`` is given), the venv's python first on PATH; stopped with its process group."""
    port = free_port()
    run_env = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "ROOT_PATH", "LIMIT_CONCURRENCY")}
    run_env.update(PORT=str(port), PATH=f"{Path(sys.executable).parent}{os.pathsep}{run_env.get('PATH', '')}",
                   **({"WEB_CONCURRENCY": str(workers)} if workers else {}), **(env or {}))
    proc = subprocess.Popen(["sh", "-c", "exec " + procfile_command()], cwd=ROOT, env=run_env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                os.killpg(proc.pid, 9)
                raise RuntimeError(f"the Procfile's command did not start: {procfile_command()}") from None
            time.sleep(0.2)
    try:
        yield url, proc
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
