"""An asyncio handler that sleeps the blocking way: every other connection waits."""

import asyncio
import time


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readline()
    time.sleep(0.5)  # simulate slow work: blocks the whole event loop
    writer.write(b"done\n")
    await writer.drain()


async def handle_fixed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readline()
    await asyncio.sleep(0.5)  # yields to the loop: other connections go on
    writer.write(b"done\n")
    await writer.drain()
