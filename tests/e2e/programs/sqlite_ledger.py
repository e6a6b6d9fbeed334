"""A small ledger in SQLite: schema, bulk insert, cursors, fetches, row
factories, a transaction that commits and one that fails and rolls back."""
import sqlite3
import sys
import time
from contextlib import closing

DB = "ledger.db"


class Overdraft(Exception):
    pass


def open_db(path):
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, balance INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS moves (id INTEGER PRIMARY KEY, src TEXT, dst TEXT, amount INTEGER);
        """
    )
    return conn


def seed(conn, accounts):
    conn.executemany("INSERT OR REPLACE INTO accounts VALUES (?, ?)", accounts)
    conn.commit()
    print("seeded", conn.total_changes, "change(s)")


def transfer(conn, src, dst, amount):
    # sqlite3's `with conn:` commits, or rolls back when the block raises.
    with conn:
        cur = conn.execute("UPDATE accounts SET balance = balance - ? WHERE name = ?", (amount, src))
        print("debited", cur.rowcount, "account(s)")
        conn.execute("UPDATE accounts SET balance = balance + ? WHERE name = ?", (amount, dst))
        cur = conn.cursor()
        cur.execute("INSERT INTO moves (src, dst, amount) VALUES (?, ?, ?)", (src, dst, amount))
        print("move", cur.lastrowid)
        balance = conn.execute("SELECT balance FROM accounts WHERE name = ?", (src,)).fetchone()[0]
        if balance < 0:
            raise Overdraft(f"{src} would be at {balance}")


def report(conn):
    conn.row_factory = sqlite3.Row
    cur = conn.cursor()
    cur.execute("SELECT name, balance FROM accounts ORDER BY name")
    first = cur.fetchone()
    print("first:", first["name"], first["balance"])
    for row in cur.fetchmany(1):
        print("next:", dict(row))
    for row in cur:
        print("rest:", row["name"], row["balance"])
    names = [r["name"] for r in conn.execute("SELECT name FROM accounts WHERE balance > 0 ORDER BY name")]
    print("in credit:", names)
    moves = conn.execute("SELECT COUNT(*) AS n, SUM(amount) AS total FROM moves").fetchall()
    print("moves:", moves[0]["n"], moves[0]["total"], "in transaction:", conn.in_transaction)
    cur.close()


def audit(path):
    time.sleep(0.01)
    with closing(sqlite3.connect(path)) as conn:
        total = conn.execute("SELECT SUM(balance) FROM accounts").fetchone()[0]
        print("audit total:", total)
        return total


def archive(path):
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS archive (id INTEGER, amount INTEGER)")
        conn.execute("INSERT INTO archive SELECT id, amount FROM moves")


def main():
    conn = open_db(DB)
    try:
        seed(conn, [("alice", 100), ("bob", 20), ("carol", 0)])
        transfer(conn, "alice", "bob", 30)
        try:
            transfer(conn, "bob", "carol", 500)
        except Overdraft as e:
            print("rolled back:", e)
        transfer(conn, "bob", "carol", 5)
        report(conn)
    finally:
        conn.close()
    archive(DB)
    if audit(DB) != 120:
        sys.exit(3)


if __name__ == "__main__":
    main()
