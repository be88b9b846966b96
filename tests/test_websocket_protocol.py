"""What an idle subscribed connection holds on a real server (one task, uvicorn's; no
handshake request or response; no connection_init payload), with everything it does
unchanged; the parts of ``web/websocket_protocol.py`` that stand in for asyncio's and
websockets' own; and the send buffer writing without a task while the socket takes
frames at once."""

from __future__ import annotations

import asyncio
import gc
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from spm_api.app import GraphQLApp, create_app
from spm_api.graphql.core.context import Context
from spm_api.graphql.core.outbox import SEND_BUFFER_FULL, Outbox
from spm_api.plugins.host import PluginHost
from spm_api.realtime.bus import EventBus
from spm_api.settings import Settings
from spm_api.vocabulary.enums import Role
from spm_api.web.websocket_protocol import Gate, Inbox, WebSocketProtocol, restart_parser
from tests.support import GraphQLClient, Org, Portfolio
from tests.ws import PROTOCOL, Subscriber, running

SUBSCRIPTION = "subscription { stageChanged { stageChange { toStage } service { name } } }"


def graphql_of(app: Any) -> GraphQLApp:
    found: GraphQLApp = next(route.app for route in app.routes
                             if isinstance(getattr(route, "app", None), GraphQLApp))
    return found


def server_tasks() -> Counter[str]:
    """The running tasks that are not the test's own or its clients' (websockets')."""
    names: Counter[str] = Counter()
    for task in asyncio.all_tasks():
        frame = getattr(task.get_coro(), "cr_frame", None)
        if (frame is None or frame.f_globals["__name__"].startswith("websockets.")
                or task is asyncio.current_task()):
            continue
        names[frame.f_code.co_qualname] += 1
    return names


def alive(kind: type) -> int:
    gc.collect()
    return sum(1 for value in gc.get_objects() if type(value) is kind)


@pytest.fixture
async def served(db: AsyncEngine, settings: Settings, plugins: PluginHost
                 ) -> AsyncIterator[tuple[str, Any]]:
    bus = EventBus("memory://")
    app = create_app(settings, engine=db, plugins=plugins, bus=bus)
    async with running(app) as address:
        yield address, app
    await bus.disconnect()


async def test_an_idle_subscribed_connection_holds_one_task_and_no_handshake(
        served: tuple[str, Any], org: Org) -> None:
    address, _app = served
    token = org.token(Role.VIEWER)
    async with AsyncExitStack() as stack, httpx.AsyncClient(base_url=f"http://{address}") as http:

        async def subscribed() -> Subscriber:
            socket = await stack.enter_async_context(connect(
                f"ws://{address}/graphql", subprotocols=[PROTOCOL],  # type: ignore[list-item]
                ping_interval=None))
            client = Subscriber(socket)
            await client.send({"type": "connection_init",
                               "payload": {"Authorization": f"Bearer {token}"}})
            assert (await client.receive())["type"] == "connection_ack"
            await client.subscribe(SUBSCRIPTION)
            await asyncio.sleep(0.2)
            return client

        clients = [await subscribed()]  # the group and the bus's listener start here
        tasks, tasks_kept = server_tasks(), alive(asyncio.Task)
        requests, responses = alive(Request), alive(Response)
        clients += [await subscribed(), await subscribed()]

        # Each connection adds uvicorn's task running the application and nothing else:
        # nothing of Strawberry's, no keep-alive, writer or subscription task.
        assert server_tasks() - tasks == Counter({"WebSocketsSansIOProtocol.run_asgi": 2})
        assert alive(asyncio.Task) - tasks_kept == 2  # no finished task kept either
        # only the clients' own (each ClientConnection keeps its handshake): none server-side
        assert (alive(Request) - requests, alive(Response) - responses) == (2, 2)
        contexts = [value for value in gc.get_objects() if type(value) is Context
                    and value.actor is not None]
        assert contexts and all(context.connection_params is None for context in contexts)

        # and they work as before
        await Portfolio(GraphQLClient(http), org).create("After the checks")
        for client in clients:
            data = await client.next_data()
            assert data["stageChanged"]["service"]["name"] == "After the checks"
            await client.send({"type": "ping"})
            assert await client.receive() == {"type": "pong"}


async def test_the_server_runs_the_lighter_protocol(served: tuple[str, Any], org: Org
                                                    ) -> None:
    address, _app = served
    async with connect(f"ws://{address}/graphql",
                       subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {
            "Authorization": f"Bearer {org.token(Role.VIEWER)}"}}))
        await socket.recv()
        protocols = [value for value in gc.get_objects() if type(value) is WebSocketProtocol]
        assert protocols and all(p.request is None and p.response is None for p in protocols)


async def test_a_connection_without_connection_init_is_closed_at_the_deadline(
        served: tuple[str, Any]) -> None:
    address, app = served
    graphql_of(app).connection_init_wait_timeout = timedelta(seconds=0.2)
    async with connect(f"ws://{address}/graphql",
                       subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        4408, "Connection initialisation timeout")


async def test_a_connection_initialised_in_time_is_not_closed_at_the_deadline(
        served: tuple[str, Any], org: Org) -> None:
    address, app = served
    graphql_of(app).connection_init_wait_timeout = timedelta(seconds=0.2)
    async with connect(f"ws://{address}/graphql",
                       subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        client = Subscriber(socket)
        await client.send({"type": "connection_init", "payload": {
            "Authorization": f"Bearer {org.token(Role.VIEWER)}"}})
        assert (await client.receive())["type"] == "connection_ack"
        assert await client.nothing_within(0.5)


# --- the pieces, on their own ------------------------------------------------------------


async def test_the_inbox_hands_out_messages_in_order_and_survives_a_cancelled_reader(
        ) -> None:
    inbox = Inbox()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert [await inbox.get(), await inbox.get()] == [1, 2]
    assert inbox.empty()
    cancelled = asyncio.create_task(inbox.get())
    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    inbox.put_nowait(3)
    assert await asyncio.wait_for(waiting, 1) == 3
    # woken, then cancelled before it ran: the message goes to the next reader
    first, second = asyncio.create_task(inbox.get()), asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait(4)
    first.cancel()
    assert await asyncio.wait_for(second, 1) == 4
    assert inbox.empty()


async def test_the_gate_holds_writers_while_closed() -> None:
    gate = Gate(is_open=True)
    assert await gate.wait()
    gate.clear()
    waiting = asyncio.create_task(gate.wait())
    await asyncio.sleep(0.01)
    assert not waiting.done() and not gate.is_set()
    gate.set()
    assert await asyncio.wait_for(waiting, 1)
    assert gate.is_set()


def opened(extra: bytes = b"") -> tuple[ServerProtocol, ClientProtocol]:
    """A server protocol through the handshake (with ``extra`` bytes right behind the
    request), and the client it talks to."""
    client = ClientProtocol(parse_uri("ws://localhost/graphql"))
    client.send_request(client.connect())
    server = ServerProtocol()
    server.receive_data(b"".join(client.data_to_send()) + extra)
    request = server.events_received()[0]
    assert isinstance(request, Request)
    server.send_response(server.accept(request))
    client.receive_data(b"".join(server.data_to_send()))
    client.events_received()
    return server, client


def text_frame(client: ClientProtocol, text: str) -> bytes:
    client.send_text(text.encode())
    return b"".join(client.data_to_send())


def test_a_restarted_parser_lets_the_request_go_and_reads_frames_as_before() -> None:
    server, client = opened()
    before = alive(Request)
    assert restart_parser(server)
    assert alive(Request) == before - 1
    frame = text_frame(client, '{"type":"ping"}')
    server.receive_data(frame[:3])  # in two pieces, as TCP may deliver it
    server.receive_data(frame[3:])
    [event] = server.events_received()
    assert isinstance(event, Frame)
    assert (event.opcode, event.data) == (Opcode.TEXT, b'{"type":"ping"}')


def test_a_parser_inside_a_frame_is_left_alone() -> None:
    _, client = opened()
    frame = text_frame(client, "pipelined")
    server, _ = opened()
    server.receive_data(frame[:2])  # a frame begun: the parser holds its first bytes
    assert not server.reader.buffer and not restart_parser(server)
    server.receive_data(frame[2:])
    [event] = server.events_received()
    assert isinstance(event, Frame) and event.data == b"pipelined"


class Socket:
    """A socket whose ``send`` waits while ``open`` is clear, as a paused transport's
    does."""

    def __init__(self) -> None:
        self.open = Gate(is_open=True)
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None

    async def send_text(self, frame: str) -> None:
        await self.open.wait()
        self.sent.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


async def test_a_frame_is_written_at_once_without_a_task() -> None:
    socket = Socket()
    outbox = Outbox(socket, 4, lambda _: None)
    tasks = asyncio.all_tasks()
    outbox.offer("one")
    outbox.offer("two")
    assert socket.sent == ["one", "two"]
    assert asyncio.all_tasks() == tasks


async def test_a_waiting_send_is_finished_by_a_writer_then_the_queue_in_order() -> None:
    socket = Socket()
    socket.open.clear()
    outbox = Outbox(socket, 3, lambda _: None)
    for frame in ("one", "two", "three"):
        outbox.offer(frame)
    assert socket.sent == [] and not outbox.closed
    socket.open.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert socket.sent == ["one", "two", "three"]
    outbox.offer("four")
    assert socket.sent[-1] == "four"


async def test_the_waiting_frame_counts_toward_the_send_buffer() -> None:
    socket = Socket()
    socket.open.clear()
    outbox = Outbox(socket, 2, lambda _: None)
    outbox.offer("waiting")
    outbox.offer("queued")
    assert not outbox.closed
    outbox.offer("one too many")
    assert outbox.closed
    await asyncio.sleep(0.01)
    assert socket.closed == (SEND_BUFFER_FULL, "Send buffer full: resume with after")
    socket.open.set()
    await asyncio.sleep(0.01)
    assert socket.sent == []  # the waiting send was abandoned with the connection
