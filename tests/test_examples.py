"""Every program in examples/ runs as ``python examples/x.py`` and prints what it should."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ALL_EXAMPLES = sorted(EXAMPLES.glob("*.py"))

# Lines each example must print (the output may hold more).
EXPECTED_LINES = {
    "fastapi_app.py": [
        "opened two accounts: ada 100, bob 0",
        "transfer 30 from ada to bob: 201; now ada 70, bob 30",
        "transfer 500 from bob to ada: 409 account 2 cannot pay 500",
        "after the rollback: ada 70, bob 30",
    ],
    "pooled.py": [
        "visits: 8 requests on 2 connections",
        "pool: size 2, idle 2, in use 0",
        "failed request: request failed",
        "recorded visits: 8",
        "pool: discards 1, idle 1",
        "http client open: True",
        "http client closed: True",
        "db connections: created=2 released=2",
    ],
    "quickstart.py": [
        "directory ready: 3 users in :memory:",
        "directory disposed",
        "database closed",
    ],
    "resources.py": [
        "pool ready: 3 connections to ledger.sqlite3",
        "  released transaction 1: committed",
        "  released transaction 2: rolled back (bob cannot pay 500)",
        "  audit: 2024-01-01T09:00:00+00:00 alice carol 10",
        "  healthy: True",
        "released pool: 3 connections closed",
        "released workdir: temporary directory removed",
    ],
}


def run_example(path: Path) -> subprocess.CompletedProcess[str]:
    """Run one example the way a user would, from a neutral working directory."""
    return subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
        check=False,
    )


def output_lines(path: Path) -> list[str]:
    """The lines an example prints, after checking that it exited cleanly."""
    result = run_example(path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_every_example_is_covered() -> None:
    """Each example in examples/ has expected output listed here, and vice versa."""
    assert sorted(path.name for path in ALL_EXAMPLES) == sorted(EXPECTED_LINES)


@pytest.mark.parametrize("path", ALL_EXAMPLES, ids=lambda path: path.name)
def test_example_runs_and_prints_its_milestones(path: Path) -> None:
    """The example exits with 0, writes nothing to stderr and prints its key lines."""
    lines = output_lines(path)
    for expected in EXPECTED_LINES[path.name]:
        assert expected in lines


def test_quickstart_prints_the_real_data() -> None:
    """The quick start prints the seeded, added and searched users from its database."""
    assert output_lines(EXAMPLES / "quickstart.py") == [
        "directory ready: 3 users in :memory:",
        "user 2: Alan Turing <alan@example.org>",
        "added user 4: Barbara Liskov <barbara@example.org>",
        "search 'ov': Ada Lovelace, Barbara Liskov",
        "user 9: not found",
        "directory disposed",
        "database closed",
    ]


def test_resources_releases_newest_first() -> None:
    """Inside a request the ledger goes before its transaction; at shutdown, pool then workdir."""
    lines = output_lines(EXAMPLES / "resources.py")
    first_request = lines[lines.index("request: alice pays bob 30") :]
    assert first_request[:4] == [
        "request: alice pays bob 30",
        "  ledger ready",
        "  released ledger",
        "  released transaction 1: committed",
    ]
    assert lines.index("released pool: 3 connections closed") + 1 == lines.index(
        "released workdir: temporary directory removed"
    )


def test_resources_rolls_back_the_failed_request() -> None:
    """The failed transfer is rolled back: balances show only the two committed transfers."""
    lines = output_lines(EXAMPLES / "resources.py")
    assert "  request failed: bob cannot pay 500" in lines
    assert "  balances: alice=60, bob=80, carol=10" in lines


def test_resources_counts_every_release() -> None:
    """The stats printed after shutdown show every value with a release step released."""
    lines = output_lines(EXAMPLES / "resources.py")
    stats = lines[lines.index("== stats") + 1 :]
    assert stats == [
        "clock        SINGLETON  created=1 released=0 live=0 failures=0",
        "workdir      SINGLETON  created=1 released=1 live=0 failures=0",
        "pool         SINGLETON  created=1 released=1 live=0 failures=0",
        "transaction  REQUEST    created=5 released=5 live=0 failures=0",
    ]


def test_pooled_releases_the_pool_before_the_directory_it_uses() -> None:
    """At lifespan end the pooled connections close before their directory is removed."""
    lines = output_lines(EXAMPLES / "pooled.py")
    closed = [i for i, line in enumerate(lines) if line == "closed a connection"]
    assert len(closed) == 2  # the discarded one, then the idle one at the end
    assert closed[0] < lines.index("recorded visits: 8")
    assert closed[1] < lines.index("released workdir")
    assert lines[-1] == "db connections: created=2 released=2"
