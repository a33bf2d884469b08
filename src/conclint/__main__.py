"""Allow ``python -m conclint``."""

from conclint.adapters.cli import main

raise SystemExit(main())
