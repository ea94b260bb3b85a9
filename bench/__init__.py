"""Benchmarks: quality and speed figures printed for people, not asserted by tests."""
