"""The commands that look at one article the way a stage does: extract, enrich, dedupe, trace."""
