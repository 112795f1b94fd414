"""An invented local news site served over HTTP, for the demo and integration tests.

`serve_demo_site()` starts it on a free port; see `server.py` for the DemoSite API and
`content.py` for the articles and the rare word each one carries.
"""

from typing import Any

from pipeline.demo.site.content import ARTICLES, RESERVE, SITE_NAME, Article
from pipeline.demo.site.templates import CHROME_MARKER

__all__ = [
    "ARTICLES",
    "CHROME_MARKER",
    "RESERVE",
    "SITE_NAME",
    "Article",
    "DemoSite",
    "serve_demo_site",
]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m pipeline.demo.site.server` does not import server.py twice.
    if name in ("DemoSite", "serve_demo_site"):
        from pipeline.demo.site import server

        return getattr(server, name)
    raise AttributeError(name)
