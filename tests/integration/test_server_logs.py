"""`patronage serve` writes structured logs: one JSON object a line on stderr, a record
per request with its method, path, route, status and duration, never the API key."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

PATRONAGE = str(Path(sys.executable).parent / "patronage")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_each_request_is_one_json_line_without_the_key(empty_db_url: str, workers: int) -> None:
    subprocess.run([PATRONAGE, "init", "--db", empty_db_url], check=True, capture_output=True)
    created = subprocess.run(
        [PATRONAGE, "apikey", "create", "--role", "admin", "--db", empty_db_url],
        check=True,
        capture_output=True,
        text=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    port = free_port()
    env = {**os.environ, "PATRONAGE_SCHEDULER": "false", "PATRONAGE_LOG_FORMAT": "json"}
    args = ["serve", "--db", empty_db_url, "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        [PATRONAGE, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {key}"}
        missing = httpx.get(f"{base}/api/v1/members/999?token=s3cret", headers=headers)
        assert missing.status_code == 404
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    [request] = [x for x in lines if x.get("path") == "/api/v1/members/999"]
    assert request["method"] == "GET" and request["status"] == 404
    assert request["route"] == "/api/v1/members/{member_id}" and request["duration_ms"] >= 0
    assert request["logger"] == "patronage.access" and request["level"] == "INFO"
    assert key not in stderr and "s3cret" not in stderr
    assert any(x["logger"].startswith("uvicorn") for x in lines)  # the server's own, too
