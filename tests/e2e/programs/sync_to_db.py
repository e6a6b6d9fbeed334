"""Fetches the inventory over HTTP, stores it in SQLite, exports a JSON
file and a text summary."""
import json
import os
import sqlite3

import requests

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000")


def fetch(session, category=None):
    params = {"category": category} if category else None
    r = session.get(f"{BASE_URL}/items", params=params)
    r.raise_for_status()
    return r.json()


def store(conn, items):
    with conn:
        conn.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT, category TEXT)")
        conn.executemany(
            "INSERT OR REPLACE INTO items VALUES (?, ?, ?)",
            [(i["id"], i["name"], i["category"]) for i in items],
        )


def export(conn, path):
    rows = conn.execute("SELECT id, name, category FROM items ORDER BY id").fetchall()
    with open(path, "w", encoding="utf-8") as f:
        json.dump([list(r) for r in rows], f)
    return len(rows)


def summary(conn, path):
    lines = [f"{cat}: {n}" for cat, n in conn.execute("SELECT category, COUNT(*) FROM items GROUP BY category ORDER BY category")]
    open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")


def main():
    conn = sqlite3.connect("inventory.db")
    try:
        with requests.Session() as session:
            store(conn, fetch(session))
            tools = fetch(session, "tools")
        print("tools:", sorted(i["name"] for i in tools))
        print("exported", export(conn, "items.json"))
        summary(conn, "summary.txt")
        print(open("summary.txt", encoding="utf-8").read().strip())
    finally:
        conn.close()


if __name__ == "__main__":
    main()
