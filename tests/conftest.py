"""Shared fixtures: an in-process client, and a real uvicorn server for the browser tests."""
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bench.server import wait_until_healthy

ROOT = Path(__file__).resolve().parent.parent
# the recording scripts need torch and keras; CI reads the data they wrote
collect_ignore_glob = ["golden/record*.py"]


@pytest.fixture(scope="session")
def client():
    from app.main import app
    with TestClient(app) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(proc, url, 120, proc.kill, "uvicorn did not start")  # a loaded CI machine imports slowly
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
