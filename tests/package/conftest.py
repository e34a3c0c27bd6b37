"""The wheel, built by the README's command and installed into a fresh virtual environment outside
the checkout (with ipykernel, for the notebook test): what `pip install convscope` gives a user."""
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*cmd, **kw):
    result = subprocess.run([str(c) for c in cmd], check=False, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer") from None
            time.sleep(0.2)


def shared(tmp_path_factory, name: str, make) -> Path:
    """A folder ``make(folder)`` fills once for the whole test run: under pytest-xdist the workers share it (the
    first builds it under a lock, the others wait and reuse it), so no two build the wheel in the checkout at once
    (setuptools writes build/ there) and the venv is made once."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    folder = root / f"shared-{name}"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".made").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".made").touch()
    return folder


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    # the same command as `make wheel`, into a temporary folder
    dist = shared(tmp_path_factory, "dist", lambda d: run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                                                          "--wheel-dir", d, ROOT, cwd=ROOT))
    (found,) = dist.glob("convscope-*.whl")
    return found


@pytest.fixture(scope="session")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv outside the checkout with the wheel (its dependencies at our pins) and ipykernel."""
    def make(env_dir: Path) -> None:
        run(sys.executable, "-m", "venv", env_dir)
        run(env_dir / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "-c", ROOT / "requirements.txt", "-c", ROOT / "requirements-dev.txt", wheel, "ipykernel",
            cwd=env_dir)
    return shared(tmp_path_factory, "venv", make)


@pytest.fixture(scope="session")
def installed_server(venv):
    """`convscope --no-browser --port N`, started from the venv, outside the checkout."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.Popen([venv / "bin" / "convscope", "--no-browser", "--port", str(port)], cwd=venv, env=env,
                            stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/health", proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def kernel_with(venv: Path, tmp_path_factory, name: str, env: dict | None = None) -> str:
    """A Jupyter kernel that runs the venv's Python (found through JUPYTER_PATH), with these variables."""
    path = tmp_path_factory.mktemp("jupyter")
    spec = path / "kernels" / name
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"convscope ({name})", "language": "python", **({"env": env} if env else {})}))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(path), os.environ.get("JUPYTER_PATH")) if p)
    return name


@pytest.fixture(scope="session")
def kernel_name(venv, tmp_path_factory) -> str:
    return kernel_with(venv, tmp_path_factory, "convscope-wheel")

def fresh_venv(path: Path) -> Path:
    run(sys.executable, "-m", "venv", path)
    return path


def clean_env(**extra) -> dict:
    """The environment a user's shell would give pip: none of the checkout's venv or paths."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")}
    return {**env, **extra}


@pytest.fixture(scope="session")
def bare_clone(tmp_path_factory) -> tuple[Path, str]:
    """A bare clone of this checkout's HEAD (what `pip install git+<url>` fetches): committed files
    only, so no node_modules and nothing built."""
    path = tmp_path_factory.mktemp("git") / "convscope.git"
    run("git", "clone", "--quiet", "--bare", "--no-local", ROOT, path)
    sha = run("git", "-C", ROOT, "rev-parse", "HEAD").strip()
    return path, sha


@pytest.fixture(scope="session")
def git_venv(bare_clone, tmp_path_factory) -> Path:
    """A fresh venv with `pip install git+file://<bare clone>@<HEAD>`, npm on PATH (the build runs `npm ci`)."""
    path, sha = bare_clone
    env_dir = fresh_venv(tmp_path_factory.mktemp("gitvenv"))
    run(env_dir / "bin" / "python", "-m", "pip", "install", "--quiet", "-c", ROOT / "requirements.txt",
        f"git+file://{path}@{sha}", cwd=env_dir, env=clean_env())
    return env_dir


@pytest.fixture(scope="session")
def git_kernel_name(git_venv, tmp_path_factory) -> str:
    """A kernel of the venv installed from the bare clone (ipykernel added at the tests' pins)."""
    run(git_venv / "bin" / "python", "-m", "pip", "install", "--quiet", "-c", ROOT / "requirements.txt",
        "-c", ROOT / "requirements-dev.txt", "ipykernel", cwd=git_venv, env=clean_env())
    return kernel_with(git_venv, tmp_path_factory, "convscope-git")
