"""FieldOps: offline-first asset lookup and incident logging for IT technicians."""

__version__ = "0.1.0"
