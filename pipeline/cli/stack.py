"""`newsflow stack up|down|status|logs`: the local Kafka + Elasticsearch (see pipeline/stack/lifecycle.py).

Mounted by pipeline/cli/main.py as `app.add_typer(stack_app, name="stack")`; for a standalone run:
`python -m pipeline.cli.stack up`. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pipeline.cli.support import fail, settings_or_exit
from pipeline.errors import NewsflowError
from pipeline.stack import lifecycle as stack
from pipeline.stack.install import stack_paths
from pipeline.stack.procs import tail

stack_app = typer.Typer(help="The project-managed local Kafka + Elasticsearch (no Docker).",
                        no_args_is_help=True)
out = Console()
err = Console(stderr=True)


class Service(StrEnum):
    kafka = "kafka"
    es = "es"


def _print_status(status: stack.StackStatus) -> None:
    table = Table(title=f"newsflow local stack: {status.home}", title_justify="left")
    for col in ("service", "version", "port", "pid", "health"):
        table.add_column(col)
    for svc in (status.kafka, status.es):
        health = f"[green]healthy[/] {svc.detail}" if svc.healthy else f"[red]down[/] {svc.detail}"
        table.add_row(svc.name, svc.version, str(svc.port), str(svc.pid or "-"), health)
    out.print(table)
    for svc in (status.kafka, status.es):
        out.print(f"{svc.name} log:  {svc.log_path}\n{svc.name} data: {svc.data_path}",
                  highlight=False, soft_wrap=True)
    out.print(f"downloads cache: {status.cache_dir}", highlight=False, soft_wrap=True)


@stack_app.command()
def up() -> None:
    """Start Kafka and Elasticsearch if needed; return once both are healthy (idempotent)."""
    settings = settings_or_exit(log_format="console")
    try:
        with err.status("starting the local stack…") as spinner:
            status = stack.ensure_stack(settings, on_progress=lambda line: spinner.update(line))
    except NewsflowError as exc:
        raise fail(exc) from exc
    _print_status(status)
    how = "already running, reused" if status.reused else "started"
    err.print(f"[green]stack healthy[/] ({how}) in {status.seconds_to_healthy:.1f} s")


@stack_app.command()
def down(wipe: bool = typer.Option(False, "--wipe", help="Also delete Kafka/ES data, logs and worker state "
                                   "(not the download cache).")) -> None:
    """Stop the processes this project started (by pid file; never by name)."""
    settings = settings_or_exit(log_format="console")
    try:
        with err.status("stopping the local stack…"):
            stopped = stack.stop_stack(settings, wipe=wipe)
    except NewsflowError as exc:
        raise fail(exc) from exc
    err.print(f"stopped: {', '.join(stopped) or 'nothing was running'}"
              + ("; data and logs wiped" if wipe else ""))


@stack_app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """Versions, ports, pids, health and paths. Exit code 0 only when both are healthy."""
    result = stack.stack_status(settings_or_exit(log_format="console"))
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        _print_status(result)
    raise typer.Exit(0 if result.healthy else 1)


@stack_app.command()
def logs(
    service: Service | None = typer.Argument(None, help="kafka or es; default both."),
    lines: int = typer.Option(50, "-n", "--lines", min=1, help="How many lines to show."),
    follow: bool = typer.Option(False, "-f", "--follow", help="Keep printing new lines."),
) -> None:
    """Tail the service logs."""
    paths = stack_paths(settings_or_exit(log_format="console").stack)
    es_log = paths.es_log if paths.es_log.exists() else paths.es_launcher_log
    files = {Service.kafka: paths.kafka_log, Service.es: es_log}
    chosen = [files[s] for s in ([service] if service else list(Service)) if files[s].exists()]
    if not chosen:
        err.print("no logs yet: run `newsflow stack up` first")
        raise typer.Exit(1)
    for path in chosen:
        if len(chosen) > 1:
            sys.stdout.write(f"==> {path} <==\n")
        sys.stdout.write(tail(path, lines))
    sys.stdout.flush()
    if follow:
        _follow(chosen)


def _follow(paths: list[Path]) -> None:
    offsets = {p: p.stat().st_size for p in paths}
    try:
        while True:
            for path in paths:
                size = path.stat().st_size if path.exists() else 0
                if size < offsets[path]:  # truncated or recreated
                    offsets[path] = 0
                if size > offsets[path]:
                    with path.open("rb") as fh:
                        fh.seek(offsets[path])
                        sys.stdout.write(fh.read().decode(errors="replace"))
                        offsets[path] = fh.tell()
                    sys.stdout.flush()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    # Standalone run (pipeline/cli/main.py does this for `newsflow stack`): logs on stderr.
    from pipeline.telemetry import configure_logging

    configure_logging(fmt="console")
    stack_app()
