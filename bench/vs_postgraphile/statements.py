"""SQL statements per request, counted on the wire (pg_stat_statements is not loaded).

A loopback proxy in front of PostgreSQL reads the messages each client sends and
counts simple queries ('Q') and executions of extended-protocol statements ('E').
It runs for a separate counting pass, with a second instance of each server
connected through it, so the timed runs go straight to PostgreSQL.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections import Counter

#: SSLRequest and GSSENCRequest: answered "no" here, so the protocol stays readable.
_ENCRYPTION_REQUESTS = {80877103, 80877104}


class CountingProxy:
    """127.0.0.1:<port> -> 127.0.0.1:5432, counting client messages by type."""

    def __init__(self, upstream_port: int = 5432) -> None:
        self.upstream_port = upstream_port
        self.counts: Counter[str] = Counter()
        self.port = 0
        self._server: asyncio.Server
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> int:
        self._thread.start()
        self._ready.wait(10)
        return self.port

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _connection(self, client_in: asyncio.StreamReader,
                          client_out: asyncio.StreamWriter) -> None:
        try:
            header = await client_in.readexactly(8)
            length, code = struct.unpack("!ii", header)
            while length == 8 and code in _ENCRYPTION_REQUESTS:
                client_out.write(b"N")
                await client_out.drain()
                header = await client_in.readexactly(8)
                length, code = struct.unpack("!ii", header)
            startup = header + await client_in.readexactly(length - 8)
            server_in, server_out = await asyncio.open_connection("127.0.0.1",
                                                                  self.upstream_port)
            server_out.write(startup)
            await asyncio.gather(self._from_client(client_in, server_out),
                                 self._copy(server_in, client_out), return_exceptions=True)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            client_out.close()

    async def _from_client(self, source: asyncio.StreamReader,
                           target: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await source.readexactly(5)
                kind, length = chr(header[0]), struct.unpack("!i", header[1:])[0]
                body = await source.readexactly(length - 4)
                self.counts[kind] += 1
                target.write(header + body)
                await target.drain()
        finally:
            target.close()

    @staticmethod
    async def _copy(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                target.write(chunk)
                await target.drain()
        finally:
            target.close()
