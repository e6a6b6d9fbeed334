"""Functions that sleep but must stay synchronous.

`warm_up` is called from `__init__`, which Python always calls synchronously,
and `heartbeat` is handed to a thread as a callback.  awaitify leaves both
(and the file) as they are, and explains why on stderr.
"""
import threading
import time


def warm_up():
    # Give the cache a moment to fill.
    time.sleep(0.1)


class Cache:
    def __init__(self):
        self.items = {}
        warm_up()  # boundary: __init__ cannot await


def heartbeat():
    time.sleep(0.5)
    print("still alive")


def main():
    cache = Cache()
    # boundary: `heartbeat` is passed as a value, not called here
    threading.Thread(target=heartbeat).start()
    print(len(cache.items))


if __name__ == "__main__":
    main()
