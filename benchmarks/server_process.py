"""The real central server in its own process, as production runs it, for benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from fieldops.protocol.version import Paths
from fieldops.resources import demo_dir

SERVER = str(Path(sys.executable).with_name("fieldops-server"))
PASSWORDS = {"tom": "tom-password-1", "ada": "ada-password-1"}


@dataclass
class ServerProcess:
    """A running `fieldops-server serve` on loopback."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _server(data_dir: Path, *args: str, password: str | None = None) -> None:
    subprocess.run(
        [SERVER, "--data-dir", str(data_dir), *args],
        input=(password + "\n").encode() if password else None,
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


def start(data_dir: Path, *, catalogue: bool = True) -> ServerProcess:
    """Migrates, adds tom (HQ-DC1) and ada (admin), imports the demo catalogue, serves."""
    data_dir.mkdir(parents=True, exist_ok=True)
    _server(data_dir, "migrate")
    _server(data_dir, "create-user", "tom", "--role", "technician", "--site", "HQ-DC1",
            "--password-stdin", password=PASSWORDS["tom"])  # fmt: skip
    _server(data_dir, "create-user", "ada", "--role", "admin", "--password-stdin",
            password=PASSWORDS["ada"])  # fmt: skip
    if catalogue:
        _server(data_dir, "import-assets", str(demo_dir() / "catalogue-snipeit.csv"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [SERVER, "--data-dir", str(data_dir), "serve",
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    pause = threading.Event()
    while time.monotonic() < deadline:
        try:
            if requests.get(url + Paths.INFO, timeout=1).ok:
                return ServerProcess(url, process)
        except requests.ConnectionError:
            pass
        pause.wait(0.05)
    process.kill()
    raise RuntimeError("the server did not start within 30 s")
