import functools
import time


def retry(times):
    """Runs the function again when it raises OSError, up to `times` times."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(times - 1):
                try:
                    return func(*args, **kwargs)
                except OSError:
                    time.sleep(0.01 * (attempt + 1))
            return func(*args, **kwargs)

        return wrapper

    return decorator
