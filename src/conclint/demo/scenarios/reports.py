"""A synchronous helper the blocking-loop handlers call; it blocks while it works."""

import time


def render(seconds):
    """Render a report: a query through a synchronous driver, a PDF, a template."""
    time.sleep(seconds)
    return f"rendered in {seconds:g} s"
