"""Benchmarks of the registry (`make bench`, `make bench-scale`); see bench/README.md."""
