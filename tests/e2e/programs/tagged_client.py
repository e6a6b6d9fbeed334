"""Builds a tagged session in one place and uses it from several helpers."""
import os

import requests

BASE_URL = os.environ["BASE_URL"]


def build(agent):
    client = requests.Session()
    client.headers.update({"User-Agent": agent, "X-Team": "forge"})
    return client


def echo_headers(client):
    seen = client.get(BASE_URL + "/headers").json()
    return seen["user-agent"], seen["x-team"]


def total_items(client, category):
    r = client.get(BASE_URL + "/items", params={"category": category})
    r.raise_for_status()
    return len(r.json()), r.headers["X-Total-Count"]


def main():
    with build("tagged/1.0") as client:
        print(echo_headers(client))
        for category in ("tools", "food"):
            print(category, total_items(client, category))
    other = build("tagged/2.0")
    print(echo_headers(other))
    other.close()


if __name__ == "__main__":
    main()
