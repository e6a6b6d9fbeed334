"""Poll a job queue until every job has finished.

Plain functions calling each other; `time.sleep` sits two calls below main().
"""
import random
import time

POLL_INTERVAL = 0.2  # seconds between polls


def job_finished(job_id):
    # Pretend to ask a server; a real program would make a request here.
    return random.random() < 0.5


def wait_for(job_id, attempts=10):
    """Block until `job_id` reports done, or give up after `attempts` polls."""
    for attempt in range(attempts):
        if job_finished(job_id):
            return True
        time.sleep(POLL_INTERVAL)  # back off before asking again
    return False


def main():
    jobs = ["build", "test", "deploy"]
    for job in jobs:
        ok = wait_for(job)
        print(f"{job}: {'done' if ok else 'timed out'}")


if __name__ == "__main__":
    main()
