"""End-to-end tests: the real app as its own process, driven from outside."""
