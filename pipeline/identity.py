"""Identity (shared noun): the canonical form of a URL, the article id made from it, its domain.

`article_id` is made once, from the canonical URL, where an article is first met (a feed entry, a
page read by `newsflow extract`/`enrich`/`trace`): it is the log field, the Kafka key of the
articles, enriched and unique topics, and the Elasticsearch `_id` downstream.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never the article.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
    "_ga", "_gl", "ref_src", "cmpid", "ocid", "smid", "sr_share",
})
TRACKING_PREFIXES = ("utm_",)
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Normalise a URL so that the same article gets the same identity.

    Lower-cases scheme and host, drops default ports, fragments and tracking parameters,
    and sorts the remaining query parameters. Raises ValueError for anything but http(s).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    )
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def article_id_for(canonical: str) -> str:
    """Stable id of an article: the first 32 hex chars of SHA-256 of its canonical URL."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def source_domain(url: str) -> str:
    """The host without `www.` and without a trailing dot, lower-cased."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host.removeprefix("www.")
