"""Mirrors the catalogue into ./mirror/, one JSON file per item."""
import json
import os
import pathlib

import requests

BASE_URL = os.environ["BASE_URL"]
OUT = pathlib.Path("mirror")

http = requests.Session()
http.headers["User-Agent"] = "mirror/0.3"


def fetch(path, **kwargs):
    resp = http.request("GET", BASE_URL + path, **kwargs)
    resp.raise_for_status()
    return resp


def mirror_item(item_id):
    resp = fetch(f"/items/{item_id}")
    target = OUT / f"{item_id}.json"
    target.write_text(json.dumps(resp.json(), sort_keys=True, indent=1) + "\n")
    return resp.headers["ETag"]


def main():
    OUT.mkdir(exist_ok=True)
    listing = fetch("/items").json()
    etags = {}
    for item in listing:
        etags[item["id"]] = mirror_item(item["id"])
    (OUT / "etags.txt").write_text("".join(f"{k} {v}\n" for k, v in sorted(etags.items())))
    agent = fetch("/headers").json()["user-agent"]
    print("agent:", agent)
    print("mirrored", len(etags), "items")
    http.close()


if __name__ == "__main__":
    main()
