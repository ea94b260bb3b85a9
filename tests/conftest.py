"""Shared pytest configuration.

The database fixtures (tests/db_fixtures.py) are available to every test under tests/;
PostgreSQL starts only when a test requests one of them. Prefect fixtures live beside their tests.
"""

pytest_plugins = ["tests.db_fixtures"]
