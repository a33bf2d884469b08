"""Thin adapters over the engine: the command line and the output formats."""
