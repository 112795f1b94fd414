"""The fault suite on the real local stack: each fault under load, and what it cost.

    python -m bench.system.fault_bench [--articles 1000] [--only NAME ...]

Each row is one run on fresh topics and a fresh index: the dev split's real pages behind 40
feeds (bench/system/news_site.py), the three workers at default settings, a fault, and then the count
once the run settles (every offered article indexed or dead-lettered, or a 10-minute bound):
articles offered, indexed, dead-lettered (by reason), indexed twice, lost, and the seconds from
the end of the fault until the last article was searchable. Faults: SIGKILL of the poller, the
worker and the indexer, three times each at random moments; Elasticsearch stalled 60 s
(SIGSTOP/SIGCONT) and killed and restarted; the broker stalled 30 s and killed and restarted;
bad input (a record too large for Kafka, a 2 MB page, a feed with a non-ASCII ETag); a full disk
under the worker's data directory (a small tmpfs, freed after a minute).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.system import news_site
from bench.system.faults import Damage, PipelineRun, tmpfs, unmount
from pipeline.stack.procs import free_port

SETTLE_S = 600.0
Fault = Callable[[PipelineRun], None]  # inflicts the fault; returns when it is over


def kills(name: str) -> Fault:
    def fault(run: PipelineRun) -> None:
        rng = random.Random(name)
        offered = len(run.site.articles)
        for share in (0.15, 0.40, 0.65):  # spread over the load, the last with work left
            run.wait_settled(int(offered * share), timeout_s=SETTLE_S)
            time.sleep(rng.uniform(0, 2))  # a random moment, not a batch boundary
            run.kill(name)
    return fault


def stalled(service: str, seconds: float) -> Fault:
    def fault(run: PipelineRun) -> None:
        run.wait_settled(100, timeout_s=SETTLE_S)
        run.stall(service, seconds)
    return fault


def restarted(service: str) -> Fault:
    def fault(run: PipelineRun) -> None:
        run.wait_settled(100, timeout_s=SETTLE_S)
        run.restart(service)
    return fault


def bad_input(run: PipelineRun) -> None:
    run.offer([run.site.feeds[0].replace("/feed.xml", "/bad-input.xml"),
               run.site.feeds[1].replace("/feed.xml", "/etag.xml")])


def bad_input_routes(port: int) -> news_site.Routes:
    """A record too large for Kafka (a page of 1.5 MB of prose), a 2 MB page of markup, and a
    feed whose ETag is not ASCII, beside the ordinary feeds."""
    words = ("harbour commission ferry timetable council budget quay market residents tram "
             "bridge library museum station river school parking noise vote plan").split()
    rng = random.Random(7)  # distinct paragraphs: the cleaner drops repeated ones
    prose = "".join("<p>" + " ".join(rng.choice(words) for _ in range(400)) + ".</p>"
                    for _ in range(500))
    huge = f"<html><body><article><h1>Long</h1>{prose}</article></body></html>".encode()
    markup = ("<html><body>" + "<div><span>tab</span><a href='/x'>link</a></div>" * 45_000
              + "<article><p>" + "A real paragraph of the story itself. " * 30
              + "</p></article></body></html>").encode()
    a, b = "127.0.0.2", "127.0.0.3"
    items = "".join(f"<item><title>{t}</title><link>http://{a}:{port}{p}</link></item>"
                    for t, p in (("Too large", "/bad/huge.html"), ("2 MB", "/bad/2mb.html")))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bad</title>{items}' \
           f"</channel></rss>".encode()
    etag_items = f"<item><title>Etag</title><link>http://{b}:{port}/bad/etag-page.html</link></item>"
    etag_feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>E</title>{etag_items}'
                 f"</channel></rss>").encode()
    return {
        (a, "/bad-input.xml"): news_site.Response(
            "200 OK", (("Content-Type", "application/rss+xml"),), feed).encode(),
        (a, "/bad/huge.html"): news_site.Response(
            "200 OK", (("Content-Type", "text/html"),), huge).encode(),
        (a, "/bad/2mb.html"): news_site.Response(
            "200 OK", (("Content-Type", "text/html"),), markup).encode(),
        (b, "/etag.xml"): news_site.Response(
            "200 OK", (("Content-Type", "application/rss+xml"), ("ETag", '"caf\xe9"')),
            etag_feed).encode(),
        (b, "/bad/etag-page.html"): news_site.Response(
            "200 OK", (("Content-Type", "text/html"),),
            ("<html><body><article><h1>E</h1><p>" + "An article behind an odd feed. " * 40
             + "</p></article></body></html>").encode()).encode(),
    }


def disk_full(run: PipelineRun) -> None:
    filler = Path(run.env["NEWSFLOW_WORKER__DATA_DIR"]) / "filler"
    run.wait_settled(100, timeout_s=SETTLE_S)
    with filler.open("wb") as fh:  # fill the disk the worker's tables live on
        try:
            while True:
                fh.write(b"\0" * (1 << 20))
        except OSError:
            pass
    time.sleep(60)  # a minute with no room: the worker must wait, not crash or drop
    filler.unlink()


FAULTS: dict[str, tuple[str, Fault]] = {
    "kill-poller": ("SIGKILL poller x3", kills("poller")),
    "kill-worker": ("SIGKILL worker x3", kills("worker")),
    "kill-indexer": ("SIGKILL indexer x3", kills("indexer")),
    "es-stall": ("Elasticsearch stalled 60 s", stalled("es", 60)),
    "es-restart": ("Elasticsearch killed, restarted", restarted("es")),
    "kafka-stall": ("broker stalled 30 s", stalled("kafka", 30)),
    "kafka-restart": ("broker killed, restarted", restarted("kafka")),
    "bad-input": ("too large, 2 MB page, non-ASCII ETag", bad_input),
    "disk-full": ("worker's disk full for 60 s", disk_full),
}


def run_fault(name: str, articles: int) -> tuple[str, Damage]:
    label, fault = FAULTS[name]
    port = free_port()
    extra = bad_input_routes(port) if name == "bad-input" else None
    tmp = Path(f"/tmp/fault-bench/{name}-{datetime.now(UTC):%H%M%S}")
    data = tmp / "faust"
    if name == "disk-full":
        tmpfs(data, 256)
    run = PipelineRun(articles, 40, port=port, extra_routes=extra, tmp=tmp,
                      overrides={"worker.data_dir": data})
    try:
        run.start()
        run.offer()
        fault(run)
        ended = time.monotonic()
        expected = articles + (3 if name == "bad-input" else 0)
        waited = run.wait_settled(expected, timeout_s=SETTLE_S)
        recovery = time.monotonic() - ended if waited is not None else None
        damage = run.damage(recovery)
        damage.offered = expected
        return label, damage
    finally:
        run.stop()
        if name == "disk-full":
            unmount(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--only", nargs="*", choices=sorted(FAULTS), default=None)
    args = ap.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.articles} articles per run")
    print("| fault | offered | indexed | dead-lettered | indexed twice | lost | recovery |")
    print("|---|---|---|---|---|---|---|")
    for name in args.only or list(FAULTS):
        label, d = run_fault(name, args.articles)
        letters = ", ".join(f"{r} {n}" for r, n in d.dead_letters.most_common()) or "0"
        recovery = f"{d.recovery_s:.0f} s" if d.recovery_s is not None else "did not settle"
        print(f"| {label} | {d.offered} | {d.indexed} | {letters} | {d.duplicates} | {d.lost} "
              f"| {recovery} |", flush=True)


if __name__ == "__main__":
    main()
