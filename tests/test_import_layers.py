"""The shape of core: no import circle, even counting imports inside functions (only ``TYPE_CHECKING``
blocks are left out), and no Streamlit anywhere in the library."""

from __future__ import annotations

import ast
from pathlib import Path

from testkit.app import REPO

CORE = REPO / "core"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module name an import statement in ``path`` names, outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    skipped = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
               for node in ast.walk(block)}
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else [])) if node.level \
                else node.module or ""
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def core_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in CORE.rglob("*.py")}

    def owner(name: str) -> str | None:  # the module a dotted name lives in (a package's name counts as it)
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    return {m: {o for name in imported(p) if name.startswith("core") and (o := owner(name)) and o != m}
            for m, p in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_in_core():
    assert circles(core_graph()) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_never_imports_streamlit():
    offenders = [module_name(p) for p in CORE.rglob("*.py") if any(n.split(".")[0] == "streamlit" for n in imported(p))]
    assert offenders == []


def test_the_default_store_and_data_folder_are_the_repositorys_own():
    """The README's checkpoints/ and data/ at the repository's top, wherever the modules that name them sit
    (a move into layer folders once pointed them into core/)."""
    from core.data.datasets import DEFAULT_DATA_DIR
    from core.store.checkpoints import DEFAULT_ROOT

    assert DEFAULT_ROOT == REPO / "checkpoints" and DEFAULT_DATA_DIR == REPO / "data"
    assert (REPO / "checkpoints" / "README.md").is_file(), "the store folder the repository ships"


def test_load_or_train_sits_above_the_store_and_its_catalogue():
    """The store (checkpoints) and the catalogue of derived values know nothing of training; the module
    that loads or trains (core.store.trained) uses both (imports inside functions counted)."""
    graph = core_graph()
    assert not graph["core.store.checkpoints"] & {"core.store.derived", "core.store.trained"}
    assert "core.store.trained" not in graph["core.store.derived"]
    assert {"core.store.checkpoints", "core.store.derived"} <= graph["core.store.trained"]
