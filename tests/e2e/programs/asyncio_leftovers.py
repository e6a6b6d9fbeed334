"""An asyncio program with `wait_for` inside larger expressions and a
module-level loop that is never closed. Converted, the awaited calls go
into temporaries under `asyncio.timeout` and the loop becomes
`asyncio.run`; it must print the same, including when a deadline passes."""
import asyncio
import sys


async def square(n):
    await asyncio.sleep(0.001)
    return n * n


async def slow():
    await asyncio.sleep(5)
    return "slow"


async def main(limit):
    print("square", await asyncio.wait_for(square(4), 2))
    total = limit + await asyncio.wait_for(square(3), timeout=2)
    print("total", total)
    try:
        print("never", await asyncio.wait_for(slow(), limit))
    except asyncio.TimeoutError:
        print("timed out")
    return [await asyncio.wait_for(square(2), 2), len("ab")][0] - 4


loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
code = loop.run_until_complete(main(0.05))
print("exit", code)
sys.exit(code)
