"""The local store: SQLite through SQLAlchemy, Alembic migrations, photo blob files."""
