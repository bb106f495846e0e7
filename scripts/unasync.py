"""Generate the synchronous client from the async code: sluice's ``unasync``.

Usage::

    python scripts/unasync.py            # (re)write the generated files
    python scripts/unasync.py --check    # exit 1 if a generated file is stale

The async code is the one source of truth for every endpoint: its path, parameters,
validation and docstring, and for the readers of streams, results and downloads. This
script writes their blocking twins into ``src/sluice/_sync/`` (and mirrors the async tests
into ``tests/sync/``), as httpcore's ``unasync`` script does, and ``tests/test_unasync.py``
fails while a generated file differs from what it would write now. Change the async module,
then run ``make unasync``.

How a module is rewritten:

* Only the definitions that do I/O are copied: those with ``async``/``await``, or that name
  an async type, an I/O name (``anyio``, ``aclose``...) or another copied definition.
  Everything else (wire types, paths, parameter checks, decoders) is imported from the
  async module, so the sync client returns the very same classes.
* Copied code is rewritten token by token (``async def`` -> ``def``, ``await x`` -> ``x``,
  ``AsyncIterator`` -> ``Iterator``, ``__aenter__`` -> ``__enter__``, ``aclose`` ->
  ``close``, ``AsyncPaginator`` -> ``Paginator``, ``MessageStream`` ->
  ``SyncMessageStream``...), docstrings included, and ``with anyio.CancelScope(shield=True):``
  blocks are dedented (nothing to shield without an event loop).
* Imports follow: a name from a generated module comes from its sync twin, a name from a
  hand-written I/O module (the requester, the body readers) from its hand-written sync
  twin, anything else from where the async module got it.
* What cannot be rewritten is hand-written in ``src/sluice/_sync/`` and named below:
  :data:`SKIP` leaves methods out, :data:`MIXINS` adds hand-written ones. The script
  refuses to write code that still uses ``anyio``, ``async`` or ``await``.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import difflib
import io
import re
import subprocess
import sys
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
TESTS = ROOT / "tests"

# ------------------------------------------------------------------------------ config

#: Async module -> its generated sync twin (dotted names under ``sluice``).
MODULES: dict[str, str] = {
    "_http._response": "_sync._response",
    "_http._pagination": "_sync._pagination",
    "_http._multipart": "_sync._multipart",
    "_http._stream": "_sync._stream",
    "_http._recovery": "_sync._recovery",
    "_resources._base": "_sync._base",
    "_resources._models": "_sync._models",
    "_resources._completions": "_sync._completions",
    "_resources._batches": "_sync._batches",
    "_resources._files": "_sync._files",
    "_resources._skills": "_sync._skills",
    "_resources._admin": "_sync._admin",
    "_resources._messages": "_sync._messages",
    "_client": "_sync._client",
}

#: Names of hand-written async I/O modules -> their hand-written sync twins.
HANDWRITTEN: dict[tuple[str, str], tuple[str, str]] = {
    ("sluice._http._body", "BodyIterator"): ("sluice._sync._body", "BodyIterator"),
    ("sluice._http._body", "LazyBody"): ("sluice._sync._body", "LazyBody"),
    ("sluice._http._body", "body_chunks"): ("sluice._sync._body", "body_chunks"),
    ("sluice._http._body", "release"): ("sluice._sync._body", "release"),
    ("sluice.ops._base", "aclose_upstream"): ("sluice._sync._body", "close_upstream"),
    ("sluice._http._requester", "Requester"): ("sluice._sync._requester", "Requester"),
    ("sluice._core._closing", "AsyncCloseable"): ("sluice._core._closing", "Closeable"),
}

#: Methods the sync client does not offer (``Class.method``), and why.
SKIP: dict[str, str] = {
    "MessageStream.pipe": "operators (sluice.ops) are async",
    "MessageStream.aiter_batches": "for ops.controlled, which is async",
    "RecoveringStream.pipe": "operators (sluice.ops) are async",
    "Batches.wait": "hand-written in _sync/_waiting.py (a deadline, not a cancel scope)",
    "Files.download_to": "hand-written in _sync/_saving.py (blocking file writes)",
    # The tool runner runs tools concurrently in tasks: async only. Listed ahead of its
    # merge, so an absent method is not an error.
    "Messages.run": "the tool runner is async (concurrent tools)",
}

#: Hand-written methods, as a mixin put first among a generated class's bases.
MIXINS: dict[str, tuple[str, str]] = {
    "Batches": ("sluice._sync._waiting", "BatchWaiting"),
    "Files": ("sluice._sync._saving", "FileSaving"),
}

#: Identifiers renamed everywhere in copied code, docstrings and comments included.
RENAMES: dict[str, str] = {
    "AsyncClient": "Client",
    "AsyncPaginator": "Paginator",
    "AsyncCloseable": "Closeable",
    "MessageStream": "SyncMessageStream",
    "MessageStreamManager": "SyncMessageStreamManager",
    "CompletionStream": "SyncCompletionStream",
    "CompletionStreamManager": "SyncCompletionStreamManager",
    "RecoveringStream": "SyncRecoveringStream",
    "RecoveringStreamManager": "SyncRecoveringStreamManager",
    "BatchResults": "SyncBatchResults",
    "FileDownload": "SyncFileDownload",
    "aclose_upstream": "close_upstream",
    "aclose_iterator": "close_iterator",
    "AsyncGenerator": "Generator",
    "AsyncIterator": "Iterator",
    "AsyncIterable": "Iterable",
    "AsyncByteStream": "SyncByteStream",
    "AsyncHTTPTransport": "HTTPTransport",
    "handle_async_request": "handle_request",
    "asynccontextmanager": "contextmanager",
    "aclose": "close",
    "aiter_raw": "iter_raw",
    "aiter_bytes": "iter_bytes",
    "aread": "read",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "StopAsyncIteration": "StopIteration",
    "aiter": "iter",
    "anext": "next",
}

#: Names whose presence makes a definition I/O (besides RENAMES and routed imports).
IO_NAMES = frozenset({"anyio", "Awaitable"})

#: Rewrites applied before the renames, in order: (pattern, replacement).
_NESTED = r"[^\[\]]*(?:\[[^\[\]]*(?:\[[^\[\]]*\])?[^\[\]]*\])*[^\[\]]*"
REWRITES: list[tuple[str, str]] = [
    # Types.
    (rf"\bAsyncGenerator\[({_NESTED}), None\]", r"Generator[\1, None, None]"),
    (rf"\bAwaitable\[({_NESTED})\]", r"\1"),
    # Syntax (a docstring's ``async with`` too).
    (r"\basync\s+(def|for|with)\b", r"\1"),
    (r"\bawait\s+", ""),
    # A loop that only re-yields is ``yield from`` in a generator (async ones cannot).
    (r"(?m)^( *)for (\w+) in ([\w.]+):\n\1    yield \2$", r"\1yield from \3"),
    # Blocking calls instead of worker threads.
    (r"\banyio\.to_thread\.run_sync\((\w+), ", r"\1("),
    (r"\banyio\.open_file\(", "open("),
    # Prose.
    (r"\b([Aa])n async (iterator|iterable)\b", r"\1n \2"),
    (r"\bAn async (generator|context manager|function)\b", r"A \1"),
    (r"\ban async (generator|context manager|function)\b", r"a \1"),
    (r"\basync (iterator|iterable|generator|context manager)", r"\1"),
    (r",? on asyncio and trio alike", ""),
    (r" \(plain or async\)", ""),
    (r"a plain function or an async one", "a plain function"),
    (r"the event loop finalizes", "the garbage collector finalizes"),
    (r" \(trio warns about it\)", ""),
    (r", shielded\.", "."),
    (
        r", or trio\n(\s*)# warns that it was garbage collected unfinished when we stop early\.",
        r"\n\1# (it holds the connection until then).",
    ),
]

#: Rewrites applied after the renames, where a rename went too far.
POST_REWRITES: list[tuple[str, str]] = [
    # The official SDK's sync class is called MessageStream.
    (r"official SDK's ``SyncMessageStream``", "official SDK's ``MessageStream``"),
    (
        r'"""Client for the Anthropic API\.',
        '"""Client for the Anthropic API that blocks instead of awaiting: no event loop, so it\n'
        "    works in scripts, in threads and inside Jupyter's running loop.",
    ),
]

#: Lines opening a block that is dedented away (its comment above goes too).
DEDENT = [r"with anyio\.CancelScope\(shield=True\):"]


@dataclass
class Job:
    """One async file -> its sync twin."""

    source: Path
    target: Path
    module: str  # dotted name of the async module (for imports of what is not copied)
    target_module: str  # dotted name of the sync module
    tests: bool = False
    header: str = ""
    skip: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------ test config

#: Async test modules (paths under tests/, without ``.py``), each mirrored into
#: ``tests/sync/test_sync_<name>.py``. Test modules import one another by file name (see
#: tests/conftest.py), so the generated tests import from ``test_<name>``, whatever folder.
TEST_MODULES: list[str] = [
    "resources/test_models",
    "resources/test_batches",
    "resources/test_files",
    "resources/test_skills",
    "resources/test_admin",
    "resources/test_completions",
    "test_client",
    "http/test_resilience",
    "http/test_error_responses",
    "http/test_recovery",
    "http/test_hardening_stream",
    "test_integration",
    "http/test_requester",
    "http/test_metering",
]

#: Test rewrites (after REWRITES): the anyio helpers tests use, in blocking form.
TEST_REWRITES: list[tuple[str, str]] = [
    (r"(?m)^ *@pytest\.mark\.anyio\n", ""),
    (r"(?m)^ *anyio\.lowlevel\.checkpoint\(\)\n", ""),
    (r"\banyio\.current_time\(\)", "time.monotonic()"),
    (r"\banyio\.sleep\(", "time.sleep("),
    (r"\banyio\.Path\(", "Path("),
    (r"\bwith anyio\.fail_after\([^()]*\), ", "with "),
    # The mock API runs its own event loop, in a thread.
    (r"\bwith MockAnthropic\(([^()]*)\) as ", r"with serve_in_thread(MockAnthropic(\1)) as "),
]
TEST_DEDENT = [r"with anyio\.fail_after\([^()]*\):"]

#: Test helpers hand-written for the sync tests: name -> the module under tests/sync/.
TEST_REPLACE: dict[str, str] = {"closed_port": "_sync_util", "serve_in_thread": "_sync_util"}

#: Tests not mirrored (``Class.test`` or ``test``), and why; a sync test stands in for some.
TEST_SKIP: dict[str, str] = {
    "TestWait.test_async_callback_is_awaited": "the sync client refuses async callbacks",
    "TestResults.test_cancellation_releases_the_connection": "no cancellation without a loop",
    "TestStreaming.test_cancellation_releases_connection": "no cancellation without a loop",
    "TestRateLimits.test_retry_after_holds_every_task": "tasks: tests/sync has threads",
    "TestRateLimits.test_no_429s_under_a_scripted_limit": "tasks: tests/sync has threads",
    "TestNoSecrets.test_connection_error_cause": "an anyio listener; see _sync_util",
    "TestCompressedStreams.test_inflating_chunk_yields_to_other_tasks": "no other tasks",
    "TestResults.test_abandoned_iterator_is_finalized": "an event loop's finalizer; see tests/sync",
    "TestRecovery.test_operators_compose": "operators (sluice.ops) are async",
    "TestStream.test_usage_counts_while_the_stream_is_open": "a task reads while the test looks",
    "TestRunner.test_run_usage_lands_in_the_meter": "the tool runner is async",
    "TestObservability.test_sluice_log_environment": "a subprocess, alike for both clients",
}


# ----------------------------------------------------------------------------- engine


class UnasyncError(Exception):
    """The async code cannot be rewritten as it is: hand-write the part, or SKIP it."""


def _names(node: ast.AST) -> set[str]:
    """Every identifier ``node`` uses: names, attribute names, async syntax as words."""
    found: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
        elif isinstance(child, ast.AsyncFunctionDef | ast.Await | ast.AsyncFor | ast.AsyncWith):
            found.add("async")
        elif isinstance(child, ast.comprehension) and child.is_async:
            found.add("async")
    return found


def _free(node: ast.AST) -> set[str]:
    """The names ``node`` reads but never binds (roughly: what it must import)."""
    loads: set[str] = set()
    bound: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            (loads if isinstance(child.ctx, ast.Load) else bound).add(child.id)
        elif isinstance(child, ast.arg):
            bound.add(child.arg)
        elif isinstance(child, ast.ExceptHandler) and child.name:
            bound.add(child.name)
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(child.name)
    return loads - bound


def _imported_inside(node: ast.AST) -> set[str]:
    """Names imported by ``import`` statements inside functions."""
    return {
        (alias.asname or alias.name).split(".")[0]
        for child in ast.walk(node)
        if isinstance(child, ast.Import | ast.ImportFrom)
        for alias in child.names
    }


def _defined(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def _is_typevar(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id in {"TypeVar", "ParamSpec"}
    )


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module of ``from <node.module> import ...`` written in ``module``."""
    if node.level == 0:
        assert node.module is not None
        return node.module
    package = module.split(".")[: -node.level]
    return ".".join([*package, *([node.module] if node.module else [])])


def _relative(from_module: str, to_module: str) -> str:
    """``to_module`` as a relative import from ``from_module`` (both under ``sluice``)."""
    here = from_module.split(".")[:-1]
    there = to_module.split(".")
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    dots = "." * (len(here) - common + 1)
    return dots + ".".join(there[common:])


def _rename(text: str, renames: dict[str, str]) -> str:
    if not renames:
        return text
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, renames)) + r")\b")
    return pattern.sub(lambda m: renames[m.group(1)], text)


def _rewrite(text: str, rewrites: Iterable[tuple[str, str]]) -> str:
    for pattern, replacement in rewrites:
        text = re.sub(pattern, replacement, text)
    return text


def _dedent_blocks(lines: list[str], patterns: list[str]) -> list[str]:
    """Remove each line matching ``patterns`` (a ``with`` opening a block), dedent its
    block by four spaces, and drop the comment lines right above it."""
    opener = re.compile(r"^(\s*)(?:" + "|".join(patterns) + r")\s*$")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = opener.match(line)
        if match is None:
            out.append(line)
            index += 1
            continue
        indent = len(match.group(1))
        while out and out[-1].strip().startswith("#") and _indent(out[-1]) == indent:
            out.pop()
        index += 1
        while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > indent):
            body = lines[index]
            out.append(body[4:] if body.strip() else body)
            index += 1
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _segment(lines: list[str], node: ast.stmt) -> tuple[int, int]:
    """0-based ``[start, end)`` of ``node`` with its decorators and the comments above."""
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    assert node.end_lineno is not None
    return start, node.end_lineno


def _remove_methods(
    lines: list[str], node: ast.ClassDef, offset: int, names: set[str], keep_tests: bool
) -> tuple[list[str], set[str]]:
    """The class's source lines without the methods in ``names`` (and, for tests, without
    the test methods that do no I/O); returns the lines and the names removed."""
    drop: list[tuple[int, int]] = []
    removed: set[str] = set()
    for item in node.body:
        if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        pure_test = (
            keep_tests and item.name.startswith("test") and isinstance(item, ast.FunctionDef)
        )
        if item.name in names or (pure_test and not _names(item) & _MARKERS):
            start, end = _segment(lines, item)
            if start > 0 and not lines[start - 1].strip():
                start -= 1
            drop.append((start - offset, end - offset))
            removed.add(item.name)
    segment = lines[offset : node.end_lineno]
    for start, end in sorted(drop, reverse=True):
        del segment[start:end]
    return segment, removed


_MARKERS = frozenset({"async", *RENAMES, *IO_NAMES})

# isort order, as ruff applies it: CONSTANTS, Classes, variables; case-insensitive.


def _member_key(name: str) -> tuple[int, str]:
    if len(name) > 1 and name.isupper():
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, name.lower()


def _section(module: str) -> int:
    if module == "__future__":
        return 0
    if module.startswith("."):
        return 4
    top = module.split(".")[0]
    if top in sys.stdlib_module_names:
        return 1
    # First-party as ruff sees it (``src = ["src", "tests"]``): sluice and the modules at
    # the top of tests/; the modules in its folders sort as third-party.
    if top == "sluice" or (TESTS / f"{top}.py").exists():
        return 3
    return 2


def _import_lines(
    plain: set[str], members: dict[str, set[str]], line_length: int = 100
) -> list[str]:
    sections: dict[int, list[str]] = {}
    for module in sorted(plain, key=str.lower):
        sections.setdefault(_section(module), []).append(f"import {module}")

    def module_key(module: str) -> tuple[int, str]:
        dots = len(module) - len(module.lstrip("."))
        return -dots, module.lstrip(".").lower()

    for module in sorted(members, key=module_key):
        names = sorted(members[module], key=_member_key)
        one = f"from {module} import {', '.join(names)}"
        if len(one) <= line_length:
            text = one
        else:
            text = f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"
        sections.setdefault(_section(module), []).append(text)
    out: list[str] = []
    for key in sorted(sections):
        if out:
            out.append("")
        out.extend(sections[key])
    return out


def generate(job: Job, copied_names: dict[str, set[str]]) -> str:
    """The sync twin of ``job.source``; records its copied names in ``copied_names``."""
    text = job.source.read_text()
    tree = ast.parse(text)
    lines = text.split("\n")
    module = job.module

    # 1. Where each imported name comes from, async side.
    imports: dict[str, tuple[str, str]] = {}  # local name -> (module, name)
    plain_imports: set[str] = set()
    aliased: dict[str, str] = {}  # local name -> "module as name"
    defs: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            for alias in node.names:
                imports[alias.asname or alias.name] = (source, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname is None:
                    plain_imports.add(alias.name)
                else:
                    # ``import sluice._resources._files as m`` in a test: the sync module.
                    target = alias.name
                    if job.tests and target.removeprefix("sluice.") in MODULES:
                        target = "sluice." + MODULES[target.removeprefix("sluice.")]
                    aliased[alias.asname] = f"{target} as {alias.asname}"
        elif _defined(node) and _defined(node) != ["__all__"]:
            defs.append(node)

    def routed(local: str) -> bool:
        origin = imports.get(local)
        if origin is None:
            return False
        if origin in HANDWRITTEN:
            return True
        source, name = origin
        return name in copied_names.get(source, set())

    # 2. Which definitions do I/O: a fixpoint over the module's definitions.
    copied: set[str] = set()
    used = {id(node): _names(node) for node in defs}
    changed = True
    while changed:
        changed = False
        for node in defs:
            names = _defined(node)
            if set(names) <= copied:
                continue
            if job.tests and (names == ["pytestmark"] or names[0] in TEST_REPLACE):
                continue
            uses = used[id(node)]
            # A test module's fixtures are found by name, not by reference: copy them all.
            fixture = isinstance(node, ast.FunctionDef) and any(
                "fixture" in ast.unparse(d) for d in node.decorator_list
            )
            if (
                (job.tests and fixture)
                or uses & _MARKERS
                or uses & copied
                or any(routed(name) for name in uses)
            ):
                copied.update(names)
                changed = True
    # TypeVars the copied code uses are copied too (not imported).
    for node in defs:
        if _is_typevar(node) and any(
            _defined(node)[0] in used[id(other)] for other in defs if set(_defined(other)) & copied
        ):
            copied.update(_defined(node))
    copied_names[module] = copied

    # 3. The copied source, rewritten.
    pieces: list[str] = []
    for node in defs:
        names = _defined(node)
        if not set(names) & copied:
            continue
        start, end = _segment(lines, node)
        if isinstance(node, ast.ClassDef):
            skip = {m.split(".", 1)[1] for m in job.skip if m.split(".", 1)[0] == node.name}
            body, removed = _remove_methods(lines, node, start, skip, job.tests)
            if (
                job.tests
                and node.name.startswith("Test")
                and not any(
                    isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    and item.name.startswith("test")
                    and item.name not in removed
                    for item in node.body
                )
            ):
                copied.discard(node.name)
                continue
            if node.name in MIXINS and not job.tests:
                body = [
                    re.sub(r"^class (\w+)\(", rf"class \1({MIXINS[node.name][1]}, ", body[0])
                    if i == 0
                    else line
                    for i, line in enumerate(body)
                ]
        else:
            if job.tests and names[0] in job.skip:
                copied.discard(names[0])
                continue
            body = lines[start:end]
        pieces.append(_transform("\n".join(body), job))
    problems = [problem for piece in pieces for problem in _check(piece)]
    if problems:
        raise UnasyncError(
            f"{job.source}: cannot unasync (hand-write it with MIXINS, or leave it out with "
            "SKIP, in scripts/unasync.py):\n" + "\n".join(problems)
        )
    code = "\n\n\n".join(pieces)

    # 4. Imports for what the copied code uses.
    generated = ast.parse(code)
    wanted = _free(generated)
    local = {name for node in generated.body for name in _defined(node)}
    members: dict[str, set[str]] = {}
    plain: set[str] = set()
    sync_imports: dict[str, tuple[str, str]] = {}
    for local_name, (source, name) in imports.items():
        if (source, name) in HANDWRITTEN:
            target, target_name = HANDWRITTEN[(source, name)]
        elif name in copied_names.get(source, set()):
            target, target_name = f"sluice.{MODULES[source.removeprefix('sluice.')]}", name
            target_name = RENAMES.get(target_name, target_name)
        else:
            target, target_name = source, RENAMES.get(name, name)
        sync_imports[RENAMES.get(local_name, local_name)] = (target, target_name)
    for node in defs:
        for name in _defined(node):
            if name not in copied:
                sync_imports.setdefault(name, (module, name))
    for mixin_module, mixin in MIXINS.values():
        sync_imports[mixin] = (mixin_module, mixin)
    if job.tests:
        sync_imports.setdefault("time", ("", "time"))
        for name, helper in TEST_REPLACE.items():
            sync_imports[name] = (helper, name)
    for name in sorted(wanted - local - set(dir(builtins))):
        if name in sync_imports:
            source, original = sync_imports[name]
            if source == "":
                plain.add(original)
                continue
            if source.startswith("sluice.") and not job.tests:
                source = _relative(job.target_module, source)
            members.setdefault(source, set()).add(
                original if original == name else f"{original} as {name}"
            )
        elif name in aliased:
            plain.add(aliased[name])
        elif any(name == p or p.startswith(name + ".") for p in plain_imports):
            plain.update(p for p in plain_imports if p == name or p.startswith(name + "."))
        elif name not in _imported_inside(generated):
            raise UnasyncError(f"{job.source}: no import for {name!r} in the generated code")
    header = "from __future__ import annotations\n\n" + "\n".join(_import_lines(plain, members))
    exported = _exported(tree)
    public = sorted(
        (
            RENAMES.get(n, n)
            for n in copied
            if not job.tests and (n in exported if exported is not None else not n.startswith("_"))
        ),
        key=str.lower,
    )
    parts = [job.header.rstrip("\n"), header]
    if public:
        parts.append("__all__ = [" + ", ".join(f'"{n}"' for n in public) + "]")
    parts.append(code)
    out = "\n\n".join(parts[:-1]) + "\n\n\n" + parts[-1].rstrip("\n") + "\n"
    # __all__ on one line if it fits, else one name a line.
    out = re.sub(
        r"^__all__ = \[(.*)\]$",
        lambda m: (
            m.group(0)
            if len(m.group(0)) <= 100
            else "__all__ = [\n"
            + "".join(f"    {n.strip()},\n" for n in m.group(1).split(","))
            + "]"
        ),
        out,
        flags=re.M,
    )
    return out


def _exported(tree: ast.Module) -> set[str] | None:
    """The names in the module's ``__all__``, if it has one."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and _defined(node) == ["__all__"]:
            return set(ast.literal_eval(node.value))
    return None


def _transform(code: str, job: Job) -> str:
    """Copied async source -> blocking source."""
    code = "\n".join(_dedent_blocks(code.split("\n"), DEDENT + (TEST_DEDENT if job.tests else [])))
    code = _rewrite(code, REWRITES)
    if job.tests:
        code = _rewrite(code, TEST_REWRITES)
    code = _rename(code, RENAMES)
    code = _rewrite(code, POST_REWRITES)
    return code  # laid out by ruff format (_formatted)


_LEFTOVERS = frozenset({"async", "await", "anyio", *RENAMES})


def _check(code: str) -> list[str]:
    """What in ``code`` still does async I/O (a NAME token left over), by definition."""
    tree = ast.parse(code)
    scopes = [
        (node.lineno, node.end_lineno or node.lineno, name)
        for top in tree.body
        for node, name in [(top, getattr(top, "name", "?"))]
        + [
            (item, f"{getattr(top, 'name', '?')}.{item.name}")
            for item in getattr(top, "body", [])
            if isinstance(item, ast.FunctionDef)
        ]
    ]
    problems: dict[str, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.NAME and token.string in _LEFTOVERS:
            row = token.start[0]
            inner = [s for s in scopes if s[0] <= row <= s[1]]
            where = min(inner, key=lambda s: s[1] - s[0])[2] if inner else "?"
            line = code.split("\n")[row - 1].strip()
            problems.setdefault(where, f"  {where}: {line!r} ({token.string!r})")
    return list(problems.values())


_SRC_HEADER = '''"""Synchronous twin of ``sluice.{module}``, generated by ``scripts/unasync.py``.

Do not edit: change the async module and run ``make unasync`` (``tests/test_unasync.py``
fails while this file is stale). The async module's docstring tells what this code does.
"""
'''

_TEST_HEADER = '''"""``tests/{name}`` for ``sluice.Client``,
generated by ``scripts/unasync.py``.

Do not edit: change the async tests and run ``make unasync``.
"""
'''


def jobs() -> list[Job]:
    found = []
    for module, target in MODULES.items():
        found.append(
            Job(
                source=SRC / "sluice" / (module.replace(".", "/") + ".py"),
                target=SRC / "sluice" / (target.replace(".", "/") + ".py"),
                module=f"sluice.{module}",
                target_module=f"sluice.{target}",
                header=_SRC_HEADER.format(module=module),
                skip=SKIP,
            )
        )
    for path in TEST_MODULES:
        name = path.rpartition("/")[2]
        found.append(
            Job(
                source=TESTS / f"{path}.py",
                target=TESTS / "sync" / f"test_sync_{name.removeprefix('test_')}.py",
                module=name,
                target_module=name,
                tests=True,
                header=_TEST_HEADER.format(name=f"{path}.py"),
                skip=TEST_SKIP,
            )
        )
    return found


def run(check: bool) -> int:
    copied: dict[str, set[str]] = {}
    stale = 0
    outputs: dict[Path, str] = {}
    errors = []
    for job in jobs():
        try:
            outputs[job.target] = generate(job, copied)
        except UnasyncError as exc:
            errors.append(str(exc))
    if errors:
        raise UnasyncError("\n".join(errors))
    unused = [m for m in SKIP if m != "Messages.run" and not _skip_found(m)]
    if unused:
        raise UnasyncError(f"SKIP names methods that do not exist: {unused}")
    for path, text in outputs.items():
        text = _formatted(path, text)
        old = path.read_text() if path.exists() else ""
        if old == text:
            continue
        stale += 1
        if check:
            sys.stdout.writelines(
                difflib.unified_diff(
                    old.splitlines(True), text.splitlines(True), str(path), "generated"
                )
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 1 if check and stale else 0


def _formatted(path: Path, text: str) -> str:
    """``text`` as ``ruff format`` lays it out (the project's settings), so generated
    files pass ``ruff format --check`` like the rest of the tree."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(path), "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise UnasyncError(f"ruff format failed on the generated {path}: {result.stderr}")
    return result.stdout


def _skip_found(method: str) -> bool:
    cls, name = method.split(".", 1)
    for module in MODULES:
        tree = ast.parse((SRC / "sluice" / (module.replace(".", "/") + ".py")).read_text())
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name == cls:
                return any(getattr(item, "name", None) == name for item in node.body)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args()
    return run(args.check)


if __name__ == "__main__":
    sys.exit(main())
