"""Wire structs back to JSON with API field names, keeping fields sluice does not model.

``msgspec.json.encode`` alone would drop the unknown fields that ``_events`` stashed off-wire
and would write the placeholder tag of ``Unknown*`` values. These functions write exactly
what the API sent, updated by accumulation: the same dictionary the official SDK's
``to_dict()`` returns for the same stream.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from ._wire import UNKNOWN_TAG, Wire

__all__ = ["to_builtins", "to_json"]

_UNSET = msgspec.UNSET


def to_builtins(obj: Any) -> Any:
    """Convert a sluice wire value (event, message, block...) into JSON-ready builtins.

    Fields that were absent on the wire stay absent, ``null`` stays ``null``, and fields this
    version of sluice does not model are written back where they came from.
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


_encoder = msgspec.json.Encoder()


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
