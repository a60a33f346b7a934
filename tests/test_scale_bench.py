"""bench/scale.py: the scaling bench runs and prints its tables (timings are never checked)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from tests.fakes import run_script

SCALE = Path(__file__).resolve().parent.parent / "bench" / "scale.py"
GROUPS = [
    "[chain of 10 INSTANCE providers, ns per link",
    "[chain of 100 INSTANCE providers, ns per link",
    "[chain of 500 INSTANCE providers, ns per link",
    "[one provider of 50 INSTANCE dependencies, ns per resolve",
]
ROWS = [
    'asyncdi: await reg.resolve("n9")',
    'asyncdi: await reg.resolve("n99")',
    'asyncdi: await reg.resolve("wide")',
    "hand: call the factories in a loop",
    "hand: wide(*[part() for part in parts])",
]
WIREUP_ROWS = [
    "wireup: await scope.get(Link9) [open scope]",
    "wireup: await scope.get(Link99) [open scope]",
    "wireup: await scope.get(Wide) [open scope]",
]
HAS_WIREUP = importlib.util.find_spec("wireup") is not None


def run_scale(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the script in a fresh interpreter and capture its output."""
    return run_script(SCALE, *args)


@pytest.fixture(scope="module")
def quick() -> subprocess.CompletedProcess[str]:
    """One `--quick --check` run, shared by the tests that read its output."""
    return run_scale("--quick", "--check", "--calls", "2000")


def test_quick_run_prints_every_group_row_and_target(
    quick: subprocess.CompletedProcess[str],
) -> None:
    """`--quick` prints every group, asyncdi's and the hand-written rows, 5 target verdicts."""
    assert "Traceback" not in quick.stderr
    out = quick.stdout
    assert out.startswith("Python ")
    for header in ("Sides:", "case", "median ns", "ratio vs asyncdi", "Targets"):
        assert header in out
    for line in GROUPS + ROWS:
        assert line in out
    # the 500-link chain is either measured or reported as failed, never lost
    assert 'asyncdi: await reg.resolve("n499")' in out or "asyncdi: FAILED" in out
    targets = out.split("Targets", 1)[1]
    assert sum(targets.count(verdict) for verdict in (" PASS", " FAIL", ": SKIP")) == 5
    assert "RSS growth over " in targets


@pytest.mark.skipif(not HAS_WIREUP, reason="wireup is not installed (bench/requirements-peers.txt)")
def test_wireup_rows_are_measured(quick: subprocess.CompletedProcess[str]) -> None:
    """With wireup installed, its chain and fan-in rows are measured in the same run."""
    for row in WIREUP_ROWS:
        assert row in quick.stdout


@pytest.mark.skipif(HAS_WIREUP, reason="wireup is installed")
def test_missing_wireup_is_a_note_and_a_skip(quick: subprocess.CompletedProcess[str]) -> None:
    """Without wireup, the run says so and skips the targets against it instead of failing."""
    assert "wireup: skipped, not installed" in quick.stdout
    assert ": SKIP (no wireup." in quick.stdout


def test_check_exits_by_target_verdict(quick: subprocess.CompletedProcess[str]) -> None:
    """`--check` exits 1 exactly when a target failed, 0 when none did."""
    assert quick.returncode == (1 if " FAIL" in quick.stdout else 0), quick.stderr


@pytest.mark.parametrize("option", ["--rounds", "--calls"])
def test_counts_must_be_positive(option: str) -> None:
    """`--rounds 0` and `--calls 0` are refused as usage errors, before anything is measured."""
    result = run_scale(option, "0")
    assert result.returncode == 2
    assert f"{option} must be at least 1" in result.stderr
