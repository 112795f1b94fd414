"""A local HTTP server that misbehaves on purpose: slow, huge, looping, bombing, lying.

Runs in a daemon thread on 127.0.0.1 (port 0). Each route is one hostile behaviour from the
poller's "bad input" list; `tests/unit/connectors/fetch/test_fetching.py` and `test_poller.py` use it.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GIB = 1 << 30
MIB = 1 << 20


@cache
def gzip_bomb() -> bytes:
    """~1 MB of gzip that inflates to 1 GiB of zeros (made once, ~2 s)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MIB)
    parts = [packer.compress(block) for _ in range(GIB // MIB)]
    parts.append(packer.flush())
    return b"".join(parts)


def rss(items: list[tuple[str, str]], title: str = "Hostile feed") -> bytes:
    body = "".join(f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid></item>"
                   for t, link in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{title}</title>{body}</channel></rss>").encode()


PAGE = ("<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        + "<p>The harbour commission met on Thursday to discuss the ferry timetable and the new "
          "quay, and residents asked questions about noise, parking and the fish market.</p>" * 6
        + "</article></body></html>")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return  # clients hanging up on hostile routes is expected, not news


class HostileServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.hits: dict[str, int] = {}
        self.agents: dict[str, set[str]] = {}  # path -> User-Agents that asked for it
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {}
        self._httpd = _QuietServer((host, 0), self._handler())  # any of 127.0.0.0/8
        self.base = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._install_defaults()

    def url(self, path: str) -> str:
        return self.base + path

    def add_pages(self, prefix: str, count: int) -> None:
        """Calm article pages at {prefix}0 .. {prefix}{count-1}, each with its own title."""
        for i in range(count):
            html = PAGE.format(title=f"Story {i}").encode()
            self.routes[f"{prefix}{i}"] = lambda h, html=html: send(
                h, 200, html, "text/html; charset=utf-8")

    def start(self) -> HostileServer:
        gzip_bomb()  # made before serving, so request timing is the client's alone
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?")[0]
                server.hits[path] = server.hits.get(path, 0) + 1
                server.agents.setdefault(path, set()).add(self.headers.get("User-Agent", ""))
                route = server.routes.get(path)
                try:
                    if route is None:
                        send(self, 404, b"not here", "text/plain")
                    else:
                        route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on us, which is the point of most routes

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        return Handler

    def _install_defaults(self) -> None:
        r = self.routes
        r["/robots.txt"] = lambda h: send(h, 200, b"User-agent: *\nDisallow: /private/\n",
                                          "text/plain")
        r["/page"] = lambda h: send(h, 200, PAGE.format(title="A calm page").encode(),
                                    "text/html; charset=utf-8")
        r["/private/page"] = r["/page"]
        r["/slow"] = trickle
        r["/huge"] = huge
        r["/bomb"] = lambda h: send(h, 200, gzip_bomb(), "text/html", {"Content-Encoding": "gzip"})
        r["/loop/a"] = lambda h: send(h, 302, b"", "text/plain", {"Location": "/loop/b"})
        r["/loop/b"] = lambda h: send(h, 302, b"", "text/plain", {"Location": "/loop/a"})
        r["/moved"] = lambda h: send(h, 301, b"", "text/plain", {"Location": "/page"})
        r["/to-metadata"] = lambda h: send(h, 302, b"", "text/plain",
                                           {"Location": "http://169.254.169.254/latest/meta-data"})
        r["/error"] = lambda h: send(h, 500, b"boom", "text/plain")
        r["/busy"] = lambda h: send(h, 429, b"slow down", "text/plain", {"Retry-After": "120"})
        r["/gone"] = lambda h: send(h, 410, b"gone", "text/plain")
        r["/pdf"] = lambda h: send(h, 200, b"%PDF-1.4 not html", "application/pdf")
        r["/invalid-utf8"] = lambda h: send(
            h, 200, PAGE.format(title="Caf\xe9 bad \udcff").encode("utf-8", "surrogateescape")
            .replace(b"harbour", b"harb\xff\xfeour"), "text/html; charset=utf-8")
        r["/wrong-charset"] = lambda h: send(
            h, 200, PAGE.format(title="Caf\u00e9 na\u00efve").encode("latin-1"),
            "text/html; charset=utf-8")
        r["/html-not-feed"] = lambda h: send(h, 200, b"<html><body><p>Home</p></body></html>",
                                             "text/html")


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
         headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


def trickle(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    for _ in range(100):
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(1.0)  # the hostile behaviour itself: one byte a second


def huge(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(GIB))
    handler.end_headers()
    chunk = b"<p>" + b"a" * (64 * 1024 - 3)
    for _ in range(GIB // len(chunk)):
        handler.wfile.write(chunk)
