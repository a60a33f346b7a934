"""What each promise costs in a request scope cycle: the model of scope_model.py, less one.

Run ``python bench/scope_ablation.py``. The model container of scope_model.py (serving
bench.py's request-scoped ``session``) is built several times, each time without one
promise, and once without all of them. Every variant and the hand-written ``asynccontextmanager``
of bench.py run interleaved, in a shuffled order each round, with gc off while timing;
a ratio is the median over rounds of the variant's time over the hand-written one's in
the same round. ``--quick`` is a smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import platform
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from scope_model import PROMISES, model_container

# bench.py's own hand-written scope and provider, so the two scripts measure one thing
from bench import SHARED, hand_session, make_config, make_db, make_session


def build(without: set[str]) -> Any:
    """The model container without the promises in ``without``, serving ``session``."""
    container = model_container(frozenset(without))
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
