"""Local stand-ins for an SMTP server and an SMS gateway that fail on demand (127.0.0.1 only).

Both count what they really accepted, so a test can tell "delivered once" from
"delivered twice" at the receiving end, not just in our own rows.
"""

from __future__ import annotations

import email
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    timeout = 10

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())
        self.wfile.flush()

    def handle(self):
        server: FaultySmtpServer = self.server
        with server.lock:
            server.connections += 1
            refuse = server.down
        if refuse:
            server.refused += 1
            self.reply("421 4.3.2 Service not available, try again later")
            return
        self.reply("220 127.0.0.1 ESMTP fault-test")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-127.0.0.1")
                self.reply("250 8BITMIME")
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if not line or line in (b".\r\n", b".\n"):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                with server.lock:
                    reject = server.reject_next_data > 0
                    if reject:
                        server.reject_next_data -= 1
                if reject:
                    server.rejected += 1
                    self.reply("451 4.3.0 Temporary failure, message not accepted")
                    continue
                server.accept(b"".join(lines))
                self.reply("250 2.0.0 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class FaultySmtpServer(socketserver.ThreadingTCPServer):
    """`down` answers every connection with 421; `reject_next_data` answers DATA with 451 n times."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.lock = threading.Lock()
        self.down = False
        self.reject_next_data = 0
        self.connections = self.refused = self.rejected = 0
        self.messages: list[email.message.Message] = []

    def accept(self, data: bytes) -> None:
        with self.lock:
            self.messages.append(email.message_from_bytes(data))

    @property
    def port(self) -> int:
        return self.server_address[1]

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]

    def __enter__(self):
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class _GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        server: FaultySmsGateway = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with server.lock:
            server.requests += 1
            status = 503 if server.down else 200
            if status == 200:
                server.accepted.append(body)
            else:
                server.refused += 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}' if status == 200 else b'{"error": "maintenance"}')

    def log_message(self, *args):
        pass


class FaultySmsGateway(ThreadingHTTPServer):
    """An HTTP SMS gateway that answers 503 while `down`, 200 otherwise, and keeps what it accepted."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.lock = threading.Lock()
        self.down = False
        self.requests = self.refused = 0
        self.accepted: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sms"

    def __enter__(self):
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
