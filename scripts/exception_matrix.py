"""Which exception requests, httpx and aiohttp raise in the same situations.

The data behind the `[[http.exception]]` rows of transforms/http.toml:
each situation is provoked against a local server (started here, on
127.0.0.1) with requests, with an httpx.AsyncClient and with an
aiohttp.ClientSession (the clients the `http` pass writes, with its
defaults). For every requests exception class a program can catch, it then
looks for a target class, or a tuple of target classes, that matches
exactly the situations the requests class matches ("covers"), and prints
it, or `none` (the pass must not rename that class).

Run with the test virtualenv: target/test-venv/bin/python scripts/exception_matrix.py
"""

import asyncio
import gzip
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import httpx
import requests


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a read timeout)

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = self.path
        if p == "/ok":
            return self.send(200, b"{}", [("Content-Type", "application/json"), ("Content-Length", "2")])
        if p == "/text":
            return self.send(200, b"not json", [("Content-Type", "text/plain"), ("Content-Length", "8")])
        if p == "/404":
            return self.send(404, b"no", [("Content-Length", "2")])
        if p == "/loop":
            return self.send(302, b"", [("Location", "/loop"), ("Content-Length", "0")])
        if p == "/slow":
            time.sleep(1.0)
            return self.send(200, b"{}", [("Content-Length", "2")])
        if p == "/badchunk":
            # A chunk announces 100 bytes, 5 come, then the connection closes.
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"64\r\nhello")
            self.wfile.flush()
            self.close_connection = True
            return None
        if p == "/hangup":
            # The connection closes before any response.
            self.close_connection = True
            return None
        if p == "/badgzip":
            body = b"this is not gzip data"
            return self.send(200, body, [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))])
        if p == "/gzip":
            body = gzip.compress(b"{}")
            return self.send(200, body, [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))])
        return self.send(404, b"", [("Content-Length", "0")])


def start():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def blackhole():
    """A port whose accept queue is full: connects hang (a connect timeout)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    fillers = []
    for _ in range(8):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(s.getsockname())
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.1)
    return s, fillers, s.getsockname()[1]


def situations(port, dead, hole):
    base = f"http://127.0.0.1:{port}"
    # name -> (request kwargs, what to do with the response)
    return {
        "no scheme": (dict(url="127.0.0.1/ok"), None),
        "host:port, no scheme": (dict(url=f"127.0.0.1:{port}/ok"), None),
        "no host name": (dict(url="http:///ok"), None),
        "ftp scheme": (dict(url=f"ftp://127.0.0.1:{port}/ok"), None),
        "bad url (port)": (dict(url="http://127.0.0.1:99999999/ok"), None),
        "newline in header": (dict(url=f"{base}/ok", headers={"X-A": "a\nb"}), None),
        "int header value": (dict(url=f"{base}/ok", headers={"X-A": 1}), None),
        "json() of text": (dict(url=f"{base}/text"), "json"),
        "raise_for_status 404": (dict(url=f"{base}/404"), "raise"),
        "redirect loop": (dict(url=f"{base}/loop"), None),
        "connection refused": (dict(url=f"http://127.0.0.1:{dead}/ok"), None),
        "connect timeout": (dict(url=f"http://127.0.0.1:{hole}/ok", timeout=0.3), None),
        "read timeout": (dict(url=f"{base}/slow", timeout=0.3), None),
        "broken chunked body": (dict(url=f"{base}/badchunk"), "text"),
        "bad gzip body": (dict(url=f"{base}/badgzip"), "text"),
        "closed without a response": (dict(url=f"{base}/hangup"), None),
        "https to a plain server": (dict(url=f"https://127.0.0.1:{port}/ok"), None),
    }


def run_requests(kw, then):
    r = requests.get(**kw)
    if then == "json":
        r.json()
    elif then == "raise":
        r.raise_for_status()
    elif then == "text":
        r.text


async def run_httpx(kw, then):
    kw = dict(kw)
    timeout = kw.pop("timeout", None)
    async with httpx.AsyncClient(follow_redirects=True, timeout=None) as client:
        r = await client.get(**kw, timeout=timeout)
        if then == "json":
            r.json()
        elif then == "raise":
            if r.is_error:
                r.raise_for_status()
        elif then == "text":
            r.text


async def run_aiohttp(kw, then):
    kw = dict(kw)
    timeout = kw.pop("timeout", None)
    if timeout is not None:
        kw["timeout"] = aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as client:
        r = await client.get(**kw)
        if then == "json":
            json.loads(await r.text())
        elif then == "raise":
            r.raise_for_status()
        elif then == "text":
            await r.text()
        else:
            await r.read()


def catch(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 - the point is to see what comes
        return e
    return None


REQUESTS_NAMES = [
    "RequestException", "ConnectionError", "HTTPError", "Timeout", "ConnectTimeout", "ReadTimeout",
    "URLRequired", "TooManyRedirects", "MissingSchema", "InvalidSchema", "InvalidURL", "InvalidHeader",
    "InvalidJSONError", "JSONDecodeError", "ChunkedEncodingError", "ContentDecodingError", "SSLError",
    "ProxyError", "RetryError", "StreamConsumedError",
]


def classes(e):
    """Public classes of an exception's MRO, as `module.Name` (httpx.X, aiohttp.X, json.X)."""
    out = []
    for k in type(e).__mro__:
        mod = k.__module__.split(".")[0]
        if mod in ("httpx", "aiohttp") and getattr(__import__(mod), k.__name__, None) is k:
            out.append(f"{mod}.{k.__name__}")
        elif k is json.JSONDecodeError:
            out.append("json.JSONDecodeError")
        elif mod == "builtins" and k not in (BaseException, Exception, object):
            out.append(k.__name__)
    return out


def cover(wanted, got):
    """A class or tuple (of at most 3) matching exactly the situations in `wanted`."""
    cands = sorted({c for cs in got.values() for c in cs})
    def matches(tup):
        return {s for s, cs in got.items() if any(c in cs for c in tup)}
    # Library classes before builtins (a builtin also catches what the
    # program raises itself), then the most specific (deepest) class.
    depth = {c: max(len(cs) - cs.index(c) for cs in got.values() if c in cs) for c in cands}
    rank = lambda c: ("." not in c, -depth[c], c)
    cands.sort(key=rank)
    singles = [c for c in cands if matches((c,)) == wanted]
    if singles:
        return singles[0]
    import itertools
    for n in (2, 3):
        for tup in itertools.combinations(cands, n):
            if matches(tup) == wanted:
                return "(" + ", ".join(tup) + ")"
    return "none"


def main():
    port = start()
    dead = dead_port()
    hole_sock, fillers, hole = blackhole()
    cases = situations(port, dead, hole)
    req, hx, ah = {}, {}, {}
    for name, (kw, then) in cases.items():
        req[name] = catch(lambda: run_requests(kw, then))
        hx[name] = catch(lambda: asyncio.run(run_httpx(kw, then)))
        ah[name] = catch(lambda: asyncio.run(run_aiohttp(kw, then)))
    print(f"requests {requests.__version__}, httpx {httpx.__version__}, aiohttp {aiohttp.__version__}")
    print()
    for name in cases:
        r = req[name]
        print(f"{name}:")
        print(f"  requests: {type(r).__module__}.{type(r).__name__}" if r else "  requests: (no error)")
        print(f"  httpx:    {' < '.join(classes(hx[name])) if hx[name] else '(no error)'}")
        print(f"  aiohttp:  {' < '.join(classes(ah[name])) if ah[name] else '(no error)'}")
    print()
    print("requests class: situations -> httpx cover | aiohttp cover")
    hx_got = {s: classes(e) if e else [] for s, e in hx.items()}
    ah_got = {s: classes(e) if e else [] for s, e in ah.items()}
    for n in REQUESTS_NAMES:
        k = getattr(requests.exceptions, n)
        wanted = {s for s, e in req.items() if isinstance(e, k)}
        if not wanted:
            print(f"  {n}: never raised here -> none | none")
            continue
        print(f"  {n}: {len(wanted)} -> {cover(wanted, hx_got)} | {cover(wanted, ah_got)}")
    hole_sock.close()
    for c in fillers:
        c.close()


if __name__ == "__main__":
    main()
