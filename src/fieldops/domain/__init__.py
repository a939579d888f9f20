"""Pure rules of FieldOps: no I/O, no Qt, no database."""
