"""Looks at responses of several kinds: JSON, text, HTML, empty, binary."""
import hashlib
import os

import requests

BASE_URL = os.environ["BASE_URL"]


def describe(path):
    r = requests.get(BASE_URL + path)
    ctype = r.headers.get("Content-Type", "-")
    print(f"{path}: {r.status_code} {r.reason} ok={r.ok} type={ctype.split(';')[0]} bytes={len(r.content)}")
    try:
        body = r.json()
    except ValueError:
        body = r.text.strip().splitlines()[:1]
    print("  body:", body)
    return r


def search(term, page=None, limit=None):
    r = requests.get(BASE_URL + "/query", params={"q": term, "page": page, "limit": limit})
    return r.json()["pairs"]


def main():
    describe("/items/1")
    describe("/text")
    describe("/html")
    describe("/notes")
    describe("/status/204")
    describe("/status/404")

    print("search:", search("anvil"))
    print("search:", search("anvil", page=2))
    r = requests.get(BASE_URL + "/query", params={"tag": ["a", "b"], "empty": ""})
    print("multi:", r.json()["pairs"])

    r = requests.get(BASE_URL + "/items")
    print("total header:", r.headers["x-total-count"], r.headers.get("X-Missing", "n/a"))
    digest = hashlib.sha256(r.content).hexdigest()
    with open("items.bin", "wb") as f:
        f.write(r.content)
    with open("items.txt", "w", encoding="utf-8") as f:
        f.write(r.text)
    print("saved", len(r.content), "bytes", digest[:12])
    print("encoding:", r.encoding)


if __name__ == "__main__":
    main()
