"""Module-level requests calls are independent: each opens its own session,
so a cookie one response sets is not sent by the next call, and a fan-out of
many calls over a thread pool costs a session each. Converted, each call
keeps a client of its own (a shared client would send the cookie back) while
the clients share one TLS context (issue 14, item 10)."""
import os
from concurrent.futures import ThreadPoolExecutor

import requests

BASE_URL = os.environ["BASE_URL"]


def visit():
    r = requests.get(f"{BASE_URL}/cookie", timeout=5)
    return r.status_code, r.json()["set"]


def sent_cookie():
    # requests.get opens a new session: the cookie of visit() is not in it.
    return requests.get(f"{BASE_URL}/headers", timeout=5).json().get("cookie")


def name(item_id):
    resp = requests.get(f"{BASE_URL}/items/{item_id}", timeout=5)
    return resp.json()["name"] if resp.ok else None


def names(ids):
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(name, ids))


def main():
    print(f"visit: {visit()}")
    print(f"cookie sent after the visit: {sent_cookie()}")
    found = names([1, 2, 3, 4, 5, 99] * 5)
    print(f"names: {len(found)} calls, {sorted(set(map(str, found)))}")
    print(f"cookie sent after the fan-out: {sent_cookie()}")


if __name__ == "__main__":
    main()
