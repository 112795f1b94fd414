"""`newsflow dedupe FILE.jsonl [--json]`: dedup verdicts for a file of articles, in-process.

Each line is {"id", "url", "title", "body", "published_at"}. The verdicts come from the same
`dedup_verdict`, state layout and byte codec as the Faust agent; only the store differs (a
`MemoryBucketStore` that lives for the run). The file is read as one instant: nothing in it
expires, and the first line carrying a text is its first copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.cli.support import fail, settings_or_exit
from pipeline.dedup.state import EncodedStateView, MemoryBucketStore
from pipeline.dedup.verdict import DedupInput, DedupOptions, dedup_verdict
from pipeline.records import DedupVerdict


class DedupeLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    url: str
    title: str | None = None
    body: str
    published_at: datetime | None = None


def dedupe_lines(lines: Iterable[str], opts: DedupOptions, *,
                 now: datetime) -> Iterator[DedupVerdict]:
    """One verdict per non-blank JSONL line, in order. Raises ValueError naming a bad line."""
    store = MemoryBucketStore()
    view = EncodedStateView(store)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = DedupeLine.model_validate_json(line)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "<line>"
            raise ValueError(f"line {number}: {where}: {first['msg']}") from err
        published = record.published_at
        if published is not None and published.tzinfo is None:
            published = published.replace(tzinfo=UTC)  # naive dates in files mean UTC
        article = DedupInput(record.id, record.url, record.title, record.body, published)
        verdict, update = dedup_verdict(article, view, opts, now=now)
        store.apply(update)
        yield verdict


def dedupe_command(
    file: Annotated[Path, typer.Argument(help="JSON lines: id, url, title, body, published_at.",
                                         exists=True, dir_okay=False, readable=True)],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON verdict per line.")] = False,
) -> None:
    """Dedup verdicts (duplicate kind, first copy, story cluster, version) for a file."""
    opts = settings_or_exit().dedup  # the worker's options (config/newsflow.yaml, NEWSFLOW_DEDUP__*)
    try:
        with file.open(encoding="utf-8") as fh:
            for verdict in dedupe_lines(fh, opts, now=datetime.now(UTC)):
                if as_json:
                    typer.echo(verdict.model_dump_json())
                else:
                    similarity = "" if verdict.similarity is None else f"{verdict.similarity:.3f}"
                    typer.echo("\t".join([verdict.article_id, verdict.dup_kind,
                                          verdict.duplicate_of or "-", similarity or "-",
                                          verdict.cluster_id, f"v{verdict.version}",
                                          "updated" if verdict.updated else ""]).rstrip())
    except ValueError as error:
        raise fail(error, as_json=as_json) from error
