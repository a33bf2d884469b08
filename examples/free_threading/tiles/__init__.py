"""A tile cache for a map server: no thread in sight, but callers share it."""
