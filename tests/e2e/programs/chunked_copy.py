"""Copies streamed bodies to files chunk by chunk and checks their size."""
import hashlib
import os

import requests

BASE_URL = os.environ["BASE_URL"]


def copy(path, target, chunk_size):
    digest = hashlib.md5()
    total = 0
    with requests.get(BASE_URL + path, stream=True, timeout=10) as r:
        r.raise_for_status()
        kind = r.headers.get("Content-Type", "?")
        with open(target, "wb") as out:
            for piece in r.iter_content(chunk_size or 1):
                out.write(piece)
                digest.update(piece)
                total += len(piece)
    return kind, total, digest.hexdigest()[:10]


def main():
    for path, target, size in [
        ("/drip?chunks=6&delay=0.01", "drip.csv", 7),
        ("/items/1", "item.json", None),
        ("/missing", "missing.json", 1024),
    ]:
        try:
            print(path, copy(path, target, size))
        except requests.HTTPError as e:
            print(path, "failed:", e.response.status_code)
    print(sorted(os.listdir(".")))


if __name__ == "__main__":
    main()
