"""@sluice.tool: the definition from the signature and docstring, input checks, calling."""

from __future__ import annotations

import datetime
import functools
import threading
from typing import Annotated, Any, Literal

import msgspec
import pytest

import sluice
from sluice.types import FunctionTool, PartialInput


class Place(msgspec.Struct):
    """A place on Earth."""

    lat: float
    lon: float


@sluice.tool
async def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """Current weather for a city.

    Args:
        city: The city name.
        unit: Temperature unit.
    """
    return f"18 {unit} in {city}"


class TestDefinition:
    def test_issue_example(self) -> None:
        """The issue's get_weather: schema from the signature, texts from the docstring."""
        assert isinstance(get_weather, FunctionTool)
        assert get_weather.definition == {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "input_schema": {
                "type": "object",
                "properties": {
                    "city": {"description": "The city name.", "type": "string"},
                    "unit": {
                        "description": "Temperature unit.",
                        "enum": ["c", "f"],
                        "default": "c",
                    },
                },
                "required": ["city"],
            },
        }

    def test_structs_constraints_and_defaults(self) -> None:
        """Structs become $defs, Annotated Meta constraints and descriptions are kept."""

        @sluice.tool
        def plan(
            where: Place,
            days: Annotated[int, msgspec.Meta(ge=1, le=14, description="How many days")] = 3,
            start: datetime.date | None = None,
            tags: list[str] = ["trip"],  # noqa: B006 - a default the schema must show
        ) -> str:
            """Plan a trip.

            Args:
                where: Where to go.
                days: overridden by Meta's description.
            """
            return ""

        schema = plan.input_schema
        assert schema["required"] == ["where"]
        assert schema["properties"]["where"] == {
            "description": "Where to go.",
            "$ref": "#/$defs/Place",
        }
        assert schema["properties"]["days"] == {
            "description": "How many days",
            "type": "integer",
            "minimum": 1,
            "maximum": 14,
            "default": 3,
        }
        assert schema["properties"]["start"]["anyOf"][0] == {"type": "string", "format": "date"}
        assert schema["$defs"]["Place"]["required"] == ["lat", "lon"]

    def test_overrides(self) -> None:
        """name=, description= and input_schema= replace what is derived."""
        raw = {"type": "object", "properties": {"q": {"type": "string"}}}

        @sluice.tool(
            name="search_web", description="Search.", input_schema=raw, extra={"strict": True}
        )
        async def search(q: str) -> str:
            """Ignored."""
            return q

        assert search.definition == {
            "name": "search_web",
            "description": "Search.",
            "input_schema": raw,
            "strict": True,
        }

    @pytest.mark.parametrize(
        "doc",
        [
            "Add.\n\n:param a: first\n:param int b: second\n:returns: the sum\n",
            "Add.\n\nParameters\n----------\na : int\n    first\nb : int\n    second\n",
            "Add.\n\nArgs:\n    a (int): first\n    b: second\n\nReturns:\n    the sum\n",
        ],
        ids=["sphinx", "numpy", "google"],
    )
    def test_docstring_styles(self, doc: str) -> None:
        """Google, NumPy and Sphinx parameter sections are all read."""

        def add(a: int, b: int) -> int:
            return a + b

        add.__doc__ = doc
        made = sluice.tool(add)
        assert made.description == "Add."
        props = made.input_schema["properties"]
        assert (props["a"]["description"], props["b"]["description"]) == ("first", "second")

    def test_still_callable_directly(self) -> None:
        """The decorated function still works as the function."""

        @sluice.tool
        def double(x: int) -> int:
            """Double it."""
            return 2 * x

        assert double(4) == 8 and double.__name__ == "double" and double.__doc__ == "Double it."

    def test_bad_signatures_are_refused(self) -> None:
        """*args, a streaming tool that is sync or lacks PartialInput[Struct], are refused."""
        with pytest.raises(TypeError, match=r"\*args"):
            sluice.tool(lambda *args: None)

        def sync(args: PartialInput[Place]) -> None: ...

        with pytest.raises(TypeError, match="async"):
            sluice.tool(streaming=True)(sync)

        async def untyped(args: Any) -> None: ...

        with pytest.raises(TypeError, match="PartialInput"):
            sluice.tool(streaming=True)(untyped)
        with pytest.raises(ValueError, match="timeout"):
            sluice.tool(timeout=0)(get_weather.function)

    def test_streaming_schema_from_the_struct(self) -> None:
        """A streaming tool's schema comes from PartialInput[S]; its description from S."""

        @sluice.tool(streaming=True)
        async def locate(args: PartialInput[Place]) -> str:
            return ""

        assert locate.streaming
        assert locate.description == "A place on Earth."
        assert locate.input_schema["required"] == ["lat", "lon"]


class TestCalling:
    def test_validation_reports_where(self) -> None:
        """Input that does not match raises msgspec's error naming the field."""
        with pytest.raises(msgspec.ValidationError, match=r"\$\.unit"):
            get_weather.validate({"city": "Paris", "unit": "k"})
        with pytest.raises(msgspec.ValidationError, match="city"):
            get_weather.validate({})

    @pytest.mark.anyio
    async def test_sync_runs_in_a_thread_and_positional_only_works(self) -> None:
        """A sync function runs off the event loop; positional-only parameters are passed."""
        seen: list[int] = []

        @sluice.tool
        def where(a: int, /, b: int = 1) -> int:
            seen.append(threading.get_ident())
            return a + b

        assert await where.invoke(where.validate({"a": 2})) == 3
        assert seen[0] != threading.get_ident()

    @pytest.mark.anyio
    async def test_an_async_function_behind_a_sync_decorator_is_awaited(self) -> None:
        """functools.wraps over an async def: awaited on the loop, its schema derived."""

        def logged(function: Any) -> Any:
            @functools.wraps(function)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return function(*args, **kwargs)

            return wrapper

        @sluice.tool
        @logged
        async def lookup(key: str, times: int = 1) -> str:
            """Look a key up.

            Args:
                key: The key.
            """
            return key * times

        assert lookup.definition["description"] == "Look a key up."
        assert lookup.definition["input_schema"]["properties"]["key"]["description"] == "The key."
        assert await lookup.invoke(lookup.validate({"key": "ab", "times": 2})) == "abab"

    @pytest.mark.anyio
    async def test_a_callable_instance_is_a_tool(self) -> None:
        """An object with an async or sync __call__: its signature (no self), its
        docstring, its class name unless name= is given."""

        class Search:
            """A search engine."""

            def __init__(self, prefix: str) -> None:
                self.prefix = prefix

            async def __call__(self, query: str, limit: int = 3) -> str:
                """Search the web.

                Args:
                    query: What to look for.
                """
                return f"{self.prefix}{query}:{limit}"

        class Count:
            def __call__(self, text: str) -> int:
                return len(text)

        search = sluice.tool(Search("web:"))
        assert search.name == "Search"
        schema = search.definition["input_schema"]
        assert set(schema["properties"]) == {"query", "limit"} and schema["required"] == ["query"]
        assert search.definition["description"] == "Search the web."
        assert await search.invoke(search.validate({"query": "q"})) == "web:q:3"
        count = sluice.tool(name="count")(Count())
        assert await count.invoke(count.validate({"text": "four"})) == 4

    def test_partials_and_undocumented_instances_are_described_by_their_own_docs(
        self,
    ) -> None:
        """A partial is named and described by the function it wraps; an instance whose
        __call__ has no docstring by its class's, never by object's "Call self..."."""

        def get_weather(city: str, unit: str = "c") -> str:
            """Current weather for a city.

            Args:
                city: The city name.
            """
            return city

        class Weather:
            """Weather from the station."""

            async def __call__(self, city: str) -> str:
                return city

        class Bare:
            def __call__(self, x: int) -> int:
                return x

        partial = sluice.tool(functools.partial(get_weather, unit="f")).definition
        assert partial["name"] == "get_weather"
        assert partial["description"] == "Current weather for a city."
        assert partial["input_schema"]["properties"]["unit"]["default"] == "f"
        weather = sluice.tool(Weather()).definition
        assert (weather["name"], weather["description"]) == ("Weather", "Weather from the station.")
        bare = sluice.tool(Bare()).definition
        assert bare["name"] == "Bare" and "description" not in bare

    @pytest.mark.anyio
    async def test_structs_arrive_typed(self) -> None:
        """A Struct parameter arrives as the Struct, a date as a date."""

        @sluice.tool
        async def trip(where: Place, start: datetime.date) -> str:
            assert isinstance(where, Place) and isinstance(start, datetime.date)
            return f"{where.lat},{start.isoformat()}"

        value = trip.validate({"where": {"lat": 1, "lon": 2}, "start": "2025-05-01"})
        assert await trip.invoke(value) == "1.0,2025-05-01"

    @pytest.mark.anyio
    async def test_kwargs_tools_get_the_other_members(self) -> None:
        """A **kwargs function: named parameters are checked, other members passed through."""

        @sluice.tool(input_schema={"type": "object"})
        async def anything(a: int, **fields: Any) -> str:
            return f"{a} " + ",".join(sorted(fields))

        assert await anything.invoke(anything.validate({"b": 1, "a": 2, "c": None})) == "2 b,c"
        with pytest.raises(msgspec.ValidationError):
            anything.validate({"a": "x"})
        with pytest.raises(msgspec.ValidationError):
            anything.validate([1])
