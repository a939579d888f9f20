"""Alembic migrations of the server's own schema."""
