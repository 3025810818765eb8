"""A real HTTP server on 127.0.0.1 that answers from a script: for retry tests.

``responses`` replaces the transport adapter, so it never runs urllib3's retry loop (it emulates
status retries only, without waits). Retries are urllib3's job, so their tests talk to a real
socket: this server answers each request with the next ``(status, json_body)`` of its script.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DROP = 0  # a script entry with this status closes the connection without an answer


class ScriptedServer:
    def __init__(self, script: list[tuple[int, Any]]) -> None:
        self.script = list(script)
        self.requests: list[tuple[str, str]] = []  # (method, path)
        self.lock = threading.Lock()

    def next_answer(self, method: str, path: str) -> tuple[int, Any]:
        with self.lock:
            self.requests.append((method, path))
            return self.script.pop(0) if self.script else (500, {"error": "script exhausted"})


@contextmanager
def scripted_server(script: list[tuple[int, Any]]) -> Iterator[tuple[str, ScriptedServer]]:
    """``(base_url, server)`` of a server answering ``script`` in order; stopped on exit."""
    state = ScriptedServer(script)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, body = state.next_answer(self.command, self.path)
            if status == DROP:  # the request was read, the answer is lost
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def refused_url() -> str:
    """A 127.0.0.1 URL nothing listens on: every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
