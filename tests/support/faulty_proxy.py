"""A reverse proxy on loopback that can lose answers: the server acts, the device never hears.

Used for the lost-response cases: the request reaches the real server and is committed there,
then the proxy closes the device's connection without passing the answer on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FaultyProxy:
    """Forwards to `upstream`; `drop` says which answers to swallow, `held` which to delay."""

    def __init__(
        self,
        upstream: str,
        drop: Callable[[str, str], bool],
        held: Callable[[str, str], bool] = lambda method, path: False,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.drop = drop
        self.held = held
        self.seen: list[tuple[str, str, int]] = []
        self.hold = threading.Event()
        self.hold.set()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                answer = requests.request(
                    self.command, proxy.upstream + self.path, data=body, headers=headers,
                    timeout=30, allow_redirects=False,
                )  # fmt: skip
                proxy.seen.append((self.command, self.path, answer.status_code))
                if proxy.held(self.command, self.path):
                    proxy.hold.wait(30)  # answers of these requests wait until released
                if proxy.drop(self.command, self.path):
                    self.close_connection = True
                    self.connection.close()  # the server acted; the device hears nothing
                    return
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        """Stops listening."""
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()
