"""A TCP proxy in front of PostgreSQL that, when armed, lets one commit through and then
drops that connection before the server's answer reaches the client: the commit happened,
the client never learns it (as when the server or the network fails at that moment).

A commit is a COMMIT, or a call of the ledger's append function, which commits by itself
(autocommit): the proxy remembers the names under which a connection prepared that call and
drops at the Bind that executes one."""

from __future__ import annotations

import re
import socket
import threading
import time
from contextlib import closing, suppress

# A Parse message (type, length) naming a prepared statement that calls an append function.
_APPEND_PARSED = re.compile(rb'P.{4}([^\x00]+)\x00[^\x00]*_append"?\(', re.DOTALL)


def _commits(data: bytes, appends: set[bytes]) -> bool:
    """Whether this read from a client commits; ``appends`` gathers its append statements'
    names. The client writes each of its messages whole."""
    appends.update(_APPEND_PARSED.findall(data))
    # A Bind to the unnamed portal (type, length, "") of a prepared append statement.
    bound = (re.search(rb"B.{4}\x00" + re.escape(n) + rb"\x00", data, re.DOTALL) for n in appends)
    return b"COMMIT" in data or any(bound)


class CommitDropper:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed = threading.Event()
        self.dropped = 0
        self.refuse_until = 0.0  # after a drop, new connections are refused until then
        self.refuse_seconds = 0.0
        self._closed = False
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, refuse_seconds: float = 0.0) -> None:
        """Drop the next COMMIT's connection; with ``refuse_seconds``, all connections, and
        refuse new ones for that long (the server is gone)."""
        self.refuse_seconds = refuse_seconds
        self.armed.set()

    def close(self) -> None:
        self._closed = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if time.monotonic() < self.refuse_until:
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            self._connections.append(client)
            cut = threading.Event()
            threading.Thread(
                target=self._to_server, args=(client, server, cut), daemon=True
            ).start()
            threading.Thread(
                target=self._to_client, args=(server, client, cut), daemon=True
            ).start()

    def _to_server(
        self, client: socket.socket, server: socket.socket, cut: threading.Event
    ) -> None:
        with closing(client), closing(server), suppress(OSError):
            appends: set[bytes] = set()
            while data := client.recv(65536):
                dropping = _commits(data, appends) and self.armed.is_set()
                if dropping:
                    # Counted, refusing and (the server gone) cutting the other connections
                    # before the server can answer: the client learns of the cut as soon as
                    # the answer comes (_to_client), and may look or retry at once.
                    self.armed.clear()
                    self.dropped += 1
                    self.refuse_until = time.monotonic() + self.refuse_seconds
                    cut.set()  # nothing more reaches the client
                    for other in self._connections if self.refuse_seconds else []:
                        if other is not client:
                            with suppress(OSError):
                                other.shutdown(socket.SHUT_RDWR)
                server.sendall(data)
                if dropping:
                    time.sleep(0.3)  # the server commits; its answer is not passed on
                    with suppress(OSError):
                        client.shutdown(socket.SHUT_RDWR)
                    return

    @staticmethod
    def _to_client(server: socket.socket, client: socket.socket, cut: threading.Event) -> None:
        with suppress(OSError):
            while (data := server.recv(65536)) and not cut.is_set():
                client.sendall(data)
        with suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)
