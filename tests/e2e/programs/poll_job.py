"""Submits an export job, polls it until it finishes, and saves the result."""
import json
import os
import sys
import time

import requests

BASE_URL = os.environ["BASE_URL"]
POLL_INTERVAL = 0.05
MAX_POLLS = 20


def submit(items):
    resp = requests.post(f"{BASE_URL}/jobs", json={"kind": "export", "items": items})
    resp.raise_for_status()
    job = resp.json()
    print("submitted:", resp.status_code, job["state"])
    return job["id"]


def wait_for(job_id):
    for attempt in range(1, MAX_POLLS + 1):
        status = requests.get(f"{BASE_URL}/jobs/{job_id}").json()
        print(f"poll {attempt}: {status['state']} {status['progress']}%")
        if status["state"] == "done":
            return status["result"]
        time.sleep(POLL_INTERVAL)
    raise RuntimeError("job did not finish")


def save(result, path):
    with open(path, "w") as f:
        json.dump(result, f)
        f.write("\n")


def main():
    start = time.monotonic()
    job_id = submit([1, 2, 3])
    result = wait_for(job_id)
    save(result, "export.json")
    time.sleep(0.1)
    print("rows:", result["rows"])
    print("took at least 0.25s:", time.monotonic() - start >= 0.25)
    missing = requests.get(f"{BASE_URL}/jobs/nope")
    if missing.status_code == 404:
        print("unknown job:", missing.json()["error"])
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
