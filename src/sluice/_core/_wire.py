"""The base of every wire struct, and how fields this version does not model are kept.

Every object the API sends is a :class:`Wire` struct: tagged by its wire ``type`` field,
optional fields defaulting to ``msgspec.UNSET`` (absent stays absent, ``null`` stays
``null``), and a ``__dict__`` where fields this version of sluice does not model are kept
off-wire (:func:`attach_extras`) so that ``sluice.to_json`` writes them back.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

__all__ = ["UNKNOWN_TAG", "Wire", "attach_extras", "decode_wire"]

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
