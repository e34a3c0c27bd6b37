"""The Procfile's command as a platform runs it (only PORT set): 300 open browsers, each holding a
keep-alive connection and asking again and again, get no 503 (uvicorn's --limit-concurrency counts
idle keep-alive connections and sheds at once; the old default of 200 answered 349 of 15,599 with
503 here)."""
import asyncio
import concurrent.futures
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.server import procfile, procfile_env, run_procfile  # noqa: E402

CONNECTIONS, SECONDS = 300, 5
PATHS = ["/health", "/explore?kernel_size=2", "/pool?kernel_size=3", "/cost", "/explore?kernel_size=3&stride=2"]


@pytest.fixture
def procfile_server():
    """The Procfile's web command as a platform runs it (bench/server.py): only PORT set; yields the port."""
    with procfile(workers=None) as (url, _):
        yield urlsplit(url).port


async def browser(port: int, index: int, until: float, statuses: Counter) -> None:
    """One open tab: a keep-alive connection that asks for view after view until the time is up."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as e:
        statuses[f"connect: {e.__class__.__name__}"] += 1
        return
    i = index
    try:
        while time.monotonic() < until:
            path = PATHS[i % len(PATHS)]
            i += 1
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
            await reader.readexactly(int(headers.get(b"content-length", b"0")))
            statuses[status] += 1
            if headers.get(b"connection", b"").lower() == b"close":
                statuses["closed by the server"] += 1
                return
    except (OSError, asyncio.IncompleteReadError) as e:
        statuses[f"dropped: {e.__class__.__name__}"] += 1
    finally:
        writer.close()


async def lecture_hall(port: int) -> Counter:
    statuses = Counter()
    until = time.monotonic() + SECONDS
    await asyncio.gather(*(browser(port, i, until, statuses) for i in range(CONNECTIONS)))
    return statuses


def test_three_hundred_keep_alive_browsers_get_no_503(procfile_server):
    # a thread of its own: in the full session Playwright's sync API leaves an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        statuses = pool.submit(asyncio.run, lecture_hall(procfile_server)).result()
    print(f"{CONNECTIONS} keep-alive connections, {SECONDS} s: {dict(statuses)}")
    assert set(statuses) == {200}, dict(statuses)
    assert statuses[200] >= CONNECTIONS  # every browser was answered at least once


def test_the_launchers_doctests_pass():
    import doctest

    import app.serve
    result = doctest.testmod(app.serve, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


def test_workers_follow_a_containers_cpu_quota_not_the_hosts_cores(tmp_path):
    from app.serve import cgroup_cpus, usable_cpus
    (tmp_path / "cpu.max").write_text("200000 100000\n")  # cgroup v2: docker run --cpus 2
    assert usable_cpus(64, cgroup_cpus(tmp_path)) == 2
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert usable_cpus(64, cgroup_cpus(tmp_path)) == 64
    (tmp_path / "cpu.max").unlink()  # cgroup v1
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("150000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert usable_cpus(64, cgroup_cpus(tmp_path)) == 2
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpus(tmp_path) is None


def test_a_bad_setting_stops_with_a_sentence_naming_it():
    proc = run_procfile(procfile_env(PORT="eighty"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0 and stderr.strip() == "convscope: PORT='eighty' is not a whole number from 1 to 65535"
