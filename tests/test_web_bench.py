"""bench/web.py: the four-way FastAPI comparison runs and prints its table (timings unchecked)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.fakes import run_script

WEB = Path(__file__).resolve().parent.parent / "bench" / "web.py"


def test_quick_run_prints_every_variant_on_both_endpoints() -> None:
    """`--quick` exits 0 with a row per variant and endpoint, and the asyncdi ratios."""
    result = run_script(WEB, "--quick")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    variants = ["globals", "asyncdi", "Depends"]
    if importlib.util.find_spec("wireup") is not None:
        variants.append("wireup")
    else:
        assert "wireup: skipped" in result.stdout
    for path in ("/scoped", "/singleton"):
        for variant in variants:
            assert any(line.split()[:2] == [variant, path] for line in result.stdout.splitlines())
        assert f"{path:<11} asyncdi / globals" in result.stdout
