"""Sends a few deliveries; each sender returns its response, a reporter reads it."""
import os

import requests

BASE_URL = os.environ["BASE_URL"]


def send_item(name):
    return requests.post(f"{BASE_URL}/items", json={"name": name, "tags": ["x"]})


def send_form(fields):
    reply = requests.post(BASE_URL + "/echo", data=fields)
    return reply


def drop(item_id):
    if item_id < 0:
        return requests.get(BASE_URL + "/status/503")
    return requests.delete(f"{BASE_URL}/items/{item_id}")


def show(label, reply):
    verdict = "accepted" if reply.ok else "refused"
    print(f"{label}: {reply.status_code} {reply.reason} {verdict}")
    if not reply.content:
        print("  (empty body)")
    elif reply.headers.get("Content-Type", "").startswith("application/json"):
        print("  json:", reply.json())
    else:
        print("  text:", reply.text.strip())


def main():
    show("item", send_item("anvil"))
    show("nameless", send_item(""))
    show("form", send_form({"channel": "#ops", "text": "hello"}))
    for item_id in (1, -1):
        show(f"drop {item_id}", drop(item_id))


if __name__ == "__main__":
    main()
