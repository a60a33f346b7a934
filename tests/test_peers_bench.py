"""bench/peers.py: the peer comparison runs and prints its table (timings are never checked)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fakes import run_script

PEERS = Path(__file__).resolve().parent.parent / "bench" / "peers.py"
ROWS = [
    "plain: await async getter",
    "asyncdi: await svc.db (cached)",
    "hand-written: new service, 3 getters",
    "asyncdi: new Svc, await 3 deps",
    "hand-written: asynccontextmanager",
    "asyncdi: scope() + resolve(session)",
    "plain: await get_shared_db()",
    'asyncdi: await reg.resolve("db")',
    "hand-written: same, read twice",
    "asyncdi: same, every dep read twice",
    "hand-written: session + service getter",
    "asyncdi: scope() + await RequestSvc().session",
    "hand-written: session + 9 objects",
    "asyncdi: scope() + resolve 10 values",
]
LIBRARIES = ["dishka", "wireup", "that-depends", "dependency-injector", "aioinject", "svcs"]


def run_peers(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the script in a fresh interpreter and capture its output."""
    return run_script(PEERS, *args)


def test_quick_run_prints_baselines_asyncdi_and_every_peer() -> None:
    """`--quick` exits 0 with the table, reference rows, peer notes, memory, 3 verdicts."""
    result = run_peers("--quick")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert out.startswith("Python ")
    headers = ("Peers:", "case", "median ns/op", "ratio vs hand-written", "Memory per", "Targets")
    for header in headers:
        assert header in out
    for row in ROWS:
        assert row in out
    notes = out.split("Peers:", 1)[1].split("\n\n", 1)[0]
    for library in LIBRARIES:
        assert f"  {library}" in notes
    memory = out.split("Memory per", 1)[1].split("Targets", 1)[0]
    assert "asyncdi: new Svc, every dep read twice" in memory
    assert memory.count(" B\n") >= 2
    targets = out.split("Targets", 1)[1]
    assert sum(targets.count(verdict) for verdict in (" PASS", " FAIL", ": SKIP")) == 3


def test_check_exits_by_target_verdict() -> None:
    """`--check` exits 1 exactly when a target against wireup failed, 0 otherwise."""
    result = run_peers("--quick", "--check")
    assert result.returncode == (1 if " FAIL" in result.stdout else 0), result.stderr


def test_rounds_must_be_positive() -> None:
    """`--rounds 0` is refused as a usage error, before anything is measured."""
    result = run_peers("--rounds", "0")
    assert result.returncode == 2
    assert "--rounds must be at least 1" in result.stderr
