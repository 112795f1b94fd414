"""`newsflow feeds add|remove|list|import|export|status|discover`: the feed registry in Kafka.

Mounted by pipeline/cli/main.py. Every change is a record on the compacted feeds topic (see
connectors/poll/registry.py), so running pollers pick it up without a restart. The registry starts
empty: `newsflow feeds import` seeds it from config/feeds.yaml (or an OPML file).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from connectors.feeds.opml import parse_opml, render_opml
from connectors.feeds.state import FeedState
from connectors.feeds.subscriptions import feed_key, parse_feed_list
from pipeline.cli.support import fail, settings_or_exit
from pipeline.errors import NewsflowError
from pipeline.identity import canonical_url
from pipeline.records import FeedSubscription
from pipeline.settings import Settings

feeds_app = typer.Typer(help="The feed registry: add, remove, list, import, export, status.",
                        no_args_is_help=True)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


class ExportFormat(StrEnum):
    opml = "opml"
    yaml = "yaml"


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        return asyncio.run(work())
    except NewsflowError as exc:
        raise fail(exc) from exc


async def _subscriptions(settings: Settings) -> dict[str, FeedSubscription]:
    from connectors.poll.registry import decode_table, read_table
    from pipeline.kafka import ensure_topics

    await ensure_topics(settings.kafka, settings.topics)
    table = await read_table(settings.kafka, settings.topics.feeds)
    return decode_table(table, FeedSubscription, settings.topics.feeds)


async def _write(settings: Settings, changes: list[tuple[str, FeedSubscription | None]]) -> None:
    from connectors.poll.registry import Registry
    from pipeline.kafka import KafkaSink, start_producer

    producer = await start_producer(settings.kafka)
    try:
        registry = Registry(KafkaSink(producer), settings.topics)
        for key, subscription in changes:
            await registry.put(key, subscription)
    finally:
        await producer.stop()


def _find(subs: dict[str, FeedSubscription], url: str) -> str | None:
    """The registry key of a feed named by its key or its current (redirected) URL."""
    wanted = canonical_url(url)
    for key, sub in subs.items():
        if wanted in (key, canonical_url(sub.url)):
            return key
    return None


def _upserts(subs: dict[str, FeedSubscription],
             new: list[FeedSubscription]) -> list[tuple[str, FeedSubscription | None]]:
    now = datetime.now(UTC)
    changes: list[tuple[str, FeedSubscription | None]] = []
    for sub in new:
        key = _find(subs, sub.url) or feed_key(sub.url)
        url = subs[key].url if key in subs else canonical_url(sub.url)  # keep a learned redirect
        added = subs[key].added_at if key in subs else now
        changes.append((key, sub.model_copy(update={"url": url, "added_at": added or now})))
    return changes


@feeds_app.command()
def add(url: Annotated[str, typer.Argument(help="Feed URL (RSS, Atom, JSON Feed, news sitemap).")],
        interval: Annotated[float | None, typer.Option(
            help="Poll every N seconds (default: learned from the feed).", min=1)] = None,
        tags: Annotated[str, typer.Option(help="Comma-separated tags.")] = "",
        title: Annotated[str | None, typer.Option(help="Display name.")] = None) -> None:
    """Subscribe to a feed (or change its interval/tags); running pollers pick it up."""
    settings = settings_or_exit(log_level="warning")
    try:
        sub = FeedSubscription(url=canonical_url(url), interval_s=interval, title=title,
                               tags=tuple(t.strip() for t in tags.split(",") if t.strip()))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc

    async def main() -> str:
        changes = _upserts(await _subscriptions(settings), [sub])
        await _write(settings, changes)
        return changes[0][0]

    key = _run(main)
    out.print(f"subscribed {escape(key)}", highlight=False, soft_wrap=True)


@feeds_app.command()
def remove(url: Annotated[str, typer.Argument(
        help="Feed URL (as added, or as redirected).")]) -> None:
    """Unsubscribe: the owning poller stops polling it and drops its state."""
    settings = settings_or_exit(log_level="warning")

    async def main() -> str | None:
        key = _find(await _subscriptions(settings), url)
        if key is not None:
            await _write(settings, [(key, None)])
        return key

    key = _run(main)
    if key is None:
        err.print(f"[red]newsflow: not subscribed: {escape(url)}[/red]")
        raise typer.Exit(1)
    out.print(f"removed {escape(key)}", highlight=False, soft_wrap=True)


@feeds_app.command("list")
def list_feeds(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The subscribed feeds."""
    subs = _run(lambda: _subscriptions(settings_or_exit(log_level="warning")))
    if as_json:
        json.dump({k: s.model_dump(mode="json") for k, s in sorted(subs.items())}, sys.stdout,
                  indent=2)
        sys.stdout.write("\n")
        return
    table = Table(title=f"{len(subs)} feed(s)", title_justify="left")
    for column in ("url", "interval", "tags", "title"):
        table.add_column(column, overflow="fold")
    for _key, sub in sorted(subs.items()):
        table.add_row(escape(sub.url), f"{sub.interval_s:.0f}s" if sub.interval_s else "adaptive",
                      ",".join(sub.tags), escape(sub.title or ""))
    out.print(table)


@feeds_app.command("import")
def import_feeds(path: Annotated[Path | None, typer.Argument(
        help="feeds.yaml or an .opml file (default: poller.feeds_file).")] = None) -> None:
    """Add every feed of a YAML feed list or an OPML file to the registry."""
    settings = settings_or_exit(log_level="warning")
    source = path or settings.poller.feeds_file
    try:
        body = source.read_bytes()
        feeds = (parse_opml(body, str(source)) if source.suffix.lower() in (".opml", ".xml")
                 else parse_feed_list(body.decode("utf-8"))).feeds
        wanted = [f.model_copy(update={"url": canonical_url(f.url)}) for f in feeds]
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"{source}: {exc}") from exc

    async def main() -> int:
        changes = _upserts(await _subscriptions(settings), wanted)
        await _write(settings, changes)
        return len(changes)

    count = _run(main)
    out.print(f"imported {count} feed(s) from {escape(str(source))}", highlight=False)


@feeds_app.command()
def export(fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.opml) -> None:
    """Print the registry as OPML (for feed readers) or as a feeds.yaml."""
    import yaml

    subs = sorted(_run(lambda: _subscriptions(settings_or_exit(log_level="warning"))).values(), key=lambda s: s.url)
    if fmt is ExportFormat.opml:
        sys.stdout.write(render_opml(subs))
        return
    feeds = [s.model_dump(mode="json", exclude_none=True, exclude_defaults=True) for s in subs]
    sys.stdout.write(yaml.safe_dump({"feeds": feeds}, sort_keys=False))


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "-"
    seconds = (now - when).total_seconds()
    sign, seconds = ("in ", -seconds) if seconds < 0 else ("", seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{sign}{seconds / size:.0f}{unit}" + ("" if sign else " ago")
    return f"{sign}{seconds:.0f}s" + ("" if sign else " ago")


@feeds_app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per feed: health, owner, last success, last new entry, entries seen, failures, next poll."""
    settings = settings_or_exit(log_level="warning")

    async def main() -> tuple[dict[str, FeedSubscription], dict[str, FeedState]]:
        from connectors.poll.registry import decode_table, read_table

        subs = await _subscriptions(settings)
        table = await read_table(settings.kafka, settings.topics.feed_state)
        return subs, decode_table(table, FeedState, settings.topics.feed_state)

    subs, states = _run(main)
    rows = {key: states.get(key) or FeedState(key=key, url=sub.url) for key, sub in subs.items()}
    if as_json:
        json.dump({k: s.model_dump(mode="json", exclude={"seen"}) for k, s in sorted(rows.items())},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    now = datetime.now(UTC)
    colours = {"healthy": "green", "degraded": "yellow", "unhealthy": "red", "new": "blue"}
    table = Table(title=f"{len(rows)} feed(s)", title_justify="left")
    for column in ("feed", "health", "owner", "last success", "last new entry", "entries",
                   "failures", "next poll", "issues"):
        table.add_column(column, overflow="fold")
    for _key, st in sorted(rows.items(), key=lambda kv: (kv[1].health != "unhealthy", kv[0])):
        top = sorted(st.issues.items(), key=lambda item: -item[1])[:3]
        issues = ", ".join(f"{reason} x{count}" for reason, count in top)
        table.add_row(escape(st.url), f"[{colours[st.health]}]{st.health}[/]", st.owner or "-",
                      _ago(st.last_success_at, now), _ago(st.last_new_entry_at, now),
                      str(st.entries_seen), f"{st.consecutive_failures}/{st.failures_total}",
                      _ago(st.next_poll_at, now), escape(issues or (st.last_error or "")))
    out.print(table)


@feeds_app.command()
def discover(url: Annotated[str, typer.Argument(help="A site's home or section page.")],
             add_found: Annotated[bool, typer.Option("--add", help="Subscribe to them.")] = False
             ) -> None:
    """Find a site's feeds (<link rel=alternate>, feed-like links, common paths)."""
    from connectors.fetch.discovery import discover_feeds
    from connectors.fetch.fetching import Fetcher, make_client

    settings = settings_or_exit(log_level="warning")

    async def main() -> list[str]:
        async with make_client(settings.fetch) as client:
            found = await discover_feeds(Fetcher(client, settings.fetch), url)
        if add_found and found:
            subs = await _subscriptions(settings)
            await _write(settings, _upserts(subs, [FeedSubscription(url=u) for u in found]))
        return found

    found = _run(main)
    for feed_url in found:
        out.print(escape(feed_url), highlight=False, soft_wrap=True)
    if not found:
        err.print(f"no feeds found at {escape(url)}")
        raise typer.Exit(1)
