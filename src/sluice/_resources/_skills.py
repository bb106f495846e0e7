"""``client.skills``: the Skills API (beta): custom Agent Skills and their versions.

Shapes follow the public API reference for the ``skills-2025-10-02`` beta ("Create Skill",
"List Skills", "Get Skill", "Delete Skill", and the same four for Skill Versions); every
request carries that beta header. Under it, a version is named by its ``version`` string, a
Unix epoch timestamp in microseconds (``"1759178010641129"``). Timestamps stay RFC 3339
strings as sent.

A skill is uploaded as a folder: every file is a ``files[]`` part of a
``multipart/form-data`` body whose ``filename`` is its path *including* the top-level
folder (``my-skill/SKILL.md``, ``my-skill/scripts/run.py``). The API requires one top-level
folder with a ``SKILL.md`` at its root; that is checked here, before anything is sent.
Files on disk are streamed, not loaded.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Sequence
from typing import ClassVar, Final, Literal, TypeAlias, Unpack

import anyio

from .._core._exceptions import UploadError
from .._core._wire import Wire
from .._http._multipart import (
    SNIFF_SIZE,
    BytesSource,
    MultipartBody,
    PathSource,
    Source,
    guess_mime_type,
)
from .._http._pagination import AsyncPaginator
from .._http._requester import Requester, RequestOptions
from ._base import Resource, api_path

__all__ = [
    "SKILLS_BETA",
    "DeletedSkill",
    "DeletedSkillVersion",
    "Skill",
    "SkillFiles",
    "SkillVersion",
    "SkillVersions",
    "Skills",
]

#: The ``anthropic-beta`` value the Skills API requires.
SKILLS_BETA: Final = "skills-2025-10-02"
#: The file every skill must have at the root of its folder.
SKILL_FILE: Final = "SKILL.md"

#: A skill's files: the path of its folder, or ``(path, bytes)`` pairs whose paths start
#: with the folder's name (``("my-skill/SKILL.md", b"...")``).
SkillFiles: TypeAlias = str | os.PathLike[str] | Iterable[tuple[str, bytes]]


class Skill(Wire, kw_only=True, tag="skill"):
    """A skill.

    Attributes:
        id: the skill id (``skill_...``), to reference in a container's ``skills``.
        display_title: a human-readable label (not shown to the model), or ``None``.
        latest_version: the ``version`` of its most recent version.
        source: ``"custom"`` (made by a user) or ``"anthropic"``.
        created_at, updated_at: RFC 3339 times.

    Fields this version does not model are kept (``sluice.to_json`` writes them back).
    """

    type: ClassVar[Literal["skill"]] = "skill"
    id: str
    display_title: str | None = None
    latest_version: str | None = None
    source: str
    created_at: str
    updated_at: str


class SkillVersion(Wire, kw_only=True, tag="skill_version"):
    """One immutable version of a skill.

    Attributes:
        id: the version object's id.
        skill_id: the skill it belongs to.
        version: its version string, a Unix epoch timestamp in microseconds; this is what
            paths and containers use to name it.
        name, description: from the ``SKILL.md`` front matter.
        directory: the top-level folder the files were uploaded in.
        created_at: RFC 3339 time.
    """

    type: ClassVar[Literal["skill_version"]] = "skill_version"
    id: str
    skill_id: str
    version: str
    name: str
    description: str
    directory: str
    created_at: str


class DeletedSkill(Wire, kw_only=True, tag="skill_deleted"):
    """The answer to a skill delete: the id of the skill that is gone."""

    type: ClassVar[Literal["skill_deleted"]] = "skill_deleted"
    id: str


class DeletedSkillVersion(Wire, kw_only=True, tag="skill_version_deleted"):
    """The answer to a version delete: ``id`` is the deleted ``version`` string."""

    type: ClassVar[Literal["skill_version_deleted"]] = "skill_version_deleted"
    id: str


def _skill_path(skill_id: str) -> str:
    return api_path("/v1/skills/{skill_id}", skill_id=skill_id)


def _version_path(skill_id: str, version: str) -> str:
    return api_path("/v1/skills/{skill_id}/versions/{version}", skill_id=skill_id, version=version)


# ----------------------------------------------------------------------- the skill folder


def _skipped(name: str) -> bool:
    # Hidden entries (.git, .env, .DS_Store) and bytecode caches are never part of a skill.
    return name.startswith(".") or name == "__pycache__"


def _walk_folder(folder: str) -> list[tuple[str, str, int, bytes]]:
    """``(upload name, path on disk, size, first bytes)`` of every file, in a stable order."""
    root = os.path.abspath(folder)
    if not os.path.isdir(root):
        raise UploadError(f"{folder} is not a folder: pass a skill's folder", filename=folder)
    top = os.path.basename(root)
    entries: list[tuple[str, str, int, bytes]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(name for name in dirnames if not _skipped(name))
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if _skipped(name) or not os.path.isfile(full):
                continue  # hidden, or not a regular file (a socket, a broken link)
            relative = os.path.relpath(full, root).replace(os.sep, "/")
            with open(full, "rb") as file:
                size = os.fstat(file.fileno()).st_size
                head = file.read(SNIFF_SIZE)
            entries.append((f"{top}/{relative}", full, size, head))
    return entries


def _check_layout(names: Sequence[str]) -> None:
    """The API's rule: one top-level folder, ``SKILL.md`` at its root, no odd paths."""
    if not names:
        raise UploadError("a skill needs at least one file: its SKILL.md")
    tops: set[str] = set()
    seen: set[str] = set()
    for name in names:
        parts = name.split("/")
        if (
            "\\" in name
            or name.startswith("/")
            or len(parts) < 2
            or any(part in ("", ".", "..") for part in parts)
        ):
            raise UploadError(
                f"invalid skill file path {name!r}: use a relative path with '/' separators "
                f"that starts with the skill's folder, e.g. 'my-skill/{SKILL_FILE}'",
                filename=name,
            )
        if name in seen:
            raise UploadError(f"the skill file {name!r} is given twice", filename=name)
        seen.add(name)
        tops.add(parts[0])
    if len(tops) > 1:
        raise UploadError(
            "all skill files must be in the same top-level folder, got "
            + ", ".join(repr(top) for top in sorted(tops))
        )
    (top,) = tops
    required = posixpath.join(top, SKILL_FILE)
    if required not in seen:
        raise UploadError(
            f"the skill has no {SKILL_FILE} at the root of its folder {top!r}: the API "
            f"requires {required!r} (the name is case-sensitive)",
            filename=required,
        )


async def _skill_body(files: SkillFiles, display_title: str | None) -> MultipartBody:
    parts: list[tuple[str, bytes, Source, bool]] = []  # name, head, source, complete
    if isinstance(files, str | os.PathLike):
        folder = os.fspath(files)
        if not isinstance(folder, str):
            raise TypeError("pass the folder as str or os.PathLike[str], not bytes")
        for name, path, size, head in await anyio.to_thread.run_sync(_walk_folder, folder):
            parts.append((name, head, PathSource(path, size), size <= len(head)))
    else:
        for item in files:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise TypeError(f"expected (path, bytes) pairs, got {item!r:.80}")
            name, data = item
            if not isinstance(name, str) or not isinstance(data, bytes | bytearray):
                raise TypeError(
                    f"expected a (str, bytes) pair, got {type(name).__name__}, "
                    f"{type(data).__name__}"
                )
            data = bytes(data)
            parts.append((name, data[:SNIFF_SIZE], BytesSource(data), True))
    _check_layout([name for name, *_ in parts])
    body = MultipartBody()
    if display_title is not None:
        body.add_field("display_title", display_title)
    for name, head, source, complete in parts:
        content_type = guess_mime_type(name, head, complete=complete)
        body.add_file("files[]", name, content_type, source)
    return body


# ------------------------------------------------------------------------------ resources


class SkillVersions(Resource):
    """``client.skills.versions``: the versions of a skill."""

    beta = SKILLS_BETA

    async def create(
        self, skill_id: str, *, files: SkillFiles, **options: Unpack[RequestOptions]
    ) -> SkillVersion:
        """Upload a new version of a skill; it becomes the skill's ``latest_version``.

        Args:
            skill_id: the skill.
            files: the skill's folder, or ``(path, bytes)`` pairs (see :data:`SkillFiles`).

        Raises:
            UploadError: no ``SKILL.md`` at the root of the folder, several top-level
                folders, or an invalid path; nothing was sent.
            NotFoundError: no such skill.
        """
        path = api_path("/v1/skills/{skill_id}/versions", skill_id=skill_id)
        return await self._post_multipart(
            path, await _skill_body(files, None), SkillVersion, options
        )

    def list(
        self,
        skill_id: str,
        *,
        limit: int | None = None,
        page: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[SkillVersion]:
        """Every version of a skill, fetched page by page.

        Args:
            limit: versions per page (the API's default is 20, its maximum 1000).
            page: start at this ``next_page`` token of an earlier listing.

        Nothing is sent until iteration starts.
        """
        path = api_path("/v1/skills/{skill_id}/versions", skill_id=skill_id)
        return self._list(path, SkillVersion, {"limit": limit, "page": page}, options, style="page")

    async def retrieve(
        self, skill_id: str, version: str, **options: Unpack[RequestOptions]
    ) -> SkillVersion:
        """One version of a skill, by its ``version`` string.

        Raises:
            NotFoundError: no such skill or version.
        """
        return await self._get(_version_path(skill_id, version), SkillVersion, options)

    async def delete(
        self, skill_id: str, version: str, **options: Unpack[RequestOptions]
    ) -> DeletedSkillVersion:
        """Delete one version of a skill.

        Raises:
            NotFoundError: no such skill or version.
        """
        return await self._delete(_version_path(skill_id, version), DeletedSkillVersion, options)


class Skills(Resource):
    """``client.skills``: create, list, inspect and delete custom skills (Skills API beta).

    Every request carries the ``skills-2025-10-02`` beta header. Every method raises
    :class:`~sluice.APIError` subclasses for error statuses (e.g.
    :class:`~sluice.NotFoundError` for an unknown skill) and
    :class:`~sluice.APIConnectionError` when the API cannot be reached.

    Attributes:
        versions: the :class:`SkillVersions` of each skill.
    """

    beta = SKILLS_BETA

    def __init__(self, requester: Requester) -> None:
        super().__init__(requester)
        self.versions = SkillVersions(requester)

    async def create(
        self,
        *,
        files: SkillFiles,
        display_title: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Skill:
        """Create a skill from its files; its first version is made from them.

        ::

            skill = await client.skills.create(display_title="Reports", files="skills/reports")

        Args:
            files: the skill's folder (every file in it is uploaded with its path
                relative to the folder's parent, ``reports/SKILL.md``; hidden files and
                ``__pycache__`` are skipped), or ``(path, bytes)`` pairs whose paths start
                with the folder name.
            display_title: a human-readable label, not shown to the model.

        Raises:
            UploadError: no ``SKILL.md`` at the root of the folder, several top-level
                folders, or an invalid path; nothing was sent.
        """
        body = await _skill_body(files, display_title)
        return await self._post_multipart("/v1/skills", body, Skill, options)

    def list(
        self,
        *,
        limit: int | None = None,
        page: str | None = None,
        source: Literal["custom", "anthropic"] | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[Skill]:
        """Every skill of the workspace, fetched page by page.

        Args:
            limit: skills per page (the API's default is 20, its maximum 1000).
            page: start at this ``next_page`` token of an earlier listing.
            source: only ``"custom"`` skills or only ``"anthropic"`` ones.

        Nothing is sent until iteration starts.
        """
        params = {"limit": limit, "page": page, "source": source}
        return self._list("/v1/skills", Skill, params, options, style="page")

    async def retrieve(self, skill_id: str, **options: Unpack[RequestOptions]) -> Skill:
        """One skill by id.

        Raises:
            NotFoundError: no such skill.
        """
        return await self._get(_skill_path(skill_id), Skill, options)

    async def delete(self, skill_id: str, **options: Unpack[RequestOptions]) -> DeletedSkill:
        """Delete a skill. The API refuses while the skill still has versions: delete
        them first (``skills.versions.delete``).

        Raises:
            NotFoundError: no such skill.
            BadRequestError: the skill still has versions.
        """
        return await self._delete(_skill_path(skill_id), DeletedSkill, options)
