"""Benchmarks: one script per claim, each printing a ratio against a baseline measured in the same run."""
