"""Start and stop a real server: uvicorn for a benchmark (one BLAS/OpenMP thread per worker, no access log), or
the Procfile's command as a platform runs it (bench/lecture_hall.py, tests/load/test_procfile.py)."""
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


def wait_until_healthy(proc: subprocess.Popen, url: str, seconds: float, stop, failure: str) -> None:
    """Ask url/health until it answers; if the process ends or ``seconds`` pass first, stop() it and raise
    RuntimeError(failure)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop()
                raise RuntimeError(failure) from None
            time.sleep(0.1)


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
    wait_until_healthy(proc, url, 30, proc.kill, "uvicorn did not start")
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


def procfile_env(**settings: str) -> dict[str, str]:
    """The environment a platform gives the Procfile's command: this one without the server's own settings,
    the venv's python first on PATH, then ``settings`` (PORT, WEB_CONCURRENCY…)."""
    env = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "ROOT_PATH", "LIMIT_CONCURRENCY")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **settings}


def run_procfile(env: dict[str, str], **popen) -> subprocess.Popen:
    """The Procfile's web command in a shell, from the repository root."""
    return subprocess.Popen(["sh", "-c", "exec " + procfile_command()], cwd=ROOT, env=env, **popen)


@contextlib.contextmanager
def procfile(workers: int | None = 2, env: dict | None = None):
    """Yield (base URL, process) of the Procfile's command in a shell, as a platform starts it: PORT set (and
    WEB_CONCURRENCY when ``workers`` is given), the venv's python first on PATH; stopped with its process group."""
    port = free_port()
    run_env = procfile_env(PORT=str(port), **({"WEB_CONCURRENCY": str(workers)} if workers else {}), **(env or {}))
    proc = run_procfile(run_env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(proc, url, 120, lambda: os.killpg(proc.pid, 9),
                       f"the Procfile's command did not start: {procfile_command()}")
    try:
        yield url, proc
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
