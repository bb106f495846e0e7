"""client.files over real HTTP against MockAnthropic with the Files fake."""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import msgspec
import pytest

import sluice
import sluice._resources._files as files_module
from sluice import UploadError
from sluice._http._multipart import PathSource, guess_mime_type
from sluice._resources._files import FILES_BETA, MAX_FILE_SIZE, Files
from sluice.testing import FakeFiles, MockAnthropic, Reply, install_files
from sluice.testing._fakes_files import MultipartError, MultipartParser, parse_multipart
from sluice.types import DeletedFile, FileMetadata

pytestmark = pytest.mark.anyio

# One shared TLS context spares every client the ~40 ms httpx spends loading CA certs.
TLS = ssl.create_default_context()

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(40))
#: Everything a multipart encoder can get wrong: CRLFs, blank lines, boundary look-alikes
#: (with and without the leading CRLF, with the closing dashes), NULs and every byte value.
TRICKY = (
    b"--sluice-\r\n\r\n--sluice-00000000000000000000000000000000--\r\n"
    + b"\r\n--sluice-ffffffffffffffffffffffffffffffff\r\n"
    + b'Content-Disposition: form-data; name="file"\r\n\r\n\r\n'
    + bytes(range(256)) * 8
    + b"\r\n--\r\n--\r\n\r\n\x00\r"
)


@pytest.fixture
def fake(server: MockAnthropic) -> FakeFiles:
    return install_files(server)


@pytest.fixture
def files(client: sluice.AsyncClient, fake: FakeFiles) -> Files:
    return client.files


def boundary_of(request: Any) -> str:
    match = re.fullmatch(r"multipart/form-data; boundary=(\S+)", request.headers["content-type"])
    assert match is not None, request.headers["content-type"]
    return match.group(1)


def expected_body(boundary: str, filename: bytes, content_type: bytes, data: bytes) -> bytes:
    """The multipart body RFC 7578 prescribes, written out by hand."""
    b = boundary.encode()
    return (
        b"--" + b + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: " + content_type + b"\r\n"
        b"\r\n" + data + b"\r\n"
        b"--" + b + b"--\r\n"
    )


async def chunks_of(
    data: bytes, size: int, closed: list[bool] | None = None
) -> AsyncIterator[bytes]:
    try:
        for start in range(0, len(data), size):
            yield data[start : start + size]
            await anyio.lowlevel.checkpoint()
    finally:
        if closed is not None:
            closed.append(True)


def uploads(server: MockAnthropic) -> list[Any]:
    return [r for r in server.requests if r.method == "POST" and r.path == "/v1/files"]


class TestUploadBytes:
    async def test_body_is_exact_multipart(
        self, files: Files, fake: FakeFiles, server: MockAnthropic
    ) -> None:
        """Bytes go out as the exact RFC 7578 body, with Content-Length, and are stored as sent."""
        data = b"hello\r\nworld\n"
        metadata = await files.upload(data, filename="notes.txt")
        (request,) = uploads(server)
        assert request.body == expected_body(
            boundary_of(request), b"notes.txt", b"text/plain", data
        )
        assert request.headers["content-length"] == str(len(request.body))
        assert "transfer-encoding" not in request.headers
        assert fake.content_of(metadata.id) == data
        assert (metadata.filename, metadata.mime_type, metadata.size_bytes) == (
            "notes.txt",
            "text/plain",
            len(data),
        )

    async def test_returns_file_metadata(self, files: Files) -> None:
        """The answer is a FileMetadata with the response's request id attached."""
        metadata = await files.upload(PDF, filename="a.pdf")
        assert isinstance(metadata, FileMetadata)
        assert metadata.type == "file" and metadata.id.startswith("file_")
        assert metadata.created_at.endswith("Z") and metadata.downloadable is True
        info = sluice.response_info(metadata)
        assert info is not None and info.status_code == 200
        assert info.request_id and info.request_id.startswith("req_")

    async def test_filename_is_escaped(
        self, files: Files, fake: FakeFiles, server: MockAnthropic
    ) -> None:
        """Quotes, backslashes and line breaks in a filename are escaped as WHATWG forms do."""
        metadata = await files.upload(b"x", filename='we"ird\\na\r\nme ü.txt')
        (request,) = uploads(server)
        escaped = "we%22ird\\\\na%0D%0Ame ü.txt".encode()
        assert request.body == expected_body(boundary_of(request), escaped, b"text/plain", b"x")
        assert fake.metadata_of(metadata.id)["filename"] == 'we"ird\\na\r\nme ü.txt'

    async def test_accepts_bytearray_and_memoryview(self, files: Files, fake: FakeFiles) -> None:
        """Any bytes-like source uploads its bytes."""
        first = await files.upload(bytearray(b"abc"), filename="a.bin")
        second = await files.upload(memoryview(b"defg"), filename="b.bin")
        assert fake.content_of(first.id) == b"abc" and fake.content_of(second.id) == b"defg"

    async def test_rejects_other_sources(self, files: Files) -> None:
        """A source that is neither a path, bytes nor an async iterable is a TypeError."""
        with pytest.raises(TypeError, match="async iterable"):
            await files.upload(12345)  # type: ignore[arg-type]


class TestUploadTricky:
    @pytest.mark.parametrize("kind", ["bytes", "path", "stream"])
    async def test_binary_round_trips_byte_for_byte(
        self, kind: str, files: Files, fake: FakeFiles, server: MockAnthropic, tmp_path: Path
    ) -> None:
        """Binary data with CRLFs and boundary look-alikes arrives and is stored unchanged."""
        source: Any = TRICKY
        if kind == "path":
            source = tmp_path / "tricky.bin"
            source.write_bytes(TRICKY)
        elif kind == "stream":
            source = chunks_of(TRICKY, 333)
        metadata = await files.upload(source, filename="tricky.bin")
        (request,) = uploads(server)
        assert request.body == expected_body(
            boundary_of(request), b"tricky.bin", b"application/octet-stream", TRICKY
        )
        assert fake.content_of(metadata.id) == TRICKY
        assert metadata.size_bytes == len(TRICKY)


class TestUploadPath:
    async def test_streams_the_file_with_its_name(
        self, files: Files, fake: FakeFiles, server: MockAnthropic, tmp_path: Path
    ) -> None:
        """A path uploads under its own name, with Content-Length, read in chunks from disk."""
        data = bytes(range(256)) * 4096  # 1 MiB: several read chunks
        path = tmp_path / "data.bin"
        path.write_bytes(data)
        metadata = await files.upload(path)
        (request,) = uploads(server)
        assert request.body == expected_body(
            boundary_of(request), b"data.bin", b"application/octet-stream", data
        )
        assert request.headers["content-length"] == str(len(request.body))
        assert fake.content_of(metadata.id) == data

    async def test_str_path_and_filename_override(
        self, files: Files, fake: FakeFiles, tmp_path: Path
    ) -> None:
        """A str path works too, and filename= replaces the name on disk."""
        path = tmp_path / "scan.pdf"
        path.write_bytes(PDF)
        metadata = await files.upload(str(path), filename="report.pdf")
        assert (metadata.filename, metadata.mime_type) == ("report.pdf", "application/pdf")
        assert fake.content_of(metadata.id) == PDF

    async def test_missing_file(self, files: Files, server: MockAnthropic, tmp_path: Path) -> None:
        """A path that does not exist is an UploadError and nothing is sent."""
        with pytest.raises(UploadError, match="does not exist"):
            await files.upload(tmp_path / "nope.txt")
        assert uploads(server) == []

    async def test_directory_is_not_a_file(
        self, files: Files, server: MockAnthropic, tmp_path: Path
    ) -> None:
        """A folder is refused with an UploadError."""
        with pytest.raises(UploadError, match="not a file"):
            await files.upload(tmp_path)
        assert uploads(server) == []

    async def test_retry_reads_the_file_again(
        self, files: Files, fake: FakeFiles, server: MockAnthropic, tmp_path: Path
    ) -> None:
        """After a 529 the upload is retried and the file is read again from the start."""
        path = tmp_path / "a.txt"
        path.write_bytes(b"retry me\n" * 1000)
        server.enqueue(
            Reply.error(529, "overloaded_error", "Overloaded", headers={"retry-after-ms": "0"})
        )
        metadata = await files.upload(path)
        first, second = uploads(server)
        assert first.body == second.body
        assert fake.content_of(metadata.id) == path.read_bytes()

    async def test_file_that_changes_size_is_refused(self, tmp_path: Path) -> None:
        """A file that grew or shrank since it was measured stops the upload with UploadError."""
        path = tmp_path / "a.txt"
        path.write_bytes(b"0123456789")
        for size, word in ((5, "grew"), (20, "shrank")):
            chunks = PathSource(str(path), size).chunks()
            with pytest.raises(UploadError, match=word):
                async for _ in chunks:
                    pass
            await chunks.aclose()


class TestUploadAsyncIterable:
    async def test_streams_chunked_and_closes_the_iterator(
        self, files: Files, fake: FakeFiles, server: MockAnthropic
    ) -> None:
        """An async iterable is sent as it yields, chunked, and is closed afterwards."""
        data = b"line of text\n" * 5000
        closed: list[bool] = []
        metadata = await files.upload(chunks_of(data, 4096, closed), filename="log.txt")
        (request,) = uploads(server)
        assert request.headers.get("transfer-encoding") == "chunked"
        assert request.body == expected_body(boundary_of(request), b"log.txt", b"text/plain", data)
        assert fake.content_of(metadata.id) == data
        assert closed == [True]

    async def test_small_iterable_is_sent_with_length(
        self, files: Files, fake: FakeFiles, server: MockAnthropic
    ) -> None:
        """An iterable that ends within the first KiB is sent as bytes, with Content-Length."""
        metadata = await files.upload(chunks_of(PNG, 7))
        (request,) = uploads(server)
        assert request.headers["content-length"] == str(len(request.body))
        assert request.body == expected_body(boundary_of(request), b"upload.png", b"image/png", PNG)
        assert fake.content_of(metadata.id) == PNG

    async def test_is_not_retried(
        self, files: Files, fake: FakeFiles, server: MockAnthropic
    ) -> None:
        """A one-shot iterable is sent once: a 529 is raised, not retried, and it is closed."""
        closed: list[bool] = []
        server.enqueue(
            Reply.error(529, "overloaded_error", "Overloaded", headers={"retry-after-ms": "0"})
        )
        with pytest.raises(sluice.OverloadedError):
            await files.upload(chunks_of(b"z" * 5000, 1000, closed), filename="z.txt")
        assert len(uploads(server)) == 1
        assert fake.ids == [] and closed == [True]

    async def test_non_bytes_items_are_refused(self, files: Files) -> None:
        """An iterable that yields str is a TypeError."""

        async def text() -> AsyncIterator[Any]:
            yield "not bytes"

        with pytest.raises(TypeError, match="yielded str"):
            await files.upload(text(), filename="a.txt")


class TestMimeDetection:
    @pytest.mark.parametrize(
        ("head", "expected"),
        [
            (PDF, "application/pdf"),
            (PNG, "image/png"),
            (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
            (b"GIF89a\x01\x00\x01\x00", "image/gif"),
            (b"GIF87a\x01\x00\x01\x00", "image/gif"),
            (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
            (b"RIFF\x24\x00\x00\x00WAVEfmt ", "application/octet-stream"),
            ("plain text, café\n".encode(), "text/plain"),
            (b"\x00\x01\x02binary", "application/octet-stream"),
            (b"\xc3\x28 invalid utf-8", "application/octet-stream"),
        ],
    )
    def test_magic_bytes(self, head: bytes, expected: str) -> None:
        """Without a known extension, the content decides the type."""
        assert guess_mime_type(None, head, complete=True) == expected
        assert guess_mime_type("noext", head, complete=True) == expected

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("a.pdf", "application/pdf"),
            ("a.csv", "text/csv"),
            ("README.md", "text/markdown"),
            ("a.json", "application/json"),
            ("a.tar.gz", "application/gzip"),
            ("a.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ],
    )
    def test_extension_wins(self, name: str, expected: str) -> None:
        """A known extension decides the type, whatever the content."""
        assert guess_mime_type(name, PNG) == expected

    def test_text_cut_mid_character(self) -> None:
        """A head that ends inside a UTF-8 sequence of a longer file is still text."""
        head = ("é" * 600).encode()[:1023]
        assert guess_mime_type(None, head) == "text/plain"
        assert guess_mime_type(None, head, complete=True) == "application/octet-stream"

    async def test_sent_part_type_and_default_name(
        self, files: Files, server: MockAnthropic
    ) -> None:
        """An unnamed upload is named upload.<ext> after the detected type, sent as its type."""
        for data, name, content_type in (
            (PDF, b"upload.pdf", b"application/pdf"),
            (PNG, b"upload.png", b"image/png"),
            (b"GIF89a....", b"upload.gif", b"image/gif"),
            (b"just words", b"upload.txt", b"text/plain"),
            (b"\x00\x00", b"upload.bin", b"application/octet-stream"),
        ):
            await files.upload(data)
            request = uploads(server)[-1]
            assert request.body == expected_body(boundary_of(request), name, content_type, data)

    async def test_explicit_mime_type_wins(self, files: Files, server: MockAnthropic) -> None:
        """mime_type= is sent as given."""
        metadata = await files.upload(PDF, filename="a.pdf", mime_type="application/x-custom")
        assert metadata.mime_type == "application/x-custom"
        assert b"Content-Type: application/x-custom\r\n" in uploads(server)[0].body


class TestSizeValidation:
    def test_limit_is_the_api_maximum(self) -> None:
        """The limit is the Files API's 500 MB."""
        assert MAX_FILE_SIZE == 500 * 1024 * 1024

    async def test_empty_sources_are_refused(
        self, files: Files, server: MockAnthropic, tmp_path: Path
    ) -> None:
        """Empty bytes, an empty file and an empty iterable are refused before sending."""
        empty = tmp_path / "empty.txt"
        empty.write_bytes(b"")
        for source in (b"", empty, chunks_of(b"", 1)):
            with pytest.raises(UploadError, match="empty") as caught:
                await files.upload(source)
            assert isinstance(caught.value, ValueError)
        assert uploads(server) == []

    async def test_too_large_is_refused_before_sending(
        self, files: Files, server: MockAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Bytes or a file over the limit raise UploadError with the size, and nothing is sent."""
        monkeypatch.setattr(files_module, "MAX_FILE_SIZE", 100)
        path = tmp_path / "big.bin"
        path.write_bytes(b"x" * 101)
        for source in (b"x" * 101, path):
            with pytest.raises(UploadError, match="more than the limit of 100 bytes") as caught:
                await files.upload(source)
            assert caught.value.size == 101
        assert server.requests == []

    async def test_too_large_stream_is_aborted(
        self,
        files: Files,
        fake: FakeFiles,
        server: MockAnthropic,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """An iterable that passes the limit while streaming aborts the upload; nothing is stored."""
        monkeypatch.setattr(files_module, "MAX_FILE_SIZE", 10_000)
        closed: list[bool] = []
        with pytest.raises(UploadError, match="larger than the limit") as caught:
            await files.upload(chunks_of(b"y" * 20_000, 2048, closed), filename="y.bin")
        assert caught.value.filename == "y.bin" and caught.value.size is not None
        assert fake.ids == [] and closed == [True]

    async def test_exact_limit_is_accepted(
        self, files: Files, fake: FakeFiles, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A file of exactly the limit is uploaded."""
        monkeypatch.setattr(files_module, "MAX_FILE_SIZE", 5000)
        metadata = await files.upload(chunks_of(b"k" * 5000, 999), filename="k.txt")
        assert fake.content_of(metadata.id) == b"k" * 5000


class TestList:
    async def test_paginates_across_pages(self, files: Files, server: MockAnthropic) -> None:
        """Iteration follows last_id across pages, most recent first, one page at a time."""
        ids = [(await files.upload(b"%d" % i, filename=f"{i}.txt")).id for i in range(5)]
        listed = [item async for item in files.list(limit=2)]
        assert [item.id for item in listed] == ids[::-1]
        assert all(isinstance(item, FileMetadata) for item in listed)
        queries = [r.query for r in server.requests if r.method == "GET"]
        assert queries == [
            {"limit": ["2"]},
            {"limit": ["2"], "after_id": [ids[3]]},
            {"limit": ["2"], "after_id": [ids[1]]},
        ]

    async def test_pages_carry_cursors(self, files: Files) -> None:
        """Each page has has_more, first_id and last_id as the API sends them."""
        ids = [(await files.upload(b"x", filename=f"{i}.txt")).id for i in range(3)]
        pages = [page async for page in files.list(limit=2).pages()]
        assert [(p.has_more, p.first_id, p.last_id) for p in pages] == [
            (True, ids[2], ids[1]),
            (False, ids[0], ids[0]),
        ]

    async def test_backward_with_before_id(self, files: Files) -> None:
        """before_id lists the newer files before it, going backward page by page."""
        ids = [(await files.upload(b"x", filename=f"{i}.txt")).id for i in range(5)]
        listed = [item.id async for item in files.list(limit=1, before_id=ids[1])]
        assert listed == [ids[2], ids[3], ids[4]]

    async def test_empty(self, files: Files) -> None:
        """An empty workspace lists nothing."""
        assert await files.list().to_list() == []

    async def test_unknown_fields_are_kept(
        self, client: sluice.AsyncClient, server: MockAnthropic
    ) -> None:
        """Fields this version does not model survive decoding and re-encoding."""
        item = {
            "type": "file",
            "id": "file_1",
            "filename": "a.txt",
            "mime_type": "text/plain",
            "size_bytes": 1,
            "created_at": "2025-01-01T00:00:00Z",
            "downloadable": False,
            "brand_new": {"x": 1},
        }
        server.route("GET", "/v1/files", Reply.json({"data": [item], "has_more": False}))
        (listed,) = await client.files.list().to_list()
        assert msgspec.json.decode(sluice.to_json(listed)) == item


class TestRetrieveMetadata:
    async def test_returns_the_stored_metadata(self, files: Files, fake: FakeFiles) -> None:
        """retrieve_metadata answers the metadata the upload returned."""
        uploaded = await files.upload(PDF, filename="a.pdf")
        retrieved = await files.retrieve_metadata(uploaded.id)
        assert retrieved == uploaded
        assert msgspec.json.decode(sluice.to_json(retrieved)) == fake.metadata_of(uploaded.id)

    async def test_unknown_id_is_not_found(self, files: Files) -> None:
        """An unknown id raises NotFoundError with the API's error type."""
        with pytest.raises(sluice.NotFoundError) as caught:
            await files.retrieve_metadata("file_missing")
        assert caught.value.status_code == 404 and caught.value.error_type == "not_found_error"

    async def test_empty_id(self, files: Files) -> None:
        """An empty id is a ValueError before any request."""
        with pytest.raises(ValueError, match="non-empty file id"):
            await files.retrieve_metadata("")


class TestDownload:
    async def test_streams_the_exact_bytes(self, files: Files) -> None:
        """The content streams back byte for byte with the file's type and length."""
        uploaded = await files.upload(TRICKY, filename="t.bin")
        async with files.download(uploaded.id, chunk_size=1000) as content:
            received = [chunk async for chunk in content]
        assert b"".join(received) == TRICKY
        assert all(len(chunk) == 1000 for chunk in received[:-1])
        assert content.mime_type == "application/octet-stream"
        assert content.size == len(TRICKY) == content.bytes_received
        assert content.request_id and content.request_id.startswith("req_")

    async def test_download_to_equals_the_upload(
        self, files: Files, server: MockAnthropic, tmp_path: Path
    ) -> None:
        """download_to writes the file as uploaded and leaves no temporary file behind."""
        source = tmp_path / "in.bin"
        source.write_bytes(bytes(range(256)) * 2048)
        uploaded = await files.upload(source)
        target = tmp_path / "out" / "copy.bin"
        target.parent.mkdir()
        written = await files.download_to(uploaded.id, target)
        assert written == source.stat().st_size
        assert target.read_bytes() == source.read_bytes()
        assert [p.name for p in target.parent.iterdir()] == ["copy.bin"]
        request = server.requests[-1]
        assert request.path == f"/v1/files/{uploaded.id}/content"
        assert request.headers["accept"] == "application/binary"

    async def test_unknown_id_leaves_no_file(self, files: Files, tmp_path: Path) -> None:
        """A 404 raises NotFoundError and creates nothing on disk."""
        target = tmp_path / "x.bin"
        with pytest.raises(sluice.NotFoundError):
            await files.download_to("file_missing", target)
        assert [p async for p in anyio.Path(tmp_path).iterdir()] == []

    async def test_failed_download_keeps_the_old_file(
        self, files: Files, server: MockAnthropic, tmp_path: Path
    ) -> None:
        """A connection that breaks mid-body raises and leaves the existing target untouched."""
        target = tmp_path / "x.bin"
        target.write_bytes(b"old")
        server.route(
            "GET",
            "/v1/files/file_1/content",
            Reply.json(b"0123456789" * 1000, drop_after=5000),
        )
        with pytest.raises(sluice.IncompleteStreamError, match="connection failed"):
            await files.download_to("file_1", target)
        assert [p.name async for p in anyio.Path(tmp_path).iterdir()] == ["x.bin"]
        assert await anyio.Path(target).read_bytes() == b"old"

    async def test_not_downloadable(
        self, server: MockAnthropic, client: sluice.AsyncClient
    ) -> None:
        """Downloading an uploaded file, as the API refuses it, raises BadRequestError."""
        install_files(server, downloadable_uploads=False)
        api = client.files
        uploaded = await api.upload(b"secret", filename="s.txt")
        assert uploaded.downloadable is False
        with pytest.raises(sluice.BadRequestError) as caught:
            async with api.download(uploaded.id) as content:
                await content.__anext__()
        assert caught.value.body["error"]["details"]["error_code"] == "file_not_downloadable"

    async def test_tool_output_is_downloadable(self, files: Files, fake: FakeFiles) -> None:
        """A file added as a tool would create it downloads with its MIME type."""
        file_id = fake.add(b"a,b\n1,2\n", filename="out.csv", mime_type="text/csv")
        async with files.download(file_id) as content:
            assert b"".join([chunk async for chunk in content]) == b"a,b\n1,2\n"
        assert content.mime_type == "text/csv"

    async def test_break_releases_the_connection(self, files: Files) -> None:
        """Leaving the block early closes the response; the download is then closed."""
        uploaded = await files.upload(b"q" * 100_000, filename="q.txt")
        async with files.download(uploaded.id, chunk_size=10) as content:
            async for _ in content:
                break
        assert content.response is not None and content.response.is_closed
        with pytest.raises(sluice.SluiceError, match="closed"):
            await content._open()

    async def test_iterating_without_async_with(self, files: Files) -> None:
        """A bare async for sends the request on the first item and ends cleanly."""
        uploaded = await files.upload(b"abc", filename="a.txt")
        assert [chunk async for chunk in files.download(uploaded.id)] == [b"abc"]


class TestDelete:
    async def test_deletes(self, files: Files, fake: FakeFiles) -> None:
        """delete answers DeletedFile; the file is then gone."""
        uploaded = await files.upload(b"x", filename="a.txt")
        deleted = await files.delete(uploaded.id)
        assert deleted == DeletedFile(id=uploaded.id) and deleted.type == "file_deleted"
        assert fake.ids == []
        with pytest.raises(sluice.NotFoundError):
            await files.retrieve_metadata(uploaded.id)

    async def test_unknown_id_is_not_found(self, files: Files) -> None:
        """Deleting an unknown file raises NotFoundError."""
        with pytest.raises(sluice.NotFoundError):
            await files.delete("file_missing")


class TestBetaHeader:
    async def test_every_request_carries_it(self, files: Files, server: MockAnthropic) -> None:
        """Upload, list, retrieve, download and delete all send the files beta header."""
        uploaded = await files.upload(b"x", filename="a.txt")
        await files.list().to_list()
        await files.retrieve_metadata(uploaded.id)
        async with files.download(uploaded.id) as content:
            async for _ in content:
                pass
        await files.delete(uploaded.id)
        assert len(server.requests) == 5
        assert all(r.headers["anthropic-beta"] == FILES_BETA for r in server.requests)

    async def test_not_duplicated(self, server: MockAnthropic, fake: FakeFiles) -> None:
        """A client that already sends the beta (plus another) sends it once."""
        async with sluice.AsyncClient(
            api_key="k", base_url=server.base_url, betas=[FILES_BETA, "other-beta"]
        ) as client:
            await client.files.upload(b"x", filename="a.txt")
            await client.files.list(betas=["extra"]).to_list()
        assert server.requests[0].headers["anthropic-beta"] == f"{FILES_BETA},other-beta"
        assert server.requests[1].headers["anthropic-beta"] == f"{FILES_BETA},other-beta,extra"

    async def test_fake_refuses_requests_without_it(
        self, server: MockAnthropic, fake: FakeFiles
    ) -> None:
        """Without the beta header the fake answers 400 invalid_request_error, like the API."""
        async with httpx.AsyncClient(base_url=server.base_url, verify=TLS) as http:
            response = await http.get("/v1/files")
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert FILES_BETA in response.json()["error"]["message"]


class TestFakeMultipart:
    def test_any_chunking_parses_the_same(self) -> None:
        """Feeding the body at every split point gives the same parts as feeding it whole."""
        body = expected_body("b-1", b"f.bin", b"application/octet-stream", TRICKY[:300])
        whole = parse_multipart(body, "multipart/form-data; boundary=b-1")
        assert [(p.name, p.filename, p.data) for p in whole] == [("file", "f.bin", TRICKY[:300])]
        for split in range(len(body) + 1):
            parser = MultipartParser("b-1")
            parts = parser.feed(body[:split]) + parser.feed(body[split:])
            parser.close()
            assert parts == whole

    def test_preamble_epilogue_and_padding(self) -> None:
        """A preamble, transport padding after a boundary and an epilogue are ignored."""
        body = (
            b"preamble\r\n--xyz  \t\r\n"
            b'Content-Disposition: form-data; name="a"\r\n\r\n1\r\n'
            b'--xyz\r\ncontent-disposition: form-data; name="b"; filename=f\r\n\r\n\r\n'
            b"--xyz--\r\nepilogue"
        )
        parts = parse_multipart(body, 'multipart/form-data; boundary="xyz"')
        assert [(p.name, p.filename, p.data) for p in parts] == [("a", None, b"1"), ("b", "f", b"")]

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx', "before the closing"),
            (b"--b\r\nX-No-Disposition: 1\r\n\r\nx\r\n--b--", "no Content-Disposition"),
            (b"--b junk\r\n", "followed by other text"),
            (b"--b\r\nnot a header\r\n\r\n", "malformed part header"),
            (b'--b\r\nContent-Disposition: attachment; name="a"\r\n\r\n\r\n--b--', "form-data"),
        ],
    )
    def test_malformed(self, body: bytes, message: str) -> None:
        """Broken framing raises MultipartError."""
        with pytest.raises(MultipartError, match=message):
            parse_multipart(body, "multipart/form-data; boundary=b")

    async def test_fake_rejects_a_broken_upload(
        self, server: MockAnthropic, fake: FakeFiles
    ) -> None:
        """An upload body without its closing boundary gets 400 and stores nothing."""
        async with httpx.AsyncClient(base_url=server.base_url, verify=TLS) as http:
            response = await http.post(
                "/v1/files",
                content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nx',
                headers={
                    "content-type": "multipart/form-data; boundary=b",
                    "anthropic-beta": FILES_BETA,
                },
            )
        assert response.status_code == 400
        assert "multipart" in response.json()["error"]["message"]
        assert fake.ids == []

    async def test_fake_keeps_the_last_path_component(self, files: Files) -> None:
        """Like the API, the fake stores only the last component of a filename."""
        metadata = await files.upload(b"x", filename="dir/sub/name.txt")
        assert metadata.filename == "name.txt"
