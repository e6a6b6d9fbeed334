"""An asyncio program written with pre-3.11 idioms: gather, wait_for,
run_in_executor, ensure_future and run_until_complete. Converted, it uses
TaskGroup, asyncio.timeout, to_thread, create_task and asyncio.run, and must
print the same, including when a task fails or a deadline passes."""
import asyncio
import hashlib


async def square(n):
    await asyncio.sleep(0.001 * n)
    return n * n


async def fail_later(msg):
    await asyncio.sleep(0.01)
    raise ValueError(msg)


async def slow():
    await asyncio.sleep(5)
    return "slow"


def digest(data):
    return hashlib.sha256(data).hexdigest()[:12]


async def fan_out():
    squares = await asyncio.gather(*[square(n) for n in range(6)])
    print("squares", squares)
    a, b = await asyncio.gather(square(7), square(8))
    print("pair", a, b)
    await asyncio.gather(square(1), square(2))
    return await asyncio.gather(square(3), square(4))


async def failing():
    try:
        await asyncio.gather(square(1), fail_later("boom"))
    except ValueError:
        print("failure handled")
    except KeyError:
        print("wrong handler")
    else:
        print("no failure?")


async def deadline():
    try:
        result = await asyncio.wait_for(slow(), timeout=0.05)
    except asyncio.TimeoutError:
        result = "timed out"
    print("deadline", result)
    quick = await asyncio.wait_for(square(5), 2)
    print("quick", quick)


async def threads():
    loop = asyncio.get_running_loop()
    first = await loop.run_in_executor(None, digest, b"first")
    task = asyncio.ensure_future(square(9))
    print("digest", first, "task", await task)


async def main():
    print("last", await fan_out())
    await failing()
    await deadline()
    await threads()
    return 0


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    code = loop.run_until_complete(main())
    loop.close()
    raise SystemExit(code)
