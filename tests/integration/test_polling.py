"""The feed registry and poller ownership on the real local Kafka, with real `newsflow` processes.

Feeds are served by the hostile test server, which records which User-Agent asked for each
path: every poller gets its own, so the server sees which worker polled which feed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pipeline.records import ExtractedArticle
from pipeline.stack.workers import WorkerGroup
from tests.conftest import Isolated
from tests.hostile_server import HostileServer, rss, send
from tests.integration.kafka_util import read_topic, wait_for

FEEDS = 20


def newsflow(iso: Isolated, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", *args],
                            env={**os.environ, **iso.env}, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, f"newsflow {' '.join(args)}: {result.stderr}"
    return result


def status(iso: Isolated) -> dict[str, dict[str, object]]:
    return json.loads(newsflow(iso, "feeds", "status", "--json").stdout)  # type: ignore[no-any-return]


def articles(iso: Isolated) -> list[str]:
    topic = iso.settings.topics.articles
    return [ExtractedArticle.model_validate_json(v).url
            for _, v in read_topic(iso.settings.kafka.bootstrap_servers, topic)]


@pytest.fixture
def server() -> Iterator[HostileServer]:
    hostile = HostileServer().start()
    hostile.add_pages("/p/", 40)
    yield hostile
    hostile.close()


def serve_feed(server: HostileServer, path: str, pages: list[int]) -> str:
    body = rss([(f"Story {i}", server.url(f"/p/{i}")) for i in pages])
    server.routes[path] = lambda h: send(h, 200, body, "application/rss+xml")
    return server.url(path)


def pollers(iso: Isolated, *names: str) -> dict[str, WorkerGroup]:
    """One WorkerGroup per poller: each its own User-Agent and worker id."""
    return {name: WorkerGroup(env={**iso.env, "NEWSFLOW_FETCH__USER_AGENT": f"{name}/1.0",
                                   "NEWSFLOW_POLLER__WORKER_ID": name},
                              log_dir=iso.tmp / "logs") for name in names}


@pytest.fixture
def groups(isolated: Isolated) -> Iterator[dict[str, WorkerGroup]]:
    made = pollers(isolated, "alpha", "beta")
    yield made
    for group in made.values():
        group.stop_all()


def test_registry_changes_reach_a_running_poller(isolated: Isolated, server: HostileServer,
                                                 groups: dict[str, WorkerGroup]) -> None:
    alpha = groups["alpha"]
    first = serve_feed(server, "/first.xml", [0])
    second = serve_feed(server, "/second.xml", [1])
    newsflow(isolated, "feeds", "add", first, "--interval", "1", "--tags", "city,test")
    alpha.start("poller", "poll")
    wait_for(lambda: server.hits.get("/first.xml", 0) >= 2, timeout_s=60,
             what="the first feed polled", check=alpha.check_alive)

    newsflow(isolated, "feeds", "add", second, "--interval", "1")
    wait_for(lambda: server.hits.get("/second.xml", 0) >= 2, timeout_s=30,
             what="a feed added at run time polled, without a restart", check=alpha.check_alive)

    newsflow(isolated, "feeds", "remove", first)
    wait_for(lambda: first not in status(isolated), timeout_s=30, what="the feed removed")
    before = server.hits["/first.xml"]
    seen_second = server.hits["/second.xml"]
    wait_for(lambda: server.hits["/second.xml"] >= seen_second + 3, timeout_s=30,
             what="the other feed still polled", check=alpha.check_alive)
    assert server.hits["/first.xml"] <= before + 1  # at most a poll already under way

    report = status(isolated)[second]
    assert (report["health"], report["owner"], report["entries_seen"]) == ("healthy", "alpha", 1)
    assert report["last_success_at"] and report["next_poll_at"]
    assert sorted(articles(isolated)) == [server.url("/p/0"), server.url("/p/1")]


def test_two_pollers_share_the_feeds_and_a_dead_ones_feeds_move(
        isolated: Isolated, server: HostileServer, groups: dict[str, WorkerGroup]) -> None:
    urls = [serve_feed(server, f"/feed/{i}.xml", [i]) for i in range(FEEDS)]
    listing = isolated.tmp / "feeds.yaml"
    listing.write_text("feeds:\n" + "".join(f"  - url: {u}\n    interval_s: 1\n" for u in urls),
                       encoding="utf-8")
    newsflow(isolated, "feeds", "import", str(listing))
    for name, group in groups.items():
        group.start(name, "poll")

    def polled_by() -> dict[str, set[str]]:
        return {u: server.agents.get(f"/feed/{i}.xml", set()) for i, u in enumerate(urls)}

    def alive() -> None:
        for group in groups.values():
            group.check_alive()

    # The first poller up owns everything until the second joins and the group rebalances.
    wait_for(lambda: {a for agents in polled_by().values() for a in agents}
             == {"alpha/1.0", "beta/1.0"}, timeout_s=90, what="both pollers polling", check=alive)
    for i in range(FEEDS):
        server.agents.pop(f"/feed/{i}.xml", None)
    wait_for(lambda: all(len(server.agents.get(f"/feed/{i}.xml", ())) >= 1 for i in range(FEEDS)),
             timeout_s=60, what="every feed polled since", check=alive)
    hits = dict(server.hits)
    wait_for(lambda: all(server.hits[f"/feed/{i}.xml"] >= hits[f"/feed/{i}.xml"] + 2
                         for i in range(FEEDS)), timeout_s=60, what="two more rounds", check=alive)
    owners = polled_by()
    assert all(len(agents) == 1 for agents in owners.values()), owners  # exactly one worker
    assert {a for agents in owners.values() for a in agents} == {"alpha/1.0", "beta/1.0"}

    # SIGKILL alpha: no goodbye to the group; its feeds move once the session times out.
    groups["alpha"].stop("alpha", kill=True)
    alphas = [i for i, u in enumerate(urls) if owners[u] == {"alpha/1.0"}]
    wait_for(lambda: all("beta/1.0" in server.agents[f"/feed/{i}.xml"] for i in alphas),
             timeout_s=60, what="alpha's feeds polled by beta", check=groups["beta"].check_alive)
    wait_for(lambda: {s["owner"] for s in status(isolated).values()} == {"beta"},
             timeout_s=30, what="feeds status showing beta as the only owner")
    # The new owner resumed from alpha's state: nothing emitted twice, nothing missed.
    assert sorted(articles(isolated)) == sorted(server.url(f"/p/{i}") for i in range(FEEDS))


def test_restart_neither_reemits_nor_misses(isolated: Isolated, server: HostileServer,
                                            groups: dict[str, WorkerGroup]) -> None:
    alpha = groups["alpha"]
    url = serve_feed(server, "/restart.xml", [20, 21])
    newsflow(isolated, "feeds", "add", url, "--interval", "1")
    alpha.start("poller", "poll")
    wait_for(lambda: len(articles(isolated)) == 2, timeout_s=60, what="two articles",
             check=alpha.check_alive)
    assert alpha.stop("poller") == 0  # SIGTERM: state flushed, group left

    serve_feed(server, "/restart.xml", [20, 21, 22])  # published while no poller ran
    alpha.start("poller", "poll")
    wait_for(lambda: len(articles(isolated)) >= 3, timeout_s=60, what="the new article",
             check=alpha.check_alive)
    hits = server.hits["/restart.xml"]
    wait_for(lambda: server.hits["/restart.xml"] >= hits + 2, timeout_s=30,
             what="more polls after the restart", check=alpha.check_alive)
    assert sorted(articles(isolated)) == [server.url(f"/p/{i}") for i in (20, 21, 22)]


def test_permanent_redirect_updates_the_registry(isolated: Isolated, server: HostileServer,
                                                 groups: dict[str, WorkerGroup]) -> None:
    alpha = groups["alpha"]
    new = serve_feed(server, "/moved-here.xml", [30])
    old = server.url("/was-here.xml")
    server.routes["/was-here.xml"] = lambda h: send(h, 301, b"", "text/plain",
                                                    {"Location": "/moved-here.xml"})
    newsflow(isolated, "feeds", "add", old, "--interval", "1")
    alpha.start("poller", "poll")

    def registered_url() -> object:
        return json.loads(newsflow(isolated, "feeds", "list", "--json").stdout)[old]["url"]

    wait_for(lambda: registered_url() == new, timeout_s=60, what="the registry to follow the 301",
             check=alpha.check_alive)
    old_hits, new_hits = server.hits["/was-here.xml"], server.hits["/moved-here.xml"]
    wait_for(lambda: server.hits["/moved-here.xml"] >= new_hits + 3, timeout_s=30,
             what="polls of the new URL", check=alpha.check_alive)
    assert server.hits["/was-here.xml"] <= old_hits + 1  # at most a poll already under way
    assert status(isolated)[old]["url"] == new
    newsflow(isolated, "feeds", "remove", new)  # the feed can be named by its new URL
    assert old not in json.loads(newsflow(isolated, "feeds", "list", "--json").stdout)


class OwnedFeeds:
    """What ownership hands a poll loop, kept (the poll loop's own behaviour is tested apart)."""

    def __init__(self) -> None:
        self.feeds: dict[str, object] = {}

    def put(self, key: str, subscription: object, state: object) -> None:
        self.feeds[key] = subscription

    async def remove(self, keys: list[str], *, save: bool) -> None:
        for key in keys:
            self.feeds.pop(key, None)


async def test_an_assignment_the_broker_could_not_serve_is_retried(
        isolated: Isolated, monkeypatch: pytest.MonkeyPatch) -> None:
    """aiokafka swallows an error raised in the rebalance callback: a poller that failed to
    read its feeds' state there held partitions and polled none of their feeds."""
    import asyncio

    from aiokafka.errors import KafkaConnectionError

    from connectors.poll import ownership
    from connectors.poll.registry import Registry
    from pipeline.kafka import KafkaSink, start_producer
    from pipeline.records import FeedSubscription

    settings = isolated.settings
    producer = await start_producer(settings.kafka)
    registry = Registry(KafkaSink(producer), settings.topics)
    keys = [f"https://f{i}.example/rss" for i in range(3)]
    for key in keys:
        await registry.put(key, FeedSubscription(url=key))
    failures = {"left": 2}
    real_read = ownership.read_table

    async def broker_restarting(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            raise KafkaConnectionError("connection to the broker lost")
        return await real_read(*args, **kwargs)

    monkeypatch.setattr(ownership, "read_table", broker_restarting)
    loop = OwnedFeeds()
    owner = ownership.FeedOwnership(settings.kafka, settings.topics, settings.poller,
                                    loop, registry)  # type: ignore[arg-type]
    stop = asyncio.Event()
    await owner.start()
    running = asyncio.create_task(owner.run(stop))
    try:
        await asyncio.wait_for(owner.ready.wait(), timeout=60)
    finally:
        stop.set()
        await running
        await owner.stop()
        await producer.stop()
    assert failures["left"] == 0 and sorted(loop.feeds) == sorted(keys)
