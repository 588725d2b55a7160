"""`patronage serve --workers N` (http/workers.py): a listening socket per worker on one
port, a worker that dies is replaced (one that dies as it starts stops the server),
SIGTERM stops them all, workers stop when the supervisor is killed, a taken port fails
at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

PATRONAGE = str(Path(sys.executable).parent / "patronage")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening_sockets(port: int) -> int:
    """How many sockets listen on ``port`` (state 0A in /proc/net/tcp)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for x in lines if x.split()[1].endswith(f":{port:04X}") and x.split()[3] == "0A")


def workers_of(pid: int) -> list[int]:
    """The server's worker processes (not multiprocessing's resource tracker)."""
    children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [c for c in children if b"spawn_main" in _cmdline(c)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def wait_until(check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def serve_two_workers(db_url: str, port: int, stderr: int | None) -> subprocess.Popen[str]:
    env = {**os.environ, "PATRONAGE_SCHEDULER": "false"}
    args = ["serve", "--db", db_url, "--port", str(port), "--workers", "2"]
    return subprocess.Popen(
        [PATRONAGE, *args], env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True
    )


def two_workers(process: subprocess.Popen[str]) -> list[int]:
    """The server's two worker processes, once both have started."""
    wait_until(lambda: len(workers_of(process.pid)) == 2)
    return workers_of(process.pid)


@pytest.fixture
def served(empty_db_url: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    process = serve_two_workers(empty_db_url, port, subprocess.DEVNULL)
    try:
        wait_until(lambda: healthy(f"http://127.0.0.1:{port}"))
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


def test_each_worker_listens_on_the_port_and_answers(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = served
    wait_until(lambda: listening_sockets(port) == 2)
    assert len(workers_of(process.pid)) == 2
    for _ in range(20):  # new connections each time, spread by the kernel
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


def test_a_worker_that_dies_is_replaced_and_sigterm_stops_all(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = served
    first = two_workers(process)
    time.sleep(5.5)  # past the 5 s in which a dying worker means one that cannot start
    os.kill(first[0], signal.SIGKILL)
    wait_until(lambda: len(set(workers_of(process.pid)) - set(first)) == 1)
    wait_until(lambda: listening_sockets(port) == 2 and healthy(f"http://127.0.0.1:{port}"))
    workers = workers_of(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
    assert listening_sockets(port) == 0


def test_a_worker_that_cannot_start_stops_the_server_with_a_clear_error(
    empty_db_url: str,
) -> None:
    """A worker dying in its first seconds is not restarted over and over: the server
    stops the other one and says so (exit 1)."""
    process = serve_two_workers(empty_db_url, free_port(), subprocess.PIPE)
    try:
        workers = two_workers(process)
        os.kill(workers[0], signal.SIGKILL)  # well within its first 5 seconds
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    assert "a server worker exited as it started" in stderr
    wait_until(lambda: not Path(f"/proc/{workers[1]}").exists(), 30)


def test_a_port_already_taken_fails_at_once(empty_db_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PATRONAGE_SCHEDULER": "false"}
        args = ["serve", "--db", empty_db_url, "--port", str(port), "--workers", "2"]
        result = subprocess.run(
            [PATRONAGE, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_workers_stop_when_the_supervisor_is_killed(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = served
    workers = two_workers(process)
    process.kill()
    process.wait()
    wait_until(lambda: all(not Path(f"/proc/{pid}").exists() for pid in workers), 30)
    wait_until(lambda: listening_sockets(port) == 0, 30)
