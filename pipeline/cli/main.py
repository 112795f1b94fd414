"""`newsflow` command line: wiring only. Each command builds Settings once and hands slices on."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import structlog
import typer

from pipeline.cli.dlq import dlq_app
from pipeline.cli.feeds import feeds_app
from pipeline.cli.inspect.dedupe import dedupe_command
from pipeline.cli.inspect.enrich import enrich_command
from pipeline.cli.inspect.extract import extract_command
from pipeline.cli.inspect.trace import trace_command
from pipeline.cli.stack import stack_app
from pipeline.cli.stats import stats_command
from pipeline.cli.support import fail, out, run_or_fail, settings_or_exit
from pipeline.cli.tail import tail_command
from pipeline.errors import NewsflowError
from pipeline.index.search import hits_table
from pipeline.telemetry import configure_logging

app = typer.Typer(help="newsflow: streaming news ingestion (feeds -> Kafka -> Faust -> ES).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(stack_app, name="stack", help="The local Kafka + Elasticsearch stack.")
app.command("extract")(extract_command)
app.command("enrich")(enrich_command)
app.command("dedupe")(dedupe_command)
app.command("trace")(trace_command)
app.command("tail")(tail_command)
app.command("stats")(stats_command)
app.add_typer(feeds_app, name="feeds", help="The feed registry (Kafka): add, remove, status...")
app.add_typer(dlq_app, name="dlq", help="Dead letters: list, show, replay.")
logger = structlog.get_logger("newsflow.cli")


@app.command()
def poll(once: Annotated[bool, typer.Option(
        help="Poll every feed this worker owns once, then exit.")] = False) -> None:
    """Poll the feeds this worker owns (a share of the Kafka registry), produce new articles."""
    from connectors.poll import service

    settings = settings_or_exit()
    run_or_fail(lambda: service.run(settings, once=once))


@app.command()
def worker() -> None:
    """Run the Faust worker: enrichment, then dedup."""
    from pipeline.worker import service

    settings = settings_or_exit()
    run_or_fail(lambda: service.run(settings))


@app.command()
def index() -> None:
    """Bulk-load the enriched topic into Elasticsearch."""
    from pipeline.index import service

    settings = settings_or_exit()
    run_or_fail(lambda: service.run(settings))


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to look for (all must match).")],
    since: Annotated[str | None, typer.Option(help="Only newer than e.g. 90m, 12h, 7d.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source domain.")] = None,
    lang: Annotated[str | None, typer.Option(help="Only this language (ISO 639-1).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Search the indexed articles."""
    from pipeline.index.search import search_articles

    settings = settings_or_exit()
    try:
        hits = search_articles(settings.es, query, since=since, source=source, language=lang,
                               limit=limit)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    except NewsflowError as err:
        raise fail(err) from err
    if as_json:
        json.dump({"query": query, "hits": [h.as_dict() for h in hits]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    out.print(hits_table(f"{len(hits)} hit(s) for {query!r}", hits))


@app.command()
def schemas(check: Annotated[bool, typer.Option(
        help="Only check that the schema files match the record models (exit 1 if not).")]
        = False) -> None:
    """Write the JSON Schemas of the public topic payloads (config/schemas) from the models."""
    from pipeline.schemas import stale_schemas, write_schemas

    if check:
        stale = stale_schemas()
        for path in stale:
            out.print(f"out of date: {path}", highlight=False)
        raise typer.Exit(1 if stale else 0)
    for path in write_schemas():
        out.print(f"wrote {path}", highlight=False)


@app.command()
def demo(
    once: Annotated[bool, typer.Option(help="Stop after the search instead of running on.")] = False,
    site_port: Annotated[int, typer.Option(help="Port of the bundled sample site.")] = 8765,
) -> None:
    """Bring the stack up, run the whole flow on the bundled sample site, search it."""
    from pipeline.demo.run import run_demo

    settings = settings_or_exit()
    configure_logging(settings.log_level, "console")  # a person is watching; workers log JSON
    try:
        run_demo(settings, once=once, site_port=site_port)
    except NewsflowError as err:
        raise fail(err) from err


def main() -> None:
    app()


if __name__ == "__main__":
    main()
