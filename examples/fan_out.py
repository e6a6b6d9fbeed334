"""asyncio code written with pre-3.11 idioms: `convert` modernises it
(`gather` -> `TaskGroup`, `wait_for` -> `asyncio.timeout`,
`run_until_complete` -> `asyncio.run`)."""
import asyncio


async def fetch(n):
    await asyncio.sleep(0.01 * n)
    return n * n


async def main():
    results = await asyncio.gather(*[fetch(n) for n in range(5)])
    try:
        slowest = await asyncio.wait_for(fetch(50), timeout=0.1)
    except asyncio.TimeoutError:
        slowest = None
    print(results, slowest)


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    loop.run_until_complete(main())
    loop.close()
