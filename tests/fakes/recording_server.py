"""An HTTP server on loopback that accepts every request and records it (a LangSmith stand-in).

``GET /info`` answers ``{}`` (clients ask for server capabilities first); everything else gets
``202``. Bodies sent with ``Content-Encoding: zstd`` are stored decompressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from fakes.loopback import LoopbackServer, QuietHandler


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    body: bytes


class RecordingServer(LoopbackServer):
    """Record every request sent to ``url``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        return self.root

    @property
    def posted(self) -> bytes:
        """Return every body received by a write (POST/PATCH/PUT), concatenated."""
        with self._lock:
            return b"\n".join(r.body for r in self.requests if r.method != "GET")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"

            def _record(self) -> None:
                body = self.read_body()
                if self.headers.get("Content-Encoding") == "zstd":
                    import zstandard

                    body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
                with server._lock:
                    server.requests.append(Recorded(self.command, self.path, body))

            def do_GET(self) -> None:
                self._record()
                self.send_json(200, {})

            def do_POST(self) -> None:
                self._record()
                self.send_json(202, {})

            do_PATCH = do_POST
            do_PUT = do_POST

        return Handler
