"""Checks a list of endpoints and reports what went wrong with each."""
import os
import sys

import requests

BASE_URL = os.environ["BASE_URL"]
DEAD_URL = os.environ["DEAD_URL"]


def fetch_json(url, timeout=5):
    response = requests.get(url, timeout=timeout)
    response.raise_for_status()
    return response.json()


def check(name, url, timeout=5):
    try:
        data = fetch_json(url, timeout=timeout)
    except requests.exceptions.HTTPError as e:
        print(f"{name}: HTTP error {e.response.status_code}")
        return False
    except requests.exceptions.ConnectionError:
        print(f"{name}: cannot connect")
        return False
    except requests.exceptions.Timeout:
        print(f"{name}: timed out")
        return False
    except ValueError:
        print(f"{name}: not JSON")
        return False
    print(f"{name}: ok ({type(data).__name__})")
    return True


def must_get(url):
    r = requests.get(url)
    try:
        r.raise_for_status()
    except requests.HTTPError:
        print("must_get failed with", r.status_code)
        raise
    return r


def main():
    results = [
        check("items", BASE_URL + "/items"),
        check("missing", BASE_URL + "/items/999"),
        check("broken", BASE_URL + "/status/500"),
        check("teapot", BASE_URL + "/status/418"),
        check("down", DEAD_URL + "/items"),
        check("slow", BASE_URL + "/slow?seconds=2", timeout=(3.05, 0.3)),
        check("text", BASE_URL + "/text"),
    ]
    try:
        must_get(BASE_URL + "/status/503")
    except requests.exceptions.RequestException:
        print("gave up on the status endpoint")
    failed = results.count(False)
    print(f"{failed} of {len(results)} checks failed")
    return failed


if __name__ == "__main__":
    sys.exit(main())
