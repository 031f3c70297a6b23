"""The package layout the README and docs/architecture.md describe, checked on the source.

``python -m pytest tests/test_architecture.py`` is the command that shows it: every import of a
simcore module (at the top of a file or inside a function) goes to the same layer or one below
it, no two modules import each other round a circle, ``distributions`` imports nothing of
simcore, and every module-level constant is defined in one place.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# bottom to top: a module may import its own layer and those before it in this list
LAYERS = ["model", "io", "results", "engine", "analysis", "report", "cli"]
TOP_LEVEL = {"simcore", "simcore.__main__", "simcore._compat", "simcore._version"}


def modules(package: str) -> dict[str, Path]:
    out = {}
    for p in sorted((ROOT / package).rglob("*.py")):
        parts = p.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def imports(path: Path, name: str) -> set[str]:
    """The simcore / distributions modules ``path`` imports, lazily or not."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = name.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names}  # from pkg import module
    return {m for m in found if m.split(".")[0] in ("simcore", "distributions")}


ALL = {**modules("simcore"), **modules("distributions")}


def graph() -> dict[str, set[str]]:
    return {
        name: {m for m in imports(p, name) if m in ALL and m != name} for name, p in ALL.items()
    }


def layer(name: str) -> int | None:
    parts = name.split(".")
    if parts[0] == "distributions":
        return -1
    if name in TOP_LEVEL:
        return None  # the package's face: re-exports from every layer
    return LAYERS.index(parts[1])


def test_every_simcore_module_is_in_a_layer():
    for name in ALL:
        if name.startswith("simcore") and name not in TOP_LEVEL:
            assert name.split(".")[1] in LAYERS, f"{name} is outside the layers {LAYERS}"


def test_imports_only_go_down():
    bad = []
    for name, deps in graph().items():
        mine = layer(name)
        for d in deps:
            if d in TOP_LEVEL and d != "simcore._version":
                if name.startswith("simcore."):
                    bad.append(f"{name} imports the package face {d}")
                continue
            theirs = layer(d)
            if mine is not None and theirs is not None and theirs > mine:
                bad.append(
                    f"{name} ({LAYERS[mine] if mine >= 0 else 'distributions'}) imports "
                    f"{d} ({LAYERS[theirs]}), a layer above it"
                )
    assert not bad, "\n".join(bad)


def test_no_import_circle():
    g = graph()
    # a package's __init__ re-exports its modules; it is not a dependency of them
    g = {
        n: {d for d in deps if not (n.startswith(d + ".") and ALL[d].name == "__init__.py")}
        for n, deps in g.items()
    }
    state, stack, circles = {}, [], []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for d in sorted(g[n]):
            if state.get(d) == "open":
                circles.append(" -> ".join(stack[stack.index(d) :] + [d]))
            elif d not in state:
                visit(d)
        stack.pop()
        state[n] = "done"

    for n in sorted(g):
        if n not in state:
            visit(n)
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_distributions_knows_nothing_of_simcore():
    for name, deps in graph().items():
        if name.startswith("distributions"):
            assert not [d for d in deps if d.startswith("simcore")], name


def test_simcore_uses_only_the_public_face_of_distributions():
    """simcore and the benchmarks reach numba policy, ppf kernels, codes and table layout
    through ``distributions.kernels``, never a private ``distributions._*`` module."""
    users = {**modules("simcore"), **modules("benchmarks")}
    private = {
        name: bad
        for name, p in users.items()
        if (bad := sorted(d for d in imports(p, name) if d.startswith("distributions._")))
    }
    assert not private, private


def test_the_public_kernel_face_exports_what_it_documents():
    import distributions.kernels as k

    for name in k.__all__:
        assert hasattr(k, name), name
        assert name in k.__doc__ or name.startswith("CODE_"), name


def test_every_constant_is_defined_once():
    seen: dict[str, list[str]] = {}
    for name, p in ALL.items():
        for node in ast.parse(p.read_text(encoding="utf-8")).body:
            targets = []
            if isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            for t in targets:
                if t.isupper() and len(t) > 1 and not t.startswith("_"):
                    seen.setdefault(t, []).append(name)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert not twice, f"constants defined in more than one module: {twice}"


@pytest.mark.parametrize(
    "question, module",
    [
        ("where is net profit computed?", "simcore.model.equations"),
        ("where are paths sampled?", "distributions.sampling"),
        ("where is the scenario file read?", "simcore.io.scenario_file"),
        ("where is the committee pack written?", "simcore.report.pack"),
    ],
)
def test_a_newcomer_finds_it_by_file_name(question, module):
    assert module in ALL, question


def test_version_has_one_source(capsys):
    from importlib import metadata

    import simcore
    from simcore.cli import commands
    from simcore.engine.core import versions

    assert commands.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"simcore {simcore.__version__}"
    assert versions()["simcore"] == simcore.__version__ == metadata.version("simcore")
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text()


def test_lint_is_clean():
    import subprocess
    import sys

    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "simcore",
            "distributions",
            "tests",
            "benchmarks",
            "notebooks",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_format_is_applied():
    """``ruff format`` has been run on every Python file (pyproject.toml's [tool.ruff])."""
    import subprocess
    import sys

    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--check",
            "simcore",
            "distributions",
            "tests",
            "benchmarks",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_ci_runs_the_readmes_test_command_which_runs_every_tier():
    """README.md opens with two commands; .ci/run runs the second, and it runs every tier."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2 and "simcore run" in block[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == block[1]
    assert block[1].endswith("python -m pytest --all")
