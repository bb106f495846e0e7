"""client.skills over real HTTP against MockAnthropic with the Skills fake."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

import sluice
from sluice import UploadError
from sluice._resources._skills import SKILLS_BETA, Skills
from sluice.testing import FakeSkills, MockAnthropic, Reply, install_skills
from sluice.types import DeletedSkill, DeletedSkillVersion, Skill, SkillVersion

pytestmark = pytest.mark.anyio

# One shared TLS context spares every client the ~40 ms httpx spends loading CA certs.
TLS = ssl.create_default_context()

SKILL_MD = b"---\nname: pdf-tools\ndescription: Fill and merge PDF forms.\n---\n\n# PDF tools\r\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\r\n--boundary-ish\r\n"
#: The folder written by the ``folder`` fixture, in the order it is uploaded: each
#: directory's files by name, then its subdirectories by name.
TREE: list[tuple[str, bytes, bytes]] = [
    ("pdf-tools/SKILL.md", b"text/markdown", SKILL_MD),
    ("pdf-tools/empty.txt", b"text/plain", b""),
    ("pdf-tools/assets/logo.png", b"image/png", PNG),
    ("pdf-tools/reference/forms/fields.md", b"text/markdown", b"# Fields\n"),
    ("pdf-tools/scripts/fill.py", b"text/x-python", b"print('fill')\r\n"),
]


@pytest.fixture
def fake(server: MockAnthropic) -> FakeSkills:
    return install_skills(server)


@pytest.fixture
def skills(client: sluice.AsyncClient, fake: FakeSkills) -> Skills:
    return client.skills


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A skill folder with nested files, plus hidden files and a cache that are skipped."""
    root = tmp_path / "pdf-tools"
    for name, _, data in TREE:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / ".DS_Store").write_bytes(b"\x00\x00")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_bytes(b"ref")
    (root / "scripts" / "__pycache__").mkdir()
    (root / "scripts" / "__pycache__" / "fill.pyc").write_bytes(b"\x00")
    return root


def boundary_of(request: Any) -> bytes:
    match = re.fullmatch(r"multipart/form-data; boundary=(\S+)", request.headers["content-type"])
    assert match is not None, request.headers["content-type"]
    return match.group(1).encode()


def expected_body(
    boundary: bytes, files: list[tuple[str, bytes, bytes]], title: bytes | None = None
) -> bytes:
    """The multipart body RFC 7578 prescribes, written out by hand."""
    body = b""
    if title is not None:
        body += (
            b"--" + boundary + b"\r\n"
            b'Content-Disposition: form-data; name="display_title"\r\n\r\n' + title + b"\r\n"
        )
    for name, content_type, data in files:
        body += (
            b"--" + boundary + b"\r\n"
            b'Content-Disposition: form-data; name="files[]"; filename="' + name.encode() + b'"\r\n'
            b"Content-Type: " + content_type + b"\r\n\r\n" + data + b"\r\n"
        )
    return body + b"--" + boundary + b"--\r\n"


def skill_files(extra: dict[str, bytes] | None = None) -> list[tuple[str, bytes]]:
    """A minimal valid skill, plus ``extra`` files inside its folder."""
    extra = extra or {}
    return [("pdf-tools/SKILL.md", SKILL_MD), *((f"pdf-tools/{k}", v) for k, v in extra.items())]


class TestCreate:
    async def test_from_folder(
        self, skills: Skills, fake: FakeSkills, server: MockAnthropic, folder: Path
    ) -> None:
        """A folder uploads every file under its relative path, byte for byte."""
        skill = await skills.create(files=folder, display_title="PDF tools ✓")
        (request,) = server.requests
        assert (request.method, request.path) == ("POST", "/v1/skills")
        assert request.body == expected_body(boundary_of(request), TREE, "PDF tools ✓".encode())
        assert request.headers["content-length"] == str(len(request.body))
        assert fake.files_of(skill.id) == {name: data for name, _, data in TREE}

    async def test_returns_the_skill(self, skills: Skills, fake: FakeSkills, folder: Path) -> None:
        """The answer is a Skill whose latest_version is its first version."""
        skill = await skills.create(files=str(folder), display_title="PDF")
        assert isinstance(skill, Skill) and skill.type == "skill"
        assert (skill.display_title, skill.source) == ("PDF", "custom")
        assert skill.latest_version == fake.versions_of(skill.id)[0]
        info = sluice.response_info(skill)
        assert info is not None and info.status_code == 200

    async def test_from_pairs_without_title(
        self, skills: Skills, fake: FakeSkills, server: MockAnthropic
    ) -> None:
        """(path, bytes) pairs upload as given; no title means no display_title part."""
        pairs = skill_files({"lib/a.bin": b"\x00\r\n--x--\r\n"})
        skill = await skills.create(files=pairs)
        (request,) = server.requests
        assert request.body == expected_body(
            boundary_of(request),
            [
                ("pdf-tools/SKILL.md", b"text/markdown", SKILL_MD),
                ("pdf-tools/lib/a.bin", b"application/octet-stream", b"\x00\r\n--x--\r\n"),
            ],
        )
        assert skill.display_title is None
        assert fake.files_of(skill.id) == dict(pairs)

    async def test_fake_checks_the_front_matter(self, skills: Skills, fake: FakeSkills) -> None:
        """A SKILL.md without name and description front matter gets 400 from the API."""
        with pytest.raises(sluice.BadRequestError, match="front matter"):
            await skills.create(files=[("s/SKILL.md", b"# no front matter\n")])
        with pytest.raises(sluice.BadRequestError, match="'name'"):
            await skills.create(
                files=[("s/SKILL.md", b"---\nname: Bad Name\ndescription: d\n---\n")]
            )
        assert fake.ids == []


class TestLayoutValidation:
    async def test_folder_without_skill_md(
        self, skills: Skills, server: MockAnthropic, folder: Path
    ) -> None:
        """A folder with no SKILL.md at its root is refused before sending, naming the file."""
        (folder / "SKILL.md").rename(folder / "skill.md")
        with pytest.raises(UploadError, match=r"no SKILL\.md.*'pdf-tools/SKILL\.md'") as caught:
            await skills.create(files=folder)
        assert caught.value.filename == "pdf-tools/SKILL.md"
        assert server.requests == []

    async def test_skill_md_only_in_a_subfolder(
        self, skills: Skills, server: MockAnthropic
    ) -> None:
        """A SKILL.md below the top-level folder does not count."""
        with pytest.raises(UploadError, match=r"no SKILL\.md"):
            await skills.create(files=[("s/sub/SKILL.md", SKILL_MD)])
        assert server.requests == []

    @pytest.mark.parametrize(
        ("pairs", "message"),
        [
            ([], "at least one file"),
            ([("SKILL.md", SKILL_MD)], "starts with the skill's folder"),
            ([("/abs/SKILL.md", SKILL_MD)], "relative path"),
            ([("a/../SKILL.md", SKILL_MD)], "relative path"),
            ([("a\\SKILL.md", SKILL_MD)], "'/' separators"),
            ([("a/SKILL.md", SKILL_MD), ("b/x.txt", b"x")], "same top-level folder"),
            ([("a/SKILL.md", SKILL_MD), ("a/SKILL.md", SKILL_MD)], "given twice"),
        ],
    )
    async def test_invalid_pairs(
        self, pairs: list[tuple[str, bytes]], message: str, skills: Skills, server: MockAnthropic
    ) -> None:
        """Paths that break the API's layout rules raise UploadError and nothing is sent."""
        with pytest.raises(UploadError, match=re.escape(message)):
            await skills.create(files=pairs)
        assert server.requests == []

    async def test_not_a_folder(self, skills: Skills, tmp_path: Path) -> None:
        """A path that is not a folder is refused."""
        with pytest.raises(UploadError, match="not a folder"):
            await skills.create(files=tmp_path / "missing")

    async def test_bad_pair_types(self, skills: Skills) -> None:
        """Items that are not (str, bytes) pairs are a TypeError."""
        with pytest.raises(TypeError, match="pair"):
            await skills.create(files=[("a/SKILL.md", "text")])  # type: ignore[list-item]


class TestList:
    async def test_paginates_with_page_tokens(
        self, skills: Skills, fake: FakeSkills, server: MockAnthropic
    ) -> None:
        """Iteration follows next_page across pages, most recent first."""
        ids = [
            (await skills.create(files=skill_files(), display_title=str(i))).id for i in range(5)
        ]
        listed = [skill async for skill in skills.list(limit=2)]
        assert [skill.id for skill in listed] == ids[::-1] == fake.ids
        queries = [r.query for r in server.requests if r.method == "GET"]
        assert [q["limit"] for q in queries] == [["2"]] * 3
        assert "page" not in queries[0] and queries[1]["page"] != queries[2]["page"]

    async def test_pages_and_source_filter(self, skills: Skills, server: MockAnthropic) -> None:
        """Pages carry has_more and next_page; source= is sent and filters."""
        await skills.create(files=skill_files())
        pages = [page async for page in skills.list(limit=1).pages()]
        assert [(p.has_more, p.next_page) for p in pages] == [(False, None)]
        assert await skills.list(source="anthropic").to_list() == []
        assert server.requests[-1].query == {"source": ["anthropic"]}

    async def test_bad_page_token(self, skills: Skills) -> None:
        """An invalid page token is a BadRequestError."""
        with pytest.raises(sluice.BadRequestError, match="page"):
            await skills.list(page="nonsense").to_list()


class TestRetrieveAndDelete:
    async def test_retrieve(self, skills: Skills) -> None:
        """retrieve answers the skill as created."""
        created = await skills.create(files=skill_files(), display_title="T")
        assert await skills.retrieve(created.id) == created

    async def test_unknown_skill_is_not_found(self, skills: Skills) -> None:
        """Unknown skill ids raise NotFoundError everywhere."""
        with pytest.raises(sluice.NotFoundError):
            await skills.retrieve("skill_missing")
        with pytest.raises(sluice.NotFoundError):
            await skills.delete("skill_missing")
        with pytest.raises(sluice.NotFoundError):
            await skills.versions.list("skill_missing").to_list()
        with pytest.raises(sluice.NotFoundError):
            await skills.versions.create("skill_missing", files=skill_files())

    async def test_delete_needs_versions_deleted_first(
        self, skills: Skills, fake: FakeSkills
    ) -> None:
        """A skill with versions cannot be deleted; once they are gone it can."""
        skill = await skills.create(files=skill_files())
        with pytest.raises(sluice.BadRequestError, match="versions"):
            await skills.delete(skill.id)
        async for version in skills.versions.list(skill.id):
            await skills.versions.delete(skill.id, version.version)
        deleted = await skills.delete(skill.id)
        assert deleted == DeletedSkill(id=skill.id) and deleted.type == "skill_deleted"
        assert fake.ids == []

    async def test_empty_ids(self, skills: Skills) -> None:
        """Empty ids are a ValueError before any request."""
        with pytest.raises(ValueError, match="skill id"):
            await skills.retrieve("")
        with pytest.raises(ValueError, match="version"):
            await skills.versions.retrieve("skill_1", "")


class TestVersions:
    async def test_create_makes_it_latest(
        self, skills: Skills, fake: FakeSkills, server: MockAnthropic, folder: Path
    ) -> None:
        """A new version uploads the folder and becomes the skill's latest_version."""
        skill = await skills.create(files=folder)
        (folder / "scripts" / "fill.py").write_bytes(b"print('v2')\n")
        version = await skills.versions.create(skill.id, files=folder)
        request = server.requests[-1]
        assert request.path == f"/v1/skills/{skill.id}/versions"
        tree = [(n, t, b"print('v2')\n" if n.endswith("fill.py") else d) for n, t, d in TREE]
        assert request.body == expected_body(boundary_of(request), tree)
        assert isinstance(version, SkillVersion) and version.type == "skill_version"
        assert (version.skill_id, version.name, version.directory) == (
            skill.id,
            "pdf-tools",
            "pdf-tools",
        )
        assert version.description == "Fill and merge PDF forms."
        assert int(version.version) > int(skill.latest_version or 0)
        assert (await skills.retrieve(skill.id)).latest_version == version.version
        assert fake.files_of(skill.id)["pdf-tools/scripts/fill.py"] == b"print('v2')\n"

    async def test_list_paginates_newest_first(self, skills: Skills) -> None:
        """Versions list most recent first across pages."""
        skill = await skills.create(files=skill_files())
        made = [skill.latest_version]
        for _ in range(3):
            made.append((await skills.versions.create(skill.id, files=skill_files())).version)
        listed = [v.version async for v in skills.versions.list(skill.id, limit=3)]
        assert listed == made[::-1]

    async def test_retrieve(self, skills: Skills) -> None:
        """retrieve(skill_id, version) answers that version."""
        skill = await skills.create(files=skill_files())
        assert skill.latest_version is not None
        version = await skills.versions.retrieve(skill.id, skill.latest_version)
        assert (version.skill_id, version.version) == (skill.id, skill.latest_version)

    async def test_delete_latest_falls_back(self, skills: Skills) -> None:
        """Deleting the latest version makes the previous one latest."""
        skill = await skills.create(files=skill_files())
        second = await skills.versions.create(skill.id, files=skill_files())
        deleted = await skills.versions.delete(skill.id, second.version)
        assert deleted == DeletedSkillVersion(id=second.version)
        assert deleted.type == "skill_version_deleted"
        assert (await skills.retrieve(skill.id)).latest_version == skill.latest_version

    async def test_unknown_version_is_not_found(self, skills: Skills) -> None:
        """Unknown versions raise NotFoundError."""
        skill = await skills.create(files=skill_files())
        with pytest.raises(sluice.NotFoundError) as caught:
            await skills.versions.retrieve(skill.id, "1")
        assert caught.value.error_type == "not_found_error"
        with pytest.raises(sluice.NotFoundError):
            await skills.versions.delete(skill.id, "1")

    async def test_missing_skill_md_refused(self, skills: Skills, server: MockAnthropic) -> None:
        """A new version without SKILL.md is refused before sending."""
        with pytest.raises(UploadError, match=r"SKILL\.md"):
            await skills.versions.create("skill_1", files=[("a/README.md", b"x")])
        assert server.requests == []


class TestWire:
    async def test_unknown_fields_are_kept(
        self, client: sluice.AsyncClient, server: MockAnthropic
    ) -> None:
        """Fields this version does not model survive decoding and re-encoding."""
        body = {
            "type": "skill",
            "id": "skill_1",
            "display_title": None,
            "latest_version": "1759178010641129",
            "source": "anthropic",
            "created_at": "2025-10-02T00:00:00Z",
            "updated_at": "2025-10-02T00:00:00Z",
            "brand_new": [1, 2],
        }
        server.route("GET", "/v1/skills/skill_1", Reply.json(body))
        skill = await client.skills.retrieve("skill_1")
        assert msgspec.json.decode(sluice.to_json(skill)) == body

    async def test_every_request_carries_the_beta(
        self, skills: Skills, server: MockAnthropic
    ) -> None:
        """Every endpoint sends the skills beta header."""
        skill = await skills.create(files=skill_files())
        assert skill.latest_version is not None
        await skills.list().to_list()
        await skills.retrieve(skill.id)
        await skills.versions.list(skill.id).to_list()
        await skills.versions.retrieve(skill.id, skill.latest_version)
        await skills.versions.delete(skill.id, skill.latest_version)
        await skills.delete(skill.id)
        assert len(server.requests) == 7
        assert all(r.headers["anthropic-beta"] == SKILLS_BETA for r in server.requests)

    async def test_fake_refuses_requests_without_it(
        self, server: MockAnthropic, fake: FakeSkills
    ) -> None:
        """Without the beta header the fake answers 400 invalid_request_error, like the API."""
        async with httpx.AsyncClient(base_url=server.base_url, verify=TLS) as http:
            response = await http.get("/v1/skills")
        assert response.status_code == 400
        assert SKILLS_BETA in response.json()["error"]["message"]
