"""Persistence: database (models, repositories, unit of work), object store and vector store."""
