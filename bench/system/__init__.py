"""Benchmarks of the running system on the local stack: end to end, faults, scale-out."""
