"""Polls endpoints with a retry policy driven by the status of failed attempts."""
import os
import time

import requests

BASE_URL = os.environ["BASE_URL"]
DEAD_URL = os.environ["DEAD_URL"]


def status_of(error):
    answer = getattr(error, "response", None)
    return None if answer is None else answer.status_code


def worth_retrying(error):
    code = status_of(error)
    return code is None or code >= 500


def explain(error):
    answer = error.response
    if answer is not None:
        return f"{answer.status_code} {answer.reason}"
    return "no answer"


def poll(url, attempts=3):
    for n in range(attempts):
        try:
            r = requests.get(url, timeout=5)
            r.raise_for_status()
            return r.json()
        except requests.RequestException as error:
            print(f"  attempt {n + 1}: {explain(error)}")
            if not worth_retrying(error) or n == attempts - 1:
                return None
            time.sleep(0.01 * (n + 1))
    return None


def main():
    for url in (BASE_URL + "/items/2", BASE_URL + "/status/404", BASE_URL + "/status/502", DEAD_URL + "/items"):
        print(url.replace(BASE_URL, "BASE").replace(DEAD_URL, "DEAD"))
        print("  ->", poll(url))


if __name__ == "__main__":
    main()
