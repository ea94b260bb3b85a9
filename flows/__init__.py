"""Prefect flows: request lifecycle, retention and knowledge indexing."""
