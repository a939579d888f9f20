"""Measured targets of FieldOps; `make bench` runs them all."""
