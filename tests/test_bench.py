"""bench/bench.py: the benchmark runs and prints its whole report (timings are never checked)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fakes import run_script

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench.py"
CASES = [
    "asyncdi: await svc.db (cached)",
    "plain: obj.db attribute read",
    "plain: await done future",
    "plain: await async getter",
    "empty loop (not subtracted)",
    "asyncdi: new Svc, await 3 deps",
    "hand-written: new service, 3 getters",
    "asyncdi: scope() + resolve(session)",
    "hand-written: asynccontextmanager",
]


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the script in a fresh interpreter and capture its output."""
    return run_script(BENCH, *args)


def test_quick_run_prints_table_and_targets() -> None:
    """`--quick` exits 0, silently on stderr, with the headers, every case and every target."""
    result = run_bench("--quick")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert out.startswith("Python ")
    for header in ("case", "median ns/op", "ratio vs baseline(s)", "Targets"):
        assert header in out
    for name in CASES:
        assert name in out
    assert out.count(" PASS") + out.count(" FAIL") == 4


def test_rounds_must_be_positive() -> None:
    """`--rounds 0` is refused as a usage error, before anything is measured."""
    result = run_bench("--rounds", "0")
    assert result.returncode == 2
    assert "--rounds must be at least 1" in result.stderr
