"""A tiny client that respects a rate limit.

The sleep is in a method, `wait`, reached through `self.wait()` from another
method of the same class.  Uses `import time as t`.
"""
import time as t


class RateLimitedClient:
    def __init__(self, per_second):
        # Only plain attribute set-up here: nothing that sleeps.
        self.interval = 1.0 / per_second
        self.last = 0.0

    def wait(self):
        # Sleep just long enough to stay under the limit.
        elapsed = t.monotonic() - self.last
        if elapsed < self.interval:
            t.sleep(self.interval - elapsed)
        self.last = t.monotonic()

    def fetch(self, item):
        self.wait()
        return item.upper()

    def fetch_all(self, items):
        return [self.fetch(item) for item in items]


def main():
    for word in RateLimitedClient(per_second=5).fetch_all(["alpha", "beta"]):
        print(word)


if __name__ == "__main__":
    main()
