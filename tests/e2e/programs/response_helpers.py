"""Responses handed to helpers of the same module, tested for truth, and
closed by hand: the helpers read them with requests' API."""
import os
import sys

import requests

BASE_URL = os.environ["BASE_URL"]


def summary(r):
    # Every call passes a response: followed into the helper.
    return f"{r.status_code} {r.reason} ok={r.ok} type={r.headers.get('Content-Type', '-').split(';')[0]}"


def first_name(r):
    if not r:
        return None
    return r.json()["name"]


def fetch(path):
    r = requests.get(BASE_URL + path, timeout=5)
    print(path, summary(r))
    # requests' truth test is `ok`: False for 4xx/5xx.
    if r:
        print("  truthy")
    else:
        print("  falsy")
    name = first_name(r)
    r.close()
    return name


def main():
    names = [fetch("/items/1"), fetch("/items/99"), fetch("/status/500"), fetch("/items/3")]
    print("names:", names)
    return 0 if names[0] == "anvil" else 1


if __name__ == "__main__":
    sys.exit(main())
