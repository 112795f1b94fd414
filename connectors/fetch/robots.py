"""robots.txt for article pages (adapter helper): one fetch per origin, cached, per RFC 9309.

- 2xx: the rules, from the first 500 KiB (what the RFC asks a crawler to parse at least);
- 4xx, a redirect loop or more than five redirects ("unavailable"): everything is allowed;
- 5xx or no answer ("unreachable"): nothing is allowed for now, a retryable FetchUnavailable,
  remembered for `UNREACHABLE_RETRY_S` so twenty new entries of one host do not ask twenty times.
Concurrent requests for one origin share one fetch; a large file is parsed off the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from pipeline.errors import FetchUnavailable

CACHE_TTL_S = 24 * 3600.0
UNREACHABLE_RETRY_S = 60.0
MAX_HOSTS = 10_000  # bounded: a long-running poller meets many hosts
MAX_BYTES = 500 * 1024
PARSE_INLINE_BYTES = 32 * 1024  # bigger files are parsed in a thread
# robots.txt URL -> its body, None when unavailable; raises FetchUnavailable when unreachable.
RobotsLoader = Callable[[str], Awaitable[bytes | None]]
Rules = RobotFileParser | None  # None: everything allowed


def parse_rules(url: str, body: bytes) -> RobotFileParser:
    parser = RobotFileParser(url)
    parser.parse(body[:MAX_BYTES].decode("utf-8", errors="replace").splitlines())
    return parser


class RobotsCache:
    def __init__(self, user_agent: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._agent = user_agent.split("/")[0]  # the product token, e.g. "newsflow"
        self._clock = clock
        # origin -> (rules or the unreachable error, when it stops being valid)
        self._known: dict[str, tuple[Rules | FetchUnavailable, float]] = {}
        self._loading: dict[str, asyncio.Task[Rules]] = {}

    async def allows(self, url: str, load: RobotsLoader) -> bool:
        """Whether robots.txt lets us fetch `url`; FetchUnavailable while it is unreachable."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        known = self._known.get(origin)
        if known is None or self._clock() >= known[1]:
            task = self._loading.get(origin)
            if task is None:
                task = asyncio.create_task(self._load(origin, load))
                self._loading[origin] = task
                task.add_done_callback(lambda _: self._loading.pop(origin, None))
            await asyncio.shield(task)  # one waiter cancelled must not cancel the others' fetch
            known = self._known[origin]
        rules = known[0]
        if isinstance(rules, FetchUnavailable):
            raise rules
        return rules is None or rules.can_fetch(self._agent, url)

    async def _load(self, origin: str, load: RobotsLoader) -> Rules:
        robots_url = f"{origin}/robots.txt"
        try:
            body = await load(robots_url)
        except FetchUnavailable as err:
            error = FetchUnavailable(f"robots.txt unreachable: {err}", url=robots_url,
                                     retry_after=err.retry_after, reason="robots-unavailable")
            self._remember(origin, error, UNREACHABLE_RETRY_S)
            return None
        rules: Rules = None
        if body is not None:
            rules = parse_rules(robots_url, body) if len(body) <= PARSE_INLINE_BYTES else \
                await asyncio.to_thread(parse_rules, robots_url, body)
        self._remember(origin, rules, CACHE_TTL_S)
        return rules

    def _remember(self, origin: str, value: Rules | FetchUnavailable, ttl_s: float) -> None:
        if origin not in self._known and len(self._known) >= MAX_HOSTS:
            self._known.pop(next(iter(self._known)))
        self._known[origin] = (value, self._clock() + ttl_s)
