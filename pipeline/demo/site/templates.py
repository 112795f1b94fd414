"""HTML and RSS rendering for the demo site.

Article pages wrap a clean `<article>` in the chrome a real news site carries (nav,
cookie notice, donation banner, share bar, related stories, newsletter, footer) so the
extraction stage has boilerplate to strip. The word "Zephyrine" appears only in that
chrome: finding it in extracted text means boilerplate leaked through.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from html import escape

from pipeline.demo.site.content import SITE_NAME, Article

CHROME_MARKER = "Zephyrine"  # appears in page chrome only, never in article text
SECTIONS = ("City", "Environment", "Sport", "Culture", "Business")


def _e(text: str) -> str:
    return escape(text, quote=True)


def _human_date(when: datetime) -> str:
    return f"{when.day} {when:%B %Y, %H:%M} UTC"


def _head(title: str, base_url: str, canonical: str, extra_meta: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} | {_e(SITE_NAME)}</title>
<link rel="canonical" href="{_e(canonical)}">
<link rel="alternate" type="application/rss+xml" title="{_e(SITE_NAME)}" href="{_e(base_url)}/feed.xml">
<meta property="og:site_name" content="{_e(SITE_NAME)}">
{extra_meta}<link rel="stylesheet" href="{_e(base_url)}/static/site.css">
</head>
"""


def _top_chrome(base_url: str) -> str:
    nav = "\n".join(
        f'      <li><a href="{_e(base_url)}/#{s.lower()}">{s}</a></li>' for s in SECTIONS
    )
    return f"""<body>
<div class="cookie-consent" role="dialog" aria-label="Cookie consent">
  <p>We use cookies to remember your preferences and to understand how our journalism is
  read. Essential cookies are always on. You can change your choices at any time under
  Privacy settings.</p>
  <button type="button">Accept all cookies</button>
  <button type="button">Reject non-essential cookies</button>
  <a href="{_e(base_url)}/#privacy">Manage preferences</a>
</div>
<header class="site-header">
  <a class="skip-link" href="#main-content">Skip to main content</a>
  <a class="logo" href="{_e(base_url)}/">{_e(SITE_NAME)}</a>
  <nav aria-label="Sections">
    <ul>
      <li><a href="{_e(base_url)}/">Home</a></li>
{nav}
    </ul>
  </nav>
  <a class="subscribe" href="{_e(base_url)}/#subscribe">Subscribe</a>
  <a class="login" href="{_e(base_url)}/#login">Sign in</a>
</header>
<aside class="donate-banner" role="complementary">
  <p><strong>The {CHROME_MARKER} Fund: our readers own us.</strong> No proprietor and no
  shareholders, just thousands of readers who chip in each month so the Courier stays
  free for everyone. <a href="{_e(base_url)}/#donate">Donate today</a></p>
</aside>
"""


def _bottom_chrome(base_url: str) -> str:
    return f"""<section class="newsletter" aria-labelledby="newsletter-title">
  <h2 id="newsletter-title">The Morning Courier</h2>
  <p>The day's Wendlemoor news in your inbox at 7am. Free, and you can unsubscribe at any
  time.</p>
  <form action="{_e(base_url)}/#newsletter" method="post">
    <label>Email address <input type="email" name="email" required></label>
    <button type="submit">Sign me up</button>
  </form>
</section>
<footer class="site-footer">
  <nav aria-label="Footer">
    <a href="{_e(base_url)}/#about">About us</a> | <a href="{_e(base_url)}/#contact">Contact</a> |
    <a href="{_e(base_url)}/#corrections">Corrections</a> |
    <a href="{_e(base_url)}/#privacy">Privacy policy</a> |
    <a href="{_e(base_url)}/#terms">Terms of use</a> |
    <a href="{_e(base_url)}/feed.xml">RSS</a>
  </nav>
  <p>Supported by readers through the {CHROME_MARKER} Fund.</p>
  <p>&copy; 2026 Wendlemoor Courier Media Ltd. All rights reserved.</p>
</footer>
</body>
</html>
"""


def render_article_page(article: Article, base_url: str, related: Sequence[Article]) -> str:
    url = base_url + article.path
    published = article.published.isoformat()
    modified = (article.updated or article.published).isoformat()
    meta = f"""<meta name="description" content="{_e(article.description)}">
<meta name="author" content="{_e(article.author)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{_e(article.title)}">
<meta property="og:description" content="{_e(article.description)}">
<meta property="og:url" content="{_e(url)}">
<meta property="article:published_time" content="{published}">
<meta property="article:modified_time" content="{modified}">
<meta property="article:section" content="{_e(article.section)}">
"""
    paragraphs = "\n".join(f"    <p>{_e(p)}</p>" for p in article.body)
    related_items = "\n".join(
        f'    <li><a href="{_e(base_url + r.path)}">{_e(r.title)}</a></li>' for r in related
    )
    share = url.replace(":", "%3A").replace("/", "%2F")
    return (
        _head(article.title, base_url, url, meta)
        + _top_chrome(base_url)
        + f"""<main id="main-content">
  <nav class="breadcrumbs" aria-label="Breadcrumb">
    <a href="{_e(base_url)}/">Home</a> &rsaquo;
    <a href="{_e(base_url)}/#{article.section.lower()}">{_e(article.section)}</a>
  </nav>
  <article>
    <header>
      <h1>{_e(article.title)}</h1>
      <p class="standfirst">{_e(article.description)}</p>
      <p class="byline">By <a rel="author" href="{_e(base_url)}/#staff">{_e(article.author)}</a>,
      <time datetime="{published}">{_human_date(article.published)}</time></p>
    </header>
{paragraphs}
  </article>
  <div class="share-bar" aria-label="Share this story">
    <span>Share this story</span>
    <a href="https://social.example/share?u={share}">Share on Mastodon</a>
    <a href="https://bsky.example/intent/compose?text={share}">Share on Bluesky</a>
    <a href="mailto:?subject={_e(article.title)}&amp;body={share}">Share by email</a>
    <button type="button" onclick="window.print()">Print</button>
  </div>
  <aside class="related" aria-labelledby="related-title">
    <h2 id="related-title">Related stories</h2>
    <ul>
{related_items}
    </ul>
  </aside>
</main>
"""
        + _bottom_chrome(base_url)
    )


def render_home(articles: Sequence[Article], base_url: str) -> str:
    items = "\n".join(
        f"""    <li class="teaser" id="{a.section.lower()}">
      <a href="{_e(base_url + a.path)}"><h2>{_e(a.title)}</h2></a>
      <p>{_e(a.description)}</p>
      <p class="byline">{_e(a.author)}, <time datetime="{a.published.isoformat()}">{_human_date(a.published)}</time></p>
    </li>"""
        for a in articles
    )
    return (
        _head("Latest news", base_url, base_url + "/")
        + _top_chrome(base_url)
        + f"""<main id="main-content">
  <h1>Latest news from Wendlemoor</h1>
  <ul class="teasers">
{items}
  </ul>
</main>
"""
        + _bottom_chrome(base_url)
    )


def render_feed(articles: Sequence[Article], base_url: str, last_build: datetime) -> str:
    def item(a: Article) -> str:
        url = base_url + a.path
        categories = "".join(f"\n      <category>{_e(t)}</category>" for t in a.tags)
        return f"""    <item>
      <title>{_e(a.title)}</title>
      <link>{_e(url)}</link>
      <guid isPermaLink="true">{_e(url)}</guid>
      <pubDate>{format_datetime(a.published, usegmt=True)}</pubDate>
      <dc:creator>{_e(a.author)}</dc:creator>
      <category>{_e(a.section)}</category>{categories}
      <description>{_e(a.description)}</description>
    </item>"""

    items = "\n".join(item(a) for a in articles)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{_e(SITE_NAME)}</title>
    <link>{_e(base_url)}/</link>
    <atom:link href="{_e(base_url)}/feed.xml" rel="self" type="application/rss+xml"/>
    <description>Invented local news from the equally invented county of Wendlemoor.</description>
    <language>en</language>
    <lastBuildDate>{format_datetime(last_build, usegmt=True)}</lastBuildDate>
    <ttl>5</ttl>
{items}
  </channel>
</rss>
"""
