"""A helper annotated with `requests.Session`, given a session the tool cannot
follow, in a function that becomes async for another reason."""
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
    print(fetch(requests.Session(), "/items/2"))
    shared.close()


if __name__ == "__main__":
    main()
