"""Looks items up through one session made at module level, from a
`__main__` block that calls the converted code several times: the block
must run in one event loop (the session's connections belong to it)."""
import os
import sys

import requests

BASE_URL = os.environ["BASE_URL"]

session = requests.Session()
seen = []


def item_name(item_id):
    resp = session.get(BASE_URL + "/items/" + str(item_id))
    if resp.status_code != 200:
        return None
    return resp.json()["name"]


def main(ids):
    found = 0
    for item_id in ids:
        name = item_name(item_id)
        seen.append(item_id)
        print(item_id, name)
        if name is not None:
            found += 1
    return found


if __name__ == "__main__":
    # One lookup per call, on the same session.
    total = 0
    for batch in ([1, 2], [3, 999]):
        total += main(batch)
    print("found", total, "of", len(seen))
    sys.exit(0 if total == len(seen) else 3)
