"""Benchmarks for ``make bench``: query counts as data grows, and load on a real server."""
