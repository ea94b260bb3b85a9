"""Persistence: database (models, repositories, unit of work, sessions, embedded PostgreSQL)
and object store (local directory or S3)."""
