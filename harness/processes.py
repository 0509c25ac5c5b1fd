"""Services as real processes (end-to-end tests, benchmarks): start, wait until ready, stop.

Each process is `uvicorn <app> --factory` on a free loopback port, configured only through
its environment, with its output in a log file that failures quote. Every wait is bounded:
a service that does not come up, or does not go down, raises instead of hanging its caller.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceProcess:
    """One service run by uvicorn in a child process."""

    def __init__(self, name: str, app: str, *, log_dir: Path, port: int | None = None) -> None:
        self.name = name
        self.app = app
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, env: Mapping[str, str]) -> None:
        """Start the process with `env` laid over this process's environment."""
        if self._process is not None:
            raise RuntimeError(f"{self.name} is already started")
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(  # noqa: S603 (our own command line)
            command,
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Poll `/readyz` until it answers 200; fail if the process exits or time runs out."""
        process = self._running()
        deadline = time.monotonic() + timeout
        last = "no answer"
        with httpx.Client(base_url=self.base_url, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with {process.returncode}:\n{self.log_tail()}"
                    )
                try:
                    response = client.get("/readyz")
                except httpx.TransportError as exc:
                    last = repr(exc)
                else:
                    if response.status_code == 200:
                        return
                    last = f"{response.status_code} {response.text}"
                time.sleep(0.1)
        raise TimeoutError(
            f"{self.name} was not ready within {timeout}s ({last}):\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 10.0) -> int | None:
        """Ask the process to stop (SIGTERM), kill it if it won't; its exit code.

        None if it was never started. Safe to call more than once.
        """
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self._process.returncode

    def kill(self) -> None:
        """SIGKILL: the process dies at once, wherever it is, as in a crash."""
        process = self._running()
        process.kill()
        process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restarted(self, env: Mapping[str, str]) -> "ServiceProcess":
        """A new process of the same service on the same port, started and ready."""
        again = ServiceProcess(
            f"{self.name}-again", self.app, log_dir=self.log_path.parent, port=self.port
        )
        again.start(env)
        again.wait_ready()
        return again

    def log_tail(self, lines: int = 40) -> str:
        """The end of the process's output."""
        if self._log is not None:
            self._log.flush()
        if not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _running(self) -> "subprocess.Popen[bytes]":
        if self._process is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._process

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
