"""A small threaded HTTP server for the invented demo news site (stdlib only).

    with serve_demo_site() as site:          # port 0: the OS picks a free port
        feedparser.parse(site.feed_url)
        site.publish_next()                   # a new entry appears in the feed
        site.update_article(slug, "New text") # an article's body changes

Foreground: python -m pipeline.demo.site.server --port 8765
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import signal
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from pipeline.demo.site.content import ARTICLES, RESERVE, Article
from pipeline.demo.site.templates import render_article_page, render_feed, render_home

log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
_ROBOTS = b"User-agent: *\nAllow: /\n"
_CSS = b"body{font-family:Georgia,serif;max-width:46rem;margin:auto}.cookie-consent{background:#eee}\n"


class DemoSite:
    """The running site. Thread-safe: handlers read while a test adds or edits articles."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, public_url: str | None = None) -> None:
        self._lock = threading.Lock()
        self._articles: list[Article] = list(ARTICLES)
        self._reserve: list[Article] = list(RESERVE)
        self._failures: dict[str, list[int]] = {}
        # Last-Modified of feed and home page: moves forward by at least a second on every
        # change, so If-Modified-Since stays correct even for back-dated additions.
        self._revised = max(a.published for a in self._articles)
        self.hits: Counter[str] = Counter()  # path -> requests served (any status)
        self.request_log: list[tuple[str, str, int]] = []  # (method, path, status)
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        bound_host, bound_port = self._httpd.server_address[:2]
        if isinstance(bound_host, bytes):  # AF_UNIX only; this server is TCP
            bound_host = bound_host.decode()
        if public_url is None:
            # A wildcard bind is not an address a client can use; loopback is.
            shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else bound_host
            shown = f"[{shown}]" if ":" in str(shown) else shown
            public_url = f"http://{shown}:{bound_port}"
        self.base_url = public_url.rstrip("/")
        self.feed_url = f"{self.base_url}/feed.xml"
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> DemoSite:
        # A short poll interval keeps close() (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="demo-site", daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def close(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> DemoSite:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- what tests look at ---------------------------------------------------------
    @property
    def articles(self) -> list[tuple[str, str, str | None]]:
        """(url, title, rare_word) of every published article, newest first."""
        return [(self.base_url + a.path, a.title, a.rare_word) for a in self._sorted()]

    def article(self, slug: str) -> Article:
        with self._lock:
            for a in self._articles:
                if a.slug == slug:
                    return a
        raise KeyError(slug)

    def url_for(self, slug: str) -> str:
        return self.base_url + self.article(slug).path

    # -- changing the site at run time -----------------------------------------------
    def add_article(
        self,
        slug: str,
        title: str,
        body: str | Sequence[str],
        *,
        rare_word: str | None = None,
        author: str = "Courier Newsdesk",
        description: str | None = None,
        section: str = "City",
        published: datetime | None = None,
    ) -> str:
        """Publish a new article (it appears in the feed at once); returns its URL."""
        paragraphs = _paragraphs(body)
        article = Article(
            slug=slug,
            title=title,
            description=description or paragraphs[0][:160],
            author=author,
            section=section,
            published=published or self._next_date(),
            body=paragraphs,
            rare_word=rare_word,
        )
        return self._add(article)

    def publish_next(self) -> tuple[str, str, str | None]:
        """Publish the next held-back hand-written article; (url, title, rare_word)."""
        with self._lock:
            if not self._reserve:
                raise LookupError("no held-back articles left; use add_article()")
            article = self._reserve.pop(0)
        return (self._add(article), article.title, article.rare_word)

    def update_article(self, slug: str, new_body: str | Sequence[str], *, title: str | None = None) -> None:
        """Replace an article's body (and optionally headline). Its URL and the feed's
        item stay the same, as on a real site that corrects a story; the page's ETag and
        article:modified_time change."""
        with self._lock:
            for i, a in enumerate(self._articles):
                if a.slug == slug:
                    updated = (a.updated or a.published) + timedelta(hours=1)
                    self._articles[i] = replace(
                        a, body=_paragraphs(new_body), title=title or a.title, updated=updated
                    )
                    self._bump(updated)
                    return
        raise KeyError(slug)

    def fail(self, path: str, status: int = 503, times: int = 1) -> None:
        """Answer the next `times` requests for `path` with `status` (for retry tests)."""
        with self._lock:
            self._failures.setdefault(path, []).extend([status] * times)

    # -- internals ---------------------------------------------------------------------
    def _add(self, article: Article) -> str:
        with self._lock:
            if any(a.slug == article.slug for a in self._articles):
                raise ValueError(f"slug already published: {article.slug}")
            self._articles.append(article)
            self._bump(article.published)
        return self.base_url + article.path

    def _bump(self, changed: datetime) -> None:
        # caller holds the lock
        self._revised = max(self._revised + timedelta(seconds=1), changed)

    def _next_date(self) -> datetime:
        newest = max(a.published for a in self._sorted())
        return newest + timedelta(hours=1)

    def _sorted(self) -> list[Article]:
        with self._lock:
            return sorted(self._articles, key=lambda a: a.published, reverse=True)

    def _take_failure(self, path: str) -> int | None:
        with self._lock:
            queued = self._failures.get(path)
            return queued.pop(0) if queued else None

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.hits[path] += 1
            self.request_log.append((method, path, status))

    def render(self, path: str) -> tuple[bytes, str, datetime] | None:
        """(body, content type, last modified) for a path, or None for 404."""
        articles = self._sorted()
        with self._lock:
            newest = self._revised
        if path in ("/", "/index.html"):
            return render_home(articles, self.base_url).encode(), HTML, newest
        if path == "/feed.xml":
            return render_feed(articles, self.base_url, newest).encode(), RSS, newest
        if path == "/robots.txt":
            return _ROBOTS, "text/plain; charset=utf-8", newest
        if path == "/static/site.css":
            return _CSS, "text/css; charset=utf-8", newest
        for i, a in enumerate(articles):
            if a.path == path:
                related = [r for r in articles if r is not a][i % 2 : i % 2 + 3]
                page = render_article_page(a, self.base_url, related)
                return page.encode(), HTML, a.updated or a.published
        return None


def _paragraphs(body: str | Sequence[str]) -> tuple[str, ...]:
    parts = body.split("\n\n") if isinstance(body, str) else list(body)
    paragraphs = tuple(p.strip() for p in parts if p.strip())
    if not paragraphs:
        raise ValueError("an article needs at least one non-empty paragraph")
    return paragraphs


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _not_modified(headers: Message, etag: str, last_modified: datetime) -> bool:
    # RFC 9110: If-None-Match wins; If-Modified-Since is only looked at without it.
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        return since.tzinfo is not None and last_modified.replace(microsecond=0) <= since
    return False


def _make_handler(site: DemoSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real server; needs Content-Length
        server_version = "WendlemoorCourier/1.0"

        def do_GET(self) -> None:
            self._respond(send_body=True)

        def do_HEAD(self) -> None:
            self._respond(send_body=False)

        def _respond(self, send_body: bool) -> None:
            path = urlsplit(self.path).path
            failure = site._take_failure(path)
            if failure is not None:
                self._plain(failure, b"simulated failure\n", send_body, path)
                return
            rendered = site.render(path)
            if rendered is None:
                self._plain(404, b"not found\n", send_body, path)
                return
            body, content_type, last_modified = rendered
            etag = _etag(body)
            status = 304 if _not_modified(self.headers, etag, last_modified) else 200
            self.send_response(status)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", format_datetime(last_modified, usegmt=True))
            self.send_header("Cache-Control", "max-age=60")
            if status == 200:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Content-Length", "0")
            self.end_headers()
            if send_body and status == 200:
                self.wfile.write(body)
            site._record(self.command, path, status)

        def _plain(self, status: int, body: bytes, send_body: bool, path: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if status in (429, 503):
                self.send_header("Retry-After", "1")
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            site._record(self.command, path, status)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.debug("demo-site %s " + format, self.client_address[0], *args)

    return Handler


def serve_demo_site(host: str = "127.0.0.1", port: int = 0, *, public_url: str | None = None) -> DemoSite:
    """Start the demo site in a background daemon thread and return it (a context manager)."""
    return DemoSite(host, port, public_url=public_url).start()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the invented demo news site.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--public-url", help="base URL for links, e.g. http://demo-site:8765")
    args = parser.parse_args(argv)
    site = DemoSite(args.host, args.port, public_url=args.public_url)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on SIGTERM too
    print(f"demo site at {site.base_url}/  feed: {site.feed_url}  (Ctrl-C to stop)", flush=True)
    try:
        site.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        site.close()


if __name__ == "__main__":
    main()
