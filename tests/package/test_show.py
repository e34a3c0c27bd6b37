"""show() outside a notebook and behind proxies, and `convscope` on a busy port: from the checkout,
in subprocesses, as a user's script or shell runs them."""
import os
import re
import signal
import socket
import subprocess
import sys
import types
import urllib.request

import pytest

from app import notebook
from tests.package.conftest import ROOT

SPEC = "{'type': 'MaxPool2d', 'kernel_size': 2}, (1, 4, 4)"


def python(code: str, sigint_ignored: bool = False, **env) -> subprocess.Popen:
    """A user's script; ``sigint_ignored``: started as a shell script's background job is (SIGINT ignored, which
    Python then keeps)."""
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
    return subprocess.Popen([sys.executable, "-u", "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env}, preexec_fn=ignore)


def test_a_script_says_its_url_lives_as_long_as_the_script():
    out, err = python(f"import app; app.show({SPEC})").communicate(timeout=120)
    lines = out.splitlines()
    assert re.fullmatch(r"Convscope: http://127\.0\.0\.1:\d+/pool\?framework=torch&type=MaxPool2d&kernel_size=2&"
                        r"input_shape=1,1,4,4", lines[0]), out + err
    assert lines[1].startswith("(This URL works while this script runs: its server stops when the script ends. "
                               "Pass block=True to keep serving until Ctrl+C.)")


@pytest.mark.parametrize("sigint_ignored", [False, True])
def test_block_serves_behind_a_proxy_until_ctrl_c(sigint_ignored):
    """CONVSCOPE_PROXY_URL (as on a JupyterHub): the URL printed is the proxy's, the server answers
    the path the proxy forwards (its prefix stripped), and it serves until Ctrl+C, also where the script was
    started ignoring SIGINT (it hung there until killed)."""
    proc = python(f"import app; app.show({SPEC}, block=True)", sigint_ignored,
                  CONVSCOPE_PROXY_URL="/user/{user}/proxy/{port}/", JUPYTERHUB_USER="ann")
    try:
        first = proc.stdout.readline()
        match = re.fullmatch(r"Convscope: /user/ann/proxy/(\d+)(/pool\?\S+)\n", first)
        assert match, first + proc.stderr.read()
        assert proc.stdout.readline() == "Serving until Ctrl+C.\n"
        port, path = match.groups()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/embed{path}", timeout=30) as r:
            assert r.status == 200 and 'data-output-shape="[1, 1, 2, 2]"' in r.read().decode()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0 and out == "Stopped.\n"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_jupyterhub_and_binder_are_found_from_their_environment():
    env = {"JUPYTERHUB_SERVICE_PREFIX": "/user/ann/", "JUPYTERHUB_USER": "ann"}
    assert notebook.proxied(notebook.proxy_template(env), 8123, env) == "/user/ann/proxy/8123"
    assert notebook.proxy_template({"CONVSCOPE_PROXY_URL": "https://hub.example/p/{port}/", **env}) == \
        "https://hub.example/p/{port}/"
    assert notebook.proxy_template({}) is None


def test_configure_wins_and_names_what_a_proxy_url_needs():
    try:
        notebook.configure(proxy_url="/proxy/{port}/")
        assert notebook.proxy_template({"CONVSCOPE_PROXY_URL": "/other/{port}/"}) == "/proxy/{port}/"
        with pytest.raises(ValueError, match=r"proxy_url needs \{port\}.*'/proxy/'"):
            notebook.configure(proxy_url="/proxy/")
        notebook.configure(proxy_url="")  # the browser is on this machine, whatever the environment says
        assert notebook.proxy_template({"JUPYTERHUB_SERVICE_PREFIX": "/user/ann/"}) is None
    finally:
        notebook._settings["proxy_url"] = None
    assert notebook.proxy_template({"JUPYTERHUB_SERVICE_PREFIX": "/user/ann/"}) == "/user/ann/proxy/{port}/"


def test_a_new_proxy_setting_restarts_the_server_under_it():
    try:
        notebook.configure(proxy_url="")
        local = notebook.local_server()
        assert local.startswith("http://127.0.0.1:")
        notebook.configure(proxy_url="/hub/{port}/")
        proxied = notebook.local_server()
        port = notebook._server.server.servers[0].sockets[0].getsockname()[1]
        assert proxied == f"/hub/{port}" and notebook._server.server.config.root_path == f"/hub/{port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=30) as r:
            assert r.status == 200
        with pytest.raises(OSError):  # the old one stopped
            urllib.request.urlopen(local + "/health", timeout=5)
    finally:
        notebook._settings["proxy_url"] = None
        notebook._server.stop()


def test_in_colab_the_url_is_colabs_port_proxy(monkeypatch):
    asked = []

    def eval_js(script):
        asked.append(script)
        port = re.search(r"proxyPort\((\d+)", script).group(1)
        return f"https://{port}-colab.example/"
    output = types.SimpleNamespace(eval_js=eval_js)
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    server = notebook._Server()
    try:
        port = server.server.servers[0].sockets[0].getsockname()[1]
        assert server.url == f"https://{port}-colab.example" and asked == [
            f"google.colab.kernel.proxyPort({port}, {{'cache': false}})"]
        assert server.server.config.root_path == ""  # Colab's proxy serves the port at its root
    finally:
        server.stop()


def test_a_busy_port_is_the_first_and_only_message():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "app", "--no-browser", "--port", str(port)], cwd=ROOT,
                                capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines()[0] == (f"convscope: port {port} on 127.0.0.1 is already in use (another "
                                             f"Convscope, or another program): stop it, or choose another port, "
                                             f"e.g. --port {port + 1}")
