#!/usr/bin/env python3
"""A loopback fault proxy in front of moto server, for tests/fault_injection.rs.

Forwards every request to the upstream endpoint; Session Manager requests (`X-Amz-Target:
AmazonSSM.*`) go to `--ssm-upstream` when it is given (a stand-in: moto has no `DescribeSessions`).
DynamoDB requests (`X-Amz-Target: DynamoDB_20120810.*`), SNS requests (SigV4 scope `/sns/`) and
Session Manager requests are failed at a seeded rate in the configured mode; everything else
(SQS, set-up calls) passes untouched.

Modes, one per faulted request (`mixed` picks one of the others at random):
  error500    HTTP 500 in the protocol's own error shape (DynamoDB JSON `InternalServerError`,
              SNS query XML `InternalError`, SSM JSON `InternalServerError`); the request never
              reaches moto
  throttle    HTTP 400 `ProvisionedThroughputExceededException` / SNS `Throttling` / SSM
              `ThrottlingException`; not forwarded
  reset       the connection is reset before the request is forwarded
  slow        forwarded, then the reply is held back for a random 0.5-2 x `--slow-seconds`
              (longer than the client's attempt timeout for some: the write happened, the client
              timed out)
  lost_reply  forwarded (the write happened), then the connection is reset instead of replying

Control, on the same port: `POST /__faults__` with `{"mode": ..., "rate": ..., "seed": ...}`
sets the faults and zeroes the counters; `GET /__faults__` returns the counters as JSON:
`requests`, `faulted`, one count per mode, and `operations`: requests by operation
(`dynamodb:PutItem`, `sns:Publish`, `ssm:DescribeSessions`, `sqs:ReceiveMessage`, ...).

Prints `listening http://127.0.0.1:PORT` on its first line once it accepts connections; binds
127.0.0.1 only.
"""

import argparse
import http.client
import http.server
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid

MODES = ("error500", "throttle", "reset", "slow", "lost_reply")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}


class Faults:
    """The current fault settings and what was done, shared by all connection threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.configure({"mode": "none", "rate": 0.0, "seed": 0})

    def configure(self, settings):
        mode = settings.get("mode", "none")
        rate = float(settings.get("rate", 0.0))
        if mode not in MODES + ("mixed", "none"):
            raise ValueError(f"unknown mode {mode!r}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate {rate} is not between 0 and 1")
        with self.lock:
            self.mode = mode
            self.rate = rate
            self.random = random.Random(int(settings.get("seed", 0)))
            self.counters = {"requests": 0, "faulted": 0}
            self.counters.update({m: 0 for m in MODES})
            self.operations = {}

    def decide(self, service, operation):
        """The fault for the next request to `service` (None: pass it through)."""
        with self.lock:
            self.counters["requests"] += 1
            self.operations[operation] = self.operations.get(operation, 0) + 1
            if service is None or self.mode == "none":
                return None, 0.0
            if self.random.random() >= self.rate:
                return None, 0.0
            mode = self.mode
            if mode == "mixed":
                mode = self.random.choice(MODES)
            self.counters["faulted"] += 1
            self.counters[mode] += 1
            return mode, self.random.uniform(0.5, 2.0)

    def snapshot(self):
        with self.lock:
            return dict(
                self.counters, mode=self.mode, rate=self.rate, operations=dict(self.operations)
            )


def service_of(headers):
    target = headers.get("X-Amz-Target", "")
    if target.startswith("DynamoDB_20120810."):
        return "dynamodb"
    if target.startswith("AmazonSSM."):
        return "ssm"
    if "/sns/aws4_request" in headers.get("Authorization", ""):
        return "sns"
    return None


def operation_of(headers, body):
    """`service:Operation` of a request, for the counters."""
    target = headers.get("X-Amz-Target", "")
    if "." in target:
        prefix, operation = target.split(".", 1)
        service = {
            "DynamoDB_20120810": "dynamodb",
            "AmazonSSM": "ssm",
            "AmazonSQS": "sqs",
        }.get(prefix, prefix)
        return f"{service}:{operation}"
    scope = headers.get("Authorization", "")
    service = scope.split("/aws4_request")[0].rsplit("/", 1)[-1] if "/aws4_request" in scope else "?"
    action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
    return f"{service}:{action}"


def error_reply(service, mode):
    """(status, content type, body) of a 500 or throttling error as the service sends it."""
    request_id = str(uuid.uuid4())
    if service == "ssm":
        kind, message, status = {
            "error500": ("InternalServerError", "Internal server error", 500),
            "throttle": ("ThrottlingException", "Rate exceeded", 400),
        }[mode]
        body = json.dumps({"__type": kind, "message": message})
        return status, "application/x-amz-json-1.1", body.encode(), request_id
    if service == "dynamodb":
        kind, message, status = {
            "error500": ("InternalServerError", "Internal server error", 500),
            "throttle": (
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded.",
                400,
            ),
        }[mode]
        body = json.dumps(
            {"__type": f"com.amazonaws.dynamodb.v20120810#{kind}", "message": message}
        )
        return status, "application/x-amz-json-1.0", body.encode(), request_id
    kind, fault_type, message, status = {
        "error500": ("InternalError", "Receiver", "Internal server error", 500),
        "throttle": ("Throttling", "Sender", "Rate exceeded", 400),
    }[mode]
    body = (
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
        f"<Error><Type>{fault_type}</Type><Code>{kind}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, "text/xml", body.encode(), request_id


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "warden-fault-proxy"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and the
    # client's delayed acknowledgement hold every reply back some 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reset(self):
        """Drops the connection with a TCP reset, as a lost reply or a broken link looks."""
        try:
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def reply(self, status, headers, body):
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            # The client gave up (a slow reply past its timeout).
            self.close_connection = True

    def control(self, body):
        faults = self.server.faults
        if self.command == "POST":
            try:
                faults.configure(json.loads(body or b"{}"))
            except (ValueError, TypeError) as error:
                self.reply(400, [("Content-Type", "text/plain")], str(error).encode())
                return
        payload = json.dumps(faults.snapshot()).encode()
        self.reply(200, [("Content-Type", "application/json")], payload)

    def upstream(self, url):
        """This client connection's keep-alive connection to `url`."""
        connections = self.__dict__.setdefault("_upstreams", {})
        key = (url.hostname, url.port)
        if connections.get(key) is None:
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connections[key] = connection
        return connections[key]

    def forward(self, body, service):
        url = self.server.upstream
        if service == "ssm" and self.server.ssm_upstream is not None:
            url = self.server.ssm_upstream
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        for attempt in range(2):
            connection = self.upstream(url)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
                return response.status, kept, data
            except (http.client.HTTPException, OSError):
                # The upstream closed an idle keep-alive connection: open a new one once.
                connection.close()
                self._upstreams[(url.hostname, url.port)] = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if urllib.parse.urlsplit(self.path).path == "/__faults__":
            self.control(body)
            return
        service = service_of(self.headers)
        fault, factor = self.server.faults.decide(service, operation_of(self.headers, body))
        if fault == "reset":
            self.reset()
            return
        if fault in ("error500", "throttle"):
            status, content_type, data, request_id = error_reply(service, fault)
            headers = [("Content-Type", content_type), ("x-amzn-RequestId", request_id)]
            self.reply(status, headers, data)
            return
        try:
            status, headers, data = self.forward(body, service)
        except (http.client.HTTPException, OSError) as error:
            message = f"fault proxy: upstream failed: {error}".encode()
            self.reply(502, [("Content-Type", "text/plain")], message)
            return
        if fault == "lost_reply":
            self.reset()
            return
        if fault == "slow":
            time.sleep(self.server.slow_seconds * factor)
        self.reply(status, headers, data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_one


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="moto server, e.g. http://127.0.0.1:5000")
    parser.add_argument(
        "--ssm-upstream",
        help="where Session Manager requests go instead, e.g. a stand-in answering DescribeSessions",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=1.0,
        help="a slow reply is held back 0.5-2 times this long",
    )
    args = parser.parse_args()
    upstream = urllib.parse.urlsplit(args.upstream)
    if upstream.scheme != "http" or not upstream.hostname or not upstream.port:
        parser.error(f"--upstream {args.upstream!r}: want http://HOST:PORT")
    ssm_upstream = None
    if args.ssm_upstream:
        ssm_upstream = urllib.parse.urlsplit(args.ssm_upstream)
        if ssm_upstream.scheme != "http" or not ssm_upstream.hostname or not ssm_upstream.port:
            parser.error(f"--ssm-upstream {args.ssm_upstream!r}: want http://HOST:PORT")
    server = Server(("127.0.0.1", args.port), Handler)
    server.upstream = upstream
    server.ssm_upstream = ssm_upstream
    server.faults = Faults()
    server.slow_seconds = args.slow_seconds
    print(f"listening http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
