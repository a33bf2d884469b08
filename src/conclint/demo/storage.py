"""Where the demo keeps state outside process memory (the fixed prefork scenarios).

The folder comes from ``CONCLINT_DEMO_STATE``; `conclint demo serve` sets it to a fresh
temporary folder when it is not set, so runs never see each other's files.
"""

from __future__ import annotations

import os
import tempfile

STATE_ENV = "CONCLINT_DEMO_STATE"


def state_dir() -> str:
    folder = os.environ.get(STATE_ENV)
    if not folder:
        folder = tempfile.mkdtemp(prefix="conclint-demo-")
        os.environ[STATE_ENV] = folder
    return folder


def state_path(name: str) -> str:
    return os.path.join(state_dir(), name)
