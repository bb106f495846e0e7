"""Wire structs back to JSON with API field names, keeping fields sluice does not model.

The functions live with the struct base (:mod:`._wire`); this module is their historical
import path inside the core.
"""

from __future__ import annotations

from ._wire import to_builtins, to_json

__all__ = ["to_builtins", "to_json"]
