"""When to poll a feed next (pure): publishing rate, publisher hints, failures, jitter.

No clock and no global random: `now` and a `random.Random` are passed in, so a test can pin
both. Order of the rules:
1. base: the subscription's pinned interval, else half the feed's mean gap between recent
   entries (polled twice per expected entry), stretched while the feed has gone quiet;
2. the publisher's hints (RSS ttl, sy:updatePeriod, Cache-Control max-age) are a floor;
3. failures back off exponentially from the minimum up to `failure_ceiling_s`, and a
   Retry-After is honoured, but nothing exceeds `max_interval_s`: a feed is never dropped;
4. the whole interval gets +-`jitter`, so feeds added together drift apart.

Articles have a schedule of their own: a page whose fetch failed transiently is tried again
after `retry_delay_s`, whatever its feed's next poll.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.settings import PollerSettings

MAX_AGE_RE = re.compile(r"(?:^|[,\s])(s-maxage|max-age)\s*=\s*\"?(\d+)", re.I)
RATE_SAMPLE = 20  # recent entries used to estimate the publishing rate


@dataclass(frozen=True)
class ScheduleInputs:
    now: datetime
    pinned_s: float | None = None
    entry_times: Sequence[datetime] = ()  # recent entry dates, any order
    ttl_s: float | None = None
    update_period_s: float | None = None
    max_age_s: float | None = None
    consecutive_failures: int = 0
    retry_after_s: float | None = None


def max_age_s(cache_control: str | None) -> float | None:
    """Cache-Control max-age (s-maxage wins: it is meant for shared caches like us)."""
    if not cache_control:
        return None
    found = {name.lower(): float(value) for name, value in MAX_AGE_RE.findall(cache_control)}
    if "no-cache" in cache_control.lower() or "no-store" in cache_control.lower():
        return None
    value = found.get("s-maxage", found.get("max-age"))
    return value if value else None


def rate_interval_s(entry_times: Sequence[datetime], now: datetime,
                    opts: PollerSettings) -> float:
    """Half the mean gap between recent entries, or the default while it can't be known."""
    times = sorted((t for t in entry_times if t <= now), reverse=True)[:RATE_SAMPLE]
    if len(times) < 2:
        return opts.interval_s
    mean_gap = (times[0] - times[-1]).total_seconds() / (len(times) - 1)
    quiet = (now - times[0]).total_seconds()
    # A feed that stopped publishing a week ago should not be polled at its old daily rate.
    return max(mean_gap, quiet) / 2


def base_interval_s(inputs: ScheduleInputs, opts: PollerSettings) -> float:
    """The interval before failures and jitter: rate or pin, floored by publisher hints."""
    if inputs.pinned_s is not None:
        interval = inputs.pinned_s  # the operator asked for it: below min_interval_s is allowed
    else:
        interval = max(opts.min_interval_s, rate_interval_s(inputs.entry_times, inputs.now, opts))
    hints = [h for h in (inputs.ttl_s, inputs.update_period_s, inputs.max_age_s) if h]
    return min(max([interval, *hints]), opts.max_interval_s)


def failure_interval_s(inputs: ScheduleInputs, opts: PollerSettings) -> float:
    """Base interval, or exponential backoff while failing (never above max_interval_s)."""
    interval = base_interval_s(inputs, opts)
    if inputs.consecutive_failures > 0:
        floor = min(opts.min_interval_s, interval)
        exponent = min(inputs.consecutive_failures - 1, 60)  # 2**60 s is already past any ceiling
        backoff = min(opts.failure_ceiling_s, floor * 2.0 ** exponent)
        interval = max(interval, backoff)
    if inputs.retry_after_s:
        interval = max(interval, inputs.retry_after_s)
    return min(interval, opts.max_interval_s)


def next_poll_at(inputs: ScheduleInputs, opts: PollerSettings, rng: random.Random) -> datetime:
    interval = failure_interval_s(inputs, opts)
    if opts.jitter:
        interval *= 1.0 + rng.uniform(-opts.jitter, opts.jitter)
    return inputs.now + timedelta(seconds=interval)


def retry_delay_s(attempts: int, retry_after_s: float | None, opts: PollerSettings,
                  rng: random.Random) -> float:
    """Seconds before attempt `attempts + 1` of a page: exponential from `retry_base_s`,
    jittered by half either way (many pages of one host fail together), capped at
    `retry_max_s`, and never sooner than the server's Retry-After."""
    delay = min(opts.retry_max_s, opts.retry_base_s * 2.0 ** min(max(attempts - 1, 0), 30))
    delay *= rng.uniform(0.5, 1.5)
    return max(delay, retry_after_s or 0.0)
