"""sluice.relay's surface: pinned, documented, optional (``import sluice`` never loads it)."""

from __future__ import annotations

import ast
import inspect
import pickle
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import sluice
import sluice.relay as relay

SRC = Path(sluice.__file__).resolve().parent

PUBLIC = {
    "RUN_EVENTS",
    "TERMINAL_EVENTS",
    "ChatExistsError",
    "ChatInfo",
    "ChatNotFoundError",
    "ChatState",
    "Entry",
    "Format",
    "InvalidChatIdError",
    "InvalidPositionError",
    "MemoryStore",
    "Outcome",
    "RedisError",
    "RedisProtocolError",
    "RedisStore",
    "RedisTimeoutError",
    "Relay",
    "RelayError",
    "Store",
    "StoreFullError",
    "StreamSource",
    "VercelEncoder",
    "bind",
    "browser_params",
    "create_app",
    "ends_log",
    "error_data",
    "finish_reason",
    "new_chat_id",
    "parse_position",
    "serve",
    "serve_websocket",
    "sse_frame",
    "sse_response",
    "validate_chat_id",
    "write_stream",
    "ws_message",
}


class TestSurface:
    def test_all_is_pinned_and_sorted(self) -> None:
        """__all__ is exactly the pinned set, sorted, and every name resolves."""
        assert set(relay.__all__) == PUBLIC
        assert relay.__all__ == sorted(relay.__all__, key=lambda n: (not n.isupper(), n))
        assert all(hasattr(relay, name) for name in relay.__all__)

    def test_every_class_and_function_is_documented(self) -> None:
        """Exported classes and functions, and their public methods, are documented."""
        for name in relay.__all__:
            obj = getattr(relay, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                assert obj.__doc__, name
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(member):
                        # An override may inherit its base's docstring.
                        assert inspect.getdoc(getattr(obj, attr)), f"{name}.{attr}"

    def test_errors_are_sluice_errors(self) -> None:
        """Every relay error is a sluice.SluiceError, exported, and pickles with its message."""
        errors = [
            obj
            for obj in vars(relay).values()
            if inspect.isclass(obj) and issubclass(obj, BaseException)
        ]
        assert set(errors) == {
            relay.RelayError,
            relay.ChatNotFoundError,
            relay.ChatExistsError,
            relay.StoreFullError,
            relay.InvalidChatIdError,
            relay.InvalidPositionError,
            relay.RedisError,
            relay.RedisProtocolError,
            relay.RedisTimeoutError,
        }
        for error in errors:
            assert issubclass(error, sluice.SluiceError)
            assert error.__name__ in relay.__all__
            copy = pickle.loads(pickle.dumps(error("what happened")))
            assert type(copy) is error and str(copy) == "what happened"

    def test_error_families(self) -> None:
        """Malformed input is also a ValueError, a Redis timeout also a TimeoutError."""
        assert issubclass(relay.InvalidChatIdError, relay.RelayError)
        assert issubclass(relay.InvalidChatIdError, ValueError)
        assert issubclass(relay.InvalidPositionError, relay.RelayError)
        assert issubclass(relay.InvalidPositionError, ValueError)
        assert issubclass(relay.RedisProtocolError, relay.RedisError)
        assert issubclass(relay.RedisTimeoutError, relay.RedisError)
        assert issubclass(relay.RedisTimeoutError, TimeoutError)


class TestOptional:
    def test_the_relay_extra_brings_both_backends(self) -> None:
        """`pip install 'sluice[relay]'` is enough for --backend asyncio and --backend trio."""
        extras = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text())["project"][
            "optional-dependencies"
        ]
        names = {re.split(r"[<>=\[ ]", spec, maxsplit=1)[0] for spec in extras["relay"]}
        assert {"starlette", "uvicorn", "hypercorn", "trio"} <= names

    def test_import_sluice_does_not_import_the_relay(self) -> None:
        """`import sluice` (and `python -m sluice replay`) load neither sluice.relay nor Starlette."""
        code = (
            "import sys, sluice, sluice.ops, sluice.testing, sluice.__main__; "
            "bad = [m for m in ('sluice.relay', 'starlette', 'uvicorn', 'hypercorn') if m in sys.modules]; "
            "assert not bad, bad"
        )
        subprocess.run([sys.executable, "-c", code], check=True)

    def test_nothing_below_the_relay_imports_it(self) -> None:
        """Only sluice/__main__.py mentions sluice.relay, and only inside a function (lazily)."""
        for path in SRC.rglob("*.py"):
            if "relay" in path.relative_to(SRC).parts:
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and "relay" in node.module:
                    assert path.name == "__main__.py", path
                    assert node.col_offset > 0, "__main__ imports the relay lazily"

    def test_the_relay_imports_only_downward(self) -> None:
        """relay/ imports sluice's layers below it, never __main__."""
        for path in (SRC / "relay").glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.level == 2:
                    assert node.module != "__main__", path


class TestInputErrors:
    def test_validate_chat_id(self) -> None:
        """A malformed chat id raises InvalidChatIdError saying what a chat id is."""
        assert relay.validate_chat_id("a-Z_9") == "a-Z_9"
        for bad in ("", "a/b", "x" * 129, "é"):
            try:
                relay.validate_chat_id(bad)
            except relay.InvalidChatIdError as exc:
                assert "1-128 characters" in str(exc)
            else:
                raise AssertionError(f"{bad!r} was accepted")

    def test_parse_position(self) -> None:
        """A malformed position raises InvalidPositionError; empty or missing is 0."""
        assert relay.parse_position(None) == relay.parse_position(" ") == 0
        assert relay.parse_position(" 12 ") == 12
        for bad in ("-1", "1.5", "x", "9" * 19):
            try:
                relay.parse_position(bad)
            except relay.InvalidPositionError as exc:
                assert "non-negative integer" in str(exc)
            else:
                raise AssertionError(f"{bad!r} was accepted")
