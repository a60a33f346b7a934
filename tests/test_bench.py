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
    "floor: a ContextVar scope, no promises",
    "model: floor + asyncdi's promises",
    "asyncdi: scope() + resolve 10 values",
    "hand-written: session + 9 objects",
    "asyncdi: new Svc, every dep read twice",
]


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the script in a fresh interpreter and capture its output."""
    return run_script(BENCH, *args)


def test_quick_run_prints_table_and_targets() -> None:
    """`--quick` exits 0, silently on stderr, with the headers, every case, memory and targets."""
    result = run_bench("--quick")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert out.startswith("Python ")
    for header in ("case", "median ns/op", "ratio vs baseline(s)", "Memory per service", "Targets"):
        assert header in out
    for name in CASES:
        assert name in out
    assert "bytes per asyncdi service instance: " in out
    assert out.count(" PASS") + out.count(" FAIL") == 5


def test_check_exits_by_target_verdict() -> None:
    """`--check` exits 1 exactly when a target failed, 0 when all passed."""
    result = run_bench("--quick", "--check")
    assert result.returncode == (1 if " FAIL" in result.stdout else 0), result.stderr


def test_rounds_must_be_positive() -> None:
    """`--rounds 0` is refused as a usage error, before anything is measured."""
    result = run_bench("--rounds", "0")
    assert result.returncode == 2
    assert "--rounds must be at least 1" in result.stderr


def test_scope_ablation_quick_run_prints_every_variant() -> None:
    """bench/scope_ablation.py `--quick`: every variant of the model and the hand-written
    cycle get a row with a time and two ratios."""
    result = run_script(BENCH.parent / "scope_ablation.py", "--quick")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = [line for line in result.stdout.splitlines() if line.startswith(("model", "hand"))]
    assert [row.split("  ")[0].strip() for row in rows][:1] == ["model: every promise"]
    assert len(rows) == 8  # the model, five without one promise, one without any, hand
    for row in rows:
        time_ns, ratio, versus = row.split()[-3:]
        assert float(time_ns) > 0
        assert float(ratio) > 0
        assert versus.startswith(("+", "-"))
