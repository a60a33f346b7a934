"""Typing is part of the API: mypy --strict (and pyright, when installed) check it.

``tests/typing/`` must type-check cleanly; every file in ``tests/typing_negative/`` must
fail with exactly the errors its ``# expect-error: CODE`` comments name.
"""

from __future__ import annotations

import importlib.util
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mypy import api as mypy_api

import asyncdi

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CONFIG = ROOT / "pyproject.toml"
POSITIVE = TESTS / "typing"
NEGATIVE = TESTS / "typing_negative"
NEGATIVE_FILES = sorted(NEGATIVE.glob("*.py"))

EXPECT_ERROR = re.compile(r"#\s*expect-error:\s*([a-z][a-z0-9-]*)")
KNOWN_DEFECT = re.compile(r"^#\s*known-defect:\s*(.+)$", re.MULTILINE)
MYPY_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: .*\[(?P<code>[a-z0-9-]+)\]$")

MypyResult = tuple[str, str, int]


class MypyResultRunner:
    """Calls ``mypy.api.run`` with the project's config and a private cache."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def __call__(self, *paths: Path) -> MypyResult:
        args = [
            "--strict",
            "--config-file",
            str(CONFIG),
            "--cache-dir",
            str(self.cache),
            "--no-color-output",
            "--no-error-summary",
            "--show-error-codes",
            "--hide-error-context",
            "--no-pretty",
            *(str(path.relative_to(ROOT)) for path in paths),
        ]
        with pytest.MonkeyPatch.context() as patch:
            # From the root, mypy finds the `asyncdi` sources (an editable install's
            # import hook is invisible to it) and reports paths relative to the root.
            patch.chdir(ROOT)
            return mypy_api.run(args)


@pytest.fixture(scope="session")
def run_mypy(tmp_path_factory: pytest.TempPathFactory) -> MypyResultRunner:
    """Run mypy --strict in-process with the project's config, sharing one cache dir."""
    return MypyResultRunner(tmp_path_factory.mktemp("mypy-cache"))


@pytest.fixture(scope="session")
def negative_report(run_mypy: MypyResultRunner) -> dict[str, set[tuple[int, str]]]:
    """One mypy run over every negative file: the (line, code) errors of each file."""
    stdout, stderr, _status = run_mypy(*NEGATIVE_FILES)
    assert not stderr, stderr
    found: dict[str, set[tuple[int, str]]] = {path.name: set() for path in NEGATIVE_FILES}
    for row in stdout.splitlines():
        match = MYPY_ERROR.match(row)
        if match is not None:
            name = Path(match["path"]).name
            found.setdefault(name, set()).add((int(match["line"]), match["code"]))
        elif ": error:" in row:
            pytest.fail(f"mypy error without an error code: {row}")
    return found


def expected_errors(path: Path) -> set[tuple[int, str]]:
    """The (line, code) pairs named by ``# expect-error: CODE`` comments in ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {
        (number, match[1])
        for number, text in enumerate(lines, start=1)
        if (match := EXPECT_ERROR.search(text)) is not None
    }


def negative_case(path: Path) -> object:
    """A parameter for ``path``; a strict xfail if it documents a known API defect."""
    defect = KNOWN_DEFECT.search(path.read_text(encoding="utf-8"))
    if defect is None:
        return pytest.param(path, id=path.stem)
    return pytest.param(
        path,
        id=path.stem,
        marks=pytest.mark.xfail(strict=True, reason=f"known typing defect: {defect[1]}"),
    )


def test_public_api_passes_mypy_strict(run_mypy: MypyResultRunner) -> None:
    """tests/typing (assert_type on every public API) passes mypy --strict."""
    stdout, stderr, status = run_mypy(POSITIVE)
    assert (status, stderr) == (0, ""), stdout + stderr


@pytest.mark.parametrize("path", [negative_case(path) for path in NEGATIVE_FILES])
def test_misuse_fails_mypy_strict(
    path: Path, negative_report: dict[str, set[tuple[int, str]]]
) -> None:
    """Each negative file fails mypy --strict with exactly its expected error codes."""
    expected = expected_errors(path)
    assert expected, f"{path.name} has no `# expect-error: CODE` comment"
    assert negative_report[path.name] == expected


def test_negative_files_exist() -> None:
    """The negative checks were found (a moved folder must not make them vanish)."""
    assert len(NEGATIVE_FILES) >= 5


def test_typing_checks_do_nothing_at_import() -> None:
    """Running tests/typing modules registers nothing: they are only type-checked."""
    before = (asyncdi.registry.names, len(asyncdi.registry._services))
    for path in sorted(POSITIVE.glob("*.py")):
        runpy.run_path(str(path))
    assert (asyncdi.registry.names, len(asyncdi.registry._services)) == before


@pytest.mark.skipif(
    importlib.util.find_spec("pyright") is None or shutil.which("node") is None,
    reason="pyright (pip install pyright) and a `node` on PATH are needed",
)
def test_public_api_passes_pyright_strict() -> None:
    """tests/typing passes pyright in strict mode (set by its `# pyright: strict`)."""
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}  # no version check online
    result = subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, str(POSITIVE)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
