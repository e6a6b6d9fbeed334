"""Fans HTTP requests out over thread pools, the way sync programs get
concurrency: submit + as_completed with per-future error handling, map in
input order, a failure that escapes to the caller, and a pure-CPU helper that
shares the pool. Converted for asyncio, the pools become tasks bounded by a
semaphore, and the output must not change."""
import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import requests

BASE_URL = os.environ["BASE_URL"]

running = 0
peak = 0
lock = threading.Lock()


def enter():
    global running, peak
    with lock:
        running += 1
        peak = max(peak, running)


def leave():
    global running
    with lock:
        running -= 1


def item(item_id):
    enter()
    try:
        resp = requests.get(f"{BASE_URL}/items/{item_id}", timeout=5)
        resp.raise_for_status()
        return resp.json()
    finally:
        leave()


def slow_echo(n):
    enter()
    try:
        time.sleep(0.02)
        resp = requests.get(f"{BASE_URL}/query", params={"n": n}, timeout=5)
        return int(dict(resp.json()["pairs"])["n"]) if "pairs" in resp.json() else n
    finally:
        leave()


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def catalogue(ids):
    found, missing = {}, []
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {pool.submit(item, i): i for i in ids}
        for future in as_completed(futures):
            wanted = futures[future]
            try:
                data = future.result()
            except requests.HTTPError as exc:
                missing.append((wanted, exc.response.status_code))
            else:
                found[wanted] = data["name"]
    return found, sorted(missing)


def echoes(numbers):
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(slow_echo, numbers))


def strict(ids):
    # One 404 escapes: the caller handles it, as before.
    with ThreadPoolExecutor(max_workers=4) as pool:
        names = [data["name"] for data in pool.map(item, ids)]
    return names


def digests(words):
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(digest, w) for w in words]
        return [j.result() for j in jobs]


def bounded(limit):
    """Whether the fan-out since the last call kept within `limit` workers."""
    global peak
    ok = 0 < peak <= limit
    peak = 0
    return ok


def main():
    found, missing = catalogue([1, 2, 3, 42, 4, 5, 99])
    print(f"catalogue within bound: {bounded(3)}")
    for item_id in sorted(found):
        print(f"item {item_id}: {found[item_id]}")
    print(f"missing: {missing}")
    print(f"echoes: {echoes([5, 3, 8, 1])}")
    print(f"echoes within bound: {bounded(2)}")
    try:
        print(strict([1, 2, 77, 3]))
    except requests.HTTPError as exc:
        print(f"strict failed: {exc.response.status_code}")
    print(f"names: {strict([5, 4])}")
    print(f"digests: {digests(['anvil', 'bellows'])}")


if __name__ == "__main__":
    main()
