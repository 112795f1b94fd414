"""`newsflow dlq list|show|replay`: dead letters a person can act on, and send back.

Every stage dead-letters what it cannot process (the record, the stage, a reason slug, the
error, the attempts) on `topics.dead_letter`. A letter is named by its place on that topic,
`PARTITION:OFFSET`. Replay sends each chosen letter back to where it failed: a poll-stage
letter (a page that could not be fetched or extracted) is fetched and extracted again, as the
poller does, and published to the articles topic; a letter of a later stage goes back, as it
was, to the topic that stage reads (`source_topic`). The letters themselves stay on the topic
(a log, not a queue): replaying twice sends twice, which downstream handles as a repeat.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from connectors.extract.extraction import extract_article
from connectors.fetch.fetching import Fetcher, fetch_page, make_client
from pipeline.cli.support import err, fail, out, run_or_fail, settings_or_exit
from pipeline.cli.topics import producer, read, send, topic_exists
from pipeline.errors import BadRecord, NewsflowError
from pipeline.index.documents import parse_since
from pipeline.records import DeadLetter, FeedEntry, decode
from pipeline.settings import Settings

dlq_app = typer.Typer(help="Dead letters: what failed, why, and sending it back.",
                      no_args_is_help=True)
Reason = Annotated[str | None, typer.Option(help="Only this reason, e.g. http-503.")]
Stage = Annotated[str | None, typer.Option(help="Only this stage: poll, enrich, dedup, index.")]
Since = Annotated[str | None, typer.Option(help="Only letters of the last 90m, 12h, 7d, ...")]


@dataclass(frozen=True)
class Letter:
    id: str  # PARTITION:OFFSET on the dead-letter topic
    letter: DeadLetter


def letters(settings: Settings, *, reason: str | None = None, stage: str | None = None,
            since: str | None = None) -> list[Letter]:
    """The dead letters on the topic now, oldest first per partition, filtered."""
    after = parse_since(since, datetime.now(UTC)) if since else None
    found: list[Letter] = []
    topic = settings.topics.dead_letter
    if not topic_exists(settings.kafka, topic):
        return found  # created by the first worker that starts: nothing has failed yet
    for record in read(settings.kafka, topic, since=after):
        try:
            letter = decode(DeadLetter, record.value, topic=topic, partition=record.partition,
                            offset=record.offset)
        except BadRecord as error:
            err.print(f"[yellow]skipped {record.partition}:{record.offset}: {escape(str(error))}")
            continue
        if (reason and letter.reason != reason) or (stage and letter.stage != stage):
            continue
        found.append(Letter(f"{record.partition}:{record.offset}", letter))
    return found


def _where(letter: DeadLetter) -> str:
    if letter.stage == "poll":
        try:
            return FeedEntry.model_validate_json(letter.payload).link
        except ValueError:
            return letter.key or "-"
    return letter.key or "-"


@dlq_app.command("list")
def list_letters(reason: Reason = None, stage: Stage = None, since: Since = None,
                 limit: Annotated[int, typer.Option(min=1)] = 50,
                 as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The dead letters (newest last) and how many there are by stage and reason."""
    settings = settings_or_exit(log_level="warning")
    found = run_or_fail(lambda: letters(settings, reason=reason, stage=stage, since=since))
    if as_json:
        for item in found[-limit:]:
            out.print_json(json.dumps({"id": item.id, **item.letter.model_dump(
                mode="json", exclude={"payload"})}))
        return
    table = Table(title=f"{len(found)} dead letter(s) on {settings.topics.dead_letter}")
    for column in ("id", "failed", "stage", "reason", "tries", "article", "error"):
        table.add_column(column, overflow="fold")
    for item in found[-limit:]:
        d = item.letter
        table.add_row(item.id, f"{d.failed_at:%Y-%m-%d %H:%M:%S}", d.stage, d.reason,
                      str(d.attempts), escape(_where(d)),
                      escape(d.error.strip().splitlines()[0][:100] if d.error.strip() else ""))
    out.print(table)
    counts = Counter((item.letter.stage, item.letter.reason) for item in found)
    for (where, why), n in counts.most_common():
        out.print(f"  {n:>6}  {where:<7} {why}", highlight=False)


@dlq_app.command()
def show(letter_id: Annotated[str, typer.Argument(help="PARTITION:OFFSET (from dlq list).")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One dead letter whole: error, attempts, where it came from, the original record."""
    settings = settings_or_exit(log_level="warning")
    match = [i for i in run_or_fail(lambda: letters(settings)) if i.id == letter_id]
    if not match:
        raise fail(f"no dead letter {letter_id} on {settings.topics.dead_letter}")
    letter = match[0].letter
    if as_json:
        out.print_json(letter.model_dump_json())
        return
    for name in ("stage", "reason", "attempts", "failed_at", "source_topic", "partition",
                 "offset", "key"):
        out.print(f"{name + ':':<14}{getattr(letter, name)}", highlight=False)
    out.print(f"{'error:':<14}{escape(letter.error)}", highlight=False)
    out.print(f"{'payload:':<14}{escape(letter.payload[:4000])}", highlight=False, soft_wrap=True)


async def _refetch(settings: Settings, entries: list[FeedEntry]) -> list[tuple[FeedEntry, bytes |
                                                                                NewsflowError]]:
    """Each entry's page fetched and extracted as the poller does: the article's JSON, or why
    not."""
    results: list[tuple[FeedEntry, bytes | NewsflowError]] = []
    async with make_client(settings.fetch) as client:
        fetcher = Fetcher(client, settings.fetch)
        for entry in entries:
            try:
                page = await fetch_page(fetcher, entry)
                article = extract_article(page, settings.extract).model_copy(
                    update={"extracted_at": datetime.now(UTC)})
                results.append((entry, article.model_dump_json().encode()))
            except NewsflowError as error:
                results.append((entry, error))
    return results


@dlq_app.command()
def replay(reason: Reason = None, stage: Stage = None, since: Since = None,
           letter_id: Annotated[str | None, typer.Option("--id", help="Only this letter.")]
           = None,
           dry_run: Annotated[bool, typer.Option(help="Say what would be sent.")] = False) -> None:
    """Send the chosen dead letters back to where they failed (a poll-stage letter is fetched
    again)."""
    settings = settings_or_exit(log_level="warning")
    chosen = [i for i in run_or_fail(lambda: letters(settings, reason=reason, stage=stage,
                                                     since=since))
              if letter_id is None or i.id == letter_id]
    refetch = [i for i in chosen if i.letter.stage == "poll"]
    resend = [i for i in chosen if i.letter.stage != "poll"]
    unsendable = [i for i in resend if i.letter.payload_truncated or not i.letter.source_topic]
    resend = [i for i in resend if i not in unsendable]
    for item in unsendable:
        err.print(f"[yellow]{item.id}: not replayable (its record was too large to keep "
                  "whole, or its topic is unknown)")
    if dry_run:
        for item in refetch:
            out.print(f"{item.id}: fetch {_where(item.letter)} again", highlight=False)
        for item in resend:
            out.print(f"{item.id}: back to {item.letter.source_topic}", highlight=False)
        return
    entries = [FeedEntry.model_validate_json(i.letter.payload) for i in refetch]
    fetched = run_or_fail(lambda: asyncio.run(_refetch(settings, entries)))
    sent = failed = 0
    with producer(settings.kafka) as client:
        for entry, result in fetched:
            if isinstance(result, NewsflowError):
                failed += 1
                err.print(f"[red]{escape(entry.link)}: {result.reason}: {escape(str(result))}")
                continue
            run_or_fail(lambda: send(client, settings.topics.articles,
                                     entry.article_id.encode(), result))
            sent += 1
        for item in resend:
            key = item.letter.key.encode() if item.letter.key is not None else None
            run_or_fail(lambda: send(client, str(item.letter.source_topic), key,
                                     item.letter.payload.encode()))
            sent += 1
    out.print(f"replayed {sent}, failed again {failed}, not replayable {len(unsendable)}",
              highlight=False)
    if failed:
        raise typer.Exit(1)
