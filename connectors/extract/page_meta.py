"""Page metadata trafilatura does not give (pure): subtitle and last-modified date.

Both are read from the raw HTML head with cheap patterns (no second parse): publishers mark
them in a handful of conventional ways (schema.org, Open Graph, "standfirst"/"dek" classes).
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import datetime

from pipeline.datetimes import plausible_date
from pipeline.records import FeedEntry

HEAD_CHARS = 300_000  # metadata sits in the head or the article's first screen
_MODIFIED_RE = re.compile(
    r"""(?:property|name|itemprop)\s*=\s*["'](?:article:modified_time|og:updated_time|"""
    r"""dateModified|last-modified)["'][^>]*?content\s*=\s*["']([^"']+)["']"""
    r"""|"dateModified"\s*:\s*"([^"]+)\"""", re.IGNORECASE)
_SUBTITLE_RE = re.compile(
    r"""<(p|h2|div|span)\b[^>]*class\s*=\s*["'][^"']*\b(?:standfirst|subtitle|sub-title|"""
    r"""subheadline|sub-headline|dek|article-summary|article__subtitle|lede-text)\b[^"']*["']"""
    r"""[^>]*>(.*?)</\1>""", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"<[^>]+>")


def subtitle(html: str) -> str | None:
    """The standfirst under the headline, where the page marks one."""
    match = _SUBTITLE_RE.search(html[:HEAD_CHARS])
    if not match:
        return None
    text = " ".join(html_lib.unescape(_TAG_RE.sub(" ", match.group(2))).split())
    return text if 10 <= len(text) <= 600 else None


def modified_at(html: str, entry: FeedEntry | None, *, published_at: datetime | None,
                now: datetime) -> datetime | None:
    """Last update: the feed's <updated>, else the page's declared modification time.

    Rejected when implausible (pipeline/datetimes.py) or before publication.
    """
    candidates: list[datetime] = [entry.updated] if entry and entry.updated else []
    for match in _MODIFIED_RE.finditer(html[:HEAD_CHARS]):
        try:
            candidates.append(datetime.fromisoformat((match[1] or match[2]).strip()))
        except ValueError:
            continue
    for candidate in candidates:
        value = plausible_date(candidate, now)
        if value is not None and (published_at is None or value >= published_at):
            return value
    return None
