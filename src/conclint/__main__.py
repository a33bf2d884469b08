"""Allow ``python -m conclint``."""

from conclint.adapters.cli import entry

entry()
