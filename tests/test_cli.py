"""The ``asyncdi`` command: ``check`` and ``graph``, run in subprocesses on small modules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from asyncdi import AsyncService, Dependency, Registry
from asyncdi._cli import main
from asyncdi._graph_render import render_dot, render_mermaid

HEALTHY = """
from collections.abc import AsyncIterator

from asyncdi import AsyncService, Dependency, Inject, Registry, Scope

reg = Registry("shop")


@reg.provides("url", scope=Scope.SINGLETON)
def make_url() -> str:
    return "sqlite://"


@reg.provides("db", scope=Scope.SINGLETON)
async def make_db(address: str = Inject("url")) -> AsyncIterator[str]:
    yield address


@reg.provides("session", scope=Scope.REQUEST)
async def make_session(db: str, retries: int = 3) -> str:
    return db


class Orders(AsyncService, registry=reg):
    session = Dependency[str]()
    store = Dependency[str]("db")
"""

BROKEN_GRAPH = """
from asyncdi import AsyncService, Dependency, Registry, Scope

reg = Registry("broken")


@reg.provides("a")
def make_a(b: str) -> str:
    return b


@reg.provides("b")
def make_b(a: str) -> str:
    return a


@reg.provides("cache", scope=Scope.SINGLETON)
def make_cache(session: str, redis: str) -> str:
    return session


@reg.provides("session", scope=Scope.REQUEST)
def make_session() -> str:
    return "s"


class Reports(AsyncService, registry=reg):
    audit = Dependency[str]()
"""


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m asyncdi ARGS`` in ``cwd`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "asyncdi", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory holding the modules the commands load."""
    (tmp_path / "healthy.py").write_text(HEALTHY, encoding="utf-8")
    (tmp_path / "broken_graph.py").write_text(BROKEN_GRAPH, encoding="utf-8")
    (tmp_path / "explodes.py").write_text("raise RuntimeError('boom at import')\n", "utf-8")
    (tmp_path / "needs_missing.py").write_text("import no_such_dependency_xyz\n", "utf-8")
    (tmp_path / "not_registry.py").write_text("reg = 42\n", encoding="utf-8")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "container.py").write_text(
        "import types\nfrom asyncdi import Registry\nholder = types.SimpleNamespace()\n"
        "holder.reg = Registry('nested')\nholder.reg.register('x', value=1)\n",
        encoding="utf-8",
    )
    return tmp_path


def test_check_healthy_graph_prints_summary(project: Path) -> None:
    """check exits 0 with a one-line summary when the graph has no problems."""
    result = run_cli(project, "check", "healthy:reg")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "ok: registry 'shop': 3 providers, 1 service, no problems\n"


def test_check_finds_nested_attribute_in_package(project: Path) -> None:
    """check loads package.module:attribute.path and uses singular counts."""
    result = run_cli(project, "check", "pkg.container:holder.reg")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: registry 'nested': 1 provider, 0 services, no problems\n"


def test_check_prints_every_problem_and_exits_1(project: Path) -> None:
    """check prints each missing name, cycle and captive dependency, and exits 1."""
    result = run_cli(project, "check", "broken_graph:reg")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "registry 'broken' has 4 problem(s)" in out
    assert "No provider named 'redis'" in out
    assert "No provider named 'audit': Reports.audit" in out
    assert "Dependency cycle" in out
    assert "SINGLETON 'cache' depends on REQUEST-scoped 'session'" in out
    assert len([line for line in out.splitlines() if line.startswith("  - ")]) == 4


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("healthy", "expected MODULE:ATTRIBUTE"),
        ("healthy:", "expected MODULE:ATTRIBUTE"),
        ("no_such_module_xyz:reg", "no module named 'no_such_module_xyz'"),
        ("healthy:nope", "'healthy' has no attribute 'nope'"),
        ("not_registry:reg", "'reg' is an object of type int, not an asyncdi Registry"),
        ("explodes:reg", "importing 'explodes' raised RuntimeError: boom at import"),
        ("needs_missing:reg", "importing 'needs_missing' raised ModuleNotFoundError"),
    ],
)
def test_unusable_target_exits_2(project: Path, target: str, message: str) -> None:
    """A bad MODULE:ATTRIBUTE, a failing import or a non-Registry exits 2 and says why."""
    result = run_cli(project, "check", target)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"asyncdi check: error: cannot load the registry {target!r}: {message}" in (
        result.stderr
    )


def test_graph_of_unusable_target_exits_2(project: Path) -> None:
    """graph refuses a target that is not a Registry the same way check does."""
    result = run_cli(project, "graph", "not_registry:reg", "--format", "dot")
    assert (result.returncode, result.stdout) == (2, "")
    assert "asyncdi graph: error: cannot load the registry 'not_registry:reg'" in result.stderr


def test_import_failure_shows_the_traceback(project: Path) -> None:
    """When the module itself raises, its traceback is printed to find the line."""
    result = run_cli(project, "check", "explodes:reg")
    assert 'File "' in result.stderr
    assert "explodes.py" in result.stderr


def test_bad_usage_exits_2(project: Path) -> None:
    """An unknown command or format is an argparse usage error (exit 2)."""
    assert run_cli(project, "frobnicate", "healthy:reg").returncode == 2
    result = run_cli(project, "graph", "healthy:reg", "--format", "png")
    assert result.returncode == 2
    assert "invalid choice: 'png'" in result.stderr


EXPECTED_EDGES = {
    ("p_db", "p_url", "address", False),
    ("p_session", "p_db", None, False),
    ("p_session", "m_retries", None, True),
    ("s_0", "p_session", None, False),
    ("s_0", "p_db", "store", False),
}


def test_graph_mermaid(project: Path) -> None:
    """graph (Mermaid by default): every provider, service, edge, and absent names styled."""
    result = run_cli(project, "graph", "healthy:reg")
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[0] == "flowchart LR"
    assert 'p_db["db<br/>SINGLETON<br/>async generator function"]' in lines
    assert 'p_url["url<br/>SINGLETON<br/>sync function"]' in lines
    assert 'p_session["session<br/>REQUEST<br/>async function"]' in lines
    assert "s_0[[\"Orders<br/>.session: 'session'<br/>.store: 'db'\"]]" in lines
    assert 'm_retries(["retries<br/>not registered: default used"])' in lines
    edge = re.compile(r'^(\w+) (-->|-\.->)(?:\|"([^"]*)"\|)? (\w+)$')
    edges = {(m[1], m[4], m[3], m[2] == "-.->") for line in lines if (m := edge.match(line))}
    assert edges == EXPECTED_EDGES
    assert "class p_db,p_session,p_url provider" in lines
    assert "class m_retries unset" in lines


def test_graph_dot(project: Path) -> None:
    """graph --format dot: the same nodes and edges as a Graphviz digraph."""
    result = run_cli(project, "graph", "healthy:reg", "--format", "dot")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith('digraph "shop" {\n')
    assert out.endswith("}\n")
    assert '"p_db" [label="db\\nSINGLETON\\nasync generator function"' in out
    assert "\"s_0\" [label=\"Orders\\n.session: 'session'\\n.store: 'db'\", shape=component" in out
    edge = re.compile(r'^\s*"(\w+)" -> "(\w+)"(?: \[(.*)\])?;$', re.MULTILINE)
    edges = set()
    for source, target, attributes in edge.findall(out):
        label = re.search(r'label="([^"]*)"', attributes)
        edges.add((source, target, label[1] if label else None, "style=dashed" in attributes))
    assert edges == EXPECTED_EDGES


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_graph_draws_missing_names_as_missing(project: Path, fmt: str) -> None:
    """Names asked for but never registered get the distinct 'missing' node style."""
    result = run_cli(project, "graph", "broken_graph:reg", "--format", fmt)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    if fmt == "mermaid":
        assert 'm_redis{{"redis<br/>missing"}}' in out
        assert 'm_audit{{"audit<br/>missing"}}' in out
        assert "class m_audit,m_redis missing" in out
        assert "p_cache --> m_redis" in out
        assert "p_a --> p_b" in out
        assert "p_b --> p_a" in out
    else:
        assert '"m_redis" [label="redis\\nmissing", shape=octagon, style="dashed,filled"' in out
        assert '"s_0" -> "m_audit";' in out
        assert '"p_cache" -> "m_redis";' in out


def test_console_script_is_installed(project: Path) -> None:
    """The `asyncdi` command (console script) runs the same CLI."""
    script = Path(sys.executable).parent / "asyncdi"
    if not script.exists():
        pytest.skip("asyncdi is not installed as a console script in this environment")
    result = subprocess.run(
        [str(script), "check", "healthy:reg"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: registry 'shop'")


def test_labels_are_escaped() -> None:
    """Quotes and angle brackets in names cannot break out of a Mermaid or DOT label."""
    reg = Registry('odd "name"')

    def make() -> type:
        class Local(AsyncService, registry=reg):
            thing = Dependency[str]()

        return Local

    kept = make()  # qualname: test_labels_are_escaped.<locals>.make.<locals>.Local
    mermaid = render_mermaid(reg)
    assert "<locals>" not in mermaid
    assert "#lt;locals#gt;" in mermaid
    assert "odd #quot;name#quot;" in mermaid
    dot = render_dot(reg)
    assert dot.startswith('digraph "odd \\"name\\"" {')
    assert "<locals>.Local" in dot
    del kept


def test_help_names_the_commands() -> None:
    """python -m asyncdi --help lists both commands."""
    result = subprocess.run(
        [sys.executable, "-m", "asyncdi", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "check" in result.stdout
    assert "graph" in result.stdout


@pytest.mark.parametrize(
    ("args", "status", "stream", "text"),
    [
        (["check", "healthy:reg"], 0, "out", "ok: registry 'shop'"),
        (["check", "broken_graph:reg"], 1, "out", "has 4 problem(s)"),
        (["check", "explodes:reg"], 2, "err", "RuntimeError: boom at import"),
        (["check", "needs_missing:reg"], 2, "err", "no_such_dependency_xyz"),
        (["graph", "broken_graph:reg"], 0, "out", "class m_audit,m_redis missing"),
        (["graph", "healthy:reg", "--format", "dot"], 0, "out", 'digraph "shop"'),
    ],
)
def test_main_in_process(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    status: int,
    stream: str,
    text: str,
) -> None:
    """main() returns the exit status and prints where the subprocess runs do."""
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("healthy", "broken_graph", "explodes", "needs_missing"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    try:
        assert main(args) == status
    finally:
        for name in ("healthy", "broken_graph", "explodes", "needs_missing"):
            sys.modules.pop(name, None)
    captured = capsys.readouterr()
    assert text in (captured.out if stream == "out" else captured.err)
