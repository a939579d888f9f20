"""Allows `python -m fieldops`."""

from fieldops.cli.main import main

raise SystemExit(main())
