"""Asset tag labels: sheet and thermal layouts, what a label holds, PDF and ZPL output."""
