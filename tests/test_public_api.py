"""The public surface: __all__ is exactly the public names, each documented."""

from __future__ import annotations

import inspect

import sluice


class TestPublicAPI:
    def test_all_matches_public_names(self) -> None:
        """__all__ lists every public name of the package and nothing else."""
        public = {
            name
            for name in vars(sluice)
            if not name.startswith(("_", "@")) and name not in {"annotations", "testing"}
        }
        assert set(sluice.__all__) == public
        assert sluice.__all__ == sorted(sluice.__all__)

    def test_every_public_name_is_documented(self) -> None:
        """Every exported class and function has a docstring."""
        for name in sluice.__all__:
            obj = getattr(sluice, name)
            if isinstance(obj, type) or inspect.isfunction(obj):
                assert obj.__doc__, name

    def test_exception_tree_has_one_root(self) -> None:
        """Every exported exception derives from SluiceError."""
        for name in sluice.__all__:
            obj = getattr(sluice, name)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                assert issubclass(obj, sluice.SluiceError), name


class TestOpsNamespace:
    def test_ops_all_matches_public_names(self) -> None:
        """sluice.ops.__all__ lists exactly its public names, sorted."""
        from sluice import ops

        public = {
            name for name in vars(ops) if not name.startswith(("_", "@")) and name != "annotations"
        }
        assert set(ops.__all__) == public
        assert ops.__all__ == sorted(ops.__all__)

    def test_ops_are_documented(self) -> None:
        """Every operator and class in sluice.ops has a docstring."""
        from sluice import ops

        for name in ops.__all__:
            obj = getattr(ops, name)
            if isinstance(obj, type) or inspect.isfunction(obj):
                assert obj.__doc__, name
