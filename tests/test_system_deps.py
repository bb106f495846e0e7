"""scripts/system-deps.sh, make and .ci/run on a bare Debian machine with python3 and make.

The script runs here against stub commands (``id``, ``apt-get``, ``dpkg-query``, a
``python3`` without ensurepip...), so what it would install, in which order and how often
is checked without touching this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "system-deps.sh"
BASH = shutil.which("bash") or "/bin/bash"
EVERYTHING = "python3-venv redis-server chromium fonts-liberation"


class Machine:
    """A PATH of stubs standing for a Debian machine with some packages installed."""

    def __init__(
        self,
        directory: Path,
        *,
        installed: tuple[str, ...] = (),
        root: bool = True,
        apt: bool = True,
    ) -> None:
        self.bin = directory / "bin"
        self.bin.mkdir()
        self.apt_log = directory / "apt.log"
        self.stub("id", f"echo {0 if root else 1000}")
        if apt:
            self.stub("apt-get", f'echo "$*" >> {self.apt_log}')
        packages = " ".join(installed)
        self.stub(
            "dpkg-query",
            f'for p in {packages}; do [ "$3" = "$p" ] && {{ printf "install ok installed"; '
            "exit 0; }; done; exit 1",
        )
        for binary in ("redis-server", "chromium"):
            if binary in installed:
                self.stub(binary, "exit 0")
        # Debian's python3 imports ensurepip only with python3-venv installed.
        self.stub("python3", "exit 0" if "python3-venv" in installed else "exit 1")
        grep = shutil.which("grep")
        assert grep is not None
        (self.bin / "grep").symlink_to(grep)

    def stub(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)

    def run(self, *args: str, ci: bool = False) -> subprocess.CompletedProcess[str]:
        env = {"PATH": str(self.bin), "PYTHON": str(self.bin / "python3")}
        if ci:
            env["CI"] = "true"
        return subprocess.run(
            [BASH, str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
        )

    @property
    def apt_calls(self) -> list[str]:
        return self.apt_log.read_text().splitlines() if self.apt_log.exists() else []


class TestSystemDeps:
    def test_a_bare_debian_machine_as_root(self, tmp_path: Path) -> None:
        """python3 and make only: one apt-get update, then every package, no recommends."""
        machine = Machine(tmp_path)
        result = machine.run()
        assert result.returncode == 0, result.stderr
        assert machine.apt_calls == [
            "update -qq",
            f"install -y -qq --no-install-recommends {EVERYTHING}",
        ]

    def test_nothing_to_do_when_everything_is_there(self, tmp_path: Path) -> None:
        """Idempotent: a second run on a ready machine calls no apt-get at all."""
        machine = Machine(tmp_path, installed=tuple(EVERYTHING.split()))
        assert machine.run().returncode == 0
        assert machine.apt_calls == []

    def test_only_what_is_missing(self, tmp_path: Path) -> None:
        """Chromium there but not its fonts (installed without recommends): just the fonts."""
        machine = Machine(tmp_path, installed=("python3-venv", "redis-server", "chromium"))
        assert machine.run().returncode == 0
        assert machine.apt_calls == [
            "update -qq",
            "install -y -qq --no-install-recommends fonts-liberation",
        ]

    def test_the_venv_group(self, tmp_path: Path) -> None:
        """`system-deps.sh venv` (what make's venv step runs) brings python3-venv only."""
        machine = Machine(tmp_path)
        assert machine.run("venv").returncode == 0
        assert machine.apt_calls == [
            "update -qq",
            "install -y -qq --no-install-recommends python3-venv",
        ]

    @pytest.mark.parametrize(("ci", "code"), [(False, 0), (True, 1)])
    def test_without_root(self, tmp_path: Path, ci: bool, code: int) -> None:
        """Not root: says what to install; fails under CI=true, where nothing is skipped."""
        machine = Machine(tmp_path, root=False)
        result = machine.run(ci=ci)
        assert result.returncode == code
        assert f"apt-get install {EVERYTHING}" in result.stderr
        assert machine.apt_calls == []

    def test_an_unknown_group(self, tmp_path: Path) -> None:
        """A typo is an error, not a silent no-op."""
        assert Machine(tmp_path).run("everything").returncode == 2


class TestOrder:
    def test_make_test_installs_before_it_builds_the_venv(self, tmp_path: Path) -> None:
        """`make test` on a fresh checkout: system deps, then `python3 -m venv`, then pytest."""
        make = shutil.which("make")
        if make is None:
            pytest.skip("no make here")
        venv = tmp_path / "venv"
        result = subprocess.run(
            [make, "-n", "test", f"VENV={venv}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env={k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS")},
        )
        lines = result.stdout.splitlines()
        deps = lines.index("PYTHON=python3 bash scripts/system-deps.sh")
        venv_deps = lines.index("PYTHON=python3 bash scripts/system-deps.sh venv")
        create = lines.index(f"python3 -m venv {venv}")
        pytest_line = next(i for i, line in enumerate(lines) if "-m pytest" in line)
        assert deps < venv_deps < create < pytest_line

    def test_ci_installs_then_runs_make_test(self) -> None:
        """.ci/run: CI=true, the system deps, then make test."""
        lines = [
            line.strip()
            for line in (ROOT / ".ci" / "run").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        assert lines.index("export CI=true") < lines.index("bash scripts/system-deps.sh")
        assert lines.index("bash scripts/system-deps.sh") < lines.index("make test")
