"""Shared test helpers: real servers, real databases, real files."""
