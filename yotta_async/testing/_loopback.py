"""Real loopback listeners standing in for pods' exposed ports, so TCP probes can be tested for real.

With ``Simulator(loopback_ports=True)`` every ``expose`` entry of a new pod gets a socket
bound on ``127.0.0.1`` at create time (its port number is the entry's ``proxyPort``; the
host is ``127.0.0.1``). A bound socket that does not listen refuses connections, exactly
like a proxy that is not up yet; the simulator starts listening once the entry is due (its
``healthy`` delay after RUNNING, plus ``Timings.proxy_lag``), accepts and closes every
connection, and closes the socket when the pod is deleted, fails, disappears, or the
simulator closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

__all__ = ["LoopbackPorts"]

HOST = "127.0.0.1"


class _Hangup(asyncio.Protocol):
    """Accept, then close at once: a probe only needs the handshake to complete."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class LoopbackPorts:
    """The bound sockets of every pod's exposed ports, and the servers listening on them."""

    def __init__(self) -> None:
        self._socks: dict[int, list[socket.socket | None]] = {}
        self._servers: dict[int, dict[int, asyncio.Server]] = {}

    def reserve(self, pod_id: int, count: int) -> list[int]:
        """Bind ``count`` sockets for ``pod_id`` (not listening yet); their port numbers."""
        socks: list[socket.socket | None] = []
        try:
            for _ in range(count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(sock)
                sock.bind((HOST, 0))
        except OSError:
            for bound in socks:
                if bound is not None:
                    bound.close()
            raise
        self._socks[pod_id] = socks
        return [s.getsockname()[1] for s in socks if s is not None]

    @property
    def pods(self) -> list[int]:
        """Ids of the pods that still hold sockets."""
        return list(self._socks)

    def listening(self, pod_id: int) -> list[int]:
        """Indexes of ``pod_id``'s expose entries that accept connections now."""
        return sorted(self._servers.get(pod_id, {}))

    @property
    def open_sockets(self) -> int:
        """Sockets still open (bound or listening), over every pod."""
        return sum(1 for socks in self._socks.values() for s in socks if s is not None)

    async def sync(self, due: Callable[[int, int], bool | None]) -> None:
        """Bring listeners in line with ``due(pod_id, index)``.

        ``True``: the entry should accept connections; ``False``: not yet; ``None``: the
        pod is finished (deleted, failed or gone), so its sockets are closed.
        """
        for pod_id in list(self._socks):
            socks = self._socks[pod_id]
            verdicts = [due(pod_id, i) for i in range(len(socks))]
            if any(v is None for v in verdicts):
                self.close(pod_id)
                continue
            for i, wanted in enumerate(verdicts):
                sock = socks[i]
                if wanted and sock is not None and i not in self._servers.get(pod_id, {}):
                    server = await asyncio.get_running_loop().create_server(_Hangup, sock=sock)
                    self._servers.setdefault(pod_id, {})[i] = server

    def close(self, pod_id: int) -> None:
        """Close every socket of ``pod_id`` (connections are refused from now on)."""
        for server in self._servers.pop(pod_id, {}).values():
            server.close()  # closes its socket too
        for sock in self._socks.pop(pod_id, []):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()

    def close_all(self) -> None:
        """Close every socket (the simulator is shutting down)."""
        for pod_id in list(self._socks):
            self.close(pod_id)
