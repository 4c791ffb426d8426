"""A minimal Lambda Runtime API of the benchmark's own, to run a runtime process without Aviary.

http.server, HTTP/1.1 keep-alive, TCP_NODELAY, every reply one pre-formatted write. It hands out the
same event to every GET /next as fast as the runtime asks, counts the runtime's responses, and times
each event's round trip inside the runtime: from the moment the /next reply is written to the moment
the request line of the matching POST /response arrives (so the stub's own header parsing is not
counted), and the runtime's turnaround: from the 202 for a response to the request line of its next
GET /next.  `first_next_at` is when the first GET /next arrived (perf_counter_ns).
"""
import http.server
import threading
import time

PREFIX = "/2018-06-01/runtime/invocation/"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:stub"


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.responses = 0            # POST /response received
        self.errors = []              # bodies of POST /error and /init/error
        self.bodies = set()           # distinct response bodies (the caller validates them)
        self.rtt_ns = []              # per event: /next reply written -> POST request line read
        self.turn_ns = []             # per event: 202 written -> the next GET /next request line read
        self.first_next_at = None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True    # TCP_NODELAY on the accepted socket
    wbufsize = 0                      # each wfile.write is one send

    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except OSError:   # the runtime was killed at the end of a run
            self.raw_requestline = b""
        self.line_at = time.perf_counter_ns()
        if not self.raw_requestline or not self.parse_request():
            self.close_connection = True
            return
        stats, path = self.server.stats, self.path
        if self.command == "GET" and path == PREFIX + "next":
            with stats.lock:
                if stats.first_next_at is None:
                    stats.first_next_at = self.line_at
                self.server.seq += 1
                if getattr(self, "acked_at", None):
                    stats.turn_ns.append(self.line_at - self.acked_at)
                    self.acked_at = None
                request_id = "stub-%012d" % self.server.seq
            event = self.server.event
            self.wfile.write((
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                "Lambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %d\r\n"
                "Lambda-Runtime-Invoked-Function-Arn: %s\r\n"
                "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\r\n"
                % (len(event), request_id, int(time.time() * 1000) + 900_000, ARN)).encode() + event)
            self.sent_at = time.perf_counter_ns()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.command == "POST" and path.startswith(PREFIX) and path.endswith("/response"):
            with stats.lock:
                stats.responses += 1
                if getattr(self, "sent_at", None):
                    stats.rtt_ns.append(self.line_at - self.sent_at)
                if len(stats.bodies) < 10:
                    stats.bodies.add(body)
        else:   # /error, /init/error or anything unexpected
            with stats.lock:
                stats.errors.append((self.command, path, body[:500]))
        self.sent_at = None
        self.wfile.write(b'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n'
                         b'Content-Length: 15\r\n\r\n{"status":"OK"}')
        self.acked_at = time.perf_counter_ns()

    def log_message(self, *args):
        pass


def start(event=b"{}"):
    """Starts a stub on 127.0.0.1 (ephemeral port) in a daemon thread; returns the server."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.stats, server.event, server.seq = Stats(), event, 0
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
