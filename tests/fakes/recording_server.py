"""An HTTP server on loopback that accepts every request and records it (a LangSmith stand-in).

``GET /info`` answers ``{}`` (clients ask for server capabilities first); everything else gets
``202``. Bodies sent with ``Content-Encoding: zstd`` are stored decompressed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    body: bytes


class RecordingServer:
    """Record every request sent to ``url``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def posted(self) -> bytes:
        """Return every body received by a write (POST/PATCH/PUT), concatenated."""
        with self._lock:
            return b"\n".join(r.body for r in self.requests if r.method != "GET")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Encoding") == "zstd":
                    import zstandard

                    body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
                with server._lock:
                    server.requests.append(Recorded(self.command, self.path, body))

            def _reply(self, status: int, data: object) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._record()
                self._reply(200, {})

            def do_POST(self) -> None:
                self._record()
                self._reply(202, {})

            do_PATCH = do_POST
            do_PUT = do_POST

        return Handler
