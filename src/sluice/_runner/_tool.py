"""``@sluice.tool``: a Python function the runner calls for the model.

The decorator derives the tool's definition once, from the function itself (see
:mod:`sluice._core._tool_schema`): the JSON schema of its parameters, the description and
the parameter descriptions of its docstring. At run time the model's input is checked
against the parameters (``msgspec.convert``) before the function is called, so the
function gets the Python values its annotations promise (a nested ``msgspec.Struct``
arrives as that Struct). Async functions are awaited; synchronous ones run in a worker
thread (``anyio.to_thread.run_sync``). Nothing can interrupt a thread, so the run does not
wait for one past the call's timeout or the run's cancellation: it abandons the thread
(``abandon_on_cancel=True``), answers the call with the timeout error (or as cancelled) on
time and goes on, while the function runs to its end in the background and its return
value is discarded. Waiting instead would let one blocking call hold up the whole run, and
the block that leaves it, for as long as the call takes. An abandoned thread no longer
holds its call's ``max_concurrency`` slot. A synchronous tool that should stop early polls
``anyio.from_thread.check_cancelled()``, which raises once its call has timed out or the
run was cancelled; long tools are best written async.

A *streaming* tool (``@sluice.tool(streaming=True)``) takes one parameter, a
:class:`PartialInput`, and is called as soon as its ``tool_use`` block starts: it reads
the input as the model writes it (an async iterator of the parsed partial input), then
the whole, validated input. Its timeout counts from when the input is complete, as for
any tool: the model's writing time is not the tool's.
"""

from __future__ import annotations

import functools
import inspect
import sys
import typing
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Generic, ParamSpec, TypeVar, overload

import anyio
import msgspec

from .._core._tool_calls import ToolCallDelta
from .._core._tool_schema import (
    documented,
    hinted,
    input_spec,
    is_async_callable,
    named,
    parse_docstring,
    struct_schema,
)

__all__ = ["FunctionTool", "PartialInput", "tool"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class PartialInput(Generic[T], AsyncIterator[dict[str, Any]]):
    """What a streaming tool receives: its input as the model writes it, then whole.

    Iterating yields the input parsed so far, a ``dict`` that grows (strings appear and
    lengthen, numbers and ``true``/``false``/``null`` appear once complete, members in
    order), each time it changed; the last item is the complete input, and then the
    iteration ends. A slow reader loses nothing: it gets the newest state, which contains
    everything before it. The ``dict`` is the parser's live value, updated in place: copy
    it (``copy.deepcopy``) to keep a snapshot.

    After the iteration, :attr:`value` is the input checked against the tool's type
    (``T``: the ``msgspec.Struct`` of the annotation ``PartialInput[T]``, or a ``dict``).
    If the complete input does not match it, the tool is cancelled and the model is told
    why, as for any tool.

    Example::

        class WriteFile(msgspec.Struct):
            path: str
            content: str

        @sluice.tool(streaming=True)
        async def write_file(args: sluice.types.PartialInput[WriteFile]) -> str:
            \"\"\"Write a text file.\"\"\"
            written = 0
            async with await anyio.open_file(tmp, "w") as out:
                async for partial in args:
                    content = partial.get("content", "")
                    await out.write(content[written:])
                    written = len(content)
            return f"wrote {args.value.path}"
    """

    __slots__ = (
        "_changed",
        "_delta",
        "_done",
        "_final",
        "_seen",
        "_value",
        "_version",
        "id",
        "name",
    )

    def __init__(self, *, id: str, name: str) -> None:
        #: The ``tool_use`` id of the call.
        self.id = id
        #: The tool's name.
        self.name = name
        self._delta: ToolCallDelta | None = None
        self._version = 0
        self._seen = 0
        self._done = False
        self._final: Any = None
        self._value: Any = None
        self._changed: anyio.Event | None = None

    def __repr__(self) -> str:
        state = "complete" if self._done else f"{self._version} updates"
        return f"<PartialInput {self.name} {self.id} {state}>"

    @property
    def done(self) -> bool:
        """Whether the input is complete (and checked)."""
        return self._done

    @property
    def value(self) -> T:
        """The complete input, checked against the tool's input type.

        Raises:
            RuntimeError: the input is not complete yet (read it after the iteration).
        """
        if not self._done:
            raise RuntimeError(
                f"the input of {self.name} ({self.id}) is not complete yet: read "
                "PartialInput.value after iterating it"
            )
        return typing.cast(T, self._value)

    def __aiter__(self) -> PartialInput[T]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while True:
            if self._seen != self._version:
                self._seen = self._version
                if self._done:
                    return typing.cast(dict[str, Any], self._final)
                assert self._delta is not None
                if not self._delta.truncated:
                    return typing.cast(dict[str, Any], self._delta.partial_input)
                # Cut off by max_tokens: what is left would show the unfinished value
                # gone. Nothing more comes; the runner cancels the call.
            if self._done:
                raise StopAsyncIteration
            self._changed = changed = anyio.Event()
            await changed.wait()

    # -- fed by the runner

    def _update(self, delta: ToolCallDelta) -> None:
        """A fragment of the input arrived; wake the reader if it changed anything."""
        self._delta = delta
        if delta.changes:
            self._bump()

    def _finish(self, final: Any, value: Any) -> None:
        """The input is complete: ``final`` as JSON values, ``value`` checked."""
        self._final = final
        self._value = value
        self._done = True
        self._bump()

    def _bump(self) -> None:
        self._version += 1
        if self._changed is not None:
            self._changed.set()


class FunctionTool(Generic[P, R]):
    """A function made into a tool by :func:`tool`; still callable as the function.

    Attributes:
        name: the tool's name.
        description: what the model reads about it.
        input_schema: the JSON schema of its input.
        streaming: whether it reads its input as it streams (see :class:`PartialInput`).
        sequential: whether it runs alone: after every call before it in the message
            has finished, and before any call after it starts.
        timeout: seconds it may run before its call is cancelled and answered with an
            error (``None``: the run's ``tool_timeout``); for a streaming tool, counted
            from when its input is complete.
        function: the decorated function.
    """

    def __init__(
        self,
        function: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        input_schema: Mapping[str, Any] | None = None,
        streaming: bool = False,
        sequential: bool = False,
        timeout: float | None = None,
        extra: Mapping[str, Any] | None = None,
        localns: Mapping[str, Any] | None = None,
    ) -> None:
        if not callable(function):
            raise TypeError(f"@sluice.tool needs a function, got {type(function).__name__}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.function = function
        self.name: str = name or named(function)
        self.streaming = streaming
        self.sequential = sequential
        self.timeout = timeout
        self._extra = dict(extra or {})
        self._is_async = is_async_callable(function)
        self._partial_type: Any = None
        if streaming:
            self._check_streaming(function)
            schema, docs = self._streaming_schema(function, input_schema, localns)
        else:
            spec = input_spec(function, self.name, localns=localns)
            self._input_type = spec.input_type
            self._positional = spec.positional
            self._free_keywords = spec.free_keywords
            schema, docs = spec.schema, spec.description
        if input_schema is not None:
            schema = dict(input_schema)
        self.input_schema: dict[str, Any] = schema
        self.description: str = description if description is not None else docs
        functools.update_wrapper(self, function)

    def __repr__(self) -> str:
        kind = "streaming " if self.streaming else ""
        return f"<{kind}tool {self.name}>"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    @property
    def definition(self) -> dict[str, Any]:
        """The tool as the request's ``tools`` entry: name, description, input_schema and
        any ``extra`` fields."""
        definition: dict[str, Any] = {"name": self.name}
        if self.description:
            definition["description"] = self.description
        definition["input_schema"] = self.input_schema
        definition.update(self._extra)
        return definition

    # ------------------------------------------------------------------------- running

    def validate(self, input: Any) -> Any:
        """The model's ``input`` checked against the parameters, as the call's arguments.

        Raises:
            msgspec.ValidationError: it does not match; the message says where and why.
        """
        if self.streaming:
            if self._partial_type is None:
                if not isinstance(input, dict):
                    raise msgspec.ValidationError(f"Expected `object`, got `{_json_type(input)}`")
                return input
            return msgspec.convert(input, self._partial_type)
        value = msgspec.convert(input, self._input_type)
        if not self._free_keywords:
            return value
        # **kwargs: the named parameters are checked, the other members passed as they are.
        named = self._input_type.__struct_fields__
        return value, {key: item for key, item in input.items() if key not in named}

    async def invoke(self, arguments: Any, partial: PartialInput[Any] | None = None) -> Any:
        """Call the function with validated ``arguments`` (or, streaming, with ``partial``)."""
        function: Any = self.function
        if self.streaming:
            assert partial is not None
            return await function(partial)
        extra: dict[str, Any] = {}
        if self._free_keywords:
            arguments, extra = arguments
        values = {field: getattr(arguments, field) for field in arguments.__struct_fields__}
        args = tuple(values.pop(field) for field in self._positional)
        kwargs = {**values, **extra}
        if self._is_async:
            return await function(*args, **kwargs)
        call = functools.partial(function, *args, **kwargs)
        # Abandoned on cancellation (a timeout, the run cancelled): see the module docstring.
        return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)

    # ---------------------------------------------------------------------- streaming

    def _check_streaming(self, function: Callable[..., Any]) -> None:
        if not self._is_async:
            raise TypeError(
                f"streaming tool {self.name!r} must be an async function: it reads its "
                "input with `async for`"
            )
        params = list(inspect.signature(function).parameters.values())
        if len(params) != 1 or params[0].kind not in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            raise TypeError(
                f"streaming tool {self.name!r} takes exactly one parameter, its "
                "PartialInput, e.g. `async def {self.name}(args: PartialInput[Args])`"
            )

    def _streaming_schema(
        self,
        function: Callable[..., Any],
        input_schema: Mapping[str, Any] | None,
        localns: Mapping[str, Any] | None,
    ) -> tuple[dict[str, Any], str]:
        description, _ = parse_docstring(documented(function))
        hints = typing.get_type_hints(hinted(function), localns=dict(localns or {}))
        (param,) = inspect.signature(function).parameters
        hint = hints.get(param)
        args = typing.get_args(hint) if typing.get_origin(hint) is PartialInput else ()
        item = args[0] if args else None
        if isinstance(item, type) and issubclass(item, msgspec.Struct):
            self._partial_type = item
            schema = struct_schema(item)
            if not description and item.__doc__:
                description = inspect.cleandoc(item.__doc__)
            return schema, description
        if input_schema is None:
            raise TypeError(
                f"streaming tool {self.name!r}: annotate its parameter PartialInput[S] with a "
                "msgspec.Struct S, or pass input_schema="
            )
        return dict(input_schema), description


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "null"
    return type(value).__name__


@overload
def tool(function: Callable[P, R], /) -> FunctionTool[P, R]: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    input_schema: Mapping[str, Any] | None = None,
    streaming: bool = False,
    sequential: bool = False,
    timeout: float | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Callable[[Callable[P, R]], FunctionTool[P, R]]: ...


def tool(
    function: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    input_schema: Mapping[str, Any] | None = None,
    streaming: bool = False,
    sequential: bool = False,
    timeout: float | None = None,
    extra: Mapping[str, Any] | None = None,
) -> FunctionTool[P, R] | Callable[[Callable[P, R]], FunctionTool[P, R]]:
    """Make a function a tool for ``client.messages.run(tools=[...])``.

    Use bare (``@sluice.tool``) or with options (``@sluice.tool(timeout=10)``). The
    function may be sync or async; the decorated object still calls it directly.

    The definition is derived from the function: the ``input_schema`` from its
    parameters (Python types, ``msgspec.Struct``\\ s, ``Literal``, ``Annotated[...,
    msgspec.Meta(...)]`` constraints and descriptions, defaults), the description from
    its docstring's text and each parameter's description from its ``Args:`` section
    (Google, NumPy and Sphinx styles are read). At run time the model's input is checked
    against the parameters before the call; a mismatch goes back to the model as an
    error result that says what was wrong.

    Example::

        @sluice.tool
        async def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
            \"\"\"Current weather for a city.

            Args:
                city: The city name.
                unit: Temperature unit.
            \"\"\"
            return f"18 degrees {unit} in {city}"

    Args:
        function: the function (when used bare).
        name: the tool's name; defaults to the function's ``__name__``.
        description: overrides the docstring's description.
        input_schema: overrides the derived schema (the model sees this one; the input is
            still checked against the named parameters; a function with ``**kwargs`` gets
            the other members of the input as keyword arguments).
        streaming: call the tool when its block starts, with a :class:`PartialInput` of its
            input as it streams (its one parameter).
        sequential: run it alone: after every call before it in the message has finished,
            and before any call after it starts.
        timeout: seconds before the call is cancelled and answered with an error (a
            synchronous function's thread is abandoned then, see the module docs). A
            streaming tool's clock starts when its input is complete, not when it is
            called: how long the model takes to write the input does not count.
        extra: more fields of the definition (``cache_control``, ``strict``,
            ``eager_input_streaming``...).

    Returns:
        a :class:`FunctionTool` (or, with options, a decorator making one).

    Raises:
        TypeError: a parameter cannot come from JSON (``*args``, a type without a JSON
            schema), or a streaming tool is not ``async def f(args: PartialInput[...])``.
    """

    def decorate(
        fn: Callable[P, R], localns: Mapping[str, Any] | None = None
    ) -> FunctionTool[P, R]:
        if localns is None:
            # The scope the function is defined in resolves its string annotations (a
            # Struct defined inside a function, under `from __future__ import annotations`).
            localns = sys._getframe(1).f_locals
        return FunctionTool(
            fn,
            name=name,
            description=description,
            input_schema=input_schema,
            streaming=streaming,
            sequential=sequential,
            timeout=timeout,
            extra=extra,
            localns=localns,
        )

    if function is not None:
        return decorate(function, sys._getframe(1).f_locals)
    return decorate
