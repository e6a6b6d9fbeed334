"""Provokes requests' errors and prints which handler caught each one."""
import os

import requests

BASE_URL = os.environ["BASE_URL"]
DEAD_URL = os.environ["DEAD_URL"]


def precise(label, url, timeout=None):
    try:
        r = requests.get(url, timeout=timeout)
        r.raise_for_status()
        r.json()
    except requests.exceptions.ConnectTimeout:
        handler = "ConnectTimeout"
    except requests.exceptions.ReadTimeout:
        handler = "ReadTimeout"
    except requests.exceptions.TooManyRedirects:
        handler = "TooManyRedirects"
    except requests.exceptions.HTTPError as e:
        handler = f"HTTPError {e.response.status_code}"
    except requests.exceptions.ConnectionError:
        handler = "ConnectionError"
    except requests.exceptions.JSONDecodeError:
        handler = "JSONDecodeError"
    except requests.exceptions.RequestException:
        handler = "RequestException"
    else:
        handler = "no error"
    print(f"{label}: {handler}")


def broad(label, url, timeout=None):
    try:
        r = requests.get(url, timeout=timeout)
        r.json()
    except requests.Timeout:
        handler = "Timeout"
    except requests.ConnectionError:
        handler = "ConnectionError"
    except requests.RequestException as e:
        handler = "RequestException" + (" (a ValueError)" if isinstance(e, ValueError) else "")
    else:
        handler = "no error"
    print(f"{label} (broad): {handler}")


def main():
    cases = [
        ("ok", BASE_URL + "/items", None),
        ("missing", BASE_URL + "/items/999", None),
        ("server error", BASE_URL + "/status/500", None),
        ("down", DEAD_URL + "/items", None),
        ("slow", BASE_URL + "/slow?seconds=1", 0.3),
        ("loop", BASE_URL + "/loop", None),
        ("not json", BASE_URL + "/text", None),
    ]
    for label, url, timeout in cases:
        precise(label, url, timeout)
    for label, url, timeout in cases:
        broad(label, url, timeout)


if __name__ == "__main__":
    main()
