"""Stateful fakes of the Files and Skills APIs (beta), served by :class:`MockAnthropic`.

::

    async with MockAnthropic() as server:
        files = install_files(server)
        skills = install_skills(server)
        ...  # point the app at server.base_url
        assert files.content_of(file_id) == b"%PDF-..."

* :func:`install_files`: ``POST``/``GET /v1/files``, ``GET``/``DELETE /v1/files/{id}`` and
  ``GET /v1/files/{id}/content``. Uploads are parsed from their ``multipart/form-data``
  body and stored byte for byte; :meth:`FakeFiles.add` stores a file as a tool would
  create it.
* :func:`install_skills`: ``POST``/``GET /v1/skills``, ``GET``/``DELETE /v1/skills/{id}``,
  ``POST``/``GET /v1/skills/{id}/versions`` and ``GET``/``DELETE
  /v1/skills/{id}/versions/{version}``, with the API's checks on the uploaded folder.

Like the API, every request must carry the beta header (``files-api-2025-04-14``,
``skills-2025-10-02``), else it gets 400 ``invalid_request_error``; unknown ids get 404
``not_found_error``. Files list with ``limit``/``after_id``/``before_id`` and answer
``{"data", "has_more", "first_id", "last_id"}``; skills and versions list with
``limit``/``page`` and answer ``{"data", "has_more", "next_page"}``; both most recent first.

The bodies are read by :class:`MultipartParser`, a small sans-I/O parser of RFC 7578
``multipart/form-data``: it checks the framing strictly, so an encoder bug shows up as a
400 here rather than as a corrupt file.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from .._resources._files import FILES_BETA, MAX_FILE_SIZE
from .._resources._skills import SKILLS_BETA
from ._fakes_common import (
    invalid,
    new_id,
    not_found,
    page_token,
    page_token_value,
    paginate,
    path_tail,
    query_limit,
    query_value,
    route,
    timestamp,
    utc_now,
)
from ._server import MockAnthropic, RecordedRequest, Reply

__all__ = [
    "FakeFiles",
    "FakeSkills",
    "MultipartError",
    "MultipartParser",
    "MultipartPart",
    "install_files",
    "install_skills",
    "parse_multipart",
]


# ---------------------------------------------------------------------- multipart parsing


class MultipartError(ValueError):
    """A ``multipart/form-data`` body that does not follow RFC 7578 / RFC 2046."""


@dataclass(frozen=True, slots=True)
class MultipartPart:
    """One part of a ``multipart/form-data`` body.

    Attributes:
        name: the form field name (``Content-Disposition: form-data; name="..."``).
        filename: the ``filename`` parameter, decoded; ``None`` for a text field.
        content_type: the part's ``Content-Type``, or ``None`` if it had none.
        headers: every part header as ``(lowercase name, value)``.
        data: the part's bytes, exactly as sent.
    """

    name: str
    filename: str | None
    content_type: str | None
    headers: tuple[tuple[str, str], ...]
    data: bytes

    @property
    def text(self) -> str:
        """``data`` as UTF-8 text (RFC 7578 section 5.1: form fields are UTF-8)."""
        return self.data.decode("utf-8")


_ParserState = Literal["preamble", "delimiter", "headers", "body", "epilogue"]
_PADDING: Final = b" \t"
_HEADER_RE: Final = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*")
# What the WHATWG form encoder (and httpx) percent-encode in names and filenames.
_PERCENT_RE: Final = re.compile(r"%(22|[01][0-9A-Fa-f])")


@dataclass(slots=True)
class MultipartParser:
    """Sans-I/O ``multipart/form-data`` parser: ``feed()`` bytes, get complete parts.

    Framing follows RFC 2046 section 5.1.1: parts are separated by ``CRLF--boundary``
    (the first may start the body), the last is followed by ``--``; the preamble and
    epilogue are ignored. Part heads are bounded by ``max_header_size``; anything
    malformed raises :class:`MultipartError`. Call :meth:`close` at the end of the body.

    Args:
        boundary: the ``boundary`` parameter of the body's ``Content-Type``.
    """

    boundary: str
    max_header_size: int = 16 * 1024
    max_parts: int = 10_000
    _buffer: bytearray = field(default_factory=bytearray)
    _state: _ParserState = "preamble"
    _headers: list[tuple[str, str]] = field(default_factory=list)
    _head_size: int = 0
    _data: bytearray = field(default_factory=bytearray)
    _parts: int = 0

    def __post_init__(self) -> None:
        if not 1 <= len(self.boundary) <= 70 or not self.boundary.isascii():
            raise MultipartError(f"invalid boundary {self.boundary!r} (RFC 2046: 1 to 70 chars)")

    @property
    def _dash_boundary(self) -> bytes:
        return b"--" + self.boundary.encode("ascii")

    @property
    def finished(self) -> bool:
        """The closing delimiter was seen."""
        return self._state == "epilogue"

    def feed(self, data: bytes) -> list[MultipartPart]:
        """Add bytes of the body; returns the parts they completed."""
        if self._state == "epilogue":
            return []
        self._buffer += data
        parts: list[MultipartPart] = []
        while self._step(parts):
            pass
        return parts

    def close(self) -> None:
        """Declare the end of the body.

        Raises:
            MultipartError: the closing ``--boundary--`` never came.
        """
        if self._state != "epilogue":
            raise MultipartError(
                f"the body ended in the {self._state} before the closing '--{self.boundary}--'"
            )

    def _step(self, parts: list[MultipartPart]) -> bool:
        buffer = self._buffer
        dash = self._dash_boundary
        if self._state == "preamble":
            if buffer.startswith(dash):
                del buffer[: len(dash)]
                self._state = "delimiter"
                return True
            index = buffer.find(b"\r\n" + dash)
            if index < 0:
                del buffer[: max(0, len(buffer) - len(dash) - 1)]
                return False
            del buffer[: index + 2 + len(dash)]
            self._state = "delimiter"
            return True
        if self._state == "delimiter":
            if len(buffer) < 2:
                return False
            if buffer.startswith(b"--"):
                self._state = "epilogue"
                buffer.clear()
                return False
            end = buffer.find(b"\r\n")
            if end < 0:
                if buffer.strip(_PADDING):
                    raise MultipartError("a boundary delimiter is followed by other text")
                return False
            if buffer[:end].strip(_PADDING):
                raise MultipartError("a boundary delimiter is followed by other text")
            del buffer[: end + 2]
            self._parts += 1
            if self._parts > self.max_parts:
                raise MultipartError(f"more than {self.max_parts} parts")
            self._headers = []
            self._head_size = 0
            self._state = "headers"
            return True
        if self._state == "headers":
            end = buffer.find(b"\r\n")
            if end < 0:
                if self._head_size + len(buffer) > self.max_header_size:
                    raise MultipartError(f"a part's headers exceed {self.max_header_size} bytes")
                return False
            line = bytes(buffer[:end])
            del buffer[: end + 2]
            self._head_size += end + 2
            if self._head_size > self.max_header_size:
                raise MultipartError(f"a part's headers exceed {self.max_header_size} bytes")
            if not line:
                self._state = "body"
                return True
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                raise MultipartError(f"a part header is not UTF-8: {line[:80]!r}") from None
            match = _HEADER_RE.fullmatch(text)
            if match is None:
                raise MultipartError(f"malformed part header {text[:80]!r}")
            self._headers.append((match.group(1).lower(), match.group(2)))
            return True
        if self._state == "body":
            delimiter = b"\r\n" + dash
            index = buffer.find(delimiter)
            if index < 0:
                keep = len(delimiter) - 1
                if len(buffer) > keep:
                    self._data += buffer[: len(buffer) - keep]
                    del buffer[: len(buffer) - keep]
                return False
            self._data += buffer[:index]
            del buffer[: index + len(delimiter)]
            parts.append(self._finish_part())
            self._state = "delimiter"
            return True
        return False

    def _finish_part(self) -> MultipartPart:
        data, self._data = bytes(self._data), bytearray()
        headers = tuple(self._headers)
        disposition = next((v for k, v in headers if k == "content-disposition"), None)
        if disposition is None:
            raise MultipartError("a part has no Content-Disposition header (RFC 7578 4.2)")
        kind, params = parse_header_params(disposition)
        if kind.lower() != "form-data" or "name" not in params:
            raise MultipartError(
                f"expected 'Content-Disposition: form-data; name=...', got {disposition!r}"
            )
        content_type = next((v for k, v in headers if k == "content-type"), None)
        return MultipartPart(
            name=params["name"],
            filename=params.get("filename"),
            content_type=content_type,
            headers=headers,
            data=data,
        )


def parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type; key=value; key="quoted"`` into the type and its parameters.

    Quoted values honour backslash escapes (RFC 9110 ``quoted-pair``) and the WHATWG form
    encoder's percent-escapes (``%22`` for ``"``, ``%0D``, ``%0A``...).

    Raises:
        MultipartError: the value is malformed.
    """
    kind, _, rest = value.partition(";")
    params: dict[str, str] = {}
    index = 0
    while index < len(rest):
        while index < len(rest) and rest[index] in " \t;":
            index += 1
        if index >= len(rest):
            break
        equals = rest.find("=", index)
        if equals < 0:
            raise MultipartError(f"malformed header parameters {value!r}")
        key = rest[index:equals].strip().lower()
        index = equals + 1
        if index < len(rest) and rest[index] == '"':
            index += 1
            chars: list[str] = []
            while True:
                if index >= len(rest):
                    raise MultipartError(f"unterminated quoted string in {value!r}")
                char = rest[index]
                if char == "\\" and index + 1 < len(rest):
                    chars.append(rest[index + 1])
                    index += 2
                    continue
                index += 1
                if char == '"':
                    break
                chars.append(char)
            text = _PERCENT_RE.sub(lambda m: chr(int(m.group(1), 16)), "".join(chars))
        else:
            end = rest.find(";", index)
            end = len(rest) if end < 0 else end
            text = rest[index:end].strip()
            index = end
        if key in params:
            raise MultipartError(f"parameter {key!r} given twice in {value!r}")
        params[key] = text
    return kind.strip(), params


def parse_multipart(body: bytes, content_type: str) -> list[MultipartPart]:
    """Every part of a whole ``multipart/form-data`` body.

    Raises:
        MultipartError: ``content_type`` is not ``multipart/form-data`` with a boundary, or
            the body is malformed.
    """
    kind, params = parse_header_params(content_type)
    if kind.lower() != "multipart/form-data":
        raise MultipartError(f"expected Content-Type multipart/form-data, got {content_type!r}")
    boundary = params.get("boundary")
    if not boundary:
        raise MultipartError("the multipart/form-data Content-Type has no boundary")
    parser = MultipartParser(boundary)
    parts = parser.feed(body)
    parser.close()
    return parts


def _form(request: RecordedRequest) -> list[MultipartPart]:
    try:
        return parse_multipart(request.body, request.headers.get("content-type", ""))
    except MultipartError as exc:
        raise invalid(f"invalid multipart/form-data body: {exc}") from None


def _require_beta(request: RecordedRequest, beta: str, what: str) -> None:
    sent = request.headers.get("anthropic-beta", "")
    if beta not in (item.strip() for item in sent.split(",")):
        raise invalid(f"the {what} API is in beta: send the header 'anthropic-beta: {beta}'")


# A MIME type the server may echo in a response header: printable ASCII, type/subtype.
_MIME_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+/[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ -~]*")


def _binary(data: bytes, content_type: str) -> Reply:
    # Reply.json would add its own application/json content type: a download is served as
    # the raw bytes with the file's type and a Content-Length.
    return Reply(_kind="body", _headers=(("content-type", content_type),), _body=data)


# ------------------------------------------------------------------------------- files


@dataclass
class _StoredFile:
    wire: dict[str, Any]
    content: bytes


class FakeFiles:
    """The in-memory state behind :func:`install_files`, with hooks for the test.

    Attributes:
        downloadable_uploads: whether uploaded files may be downloaded. The real API
            marks uploads ``downloadable: false`` and refuses to send them back (only
            files created by tools are downloadable); the fake allows it by default so
            a round trip can be tested. Set it to ``False`` to get the API's refusal.
        max_file_size: the largest upload accepted, in bytes (the API's 500 MB).
    """

    def __init__(
        self, *, downloadable_uploads: bool = True, max_file_size: int = MAX_FILE_SIZE
    ) -> None:
        self.downloadable_uploads = downloadable_uploads
        self.max_file_size = max_file_size
        self._files: dict[str, _StoredFile] = {}  # insertion order: oldest first

    def __repr__(self) -> str:
        return f"<FakeFiles {len(self._files)} files>"

    @property
    def ids(self) -> list[str]:
        """The ids of the files stored, most recent first (the listing order)."""
        return list(reversed(self._files))

    def content_of(self, file_id: str) -> bytes:
        """The bytes stored for a file."""
        return self._get(file_id).content

    def metadata_of(self, file_id: str) -> dict[str, Any]:
        """A file's metadata, as the API returns it."""
        return dict(self._get(file_id).wire)

    def add(
        self,
        content: bytes,
        *,
        filename: str,
        mime_type: str = "application/octet-stream",
        downloadable: bool = True,
    ) -> str:
        """Store a file as a tool (e.g. code execution) would create it; returns its id."""
        wire = self._store(bytes(content), filename, mime_type, downloadable)
        return str(wire["id"])

    # -- handlers

    def _upload(self, request: RecordedRequest) -> Reply:
        _require_beta(request, FILES_BETA, "Files")
        form = _form(request)
        files = [part for part in form if part.name == "file"]
        if len(files) != 1 or files[0].filename is None:
            raise invalid("file: exactly one file part named 'file' (with a filename) required")
        part = files[0]
        filename = files[0].filename
        if not part.data:
            raise invalid("file: the file is empty")
        if len(part.data) > self.max_file_size:
            return Reply.error(
                413,
                "request_too_large",
                f"file: {len(part.data)} bytes exceeds the maximum of {self.max_file_size}",
            )
        # The API keeps only the last path component of the filename.
        name = filename.rsplit("/", 1)[-1]
        mime_type = part.content_type or "application/octet-stream"
        if not _MIME_RE.fullmatch(mime_type):
            mime_type = "application/octet-stream"
        wire = self._store(part.data, name or "unnamed", mime_type, self.downloadable_uploads)
        return Reply.json(wire)

    def _list(self, request: RecordedRequest) -> Reply:
        _require_beta(request, FILES_BETA, "Files")
        return paginate([stored.wire for stored in reversed(self._files.values())], request.query)

    def _get_route(self, request: RecordedRequest) -> Reply:
        _require_beta(request, FILES_BETA, "Files")
        parts = path_tail(request, "/v1/files/")
        stored = self._files.get(parts[0])
        if parts[1:] not in ([], ["content"]):
            raise not_found(f"no such endpoint: {request.path}")
        if stored is None:
            raise not_found(f"File not found: {parts[0]}")
        if parts[1:] == []:
            return Reply.json(stored.wire)
        if not stored.wire["downloadable"]:
            return Reply.json(
                {
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "message": f"File {parts[0]} is not downloadable: only files created "
                        "by tools such as code execution can be downloaded",
                        "details": {"error_code": "file_not_downloadable"},
                    },
                },
                status=400,
            )
        return _binary(stored.content, stored.wire["mime_type"])

    def _delete_route(self, request: RecordedRequest) -> Reply:
        _require_beta(request, FILES_BETA, "Files")
        parts = path_tail(request, "/v1/files/")
        if parts[1:] or parts[0] not in self._files:
            raise not_found(f"File not found: {parts[0]}")
        del self._files[parts[0]]
        return Reply.json({"id": parts[0], "type": "file_deleted"})

    # -- internals

    def _store(
        self, content: bytes, filename: str, mime_type: str, downloadable: bool
    ) -> dict[str, Any]:
        file_id = new_id("file")
        wire = {
            "type": "file",
            "id": file_id,
            "filename": filename,
            "mime_type": mime_type,
            "size_bytes": len(content),
            "created_at": timestamp(utc_now()),
            "downloadable": downloadable,
        }
        self._files[file_id] = _StoredFile(wire=wire, content=content)
        return wire

    def _get(self, file_id: str) -> _StoredFile:
        try:
            return self._files[file_id]
        except KeyError:
            raise KeyError(f"no file {file_id!r}; known: {self.ids}") from None


def install_files(
    server: MockAnthropic,
    *,
    downloadable_uploads: bool = True,
    max_file_size: int = MAX_FILE_SIZE,
) -> FakeFiles:
    """Serve the Files API from memory; returns the state, for the test's hooks.

    Args:
        server: a started mock server.
        downloadable_uploads: see :attr:`FakeFiles.downloadable_uploads`.
        max_file_size: uploads above this many bytes get 413 ``request_too_large``
            (the server itself accepts request bodies of up to 32 MB).
    """
    state = FakeFiles(downloadable_uploads=downloadable_uploads, max_file_size=max_file_size)
    route(server, "POST", "/v1/files", state._upload)
    route(server, "GET", "/v1/files", state._list)
    route(server, "GET", "/v1/files/*", state._get_route)
    route(server, "DELETE", "/v1/files/*", state._delete_route)
    return state


# ------------------------------------------------------------------------------ skills

_SKILL_FILE: Final = "SKILL.md"
_SKILL_NAME_RE: Final = re.compile(r"[a-z0-9-]{1,64}")


@dataclass
class _Version:
    wire: dict[str, Any]
    files: dict[str, bytes]


@dataclass
class _Skill:
    wire: dict[str, Any]
    versions: dict[str, _Version] = field(default_factory=dict)  # oldest first


def _paginate_pages(items: Sequence[Mapping[str, Any]], request: RecordedRequest) -> Reply:
    """One page of ``items`` for ``limit`` and an opaque ``page`` token."""
    query = request.query
    limit = query_limit(query)
    start = 0
    token = query_value(query, "page")
    if token is not None:
        offset = page_token_value(token)
        if not offset.isdigit():
            raise invalid(f"page: invalid page token {token!r}")
        start = int(offset)
    page = items[start : start + limit]
    more = start + limit < len(items)
    return Reply.json(
        {
            "data": list(page),
            "has_more": more,
            "next_page": page_token(str(start + limit)) if more else None,
        }
    )


def _front_matter(text: str) -> dict[str, str] | None:
    """The ``key: value`` lines between the leading ``---`` lines of a SKILL.md."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    values: dict[str, str] = {}
    for line in lines[1:]:
        if line.strip() == "---":
            return values
        key, colon, value = line.partition(":")
        if colon and key.strip() and not key.startswith((" ", "\t")):
            values[key.strip()] = value.strip().strip("\"'")
    return None


class FakeSkills:
    """The in-memory state behind :func:`install_skills`, with hooks for the test."""

    def __init__(self) -> None:
        self._skills: dict[str, _Skill] = {}  # insertion order: oldest first
        self._last_version = 0

    def __repr__(self) -> str:
        return f"<FakeSkills {len(self._skills)} skills>"

    @property
    def ids(self) -> list[str]:
        """The ids of the skills stored, most recent first (the listing order)."""
        return list(reversed(self._skills))

    def versions_of(self, skill_id: str) -> list[str]:
        """The ``version`` strings of a skill, most recent first."""
        return list(reversed(self._get(skill_id).versions))

    def files_of(self, skill_id: str, version: str | None = None) -> dict[str, bytes]:
        """The files of a version (default: the latest), by uploaded path."""
        skill = self._get(skill_id)
        version = version or skill.wire["latest_version"]
        if version not in skill.versions:
            raise KeyError(f"skill {skill_id!r} has no version {version!r}")
        return dict(skill.versions[version].files)

    # -- handlers

    def _create(self, request: RecordedRequest) -> Reply:
        _require_beta(request, SKILLS_BETA, "Skills")
        title, files, meta = self._parse_upload(request, allow_title=True)
        now = timestamp(utc_now())
        skill_id = new_id("skill")
        skill = _Skill(
            wire={
                "type": "skill",
                "id": skill_id,
                "display_title": title,
                "latest_version": None,
                "source": "custom",
                "created_at": now,
                "updated_at": now,
            }
        )
        self._skills[skill_id] = skill
        self._add_version(skill, files, meta)
        return Reply.json(skill.wire)

    def _list(self, request: RecordedRequest) -> Reply:
        _require_beta(request, SKILLS_BETA, "Skills")
        source = query_value(request.query, "source")
        skills = [
            skill.wire
            for skill in reversed(self._skills.values())
            if source is None or skill.wire["source"] == source
        ]
        return _paginate_pages(skills, request)

    def _get_route(self, request: RecordedRequest) -> Reply:
        _require_beta(request, SKILLS_BETA, "Skills")
        parts = path_tail(request, "/v1/skills/")
        skill = self._skills.get(parts[0])
        if skill is None:
            raise not_found(f"Skill not found: {parts[0]}")
        if parts[1:] == []:
            return Reply.json(skill.wire)
        if parts[1:] == ["versions"]:
            versions = [version.wire for version in reversed(skill.versions.values())]
            return _paginate_pages(versions, request)
        if len(parts) == 3 and parts[1] == "versions":
            version = skill.versions.get(parts[2])
            if version is None:
                raise not_found(f"Skill version not found: {parts[2]}")
            return Reply.json(version.wire)
        raise not_found(f"no such endpoint: {request.path}")

    def _post_route(self, request: RecordedRequest) -> Reply:
        _require_beta(request, SKILLS_BETA, "Skills")
        parts = path_tail(request, "/v1/skills/")
        if parts[1:] != ["versions"]:
            raise not_found(f"no such endpoint: {request.path}")
        skill = self._skills.get(parts[0])
        if skill is None:
            raise not_found(f"Skill not found: {parts[0]}")
        _, files, meta = self._parse_upload(request, allow_title=False)
        return Reply.json(self._add_version(skill, files, meta))

    def _delete_route(self, request: RecordedRequest) -> Reply:
        _require_beta(request, SKILLS_BETA, "Skills")
        parts = path_tail(request, "/v1/skills/")
        skill = self._skills.get(parts[0])
        if skill is None:
            raise not_found(f"Skill not found: {parts[0]}")
        if parts[1:] == []:
            if skill.versions:
                raise invalid(
                    f"Cannot delete skill {parts[0]}: it still has {len(skill.versions)} "
                    "version(s). Delete all of its versions first."
                )
            del self._skills[parts[0]]
            return Reply.json({"id": parts[0], "type": "skill_deleted"})
        if len(parts) == 3 and parts[1] == "versions":
            if parts[2] not in skill.versions:
                raise not_found(f"Skill version not found: {parts[2]}")
            del skill.versions[parts[2]]
            remaining = list(skill.versions)
            skill.wire["latest_version"] = remaining[-1] if remaining else None
            skill.wire["updated_at"] = timestamp(utc_now())
            return Reply.json({"id": parts[2], "type": "skill_version_deleted"})
        raise not_found(f"no such endpoint: {request.path}")

    # -- internals

    def _parse_upload(
        self, request: RecordedRequest, *, allow_title: bool
    ) -> tuple[str | None, dict[str, bytes], dict[str, str]]:
        """``(display_title, files by path, {name, description, directory})``.

        Raises:
            Refusal: the upload is not a valid skill folder (a 400, like the API's).
        """
        form = _form(request)
        title: str | None = None
        files: dict[str, bytes] = {}
        for part in form:
            if part.name == "display_title" and allow_title and part.filename is None:
                try:
                    title = part.text
                except UnicodeDecodeError:
                    raise invalid("display_title: not UTF-8 text") from None
            elif part.name in ("files[]", "files") and part.filename is not None:
                if part.filename in files:
                    raise invalid(f"files: {part.filename!r} is uploaded twice")
                files[part.filename] = part.data
            else:
                raise invalid(f"unexpected form field {part.name!r}")
        if not files:
            raise invalid("files: Field required")
        tops = {name.split("/", 1)[0] for name in files}
        if len(tops) != 1 or any("/" not in name for name in files):
            raise invalid("files: all files must be in the same top-level directory")
        (top,) = tops
        skill_md = files.get(f"{top}/{_SKILL_FILE}")
        if skill_md is None:
            raise invalid(f"files: {_SKILL_FILE} file must be in the top-level directory")
        try:
            meta = _front_matter(skill_md.decode("utf-8"))
        except UnicodeDecodeError:
            meta = None
        if meta is None:
            raise invalid(f"{_SKILL_FILE} must start with YAML front matter between '---' lines")
        name = meta.get("name", "")
        description = meta.get("description", "")
        if not _SKILL_NAME_RE.fullmatch(name):
            raise invalid(
                f"{_SKILL_FILE}: 'name' must be 1 to 64 lowercase letters, digits or hyphens"
            )
        if not 1 <= len(description) <= 1024:
            raise invalid(f"{_SKILL_FILE}: 'description' must be 1 to 1024 characters")
        return title, files, {"name": name, "description": description, "directory": top}

    def _add_version(
        self, skill: _Skill, files: dict[str, bytes], meta: Mapping[str, str]
    ) -> dict[str, Any]:
        # Versions are Unix epoch timestamps in microseconds, strictly increasing.
        self._last_version = max(time.time_ns() // 1000, self._last_version + 1)
        version = str(self._last_version)
        now = timestamp(utc_now())
        wire = {
            "type": "skill_version",
            "id": new_id("skillver"),
            "skill_id": skill.wire["id"],
            "version": version,
            "name": meta["name"],
            "description": meta["description"],
            "directory": meta["directory"],
            "created_at": now,
        }
        skill.versions[version] = _Version(wire=wire, files=files)
        skill.wire["latest_version"] = version
        skill.wire["updated_at"] = now
        return wire

    def _get(self, skill_id: str) -> _Skill:
        try:
            return self._skills[skill_id]
        except KeyError:
            raise KeyError(f"no skill {skill_id!r}; known: {self.ids}") from None


def install_skills(server: MockAnthropic) -> FakeSkills:
    """Serve the Skills API (``skills-2025-10-02`` beta) from memory; returns the state.

    A create or a new version is checked as the API checks it: every file in one
    top-level directory, a ``SKILL.md`` at its root starting with front matter that has a
    ``name`` (lowercase letters, digits, hyphens; at most 64) and a ``description``.
    Deleting a skill that still has versions gets 400 ``invalid_request_error``: delete
    its versions first. Deleting the latest version makes the previous one the latest.

    Args:
        server: a started mock server.
    """
    state = FakeSkills()
    route(server, "POST", "/v1/skills", state._create)
    route(server, "GET", "/v1/skills", state._list)
    route(server, "GET", "/v1/skills/*", state._get_route)
    route(server, "POST", "/v1/skills/*", state._post_route)
    route(server, "DELETE", "/v1/skills/*", state._delete_route)
    return state
