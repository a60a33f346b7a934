"""The README's Python examples run, and print exactly what the README shows.

Every ```python block of README.md is executed in a fresh namespace; if it defines
``main()``, that is called too (through ``asyncio.run`` when it is a coroutine
function). A ```text block that directly follows a Python block is that block's
expected output. A block preceded by ``<!-- not-tested -->`` is skipped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOT_TESTED = "<!-- not-tested -->"
FENCE = re.compile(r"^```(\w*)\s*$")


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    language: str
    line: int  # 1-based line number of the first line of code
    code: str
    before: str  # the text between the previous block and this one


@dataclasses.dataclass(frozen=True)
class Snippet:
    """A Python block, with the output the README says it prints (if shown)."""

    line: int
    code: str
    expected: str | None
    skipped: bool


def parse_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, in order."""
    blocks: list[Block] = []
    lines = text.splitlines()
    before: list[str] = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            before.append(lines[index])
            index += 1
            continue
        start = index + 1
        end = start
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        if end == len(lines):
            raise ValueError(f"README.md:{index + 1}: code block is never closed")
        code = "\n".join(lines[start:end]) + "\n"
        blocks.append(Block(match.group(1), start + 1, code, "\n".join(before)))
        before = []
        index = end + 1
    return blocks


def parse_snippets(text: str) -> list[Snippet]:
    """The Python blocks of ``text`` with their expected output."""
    blocks = parse_blocks(text)
    snippets: list[Snippet] = []
    for position, block in enumerate(blocks):
        if block.language != "python":
            continue
        following = blocks[position + 1] if position + 1 < len(blocks) else None
        expected = None
        if following is not None and following.language == "text" and not following.before.strip():
            expected = following.code
        skipped = block.before.rstrip().endswith(NOT_TESTED)
        snippets.append(Snippet(block.line, block.code, expected, skipped))
    return snippets


def run_snippet(snippet: Snippet) -> None:
    """Execute a snippet as a script would run it, then its ``main()`` if it has one."""
    # Pad with blank lines so tracebacks point at the README's own line numbers.
    source = "\n" * (snippet.line - 1) + snippet.code
    namespace: dict[str, Any] = {"__name__": "__main__"}
    # dont_inherit: a snippet runs as its own module, without this file's __future__ imports
    exec(compile(source, str(README), "exec", dont_inherit=True), namespace)
    main = namespace.get("main")
    if main is None:
        return
    if inspect.iscoroutinefunction(main):
        asyncio.run(main())
    else:
        main()


def _normalise(output: str) -> str:
    return "\n".join(line.rstrip() for line in output.strip().splitlines())


SNIPPETS = parse_snippets(README.read_text(encoding="utf-8"))


SKIP = pytest.mark.skip(reason="marked <!-- not-tested --> in README.md")


def _param(snippet: Snippet) -> Any:
    marks = [SKIP] if snippet.skipped else []
    return pytest.param(snippet, id=f"README.md:{snippet.line}", marks=marks)


@pytest.mark.parametrize("snippet", [_param(snippet) for snippet in SNIPPETS])
def test_snippet_runs_and_prints_what_the_readme_shows(
    snippet: Snippet, capsys: pytest.CaptureFixture[str]
) -> None:
    """A README Python block runs without error and prints the output shown below it."""
    run_snippet(snippet)
    printed = capsys.readouterr().out
    if snippet.expected is not None:
        assert _normalise(printed) == _normalise(snippet.expected)


def test_parser_pairs_output_and_honours_not_tested() -> None:
    """A text block right after a Python block is its output; a marked block is skipped."""
    text = (
        "Intro.\n\n```python\nprint(1)\n```\n\n```text\n1\n```\n\n"
        "<!-- not-tested -->\n```python\nimport nowhere\n```\n\nProse.\n\n"
        "```text\nnot an output\n```\n"
    )
    first, second = parse_snippets(text)
    assert (first.line, first.code, first.expected) == (4, "print(1)\n", "1\n")
    assert not first.skipped
    assert (second.expected, second.skipped) == (None, True)


def test_readme_has_tested_python_snippets() -> None:
    """The README has Python examples, and nearly all of them are checked.

    The few that are not are a served web app, a pytest file and a shell session.
    """
    tested = [snippet for snippet in SNIPPETS if not snippet.skipped]
    assert len(tested) >= 5
    assert len(SNIPPETS) - len(tested) <= 4


def test_quick_start_has_exactly_the_two_commands() -> None:
    """The Quick start is one shell block with the install-and-run and the test command."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    shell = [block for block in parse_blocks(section) if block.language in {"bash", "sh"}]
    assert len(shell) == 1
    assert shell[0].code.strip().splitlines() == [
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && "
        ".venv/bin/python examples/quickstart.py",
        "bash scripts/test.sh",
    ]


def test_quick_start_output_is_what_the_example_prints() -> None:
    """The output shown under the Quick start is what examples/quickstart.py prints."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    [shown] = [block for block in parse_blocks(section) if block.language == "text"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert _normalise(result.stdout) == _normalise(shown.code)
