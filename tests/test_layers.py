"""The package's layers: every import points down, and the sans-I/O core stays sans-I/O.

Lowest first: ``_core`` (SSE framing, wire types, decoding, accumulation, partial JSON,
tool-call assembly, the Redis protocol) < ``ops`` (operators over async iterables) <
``_redis`` (Redis clients, rate limits shared through Redis) < ``_http`` (requests, body
streams) < ``_runner`` (the tool runner) < ``_resources`` (the endpoints) < the client < the
synchronous client (``_sync``) and the public namespaces < ``testing`` < ``relay`` < the
command line. Read statically, ``TYPE_CHECKING`` imports included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sluice

PACKAGE = Path(sluice.__file__).parent

# Each module's layer, by the first matching prefix of its dotted name under sluice.
LAYERS: list[tuple[str, int]] = [
    ("_core", 0),
    ("ops", 1),
    ("_redis", 2),
    ("_http", 3),
    ("_runner", 4),
    ("_resources", 5),
    ("_client", 6),
    ("_sync", 7),
    ("types", 7),
    ("admin", 7),
    ("__init__", 8),
    ("testing", 9),
    ("relay", 10),
    ("__main__", 11),
]
#: Packages the core must never import, even for type hints: it is sans-I/O.
IO_PACKAGES = {"httpx", "anyio", "trio", "asyncio", "h11", "httpcore", "socket"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts)


def layer_of(name: str) -> tuple[str, int]:
    for prefix, layer in LAYERS:
        if name == prefix or name.startswith(prefix + "."):
            return prefix, layer
    raise AssertionError(f"module sluice.{name} is in no layer: add it to LAYERS")


def imports_of(path: Path) -> list[tuple[str, int]]:
    """``(absolute module under sluice or top-level package, line)`` for every import."""
    # The package a relative import starts from (a package's __init__ is named after it
    # with ".__init__", so dropping the last part works for both).
    package = module_name(path).split(".")[:-1]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                assert node.module is not None
                base = node.module
            else:
                up = package[: len(package) - (node.level - 1)]
                base = ".".join(["sluice", *up, *([node.module] if node.module else [])])
            if node.module is None:
                # "from . import x": the imported names are modules
                for alias in node.names:
                    found.append((f"{base}.{alias.name}", node.lineno))
            else:
                found.append((base, node.lineno))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    """Each module of the package sits in a known layer."""
    for path in MODULES:
        layer_of(module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    """No module imports a module of a higher layer, or a sibling layer's package."""
    own, level = layer_of(module_name(path))
    for target, line in imports_of(path):
        if not target.startswith("sluice."):
            continue
        other = target.removeprefix("sluice.")
        if other in ("", "__init__"):
            other = "__init__"
        other_prefix, other_level = layer_of(other)
        assert other_level < level or other_prefix == own, (
            f"{path.relative_to(PACKAGE)}:{line} imports sluice.{other} "
            f"(layer {other_prefix}) from layer {own}"
        )


@pytest.mark.parametrize(
    "path",
    sorted((PACKAGE / "_core").rglob("*.py")),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_core_is_sans_io(path: Path) -> None:
    """The core imports no I/O library (httpx, anyio, trio, asyncio...), not even for types."""
    for target, line in imports_of(path):
        top = target.split(".")[0]
        assert top not in IO_PACKAGES, f"{path.relative_to(PACKAGE)}:{line} imports {target}"


def test_no_import_cycles_between_modules() -> None:
    """Reading the imports statically, no module depends on itself through others."""
    graph: dict[str, set[str]] = {}
    known = {module_name(path) for path in MODULES}
    for path in MODULES:
        name = module_name(path)
        if path.name == "__init__.py":
            continue  # a package's __init__ re-exports; importing it is not a dependency
        edges = graph.setdefault(name, set())
        for target, _ in imports_of(path):
            if not target.startswith("sluice."):
                continue
            other = target.removeprefix("sluice.")
            if other in known and not other.endswith("__init__") and other != name:
                edges.add(other)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


TESTS = Path(__file__).resolve().parent
#: Each test folder and the part of the package whose tests it holds.
TEST_FOLDERS = {
    "core": "_core",
    "http": "_http",
    "redis": "_redis",
    "resources": "_resources",
    "runner": "_runner",
    "ops": "ops",
    "relay": "relay",
    "sync": "_sync",
    "testing": "testing",
}


def test_test_folders_mirror_the_package() -> None:
    """tests/<folder> holds the tests of sluice's sub-package of that name; the top level
    holds what spans layers (client, public API, docs, CLI...)."""
    folders = {
        path.name for path in TESTS.iterdir() if path.is_dir() and any(path.glob("test_*.py"))
    }
    assert folders == set(TEST_FOLDERS)
    for package in TEST_FOLDERS.values():
        assert (PACKAGE / package).is_dir(), package


def test_test_module_names_are_unique() -> None:
    """Test modules are imported by basename (rootdir-relative, no __init__.py), so two
    files of one name in two folders would shadow each other."""
    names = [path.name for path in TESTS.rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
