"""Builds a stock report from the inventory API and files a restock request."""
import json
import os
import sys

import requests

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000")


def get_items(category=None):
    url = f"{BASE_URL}/items"
    if category:
        url += f"?category={category}"
    r = requests.get(url)
    r.raise_for_status()
    return r.json()


def get_item(item_id):
    r = requests.get(f"{BASE_URL}/items/{item_id}")
    if r.status_code == 404:
        return None
    return r.json()


def request_restock(items):
    payload = {"name": "restock", "lines": [{"id": i["id"], "qty": 10} for i in items]}
    r = requests.post(f"{BASE_URL}/items", json=payload)
    print("restock request:", r.status_code, r.headers.get("Location"))
    return r.json()


def rename(item_id, name):
    r = requests.put(f"{BASE_URL}/items/{item_id}", json={"name": name})
    return r.json()["name"]


def remove(item_id):
    r = requests.delete(f"{BASE_URL}/items/{item_id}")
    return r.status_code == 204


def main():
    items = get_items()
    print(f"{len(items)} items")
    tools = get_items("tools")
    print("tools:", ", ".join(i["name"] for i in tools))

    for item_id in (3, 42):
        item = get_item(item_id)
        if item is None:
            print(f"item {item_id}: missing")
        else:
            print(f"item {item_id}: {item['name']} ({item['price']:.2f})")

    out_of_stock = [i for i in items if i["stock"] == 0]
    low = [i for i in items if 0 < i["stock"] < 5]
    created = request_restock(out_of_stock + low)
    print("restock id:", created["id"], "lines:", len(created["lines"]))

    print("renamed to", rename(2, "bellows (large)"))
    print("deleted:", remove(4))

    report = {
        "total_value": round(sum(i["price"] * i["stock"] for i in items), 2),
        "out_of_stock": [i["name"] for i in out_of_stock],
        "low": [i["name"] for i in low],
    }
    with open("report.json", "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
    print("report written")
    return 0 if not out_of_stock else 1


if __name__ == "__main__":
    sys.exit(main())
