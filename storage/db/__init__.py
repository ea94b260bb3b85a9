"""The application database: models, repositories, unit of work, engine/session, migrations API."""
