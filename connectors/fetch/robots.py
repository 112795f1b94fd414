"""robots.txt for article pages (adapter helper): fetched once per host and cached.

Follows RFC 9309: a 4xx robots.txt means everything is allowed; a 5xx or an unreachable one
means "assume disallowed for now", which we surface as a retryable FetchUnavailable.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from pipeline.errors import FetchUnavailable, PageRejected

if TYPE_CHECKING:
    from connectors.fetch.fetching import Fetcher

CACHE_TTL_S = 24 * 3600.0
MAX_HOSTS = 10_000  # bounded: a long-running poller meets many hosts


class RobotsCache:
    def __init__(self, user_agent: str) -> None:
        self._agent = user_agent.split("/")[0]  # the product token, e.g. "newsflow"
        self._rules: dict[str, tuple[RobotFileParser | None, float]] = {}

    async def allows(self, fetcher: Fetcher, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        cached = self._rules.get(origin)
        if cached is None or time.monotonic() - cached[1] > CACHE_TTL_S:
            cached = (await self._load(fetcher, origin), time.monotonic())
            if len(self._rules) >= MAX_HOSTS:
                self._rules.pop(next(iter(self._rules)))
            self._rules[origin] = cached
        parser = cached[0]
        return parser is None or parser.can_fetch(self._agent, url)

    async def _load(self, fetcher: Fetcher, origin: str) -> RobotFileParser | None:
        robots_url = f"{origin}/robots.txt"
        try:
            result = await fetcher.get(robots_url)
        except PageRejected as err:
            if err.status is not None and 400 <= err.status < 500:
                return None  # no robots.txt: everything is allowed
            raise
        except FetchUnavailable as err:
            raise FetchUnavailable(f"robots.txt unavailable: {err}", url=robots_url,
                                   reason="robots-unavailable") from err
        parser = RobotFileParser(robots_url)
        parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
        return parser
