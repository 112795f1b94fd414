"""A local news site for the stack benches: real pages behind RSS feeds, on many loopback hosts.

The dev split's 58 real news pages (`../shared/bench/extraction/html`) are replicated into N
distinct articles: replica r of page p lives at `http://127.0.0.<h>:<port>/news/p<p>-r<r>.html`
with one sentence of its own in the first long paragraph, so every replica is a distinct URL and
a slightly different body. Articles are dealt round-robin to F feeds, one host per feed
(`/feed.xml`), so per-host politeness applies as it would across real sites. Bodies are gzipped
once up front and served from memory by a minimal asyncio HTTP/1.1 server in its own process
(its CPU is the "internet", not the pipeline's). 127.0.0.0/8 is loopback on Linux: no setup.
"""

from __future__ import annotations

import asyncio
import gzip
import multiprocessing
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from multiprocessing.synchronize import Event
from pathlib import Path

from pipeline.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT.parent / "shared" / "bench" / "extraction" / "html"
_LONG_P = re.compile(rb"(<p\b[^>]*>)([^<]{120,})")


@dataclass(frozen=True)
class Response:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def encode(self) -> bytes:
        head = "".join(f"{k}: {v}\r\n" for k, v in self.headers)
        return (f"HTTP/1.1 {self.status}\r\nContent-Length: {len(self.body)}\r\n{head}\r\n"
                .encode("latin-1") + self.body)


Routes = dict[tuple[str, str], bytes]  # (host, path) -> the encoded answer


@dataclass(frozen=True)
class Site:
    port: int
    hosts: tuple[str, ...]
    feeds: tuple[str, ...]  # feed URLs, one per host
    articles: tuple[str, ...]  # every article URL, in feed order
    routes: Routes


def real_pages() -> list[bytes]:
    if not CORPUS.is_dir():
        raise SystemExit(f"{CORPUS} is absent: the stack benches need ../shared/bench")
    return [gzip.decompress(p.read_bytes()) for p in sorted(CORPUS.glob("*.html.gz"))]


def _replica(html: bytes, page: int, replica: int) -> bytes:
    """The page with one sentence of its own, so replicas are distinct texts."""
    note = f" Reported for edition {replica} of story {page}, newsroom copy {replica * 7 + page}."
    return _LONG_P.sub(lambda m: m.group(1) + m.group(2) + note.encode(), html, count=1)


def _page(html: bytes) -> bytes:
    return Response("200 OK", (("Content-Type", "text/html; charset=utf-8"),
                               ("Content-Encoding", "gzip")), gzip.compress(html, 6)).encode()


def _rss(base: str, links: list[str], now: datetime) -> bytes:
    items = "".join(
        f"<item><title>Story {i} of {base}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=i))}</pubDate></item>"
        for i, link in enumerate(links))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{base}</title><link>{base}/</link>{items}</channel></rss>").encode()


def build_site(articles: int, feeds: int, port: int, *, pages: list[bytes] | None = None,
               extra: Routes | None = None) -> Site:
    pages = pages or real_pages()
    hosts = tuple(f"127.0.0.{2 + i}" for i in range(feeds))
    per_feed: list[list[str]] = [[] for _ in range(feeds)]
    routes: Routes = {}
    for n in range(articles):
        page, replica = n % len(pages), n // len(pages)
        host = hosts[n % feeds]
        path = f"/news/p{page}-r{replica}.html"
        routes[(host, path)] = _page(_replica(pages[page], page, replica))
        per_feed[n % feeds].append(f"http://{host}:{port}{path}")
    now = datetime.now(UTC)
    feed_urls = []
    for host, links in zip(hosts, per_feed, strict=True):
        base = f"http://{host}:{port}"
        routes[(host, "/feed.xml")] = Response(
            "200 OK", (("Content-Type", "application/rss+xml"),), _rss(base, links, now)).encode()
        routes[(host, "/robots.txt")] = Response(
            "200 OK", (("Content-Type", "text/plain"),), b"User-agent: *\nAllow: /\n").encode()
        feed_urls.append(f"{base}/feed.xml")
    routes.update(extra or {})
    return Site(port, hosts, tuple(feed_urls), tuple(link for links in per_feed for link in links),
                routes)


class _Server(asyncio.Protocol):
    def __init__(self, routes: Routes, host: str) -> None:
        self.routes, self.host, self.buffer = routes, host, b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            path = head.split(b" ", 2)[1].decode("latin-1").split("?")[0]
            answer = self.routes.get((self.host, path))
            self.transport.write(answer if answer is not None else
                                 Response("404 Not Found", (), b"no").encode())


def _serve(site: Site, ready: Event) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        servers = [await loop.create_server(lambda h=host: _Server(site.routes, h), host,
                                            site.port) for host in site.hosts]
        ready.set()
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


def start(site: Site) -> multiprocessing.Process:
    """Serve `site` from a child process; returns once it listens on every host."""
    ready = multiprocessing.get_context("fork").Event()
    proc = multiprocessing.get_context("fork").Process(target=_serve, args=(site, ready),
                                                       daemon=True, name="news-site")
    proc.start()
    if not ready.wait(30):
        raise RuntimeError("the news site did not start")
    return proc


def feeds_yaml(site: Site, path: Path) -> Path:
    path.write_text("feeds:\n" + "".join(f"  - url: {url}\n" for url in site.feeds),
                    encoding="utf-8")
    return path
