"""Real apps for the process tests: written into the test's project, run with this
interpreter, stopped the way users stop them."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _project

#: Generous bounds for a shared 2-core machine; a healthy run takes a fraction of them.
TIMEOUT = 60.0


def clean_env(**extra: str) -> dict[str, str]:
    """:func:`_project.clean_env`, unbuffered: these apps say "ready" on stdout."""
    return _project.clean_env(**{"PYTHONUNBUFFERED": "1", **extra})


def write_app(root: Path, code: str, name: str = "app.py") -> Path:
    path = root / name
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def start_app(root: Path, *args: str, env: dict[str, str] | None = None,
              name: str = "app.py", stdin: bool = False) -> subprocess.Popen[str]:
    """Start ``python app.py *args``; returns once it printed ``ready`` (fails if it
    exits first). ``stdin``: a pipe the test writes to."""
    proc = subprocess.Popen(
        [sys.executable, name, *args], cwd=root, env=env or clean_env(),
        stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        _, err = proc.communicate(timeout=TIMEOUT)
        raise AssertionError(f"app exited {proc.returncode} before it was ready:\n{err}")
    return proc


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait for the app to exit: (status, stderr)."""
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(root: Path, argv: list[str], port: int) -> subprocess.Popen[bytes]:
    """``python -m <argv>`` in ``root``, once it listens on ``port`` (output in
    ``server.log``)."""
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", *argv], cwd=root, env=clean_env(),
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"server did not listen on {port}:\n{log.read_text()}")


def get_many(port: int, paths: list[str], threads: int = 16) -> list[int]:
    """GET every path concurrently; the statuses, in order."""

    def get(path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
                return int(r.status)
        except urllib.error.HTTPError as err:
            return int(err.code)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(get, paths))


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
