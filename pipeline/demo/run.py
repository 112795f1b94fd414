"""`newsflow demo`: the whole flow on the local stack against the bundled sample site.

Stack up -> sample site -> poller + Faust worker + indexer (real processes) -> wait until every
sample article is searchable -> print a search -> keep running until Ctrl-C (or stop: --once).
"""

from __future__ import annotations

import signal
import threading
import time

from elasticsearch import Elasticsearch
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pipeline.demo.site.server import DemoSite, serve_demo_site
from pipeline.errors import NewsflowError
from pipeline.index.search import hits_table, search_articles
from pipeline.settings import Settings
from pipeline.stack.lifecycle import ensure_stack
from pipeline.stack.workers import WorkerGroup, settings_env

CHROME_WORD = "Zephyrine"  # appears only in the sample site's donation banner
WAIT_TIMEOUT_S = 180.0


def _indexed_count(client: Elasticsearch, alias: str, feed_url: str) -> int:
    if not client.indices.exists_alias(name=alias):
        return 0
    # 503: the alias exists but its new shard is not assigned yet, so nothing is in it
    guarded = client.options(ignore_status=503)
    guarded.indices.refresh(index=alias)
    return int(guarded.count(index=alias, query={"term": {"feed_url": feed_url}}).get("count", 0))


def wait_until_indexed(settings: Settings, site: DemoSite, group: WorkerGroup,
                       console: Console, timeout_s: float = WAIT_TIMEOUT_S) -> float:
    """Block until every sample article is in the index; returns the seconds it took."""
    client = Elasticsearch(settings.es.url, request_timeout=settings.es.request_timeout_s)
    started = time.monotonic()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("articles searchable", total=len(site.articles))
            while True:
                group.check_alive()
                done = _indexed_count(client, settings.es.index_alias, site.feed_url)
                progress.update(task, completed=done)
                if done >= len(site.articles):
                    return time.monotonic() - started
                if time.monotonic() - started > timeout_s:
                    raise NewsflowError(
                        f"only {done}/{len(site.articles)} articles indexed after {timeout_s:.0f}s;"
                        f" worker logs are in {group.log_dir}", reason="demo-timeout")
                time.sleep(0.5)  # polling a remote count: there is nothing to await
    finally:
        client.close()


def run_demo(settings: Settings, *, once: bool, site_port: int) -> None:
    console = Console(stderr=True)
    console.rule("[bold]newsflow demo")
    console.print("1/4 local stack (Kafka + Elasticsearch)")
    ensure_stack(settings)
    demo_dir = settings.stack.home / "demo"
    with serve_demo_site(port=site_port) as site:
        console.print(f"2/4 sample site at {site.base_url} ({len(site.articles)} articles)")
        env = settings_env({
            "poller.state_dir": demo_dir / "state",
            "worker.data_dir": demo_dir / "faust",
            "log_format": "json",
            "fetch.allowed_networks": '["127.0.0.0/8"]',  # the sample site is on loopback
        })
        group = WorkerGroup(env=env, log_dir=demo_dir / "logs")
        try:
            console.print(f"3/4 workers: poller, worker, indexer (logs in {group.log_dir})")
            _subscribe(site.feed_url, group)
            group.start("worker", "worker")
            group.start("indexer", "index")
            group.start("poller", "poll")
            seconds = wait_until_indexed(settings, site, group, console)
            console.print(f"4/4 all {len(site.articles)} articles searchable after {seconds:.1f}s")
            _url, title, rare_word = site.articles[0]
            assert rare_word, "the newest demo article carries a rare word (demo_site/content.py)"
            Console().print(hits_table(f"newsflow search {rare_word!r}  (a word from '{title}')",
                                       search_articles(settings.es, rare_word)))
            chrome_hits = search_articles(settings.es, CHROME_WORD)
            console.print(f"chrome check: {CHROME_WORD!r}, a word only in the site's donation "
                          f"banner, finds {len(chrome_hits)} article(s)")
            if not once:
                console.print("Workers keep running; new articles are picked up. Ctrl-C stops.")
                _wait_for_interrupt(group)
        finally:
            console.print("stopping workers…")
            group.stop_all()


def _subscribe(feed_url: str, group: WorkerGroup) -> None:
    """`newsflow feeds add` the sample site's feed (the registry lives in Kafka)."""
    added = group.start("feeds-add", "feeds", "add", feed_url, "--interval", "30")
    if added.popen.wait(timeout=120) != 0:
        raise NewsflowError(f"`newsflow feeds add {feed_url}` failed; see {added.log_path}",
                            reason="demo-subscribe-failed")
    group.workers.pop("feeds-add")


def _wait_for_interrupt(group: WorkerGroup) -> None:
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    while not stopped.wait(timeout=2.0):
        group.check_alive()
