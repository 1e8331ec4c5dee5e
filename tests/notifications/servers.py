"""Real local servers for channel tests: SMTP (aiosmtpd) and HTTP (http.server)."""

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SMTPRecorder:
    """An aiosmtpd handler: answers RCPT with the queued replies (then 250) and
    keeps every accepted message."""

    rcpt_replies: list[str] = field(default_factory=list)
    messages: list = field(default_factory=list)
    port: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_replies:
            reply = self.rcpt_replies.pop(0)
            if not reply.startswith("250"):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(
            {"from": envelope.mail_from, "to": envelope.rcpt_tos, "message": message}
        )
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(rcpt_replies=()) -> Iterator[SMTPRecorder]:
    recorder = SMTPRecorder(rcpt_replies=list(rcpt_replies))
    recorder.port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=recorder.port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


@dataclass
class HTTPRecorder:
    """Answers POSTs with the queued statuses (then 200) and keeps each request."""

    statuses: list[int] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The first POST to each of these paths is kept (recorded) but answered
    # only once ``release`` is set; ``held`` is set when it arrives.
    hold_first: set[str] = field(default_factory=set)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def json_bodies(self) -> list:
        return [json.loads(r["body"]) for r in self.requests]


@contextmanager
def http_server(statuses=(), hold_first=()) -> Iterator[HTTPRecorder]:
    recorder = HTTPRecorder(statuses=list(statuses), hold_first=set(hold_first))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with recorder.lock:
                status = recorder.statuses.pop(0) if recorder.statuses else 200
                recorder.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                        "status": status,
                    }
                )
                hold = self.path in recorder.hold_first
                recorder.hold_first.discard(self.path)
            if hold:
                recorder.held.set()
                recorder.release.wait(300)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")
            except OSError:
                pass  # the sender is gone (a killed worker)

        def log_message(self, format, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        recorder.release.set()
        server.shutdown()
        server.server_close()
