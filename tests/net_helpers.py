"""Helpers of the sandbox and adversarial tests: a loopback server that proves whether a connection left the
sandbox, and a search for processes that outlived their submission."""

import os
import socket
import threading
from pathlib import Path


def processes_running(marker: str) -> list[str]:
    """The ids of the live processes whose command line contains ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:  # the process ended while we looked
            pass
    return found


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
