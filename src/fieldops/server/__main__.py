"""`python -m fieldops.server`: the same as the fieldops-server command."""

from fieldops.server.cli import main

raise SystemExit(main())
