"""Pings services with HEAD, retries with back-off, exits 2 if any is down."""
import os
import sys
import time

import requests
from requests.exceptions import ConnectionError, Timeout

SERVICES = {
    "forge": os.environ["BASE_URL"] + "/health",
    "catalog": os.environ["BASE_URL"] + "/items",
    "billing": os.environ["DEAD_URL"] + "/health",
    "legacy": os.environ["BASE_URL"] + "/status/503",
}


def ping(session, url, retries=3, backoff=0.02):
    for attempt in range(retries):
        try:
            r = session.head(url, timeout=2)
            if r.status_code < 500:
                return r.status_code, r.headers.get("X-Service", "?"), attempt + 1
        except (ConnectionError, Timeout):
            pass
        time.sleep(backoff * (2 ** attempt))
    return None, None, retries


def main():
    down = []
    lines = []
    with requests.Session() as session:
        session.headers["X-Probe"] = "health-monitor"
        for name, url in sorted(SERVICES.items()):
            status, service, attempts = ping(session, url)
            if status is None:
                down.append(name)
                lines.append(f"{name}\tDOWN\t{attempts} attempts")
            else:
                lines.append(f"{name}\t{status}\t{service}\t{attempts} attempt(s)")
    for line in lines:
        print(line)
    with open("health.log", "a") as log:
        for line in lines:
            log.write(line + "\n")
    if down:
        print("down:", ", ".join(down), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
