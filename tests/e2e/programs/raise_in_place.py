"""Checks responses made in place with `raise_for_status()`: each request
is made once, also when it fails (the server counts the POSTs it refuses;
each was made twice)."""
import os
import uuid

import requests

BASE_URL = os.environ["BASE_URL"]


def submit(url):
    requests.post(url, json={"n": 1}, timeout=5).raise_for_status()


def main():
    url = f"{BASE_URL}/tally/{uuid.uuid4().hex}"
    for _ in range(2):
        try:
            submit(url)
        except requests.HTTPError as e:
            print("HTTPError", e.response.status_code)
    print("posts", requests.get(url, timeout=5).json()["count"])
    requests.get(f"{BASE_URL}/health", timeout=5).raise_for_status()
    print("healthy")


if __name__ == "__main__":
    main()
