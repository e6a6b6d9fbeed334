"""Audits redirects: where links point, how many hops, and loops."""
import os

import requests

BASE_URL = os.environ["BASE_URL"]


def first_hop(url):
    r = requests.get(url, allow_redirects=False)
    return r.status_code, r.headers.get("Location")


def follow(url):
    r = requests.get(url)
    hops = [(h.status_code, h.headers["Location"]) for h in r.history]
    return r.status_code, r.url, hops


def probe(url):
    r = requests.head(url)
    return r.status_code, r.is_redirect, r.headers.get("Location")


def detect_loop(url):
    try:
        requests.get(url, timeout=10)
    except requests.exceptions.TooManyRedirects:
        return "redirect loop"
    return "no loop"


def main():
    print("first hop of /moved:", first_hop(BASE_URL + "/moved"))
    print("first hop of /items:", first_hop(BASE_URL + "/items"))

    status, final_url, hops = follow(BASE_URL + "/redirect/3")
    print("final:", status, final_url.replace(BASE_URL, "<base>"))
    for code, location in hops:
        print("  via", code, location)

    status, final_url, hops = follow(BASE_URL + "/moved")
    print("moved ends at", final_url.endswith("/items"), "after", len(hops), "hop(s)")

    print("head /moved:", probe(BASE_URL + "/moved"))
    print("head /health:", probe(BASE_URL + "/health"))
    print("loop:", detect_loop(BASE_URL + "/loop"))


if __name__ == "__main__":
    main()
