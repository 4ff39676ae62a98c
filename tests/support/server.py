"""A real ``papertape serve`` process, started as a user starts it, for black-box tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    def __init__(
        self,
        store_url: str,
        log_path: Path,
        *,
        extra_env: dict[str, str] | None = None,
        extra_args: list[str] | None = None,
        launcher: tuple[str, ...] = ("-m", "papertape", "serve"),
    ):
        self.store_url = store_url
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PAPERTAPE_LOG_LEVEL": "info",
            "PYTHONUNBUFFERED": "1",  # the log is complete when a test reads it
            "PYTHONFAULTHANDLER": "1",  # a crash in native code leaves the Python stacks there
            **(extra_env or {}),
        }
        self.extra_args = extra_args or []
        self.launcher = launcher  # what to run: `papertape serve`, or a test server module
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                *self.launcher,
                "--port",
                str(self.port),
                "--store",
                self.store_url,
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=REPO_ROOT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()  # never leave a half-started server behind
        raise RuntimeError(
            f"server did not answer in {timeout}s:\n{self.log_path.read_text()[-3000:]}"
        )

    def stop(self, timeout: float = 30.0) -> int | None:
        """Graceful stop (SIGTERM), as a user's Ctrl-C or a service manager does."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        """kill -9: no chance to clean up, as in a crash or an OOM kill."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def died(self) -> str | None:
        """How the process ended, with the end of its log, if it ended without being asked to
        (``None`` while it runs, or when it was never started)."""
        if self.process is None or self.process.poll() is None:
            return None
        tail = self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""
        return f"the server exited with code {self.process.returncode}; its log ends:\n{tail}"

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


def double_server(
    store_url: str, log_path: Path, speed: float = 20, unreachable: str | None = None
) -> ServerProcess:
    """The real app, served with the recorded-data exchange double behind the process's exchange
    hub (``tests.support.serve_with_double``): ``GET /markets`` and sessions on the default
    exchange source get real recorded data instead of reaching out to an exchange; with
    ``unreachable`` every exchange call fails with that network error (no network)."""
    return ServerProcess(
        store_url,
        log_path,
        launcher=("-m", "tests.support.serve_with_double"),
        extra_args=["--speed", str(speed)]
        + (["--unreachable", unreachable] if unreachable else []),
    )
