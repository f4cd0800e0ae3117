"""Benchmarks (not tests): each module exposes ``run() -> dict`` and reports ratios against a
reference measured in the same run, so figures compare across machines."""
