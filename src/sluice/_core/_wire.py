"""The base of every wire struct, and how fields this version does not model are kept.

Every object the API sends is a :class:`Wire` struct: tagged by its wire ``type`` field,
optional fields defaulting to ``msgspec.UNSET`` (absent stays absent, ``null`` stays
``null``), and a ``__dict__`` where fields this version of sluice does not model are kept
off-wire (:func:`attach_extras`).

Those fields come back out through :func:`to_builtins` / :func:`to_json` (also
``value.to_dict()`` / ``value.to_json()``, as on the official SDK's models), and travel
with ``copy.copy``, ``copy.deepcopy`` and ``pickle``. ``msgspec.json.encode`` and
``msgspec.to_builtins`` know only the declared fields: they leave the extras out.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import msgspec

__all__ = ["UNKNOWN_TAG", "Wire", "attach_extras", "decode_wire", "to_builtins", "to_json"]

# The tag of the Unknown* placeholders. It can never match a real wire type, so the
# placeholders can sit in the decoding unions (msgspec needs every member tagged) while the
# real wire type of an unknown value lives in its ``raw`` JSON.
UNKNOWN_TAG = "\x00unknown"


class Wire(
    msgspec.Struct,
    kw_only=True,
    tag_field="type",
    dict=True,  # a __dict__ to hold fields the model does not know yet (off the wire)
    repr_omit_defaults=True,
):
    """Base of every wire struct."""

    def to_dict(self) -> Any:
        """This value as JSON-ready builtins with API field names, unknown fields included
        (:func:`sluice.to_builtins`)."""
        return to_builtins(self)

    def to_json(self, *, indent: int | None = None) -> str:
        """This value as a JSON string, unknown fields included (``indent`` pretty-prints)."""
        if indent is None:
            return to_json(self).decode()
        return json.dumps(to_builtins(self), indent=indent, ensure_ascii=False)

    def __copy__(self) -> Any:
        new = msgspec.structs.replace(self)
        new.__dict__.update(self.__dict__)
        return new

    def __reduce__(self) -> tuple[Any, ...]:
        # Fields by name (every wire struct is keyword-only) and the off-wire extras, so
        # that copy.deepcopy and pickle keep the fields this version does not model.
        return (_rebuild, (type(self), msgspec.structs.asdict(self), dict(self.__dict__)))


def _rebuild(cls: type[Wire], fields: dict[str, Any], extras: dict[str, Any]) -> Wire:
    value = cls(**fields)
    value.__dict__.update(extras)
    return value


def attach_extras(obj: Any, raw: Any) -> None:
    """Remember keys of ``raw`` that ``obj``'s struct does not declare, recursively.

    They are stored off-wire in the struct's ``__dict__`` and written back by ``_serialize``.
    ``Unknown*`` placeholders are skipped: their ``raw`` holds everything already.
    """
    if not isinstance(raw, dict) or not isinstance(obj, Wire):
        return
    if obj.__struct_config__.tag == UNKNOWN_TAG:
        return
    fields = type(obj).__struct_encode_fields__
    extra = None
    for key, value in raw.items():
        if key == "type":
            continue
        if key not in fields:
            if extra is None:
                extra = {}
            extra[key] = value
            continue
        attr = getattr(obj, key, None)
        if isinstance(attr, Wire):
            attach_extras(attr, value)
        elif isinstance(attr, list) and isinstance(value, list):
            for item, raw_item in zip(attr, value, strict=False):
                if isinstance(item, Wire):
                    attach_extras(item, raw_item)
    if extra is not None:
        obj.__dict__["_extra"] = extra


_any_decoder = msgspec.json.Decoder()
W = TypeVar("W", bound=Wire)


def decode_wire(decoder: msgspec.json.Decoder[W], content: bytes) -> W:
    """Decode ``content`` with a typed ``decoder``, keeping fields the type does not declare.

    Raises:
        msgspec.MsgspecError: the bytes are not JSON of that type.
    """
    value = decoder.decode(content)
    attach_extras(value, _any_decoder.decode(content))
    return value


_UNSET = msgspec.UNSET
_encoder = msgspec.json.Encoder()


def to_builtins(obj: Any) -> Any:
    """Convert a sluice wire value (event, message, block...) into JSON-ready builtins.

    Fields that were absent on the wire stay absent, ``null`` stays ``null``, and fields this
    version of sluice does not model are written back where they came from: the same
    dictionary the official SDK's ``to_dict()`` returns for the same stream.
    """
    if isinstance(obj, Wire):
        tag = obj.__struct_config__.tag
        if tag == UNKNOWN_TAG:
            # Every Unknown* placeholder (event, block, delta, batch result...) carries the
            # JSON it was decoded from: write that back unchanged.
            return obj.raw  # type: ignore[attr-defined]
        out: dict[str, Any] = {}
        if isinstance(tag, str):
            out["type"] = tag
        for name in obj.__struct_fields__:
            value = getattr(obj, name)
            if value is not _UNSET:
                out[name] = to_builtins(value)
        extra = obj.__dict__.get("_extra")
        if extra:
            for key, value in extra.items():
                out.setdefault(key, value)
        return out
    if isinstance(obj, list):
        return [to_builtins(item) for item in obj]
    if isinstance(obj, dict):
        return {key: to_builtins(value) for key, value in obj.items()}
    return obj


def to_json(obj: Any) -> bytes:
    """Encode a sluice wire value as compact JSON bytes (see :func:`to_builtins`).

    A lone surrogate in a string (JSON allows ``"\\ud800"``, UTF-8 cannot hold it) is
    written back as the same ``\\u`` escape instead of failing.
    """
    builtins = to_builtins(obj)
    try:
        return _encoder.encode(builtins)
    except UnicodeEncodeError:
        return json.dumps(builtins, separators=(",", ":")).encode("ascii")
