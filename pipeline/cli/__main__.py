"""`python -m pipeline.cli`: the `newsflow` command (workers are started this way)."""

from pipeline.cli.main import main

main()
