"""The concurrency facts that rules query: functions, calls, where code runs, what state it touches."""
