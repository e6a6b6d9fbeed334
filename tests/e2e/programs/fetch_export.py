"""Downloads the nightly export from the first mirror that answers."""
import os
import sys

import requests

BASE_URL = os.environ["BASE_URL"]
MIRRORS = [
    os.environ["DEAD_URL"] + "/drip?chunks=5",
    BASE_URL + "/slow?seconds=1.5",
    BASE_URL + "/redirect/2",
]


def try_mirror(url):
    try:
        r = requests.get(url, timeout=(2, 0.4))
    except requests.exceptions.ConnectionError:
        return "connection failed", None
    except requests.exceptions.Timeout:
        return "too slow", None
    hops = [resp.status_code for resp in r.history]
    return f"ok after {len(hops)} redirect(s) {hops}", r.json()


def download(url, path):
    r = requests.get(url, timeout=1)
    r.raise_for_status()
    with open(path, "wb") as f:
        f.write(r.content)
    return len(r.content)


def manifest():
    r = requests.get(BASE_URL + "/status/204")
    try:
        return r.json()
    except ValueError:
        return {}


def main():
    for url in MIRRORS:
        outcome, info = try_mirror(url)
        print(url.split("/")[-1], "->", outcome)
        if info is not None:
            break
    else:
        print("no mirror available")
        return 1
    size = download(BASE_URL + "/drip?chunks=6&delay=0.25", "export.csv")
    print("downloaded", size, "bytes")
    meta = manifest()
    print("manifest:", meta)
    with open("manifest.txt", "w") as f:
        for key, value in sorted(meta.items()):
            f.write(f"{key}={value}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
