"""The engine: discovery, reading, parsing, per-file facts and the run that ties them to the rules."""
