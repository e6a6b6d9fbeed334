"""Local HTTP server for the end-to-end tests (tests/e2e.rs).

Listens on 127.0.0.1 on a free port (or the port given as the first
argument), prints that port on the first line of stdout, and serves until its
standard input is closed (so it never outlives the test that started it).

Endpoints (GET unless noted):

  /items                 JSON list of items (?category=... filters)
  /items/<id>            one item as JSON; 404 with a JSON error if unknown;
                         HEAD-able; PUT replaces, DELETE removes (204) -- the
                         change is not stored, so every run sees the same data
  /status/<code>         an empty-ish response with that status (204 has no body)
  /redirect/<n>          302 to /redirect/<n-1>; /redirect/0 is a JSON 200
  /moved                 301 to /items
  /loop                  302 to itself, forever
  /slow?seconds=S        waits S seconds, then answers 200 JSON
  /drip?chunks=N&delay=S a CSV body sent in N lines, S seconds apart (each
                         read is quick, the whole body is slow)
  /echo                  any method: echoes method, path, query, content
                         type, the form fields or JSON body
  /query                 echoes the parsed query string (pairs in order)
  /text                  a plain-text (non-JSON) body
  /notes                 UTF-8 text served as text/plain with no charset
  /html                  an HTML body whose Content-Type says text/html
  /headers               echoes the request headers (lower-cased names)
  /cookie                sets a cookie (`visit=1`) on the client
  /jobs (POST)           creates a job; /jobs/<id> reports "running" for its
                         first 3 polls, then "done" with a result
  /health                HEAD or GET: 200 with an X-Service header
  /tally/<name>          POST: counts the request and answers 409; GET: the
                         count so far
"""

import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ITEMS = [
    {"id": 1, "name": "anvil", "category": "tools", "price": 120.5, "stock": 3},
    {"id": 2, "name": "bellows", "category": "tools", "price": 45.0, "stock": 0},
    {"id": 3, "name": "crucible", "category": "supplies", "price": 18.25, "stock": 12},
    {"id": 4, "name": "dross skimmer", "category": "supplies", "price": 9.99, "stock": 7},
    {"id": 5, "name": "émail flux", "category": "chemicals", "price": 31.0, "stock": 2},
]

JOBS = {}
JOBS_LOCK = threading.Lock()
TALLIES = {}

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "e2e-server/1.0"

    def log_message(self, format, *args):
        pass

    # -- helpers -----------------------------------------------------------

    def send(self, status, body=b"", content_type=None, headers=()):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        if status != 204 and not (100 <= status < 200):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 204:
            self.wfile.write(body)

    def send_json(self, status, obj, headers=()):
        self.send(status, json.dumps(obj, ensure_ascii=False), "application/json", headers)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # -- dispatch ----------------------------------------------------------

    def do_GET(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    def do_PATCH(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def route(self):
        try:
            self.dispatch()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. a read timeout): nothing to answer.
            self.close_connection = True

    def dispatch(self):
        url = urlsplit(self.path)
        query = parse_qsl(url.query, keep_blank_values=True)
        parts = [p for p in url.path.split("/") if p]
        method = self.command
        # A body is read whatever the method (a GET may carry one too), so
        # that a kept-alive connection stays in step.
        raw = self.body()

        if parts == ["items"] and method in ("GET", "HEAD"):
            wanted = dict(query).get("category")
            items = [i for i in ITEMS if wanted is None or i["category"] == wanted]
            return self.send_json(200, items, [("X-Total-Count", str(len(items)))])
        if len(parts) == 2 and parts[0] == "items":
            item = next((i for i in ITEMS if str(i["id"]) == parts[1]), None)
            if item is None:
                return self.send_json(404, {"error": f"no item {parts[1]}"})
            if method in ("GET", "HEAD"):
                return self.send_json(200, item, [("ETag", f'"item-{item["id"]}"')])
            if method in ("PUT", "PATCH"):
                changes = json.loads(raw or b"{}")
                return self.send_json(200, {**item, **changes})
            if method == "DELETE":
                return self.send(204)
        if parts == ["items"] and method == "POST":
            data = json.loads(raw or b"{}")
            if not data.get("name"):
                return self.send_json(400, {"error": "name is required"})
            return self.send_json(201, {"id": 100 + len(data["name"]), **data}, [("Location", "/items/100")])
        if parts == ["cookie"]:
            # Sets a cookie: a client that keeps cookies sends it back.
            return self.send_json(200, {"set": "visit"}, [("Set-Cookie", "visit=1; Path=/")])
        if len(parts) == 2 and parts[0] == "status" and parts[1].isdigit():
            code = int(parts[1])
            if code == 204:
                return self.send(204)
            return self.send(code, f"status {code}\n", "text/plain; charset=utf-8")
        if len(parts) == 2 and parts[0] == "redirect" and parts[1].isdigit():
            n = int(parts[1])
            if n > 0:
                return self.send(302, "", headers=[("Location", f"/redirect/{n - 1}")])
            return self.send_json(200, {"arrived": True})
        if parts == ["moved"]:
            return self.send(301, "", headers=[("Location", "/items")])
        if parts == ["loop"]:
            return self.send(302, "", headers=[("Location", "/loop")])
        if parts == ["slow"]:
            seconds = float(dict(query).get("seconds", "1"))
            time.sleep(seconds)
            return self.send_json(200, {"slept": seconds})
        if parts == ["drip"]:
            chunks = int(dict(query).get("chunks", "4"))
            delay = float(dict(query).get("delay", "0.3"))
            lines = [f"{i},row {i}\n".encode() for i in range(chunks)]
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(sum(map(len, lines))))
            self.end_headers()
            if method != "HEAD":
                for line in lines:
                    self.wfile.write(line)
                    self.wfile.flush()
                    time.sleep(delay)
            return None
        if parts == ["echo"]:
            ctype = self.headers.get("Content-Type", "")
            out = {"method": method, "path": url.path, "query": query, "content_type": ctype.split(";")[0]}
            if ctype.startswith("application/x-www-form-urlencoded"):
                out["form"] = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
            elif ctype.startswith("application/json"):
                out["json"] = json.loads(raw or b"null")
            else:
                out["data"] = raw.decode("utf-8", "replace")
            return self.send_json(200, out)
        if parts == ["query"]:
            return self.send_json(200, {"pairs": query})
        if parts == ["text"]:
            return self.send(200, "plain words, not JSON\nsecond line\n", "text/plain; charset=utf-8")
        if parts == ["notes"]:
            # text/plain with no charset: clients must guess the encoding.
            return self.send(200, "crème brûlée: 4 portions\n", "text/plain")
        if parts == ["html"]:
            return self.send(200, "<html><body><h1>Forge</h1></body></html>", "text/html; charset=utf-8")
        if parts == ["headers"]:
            return self.send_json(200, {k.lower(): v for k, v in self.headers.items()})
        if parts == ["jobs"] and method == "POST":
            spec = json.loads(raw or b"{}")
            job = uuid.uuid4().hex
            with JOBS_LOCK:
                JOBS[job] = {"polls": 0, "spec": spec}
            return self.send_json(202, {"id": job, "state": "queued"}, [("Location", f"/jobs/{job}")])
        if len(parts) == 2 and parts[0] == "jobs":
            with JOBS_LOCK:
                job = JOBS.get(parts[1])
                if job is not None:
                    job["polls"] += 1
                    polls = job["polls"]
            if job is None:
                return self.send_json(404, {"error": "no such job"})
            if polls <= 3:
                return self.send_json(200, {"state": "running", "progress": polls * 25})
            size = len(job["spec"].get("items", []))
            return self.send_json(200, {"state": "done", "progress": 100, "result": {"rows": size * 10}})
        if len(parts) == 2 and parts[0] == "tally":
            with JOBS_LOCK:
                if method == "POST":
                    TALLIES[parts[1]] = TALLIES.get(parts[1], 0) + 1
                count = TALLIES.get(parts[1], 0)
            return self.send_json(409 if method == "POST" else 200, {"count": count})
        if parts == ["health"]:
            return self.send(200, "ok\n", "text/plain", [("X-Service", "forge")])
        return self.send_json(404, {"error": f"no route {method} {url.path}"})


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    # Serve until whoever started us closes our stdin (or dies).
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
