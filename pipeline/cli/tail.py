"""`newsflow tail TOPIC`: look at a topic from the command line, without moving anyone's offsets.

    newsflow tail enriched                        the last 10 records, one line each
    newsflow tail enriched --from-beginning --limit 5
    newsflow tail unique --follow --filter language=en --filter countries=TR
    newsflow tail dead-letter --json | jq .reason

TOPIC is a short name (articles, enriched, unique, dead-letter) or a full topic name. A filter
`field=value` keeps records whose top-level field equals the value, or, for a list field,
contains it; several filters must all match. `--group` reads as that consumer group (and
commits), for a subscriber that wants to resume where it stopped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import Annotated

import typer
from rich.markup import escape

from pipeline.cli.support import fail, out, settings_or_exit
from pipeline.cli.topics import read, topic_named
from pipeline.errors import NewsflowError
from pipeline.settings import Settings

Record = dict[str, object]


def parse_filters(filters: Iterable[str]) -> list[tuple[str, str]]:
    parsed = []
    for item in filters:
        field, sep, value = item.partition("=")
        if not sep or not field:
            raise typer.BadParameter(f"expected field=value, got {item!r}", param_hint="--filter")
        parsed.append((field.strip(), value.strip()))
    return parsed


def matches(record: Record, filters: list[tuple[str, str]]) -> bool:
    for field, wanted in filters:
        value = record.get(field)
        if isinstance(value, list):
            if not any(_text(v) == wanted for v in value):
                return False
        elif _text(value) != wanted:
            return False
    return True


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return str(value.get("name", ""))
    return "" if value is None else str(value)


def line(record: Record) -> str:
    """One record for a person: when, source, title, language, verdict, places."""
    if "stage" in record and "reason" in record:  # a dead letter
        return (f"{str(record.get('failed_at', ''))[:19]}  [red]{record.get('stage')}[/] "
                f"{escape(str(record.get('reason')))}  {escape(str(record.get('key') or '-'))}  "
                f"{escape(str(record.get('error', '')).strip()[:100])}")
    when = str(record.get("published_at") or record.get("fetched_at") or "")[:16]
    places = ", ".join(str(p.get("name")) for p in record.get("places") or []  # type: ignore[attr-defined]
                       if isinstance(p, dict))[:60]
    parts = [when, f"[cyan]{escape(str(record.get('source_domain', '-')))}[/]",
             f"[bold]{escape(str(record.get('title') or '(untitled)'))}[/]",
             str(record.get("language") or record.get("language_hint") or "-"),
             str(record.get("dup_kind", "-"))]
    if places:
        parts.append(escape(places))
    return "  ".join(parts)


def tail_command(
    topic: Annotated[str, typer.Argument(help="articles, enriched, unique, dead-letter, or a "
                                              "topic name.")],
    from_beginning: Annotated[bool, typer.Option("--from-beginning",
                                                 help="Start at the first record.")] = False,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new records.")]
    = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N records (default: the "
                                                         "last 10, or all from the beginning).")]
    = None,
    filters: Annotated[list[str] | None, typer.Option("--filter", help="field=value (again "
                                                                       "for more).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON record a line.")] = False,
    group: Annotated[str | None, typer.Option(help="Read as this consumer group (commits).")]
    = None,
) -> None:
    """Print a topic's records, readable or as JSON lines."""
    settings = settings_or_exit(log_level="warning")
    wanted = parse_filters(filters or [])
    name = topic_named(topic, settings.topics)
    last = None if from_beginning or group else (limit or 10)
    shown = 0
    try:
        for record in _records(settings, name, last, follow, group):
            if not matches(record, wanted):
                continue
            if as_json:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                sys.stdout.flush()
            else:
                out.print(line(record), highlight=False, soft_wrap=True)
            shown += 1
            if limit is not None and shown >= limit and last is None:
                break
    except KeyboardInterrupt:
        return
    except NewsflowError as error:  # the broker unreachable, no such topic
        raise fail(error) from error


def _records(settings: Settings, topic: str, last: int | None, follow: bool,
             group: str | None) -> Iterator[Record]:
    """Decoded records. "The last N" is the newest N over all partitions; with --follow, the
    last N of each partition, then every new record as it comes."""
    raw = read(settings.kafka, topic, last=last, follow=follow, group=group)
    if last is None or follow:
        yield from _decoded(raw)
        return
    newest = sorted(raw, key=lambda r: getattr(r, "timestamp", 0))[-last:]
    yield from _decoded(iter(newest))


def _decoded(raw: Iterator[object]) -> Iterator[Record]:
    """Payloads as JSON objects; a record that is not JSON is shown as its text."""
    for record in raw:
        value = getattr(record, "value", b"") or b""
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = {"value": value.decode("utf-8", "replace")}
        yield decoded if isinstance(decoded, dict) else {"value": decoded}
