"""Benchmarks of one stage alone, on the shared dev sets: no Kafka or Elasticsearch."""
