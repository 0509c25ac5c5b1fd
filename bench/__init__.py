"""Benchmarks (not tests): `make bench`, `make bench-license`."""
