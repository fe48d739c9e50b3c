"""Benchmarks: run by hand (`python -m tests.benchmarks.service_bench`), never by pytest."""
