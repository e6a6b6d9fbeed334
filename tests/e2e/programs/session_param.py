"""A helper annotated with `requests.Session`, in a function that also
sleeps: every call passes a session the tool follows, so it is converted as
the client it becomes."""
import os
import time

import requests

BASE_URL = os.environ["BASE_URL"]


def fetch(session: requests.Session, path):
    time.sleep(0.01)
    r = session.get(BASE_URL + path)
    return r.status_code, r.json()["name"]


def main():
    shared = requests.Session()
    print(fetch(shared, "/items/1"))
    other = requests.Session()
    print(fetch(other, "/items/2"))
    other.close()
    shared.close()


if __name__ == "__main__":
    main()
