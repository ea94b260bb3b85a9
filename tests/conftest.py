"""Shared pytest configuration; database and Prefect fixtures live beside their tests."""
