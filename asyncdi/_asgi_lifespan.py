"""The ASGI lifespan of ``RequestScopeMiddleware``: the registry's lifespan around the app's.

The registry's lifespan opens before the app sees ``lifespan.startup`` (so the app's own
startup can use asyncdi) and closes after the app answers ``lifespan.shutdown``. An app
that does not speak the lifespan protocol (it raises, or returns without answering) is
fine: the rest of the protocol is answered here.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, Final

from asyncdi._errors import AsyncDIError

if TYPE_CHECKING:
    from asyncdi._lifespan import Lifespan
    from asyncdi._registry import Registry

__all__ = ["run_lifespan"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

logger: Final = logging.getLogger("asyncdi.asgi")


def describe(error: BaseException) -> str:
    """An error as the one-paragraph text a server prints: every problem, no traceback."""
    if isinstance(error, AsyncDIError):
        return str(error)
    return "".join(traceback.format_exception_only(error)).strip()


class _Protocol:
    """What has been said so far, by the server, the app and asyncdi."""

    __slots__ = ("first", "lifespan", "receive", "send", "shutdown_asked", "startup", "stopped")

    def __init__(self, lifespan: Lifespan, first: Message, receive: Receive, send: Send) -> None:
        self.lifespan: Lifespan | None = lifespan
        self.first: Message | None = first  # lifespan.startup, replayed to the app
        self.receive = receive
        self.send = send
        self.startup: str | None = None  # "complete" or "failed", once answered
        self.shutdown_asked = False
        self.stopped = False  # shutdown answered

    async def close(self) -> str | None:
        """Close the registry's lifespan; the problem text if that failed."""
        lifespan, self.lifespan = self.lifespan, None
        if lifespan is None:
            return None
        try:
            await lifespan.__aexit__(None, None, None)
        except Exception as error:
            logger.exception("asyncdi: closing the registry's lifespan failed")
            return f"asyncdi: releasing the registry's singletons failed: {describe(error)}"
        return None

    async def app_receive(self) -> Message:
        first, self.first = self.first, None
        if first is not None:
            return first
        message = await self.receive()
        if message["type"] == "lifespan.shutdown":
            self.shutdown_asked = True
        return message

    async def app_send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self.startup = "complete"
        elif kind == "lifespan.startup.failed":
            self.startup = "failed"
            await self.close()
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            self.stopped = True
            problem = await self.close()
            if problem is not None:
                app_problem = message.get("message", "") if kind.endswith("failed") else ""
                text = f"{app_problem}\n{problem}" if app_problem else problem
                message = {"type": "lifespan.shutdown.failed", "message": text}
        await self.send(message)

    async def finish(self, app_error: Exception | None) -> None:
        """Answer what the app left unanswered."""
        if self.startup is None:
            self.startup = "complete"
            await self.send({"type": "lifespan.startup.complete"})
        if self.startup == "failed" or self.stopped:
            return
        if not self.shutdown_asked:
            while (await self.receive())["type"] != "lifespan.shutdown":
                pass
        self.stopped = True
        problem = await self.close()
        if app_error is not None:
            app_problem = f"the app's lifespan failed: {describe(app_error)}"
            problem = f"{app_problem}\n{problem}" if problem else app_problem
        if problem is None:
            await self.send({"type": "lifespan.shutdown.complete"})
        else:
            await self.send({"type": "lifespan.shutdown.failed", "message": problem})


async def run_lifespan(
    app: App,
    registry: Registry,
    eager: bool,
    scope: MutableMapping[str, Any],
    receive: Receive,
    send: Send,
) -> None:
    """Serve one ASGI lifespan: ``registry.lifespan(eager=eager)`` around the app's."""
    first = await receive()
    lifespan = registry.lifespan(eager=eager)
    try:
        await lifespan.__aenter__()
    except Exception as error:  # noqa: BLE001 - any start-up failure fails startup
        message = f"asyncdi: the registry's lifespan could not start: {describe(error)}"
        await send({"type": "lifespan.startup.failed", "message": message})
        return
    protocol = _Protocol(lifespan, first, receive, send)
    try:
        app_error: Exception | None = None
        try:
            await app(scope, protocol.app_receive, protocol.app_send)
        except Exception as error:  # noqa: BLE001 - the protocol is finished below
            if protocol.startup is None:
                # uvicorn's "auto" lifespan mode reads this as "lifespan unsupported" too.
                logger.info("asyncdi: the app does not handle the ASGI lifespan (%r)", error)
            elif protocol.startup == "complete" and not protocol.stopped:
                app_error = error
        await protocol.finish(app_error)
    finally:
        if protocol.lifespan is not None:  # cancelled, or the server went away
            await protocol.close()
