"""Synthetic log formats with exact ground truth, to check generator rules on unseen formats.

A format is composed from independent dimensions (event layout, timestamp layout and placement,
encoding and line terminator, size), each drawn from a seeded random generator, and written as a
dataset in the corpus format of ``../shared/corpus/FORMAT.md``. ``python -m bench.synthetic``
generates a batch and runs the quality harness over it.
"""
