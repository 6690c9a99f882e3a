"""A loopback server for the sandbox and adversarial tests: it proves whether a connection left the sandbox."""

import socket
import threading


class CountingServer:
    """A TCP server on 127.0.0.1 that counts the connections it accepts and answers each with ``payload``."""

    def __init__(self, payload=b"SECRET-FROM-THE-HOST"):
        self.payload = payload.encode() if isinstance(payload, str) else payload
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.sendall(self.payload)
            conn.close()

    def close(self):
        self.sock.close()
