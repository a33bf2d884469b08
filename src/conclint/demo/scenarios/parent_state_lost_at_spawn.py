"""CCL306, parent state lost at spawn.

A price list is formatted by a pool of worker processes. The currency comes from the
command line: `run_hazard()` stores it in the module global `currency` and starts the
pool. With the `spawn` start method (the default on macOS and Windows, and `forkserver`,
the default on Linux from Python 3.14, behaves the same) each worker is a fresh
interpreter that imports this module again: it formats every price in the default
currency, silently. `run_fixed()` hands the currency to each worker through the pool's
initializer.

`reproduce()` starts the pools (spawned workers: no fork of the running process) and
compares what the workers printed with what the parent asked for.
"""

import multiprocessing

currency = "EUR"  # the default; the command line may change it


def set_currency(code):
    global currency
    currency = code


def price_tag(amount):
    return f"{amount:.2f} {currency}"


def run_hazard(code, amounts):
    """The parent sets the global, then starts the workers: they never see it."""
    global currency
    currency = code  # expect: CCL306
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        return pool.map(price_tag, amounts)


def run_fixed(code, amounts):
    """Each worker sets it for itself, from the pool's initializer."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(2, initializer=set_currency, initargs=(code,)) as pool:
        return pool.map(price_tag, amounts)


def reproduce(amounts=(1.5, 20.0, 300.25)) -> dict:
    """Both variants with the currency "USD": how many tags carry it, of how many."""
    expected = [f"{amount:.2f} USD" for amount in amounts]
    default = currency
    try:
        hazard = run_hazard("USD", list(amounts))
    finally:
        set_currency(default)
    fixed = run_fixed("USD", list(amounts))
    return {
        "rule": "CCL306",
        "scenario": "parent-state-lost-at-spawn",
        "expected": expected,
        "hazard": hazard,
        "fixed": fixed,
        "reproduced": hazard != expected and all(tag.endswith(default) for tag in hazard),
        "fix_holds": fixed == expected,
    }
