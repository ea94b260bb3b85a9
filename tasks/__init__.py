"""Prefect tasks: one lifecycle step each, one unit of work each, persisted through repositories."""
