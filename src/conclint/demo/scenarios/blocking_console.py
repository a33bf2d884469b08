"""CCL207, console input in a coroutine (evented model).

`approve` asks the operator at the server's console to approve a refund, and reads the
answer with `sys.stdin.readline()`. Until a line arrives, the event loop does nothing
else. `approve_fixed` reads the line in a thread.
"""

import asyncio
import sys

from conclint.demo.http import not_found, query_text


def ask(refund):
    print(f"approve refund {refund}? [y/N]", file=sys.stderr, flush=True)


async def approve(request):
    """GET /approve?refund=R: wait for the operator's answer."""
    refund = query_text(request, "refund", "R-1")
    ask(refund)
    answer = sys.stdin.readline()  # expect: CCL207
    return {"refund": refund, "approved": answer.strip().lower() == "y"}


async def approve_fixed(request):
    """GET /approve-fixed?refund=R: the same question; the answer is read in a thread."""
    refund = query_text(request, "refund", "R-1")
    ask(refund)
    answer = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return {"refund": refund, "approved": answer.strip().lower() == "y"}


async def route(request):
    if request.path == "/approve":
        return await approve(request)
    if request.path == "/approve-fixed":
        return await approve_fixed(request)
    raise not_found(request)
