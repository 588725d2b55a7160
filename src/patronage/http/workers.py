"""Several server processes on one port, each with its own listening socket.

uvicorn's ``--workers`` share one socket, and whichever process wakes first accepts
every connection waiting: the keep-alive connections a load balancer or a benchmark
opens at once all land on one worker while the others idle. Here each worker binds
the port itself with ``SO_REUSEPORT``, and the kernel spreads new connections evenly
over the sockets. A worker that dies is started again, unless it could not start at all
(:class:`WorkerFailedToStart`); SIGTERM or SIGINT stops them all, and workers stop by
themselves if the supervisor dies.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

APP = "patronage.http.asgi:app"  # each worker builds the app from the settings
STARTING_SECONDS = 5  # a worker that dies sooner could not start: restarting it is futile


class WorkerFailedToStart(Exception):  # noqa: N818 - names what happened
    """A worker exited within its first seconds; the others are stopped."""


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def settle_garbage_collector() -> None:
    """Called once the app is built. The cyclic garbage collector paused requests:
    under `make load` balance reads had a p99 of 62-101 ms with it as it comes, 21-34
    ms with it off. What the app holds for its lifetime (routes, schemas, mapped tables)
    is left out of its passes, and it runs less often (every 20,000 net allocations
    instead of 700): p99 21-45 ms, and cycles are still collected."""
    gc.freeze()
    gc.set_threshold(20_000, 50, 1000)


def _stop_when_orphaned(parent: int) -> None:
    """A worker whose supervisor died (killed, out of memory) stops itself gracefully
    instead of serving on with nobody to restart or stop it."""
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def _work(host: str, port: int, log_format: str, parent: int) -> None:
    import uvicorn

    from patronage.http import logs

    threading.Thread(target=_stop_when_orphaned, args=(parent,), daemon=True).start()
    logs.configure(log_format)
    sock = listening_socket(host, port)
    config = uvicorn.Config(APP, host=host, port=port, log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def serve(host: str, port: int, workers: int, log_format: str = "json") -> None:
    """Run ``workers`` processes until SIGTERM or SIGINT; restart any that dies."""
    listening_socket(host, port).close()  # a port already taken fails here, at once
    context = multiprocessing.get_context("spawn")
    stopping = False

    started: dict[int, float] = {}

    def start() -> BaseProcess:
        process = context.Process(
            target=_work, args=(host, port, log_format, os.getpid()), daemon=True
        )
        process.start()
        started[id(process)] = time.monotonic()
        return process

    def restart(process: BaseProcess) -> BaseProcess:
        if time.monotonic() - started.pop(id(process)) < STARTING_SECONDS:
            raise WorkerFailedToStart(
                f"a server worker exited as it started (exit code {process.exitcode})"
            )
        return start()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    processes = [start() for _ in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            processes = [p if p.is_alive() or stopping else restart(p) for p in processes]
    finally:
        for process in processes:
            process.terminate()  # uvicorn shuts down gracefully on SIGTERM
        for process in processes:
            process.join(timeout=30)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
