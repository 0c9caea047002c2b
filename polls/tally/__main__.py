"""Entry point for ``python -m polls.tally``."""

from .cli import main

raise SystemExit(main())
