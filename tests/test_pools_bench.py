"""bench/pools.py: the eager start-up and pooled-value benchmark runs and prints its figures."""

from __future__ import annotations

from pathlib import Path

from tests.fakes import run_script

POOLS = Path(__file__).resolve().parent.parent / "bench" / "pools.py"


def test_quick_run_prints_both_ratios() -> None:
    """`--quick` exits 0 and prints the start-up and pool ratios with their bounds."""
    result = run_script(POOLS, "--quick", "--rounds", "2", "--requests", "500")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for label in ("eager start-up", "sequential start-up", "plain request", "pooled request"):
        assert label in result.stdout
    assert "eager / sequential" in result.stdout
    assert "pooled / plain" in result.stdout
