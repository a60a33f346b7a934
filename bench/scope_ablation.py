"""What each promise costs in a request scope cycle: the model of scope_model.py, less one.

Run ``python bench/scope_ablation.py``. The model container (``scope()``, ``resolve(name)``
and bench.py's request-scoped ``session``, with asyncdi's promises in their cheapest
form) is built from one template several times, each time without one promise's lines,
and once without all of them. Every variant and the hand-written ``asynccontextmanager``
of bench.py run interleaved, in a shuffled order each round, with gc off while timing;
a ratio is the median over rounds of the variant's time over the hand-written one's in
the same round. ``--quick`` is a smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import gc
import platform
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

# bench.py's own hand-written scope and provider, so the two scripts measure one thing
from bench import SHARED, hand_session, make_config, make_db, make_session

# Lines ending in "#@<promise>" are left out of the variant without that promise.
TEMPLATE = """
_ABSENT = object()
_MAKING = object()


class _Counters:
    __slots__ = ("created", "released", "timed")

    def __init__(self):
        self.created = self.released = self.timed = 0


class Scope:
    __slots__ = ("closed", "held", "parent", "token", "values", "var")

    def __init__(self, var):
        self.var = var
        self.held = []
        self.values = {}
        self.closed = False  #@closed
        self.token = None

    async def __aenter__(self):
        if self.token is not None:
            raise RuntimeError("entered twice")
        self.parent = self.var.get()  #@nesting
        self.token = self.var.set(self)
        return self

    async def __aexit__(self, et, exc, tb):
        self.closed = True  #@closed
        held, errors = self.held, []
        try:
            while held:
                record = held.pop()
                try:
                    if record[0] != 2:
                        raise NotImplementedError
                    step = record[2].__anext__() if exc is None else record[2].athrow(exc)
                    try:
                        step.send(None)
                    except StopAsyncIteration:
                        pass
                except BaseException as error:
                    errors.append(error)
                record[3].released += 1  #@stats
        finally:
            self.var.reset(self.token)
            self.values.clear()  #@forget
        if errors:
            raise errors[0]


class Container:
    def __init__(self):
        self._var = contextvars.ContextVar("model", default=None)
        self._resolvers = {}

    def scope(self):
        return Scope(self._var)

    def resolve(self, name):
        resolver = self._resolvers.get(name)
        if resolver is None:
            raise LookupError(name)
        return resolver(self._var.get())

    def register(self, name, factory):
        counters = _Counters()

        async def resolver(scope):
            try:
                values = scope.values
            except AttributeError:
                raise LookupError("no request scope") from None
            value = values.get(counters, _ABSENT)
            if value is not _ABSENT:
                return value
            if scope.parent is not None:  #@nesting
                return value  #@nesting
            if scope.closed:  #@closed
                raise LookupError("scope closed")  #@closed
            values[counters] = _MAKING  #@single_flight
            sampled = not counters.created & 15  #@stats
            generator = factory()
            value = await generator.__anext__()
            record = (2, value, generator, counters)
            counters.created += 1  #@stats
            if sampled:  #@stats
                counters.timed += 1  #@stats
            if scope.closed:  #@closed
                raise LookupError("scope closed")  #@closed
            scope.held.append(record)
            mark = values[counters]  #@single_flight
            values[counters] = value
            if mark is not _MAKING:  #@single_flight
                raise NotImplementedError  #@single_flight
            return value

        self._resolvers[name] = resolver
"""
PROMISES = {
    "closed": "a closed scope hands nothing out",
    "nesting": "an inner scope sees the outer one's values",
    "single_flight": "a creation claims its key",
    "stats": "creations and releases counted, creation times sampled",
    "forget": "an exited scope drops its values",
}


def build(without: set[str]) -> Any:
    """The model container without the lines of the promises in ``without``."""
    lines = [
        line
        for line in TEMPLATE.splitlines()
        if not any(line.rstrip().endswith(f"#@{promise}") for promise in without)
    ]
    namespace: dict[str, Any] = {"contextvars": contextvars}
    exec(compile("\n".join(lines), "<scope model>", "exec"), namespace)
    container = namespace["Container"]()
    container.register("session", lambda: make_session(SHARED.db))
    return container


def cycle(container: Any) -> Callable[[int], Awaitable[None]]:
    """``n`` request scope cycles through ``container``."""

    async def run(n: int) -> None:
        for _ in range(n):
            async with container.scope():
                await container.resolve("session")

    return run


async def hand(n: int) -> None:
    """``n`` hand-written request scope cycles."""
    for _ in range(n):
        async with hand_session():
            pass


async def measure(rounds: int, batch: int) -> dict[str, list[float]]:
    """ns per cycle of every variant, per round."""
    SHARED.config = make_config()
    SHARED.db = await make_db(SHARED.config)
    cases: dict[str, Callable[[int], Awaitable[None]]] = {
        "model: every promise": cycle(build(set())),
        **{f"model without: {text}": cycle(build({key})) for key, text in PROMISES.items()},
        "model without any promise": cycle(build(set(PROMISES))),
        "hand-written: asynccontextmanager": hand,
    }
    samples: dict[str, list[float]] = {label: [] for label in cases}
    order = list(cases.items())
    shuffle = random.Random(0).shuffle
    for round_index in range(-1, rounds):  # round -1 is the warm-up, not recorded
        shuffle(order)
        gc.collect()
        for label, run in order:
            gc.disable()
            try:
                start = time.perf_counter_ns()
                await run(batch)
                elapsed = time.perf_counter_ns() - start
            finally:
                gc.enable()
            if round_index >= 0:
                samples[label].append(elapsed / batch)
    return samples


def main() -> None:
    """Parse the arguments, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="a smoke test: 2 rounds of 20")
    args = parser.parse_args()
    rounds, batch = (2, 20) if args.quick else (args.rounds, 1000)
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    samples = asyncio.run(measure(rounds, batch))
    hand_times = samples["hand-written: asynccontextmanager"]
    model = statistics.median(
        a / b for a, b in zip(samples["model: every promise"], hand_times, strict=True)
    )
    print(f"Python {platform.python_version()} on {sys.platform}, {rounds} rounds of {batch}")
    width = max(len(label) for label in samples)
    print(f"{'request scope cycle':<{width}}  {'median ns':>9}  {'x hand':>6}  {'vs model':>8}")
    for label, times in samples.items():
        ratio = statistics.median(a / b for a, b in zip(times, hand_times, strict=True))
        print(
            f"{label:<{width}}  {statistics.median(times):>9.1f}  {ratio:>6.2f}  "
            f"{ratio - model:>+8.2f}"
        )


if __name__ == "__main__":
    main()
