"""CCL203, a subprocess run from a coroutine (evented model).

`thumbnail` runs the converter with `subprocess.run` and waits for it; the event loop
waits too. `thumbnail_fixed` starts it with `asyncio.create_subprocess_exec` and awaits
its exit, so the loop serves other requests meanwhile.
"""

import asyncio
import subprocess
import sys

from conclint.demo.http import not_found, query_number

# the converter: a program that takes a while (here, a Python that sleeps for as long as it is told)
CONVERTER = [sys.executable, "-c", "import sys, time; time.sleep(float(sys.argv[1]))"]


def seconds_of(request):
    return query_number(request, "seconds", 0.5, 0.0, 5.0)


async def thumbnail(request):
    """GET /thumbnail?seconds=S: make a thumbnail with the converter (S seconds)."""
    seconds = seconds_of(request)
    subprocess.run([*CONVERTER, str(seconds)], check=True)  # expect: CCL203
    return {"converted_in": seconds}


async def thumbnail_fixed(request):
    """GET /thumbnail-fixed?seconds=S: the same, awaiting the process."""
    seconds = seconds_of(request)
    process = await asyncio.create_subprocess_exec(*CONVERTER, str(seconds))
    await process.wait()
    return {"converted_in": seconds, "code": process.returncode}


async def route(request):
    if request.path == "/thumbnail":
        return await thumbnail(request)
    if request.path == "/thumbnail-fixed":
        return await thumbnail_fixed(request)
    raise not_found(request)
