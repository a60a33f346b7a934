"""The pytest plugin: ``asyncdi_registry`` and ``asyncdi_override``, run by pytester."""

from __future__ import annotations

import importlib.metadata
import textwrap

import pytest

import asyncdi.pytest_plugin

pytest_plugins = ["pytester"]

MODES = ["strict", "auto"]

APP = """
import asyncio
from collections.abc import AsyncIterator

from asyncdi import Registry, Scope

reg = Registry("app")
events: list[str] = []
made: list[object] = []


class Conn:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.closed = False


@reg.provides("conn", scope=Scope.SINGLETON)
async def make_conn() -> AsyncIterator[Conn]:
    conn = Conn()
    events.append("open")
    yield conn
    conn.closed = True
    events.append("close")


def make_name() -> str:
    return "real"


reg.register("greeting", value="hello")
reg.register("name", make_name)
"""

LIFECYCLE = """
import asyncio

import pytest

import app
from asyncdi import RegistryClosedError


{mark}
async def test_first(asyncdi_registry):
    assert asyncdi_registry is app.reg
    conn = await asyncdi_registry.resolve("conn")
    assert conn.loop is asyncio.get_running_loop()
    app.made.append(conn)
    asyncdi_registry.register("extra", value=1)
    asyncdi_registry.register("greeting", value="replaced", replace=True)
    asyncdi_registry.unregister("name")


{mark}
async def test_second_gets_its_own_singleton(asyncdi_registry):
    first = app.made[0]
    assert app.events == ["open", "close"]
    assert first.closed
    assert "extra" not in asyncdi_registry
    assert asyncdi_registry.get("greeting") == "hello"
    assert asyncdi_registry.get("name") == "real"
    conn = await asyncdi_registry.resolve("conn")
    assert conn is not first
    assert conn.loop is asyncio.get_running_loop()
    assert conn.loop is not first.loop


def test_after_the_fixture_everything_is_released():
    assert app.events == ["open", "close", "open", "close"]
    with pytest.raises(RegistryClosedError):
        asyncio.run(app.reg.resolve("conn"))
"""

OVERRIDES = """
import asyncio
import threading

import pytest

import app


def in_thread(function):
    result = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join(5)
    return result


{mark}
async def test_override_is_seen_everywhere(asyncdi_registry, asyncdi_override):
    go = asyncio.Event()

    async def later():
        await go.wait()
        return await app.reg.resolve("greeting")

    task = asyncio.create_task(later())  # its context was copied before the override
    await asyncio.sleep(0)
    asyncdi_override(greeting="fake", providers={{"name": lambda: "fake name"}})
    go.set()
    assert await task == "fake"
    assert app.reg.get("name") == "fake name"
    assert in_thread(lambda: app.reg.get("greeting")) == ["fake"]
    assert in_thread(lambda: asyncio.run(app.reg.resolve("name"))) == ["fake name"]


{mark}
async def test_override_is_undone_at_the_end(asyncdi_registry):
    assert asyncdi_registry.get("greeting") == "hello"
    assert asyncdi_registry.get("name") == "real"


def test_unknown_name_is_refused(asyncdi_override):
    with pytest.raises(LookupError, match="nope"):
        asyncdi_override(nope=1)
"""

SERVED = """
import socket
import threading
import time
import urllib.request

import pytest

import app

uvicorn = pytest.importorskip("uvicorn")


async def asgi(scope, receive, send):
    assert scope["type"] == "http"
    body = (await app.reg.resolve("greeting")).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_served_app_sees_the_override(asyncdi_override):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(asgi, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        url = f"http://127.0.0.1:{port}/"
        assert urllib.request.urlopen(url, timeout=5).read() == b"hello"
        asyncdi_override(greeting="fake")
        assert urllib.request.urlopen(url, timeout=5).read() == b"fake"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
"""


def make_project(pytester: pytest.Pytester, mode: str, target: str = "app:reg") -> str:
    """Write app.py and an ini file for ``mode``; return the marker line tests need."""
    pytester.makepyfile(app=APP)
    pytester.makeini(
        f"""
        [pytest]
        asyncio_mode = {mode}
        asyncio_default_fixture_loop_scope = function
        asyncdi_registry = {target}
        pythonpath = .
        filterwarnings = error
        """
    )
    return "@pytest.mark.asyncio" if mode == "strict" else ""


@pytest.mark.parametrize("mode", MODES)
def test_registry_fixture_lifecycle(pytester: pytest.Pytester, mode: str) -> None:
    """asyncdi_registry: an open lifespan per test, registrations undone, values released."""
    mark = make_project(pytester, mode)
    pytester.makepyfile(test_lifecycle=LIFECYCLE.format(mark=mark))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


@pytest.mark.parametrize("mode", MODES)
def test_override_fixture_is_process_wide(pytester: pytest.Pytester, mode: str) -> None:
    """asyncdi_override: seen by other tasks and threads during the test, undone after it."""
    mark = make_project(pytester, mode)
    pytester.makepyfile(test_overrides=OVERRIDES.format(mark=mark))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_override_reaches_a_served_app(pytester: pytest.Pytester) -> None:
    """asyncdi_override: an app served by uvicorn in the same process sees the fake."""
    pytest.importorskip("uvicorn")
    make_project(pytester, "strict")
    pytester.makepyfile(test_served=SERVED)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_default_registry_is_the_global_one(pytester: pytest.Pytester) -> None:
    """Without the ini option the fixtures use asyncdi.registry (and still undo changes)."""
    pytester.makeini(
        """
        [pytest]
        asyncio_mode = strict
        asyncio_default_fixture_loop_scope = function
        filterwarnings = error
        """
    )
    pytester.makepyfile(
        test_global="""
        import pytest

        import asyncdi


        @pytest.mark.asyncio
        async def test_uses_global(asyncdi_registry):
            assert asyncdi_registry is asyncdi.registry
            asyncdi_registry.register("plugin_test_value", value=1)


        @pytest.mark.asyncio
        async def test_change_was_undone(asyncdi_registry):
            assert "plugin_test_value" not in asyncdi.registry
        """
    )
    # A subprocess: the global registry of this process holds the outer tests' names.
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_bad_ini_option_says_what_is_wrong(pytester: pytest.Pytester) -> None:
    """An ini option that names no importable registry fails the test with a clear message."""
    make_project(pytester, "auto", target="nosuch_module:reg")
    pytester.makepyfile(
        test_bad="""
        def test_uses_override(asyncdi_override):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ini option asyncdi_registry = 'nosuch_module:reg': cannot load the registry*"
            "no module named 'nosuch_module'*"
        ]
    )


def test_plugin_is_registered_and_quiet() -> None:
    """The pytest11 entry point names the plugin; its only hook declares the ini option."""
    points = importlib.metadata.entry_points(group="pytest11")
    assert any(p.name == "asyncdi" and p.value == "asyncdi.pytest_plugin" for p in points)
    hooks = sorted(name for name in vars(asyncdi.pytest_plugin) if name.startswith("pytest_"))
    assert hooks == ["pytest_addoption"]
    assert textwrap.dedent(asyncdi.pytest_plugin.__doc__ or "").startswith("asyncdi's pytest")
